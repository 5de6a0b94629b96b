// The default window of the history endpoints: with no startTime and no endTime, Binance serves
// the last 7 days. The simulator's clock is moved 8 days ahead (the skew fault), so the rows made
// before are older than any default window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedSim, startSignedSim } from './testing/signed-calls.js';

const S = 'BTCUSDT';
const DAY = 86_400_000;

let signed: SignedSim;
const call = (method: string, path: string, params: Record<string, string>) =>
  signed.call(method, path, params);

beforeAll(async () => {
  signed = await startSignedSim(3, [S]);
  const placed = await call('POST', '/fapi/v1/order', {
    symbol: S,
    side: 'BUY',
    type: 'MARKET',
    quantity: '0.01',
  });
  expect(placed.status).toBe(200);
  signed.sim.clock.setSkew(8 * DAY);
});

afterAll(async () => {
  await signed?.stop();
});

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
