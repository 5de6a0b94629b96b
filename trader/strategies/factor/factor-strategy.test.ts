import { describe, expect, it } from 'vitest';
import { combineWeights } from './factor-strategy.js';

describe('combineWeights', () => {
  it('sums the calculators and normalises Σ|w| to 1', () => {
    const w = combineWeights([
      { A: 1, B: -1, C: 0 },
      { A: 1, B: 0, C: -2 },
    ]);
    // A: 2, B: −1, C: −2 → Σ|w| = 5
    expect([...w.entries()]).toEqual([
      ['A', 0.4],
      ['B', -0.2],
      ['C', -0.4],
    ]);
    expect([...w.values()].reduce((a, b) => a + Math.abs(b), 0)).toBeCloseTo(1, 12);
    expect(combineWeights([{ A: 0 }]).size).toBe(0);
  });
});
