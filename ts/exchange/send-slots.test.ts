// The send gate: at most its size in flight, handed out in arrival order, closed on the client's close.
import { describe, expect, it } from 'vitest';
import { SendSlots, SlotsClosedError } from './send-slots.js';

describe('SendSlots', () => {
  it('lets its size through at once and the rest in arrival order as slots come back', async () => {
    const slots = new SendSlots(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    expect(slots.inFlight).toBe(2);
    const c = slots.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = slots.acquire().then((release) => {
      order.push('d');
      return release;
    });
    expect(slots.waiting).toBe(2);
    b();
    b(); // a second release of the same slot frees nothing more
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect(slots.waiting).toBe(1);
    a();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    releaseD();
    expect(slots.inFlight).toBe(0);
    expect(slots.waiting).toBe(0);
  });

  it('fails the waiting and later requests when closed, and refuses a size that is no positive integer', async () => {
    const slots = new SendSlots(1);
    const held = await slots.acquire();
    const waiting = slots.acquire();
    slots.close();
    await expect(waiting).rejects.toBeInstanceOf(SlotsClosedError);
    await expect(slots.acquire()).rejects.toBeInstanceOf(SlotsClosedError);
    held();
    expect(slots.inFlight).toBe(0);
    expect(() => new SendSlots(0)).toThrow(RangeError);
    expect(() => new SendSlots(1.5)).toThrow(RangeError);
  });
});
