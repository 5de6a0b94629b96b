import { afterEach, describe, expect, it } from 'vitest';
import { HubClient, type HubClientOptions } from '../../ts/hub/hub-client.js';
import type { HubServer } from '../../ts/hub/hub-server.js';
import {
  keyOf,
  RawPeer,
  SYMBOLS,
  startHub,
  TRANSPORTS,
  type TransportName,
  waitFor,
} from '../../ts/hub/testing/hub-fixtures.js';
import {
  booksEqual,
  captureIngestFrames,
  comparable,
  expectBooksEqual,
  syntheticFrame,
} from '../../ts/hub/testing/ingest-data.js';
import { TraderFeed } from '../../ts/hub/trader-feed.js';
import { silentLogger } from '../../ts/log/logger.js';
import { IngestEncoder } from '../../ts/native/hub.js';
import { TraderBook } from '../../ts/native/trader-book.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends { close(): Promise<void> | void }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

function clientOptions(
  hub: HubServer | string,
  peer: string,
  role: 'collector' | 'trader' | 'viewer',
): HubClientOptions {
  return {
    url: typeof hub === 'string' ? hub : hub.url,
    peer,
    key: keyOf(role),
    logger: silentLogger('client'),
    backoff: { initialMs: 20, maxMs: 200 },
  };
}

function client(hub: HubServer | string, peer: string, role: 'collector' | 'trader' | 'viewer'): HubClient {
  return track(new HubClient(clientOptions(hub, peer, role)));
}

function feed(
  c: HubClient,
  subscriptions = [{ symbols: '*' as const, kinds: '*' as const, intervals: '*' as const }],
) {
  const f = new TraderFeed({ client: c, subscriptions, logger: silentLogger('feed'), staleRetryMs: 200 });
  cleanups.push(() => f.stop());
  return f;
}

const ALL_IDS = SYMBOLS.map((_, i) => i);

/** Sends frames one turn apart, waiting for the hub to have merged each. */
async function sendSpread(hub: HubServer, collector: HubClient, frames: Buffer[]): Promise<void> {
  for (const frame of frames) {
    const before = hub.metrics.ingestFrames + hub.metrics.rejected.size;
    expect(collector.sendIngest(frame)).toBe(true);
    await waitFor(() => hub.metrics.ingestFrames + hub.metrics.rejected.size > before, 3_000, 'ingest');
  }
}

