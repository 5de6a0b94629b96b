// Tests of the simulator server over real HTTP: security, parameters, limits, faults, listen keys.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../../ts/log/logger.js';
import {
  type AccountDirectory,
  type Endpoint,
  type Json,
  type MarketStreamListener,
  type Params,
  SimRejection,
} from '../contracts.js';
import { resolveStream } from '../market/stream-catalog.js';
import { signedQuery } from './request-signature.js';
import type { ServerLimits } from './server-limits.js';
import { SimulatorClock } from './sim-clock.js';
import { SimServer } from './sim-server.js';

const KEY = 'test-api-key';
const SECRET = 'test-api-secret';

const accounts: AccountDirectory = {
  credentials: (apiKey) => (apiKey === KEY ? { accountId: 'acct-1', secret: SECRET } : undefined),
};

/** Endpoints standing in for the market's and the engine's, each showing what it received. */
function testEndpoints(placed: Params[]): Endpoint[] {
  const base = { weight: () => 1, countsAsOrder: false } as const;
  return [
    {
      ...base,
      method: 'GET',
      path: '/fapi/v1/time',
      security: 'NONE',
      handle: (ctx) => ({ serverTime: ctx.now }),
    },
    {
      ...base,
      method: 'GET',
      path: '/fapi/v1/klines',
      security: 'NONE',
      weight: (p) => (Number(p.limit ?? '500') > 100 ? 5 : 1),
      handle: (ctx) => ({ params: ctx.params }),
    },
    {
      ...base,
      method: 'GET',
      path: '/fapi/v2/account',
      security: 'USER_DATA',
      weight: () => 5,
      handle: (ctx) => ({ accountId: ctx.accountId, params: ctx.params }),
    },
    {
      ...base,
      method: 'POST',
      path: '/fapi/v1/order',
      security: 'TRADE',
      countsAsOrder: true,
      handle: (ctx) => {
        placed.push(ctx.params);
        return { orderId: placed.length, symbol: ctx.params.symbol ?? null };
      },
    },
    {
      ...base,
      method: 'GET',
      path: '/fapi/v1/refuse',
      security: 'NONE',
      handle: () => {
        throw new SimRejection(400, -1121, 'Invalid symbol.');
      },
    },
    {
      ...base,
      method: 'GET',
      path: '/fapi/v1/bug',
      security: 'NONE',
      handle: () => {
        throw new TypeError('simulated bug');
      },
    },
  ];
}

