import { describe, expect, it } from 'vitest';
import { TickSlotSchedule } from './tick-slot-schedule.js';

describe('TickSlotSchedule', () => {
  it('gives N collectors disjoint windows covering each eighth of a second', () => {
    const slots = [0, 1, 2].map((index) => new TickSlotSchedule({ index, count: 3 }));
    for (let t = 1_700_000_000_000; t < 1_700_000_001_000; t++) {
      expect(slots.filter((s) => s.contains(t)).length).toBe(1);
    }
  });

  it('polls at most 8 times a second, each inside its own window', () => {
    const slot = new TickSlotSchedule({ index: 1, count: 4 });
    let now = 1_700_000_000_003;
    let last: number | undefined;
    const polls: number[] = [];
    while (now < 1_700_000_002_000) {
      const next = slot.nextPollTime(now, last);
      expect(slot.contains(next)).toBe(true);
      polls.push(next);
      last = next;
      now = next + 1;
    }
    const perSecond = polls.filter((t) => t >= 1_700_000_001_000 && t < 1_700_000_002_000);
    expect(perSecond.length).toBe(8);
    // window 1 of 4 inside each 125 ms: [31.25, 62.5)
    expect(perSecond.map((t) => (t % 1000) % 125)).toEqual(Array(8).fill(32));
  });

  it('gives slot (1, 2) the second half of every eighth of a second', () => {
    const slot = new TickSlotSchedule({ index: 1, count: 2 });
    const second = 1_700_000_000_000;
    for (let b = 0; b < 8; b++) {
      expect(slot.contains(second + 125 * b + 62)).toBe(false);
      expect(slot.contains(second + 125 * b + 63)).toBe(true);
      expect(slot.contains(second + 125 * b + 124)).toBe(true);
    }
  });

  it('rejects an impossible slot', () => {
    expect(() => new TickSlotSchedule({ index: 3, count: 3 })).toThrow(RangeError);
    expect(() => new TickSlotSchedule({ index: 0, count: 0 })).toThrow(RangeError);
  });
});

describe('TickSlotSchedule.windowStart', () => {
  it('finds the start of the slot window containing or preceding a time', () => {
    const slot = new TickSlotSchedule({ index: 1, count: 3 });
    // slot 1 of 3: [41.67, 83.33) of every 125 ms
    expect(slot.windowStart(1_000_050)).toBeCloseTo(1_000_041.67, 1);
    expect(slot.windowStart(1_000_030)).toBeCloseTo(999_916.67, 1);
    expect(slot.windowStart(1_000_100)).toBeCloseTo(1_000_041.67, 1);
  });
});
