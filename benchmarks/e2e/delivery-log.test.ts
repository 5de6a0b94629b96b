import { describe, expect, it } from 'vitest';
import { DeliveryLog } from './delivery-log.js';

// 3 series: message m is update ⌊m/3⌋ of series m mod 3.
describe('DeliveryLog', () => {
  it('marks a message and the older updates of its series, once', () => {
    const log = new DeliveryLog(3);
    log.begin(0, 9);
    log.deliver(1, 2, 10); // messages 1, 4, 7
    expect(Array.from(log.arrivals)).toEqual([NaN, 10, NaN, NaN, 10, NaN, NaN, 10, NaN]);
    log.deliver(1, 2, 20);
    log.deliver(1, 1, 20);
    expect(log.arrivals[4]).toBe(10);
    expect(log.delivered).toBe(3);
    expect(log.complete).toBe(false);
    log.deliver(0, 2, 30);
    log.deliver(2, 2, 31);
    expect(log.complete).toBe(true);
  });

  it('keeps what the series saw across phases and ignores messages outside the phase', () => {
    const log = new DeliveryLog(3);
    log.begin(0, 6);
    log.deliver(0, 0, 1);
    log.begin(6, 6); // messages 6..11 = update 2 and 3 of each series
    log.deliver(0, 3, 5); // updates 1 (message 3, last phase), 2 (6) and 3 (9)
    expect(log.arrivals[0]).toBe(5);
    expect(log.arrivals[3]).toBe(5);
    expect(log.delivered).toBe(2);
    log.deliver(2, 5, 7); // update 4 and 5 were never sent in this phase: only 8 and 11 count
    expect(log.arrivals[2]).toBe(7);
    expect(log.arrivals[5]).toBe(7);
    expect(log.delivered).toBe(4);
  });
});