describe.each(TRANSPORTS)('hub over %s: ingest to subscribers', (transport: TransportName) => {
  it('merges real capture frames and every subscriber book equals the hub book, exact strings', async () => {
    const frames = captureIngestFrames('hub ingest', SYMBOLS);
    if (frames === undefined) return;
    const hub = track(await startHub(transport));
    const collector = client(hub, 'stream-1', 'collector');
    await collector.connect();
    const early = feed(client(hub, 'trader-early', 'trader'));
    await early.start();
    const half = Math.floor(frames.length / 2);
    await sendSpread(hub, collector, frames.slice(0, half));
    // A late subscriber starts from a snapshot of what is there, then follows the deltas.
    const late = feed(client(hub, 'trader-late', 'viewer'));
    await late.start();
    for (const frame of frames.slice(half)) collector.sendIngest(frame);
    await waitFor(() => hub.metrics.ingestFrames === frames.length, 3_000, 'all frames merged');
    await waitFor(
      () => booksEqual(hub.book, early.book, ALL_IDS) && booksEqual(hub.book, late.book, ALL_IDS),
    );
    expectBooksEqual(hub.book, early.book, ALL_IDS);
    expectBooksEqual(hub.book, late.book, ALL_IDS);
    expect(hub.book.klines(0, '1m').length).toBeGreaterThan(0);
    expect(early.book.tick(0)?.bid).toBeDefined();
    const status = hub.status();
    expect(status.merge.ingestFrames).toBe(frames.length);
    expect(status.merge.recordsChanged).toBeGreaterThan(0);
    expect(status.latencyUs.count).toBe(frames.length);
    expect(status.collectors[0]).toMatchObject({ peer: 'stream-1', frames: frames.length, connected: true });
    expect(status.collectors[0]?.lastIngestAt).not.toBeNull();
    expect(status.rejected).toEqual({});
    expect(early.stats.gaps).toBe(0);
    // Both feeds subscribed to '*': one shared stream.
    expect(early.streams()).toEqual(late.streams());
    expect(status.streams).toHaveLength(1);
    // Provenance is the hub-assigned id of the collector, whatever the frame said.
    expect(hub.book.klines(0, '1m')[0]?.from.source).toBe(collector.peerId);
  });

  it('filters per topic, numbers each stream in sequence, and shares a stream between equal filters', async () => {
    const frames = captureIngestFrames('hub topics', SYMBOLS);
    if (frames === undefined) return;
    const hub = track(await startHub(transport));
    const collector = client(hub, 'stream-1', 'collector');
    await collector.connect();
    const peers = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        const p = track(await RawPeer.open(hub.url));
        await p.auth(name, 'trader');
        return p;
      }),
    );
    const [a, b, c] = peers;
    if (a === undefined || b === undefined || c === undefined) throw new Error('peers');
    a.sendJson({ op: 'subscribe', id: 1, symbols: ['SUSHIUSDT'], kinds: ['kline'], intervals: ['1m'] });
    b.sendJson({
      op: 'subscribe',
      id: 1,
      symbols: ['SUSHIUSDT', 'SUSHIUSDT'],
      kinds: ['kline'],
      intervals: ['1m'],
    });
    c.sendJson({ op: 'subscribe', id: 1, symbols: '*', kinds: ['tick'], intervals: '*' });
    const [sa, sb, sc] = await Promise.all([
      a.next('subscribed'),
      b.next('subscribed'),
      c.next('subscribed'),
    ]);
    expect(sa.stream).toBe(sb.stream);
    expect(sc.stream).not.toBe(sa.stream);
    await waitFor(
      () => a.frames.length === 1 && b.frames.length === 1 && c.frames.length === 1,
      3_000,
      'snapshots',
    );
    await sendSpread(hub, collector, frames);
    const sushi = SYMBOLS.indexOf('SUSHIUSDT');
    const expectedKlineFrames = hub.book.topicSeq(sa.stream) ?? 0;
    const expectedTickFrames = hub.book.topicSeq(sc.stream) ?? 0;
    expect(expectedKlineFrames).toBeGreaterThan(0);
    expect(expectedTickFrames).toBeGreaterThan(0);
    await waitFor(
      () => a.frames.length === 1 + expectedKlineFrames && c.frames.length === 1 + expectedTickFrames,
      3_000,
      'deltas',
    );
    for (const [peer, stream] of [
      [a, sa.stream],
      [c, sc.stream],
    ] as const) {
      const book = new TraderBook();
      const outcomes = peer.frames.map((f) => book.apply(f));
      expect(outcomes[0]).toMatchObject({ kind: 'snapshot', stream, seq: 0 });
      outcomes.slice(1).forEach((o, i) => {
        expect(o).toMatchObject({ kind: 'applied', stream, seq: i + 1 });
      });
      if (peer === a) {
        expect(book.klines(sushi, '1m').map(comparable)).toEqual(
          hub.book.klines(sushi, '1m').map((e) => comparable(e.kline)),
        );
        for (const id of ALL_IDS) expect(book.tick(id)).toBeNull();
        for (const id of ALL_IDS.filter((i) => i !== sushi)) expect(book.klines(id, '1m')).toEqual([]);
      } else {
        for (const id of ALL_IDS) {
          expect(comparable(book.tick(id))).toEqual(comparable(hub.book.tick(id)?.tick));
          expect(book.klines(id, '1m')).toEqual([]);
        }
      }
    }
    // Subscribers of one stream get the very same bytes.
    await waitFor(() => b.frames.length === a.frames.length, 3_000, 'b frames');
    for (let i = 1; i < a.frames.length; i += 1)
      expect(b.frames[i]?.equals(a.frames[i] ?? Buffer.alloc(0))).toBe(true);
    // Unsubscribing the last subscriber removes the stream.
    c.sendJson({ op: 'unsubscribe', id: 2, stream: sc.stream });
    expect(await c.next('unsubscribed')).toMatchObject({ id: 2, stream: sc.stream });
    expect(hub.book.topicSeq(sc.stream)).toBeNull();
    c.sendJson({ op: 'snapshot', id: 3, stream: sc.stream });
    expect(await c.next('error')).toMatchObject({ id: 3, code: 'unknown_stream' });
    c.sendJson({ op: 'subscribe', id: 4, symbols: ['NOPEUSDT'], kinds: '*', intervals: '*' });
    expect(await c.next('error')).toMatchObject({ id: 4, code: 'unknown_symbol' });
  });

  it('recovers from a lost delta: the gap makes the feed ask for a snapshot', async () => {
    const frames = captureIngestFrames('hub gap', SYMBOLS);
    if (frames === undefined) return;
    const hub = track(await startHub(transport));
    const collector = client(hub, 'stream-1', 'collector');
    await collector.connect();
    // A client that loses the third frame it receives (the second delta) on the way.
    const lossy = client(hub, 'trader-lossy', 'trader');
    const deliver = lossy.onFrames.bind(lossy);
    let seen = 0;
    lossy.onFrames = (listener) => deliver((batch) => listener(batch.filter(() => ++seen !== 3)));
    const f = feed(lossy);
    await f.start();
    await sendSpread(hub, collector, frames);
    await waitFor(() => f.stats.gaps > 0, 3_000, 'a gap');
    await waitFor(() => f.synced && booksEqual(hub.book, f.book, ALL_IDS), 3_000, 'recovery');
    expectBooksEqual(hub.book, f.book, ALL_IDS);
    expect(f.stats.snapshotRequests).toBeGreaterThanOrEqual(1);
    expect(hub.status().snapshots.requested).toBeGreaterThanOrEqual(1);
  });

  it('after a hub restart, clients reconnect, collectors go on and feeds resubscribe', async () => {
    const frames = captureIngestFrames('hub restart', SYMBOLS);
    if (frames === undefined) return;
    const first = await startHub(transport);
    const port = first.port;
    const url = first.url;
    const collector = client(url, 'stream-1', 'collector');
    await collector.connect();
    const trader = client(url, 'trader-1', 'trader');
    const states: string[] = [];
    trader.onState((s) => states.push(s));
    const f = feed(trader);
    await f.start();
    const half = Math.floor(frames.length / 2);
    await sendSpread(first, collector, frames.slice(0, half));
    await waitFor(() => booksEqual(first.book, f.book, ALL_IDS));
    const oldStream = f.streams()[0];
    await first.close();
    await waitFor(
      () => trader.state === 'reconnecting' && collector.state === 'reconnecting',
      3_000,
      'disconnect',
    );
    const second = track(await startHub(transport, { port }));
    await waitFor(
      () => collector.state === 'ready' && f.synced && f.stats.resubscribes === 1,
      5_000,
      'resubscribe',
    );
    expect(f.streams()[0]).not.toBe(oldStream);
    expect(trader.reconnects).toBe(1);
    expect(states.filter((s) => s === 'ready')).toHaveLength(2);
    await sendSpread(second, collector, frames.slice(half));
    // The new hub holds only what arrived after the restart; the feed matches it there.
    const held = ALL_IDS.filter(
      (id) => second.book.klines(id, '1m').length > 0 || second.book.tick(id) !== null,
    );
    expect(held.length).toBeGreaterThan(0);
    await waitFor(
      () => held.every((id) => booksEqual(second.book, f.book, [id])),
      3_000,
      'books after restart',
    );
  });
});

