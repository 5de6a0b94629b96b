// The generated universe: 600+ consistent contracts, the same every time.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS } from './symbols.js';
import { syntheticSymbol, universe } from './synthetic-universe.js';

describe('synthetic universe', () => {
  it('lists the built-in six, then distinct, valid contracts over many price magnitudes', () => {
    const specs = universe(650);
    expect(specs.slice(0, 6)).toEqual(DEFAULT_SYMBOLS);
    expect(new Set(specs.map((s) => s.symbol)).size).toBe(650);
    const magnitudes = new Set(specs.map((s) => Math.floor(Math.log10(s.initialPrice.toNumber()))));
    expect(magnitudes.size).toBeGreaterThanOrEqual(8);
    for (const s of specs) {
      // Enough ticks in the price for a smooth walk, and a step worth a few USDT at most.
      expect(s.initialPrice.div(s.tickSize, 0).toNumber()).toBeGreaterThanOrEqual(1000);
      expect(s.stepSize.mul(s.initialPrice).toNumber()).toBeLessThanOrEqual(50_000);
    }
    expect(syntheticSymbol(17)).toEqual(syntheticSymbol(17));
    expect(universe(3).map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'BNBUSDT']);
    expect(() => universe(0)).toThrow(RangeError);
  });
});
