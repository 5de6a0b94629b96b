// Tests of the simulator's websocket side over real sockets: routes, subscriptions, user data, limits.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../ts/log/logger.js';
import type {
  AccountDirectory,
  Json,
  MarketStreamListener,
  StreamRoute,
  UserEventListener,
} from '../contracts.js';
import { resolveStream } from '../market/stream-catalog.js';
import type { ServerLimits } from './server-limits.js';
import { SimulatorClock } from './sim-clock.js';
import { SimServer } from './sim-server.js';

const KEY = 'ws-key';
const KEY2 = 'ws-key-2';
const accounts: AccountDirectory = {
  credentials: (apiKey) =>
    apiKey === KEY
      ? { accountId: 'acct-ws', secret: 'ws-secret' }
      : apiKey === KEY2
        ? { accountId: 'acct-ws-2', secret: 'ws-secret-2' }
        : undefined,
};

const LISTED = new Set(['BTCUSDT', 'ETHUSDT', 'AAAUSDT', 'BBBUSDT', 'CCCUSDT', 'DDDUSDT']);

class FakeMarket {
  readonly listeners = new Set<MarketStreamListener>();
  resolveStream(name: string) {
    return resolveStream(name, (symbol) => LISTED.has(symbol));
  }
  isWanted: (stream: string) => boolean = () => false;
  onStream(listener: MarketStreamListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  setStreamDemand(isWanted: (stream: string) => boolean): void {
    this.isWanted = isWanted;
  }
  freeze(): void {}
  emit(route: StreamRoute, stream: string, payload: Json): void {
    for (const listener of this.listeners) listener(route, stream, payload);
  }
}

class FakeEngine {
  readonly listeners = new Set<UserEventListener>();
  onUserEvent(listener: UserEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(accountId: string, event: Json): void {
    for (const listener of this.listeners) listener(accountId, event);
  }
}

let running: SimServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await running?.stop();
  running = undefined;
});

async function start(limits: Partial<ServerLimits> = {}) {
  const market = new FakeMarket();
  const engine = new FakeEngine();
  const server = await SimServer.start({
    clock: new SimulatorClock(),
    endpoints: [],
    accounts,
    market,
    userEvents: engine,
    limits,
    logger: silentLogger(),
  });
  running = server;
  return { server, market, engine };
}

/** An open client that queues every text message it receives. */
class Client {
  readonly messages: unknown[] = [];
  readonly #waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }
  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
    const ws = new WebSocket(url, options);
    sockets.push(ws);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }
  /** Waits until `count` messages have arrived (or the socket closed). */
  async next(count = 1, timeoutMs = 2_000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count && this.closed === undefined && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.messages.splice(0, count);
  }
  async request(message: Json): Promise<unknown> {
    this.ws.send(JSON.stringify(message));
    const [reply] = await this.next(1);
    return reply;
  }
  async waitClosed(timeoutMs = 3_000): Promise<{ code: number; reason: string } | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
}

async function listenKeyOf(server: SimServer): Promise<string> {
  const r = await fetch(`${server.restUrl}/fapi/v1/listenKey`, {
    method: 'POST',
    headers: { 'X-MBX-APIKEY': KEY },
  });
  return ((await r.json()) as { listenKey: string }).listenKey;
}

