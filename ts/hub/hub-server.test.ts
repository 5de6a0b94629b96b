import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { waitUntil } from '../testing/wait-until.js';
import type { PeerRole } from './control-messages.js';
import { HubClient, HubConnectionError } from './hub-client.js';
import type { HubServer } from './hub-server.js';
import { HubHealthSchema, HubStatusSchema } from './hub-status.js';
import { issueKey, revokeKey, watchKeyFile } from './key-file.js';
import { authMac, statusAuthorization } from './peer-auth.js';
import { type ActiveKey, type HubKeyCredentials, KeyRing } from './peer-keys.js';
import {
  keyOf,
  RawPeer,
  SYMBOLS,
  startHub,
  TEST_KEYS,
  TRANSPORTS,
  testKeyRing,
} from './testing/hub-fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends { close(): Promise<void> | void }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

function client(
  hub: HubServer,
  peer: string,
  role: PeerRole | HubKeyCredentials,
  kind?: string,
  backoff = { initialMs: 20, maxMs: 200 },
): HubClient {
  return track(
    new HubClient({
      url: hub.url,
      peer,
      ...(kind === undefined ? {} : { kind }),
      key: typeof role === 'string' ? keyOf(role) : role,
      logger: silentLogger('client'),
      backoff,
    }),
  );
}

/** A key of `role` for exactly the names `peers`. */
function narrowKey(id: string, role: PeerRole, peers: string[]): ActiveKey {
  return {
    id,
    secret: `${id}-secret-0123456789abcdef0123456789`,
    role,
    peers,
    createdAt: 0,
    revokedAt: null,
  };
}

