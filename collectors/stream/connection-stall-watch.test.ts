// ConnectionStallWatch on a fake clock: which silent connection is replaced, when again, and when not.
import { describe, expect, it } from 'vitest';
import type { MarketSlotActivity } from '../../ts/exchange/market-stream.js';
import { recordingLogger } from '../../ts/log/testing/recording-logger.js';
import { ConnectionStallWatch } from './connection-stall-watch.js';

const STALL_MS = 30_000;

/** Three live connections on a fake clock, a log of warn/info lines, and the reconnects asked for. */
function rig(stallMs = STALL_MS) {
  let now = 1_000_000;
  const slots = new Map<number, MarketSlotActivity>(
    [1, 2, 3].map((slot) => [slot, { slot, state: 'live', streams: 10 * slot, lastFrameAt: now }]),
  );
  const reconnects: { slot: number; at: number; reason: string }[] = [];
  const { logger, lines } = recordingLogger();
  const watch = new ConnectionStallWatch(
    {
      slotActivity: () => [...slots.values()].map((s) => ({ ...s })),
      reconnectSlot: (slot, reason) => {
        const s = slots.get(slot);
        if (s === undefined || s.state !== 'live') return false;
        reconnects.push({ slot, at: now, reason });
        return true;
      },
    },
    logger,
    { stallMs, now: () => now },
  );
  const slot = (id: number): MarketSlotActivity => {
    const s = slots.get(id);
    if (s === undefined) throw new Error(`no slot ${id}`);
    return s;
  };
  return {
    watch,
    slots,
    slot,
    reconnects,
    lines,
    now: () => now,
    /** Advances the clock by `ms` in 250 ms ticks; every slot but `silent` delivers each tick; checks each tick. */
    run(ms: number, silent: readonly number[] = [], routeStalled = false) {
      for (let t = 0; t < ms; t += 250) {
        now += 250;
        for (const s of slots.values())
          if (!silent.includes(s.slot) && s.lastFrameAt !== null) s.lastFrameAt = now;
        // The route's last frame is its connections' newest, as the collector sees it.
        const routeLast = Math.max(...[...slots.values()].map((s) => s.lastFrameAt ?? 0));
        watch.check({ lastFrameAt: routeLast, stalled: routeStalled });
      }
    },
  };
}

describe('ConnectionStallWatch', () => {
  it('replaces a connection silent past the bound once, logged once with slot, streams and silence; others are left alone', () => {
    const r = rig();
    r.run(STALL_MS - 250, [2]);
    expect(r.reconnects).toEqual([]);
    r.run(250, [2]);
    expect(r.reconnects.map((c) => c.slot)).toEqual([2]);
    expect(r.reconnects[0]?.reason).toContain(`silent for ${STALL_MS} ms`);
    // Until twice the bound has passed, no second reconnect.
    r.run(2 * STALL_MS - 250, [2]);
    expect(r.reconnects).toHaveLength(1);
    expect(r.watch.counters).toEqual({ stalls: 1, reconnects: 1 });
    const warned = r.lines.filter((l) => l.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toBe('market connection silent while the route delivers; reconnecting it');
    expect(warned[0]?.fields).toMatchObject({ slot: 2, streams: 20, silentMs: STALL_MS, attempt: 1 });
  });

  it('still silent: replaced again after twice the previous wait, then four times, at most every 5 min', () => {
    const r = rig();
    r.run(20 * 60_000, [3]);
    const gaps = r.reconnects.slice(1).map((c, i) => c.at - (r.reconnects[i]?.at ?? 0));
    expect(r.reconnects.every((c) => c.slot === 3)).toBe(true);
    // 2 × 30 s, 4 × 30 s, then 8 × 30 s = 240 s, then capped at 300 s.
    expect(gaps.slice(0, 4)).toEqual([60_000, 120_000, 240_000, 300_000]);
    expect(gaps.slice(4).every((g) => g === 300_000)).toBe(true);
    expect(gaps.length).toBeGreaterThanOrEqual(5);
    expect(r.watch.counters.stalls).toBe(1);
    expect(r.watch.counters.reconnects).toBe(r.reconnects.length);
    expect(
      r.lines.filter((l) => l.msg === 'market connection still silent; reconnecting it again'),
    ).toHaveLength(r.reconnects.length - 1);
  });

  it('a connection that never delivered is not replaced', () => {
    const r = rig();
    r.slot(2).lastFrameAt = null;
    r.run(5 * STALL_MS);
    expect(r.reconnects).toEqual([]);
    expect(r.watch.counters.stalls).toBe(0);
  });

  it('does nothing while the route-wide stall is on; once it is off, the silent connection is replaced', () => {
    const r = rig();
    r.run(3 * STALL_MS, [2], true);
    expect(r.reconnects).toEqual([]);
    expect(r.watch.counters.stalls).toBe(0);
    r.run(250, [2], false);
    expect(r.reconnects.map((c) => c.slot)).toEqual([2]);
  });

  it('needs the route to have delivered after the silence reached the bound (the whole route silent is the route-wide rule’s)', () => {
    const r = rig();
    r.run(2 * STALL_MS, [1, 2, 3]);
    expect(r.reconnects).toEqual([]);
  });

  it('delivering again ends the episode (logged); a later silence is a new episode', () => {
    const r = rig();
    r.run(STALL_MS, [1]);
    expect(r.reconnects).toHaveLength(1);
    expect(r.watch.stalled).toBe(1);
    r.run(1_000);
    expect(r.watch.stalled).toBe(0);
    const ended = r.lines.filter((l) => l.msg === 'market connection delivering again after a stall');
    expect(ended).toHaveLength(1);
    expect(ended[0]?.fields).toMatchObject({ slot: 1, reconnects: 1 });
    // A new silence: replaced at once (no doubled wait carried over), counted as a second stall.
    r.run(STALL_MS, [1]);
    expect(r.reconnects).toHaveLength(2);
    expect((r.reconnects[1]?.at ?? 0) - (r.reconnects[0]?.at ?? 0)).toBe(STALL_MS + 1_000);
    expect(r.watch.counters).toEqual({ stalls: 2, reconnects: 2 });
  });

  it('leaves a quiet-but-alive connection under the bound alone, however long it goes on', () => {
    const r = rig();
    // Slot 2 delivers once every 29 s, the others constantly, for an hour.
    for (let minute = 0; minute < 120; minute++) {
      r.run(STALL_MS - 1_000, [2]);
      r.slot(2).lastFrameAt = r.now();
    }
    expect(r.reconnects).toEqual([]);
    expect(r.watch.counters.stalls).toBe(0);
  });

  it('skips a connection that is not live (its own reconnect is under way) and forgets slots that are gone', () => {
    const r = rig();
    r.slot(2).state = 'waiting';
    r.run(2 * STALL_MS, [2]);
    expect(r.reconnects).toEqual([]);
    r.slot(2).state = 'live';
    r.run(250, [2]);
    expect(r.reconnects.map((c) => c.slot)).toEqual([2]);
    r.slots.delete(2);
    r.run(250);
    expect(r.watch.stalled).toBe(0);
  });

  it('stallMs 0 turns the watch off', () => {
    const r = rig(0);
    r.run(10 * 60_000, [2]);
    expect(r.reconnects).toEqual([]);
  });
});
