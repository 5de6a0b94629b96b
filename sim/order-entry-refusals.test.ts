// Order entry over real HTTP: enum values Binance refuses with their own codes, the MAX_NUM_ORDERS
// filter exchangeInfo states, and the isolated-margin leverage rule. Codes and messages are those of
// Binance's USD-M error-code page (-1117, -4060, -1136, -2025, -4161).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import { signedQuery } from './server/request-signature.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const KEY = 'entry-key';
const SECRET = 'entry-secret';
const KEY_ISO = 'entry-iso-key';
const SECRET_ISO = 'entry-iso-secret';
const S = 'BTCUSDT';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [
      { apiKey: KEY, apiSecret: SECRET, balances: { USDT: '100000000' } },
      { apiKey: KEY_ISO, apiSecret: SECRET_ISO, balances: { USDT: '1000000' } },
    ],
    symbols: [S],
    seed: 11,
    limits: { ordersPer10s: 100_000, ordersPerMinute: 100_000, requestWeightPerMinute: 1_000_000 },
  });
});

afterAll(async () => {
  await sim?.stop();
});

interface Reply {
  readonly status: number;
  readonly body: { code?: number; msg?: string } & Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  params: Record<string, string>,
  key = KEY,
  secret = SECRET,
): Promise<Reply> {
  const query = signedQuery(secret, { ...params, timestamp: sim.clock.now() });
  const response = await fetch(`${sim.restUrl}${path}?${query}`, {
    method,
    headers: { 'X-MBX-APIKEY': key },
  });
  return { status: response.status, body: (await response.json()) as Reply['body'] };
}

/** A resting bid 3 % under the market, on the 0.1 tick grid. */
function restingBid(): Record<string, string> {
  const bid = sim.market.lastPrice(S).mul(Decimal.parse('0.97')).rescale(1, 'down');
  return {
    symbol: S,
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.002',
    price: bid.toString(),
  };
}

describe('enum values Binance names its own code for', () => {
  it('an unknown side → 400 -1117 Invalid side.', async () => {
    const reply = await call('POST', '/fapi/v1/order', { ...restingBid(), side: 'LONG' });
    expect(reply).toEqual({ status: 400, body: { code: -1117, msg: 'Invalid side.' } });
  });

  it('an unknown positionSide → 400 -4060 Invalid position side.', async () => {
    const reply = await call('POST', '/fapi/v1/order', { ...restingBid(), positionSide: 'UP' });
    expect(reply).toEqual({ status: 400, body: { code: -4060, msg: 'Invalid position side.' } });
  });

  it('an unknown newOrderRespType → 400 -1136 Invalid newOrderRespType.', async () => {
    const reply = await call('POST', '/fapi/v1/order', { ...restingBid(), newOrderRespType: 'FULL' });
    expect(reply).toEqual({ status: 400, body: { code: -1136, msg: 'Invalid newOrderRespType.' } });
  });

  it('the same codes inside a batch, order by order', async () => {
    const batch = JSON.stringify([
      { ...restingBid(), side: 'sell' },
      { ...restingBid(), positionSide: 'NONE' },
    ]);
    const reply = await call('POST', '/fapi/v1/batchOrders', { batchOrders: batch });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual([
      { code: -1117, msg: 'Invalid side.' },
      { code: -4060, msg: 'Invalid position side.' },
    ]);
  });

  it('nothing was placed by the refused requests', async () => {
    const open = await call('GET', '/fapi/v1/openOrders', { symbol: S });
    expect(open.body).toEqual([]);
  });
});

describe("exchangeInfo's MAX_NUM_ORDERS", () => {
  it('refuses the order past the limit with 400 -2025 and places it again once one is canceled', async () => {
    const info = (await (await fetch(`${sim.restUrl}/fapi/v1/exchangeInfo`)).json()) as {
      symbols: { symbol: string; filters: { filterType: string; limit?: number }[] }[];
    };
    const limit = info.symbols
      .find((s) => s.symbol === S)
      ?.filters.find((f) => f.filterType === 'MAX_NUM_ORDERS')?.limit;
    expect(limit).toBe(200);
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) {
      const placed = await call('POST', '/fapi/v1/order', restingBid());
      expect(placed.status).toBe(200);
      ids.push(placed.body.orderId as number);
    }
    const over = await call('POST', '/fapi/v1/order', restingBid());
    expect(over).toEqual({ status: 400, body: { code: -2025, msg: 'Reach max open order limit.' } });
    const batch = await call('POST', '/fapi/v1/batchOrders', { batchOrders: JSON.stringify([restingBid()]) });
    expect(batch.body).toEqual([{ code: -2025, msg: 'Reach max open order limit.' }]);
    expect(
      ((await call('GET', '/fapi/v1/openOrders', { symbol: S })).body as unknown as unknown[]).length,
    ).toBe(200);
    expect((await call('DELETE', '/fapi/v1/order', { symbol: S, orderId: String(ids[0]) })).status).toBe(200);
    expect((await call('POST', '/fapi/v1/order', restingBid())).status).toBe(200);
    expect((await call('DELETE', '/fapi/v1/allOpenOrders', { symbol: S })).status).toBe(200);
  });
});

describe('leverage under isolated margin', () => {
  it('refuses a lower leverage while an isolated position is open (-4161), allows a higher one', async () => {
    const iso = (method: string, path: string, params: Record<string, string>) =>
      call(method, path, params, KEY_ISO, SECRET_ISO);
    expect((await iso('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' })).status).toBe(
      200,
    );
    expect((await iso('POST', '/fapi/v1/leverage', { symbol: S, leverage: '10' })).status).toBe(200);
    const opened = await iso('POST', '/fapi/v1/order', {
      symbol: S,
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.01',
    });
    expect(opened.status).toBe(200);
    const lower = await iso('POST', '/fapi/v1/leverage', { symbol: S, leverage: '5' });
    expect(lower).toEqual({
      status: 400,
      body: {
        code: -4161,
        msg: 'Leverage reduction is not supported in Isolated Margin Mode with open positions',
      },
    });
    const risk = await iso('GET', '/fapi/v2/positionRisk', { symbol: S });
    expect((risk.body as unknown as { leverage: string }[])[0]?.leverage).toBe('10');
    expect((await iso('POST', '/fapi/v1/leverage', { symbol: S, leverage: '20' })).status).toBe(200);
  });
});