/** Lets in-flight frames arrive, so a test can assert that nothing did. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

describe('StreamHub market streams', () => {
  it('delivers raw payloads on the right route, and refuses a stream on the wrong route', async () => {
    const { server, market } = await start();
    const raw = await Client.open(`${server.wsUrl}/market/ws/BTCUSDT@aggTrade`);
    await expect(Client.open(`${server.wsUrl}/public/ws/btcusdt@aggTrade`)).rejects.toThrow(/400/);
    await expect(Client.open(`${server.wsUrl}/ws/btcusdt@aggTrade`)).rejects.toThrow(/400/);
    expect(market.isWanted('btcusdt@aggTrade')).toBe(true);
    expect(market.isWanted('ethusdt@aggTrade')).toBe(false);
    market.emit('market', 'btcusdt@aggTrade', { e: 'aggTrade', p: '100.1' });
    expect(await raw.next()).toEqual([{ e: 'aggTrade', p: '100.1' }]);
    market.emit('public', 'btcusdt@bookTicker', { e: 'bookTicker' });
    await settle();
    expect(raw.messages).toEqual([]);
    const pub = await Client.open(`${server.wsUrl}/public/ws`);
    expect(await pub.request({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 7 })).toEqual({
      error: { code: 2, msg: 'Invalid request: invalid stream' },
      id: 7,
    });
    expect(await pub.request({ method: 'LIST_SUBSCRIPTIONS', id: 8 })).toEqual({ result: [], id: 8 });
  });

  it('keeps all-market stream names as Binance spells them and delivers them', async () => {
    const { server, market } = await start();
    const byPath = await Client.open(`${server.wsUrl}/public/ws/!bookTicker`);
    const combined = await Client.open(
      `${server.wsUrl}/market/stream?streams=!markPrice@arr/!markPrice@arr@1s`,
    );
    const live = await Client.open(`${server.wsUrl}/market/ws`);
    expect(
      await live.request({
        method: 'SUBSCRIBE',
        params: ['!ticker@arr', '!miniTicker@arr', '!forceOrder@arr'],
        id: 1,
      }),
    ).toEqual({ result: null, id: 1 });
    expect(await live.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 })).toEqual({
      result: ['!ticker@arr', '!miniTicker@arr', '!forceOrder@arr'],
      id: 2,
    });
    for (const name of [
      '!bookTicker',
      '!markPrice@arr',
      '!markPrice@arr@1s',
      '!ticker@arr',
      '!miniTicker@arr',
      '!forceOrder@arr',
    ]) {
      expect(market.isWanted(name)).toBe(true);
    }
    market.emit('public', '!bookTicker', { e: 'bookTicker', s: 'BTCUSDT' });
    market.emit('market', '!markPrice@arr@1s', [{ e: 'markPriceUpdate' }]);
    market.emit('market', '!ticker@arr', [{ e: '24hrTicker' }]);
    expect(await byPath.next()).toEqual([{ e: 'bookTicker', s: 'BTCUSDT' }]);
    expect(await combined.next()).toEqual([
      { stream: '!markPrice@arr@1s', data: [{ e: 'markPriceUpdate' }] },
    ]);
    expect(await live.next()).toEqual([[{ e: '24hrTicker' }]]);
  });

  it('refuses streams it does not serve, unlisted symbols and bad intervals, by URL and by SUBSCRIBE', async () => {
    const { server } = await start();
    for (const path of [
      '/market/ws/!contractInfo',
      '/market/ws/btcusdt@compositeIndex',
      '/market/ws/xyzusdt@aggTrade',
      '/market/ws/btcusdt@kline_7m',
      '/market/ws/btcusdt_current_quarter@continuousKline_1m',
      '/public/ws/btcusdt@depth7',
      '/public/stream?streams=btcusdt@depth@250ms',
    ]) {
      await expect(Client.open(`${server.wsUrl}${path}`), path).rejects.toThrow(/400/);
    }
    const c = await Client.open(`${server.wsUrl}/market/ws/btcusdt@aggTrade`);
    expect(
      await c.request({ method: 'SUBSCRIBE', params: ['ethusdt@kline_1m', 'btcusdt@trade'], id: 3 }),
    ).toEqual({ error: { code: 2, msg: 'Invalid request: invalid stream' }, id: 3 });
    // One bad name refuses the whole request.
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 4 })).toEqual({
      result: ['btcusdt@aggTrade'],
      id: 4,
    });
    expect(
      await c.request({
        method: 'SUBSCRIBE',
        params: ['BTCUSDT_PERPETUAL@continuousKline_1m', 'ethusdt@forceOrder', 'ethusdt@markPrice@1s'],
        id: 5,
      }),
    ).toEqual({ result: null, id: 5 });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 6 })).toEqual({
      result: [
        'btcusdt@aggTrade',
        'btcusdt_perpetual@continuousKline_1m',
        'ethusdt@forceOrder',
        'ethusdt@markPrice@1s',
      ],
      id: 6,
    });
  });

  it('wraps combined streams and supports the live subscription protocol', async () => {
    const { server, market } = await start();
    const c = await Client.open(`${server.wsUrl}/market/stream?streams=btcusdt@aggTrade/ethusdt@markPrice`);
    market.emit('market', 'ethusdt@markPrice', { e: 'markPriceUpdate' });
    expect(await c.next()).toEqual([{ stream: 'ethusdt@markPrice', data: { e: 'markPriceUpdate' } }]);
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@kline_1m'], id: 1 })).toEqual({
      result: null,
      id: 1,
    });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 })).toEqual({
      result: ['btcusdt@aggTrade', 'ethusdt@markPrice', 'btcusdt@kline_1m'],
      id: 2,
    });
    expect(await c.request({ method: 'UNSUBSCRIBE', params: ['btcusdt@aggTrade'], id: 3 })).toEqual({
      result: null,
      id: 3,
    });
    expect(market.isWanted('btcusdt@aggTrade')).toBe(false);
    expect(await c.request({ method: 'GET_PROPERTY', params: ['combined'], id: 4 })).toEqual({
      result: true,
      id: 4,
    });
    expect(await c.request({ method: 'SET_PROPERTY', params: ['combined', false], id: 5 })).toEqual({
      result: null,
      id: 5,
    });
    market.emit('market', 'btcusdt@kline_1m', { e: 'kline' });
    expect(await c.next()).toEqual([{ e: 'kline' }]);
  });

  it("answers bad requests with Binance's error replies", async () => {
    const { server } = await start();
    const c = await Client.open(`${server.wsUrl}/market/ws`);
    expect(await c.request({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 1 })).toEqual({
      error: { code: 1, msg: 'Invalid value type: expected Boolean' },
      id: 1,
    });
    expect(await c.request({ method: 'GET_PROPERTY', params: ['colour'], id: 2 })).toEqual({
      error: { code: 0, msg: 'Unknown property' },
      id: 2,
    });
    expect(await c.request({ method: 'SET_PROPERTY', params: [7, true], id: 3 })).toMatchObject({
      error: { code: 2, msg: 'Invalid request: property name must be a string' },
    });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['a'], id: -1 })).toMatchObject({
      error: { code: 2, msg: 'Invalid request: request ID must be an unsigned integer' },
    });
    expect(await c.request({ method: 'FLY', id: 4 })).toMatchObject({ error: { code: 2 }, id: 4 });
    expect(await c.request({ params: [], id: 5 })).toMatchObject({ error: { code: 2 }, id: 5 });
    c.ws.send('{not json');
    expect(await c.next()).toMatchObject([{ error: { code: 3 } }]);
    expect(c.closed).toBeUndefined();
  });

  it('limits streams per connection and refuses bad paths', async () => {
    const { server } = await start({ wsMaxStreams: 3 });
    const c = await Client.open(`${server.wsUrl}/market/ws/aaausdt@aggTrade/bbbusdt@aggTrade`);
    expect(await c.request({ method: 'SUBSCRIBE', params: ['cccusdt@aggTrade'], id: 1 })).toEqual({
      result: null,
      id: 1,
    });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['dddusdt@aggTrade'], id: 2 })).toMatchObject({
      error: { code: 2 },
      id: 2,
    });
    await expect(
      Client.open(
        `${server.wsUrl}/market/ws/aaausdt@aggTrade/bbbusdt@aggTrade/cccusdt@aggTrade/dddusdt@aggTrade`,
      ),
    ).rejects.toThrow(/400/);
    await expect(Client.open(`${server.wsUrl}/nowhere/ws`)).rejects.toThrow(/404/);
    await expect(Client.open(`${server.wsUrl}/private/ws/${'x'.repeat(64)}`)).rejects.toThrow(/400/);
    await expect(Client.open(`${server.wsUrl}/private/nowhere`)).rejects.toThrow(/404/);
  });

  it('disconnects a client sending more than the message rate', async () => {
    const { server } = await start({ wsMaxMessagesPerSecond: 3 });
    const c = await Client.open(`${server.wsUrl}/public/ws`);
    for (let i = 0; i < 6; i += 1) c.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: i }));
    expect((await c.waitClosed())?.code).toBe(1008);
  });

  it('stalls the market connections open on the stallStreamsForMs fault: open, answering pings and requests, delivering nothing; a new connection delivers', async () => {
    const { server, market } = await start({ wsPingIntervalMs: 50, housekeepingIntervalMs: 20 });
    const stalled = await Client.open(`${server.wsUrl}/market/stream?streams=btcusdt@aggTrade`);
    let pings = 0;
    stalled.ws.on('ping', () => {
      pings += 1;
    });
    const r = await fetch(`${server.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ stallStreamsForMs: 600 }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { served: { streamsStalled: number } }).served.streamsStalled).toBe(1);
    const fresh = await Client.open(`${server.wsUrl}/market/stream?streams=btcusdt@aggTrade`);
    market.emit('market', 'btcusdt@aggTrade', { e: 'aggTrade', a: 1 });
    expect(await fresh.next()).toEqual([{ stream: 'btcusdt@aggTrade', data: { e: 'aggTrade', a: 1 } }]);
    await settle();
    expect(stalled.messages).toEqual([]);
    expect(await stalled.request({ method: 'LIST_SUBSCRIPTIONS', id: 1 })).toEqual({
      result: ['btcusdt@aggTrade'],
      id: 1,
    });
    expect(pings).toBeGreaterThan(0);
    expect(stalled.closed).toBeUndefined();
    // After the stall it delivers again; what it missed is never sent.
    await new Promise((resolve) => setTimeout(resolve, 600));
    market.emit('market', 'btcusdt@aggTrade', { e: 'aggTrade', a: 2 });
    expect(await stalled.next()).toEqual([{ stream: 'btcusdt@aggTrade', data: { e: 'aggTrade', a: 2 } }]);
  });

  it('stalls only the connections carrying a stream on the stallConnection fault; the others deliver; an unserved stream is refused', async () => {
    const { server, market } = await start();
    const stalled = await Client.open(
      `${server.wsUrl}/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m`,
    );
    const other = await Client.open(
      `${server.wsUrl}/market/stream?streams=ethusdt@aggTrade/btcusdt@kline_1m`,
    );
    const r = await fetch(`${server.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ stallConnection: { stream: 'btcusdt@aggTrade', forMs: 60_000 } }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { served: { connectionsStalled: number } }).served.connectionsStalled).toBe(
      1,
    );
    market.emit('market', 'btcusdt@kline_1m', { e: 'kline', a: 1 });
    market.emit('market', 'ethusdt@aggTrade', { e: 'aggTrade', a: 2 });
    market.emit('market', 'btcusdt@aggTrade', { e: 'aggTrade', a: 3 });
    expect(await other.next()).toEqual([{ stream: 'btcusdt@kline_1m', data: { e: 'kline', a: 1 } }]);
    expect(await other.next()).toEqual([{ stream: 'ethusdt@aggTrade', data: { e: 'aggTrade', a: 2 } }]);
    await settle();
    expect(stalled.messages).toEqual([]);
    expect(await stalled.request({ method: 'LIST_SUBSCRIPTIONS', id: 1 })).toMatchObject({ id: 1 });
    expect(stalled.closed).toBeUndefined();
    // A new connection carrying the stream delivers.
    const fresh = await Client.open(`${server.wsUrl}/market/stream?streams=btcusdt@aggTrade`);
    market.emit('market', 'btcusdt@aggTrade', { e: 'aggTrade', a: 4 });
    expect(await fresh.next()).toEqual([{ stream: 'btcusdt@aggTrade', data: { e: 'aggTrade', a: 4 } }]);
    const refused = await fetch(`${server.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ stallConnection: { stream: 'nosuchusdt@aggTrade', forMs: 1_000 } }),
    });
    expect(refused.status).toBe(400);
    // Clearing the faults ends the stall: the stalled connection delivers again.
    expect((await fetch(`${server.restUrl}/_sim/faults`, { method: 'DELETE' })).status).toBe(200);
    market.emit('market', 'btcusdt@aggTrade', { e: 'aggTrade', a: 5 });
    expect(await stalled.next()).toEqual([{ stream: 'btcusdt@aggTrade', data: { e: 'aggTrade', a: 5 } }]);
  });

  it('pings, drops a connection that never pongs, and closes at the age limit', async () => {
    const { server } = await start({
      wsPingIntervalMs: 50,
      wsPongTimeoutMs: 600,
      housekeepingIntervalMs: 20,
      wsMaxConnectionAgeMs: 1_500,
    });
    const silent = await Client.open(`${server.wsUrl}/public/ws`, { autoPong: false });
    let pings = 0;
    silent.ws.on('ping', () => {
      pings += 1;
    });
    const polite = await Client.open(`${server.wsUrl}/public/ws`);
    expect(await silent.waitClosed(3_000)).toBeDefined();
    expect(pings).toBeGreaterThan(1);
    expect(polite.closed).toBeUndefined();
    expect((await polite.waitClosed(3_000))?.code).toBe(1000);
  });
});

describe('StreamHub user data', () => {
  it('routes user events to the account key on /private (raw, query and combined forms)', async () => {
    const { server, engine } = await start();
    const key = await listenKeyOf(server);
    const byPath = await Client.open(`${server.wsUrl}/private/ws/${key}`);
    const byQuery = await Client.open(`${server.wsUrl}/private/ws?listenKey=${key}`);
    const combined = await Client.open(`${server.wsUrl}/private/stream?listenKey=${key}`);
    engine.emit('acct-ws', { e: 'ORDER_TRADE_UPDATE', E: 1 });
    engine.emit('someone-else', { e: 'ACCOUNT_UPDATE', E: 2 });
    expect(await byPath.next()).toEqual([{ e: 'ORDER_TRADE_UPDATE', E: 1 }]);
    expect(await byQuery.next()).toEqual([{ e: 'ORDER_TRADE_UPDATE', E: 1 }]);
    expect(await combined.next()).toEqual([{ stream: key, data: { e: 'ORDER_TRADE_UPDATE', E: 1 } }]);
    await settle();
    expect(byPath.messages).toEqual([]);
  });

  it('filters by events=, takes keys by SUBSCRIBE on a bare /private connection, several per connection', async () => {
    const { server, engine } = await start();
    const key = await listenKeyOf(server);
    const other = await fetch(`${server.restUrl}/fapi/v1/listenKey`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': KEY2 },
    });
    const key2 = ((await other.json()) as { listenKey: string }).listenKey;
    const filtered = await Client.open(
      `${server.wsUrl}/private/ws?listenKey=${key}&events=ORDER_TRADE_UPDATE/TRADE_LITE`,
    );
    const bare = await Client.open(`${server.wsUrl}/private/stream`);
    expect(await bare.request({ method: 'SUBSCRIBE', params: [key, key2], id: 1 })).toEqual({
      result: null,
      id: 1,
    });
    expect(await bare.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 })).toEqual({
      result: [key, key2],
      id: 2,
    });
    expect(await bare.request({ method: 'SUBSCRIBE', params: ['x'.repeat(64)], id: 3 })).toEqual({
      error: { code: 2, msg: 'Invalid request: invalid stream' },
      id: 3,
    });
    engine.emit('acct-ws', { e: 'ACCOUNT_UPDATE', E: 1 });
    engine.emit('acct-ws', { e: 'TRADE_LITE', E: 2 });
    engine.emit('acct-ws-2', { e: 'ORDER_TRADE_UPDATE', E: 3 });
    expect(await filtered.next()).toEqual([{ e: 'TRADE_LITE', E: 2 }]);
    expect(await bare.next(3)).toEqual([
      { stream: key, data: { e: 'ACCOUNT_UPDATE', E: 1 } },
      { stream: key, data: { e: 'TRADE_LITE', E: 2 } },
      { stream: key2, data: { e: 'ORDER_TRADE_UPDATE', E: 3 } },
    ]);
    expect(await bare.request({ method: 'UNSUBSCRIBE', params: [key], id: 4 })).toEqual({
      result: null,
      id: 4,
    });
    engine.emit('acct-ws', { e: 'ORDER_TRADE_UPDATE', E: 5 });
    expect(await filtered.next()).toEqual([{ e: 'ORDER_TRADE_UPDATE', E: 5 }]);
    await settle();
    expect(bare.messages).toEqual([]);
    // Ending one key leaves the bare connection open with the other.
    server.applyFaults({ expireListenKeys: true });
    expect(await filtered.waitClosed()).toBeDefined();
    expect(await bare.next()).toEqual([
      { stream: key2, data: expect.objectContaining({ e: 'listenKeyExpired' }) },
    ]);
    await settle();
    expect(bare.closed).toBeUndefined();
    await expect(Client.open(`${server.wsUrl}/private/ws?listenKey=${key}&events=NOPE`)).rejects.toThrow(
      /400/,
    );
  });

  it('sends listenKeyExpired and closes when a key expires, or is expired by a fault', async () => {
    const { server } = await start({ listenKeyValidityMs: 800, housekeepingIntervalMs: 20 });
    const key = await listenKeyOf(server);
    const c = await Client.open(`${server.wsUrl}/private/ws/${key}`);
    const [expired] = await c.next(1, 3_000);
    expect(expired).toMatchObject({ e: 'listenKeyExpired', listenKey: key });
    expect((expired as { E: unknown }).E).toMatch(/^\d{13}$/);
    expect(await c.waitClosed()).toBeDefined();

    const key2 = await listenKeyOf(server);
    const c2 = await Client.open(`${server.wsUrl}/private/ws/${key2}`);
    server.applyFaults({ expireListenKeys: true });
    expect(await c2.next()).toMatchObject([{ e: 'listenKeyExpired', listenKey: key2 }]);
    expect(await c2.waitClosed()).toBeDefined();
  });

  it('drops every connection on the dropWebsockets fault', async () => {
    const { server } = await start();
    const a = await Client.open(`${server.wsUrl}/market/ws/btcusdt@aggTrade`);
    const b = await Client.open(`${server.wsUrl}/private/ws/${await listenKeyOf(server)}`);
    const r = await fetch(`${server.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ dropWebsockets: true }),
    });
    expect(r.status).toBe(200);
    expect(await a.waitClosed()).toBeDefined();
    expect(await b.waitClosed()).toBeDefined();
  });
});
