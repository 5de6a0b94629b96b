// The simulator's market control (`POST /_sim/market`): a price jump moves last and mark prices and triggers conditional orders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';
import { signedQuery } from './request-signature.js';

const API_KEY = 'market-control-key';
const API_SECRET = 'market-control-secret';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: API_KEY, apiSecret: API_SECRET, balances: { USDT: '100000' } }],
    symbols: ['BTCUSDT', 'ETHUSDT'],
    seed: 3,
  });
});

afterAll(async () => {
  await sim?.stop();
});

async function move(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${sim.restUrl}/_sim/market`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function signed(method: string, path: string, params: Record<string, string>): Promise<Response> {
  const query = signedQuery(API_SECRET, { ...params, timestamp: sim.clock.now() });
  return fetch(`${sim.restUrl}${path}?${query}`, { method, headers: { 'X-MBX-APIKEY': API_KEY } });
}

describe('POST /_sim/market', () => {
  it('moves last and mark prices to the requested price on the tick grid', async () => {
    const before = sim.market.lastPrice('ETHUSDT');
    const target = before.mul(Decimal.parse('0.93')).div(Decimal.ONE, 4);
    const answer = await move({ symbol: 'ETHUSDT', price: target.toString() });
    expect(answer.status).toBe(200);
    const moved = Decimal.parse(answer.body.price as string);
    const tick = sim.market.spec('ETHUSDT')?.tickSize as Decimal;
    expect(moved.isMultipleOf(tick)).toBe(true);
    expect(moved.sub(target).abs().lte(tick)).toBe(true);
    expect(sim.market.lastPrice('ETHUSDT').eq(moved)).toBe(true);
    // The mark is a median of index, mid and last: all three moved with the touch.
    const mark = sim.market.markPrice('ETHUSDT');
    expect(
      mark
        .sub(moved)
        .abs()
        .lte(moved.mul(Decimal.parse('0.001'))),
    ).toBe(true);
    const ticker = (await (await fetch(`${sim.restUrl}/fapi/v1/ticker/price?symbol=ETHUSDT`)).json()) as {
      price: string;
    };
    expect(Decimal.parse(ticker.price).eq(moved)).toBe(true);
  });

  it('triggers a waiting stop when the price jumps through it', async () => {
    await signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.01',
    });
    const last = sim.market.lastPrice('BTCUSDT');
    const trigger = last.mul(Decimal.parse('0.95')).snap(Decimal.parse('0.1'), 'ceil');
    const placed = await signed('POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL',
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: '0.01',
      triggerPrice: trigger.toString(),
      reduceOnly: 'true',
      clientAlgoId: 'control-stop-1',
    });
    expect(placed.status).toBe(200);
    expect(
      (await move({ symbol: 'BTCUSDT', price: last.mul(Decimal.parse('0.93')).toFixed(1) })).status,
    ).toBe(200);
    await waitUntil(
      () => sim.engine.accountTruth('account-1').positions.every((p) => p.symbol !== 'BTCUSDT'),
      'the stop closed the position',
      5000,
    );
    expect(sim.engine.accountTruth('account-1').openAlgoOrders).toBe(0);
  });

  it('refuses an unknown symbol, a bad price and a body that is not JSON', async () => {
    expect((await move({ symbol: 'NOPEUSDT', price: '1' })).status).toBe(400);
    expect((await move({ symbol: 'BTCUSDT', price: '-1' })).status).toBe(400);
    expect((await move({ symbol: 'BTCUSDT', price: 93000 })).status).toBe(400);
    const r = await fetch(`${sim.restUrl}/_sim/market`, { method: 'POST', body: '{' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { code: number }).code).toBe(-1130);
  });
});