describe.each(TRANSPORTS)('hub over %s: authentication', (transport) => {
  it('uses the transport it was asked for', async () => {
    const hub = track(await startHub(transport));
    expect(hub.transportName).toBe(transport);
  });

  it('welcomes a peer with a correct MAC, with the role its key gives, an id and the symbols', async () => {
    const hub = track(await startHub(transport));
    const c = client(hub, 'kline-1', 'collector', 'kline');
    const welcome = await c.connect();
    expect(welcome).toMatchObject({
      peer: 'kline-1',
      role: 'collector',
      key: TEST_KEYS.collector.id,
      hub: hub.instance,
      symbols: SYMBOLS,
      maxMessageBytes: 4 * 1024 * 1024,
    });
    expect(welcome.peerId).toBeGreaterThan(0);
    expect(c.state).toBe('ready');
    expect(await c.ping()).toBeGreaterThan(0);
    // The same peer name keeps its id across connections.
    await c.close();
    const again = client(hub, 'kline-1', 'collector', 'kline');
    expect((await again.connect()).peerId).toBe(welcome.peerId);
  });

  it('refuses a wrong MAC or an unknown key: error, then 4401, counted', async () => {
    const hub = track(await startHub(transport));
    const peer = track(await RawPeer.open(hub.url));
    await peer.next('hello');
    peer.sendJson({ op: 'auth', key: TEST_KEYS.trader.id, peer: 'x', mac: 'ab'.repeat(32) });
    expect(await peer.next('error')).toMatchObject({ code: 'not_authenticated' });
    expect((await peer.closed).code).toBe(4401);
    expect(hub.status().rejected.bad_mac).toBe(1);
    // A MAC made for another peer name does not pass either.
    const other = track(await RawPeer.open(hub.url));
    const hello = await other.next('hello');
    const key = keyOf('collector');
    other.sendJson({
      op: 'auth',
      key: key.id,
      peer: 'x',
      mac: authMac(key.secret, hello.nonce, key.id, 'y'),
    });
    expect((await other.closed).code).toBe(4401);
    expect(hub.status().rejected.bad_mac).toBe(2);
    // A key the hub does not know gets the same answer.
    const stranger = track(await RawPeer.open(hub.url));
    const strangerHello = await stranger.next('hello');
    stranger.sendJson(
      stranger.authMessage(strangerHello.nonce, 'x', { id: 'hk-unknown', secret: 'z'.repeat(40) }),
    );
    expect(await stranger.next('error')).toMatchObject({ code: 'not_authenticated' });
    expect((await stranger.closed).code).toBe(4401);
    expect(hub.status().rejected.unknown_key).toBe(1);
  });

  it('a client with the wrong secret fails without retrying', async () => {
    const hub = track(await startHub(transport));
    const c = track(
      new HubClient({
        url: hub.url,
        peer: 't',
        key: { id: TEST_KEYS.trader.id, secret: 'wrong'.repeat(8) },
        logger: silentLogger(),
      }),
    );
    await expect(c.connect()).rejects.toBeInstanceOf(HubConnectionError);
    expect(c.state).toBe('failed');
  });

  it('closes a peer that does not authenticate in time (4408)', async () => {
    const hub = track(await startHub(transport, { authTimeoutMs: 100 }));
    const peer = track(await RawPeer.open(hub.url));
    expect((await peer.closed).code).toBe(4408);
    expect(peer.messages.map((m) => m.op)).toEqual(['hello', 'error']);
    expect(hub.status().rejected.auth_timeout).toBe(1);
  });

  it('accepts nothing before auth: an error names why, then 4400', async () => {
    const hub = track(await startHub(transport));
    const a = track(await RawPeer.open(hub.url));
    await a.next('hello');
    a.sendJson({ op: 'subscribe', symbols: '*', kinds: '*', intervals: '*' });
    expect(await a.next('error')).toMatchObject({ code: 'not_authenticated', hint: expect.any(String) });
    expect((await a.closed).code).toBe(4400);
    const b = track(await RawPeer.open(hub.url));
    await b.next('hello');
    b.send(Buffer.from('garbage frame'), true);
    expect((await b.closed).code).toBe(4400);
    const c = track(await RawPeer.open(hub.url));
    await c.next('hello');
    c.send('not json', false);
    expect((await c.closed).code).toBe(4400);
    // The role is not the peer's to say: an auth naming one is malformed.
    const d = track(await RawPeer.open(hub.url));
    const hello = await d.next('hello');
    d.sendJson({ ...d.authMessage(hello.nonce, 'x', keyOf('viewer')), role: 'collector' });
    expect((await d.closed).code).toBe(4400);
    expect(hub.status().rejected.unauthenticated).toBe(4);
    expect(hub.status().peers).toEqual([]);
  });

  it('takes the role from the key: a viewer key cannot ingest or set symbols, a collector key cannot subscribe (defect 8)', async () => {
    const hub = track(await startHub(transport));
    const viewer = track(await RawPeer.open(hub.url));
    // The viewer key allows any name, collector-like ones included: the name gives no rights.
    expect(await viewer.auth('kline-0', 'viewer', { kind: 'kline' })).toMatchObject({ role: 'viewer' });
    viewer.sendJson({ op: 'symbols.set', id: 1, symbols: ['X'] });
    expect(await viewer.next('error')).toMatchObject({ id: 1, code: 'forbidden' });
    viewer.send(Buffer.alloc(32), true);
    expect(await viewer.next('error')).toMatchObject({ code: 'forbidden', frame: 1 });
    const collector = track(await RawPeer.open(hub.url));
    await collector.auth('c', 'collector');
    collector.sendJson({ op: 'subscribe', id: 2, symbols: '*', kinds: '*', intervals: '*' });
    expect(await collector.next('error')).toMatchObject({ id: 2, code: 'forbidden' });
    expect(hub.status().rejected.forbidden).toBe(3);
    expect(hub.symbols.active.length).toBe(SYMBOLS.length);
    expect(hub.status().merge.ingestFrames).toBe(0);
  });

  it('takes the names from the key: a viewer cannot take a trader’s name and get it closed (defect 8)', async () => {
    const viewerKey = narrowKey('viewer-narrow', 'viewer', ['dashboard', 'viewer-*']);
    const traderKey = narrowKey('trader-narrow', 'trader', ['trader-0']);
    const hub = track(await startHub(transport, { keys: new KeyRing([viewerKey, traderKey]) }));
    const trader = client(hub, 'trader-0', traderKey);
    await trader.connect();
    const impostor = track(await RawPeer.open(hub.url));
    const hello = await impostor.next('hello');
    impostor.sendJson(impostor.authMessage(hello.nonce, 'trader-0', viewerKey));
    expect(await impostor.next('error')).toMatchObject({ code: 'forbidden' });
    expect((await impostor.closed).code).toBe(4403);
    expect(hub.status().rejected.name_not_allowed).toBe(1);
    expect(trader.state).toBe('ready');
    expect(hub.status().peers.map((p) => p.peer)).toEqual(['trader-0']);
    // Patterns: viewer-* allows viewer-7.
    const allowed = client(hub, 'viewer-7', viewerKey);
    expect((await allowed.connect()).role).toBe('viewer');
    // A client refused a name does not retry.
    const refused = client(hub, 'trader-1', traderKey);
    await expect(refused.connect()).rejects.toBeInstanceOf(HubConnectionError);
  });

  it('revokes and issues keys without a restart: the peers of a revoked key are closed (4401)', async () => {
    const extra = narrowKey('extra', 'trader', ['trader-x']);
    const ring = testKeyRing([extra]);
    const hub = track(await startHub(transport, { keys: ring }));
    const peer = track(await RawPeer.open(hub.url));
    await peer.auth('trader-x', 'trader', { key: extra });
    const other = client(hub, 'viewer-1', 'viewer');
    await other.connect();
    ring.replace(Object.values(TEST_KEYS));
    expect(await peer.next('error')).toMatchObject({ code: 'not_authenticated' });
    expect((await peer.closed).code).toBe(4401);
    expect(hub.status().closed.key_revoked).toBe(1);
    expect(other.state).toBe('ready');
    const again = track(await RawPeer.open(hub.url));
    const hello = await again.next('hello');
    again.sendJson(again.authMessage(hello.nonce, 'trader-x', extra));
    expect((await again.closed).code).toBe(4401);
    // Issued again (as a new key): accepted at once.
    const fresh = narrowKey('fresh', 'trader', ['trader-x']);
    ring.replace([...Object.values(TEST_KEYS), fresh]);
    expect((await client(hub, 'trader-x', fresh).connect()).role).toBe('trader');
  });

  it('follows its key file: keys issued and revoked by `tributary keys` take effect within a poll', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hub-keys-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'keys.json');
    const first = await issueKey(file, { role: 'collector', peers: ['kline-*'], label: 'test' });
    const watched = await watchKeyFile(file, silentLogger('keys'), 20);
    cleanups.push(() => watched.close());
    const hub = track(await startHub(transport, { keys: watched.ring }));
    const kline = client(hub, 'kline-3', first, 'kline');
    await kline.connect();
    const second = await issueKey(file, { role: 'trader', peers: ['trader-0'] });
    await waitUntil(() => watched.ring.lookup(second.id) !== undefined, 'the issued key in force');
    const trader = client(hub, 'trader-0', second);
    expect((await trader.connect()).role).toBe('trader');
    const states: string[] = [];
    kline.onState((state) => states.push(state));
    await revokeKey(file, first.id);
    await waitUntil(() => kline.state === 'failed', 'the revoked peer closed, and not retrying');
    expect(trader.state).toBe('ready');
    // A file that becomes invalid keeps the keys in force.
    await chmod(file, 0o644);
    expect(await watched.reload()).toBe(false);
    expect(watched.ring.lookup(second.id)).toBeDefined();
    expect(watched.ring.state.failedLoads).toBe(1);
  });
});