/** A market that records freezes and lets the test emit stream payloads. */
class FakeMarket {
  readonly listeners = new Set<MarketStreamListener>();
  resolveStream(name: string) {
    return resolveStream(name, (symbol) => symbol === 'BTCUSDT');
  }
  isWanted: (stream: string) => boolean = () => false;
  frozenUntil = 0;
  onStream(listener: MarketStreamListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  setStreamDemand(isWanted: (stream: string) => boolean): void {
    this.isWanted = isWanted;
  }
  freeze(untilMs: number): void {
    this.frozenUntil = untilMs;
  }
}

interface Harness {
  server: SimServer;
  clock: SimulatorClock;
  placed: Params[];
  market: FakeMarket;
  errors: string[];
}

let running: SimServer | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function startServer(limits: Partial<ServerLimits> = {}, wallNow?: () => number): Promise<Harness> {
  const clock = new SimulatorClock(0, wallNow);
  const placed: Params[] = [];
  const market = new FakeMarket();
  const errors: string[] = [];
  const logger = new Logger('test', {
    level: 'error',
    format: 'json',
    sink: (line) => errors.push(line),
  });
  const server = await SimServer.start({
    clock,
    endpoints: testEndpoints(placed),
    accounts,
    market,
    limits,
    logger,
  });
  running = server;
  return { server, clock, placed, market, errors };
}

async function call(
  h: Harness,
  method: string,
  pathAndQuery: string,
  init: { body?: string; apiKey?: string; contentType?: string } = {},
): Promise<{
  status: number;
  body: { code?: number; msg?: string } & Record<string, unknown>;
  headers: Headers;
}> {
  const headers: Record<string, string> = {};
  if (init.apiKey !== undefined) headers['X-MBX-APIKEY'] = init.apiKey;
  if (init.body !== undefined)
    headers['Content-Type'] = init.contentType ?? 'application/x-www-form-urlencoded';
  const response = await fetch(`${h.server.restUrl}${pathAndQuery}`, {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as never, headers: response.headers };
}

function signed(h: Harness, params: Record<string, string | number> = {}): string {
  return signedQuery(SECRET, { ...params, timestamp: h.clock.now() });
}

describe('SimServer REST', () => {
  it('serves public endpoints with Binance headers', async () => {
    const h = await startServer();
    const r = await call(h, 'GET', '/fapi/v1/time');
    expect(r.status).toBe(200);
    expect(typeof r.body.serverTime).toBe('number');
    expect(r.headers.get('x-mbx-used-weight-1m')).toBe('1');
    expect(r.headers.get('content-type')).toContain('application/json');
    const k = await call(h, 'GET', '/fapi/v1/klines?limit=1000&symbol=BTCUSDT');
    expect(k.body.params).toEqual({ limit: '1000', symbol: 'BTCUSDT' });
    expect(k.headers.get('x-mbx-used-weight-1m')).toBe('6');
  });

  it('tells request listeners who asked what and when, admin requests excluded', async () => {
    const h = await startServer();
    const seen: string[] = [];
    const off = h.server.onRequest((r) => seen.push(`${r.method} ${r.path}?${r.query} ${r.remotePort > 0}`));
    await call(h, 'GET', '/fapi/v1/klines?symbol=BTCUSDT&limit=2');
    await call(h, 'GET', '/_sim/health');
    await call(h, 'GET', '/fapi/v1/nothing');
    off();
    await call(h, 'GET', '/fapi/v1/time');
    expect(seen).toEqual(['GET /fapi/v1/klines?symbol=BTCUSDT&limit=2 true', 'GET /fapi/v1/nothing? true']);
  });

  it('answers unknown paths and methods like Binance', async () => {
    const h = await startServer();
    const r = await call(h, 'GET', '/fapi/v1/nothing');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ code: -5000, msg: 'Path /fapi/v1/nothing, Method GET is invalid' });
    const m = await call(h, 'DELETE', '/fapi/v1/time');
    expect(m.status).toBe(404);
    expect(m.body.code).toBe(-5000);
  });

  it('accepts signed requests in the query, the body, or split across both', async () => {
    const h = await startServer();
    const q = await call(h, 'GET', `/fapi/v2/account?${signed(h, { recvWindow: 5000 })}`, { apiKey: KEY });
    expect(q.status).toBe(200);
    expect(q.body.accountId).toBe('acct-1');
    const body = signed(h, { symbol: 'BTCUSDT', side: 'BUY' });
    const b = await call(h, 'POST', '/fapi/v1/order', { apiKey: KEY, body });
    expect(b.status).toBe(200);
    expect(b.body.symbol).toBe('BTCUSDT');
    expect(b.headers.get('x-mbx-order-count-10s')).toBe('1');
    expect(b.headers.get('x-mbx-order-count-1m')).toBe('1');
    // totalParams = query + body with no '&' between them.
    const query = 'symbol=ETHUSDT&side=SELL';
    const rest = `timestamp=${h.clock.now()}`;
    const { hmacSha256Hex } = await import('../../ts/exchange/request-signer.js');
    const split = await call(h, 'POST', `/fapi/v1/order?${query}`, {
      apiKey: KEY,
      body: `${rest}&signature=${hmacSha256Hex(SECRET, query + rest)}`,
    });
    expect(split.status).toBe(200);
    expect(split.body.symbol).toBe('ETHUSDT');
  });

  it('checks the API key, timestamp, recvWindow and signature', async () => {
    const h = await startServer();
    const path = '/fapi/v2/account';
    expect((await call(h, 'GET', `${path}?${signed(h)}`)).body.code).toBe(-2014);
    const unknown = await call(h, 'GET', `${path}?${signed(h)}`, { apiKey: 'nobody' });
    expect([unknown.status, unknown.body.code]).toEqual([401, -2015]);
    const noTs = await call(h, 'GET', `${path}?signature=${'0'.repeat(64)}`, { apiKey: KEY });
    expect([noTs.status, noTs.body.code]).toEqual([400, -1102]);
    const old = signedQuery(SECRET, { timestamp: h.clock.now() - 6_000 });
    expect((await call(h, 'GET', `${path}?${old}`, { apiKey: KEY })).body).toEqual({
      code: -1021,
      msg: 'Timestamp for this request is outside of the recvWindow.',
    });
    const oldButWide = signedQuery(SECRET, { timestamp: h.clock.now() - 6_000, recvWindow: 10_000 });
    expect((await call(h, 'GET', `${path}?${oldButWide}`, { apiKey: KEY })).status).toBe(200);
    const ahead = signedQuery(SECRET, { timestamp: h.clock.now() + 2_000 });
    expect((await call(h, 'GET', `${path}?${ahead}`, { apiKey: KEY })).body.code).toBe(-1021);
    const wide = signedQuery(SECRET, { timestamp: h.clock.now(), recvWindow: 60_001 });
    expect((await call(h, 'GET', `${path}?${wide}`, { apiKey: KEY })).body.code).toBe(-1130);
    const forged = `timestamp=${h.clock.now()}&signature=${'ab'.repeat(32)}`;
    expect((await call(h, 'GET', `${path}?${forged}`, { apiKey: KEY })).body).toEqual({
      code: -1022,
      msg: 'Signature for this request is not valid.',
    });
    const tampered = `symbol=BTCUSDT&${signed(h)}`;
    expect((await call(h, 'GET', `${path}?${tampered}`, { apiKey: KEY })).body.code).toBe(-1022);
    const unsigned = await call(h, 'GET', `${path}?timestamp=${h.clock.now()}`, { apiKey: KEY });
    expect(unsigned.body.code).toBe(-1102);
  });

  it("returns handlers' rejections as sent, and hides bugs behind 500 -1000 with a logged error", async () => {
    const h = await startServer();
    const r = await call(h, 'GET', '/fapi/v1/refuse');
    expect([r.status, r.body]).toEqual([400, { code: -1121, msg: 'Invalid symbol.' }]);
    const bug = await call(h, 'GET', '/fapi/v1/bug');
    expect([bug.status, bug.body.code]).toEqual([500, -1000]);
    expect(h.errors.some((line) => line.includes('simulated bug'))).toBe(true);
  });

  it('refuses bad encodings, duplicates and huge bodies without falling over', async () => {
    const h = await startServer({ maxBodyBytes: 1024 });
    expect((await call(h, 'GET', '/fapi/v1/klines?symbol=%zz')).body.code).toBe(-1100);
    expect((await call(h, 'GET', '/fapi/v1/klines?symbol=a&symbol=b')).body.code).toBe(-1101);
    const huge = await call(h, 'POST', '/fapi/v1/order', { apiKey: KEY, body: `a=${'x'.repeat(5000)}` });
    expect(huge.status).toBe(413);
    const latin = await call(h, 'POST', '/fapi/v1/order', { apiKey: KEY, body: 'symbol=BTC\u00e9' });
    expect(latin.body.code).toBe(-1100);
    // A JSON body is not read (Binance reads forms only): the order misses its timestamp.
    const json = await call(h, 'POST', '/fapi/v1/order', {
      apiKey: KEY,
      body: '{"timestamp":1}',
      contentType: 'application/json',
    });
    expect(json.body.code).toBe(-1102);
    // Garbage on a raw socket gets a 400 and the server keeps serving.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.server.port, '127.0.0.1', () => socket.write('\u0000\u0001 NOT HTTP\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toContain('400');
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(200);
  });
});

