import { describe, expect, it } from 'vitest';
import { PaceSchedule } from './pacing.js';

describe('PaceSchedule', () => {
  it('puts rate/1000 messages in each tick at whole-thousand rates', () => {
    const s = new PaceSchedule(20_000, 5);
    expect(s.messages).toBe(100);
    expect([0, 1, 2, 3, 4].map((t) => s.range(t))).toEqual([
      [0, 20],
      [20, 40],
      [40, 60],
      [60, 80],
      [80, 100],
    ]);
  });

  it('spreads other rates without drift: tick i holds the messages due in [i, i+1) ms', () => {
    const s = new PaceSchedule(1_500, 1_000);
    expect(s.messages).toBe(1_500);
    let total = 0;
    for (let t = 0; t < s.ticks; t++) {
      const [from, to] = s.range(t);
      expect(from).toBe(total);
      for (let m = from; m < to; m++) {
        const due = (m * 1000) / 1_500;
        expect(due).toBeGreaterThanOrEqual(t);
        expect(due).toBeLessThan(t + 1);
        expect(s.tickOf(m)).toBe(t);
      }
      total = to;
    }
    expect(total).toBe(1_500);
  });

  it('leaves ticks empty below 1k/s', () => {
    const s = new PaceSchedule(250, 8);
    expect(s.messages).toBe(2);
    expect(s.range(0)).toEqual([0, 1]);
    expect(s.range(1)).toEqual([1, 1]);
    expect(s.range(4)).toEqual([1, 2]);
  });

  it('catches up every tick already due after a late wake-up, never past the end', () => {
    const s = new PaceSchedule(1_000, 10);
    expect(s.dueThrough(0, 0)).toBe(1);
    expect(s.dueThrough(1, 0.9)).toBe(1);
    expect(s.dueThrough(1, 4.2)).toBe(5);
    expect(s.dueThrough(5, 3)).toBe(5);
    expect(s.dueThrough(5, 60)).toBe(10);
  });

  it('refuses rates and durations it cannot pace', () => {
    expect(() => new PaceSchedule(0, 10)).toThrow(RangeError);
    expect(() => new PaceSchedule(1.5, 10)).toThrow(RangeError);
    expect(() => new PaceSchedule(1_000, 0)).toThrow(RangeError);
  });
});
