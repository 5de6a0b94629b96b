// Integration tests of the composed simulator over real HTTP and websockets: orders, streams, faults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Decimal } from '../ts/exact/decimal.js';
import { waitUntil } from '../ts/testing/wait-until.js';
import type { Json } from './contracts.js';
import { signedQuery } from './server/request-signature.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const API_KEY = 'integration-key-1';
const API_SECRET = 'integration-secret-1';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: API_KEY, apiSecret: API_SECRET, balances: { USDT: '100000' } }],
    symbols: ['BTCUSDT', 'ETHUSDT'],
    seed: 42,
  });
});

afterAll(async () => {
  await sim?.stop();
});

interface Reply {
  status: number;
  body: Record<string, unknown> & { code?: number; msg?: string };
  headers: Headers;
}

async function rest(method: string, path: string, params?: Record<string, string | number>): Promise<Reply> {
  const signed =
    params === undefined ? undefined : signedQuery(API_SECRET, { ...params, timestamp: sim.clock.now() });
  const inBody = method === 'POST' || method === 'PUT';
  const url = `${sim.restUrl}${path}${signed !== undefined && !inBody ? `?${signed}` : ''}`;
  const response = await fetch(url, {
    method,
    headers: {
      'X-MBX-APIKEY': API_KEY,
      ...(inBody && signed !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(inBody && signed !== undefined ? { body: signed } : {}),
  });
  return {
    status: response.status,
    body: (await response.json()) as Reply['body'],
    headers: response.headers,
  };
}

async function admin(spec: Json): Promise<void> {
  const r = await fetch(`${sim.restUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify(spec) });
  expect(r.status).toBe(200);
}

/** A websocket client that collects parsed messages. */
async function openSocket(
  path: string,
): Promise<{ ws: WebSocket; messages: Record<string, unknown>[]; closed: () => boolean }> {
  const ws = new WebSocket(`${sim.wsUrl}${path}`);
  const messages: Record<string, unknown>[] = [];
  let closed = false;
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed: () => closed };
}

const until = (check: () => boolean, timeoutMs = 3_000) => waitUntil(check, 'the condition', timeoutMs, 20);

describe('simulator over HTTP and websockets', () => {
  it('places a signed order and pushes ORDER_TRADE_UPDATE to the user-data stream', async () => {
    const { body: lk } = await rest('POST', '/fapi/v1/listenKey');
    const user = await openSocket(`/private/ws/${lk.listenKey as string}`);
    const order = await rest('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.010',
      newClientOrderId: 'it-market-1',
    });
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({ symbol: 'BTCUSDT', clientOrderId: 'it-market-1', side: 'BUY' });
    expect(order.headers.get('x-mbx-order-count-10s')).toBe('1');
    await until(() => user.messages.some((m) => m.e === 'ORDER_TRADE_UPDATE'));
    const update = user.messages.find((m) => m.e === 'ORDER_TRADE_UPDATE') as { o: Record<string, unknown> };
    expect(update.o).toMatchObject({ s: 'BTCUSDT', c: 'it-market-1', S: 'BUY' });
    const read = await rest('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'it-market-1' });
    expect(read.body.orderId).toBe(order.body.orderId);
    user.ws.close();
  });

  it('streams aggTrade frames to a /market subscriber, and nothing to /public', async () => {
    const market = await openSocket('/market/ws');
    const pub = await openSocket('/public/ws');
    market.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 1 }));
    await until(() => market.messages.some((m) => m.id === 1));
    pub.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 2 }));
    // aggTrade is a /market stream: /public refuses it instead of accepting it and staying silent.
    await until(() => pub.messages.some((m) => m.id === 2));
    expect(pub.messages.find((m) => m.id === 2)).toEqual({
      error: { code: 2, msg: 'Invalid request: invalid stream' },
      id: 2,
    });
    sim.market.generateTrades(5, 'BTCUSDT');
    await until(() => market.messages.filter((m) => m.e === 'aggTrade').length >= 1);
    const trade = market.messages.find((m) => m.e === 'aggTrade');
    expect(trade).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT' });
    expect(pub.messages.filter((m) => m.e === 'aggTrade')).toEqual([]);
    market.ws.close();
    pub.ws.close();
  });

  it('answers 503 -1007 for an order that was placed, which a query then finds', async () => {
    // A resting bid 3 % under the market, on the 0.1 tick grid (inside PERCENT_PRICE).
    const last = sim.market.lastPrice('BTCUSDT');
    const price = last.mul(Decimal.parse('0.97')).rescale(1, 'down').toFixed(1);
    await admin({ unknownStatusNextOrders: 1 });
    const order = await rest('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.010',
      price,
      newClientOrderId: 'it-unknown-1',
    });
    expect([order.status, order.body.code]).toEqual([503, -1007]);
    const read = await rest('GET', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      origClientOrderId: 'it-unknown-1',
    });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ clientOrderId: 'it-unknown-1', status: 'NEW' });
    const cancel = await rest('DELETE', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      origClientOrderId: 'it-unknown-1',
    });
    expect(cancel.body.status).toBe('CANCELED');
  });

  it('applies latency, forced 429 and 418, and clock skew to the real endpoints', async () => {
    await admin({ latencyMs: 120 });
    const started = Date.now();
    expect((await fetch(`${sim.restUrl}/fapi/v1/time`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    await admin({ reset: true, rateLimitNextRequests: 1 });
    const limited = await fetch(`${sim.restUrl}/fapi/v1/exchangeInfo`);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '1']);
    await admin({ banForMs: 2_000 });
    expect((await fetch(`${sim.restUrl}/fapi/v1/ping`)).status).toBe(418);
    await admin({ reset: true, clockSkewMs: 5_000 });
    const time = (await (await fetch(`${sim.restUrl}/fapi/v1/time`)).json()) as { serverTime: number };
    expect(Math.abs(time.serverTime - (Date.now() + 5_000))).toBeLessThan(1_000);
    await admin({ reset: true });
  });

  it('freezes market data on the stale-market fault', async () => {
    const market = await openSocket('/market/ws/ethusdt@aggTrade');
    await admin({ staleMarketForMs: 60_000 });
    sim.market.generateTrades(5, 'ETHUSDT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(market.messages.filter((m) => m.e === 'aggTrade')).toEqual([]);
    market.ws.close();
  });

  it('drops websockets and expires listen keys on request', async () => {
    const { body: lk } = await rest('POST', '/fapi/v1/listenKey');
    const user = await openSocket(`/private/ws?listenKey=${lk.listenKey as string}`);
    const market = await openSocket('/market/ws/btcusdt@markPrice');
    await admin({ expireListenKeys: true });
    await until(() => user.closed());
    expect(user.messages).toContainEqual(
      expect.objectContaining({ e: 'listenKeyExpired', listenKey: lk.listenKey }),
    );
    expect((await rest('PUT', '/fapi/v1/listenKey')).body.code).toBe(-1125);
    await admin({ dropWebsockets: true });
    await until(() => market.closed());
  });
});
