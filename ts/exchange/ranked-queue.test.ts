// The budget's wait queue: better rank first, older first within a rank, one rank up per window passed over.
import { describe, expect, it } from 'vitest';
import { effectiveRank, RankedQueue } from './ranked-queue.js';

function drain(queue: RankedQueue<string>): string[] {
  const out: string[] = [];
  for (let entry = queue.peek(); entry !== undefined; entry = queue.peek()) {
    queue.remove(entry);
    out.push(entry.item);
  }
  return out;
}

describe('RankedQueue', () => {
  it('serves the best rank first and the older entry within a rank', () => {
    const queue = new RankedQueue<string>();
    queue.push('universe', 5);
    queue.push('kline-a', 2);
    queue.push('order', 0);
    queue.push('kline-b', 2);
    expect(drain(queue)).toEqual(['order', 'kline-a', 'kline-b', 'universe']);
  });

  it('moves a passed-over entry up one rank per window until it competes as the best and wins by age', () => {
    const queue = new RankedQueue<string>();
    const low = queue.push('universe', 5);
    for (let window = 1; window <= 5; window++) {
      queue.passOver();
      // A fresh order request each window: it still goes first until the old one reaches rank 0.
      const fresh = queue.push(`order-${window}`, 0);
      const head = queue.peek();
      if (window < 5) {
        expect(head?.item).toBe(`order-${window}`);
        queue.remove(fresh);
      } else {
        expect(effectiveRank(low)).toBe(0);
        expect(head?.item).toBe('universe');
      }
    }
  });

  it('puts an entry back with its age, and removes the entries of one owner', () => {
    const queue = new RankedQueue<string>();
    const a = queue.push('a', 3);
    queue.push('b', 3);
    queue.remove(a);
    queue.restore(a); // back in, still older than b
    expect(queue.peek()?.item).toBe('a');
    expect(queue.removeWhere((item) => item === 'b').map((e) => e.item)).toEqual(['b']);
    expect(queue.size).toBe(1);
  });
});
