import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../../ts/hub/hub-client.js';
import type { HubServer } from '../../ts/hub/hub-server.js';
import { keyOf, RawPeer, SYMBOLS, startHub, TRANSPORTS, waitFor } from '../../ts/hub/testing/hub-fixtures.js';
import { booksEqual, captureIngestFrames, syntheticBar } from '../../ts/hub/testing/ingest-data.js';
import { TraderFeed } from '../../ts/hub/trader-feed.js';
import { silentLogger } from '../../ts/log/logger.js';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends { close(): Promise<void> | void }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

function client(hub: HubServer, peer: string, role: 'collector' | 'trader'): HubClient {
  return track(new HubClient({ url: hub.url, peer, key: keyOf(role), logger: silentLogger('client') }));
}

const ALL_IDS = SYMBOLS.map((_, i) => i);

describe.each(TRANSPORTS)('hub over %s: hostile input', (transport) => {
  it('refuses garbage, truncated, mis-kinded and oversized frames and bad control messages, counted by reason', async () => {
    const hub = track(await startHub(transport, { maxMessageBytes: 64 * 1024 }));
    const bad = track(await RawPeer.open(hub.url));
    await bad.auth('bad-collector', 'collector');
    const encoder = new IngestEncoder(SYMBOLS);
    encoder.pushKlines(0, '1m', [syntheticBar(0, 1)]);
    const good = encoder.takeFrame(0, 0);
    if (good === null) throw new Error('no frame');

    bad.send(Buffer.from('definitely not a flatbuffer'), true);
    expect(await bad.next('error')).toMatchObject({ code: 'bad_frame' });
    bad.send(good.subarray(0, Math.floor(good.length / 2)), true);
    expect(await bad.next('error')).toMatchObject({ code: 'bad_frame' });
    // A Delta frame where an Ingest frame belongs.
    const elsewhere = new HubBook({ symbols: SYMBOLS });
    elsewhere.ingest(good, 1, Date.now());
    const delta = elsewhere.takeDeltaFrame(1, 1, 0);
    if (delta === null) throw new Error('no delta');
    bad.send(delta, true);
    expect(await bad.next('error')).toMatchObject({ code: 'bad_frame' });
    bad.send(Buffer.alloc(64 * 1024 + 1), true);
    expect(await bad.next('error')).toMatchObject({ code: 'oversized' });
    bad.send('{"op":', false);
    expect(await bad.next('error')).toMatchObject({ code: 'bad_json' });
    bad.sendJson({ op: 'launch', id: 7 });
    expect(await bad.next('error')).toMatchObject({ id: 7, code: 'unknown_op' });
    bad.sendJson({ op: 'cursor.next', id: 8, kind: 'kline', extra: 1 });
    expect(await bad.next('error')).toMatchObject({ id: 8, code: 'bad_field' });
    bad.sendJson({ op: 'cursor.next', id: 9, kind: 42 });
    expect(await bad.next('error')).toMatchObject({ id: 9, code: 'bad_field' });
    bad.sendJson({ op: 'auth', id: 10, key: 'test-trader', peer: 'x', mac: 'ab'.repeat(32) });
    expect(await bad.next('error')).toMatchObject({ id: 10, code: 'already_authenticated' });

    const rejected = hub.status().rejected;
    expect(rejected).toMatchObject({
      frame_bad_identifier: 1,
      frame_not_ingest: 1,
      oversized: 1,
      bad_json: 1,
      unknown_op: 1,
      bad_field: 2,
      already_authenticated: 1,
    });
    // A frame cut in half fails verification (or, cut before the identifier, the identifier check).
    expect((rejected.frame_malformed ?? 0) + (rejected.frame_bad_identifier ?? 0)).toBe(2);
    // The bad peer is still connected and still served.
    bad.sendJson({ op: 'ping', id: 11 });
    expect(await bad.next('pong')).toMatchObject({ id: 11 });
    expect(hub.status().merge.ingestFrames).toBe(0);
  });

  it('throttles a flooding peer, then disconnects it (4429), while the others keep being served', async () => {
    // Few, larger frames: the good collector stays well inside the same budget.
    const frames = captureIngestFrames('hub flood', SYMBOLS, 40);
    if (frames === undefined) return;
    const hub = track(
      await startHub(transport, {
        budget: { messagesPerSecond: 100, burstSeconds: 1 },
        floodDisconnectPerSecond: 200,
      }),
    );
    const collector = client(hub, 'good-collector', 'collector');
    await collector.connect();
    const f = new TraderFeed({
      client: client(hub, 'trader', 'trader'),
      subscriptions: [{ symbols: '*', kinds: '*', intervals: '*' }],
      logger: silentLogger(),
    });
    cleanups.push(() => f.stop());
    await f.start();

    const flooder = track(await RawPeer.open(hub.url));
    await flooder.auth('flooder', 'collector');
    for (let i = 0; i < 1_000; i += 1) flooder.sendJson({ op: 'ping' });
    expect(await flooder.next('error')).toMatchObject({ code: 'throttled' });
    expect((await flooder.closed).code).toBe(4429);
    const status = hub.status();
    expect(status.rejected.flood).toBeGreaterThan(200);
    expect(status.closed.flood).toBe(1);

    expect(frames.length).toBeLessThan(50);
    for (const frame of frames) collector.sendIngest(frame);
    await waitFor(() => hub.metrics.ingestFrames === frames.length, 3_000, 'good frames merged');
    await waitFor(() => booksEqual(hub.book, f.book, ALL_IDS), 3_000, 'trader in sync');
    expect(collector.state).toBe('ready');
  });

  it('closes a peer sending more than the transport limit with 1009, before and after auth (defect 9)', async () => {
    const hub = track(await startHub(transport, { maxMessageBytes: 64 * 1024, maxPayloadBytes: 256 * 1024 }));
    const authed = track(await RawPeer.open(hub.url));
    await authed.auth('big-sender', 'collector');
    authed.send(Buffer.alloc(300 * 1024), true);
    expect((await authed.closed).code).toBe(1009);
    const early = track(await RawPeer.open(hub.url));
    await early.next('hello');
    early.send(Buffer.alloc(300 * 1024), true);
    expect((await early.closed).code).toBe(1009);
  });

  it('tells the sender which frame it refused and what to do (defect 10)', async () => {
    const hub = track(await startHub(transport, { maxMessageBytes: 64 * 1024 }));
    const peer = track(await RawPeer.open(hub.url));
    await peer.auth('collector-x', 'collector');
    peer.send(Buffer.from('not a frame'), true);
    peer.send(Buffer.alloc(64 * 1024 + 1), true);
    await peer.next('error');
    await peer.next('error');
    // The oversized one is refused on arrival, the bad one after its turn's merge: any order.
    const errors = peer.messages.filter((m) => m.op === 'error');
    const first = errors.find((e) => e.code === 'bad_frame');
    const second = errors.find((e) => e.code === 'oversized');
    expect(first).toMatchObject({ code: 'bad_frame', frame: 1 });
    expect(second).toMatchObject({ code: 'oversized', frame: 2 });
    if (first === undefined || second === undefined) throw new Error('both errors');
    for (const e of [first, second]) expect((e as { hint?: string }).hint).toMatch(/\w+/);
    expect(second.message).toContain(String(64 * 1024));
  });

  it('tells the sender about records the merge refused, and merges the rest of the frame', async () => {
    const hub = track(await startHub(transport));
    const peer = track(await RawPeer.open(hub.url));
    await peer.auth('collector-y', 'collector');
    const encoder = new IngestEncoder(SYMBOLS);
    const good = syntheticBar(0, 1);
    // A bar whose open time is not on a minute boundary cannot be a 1m bar.
    encoder.pushKlines(0, '1m', [{ ...good, openTime: good.openTime + 1, closeTime: good.closeTime + 1 }]);
    encoder.pushKlines(1, '1m', [good]);
    const frame = encoder.takeFrame(0, Date.now());
    if (frame === null) throw new Error('no frame');
    peer.send(frame, true);
    const error = await peer.next('error');
    expect(error).toMatchObject({ code: 'invalid_record', records: 1, hint: expect.any(String) });
    expect(Object.values(error.reasons ?? {})).toEqual([1]);
    expect(hub.book.klines(1, '1m')).toHaveLength(1);
    expect(hub.book.klines(0, '1m')).toHaveLength(0);
    const status = hub.status();
    expect(status.merge.recordsRefused).toBe(1);
    expect(Object.keys(status.rejected).filter((r) => r.startsWith('record_'))).toHaveLength(1);
  });

  it('closes a peer that goes silent (idle timeout, 4408)', async () => {
    const hub = track(await startHub(transport, { heartbeatMs: 50, idleTimeoutMs: 150 }));
    const silent = track(await RawPeer.open(hub.url));
    await silent.auth('silent', 'viewer');
    expect((await silent.closed).code).toBe(4408);
    expect(hub.status().rejected.idle).toBe(1);
    // A HubClient pings on its own and stays.
    const c = client(hub, 'alive', 'trader');
    await c.connect();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(c.state).toBe('ready');
  });
});