describe('SimServer limits', () => {
  // A wall clock fixed mid-minute, so the fixed minute buckets cannot roll over during the test.
  const midMinute = (): number => Math.floor(Date.now() / 60_000) * 60_000 + 20_000;

  it('answers 429 -1003 with Retry-After past the weight limit, then bans with 418', async () => {
    const h = await startServer({ requestWeightPerMinute: 3, requestsWhileLimitedBeforeBan: 2 }, midMinute);
    for (let i = 1; i <= 3; i += 1) {
      const ok = await call(h, 'GET', '/fapi/v1/time');
      expect(ok.headers.get('x-mbx-used-weight-1m')).toBe(String(i));
    }
    const limited = await call(h, 'GET', '/fapi/v1/time');
    expect([limited.status, limited.body.code]).toEqual([429, -1003]);
    expect(limited.headers.get('retry-after')).toBe('40');
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(429);
    const banned = await call(h, 'GET', '/fapi/v1/time');
    expect([banned.status, banned.body.code]).toEqual([418, -1003]);
    expect(Number(banned.headers.get('retry-after'))).toBe(120);
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(418);
  });

  it('limits orders per account per 10 s with 429 -1015', async () => {
    const tenSecondStart = (): number => Math.floor(Date.now() / 60_000) * 60_000 + 21_000;
    const h = await startServer({ ordersPer10s: 2 }, tenSecondStart);
    for (let i = 0; i < 2; i += 1) {
      expect((await call(h, 'POST', '/fapi/v1/order', { apiKey: KEY, body: signed(h) })).status).toBe(200);
    }
    const over = await call(h, 'POST', '/fapi/v1/order', { apiKey: KEY, body: signed(h) });
    expect([over.status, over.body.code]).toEqual([429, -1015]);
    expect(over.body.msg).toBe('Too many new orders; current limit is 2 orders per 10 SECOND.');
    expect(over.headers.get('x-mbx-order-count-10s')).toBe('3');
    expect(h.placed).toHaveLength(2);
  });
});

