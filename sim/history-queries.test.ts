// The history endpoints' time windows and ordering, as Binance's USD-M documentation gives them:
// userTrades, allOrders and allAlgoOrders serve at most 7 days between startTime and endTime (-1127),
// refuse a start after the end (-1023), and without an id cursor return the most recent rows;
// userTrades refuses fromId combined with a time (-1128).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import { parseJson } from '../ts/exchange/json-shape.js';
import { decodeIncomes } from '../ts/exchange/usdm-decoders.js';
import type { RunningSimulator } from './simulator.js';
import { type SignedSim, startSignedSim } from './testing/signed-calls.js';

const S = 'BTCUSDT';
const DAY = 86_400_000;

let signed: SignedSim;
let sim: RunningSimulator;
const call = (method: string, path: string, params: Record<string, string> = {}) =>
  signed.call(method, path, params);

beforeAll(async () => {
  signed = await startSignedSim(7, [S]);
  sim = signed.sim;
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
  await signed?.stop();
});

describe.each(['/fapi/v1/userTrades', '/fapi/v1/allOrders', '/fapi/v1/allAlgoOrders'])('GET %s', (path) => {
  it('refuses a startTime..endTime window longer than 7 days (-1127)', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', path, {
      symbol: S,
      startTime: String(now - 8 * DAY),
      endTime: String(now),
    });
    expect(reply.status).toBe(400);
    expect(reply.code).toBe(-1127);
  });
});

describe('GET /fapi/v1/userTrades', () => {
  it('refuses fromId sent together with startTime (documented: cannot be sent together)', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/userTrades', {
      symbol: S,
      fromId: '1',
      startTime: String(now - DAY),
    });
    expect(reply.status).toBe(400);
    expect(reply.code).toBe(-1128);
  });

  it('refuses startTime after endTime (-1023)', async () => {
    const now = sim.clock.now();
    const reply = await call('GET', '/fapi/v1/userTrades', {
      symbol: S,
      startTime: String(now),
      endTime: String(now - DAY),
    });
    expect(reply.status).toBe(400);
    expect(reply.code).toBe(-1023);
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
});

describe('GET /fapi/v1/income', () => {
  it('writes tranIds beyond 2^53 as bare JSON numbers, as Binance does, and our decoder keeps every digit', async () => {
    const { text } = await call('GET', '/fapi/v1/income');
    const bare = [...text.matchAll(/"tranId":(\d+)[,}]/g)].map((m) => m[1]);
    expect(bare.length).toBeGreaterThan(0);
    expect(bare.every((id) => id !== undefined && !Number.isSafeInteger(Number(id)))).toBe(true);
    const decoded = decodeIncomes(parseJson(Buffer.from(text))).map((row) => row.tranId);
    expect(decoded).toEqual(bare);
    expect(new Set(decoded).size).toBe(decoded.length);
  });
});
