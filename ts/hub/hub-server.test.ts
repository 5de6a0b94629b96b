import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { HubClient, HubConnectionError } from './hub-client.js';
import type { HubServer, HubStatus } from './hub-server.js';
import { RawPeer, SECRET, SYMBOLS, startHub, TRANSPORTS } from './testing/hub-fixtures.js';

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
  role: 'collector' | 'trader' | 'viewer',
  kind?: string,
): HubClient {
  return track(
    new HubClient({
      url: hub.url,
      peer,
      role,
      ...(kind === undefined ? {} : { kind }),
      secret: SECRET,
      logger: silentLogger('client'),
      backoff: { initialMs: 20, maxMs: 200 },
    }),
  );
}

describe.each(TRANSPORTS)('hub over %s: authentication', (transport) => {
  it('uses the transport it was asked for', async () => {
    const hub = track(await startHub(transport));
    expect(hub.transportName).toBe(transport);
  });

  it('welcomes a peer with a correct MAC and gives it an id and the symbols', async () => {
    const hub = track(await startHub(transport));
    const c = client(hub, 'kline-1', 'collector', 'kline');
    const welcome = await c.connect();
    expect(welcome).toMatchObject({
      peer: 'kline-1',
      role: 'collector',
      hub: hub.instance,
      symbols: SYMBOLS,
    });
    expect(welcome.peerId).toBeGreaterThan(0);
    expect(c.state).toBe('ready');
    expect(await c.ping()).toBeGreaterThan(0);
    // The same peer name keeps its id across connections.
    await c.close();
    const again = client(hub, 'kline-1', 'collector', 'kline');
    expect((await again.connect()).peerId).toBe(welcome.peerId);
  });

  it('closes a peer with a bad MAC (4401) and counts it', async () => {
    const hub = track(await startHub(transport));
    const peer = track(await RawPeer.open(hub.url));
    await peer.next('hello');
    peer.sendJson({ op: 'auth', peer: 'x', role: 'trader', mac: 'ab'.repeat(32) });
    expect((await peer.closed).code).toBe(4401);
    expect(hub.status().rejected.bad_mac).toBe(1);
    // A MAC made for another role does not pass either.
    const other = track(await RawPeer.open(hub.url));
    const hello = await other.next('hello');
    const { authMac } = await import('./peer-auth.js');
    other.sendJson({
      op: 'auth',
      peer: 'x',
      role: 'collector',
      mac: authMac(SECRET, hello.nonce, 'x', 'viewer'),
    });
    expect((await other.closed).code).toBe(4401);
    expect(hub.status().rejected.bad_mac).toBe(2);
  });

  it('a client with the wrong secret fails without retrying', async () => {
    const hub = track(await startHub(transport));
    const c = track(
      new HubClient({ url: hub.url, peer: 't', role: 'trader', secret: 'wrong', logger: silentLogger() }),
    );
    await expect(c.connect()).rejects.toBeInstanceOf(HubConnectionError);
    expect(c.state).toBe('failed');
  });

  it('closes a peer that does not authenticate in time (4408)', async () => {
    const hub = track(await startHub(transport, { authTimeoutMs: 100 }));
    const peer = track(await RawPeer.open(hub.url));
    expect((await peer.closed).code).toBe(4408);
    expect(hub.status().rejected.auth_timeout).toBe(1);
  });

  it('accepts nothing before auth: a control op or a frame closes the connection (4400)', async () => {
    const hub = track(await startHub(transport));
    const a = track(await RawPeer.open(hub.url));
    await a.next('hello');
    a.sendJson({ op: 'subscribe', symbols: '*', kinds: '*', intervals: '*' });
    expect((await a.closed).code).toBe(4400);
    const b = track(await RawPeer.open(hub.url));
    await b.next('hello');
    b.send(Buffer.from('garbage frame'), true);
    expect((await b.closed).code).toBe(4400);
    const c = track(await RawPeer.open(hub.url));
    await c.next('hello');
    c.send('not json', false);
    expect((await c.closed).code).toBe(4400);
    expect(hub.status().rejected.unauthenticated).toBe(3);
    expect(hub.status().peers).toEqual([]);
  });

  it('enforces roles: a viewer cannot ingest or set symbols, a collector cannot subscribe', async () => {
    const hub = track(await startHub(transport));
    const viewer = track(await RawPeer.open(hub.url));
    await viewer.auth('v', 'viewer');
    viewer.sendJson({ op: 'symbols.set', id: 1, symbols: ['X'] });
    expect(await viewer.next('error')).toMatchObject({ id: 1, code: 'forbidden' });
    viewer.send(Buffer.alloc(32), true);
    expect(await viewer.next('error')).toMatchObject({ code: 'forbidden' });
    const collector = track(await RawPeer.open(hub.url));
    await collector.auth('c', 'collector');
    collector.sendJson({ op: 'subscribe', id: 2, symbols: '*', kinds: '*', intervals: '*' });
    expect(await collector.next('error')).toMatchObject({ id: 2, code: 'forbidden' });
    expect(hub.status().rejected.forbidden).toBe(3);
    expect(hub.symbols.active.length).toBe(SYMBOLS.length);
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
  it('serves GET /status with peers, counters and latency, and 404 elsewhere', async () => {
    const hub = track(await startHub(transport));
    const c = client(hub, 'kline-1', 'collector', 'kline');
    const t = client(hub, 'trader-1', 'trader');
    await Promise.all([c.connect(), t.connect()]);
    const response = await fetch(`http://127.0.0.1:${hub.port}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const status = (await response.json()) as HubStatus;
    expect(status.transport).toBe(transport);
    expect(status.hub).toBe(hub.instance);
    expect(status.peers.map((p) => [p.peer, p.role, p.kind]).sort()).toEqual([
      ['kline-1', 'collector', 'kline'],
      ['trader-1', 'trader', null],
    ]);
    expect(status.collectors).toMatchObject([{ peer: 'kline-1', connected: true, lastIngestAt: null }]);
    for (const key of ['messages', 'merge', 'rejected', 'snapshots', 'backpressure', 'latencyUs'] as const) {
      expect(status[key]).toBeDefined();
    }
    expect((await fetch(`http://127.0.0.1:${hub.port}/nope`)).status).toBe(404);
    const viaOp = (await t.status()) as HubStatus;
    expect(viaOp.peers).toHaveLength(2);
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
    expect(hub.status().events).toEqual({ relayed: 2, deliveries: 2, subscribers: 1 });
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