describe('SimServer faults', () => {
  async function postFaults(
    h: Harness,
    spec: Json,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(`${h.server.restUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify(spec) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  it('adds latency with jitter', async () => {
    const h = await startServer();
    await postFaults(h, { latencyMs: 150, latencyJitterMs: 50 });
    const started = Date.now();
    await call(h, 'GET', '/fapi/v1/time');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('forces 429 for the next N requests and for a duration, and 418 for a duration', async () => {
    const h = await startServer();
    await postFaults(h, { rateLimitNextRequests: 2 });
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(429);
    const second = await call(h, 'GET', '/fapi/v1/time');
    expect([second.status, second.body.code, second.headers.get('retry-after')]).toEqual([429, -1003, '1']);
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(200);
    await postFaults(h, { rateLimitForMs: 5_000 });
    const timed = await call(h, 'GET', '/fapi/v1/time');
    expect(timed.status).toBe(429);
    expect(Number(timed.headers.get('retry-after'))).toBeGreaterThanOrEqual(4);
    await postFaults(h, { reset: true, banForMs: 3_000 });
    const banned = await call(h, 'GET', '/fapi/v1/time');
    expect([banned.status, banned.body.code]).toEqual([418, -1003]);
    expect(banned.headers.get('retry-after')).toBe('3');
    await fetch(`${h.server.restUrl}/_sim/faults`, { method: 'DELETE' });
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(200);
  });

  it('runs the order and answers 503 -1007 for the next N order requests', async () => {
    const h = await startServer();
    await postFaults(h, { unknownStatusNextOrders: 1 });
    expect((await call(h, 'GET', '/fapi/v1/time')).status).toBe(200);
    const unknown = await call(h, 'POST', '/fapi/v1/order', {
      apiKey: KEY,
      body: signed(h, { symbol: 'BTCUSDT' }),
    });
    expect(unknown.status).toBe(503);
    expect(unknown.body).toEqual({
      code: -1007,
      msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
    });
    expect(h.placed).toHaveLength(1);
    expect((await call(h, 'POST', '/fapi/v1/order', { apiKey: KEY, body: signed(h) })).status).toBe(200);
    const state = await (await fetch(`${h.server.restUrl}/_sim/faults`)).json();
    expect(state).toMatchObject({ unknownStatusNextOrders: 0, served: { unknownStatus: 1 } });
  });

  it('skews the server clock, freezes the market, and refuses bad fault requests naming the field', async () => {
    const h = await startServer();
    await postFaults(h, { clockSkewMs: -30_000, staleMarketForMs: 4_000 });
    const time = await call(h, 'GET', '/fapi/v1/time');
    expect(Math.abs((time.body.serverTime as number) - (Date.now() - 30_000))).toBeLessThan(1_000);
    expect(Math.abs(h.market.frozenUntil - (Date.now() - 30_000 + 4_000))).toBeLessThan(1_000);
    // A request signed with the wall clock is now 30 s ahead of the server.
    const ahead = signedQuery(SECRET, { timestamp: Date.now() });
    expect((await call(h, 'GET', `/fapi/v2/account?${ahead}`, { apiKey: KEY })).body.code).toBe(-1021);
    const bad = await postFaults(h, { latencyMs: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.msg).toContain('faults.latencyMs');
    const unknown = await postFaults(h, { explode: true });
    expect(unknown.body.msg).toContain('faults.explode');
    const notJson = await fetch(`${h.server.restUrl}/_sim/faults`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    const health = (await (await fetch(`${h.server.restUrl}/_sim/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', clockSkewMs: -30_000 });
  });
});

