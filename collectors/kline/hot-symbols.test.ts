// The hot-kline volume condition: which symbols pass, in which order.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { hotSymbols } from './kline-poller.js';

const rows = [
  { symbol: 'BTCUSDT', quoteVolume: '9000000000.50' },
  { symbol: 'ETHUSDT', quoteVolume: '5000000000' },
  { symbol: 'SOLUSDT', quoteVolume: '5000000000.00' },
  { symbol: 'DOGEUSDT', quoteVolume: '49999999.99' },
  { symbol: 'XRPUSDT', quoteVolume: 'not a number' },
  { symbol: 'DELISTED', quoteVolume: '99999999999' },
];
const registry = new Set(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT', 'XRPUSDT']);

describe('hotSymbols', () => {
  it('keeps registry symbols at or above the minimum 24 h quote volume, largest first, ties by name', () => {
    expect(hotSymbols(rows, registry, Decimal.parse('50000000'), 10).symbols).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'SOLUSDT',
    ]);
    // The threshold itself passes; an unreadable volume or a symbol outside the registry never does.
    expect(hotSymbols(rows, registry, Decimal.parse('49999999.99'), 10).symbols).toContain('DOGEUSDT');
    expect(hotSymbols(rows, registry, Decimal.parse('0'), 10).symbols).not.toContain('XRPUSDT');
    expect(hotSymbols(rows, registry, Decimal.parse('0'), 10).symbols).not.toContain('DELISTED');
  });

  it('caps the list at top', () => {
    expect(hotSymbols(rows, registry, Decimal.parse('0'), 2).symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(hotSymbols(rows, registry, Decimal.parse('1000000000000'), 5).symbols).toEqual([]);
  });

  it('lists a symbol the answer holds twice once, so it takes one of the top places, not two', () => {
    const twice = [
      { symbol: 'BTCUSDT', quoteVolume: '9000000000' },
      { symbol: 'ETHUSDT', quoteVolume: '5000000000' },
      { symbol: 'BTCUSDT', quoteVolume: '9000000000' },
      { symbol: 'SOLUSDT', quoteVolume: '1000000000' },
    ];
    const hot = hotSymbols(twice, registry, Decimal.parse('0'), 3);
    expect(hot.symbols).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expect(hot.duplicateRows).toBe(1);
  });

  it('names what it could not count: rows without a symbol, and registry symbols without a readable, non-negative volume', () => {
    const odd: unknown[] = [
      { symbol: 'BTCUSDT', quoteVolume: '9000000000' },
      null,
      'ETHUSDT',
      { quoteVolume: '1' },
      { symbol: 'ETHUSDT', quoteVolume: 5000000000 },
      { symbol: 'SOLUSDT', quoteVolume: '-1' },
      { symbol: 'DOGEUSDT' },
      { symbol: 'DELISTED', quoteVolume: 'x' },
    ];
    expect(hotSymbols(odd, registry, Decimal.parse('0'), 10)).toEqual({
      symbols: ['BTCUSDT'],
      duplicateRows: 0,
      // A symbol outside the registry is not the hot list's concern, readable or not.
      unreadable: ['ETHUSDT', 'SOLUSDT', 'DOGEUSDT'],
      malformedRows: 3,
    });
  });
});