describe.each(TRANSPORTS)('hub over %s: refused subscriptions', (transport: TransportName) => {
  it('retries a refused subscription with bounded backoff and reports it until it is accepted (defect 7)', async () => {
    // A restarted hub knows no symbols until the universe collector registers them again.
    const hub = track(await startHub(transport, { symbols: ['BTCUSDT'] }));
    const f = new TraderFeed({
      client: client(hub, 'trader-eth', 'trader'),
      subscriptions: [{ symbols: ['ETHUSDT'], kinds: ['kline'], intervals: '*' }],
      logger: silentLogger('feed'),
      staleRetryMs: 200,
      subscribeRetry: { initialMs: 50, maxMs: 200 },
    });
    cleanups.push(() => f.stop());
    const started = f.start();
    const refusedOf = () => f.refused;
    await waitFor(() => (refusedOf()?.[0]?.attempts ?? 0) >= 2, 3_000, 'retries reported');
    expect(refusedOf()[0]).toMatchObject({ code: 'unknown_symbol' });
    const universe = client(hub, 'universe-0', 'collector');
    await universe.connect();
    await universe.setSymbols(['BTCUSDT', 'ETHUSDT']);
    await started;
    expect(f.synced).toBe(true);
    expect(refusedOf()).toEqual([]);
  });
});