describe('SimServer listen keys', () => {
  it('creates, reuses, keeps alive and deletes the account key', async () => {
    const h = await startServer();
    const created = await call(h, 'POST', '/fapi/v1/listenKey', { apiKey: KEY });
    const key = created.body.listenKey as string;
    expect(key).toMatch(/^[A-Za-z0-9]{64}$/);
    expect((await call(h, 'POST', '/fapi/v1/listenKey', { apiKey: KEY })).body.listenKey).toBe(key);
    expect((await call(h, 'PUT', '/fapi/v1/listenKey', { apiKey: KEY })).status).toBe(200);
    expect(
      (await call(h, 'PUT', '/fapi/v1/listenKey', { apiKey: KEY, body: 'listenKey=wrong' })).body.code,
    ).toBe(-1125);
    expect((await call(h, 'DELETE', '/fapi/v1/listenKey', { apiKey: KEY })).body).toEqual({});
    const gone = await call(h, 'PUT', '/fapi/v1/listenKey', { apiKey: KEY });
    expect([gone.status, gone.body]).toEqual([400, { code: -1125, msg: 'This listenKey does not exist.' }]);
    expect((await call(h, 'POST', '/fapi/v1/listenKey')).body.code).toBe(-2014);
    const fresh = await call(h, 'POST', '/fapi/v1/listenKey', { apiKey: KEY });
    expect(fresh.body.listenKey).not.toBe(key);
  });
});

describe('SimServer start', () => {
  it('reports a taken port as a typed error', async () => {
    const h = await startServer();
    await expect(
      SimServer.start({
        clock: new SimulatorClock(),
        endpoints: [],
        accounts,
        port: h.server.port,
        logger: new Logger('test', { level: 'error', sink: () => {} }),
      }),
    ).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  it('refuses two endpoints for one method and path', async () => {
    const endpoint = testEndpoints([])[0];
    if (endpoint === undefined) throw new Error('no endpoint');
    await expect(
      SimServer.start({ clock: new SimulatorClock(), endpoints: [endpoint, endpoint], accounts }),
    ).rejects.toThrow('two endpoints for GET /fapi/v1/time');
  });
});
