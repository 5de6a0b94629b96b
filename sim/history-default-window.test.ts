// The default window of the history endpoints: with no startTime and no endTime, Binance serves
// the last 7 days. The simulator's clock is moved 8 days ahead (the skew fault), so the rows made
// before are older than any default window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedQuery } from './server/request-signature.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const KEY = 'window-key';
const SECRET = 'window-secret';
const S = 'BTCUSDT';
const DAY = 86_400_000;

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: KEY, apiSecret: SECRET, balances: { USDT: '10000000' } }],
    symbols: [S],
    seed: 3,
    limits: { ordersPer10s: 100_000, ordersPerMinute: 100_000, requestWeightPerMinute: 1_000_000 },
  });
  const placed = await call('POST', '/fapi/v1/order', {
    symbol: S,
    side: 'BUY',
    type: 'MARKET',
    quantity: '0.01',
  });
  expect(placed.status).toBe(200);
  sim.clock.setSkew(8 * DAY);
});

afterAll(async () => {
  await sim?.stop();
});

async function call(method: string, path: string, params: Record<string, string>) {
  const query = signedQuery(SECRET, { ...params, timestamp: sim.clock.now() });
  const response = await fetch(`${sim.restUrl}${path}?${query}`, {
    method,
    headers: { 'X-MBX-APIKEY': KEY },
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('no startTime/endTime: only the last 7 days', () => {
  it('GET /fapi/v1/userTrades leaves out a fill 8 days old', async () => {
    const reply = await call('GET', '/fapi/v1/userTrades', { symbol: S });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual([]);
  });

  it('GET /fapi/v1/allOrders leaves out an order 8 days old', async () => {
    const reply = await call('GET', '/fapi/v1/allOrders', { symbol: S });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual([]);
  });
});
