import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { SymbolFilterSet } from './filters.js';
import { NativeError } from './native-error.js';
import { parseExchangeInfo } from './parse.js';
import { sharedDataDir } from './testing/capture.js';

const d = Decimal.parse;

/** SUSHIUSDT's real filters (exchangeInfo 2021-07-22). */
const sushi = new SymbolFilterSet({
  tickSize: '0.0010',
  minPrice: '0.1430',
  maxPrice: '500',
  stepSize: '1',
  minQty: '1',
  maxQty: '10000000',
  marketStepSize: '1',
  marketMinQty: '1',
  marketMaxQty: '100000',
  minNotional: '5',
  multiplierUp: '1.1500',
  multiplierDown: '0.8500',
});

describe('SymbolFilterSet', () => {
  it('snaps prices toward the safe side and quantities down, in whole steps', () => {
    expect(sushi.snapPrice(d('7.61149'), 'BUY').toString()).toBe('7.6110');
    expect(sushi.snapPrice(d('7.61101'), 'SELL').toString()).toBe('7.6120');
    expect(sushi.snapQuantity(d('12.9'), false).toString()).toBe('12');
    expect(sushi.snapQuantity(d('0.99'), true).toString()).toBe('0');
    const half = new SymbolFilterSet({ stepSize: '0.5', minQty: '0.5' });
    expect(half.snapQuantity(d('10.74'), true).toString()).toBe('10.5');
  });

  it('names the violated filter with the values', () => {
    expect(sushi.checkOrder(d('7.6110'), d('2'), false)).toBeNull();
    expect(sushi.checkOrder(d('2.000'), d('2'), false)).toMatchObject({
      filter: 'MIN_NOTIONAL',
      reason: 'notional_below_min',
    });
    expect(sushi.checkOrder(d('7.6115'), d('2'), false)).toMatchObject({
      filter: 'PRICE_FILTER',
      reason: 'price_off_tick',
      message: 'PRICE_FILTER: price 7.6115 is not a multiple of tickSize 0.0010',
    });
    expect(sushi.checkOrder(d('7.6'), d('100001'), true)).toMatchObject({ filter: 'MARKET_LOT_SIZE' });
    expect(sushi.checkOrder(undefined, d('0'), true)).toMatchObject({ reason: 'non_positive_quantity' });
    expect(sushi.checkPercentPrice(d('11.51'), 'BUY', d('10'))).toMatchObject({ filter: 'PERCENT_PRICE' });
    expect(sushi.checkPercentPrice(d('11.5'), 'BUY', d('10'))).toBeNull();
  });

  it('refuses a bad decimal or side with a typed error', () => {
    expect(() => new SymbolFilterSet({ tickSize: 'x' })).toThrow(NativeError);
    expect(() => sushi.snapPrice(d('1'), 'HOLD' as 'BUY')).toThrow(/BUY or SELL/);
  });

  it('builds from every symbol of the real exchangeInfo capture', () => {
    const path = join(sharedDataDir, 'usdm-exchangeInfo-2021-07-22.txt');
    if (!existsSync(path)) {
      console.warn(`SKIP: ${path} is absent`);
      return;
    }
    const line = readFileSync(path, 'utf8').split('\n')[0] ?? '';
    const info = parseExchangeInfo(Buffer.from(line.slice(line.indexOf('{'))));
    expect(info.symbols.length).toBeGreaterThan(100);
    for (const symbol of info.symbols) {
      const filters = new SymbolFilterSet(symbol);
      const tick = d(symbol.tickSize ?? '0');
      const price = filters.snapPrice(d('1.23456789'), 'BUY');
      if (tick.sign() > 0) expect(price.isMultipleOf(tick)).toBe(true);
    }
  });
});
