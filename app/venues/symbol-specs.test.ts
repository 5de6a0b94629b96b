// paperSpecs: where the paper engine's prices start before the feed sets them.
import { describe, expect, it } from 'vitest';
import { exchangeInfo } from '../../sim/market/market-endpoints.js';
import { DEFAULT_SYMBOLS } from '../../sim/symbols.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';
import { paperSpecs } from './symbol-specs.js';

const info = parseExchangeInfo(Buffer.from(JSON.stringify(exchangeInfo(DEFAULT_SYMBOLS, 0, () => 0))));

describe('paperSpecs', () => {
  it('starts each symbol at the book’s last close, else a carried position’s mark, else inside its filter', () => {
    const closes = new Map([['ETHUSDT', '3100.50']]);
    const specs = paperSpecs(info.symbols, (symbol) => closes.get(symbol), new Map([['BTCUSDT', '93012.4']]));
    const start = (symbol: string) => specs.find((s) => s.symbol === symbol)?.initialPrice.toString();
    expect(start('ETHUSDT')).toBe('3100.50');
    // No bar in the book yet (the hub restarted with the trader): the carried long's last mark, not a
    // made-up price under which its stops would look passed.
    expect(start('BTCUSDT')).toBe('93012.4');
    const sol = info.symbols.find((s) => s.symbol === 'SOLUSDT');
    expect(Number(start('SOLUSDT'))).toBeCloseTo(Number(sol?.maxPrice) / 1000, 6);
    expect(specs).toHaveLength(info.symbols.length);
  });
});