describe.each(TRANSPORTS)('hub over %s: periodic snapshots', (transport: TransportName) => {
  it('publishes a full snapshot of every stream at its current seq for reconciliation', async () => {
    const hub = track(await startHub(transport, { snapshotIntervalMs: 100 }));
    const collector = client(hub, 'synthetic', 'collector');
    await collector.connect();
    const encoder = new IngestEncoder(SYMBOLS);
    const peer = track(await RawPeer.open(hub.url));
    await peer.auth('reader', 'viewer');
    peer.sendJson({ op: 'subscribe', id: 1, symbols: ['BTCUSDT'], kinds: ['kline'], intervals: '*' });
    const { stream } = await peer.next('subscribed');
    await sendSpread(hub, collector, [syntheticFrame(encoder, SYMBOLS.length, 3, 1)]);
    await waitFor(() => hub.status().snapshots.periodic >= 2, 3_000, 'periodic snapshots');
    const book = new TraderBook();
    const outcomes = peer.frames.map((f) => book.apply(f));
    const periodic = outcomes.slice(1).filter((o) => o.kind === 'snapshot');
    expect(periodic.length).toBeGreaterThanOrEqual(1);
    for (const o of periodic) expect(o).toMatchObject({ stream, seq: 1 });
    expect(outcomes.filter((o) => o.kind === 'gap')).toEqual([]);
    const btc = SYMBOLS.indexOf('BTCUSDT');
    expect(book.klines(btc, '1m').map(comparable)).toEqual(
      hub.book.klines(btc, '1m').map((e) => comparable(e.kline)),
    );
  });
});

