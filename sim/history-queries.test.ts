// The history endpoints' time windows and ordering, as Binance's USD-M documentation gives them:
// userTrades, allOrders and allAlgoOrders serve at most 7 days between startTime and endTime (-1127),
// refuse a start after the end (-1023), and without an id cursor return the most recent rows;
// userTrades refuses fromId combined with a time (-1128).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import { parseJson } from '../ts/exchange/json-shape.js';
import { decodeIncomes } from '../ts/exchange/usdm-decoders.js';
import { signedQuery } from './server/request-signature.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const KEY = 'history-key';
const SECRET = 'history-secret';
const S = 'BTCUSDT';
const DAY = 86_400_000;

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: KEY, apiSecret: SECRET, balances: { USDT: '10000000' } }],
    symbols: [S],
    seed: 7,
    limits: { ordersPer10s: 100_000, ordersPerMinute: 100_000, requestWeightPerMinute: 1_000_000 },
  });
  // Two fills, so the account has trades and orders to list.
  for (let i = 0; i < 2; i++) {
    const r = await call('POST', '/fapi/v1/order', {
      symbol: S,
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.01',
    });
    expect(r.status).toBe(200);
  }
});

afterAll(async () => {
  await sim?.stop();
});

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

async function call(method: string, path: string, params: Record<string, string>): Promise<Reply> {
  const query = signedQuery(SECRET, { ...params, timestamp: sim.clock.now() });
  const response = await fetch(`${sim.restUrl}${path}?${query}`, {
    method,
    headers: { 'X-MBX-APIKEY': KEY },
  });
  return { status: response.status, body: await response.json() };
}

function errorCode(reply: Reply): number | undefined {
  const body = reply.body as { code?: unknown };
  return typeof body === 'object' && body !== null && typeof body.code === 'number' ? body.code : undefined;
}

describe('GET /fapi/v1/userTrades', () => {
  it('refuses fromId sent together with startTime (documented: cannot be sent together)', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/userTrades', {
      symbol: S,
      fromId: '1',
      startTime: String(now - DAY),
    });
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe(-1128);
  });

  it('refuses a startTime..endTime window longer than 7 days', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/userTrades', {
      symbol: S,
      startTime: String(now - 8 * DAY),
      endTime: String(now),
    });
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe(-1127);
  });

  it('refuses startTime after endTime (-1023)', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/userTrades', {
      symbol: S,
      startTime: String(now),
      endTime: String(now - DAY),
    });
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe(-1023);
  });
});

describe('GET /fapi/v1/allOrders', () => {
  it('refuses a startTime..endTime window longer than 7 days', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/allOrders', {
      symbol: S,
      startTime: String(now - 8 * DAY),
      endTime: String(now),
    });
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe(-1127);
  });
});

describe('GET /fapi/v1/allAlgoOrders', () => {
  /** A stop-market sell 10 % under the market: rests without triggering. */
  function farStop(): Record<string, string> {
    const trigger = sim.market.lastPrice(S).mul(Decimal.parse('0.9')).rescale(1, 'down');
    return {
      algoType: 'CONDITIONAL',
      symbol: S,
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: '0.01',
      triggerPrice: trigger.toString(),
    };
  }

  it('returns the most recent algo orders when neither algoId nor a time is sent', async () => {
    const first = await call('POST', '/fapi/v1/algoOrder', farStop());
    const second = await call('POST', '/fapi/v1/algoOrder', farStop());
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const newest = (second.body as { algoId: number }).algoId;
    const reply = await call('GET', '/fapi/v1/allAlgoOrders', { symbol: S, limit: '1' });
    expect(reply.status).toBe(200);
    expect((reply.body as { algoId: number }[]).map((a) => a.algoId)).toEqual([newest]);
  });

  it('refuses a startTime..endTime window longer than 7 days', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/allAlgoOrders', {
      symbol: S,
      startTime: String(now - 8 * DAY),
      endTime: String(now),
    });
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe(-1127);
  });
});

describe('GET /fapi/v1/income', () => {
  it('writes tranIds beyond 2^53 as bare JSON numbers, as Binance does, and our decoder keeps every digit', async () => {
    const query = signedQuery(SECRET, { timestamp: sim.clock.now() });
    const response = await fetch(`${sim.restUrl}/fapi/v1/income?${query}`, {
      headers: { 'X-MBX-APIKEY': KEY },
    });
    const text = await response.text();
    const bare = [...text.matchAll(/"tranId":(\d+)[,}]/g)].map((m) => m[1]);
    expect(bare.length).toBeGreaterThan(0);
    expect(bare.every((id) => id !== undefined && !Number.isSafeInteger(Number(id)))).toBe(true);
    const decoded = decodeIncomes(parseJson(Buffer.from(text))).map((row) => row.tranId);
    expect(decoded).toEqual(bare);
    expect(new Set(decoded).size).toBe(decoded.length);
  });
});
