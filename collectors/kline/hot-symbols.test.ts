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
    expect(hotSymbols(rows, registry, Decimal.parse('50000000'), 10)).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'SOLUSDT',
    ]);
    // The threshold itself passes; an unreadable volume or a symbol outside the registry never does.
    expect(hotSymbols(rows, registry, Decimal.parse('49999999.99'), 10)).toContain('DOGEUSDT');
    expect(hotSymbols(rows, registry, Decimal.parse('0'), 10)).not.toContain('XRPUSDT');
    expect(hotSymbols(rows, registry, Decimal.parse('0'), 10)).not.toContain('DELISTED');
  });

  it('caps the list at top', () => {
    expect(hotSymbols(rows, registry, Decimal.parse('0'), 2)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(hotSymbols(rows, registry, Decimal.parse('1000000000000'), 5)).toEqual([]);
  });

  it('lists a symbol the answer holds twice once, so it takes one of the top places, not two', () => {
    const twice = [
      { symbol: 'BTCUSDT', quoteVolume: '9000000000' },
      { symbol: 'ETHUSDT', quoteVolume: '5000000000' },
      { symbol: 'BTCUSDT', quoteVolume: '9000000000' },
      { symbol: 'SOLUSDT', quoteVolume: '1000000000' },
    ];
    expect(hotSymbols(twice, registry, Decimal.parse('0'), 3)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
  });
});
