// POST /fapi/v1/algoOrder's priceMatch, selfTradePreventionMode and workingType, as Binance's USD-M
// New Algo Order page documents them: priceMatch only on STOP / TAKE_PROFIT and never with a price;
// the STP mode kept and shown; an unknown working type refused with -4031.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import { signedQuery } from './server/request-signature.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const KEY = 'algo-params-key';
const SECRET = 'algo-params-secret';
const S = 'BTCUSDT';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: KEY, apiSecret: SECRET, balances: { USDT: '10000000' } }],
    symbols: [S],
    seed: 5,
    limits: { ordersPer10s: 100_000, ordersPerMinute: 100_000, requestWeightPerMinute: 1_000_000 },
  });
});

afterAll(async () => {
  await sim?.stop();
});

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(method: string, path: string, params: Record<string, string>): Promise<Reply> {
  const query = signedQuery(SECRET, { ...params, timestamp: sim.clock.now() });
  const response = await fetch(`${sim.restUrl}${path}?${query}`, {
    method,
    headers: { 'X-MBX-APIKEY': KEY },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A STOP (limit) buy triggered 10 % above the market: rests without triggering. */
function farStopBuy(): Record<string, string> {
  const trigger = sim.market.lastPrice(S).mul(Decimal.parse('1.1')).rescale(1, 'down');
  return {
    algoType: 'CONDITIONAL',
    symbol: S,
    side: 'BUY',
    type: 'STOP',
    quantity: '0.01',
    triggerPrice: trigger.toString(),
  };
}

describe('POST /fapi/v1/algoOrder priceMatch', () => {
  it('accepts a STOP order priced by priceMatch instead of price', async () => {
    const reply = await call('POST', '/fapi/v1/algoOrder', { ...farStopBuy(), priceMatch: 'OPPONENT' });
    expect(reply.body).not.toHaveProperty('code');
    expect(reply.status).toBe(200);
    expect(reply.body.priceMatch).toBe('OPPONENT');
  });

  it('refuses priceMatch sent together with price', async () => {
    const price = sim.market.lastPrice(S).rescale(1, 'down').toString();
    const reply = await call('POST', '/fapi/v1/algoOrder', {
      ...farStopBuy(),
      price,
      priceMatch: 'OPPONENT',
    });
    expect(reply.status).toBe(400);
  });
});

describe('POST /fapi/v1/algoOrder selfTradePreventionMode', () => {
  it('keeps the mode it was sent (the response does not say NONE)', async () => {
    const price = sim.market.lastPrice(S).rescale(1, 'down').toString();
    const reply = await call('POST', '/fapi/v1/algoOrder', {
      ...farStopBuy(),
      price,
      selfTradePreventionMode: 'EXPIRE_TAKER',
    });
    expect(reply.body).not.toHaveProperty('code');
    expect(reply.status).toBe(200);
    expect(reply.body.selfTradePreventionMode).toBe('EXPIRE_TAKER');
  });
});

describe('POST /fapi/v1/algoOrder workingType', () => {
  it('refuses an unknown workingType with -4031', async () => {
    const price = sim.market.lastPrice(S).rescale(1, 'down').toString();
    const reply = await call('POST', '/fapi/v1/algoOrder', {
      ...farStopBuy(),
      price,
      workingType: 'INDEX_PRICE',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe(-4031);
  });
});
