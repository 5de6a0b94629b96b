// POST /fapi/v1/algoOrder's priceMatch, selfTradePreventionMode and workingType, as Binance's USD-M
// New Algo Order page documents them: priceMatch only on STOP / TAKE_PROFIT and never with a price;
// the STP mode kept and shown; an unknown working type refused with -4031.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import type { RunningSimulator } from './simulator.js';
import { type SignedSim, startSignedSim } from './testing/signed-calls.js';

const S = 'BTCUSDT';

let signed: SignedSim;
let sim: RunningSimulator;
const call = async (method: string, path: string, params: Record<string, string>) => {
  const reply = await signed.call(method, path, params);
  return { ...reply, body: reply.body as Record<string, unknown> };
};

beforeAll(async () => {
  signed = await startSignedSim(5, [S]);
  sim = signed.sim;
});

afterAll(async () => {
  await signed?.stop();
});

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
