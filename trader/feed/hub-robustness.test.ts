import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../../ts/hub/hub-client.js';
import type { HubServer } from '../../ts/hub/hub-server.js';
import {
  RawPeer,
  SECRET,
  SYMBOLS,
  startHub,
  TRANSPORTS,
  waitFor,
} from '../../ts/hub/testing/hub-fixtures.js';
import { booksEqual, captureIngestFrames, syntheticBar } from '../../ts/hub/testing/ingest-data.js';
import { silentLogger } from '../../ts/log/logger.js';
import { IngestEncoder, MergeBook } from '../../ts/native/hub.js';
import { TraderFeed } from './trader-feed.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends { close(): Promise<void> | void }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

function client(hub: HubServer, peer: string, role: 'collector' | 'trader'): HubClient {
  return track(new HubClient({ url: hub.url, peer, role, secret: SECRET, logger: silentLogger('client') }));
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
    const elsewhere = new MergeBook();
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
    bad.sendJson({ op: 'auth', id: 10, peer: 'x', role: 'trader', mac: 'ab'.repeat(32) });
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