describe.each(TRANSPORTS)('hub over %s: slow subscribers', (transport: TransportName) => {
  const MANY = Array.from({ length: 200 }, (_, i) => `SYM${i}USDT`);

  async function floodUntil(hub: HubServer, check: () => boolean): Promise<IngestEncoder> {
    const collector = client(hub, 'synthetic', 'collector');
    await collector.connect();
    const encoder = new IngestEncoder(MANY);
    for (let round = 1; round < 400 && !check(); round += 1) {
      collector.sendIngest(syntheticFrame(encoder, MANY.length, 10, round));
      const target = round;
      await waitFor(() => hub.metrics.ingestFrames >= target || check(), 3_000, 'merge');
    }
    expect(check()).toBe(true);
    return encoder;
  }

  it('drops a reader that falls behind to snapshot mode and resumes it with a fresh snapshot', async () => {
    const hub = track(
      await startHub(transport, {
        symbols: MANY,
        backpressure: {
          snapshotModeBytes: 256 * 1024,
          disconnectBytes: 1024 * 1024 * 1024,
          resumeBytes: 64 * 1024,
        },
      }),
    );
    const slow = track(await RawPeer.open(hub.url));
    await slow.auth('slow', 'trader');
    slow.sendJson({ op: 'subscribe', id: 1, symbols: '*', kinds: '*', intervals: '*' });
    const { stream } = await slow.next('subscribed');
    await waitFor(() => slow.frames.length === 1, 3_000, 'snapshot');
    slow.socket.pause();
    await floodUntil(hub, () => hub.status().backpressure.snapshotMode > 0);
    expect(hub.status().peers.find((p) => p.peer === 'slow')?.mode).toBe('snapshot');
    slow.socket.resume();
    expect(await slow.next('mode')).toMatchObject({ mode: 'snapshot' });
    expect(await slow.next('mode', 10_000)).toMatchObject({ mode: 'live' });
    await waitFor(() => hub.status().backpressure.resumes === 1, 3_000, 'resume counted');
    const seq = hub.book.topicSeq(stream) ?? 0;
    const book = new TraderBook();
    await waitFor(
      () => {
        for (const frame of slow.frames.splice(0)) book.apply(frame);
        return !book.isStale(stream) && booksEqual(hub.book, book, [0, 99, 199]);
      },
      5_000,
      'slow reader catches up',
    );
    expect(seq).toBeGreaterThan(0);
    expect(hub.status().snapshots.onResume).toBe(1);
  });

  /** A hub whose book holds `MANY` symbols × 10 bars (an all-symbols snapshot of about 280 KB). */
  async function filledHub(backpressure: {
    snapshotModeBytes: number;
    disconnectBytes: number;
    resumeBytes: number;
  }) {
    const hub = track(await startHub(transport, { symbols: MANY, backpressure }));
    const collector = client(hub, 'synthetic', 'collector');
    await collector.connect();
    await sendSpread(hub, collector, [syntheticFrame(new IngestEncoder(MANY), MANY.length, 10, 1)]);
    return hub;
  }

  it('counts requested snapshots against the bounds: a paused reader asking for them stays bounded (defect 5)', async () => {
    const limits = {
      snapshotModeBytes: 512 * 1024,
      disconnectBytes: 4 * 1024 * 1024,
      resumeBytes: 64 * 1024,
    };
    const hub = await filledHub(limits);
    const slow = track(await RawPeer.open(hub.url));
    await slow.auth('slow', 'trader');
    slow.sendJson({ op: 'subscribe', id: 1, symbols: '*', kinds: '*', intervals: '*' });
    const { stream } = await slow.next('subscribed');
    await waitFor(() => slow.frames.length === 1, 3_000, 'snapshot');
    const snapshotBytes = slow.frames[0]?.length ?? 0;
    expect(snapshotBytes).toBeGreaterThan(200_000);
    slow.socket.pause();
    // 400 snapshots would queue about 110 MB if replies escaped the bounds.
    let worst = 0;
    for (let i = 0; i < 400 && slow.closeInfo === undefined; i += 1) {
      slow.sendJson({ op: 'snapshot', id: 2 + i, stream });
      if (i % 10 === 9) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const row = hub.status().peers.find((p) => p.peer === 'slow');
        worst = Math.max(worst, row?.bufferedBytes ?? 0);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const row = hub.status().peers.find((p) => p.peer === 'slow');
    worst = Math.max(worst, row?.bufferedBytes ?? 0);
    expect(worst).toBeLessThanOrEqual(limits.disconnectBytes + snapshotBytes);
    // It was switched to snapshot mode (or cut): its requests stopped adding snapshots to its queue.
    expect(hub.status().backpressure.snapshotMode + hub.status().backpressure.disconnects).toBeGreaterThan(0);
  });

  it('counts control replies against the hard bound: a paused reader of replies is cut with 4413 (defect 5)', async () => {
    const hub = await filledHub({
      snapshotModeBytes: 256 * 1024,
      disconnectBytes: 2 * 1024 * 1024,
      resumeBytes: 64 * 1024,
    });
    const slow = track(await RawPeer.open(hub.url));
    await slow.auth('slow', 'viewer');
    slow.socket.pause();
    // Each `symbols` reply carries 200 names (about 2.4 KB): 9,000 of them are about 22 MB.
    for (let i = 0; i < 9_000 && hub.status().closed.slow_consumer === undefined; i += 1) {
      slow.sendJson({ op: 'symbols', id: i });
      if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => hub.status().closed.slow_consumer === 1, 5_000, 'the slow reader cut');
    expect(hub.status().backpressure.disconnects).toBe(1);
    // A reader that reads nothing cannot take the close handshake: it is cut after the grace period.
    await waitFor(() => !hub.status().peers.some((p) => p.peer === 'slow'), 5_000, 'the slow reader gone');
  });

  it('disconnects a reader past the hard bound (4413) and counts it', async () => {
    const hub = track(
      await startHub(transport, {
        symbols: MANY,
        backpressure: {
          snapshotModeBytes: 1024 * 1024 * 1024,
          disconnectBytes: 256 * 1024,
          resumeBytes: 1024,
        },
      }),
    );
    const slow = track(await RawPeer.open(hub.url));
    await slow.auth('slow', 'trader');
    slow.sendJson({ op: 'subscribe', id: 1, symbols: '*', kinds: '*', intervals: '*' });
    await slow.next('subscribed');
    slow.socket.pause();
    await floodUntil(hub, () => hub.status().backpressure.disconnects > 0);
    await waitFor(() => !hub.status().peers.some((p) => p.peer === 'slow'), 5_000, 'slow peer gone');
    expect(hub.status().closed.slow_consumer).toBe(1);
  });
});