describe.each(TRANSPORTS)('hub over %s: cursor, slots, symbols, ranks', (transport) => {
  it('hands out symbols in turn, wrapping at the count, so two pollers never overlap in a round', async () => {
    const hub = track(await startHub(transport));
    const a = client(hub, 'kline-a', 'collector', 'kline');
    const b = client(hub, 'kline-b', 'collector', 'kline');
    await Promise.all([a.connect(), b.connect()]);
    const seen: Array<{ by: string; index: number; symbol: string }> = [];
    for (let round = 0; round < 2 * SYMBOLS.length; round += 1) {
      const [ra, rb] = await Promise.all([a.cursorNext('kline'), b.cursorNext('kline')]);
      seen.push({ by: 'a', ...ra }, { by: 'b', ...rb });
    }
    const indices = seen.map((s) => s.index).sort((x, y) => x - y);
    // 4 full rounds over 5 symbols: each index exactly 4 times.
    for (let i = 0; i < SYMBOLS.length; i += 1) expect(indices.filter((x) => x === i)).toHaveLength(4);
    // Consecutive answers (in the hub's order) are 0,1,2,3,4,0,...: every window of 5 covers all.
    for (const s of seen) expect(s.symbol).toBe(SYMBOLS[s.index]);
    // Another kind has its own cursor.
    expect((await a.cursorNext('hot-kline')).index).toBe(0);
    // The universe shrinks: the cursor wraps at the new count.
    await a.setSymbols(['BTCUSDT', 'CTKUSDT']);
    const next = await Promise.all([a.cursorNext('kline'), a.cursorNext('kline'), a.cursorNext('kline')]);
    expect(next.map((n) => n.count)).toEqual([2, 2, 2]);
    expect(next.every((n) => n.symbol === 'BTCUSDT' || n.symbol === 'CTKUSDT')).toBe(true);
    expect(next[0]?.symbol).not.toBe(next[1]?.symbol);
  });

  it('assigns slots (k, N), pushes changes, and reassigns when a collector leaves', async () => {
    const hub = track(await startHub(transport));
    const peers = await Promise.all(
      ['tick-1', 'tick-2', 'tick-3'].map(async (name) => {
        const p = track(await RawPeer.open(hub.url));
        await p.auth(name, 'collector', { kind: 'tick' });
        return p;
      }),
    );
    const [p1, p2, p3] = peers;
    if (p1 === undefined || p2 === undefined || p3 === undefined) throw new Error('peers');
    p1.sendJson({ op: 'slot.register', id: 1, group: 'tick' });
    expect(await p1.next('slot')).toMatchObject({ id: 1, k: 0, n: 1 });
    p2.sendJson({ op: 'slot.register', id: 1, group: 'tick' });
    expect(await p2.next('slot')).toMatchObject({ id: 1, k: 1, n: 2 });
    expect(await p1.next('slot')).toMatchObject({ k: 0, n: 2 });
    p3.sendJson({ op: 'slot.register', id: 1, group: 'tick' });
    expect(await p3.next('slot')).toMatchObject({ k: 2, n: 3 });
    expect(await p1.next('slot')).toMatchObject({ k: 0, n: 3 });
    expect(await p2.next('slot')).toMatchObject({ k: 1, n: 3 });
    // The first collector leaves: the others move up and are told.
    p1.close();
    expect(await p2.next('slot')).toMatchObject({ k: 0, n: 2 });
    expect(await p3.next('slot')).toMatchObject({ k: 1, n: 2 });
    expect(hub.status().slots.tick).toHaveLength(2);
  });

  it('a universe collector sets the symbols (ids stay) and ranks; everyone is told', async () => {
    const hub = track(await startHub(transport));
    const universe = client(hub, 'universe', 'collector', 'universe');
    const trader = client(hub, 'trader', 'trader');
    await Promise.all([universe.connect(), trader.connect()]);
    const pushed = new Promise<string[]>((resolve) =>
      trader.onMessage((m) => {
        if (m.op === 'symbols') resolve(m.symbols);
      }),
    );
    await universe.setSymbols(['ETHUSDT', 'BTCUSDT']);
    expect(await pushed).toEqual([...SYMBOLS, 'ETHUSDT']);
    expect(trader.symbols).toEqual([...SYMBOLS, 'ETHUSDT']);
    expect(hub.symbols.id('BTCUSDT')).toBe(SYMBOLS.indexOf('BTCUSDT'));
    await universe.setRanks(['BTCUSDT', 'ETHUSDT']);
    expect(await trader.ranks(1)).toMatchObject({ symbols: ['BTCUSDT'] });
    await expect(universe.setRanks(['NOPEUSDT'])).rejects.toMatchObject({ code: 'unknown_symbol' });
  });
});

