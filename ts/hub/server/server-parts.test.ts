import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/logger.js';
import { HubBook } from '../../native/hub.js';
import type { ServerMessage } from '../control-messages.js';
import { HubMetrics } from '../hub-metrics.js';
import { PeerBudget } from '../peer-budget.js';
import type { HubConnection } from '../transport.js';
import { Backpressure } from './backpressure.js';
import type { PeerSession, Session } from './session.js';
import { Subscriptions, topicName } from './subscriptions.js';

/** A connection that records its topics and whose queue the test sets. */
class FakeConnection implements HubConnection {
  readonly remoteAddress = '127.0.0.1';
  readonly topics = new Set<string>();
  isOpen = true;
  buffered = 0;
  constructor(readonly id: number) {}
  sendBinary(): boolean {
    return this.isOpen;
  }
  sendText(): boolean {
    return this.isOpen;
  }
  cork(fn: () => void): void {
    fn();
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  subscribe(topic: string): void {
    this.topics.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }
  close(): void {
    this.isOpen = false;
  }
}

function peer(id: number): PeerSession & { connection: FakeConnection } {
  const connection = new FakeConnection(id);
  return {
    state: 'ready',
    id,
    connection,
    connectedAt: 0,
    lastSeen: 0,
    closing: false,
    traffic: { messagesIn: 0, bytesIn: 0, binaryIn: 0, messagesOut: 0, bytesOut: 0 },
    policing: {
      budget: new PeerBudget({ messagesPerSecond: 1, bytesPerSecond: 1, burstSeconds: 1 }, 0),
      refusedWindowStart: 0,
      refusedInWindow: 0,
      errorWindowStart: 0,
      errorsInWindow: 0,
      errorsSuppressed: 0,
    },
    identity: { peer: `p${id}`, peerId: id, role: 'trader', key: 'k', kind: undefined, agent: undefined },
    ingestFrames: 0,
    report: null,
    reportedAt: null,
    snapshotsInFlight: new Map(),
  };
}

const EVERY = { symbols: null, kinds: null, intervals: null };
const TICKS = { symbols: null, kinds: ['tick' as const], intervals: null };

describe('Subscriptions: one owner of the stream table, the native topics and the transport topics', () => {
  it('keeps the three consistent through join, leave, pause, resume and forget', () => {
    const book = new HubBook();
    const subs = new Subscriptions(book);
    const a = peer(1);
    const b = peer(2);
    const first = subs.join(a, EVERY, 1);
    expect(first).toMatchObject({ created: true, again: false, seq: 0 });
    expect(book.topicSeq(first.stream)).toBe(0);
    expect(subs.join(b, EVERY, 1)).toMatchObject({ stream: first.stream, created: false });
    expect(subs.join(a, EVERY, 1)).toMatchObject({ stream: first.stream, again: true });
    const ticks = subs.join(a, TICKS, 1).stream;
    expect([...a.connection.topics].sort()).toEqual([topicName(first.stream), topicName(ticks)].sort());
    expect([...subs.subscribersOf(first.stream)].sort()).toEqual([1, 2]);

    // Paused: off the transport topics, still holding its streams.
    expect(subs.pause(a)).toBe(true);
    expect(subs.pause(a)).toBe(false);
    expect(a.connection.topics.size).toBe(0);
    expect(subs.streamsOf(1).sort()).toEqual([first.stream, ticks].sort());
    // A stream joined while paused is not on the transport until resume.
    const ban = subs.join(a, { symbols: null, kinds: ['banlist'], intervals: null }, 1).stream;
    expect(a.connection.topics.size).toBe(0);
    expect(subs.resume(a).sort()).toEqual([first.stream, ticks, ban].sort());
    expect(a.connection.topics.size).toBe(3);

    // The last subscriber leaving removes the stream and its native topic.
    expect(subs.leave(1, ticks)).toBe(true);
    expect(subs.leave(1, ticks)).toBe(false);
    expect(book.topicSeq(ticks)).toBeNull();
    expect(a.connection.topics.has(topicName(ticks))).toBe(false);
    subs.forget(1);
    expect(book.topicSeq(ban)).toBeNull();
    expect(book.topicSeq(first.stream)).toBe(0);
    subs.forget(2);
    expect(book.topicSeq(first.stream)).toBeNull();
    expect([...subs.streams()]).toEqual([]);
  });
});

describe('Backpressure: every byte counts, unread snapshots allowed once per stream', () => {
  const limits = { snapshotModeBytes: 1_000, disconnectBytes: 10_000, resumeBytes: 100 };

  function setup() {
    const subs = new Subscriptions(new HubBook());
    const bp = new Backpressure(limits, new HubMetrics(), silentLogger('bp'), subs);
    const sent: ServerMessage[] = [];
    const closed: Array<{ session: Session; code: number }> = [];
    const resent: number[][] = [];
    bp.actWith({
      close: (session, code) => closed.push({ session, code }),
      send: (_session, message) => sent.push(message),
      resendSnapshots: (_session, streams) => resent.push(streams),
    });
    const p = peer(1);
    const stream = subs.join(p, EVERY, 1).stream;
    return { subs, bp, sent, closed, resent, p, stream };
  }

  it('switches a peer past the bound to snapshot mode and resumes it with snapshots once drained', () => {
    const { subs, bp, sent, resent, p, stream } = setup();
    p.connection.buffered = 900;
    bp.afterSend(p);
    expect(subs.isPaused(1)).toBe(false);
    p.connection.buffered = 1_001;
    bp.afterSend(p);
    expect(subs.isPaused(1)).toBe(true);
    expect(sent).toEqual([{ op: 'mode', mode: 'snapshot', reason: 'backpressure' }]);
    p.connection.buffered = 101;
    bp.resumeIfDrained(p);
    expect(subs.isPaused(1)).toBe(true);
    p.connection.buffered = 100;
    bp.resumeIfDrained(p);
    expect(subs.isPaused(1)).toBe(false);
    expect(sent.at(-1)).toEqual({ op: 'mode', mode: 'live', reason: 'drained' });
    expect(resent).toEqual([[stream]]);
  });

  it('allows an unread snapshot on top of the bounds, but not a second one of the same stream', () => {
    const { subs, bp, closed, p, stream } = setup();
    expect(bp.mayQueueSnapshot(p, stream)).toBe(true);
    bp.snapshotQueued(p, stream, 50_000);
    p.connection.buffered = 50_500;
    bp.afterSend(p);
    expect(subs.isPaused(1)).toBe(false);
    expect(closed).toEqual([]);
    // Asking again before reading the first: deferred to the next resume, in snapshot mode.
    expect(bp.mayQueueSnapshot(p, stream)).toBe(false);
    expect(subs.isPaused(1)).toBe(true);
    // Past the hard bound beyond the unread snapshot: cut.
    p.connection.buffered = 50_000 + 10_001;
    bp.afterSend(p);
    expect(closed.map((c) => c.code)).toEqual([4413]);
  });

  it('forgets the allowance once the queue is nearly empty', () => {
    const { bp, closed, p, stream } = setup();
    bp.snapshotQueued(p, stream, 50_000);
    p.connection.buffered = 10;
    bp.afterSend(p);
    expect(p.snapshotsInFlight.size).toBe(0);
    p.connection.buffered = 10_001;
    bp.afterSend(p);
    expect(closed.map((c) => c.code)).toEqual([4413]);
  });
});
