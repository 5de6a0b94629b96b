import { describe, expect, it } from 'vitest';
import { type BollingerState, bollingerStep, meanStd } from './bollinger-machine.js';

/** Runs prices through the machine against fixed bands UP 110, DN 90; returns (state, target) per price. */
function walk(prices: number[], from: BollingerState = 'WAIT'): Array<[BollingerState, number | undefined]> {
  let state = from;
  return prices.map((p) => {
    const step = bollingerStep(state, p, 110, 90);
    state = step.state;
    return [state, step.target];
  });
}

describe('the seed 004 Bollinger state machine', () => {
  it('breaks above UP, falls back → short; breaks below DN, rebounds → take profit and long', () => {
    expect(walk([100, 111, 112, 109, 95, 89, 91])).toEqual([
      ['WAIT', undefined],
      ['BROKE_UP', undefined],
      ['BROKE_UP', undefined],
      ['SHORT', -1],
      ['SHORT', undefined],
      ['SHORT_BROKE_DN', undefined],
      ['LONG', 1],
    ]);
  });

  it('stops a long below DN, then buys again on the rebound', () => {
    expect(walk([89, 90], 'LONG')).toEqual([
      ['BROKE_DN', 0],
      ['LONG', 1],
    ]);
  });

  it('stops a short above UP again, then sells again on the fall back', () => {
    expect(walk([111, 110], 'SHORT')).toEqual([
      ['BROKE_UP', 0],
      ['SHORT', -1],
    ]);
  });

  it('takes profit on a long that broke above UP when it falls back, and goes short', () => {
    expect(walk([111, 105], 'LONG')).toEqual([
      ['LONG_BROKE_UP', undefined],
      ['SHORT', -1],
    ]);
  });

  it('uses the population standard deviation (ddof 0)', () => {
    const { mean, std } = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(mean).toBe(5);
    expect(std).toBe(2);
  });
});