describe.each(TRANSPORTS)('hub over %s: status', (transport) => {
  it('counts a universe collector’s symbol list and ranks as its data, so its freshness is not “never”', async () => {
    const hub = track(await startHub(transport));
    const universe = client(hub, 'universe-0', 'collector', 'universe');
    await universe.connect();
    const freshness = () => hub.health().collectors.find((c) => c.peer === 'universe-0')?.lastIngestAt;
    expect(freshness()).toBeNull();
    const before = Date.now();
    await universe.setSymbols([...SYMBOLS]);
    const listed = freshness() ?? 0;
    expect(listed).toBeGreaterThanOrEqual(before);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await universe.setRanks([...SYMBOLS].slice(0, 3));
    expect(freshness() ?? 0).toBeGreaterThan(listed);
    expect(hub.health().collectors.find((c) => c.peer === 'universe-0')?.frames).toBe(0);
  });

  it('serves the public health document at GET /status, valid for its schema, and 404 elsewhere', async () => {
    const hub = track(await startHub(transport));
    const c = client(hub, 'kline-1', 'collector', 'kline');
    const t = client(hub, 'trader-1', 'trader');
    await Promise.all([c.connect(), t.connect()]);
    const response = await fetch(`http://127.0.0.1:${hub.port}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const status = HubHealthSchema.parse(await response.json());
    expect(status.scope).toBe('health');
    expect(status.transport).toBe(transport);
    expect(status.hub).toBe(hub.instance);
    expect(status.peers.map((p) => [p.peer, p.role, p.kind]).sort()).toEqual([
      ['kline-1', 'collector', 'kline'],
      ['trader-1', 'trader', null],
    ]);
    expect(status.collectors).toMatchObject([{ peer: 'kline-1', connected: true, lastIngestAt: null }]);
    expect((await fetch(`http://127.0.0.1:${hub.port}/nope`)).status).toBe(404);
    // The status op answers a trader key with the health document, a viewer key with the full one.
    expect((await t.status()).scope).toBe('health');
    HubHealthSchema.parse((await t.status()).status);
    const v = client(hub, 'viewer-1', 'viewer');
    await v.connect();
    const full = await v.status();
    expect(full.scope).toBe('full');
    expect(HubStatusSchema.parse(full.status).peers).toHaveLength(3);
    HubStatusSchema.parse(hub.status());
  });

  it('shows no account data and no peer reports to an unauthenticated reader (defect 8)', async () => {
    const hub = track(await startHub(transport));
    const t = client(hub, 'trader-0', 'trader');
    await t.connect();
    t.report({ usdtWallet: '98765.4321', positions: ['BTCUSDT:0.125'] });
    await t.ping();
    const body = await (await fetch(`http://127.0.0.1:${hub.port}/status`)).text();
    expect(body).toContain('trader-0');
    expect(body).not.toContain('98765.4321');
    expect(body).not.toContain('BTCUSDT:0.125');
    expect(body).not.toContain('"remote"');
    HubHealthSchema.parse(JSON.parse(body));
  });

  it('serves the full document at GET /status/full to requests signed with a viewer or admin key', async () => {
    const hub = track(await startHub(transport));
    const t = client(hub, 'trader-0', 'trader');
    await t.connect();
    t.report({ usdtWallet: '98765.4321' });
    await t.ping();
    const url = `http://127.0.0.1:${hub.port}/status/full`;
    const get = (authorization?: string) =>
      fetch(url, authorization === undefined ? {} : { headers: { authorization } });
    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Tributary');
    for (const role of ['viewer', 'admin'] as const) {
      const ok = await get(statusAuthorization(keyOf(role), '/status/full'));
      expect(ok.status).toBe(200);
      const status = HubStatusSchema.parse(await ok.json());
      expect(status.peers.find((p) => p.peer === 'trader-0')?.report).toEqual({ usdtWallet: '98765.4321' });
    }
    expect((await get(statusAuthorization(keyOf('collector'), '/status/full'))).status).toBe(403);
    expect((await get(statusAuthorization(keyOf('trader'), '/status/full'))).status).toBe(403);
    // A wrong secret, an old time, a replayed header, a header for another path: all refused.
    const viewer = keyOf('viewer');
    expect(
      (await get(statusAuthorization({ ...viewer, secret: 'w'.repeat(40) }, '/status/full'))).status,
    ).toBe(401);
    expect((await get(statusAuthorization(viewer, '/status/full', Date.now() - 60_000))).status).toBe(401);
    const once = statusAuthorization(viewer, '/status/full');
    expect((await get(once)).status).toBe(200);
    expect((await get(once)).status).toBe(401);
    expect((await get(statusAuthorization(viewer, '/status'))).status).toBe(401);
    expect(hub.status().rejected).toMatchObject({
      http_no_credentials: 1,
      http_forbidden: 2,
      http_replay: 1,
    });
  });
});

describe.each(TRANSPORTS)('hub over %s: relayed exchange events', (transport) => {
  it('relays a collector’s order events to the traders that asked, in order, and refuses the rest', async () => {
    const hub = track(await startHub(transport));
    const collector = client(hub, 'user-stream-0', 'collector', 'user-stream');
    const trader = client(hub, 'trader-0', 'trader');
    const quiet = client(hub, 'trader-1', 'trader');
    await Promise.all([collector.connect(), trader.connect(), quiet.connect()]);
    await trader.subscribeEvents();
    const got: { seq: number; events: string[] }[] = [];
    trader.onMessage((m) => {
      if (m.op === 'events') got.push({ seq: m.seq, events: m.events });
    });
    let quietGot = 0;
    quiet.onMessage((m) => {
      if (m.op === 'events') quietGot += 1;
    });
    const first = Buffer.from('{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"BTCUSDT","X":"NEW"}}');
    const second = Buffer.from('{"e":"ALGO_UPDATE","E":2}');
    expect(collector.publishEvents([first])).toBe(true);
    expect(collector.publishEvents([second])).toBe(true);
    const deadline = Date.now() + 3000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([
      { seq: 1, events: [first.toString()] },
      { seq: 2, events: [second.toString()] },
    ]);
    expect(quietGot).toBe(0);
    expect(hub.status().events).toEqual({ relayed: 2, deliveries: 2, subscribers: 1, dropped: 0 });
    // Peers report their own counters; the hub shows them in status.
    expect(collector.report({ kind: 'user-stream', polls: 3 })).toBe(true);
    await trader.ping();
    await collector.ping();
    const row = hub.status().peers.find((p) => p.peer === 'user-stream-0');
    expect(row?.report).toEqual({ kind: 'user-stream', polls: 3 });
    expect(row?.reportedAt).toBeGreaterThan(0);
    // A trader may not publish, and a collector may not subscribe.
    await expect(trader.request({ op: 'events.publish', events: ['{}'] })).rejects.toThrow(/collector/);
    await expect(collector.subscribeEvents()).rejects.toThrow(/trader and viewer/);
  });
});
