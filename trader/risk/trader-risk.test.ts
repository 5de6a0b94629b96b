import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { shrunkTarget } from './trader-risk.js';

const d = Decimal.parse;
const shown = (expected: string, side: 'BUY' | 'SELL', quantity: string) =>
  shrunkTarget(d(expected), side, d(quantity)).toString();

describe('shrunkTarget', () => {
  it('closes part of a position, never past flat', () => {
    expect(shown('1', 'SELL', '0.4')).toBe('0.6');
    expect(shown('-1', 'BUY', '0.4')).toBe('-0.6');
    expect(shown('1', 'SELL', '3')).toBe('0');
    expect(shown('0', 'SELL', '1')).toBe('0');
  });

  it('leaves a position that flipped since the close was decided as it is, rather than growing it', () => {
    // A long's sell stop refused as passed (-2021) while the position became a 2 short: selling
    // 0.5 more would open 0.5 further short, not close anything.
    expect(shown('-2', 'SELL', '0.5')).toBe('-2');
    expect(shown('3', 'BUY', '0.5')).toBe('3');
  });
});
