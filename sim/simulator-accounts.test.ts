// Accounts over real HTTP and websockets: several API keys share one account and its order-rate limits;
// a batch counts 5 on the 10-second window; the private stream filters events and takes keys by SUBSCRIBE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Decimal } from '../ts/exact/decimal.js';
import { waitUntil } from '../ts/testing/wait-until.js';
import { signedQuery } from './server/request-signature.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const KEY_A = 'accounts-key-a';
const SECRET_A = 'accounts-secret-a';
const KEY_B = 'accounts-key-b';
const SECRET_B = 'accounts-secret-b';
const KEY_OTHER = 'accounts-key-other';
const SECRET_OTHER = 'accounts-secret-other';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [
      { apiKey: KEY_A, apiSecret: SECRET_A, apiKeys: [{ apiKey: KEY_B, apiSecret: SECRET_B }] },
      { apiKey: KEY_OTHER, apiSecret: SECRET_OTHER },
    ],
    symbols: ['BTCUSDT'],
    limits: { ordersPer10s: 8, ordersPerMinute: 1000 },
    history: { days: 2 },
  });
});

afterAll(async () => {
  await sim?.stop();
});

async function call(
  key: string,
  secret: string,
  method: string,
  path: string,
  params: Record<string, string>,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const query = signedQuery(secret, { ...params, timestamp: sim.clock.now() });
  const response = await fetch(`${sim.restUrl}${path}?${query}`, {
    method,
    headers: { 'X-MBX-APIKEY': key },
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

/** A resting bid 3 % under the market (it does not fill), on the 0.1 tick grid. */
function restingBid(): Record<string, string> {
  const bid = sim.market.lastPrice('BTCUSDT').mul(Decimal.parse('0.97')).rescale(1, 'down');
  return {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.002',
    price: bid.toString(),
  };
}

describe('the private stream', () => {
  it('sends only the events asked for, and several keys on one bare connection', async () => {
    const keyOf = async (key: string) => {
      const r = await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {
        method: 'POST',
        headers: { 'X-MBX-APIKEY': key },
      });
      return ((await r.json()) as { listenKey: string }).listenKey;
    };
    const mine = await keyOf(KEY_B);
    const theirs = await keyOf(KEY_OTHER);
    const open = async (path: string) => {
      const ws = new WebSocket(`${sim.wsUrl}${path}`);
      const messages: Record<string, unknown>[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return { ws, messages };
    };
    const lite = await open(`/private/ws?listenKey=${mine}&events=TRADE_LITE/ACCOUNT_CONFIG_UPDATE`);
    const both = await open('/private/stream');
    both.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [mine, theirs], id: 1 }));
    await waitUntil(() => both.messages.some((m) => m.id === 1), 'the subscription');
    await call(KEY_A, SECRET_A, 'POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.002',
    });
    await call(KEY_OTHER, SECRET_OTHER, 'POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '9' });
    await waitUntil(() => lite.messages.some((m) => m.e === 'TRADE_LITE'), 'TRADE_LITE', 5_000);
    await waitUntil(
      () => both.messages.some((m) => (m.data as { e?: string } | undefined)?.e === 'ACCOUNT_CONFIG_UPDATE'),
      'the other key’s event',
      5_000,
    );
    expect(new Set(lite.messages.map((m) => m.e))).toEqual(new Set(['TRADE_LITE']));
    const streams = new Set(both.messages.filter((m) => m.stream !== undefined).map((m) => m.stream));
    expect(streams).toEqual(new Set([mine, theirs]));
    const kinds = both.messages.filter((m) => m.stream === mine).map((m) => (m.data as { e: string }).e);
    expect(kinds).toEqual(expect.arrayContaining(['ORDER_TRADE_UPDATE', 'TRADE_LITE', 'ACCOUNT_UPDATE']));
    lite.ws.terminate();
    both.ws.terminate();
  });
});

describe('one account, several API keys', () => {
  it('sees the same orders from either key, and shares the order-rate limit of the account', async () => {
    // Start in a fresh 10-second window of the exchange clock (orders are counted in fixed windows).
    const intoWindow = sim.clock.now() % 10_000;
    await new Promise((resolve) => setTimeout(resolve, 10_000 - intoWindow + 50));
    const placed = await call(KEY_A, SECRET_A, 'POST', '/fapi/v1/order', restingBid());
    expect(placed.headers.get('x-mbx-order-count-10s')).toBe('1');
    const minute = Number(placed.headers.get('x-mbx-order-count-1m'));
    expect(placed.status).toBe(200);
    const orderId = String((placed.body as { orderId: number }).orderId);
    const seen = await call(KEY_B, SECRET_B, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId });
    expect(seen.status).toBe(200);
    const other = await call(KEY_OTHER, SECRET_OTHER, 'GET', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      orderId,
    });
    expect((other.body as { code: number }).code).toBe(-2013);
    // One order so far on the account's 10-second window; a batch counts 5 more, through key B.
    const batch = await call(KEY_B, SECRET_B, 'POST', '/fapi/v1/batchOrders', {
      batchOrders: JSON.stringify([restingBid(), restingBid()]),
    });
    expect(batch.status).toBe(200);
    expect(batch.headers.get('x-mbx-order-count-10s')).toBe('6');
    expect(Number(batch.headers.get('x-mbx-order-count-1m'))).toBe(minute + 1);
    expect(batch.headers.get('x-mbx-used-weight-1m')).not.toBeNull();
    await call(KEY_A, SECRET_A, 'POST', '/fapi/v1/order', restingBid());
    await call(KEY_B, SECRET_B, 'POST', '/fapi/v1/order', restingBid());
    // The 9th order of the account in the window is refused, whichever key sends it.
    const refused = await call(KEY_A, SECRET_A, 'POST', '/fapi/v1/order', restingBid());
    expect(refused.status).toBe(429);
    expect((refused.body as { code: number }).code).toBe(-1015);
    // The other account has its own limits.
    const fine = await call(KEY_OTHER, SECRET_OTHER, 'POST', '/fapi/v1/order', restingBid());
    expect(fine.status).toBe(200);
  });
});
