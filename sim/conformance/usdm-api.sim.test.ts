// Integration: every UsdmApi endpoint against the built-in simulator, including its fault injection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { IpBannedError, isOutcomeUnknown } from '../../ts/exchange/exchange-errors.js';
import { parseJson } from '../../ts/exchange/json-shape.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { decodeIncomes, decodeRateLimits } from '../../ts/exchange/usdm-decoders.js';
import { silentLogger } from '../../ts/log/logger.js';
import {
  parseAccount,
  parsePositionRisk,
  parseRestBookTickers,
  parseRestKlines,
} from '../../ts/native/parse.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';
import { DEMO_API_KEY, DEMO_API_SECRET } from '../simulator-config.js';

const SYMBOL = 'BTCUSDT';
let sim: RunningSimulator;
let rest: RestClient;
let api: UsdmApi;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, accounts: [{ apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET }] });
  rest = new RestClient(
    { baseUrl: sim.restUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, retries: { baseDelayMs: 50 } },
    { logger: silentLogger() },
  );
  api = new UsdmApi(rest, { logger: silentLogger() });
});

afterAll(async () => {
  rest?.close();
  await sim?.stop();
});

function text(body: Buffer): string {
  return body.toString('utf8');
}

/** Quantity worth ~`usdt` at the last price, on BTCUSDT's 0.001 step. */
async function quantityFor(usdt: number): Promise<{ qty: Decimal; last: Decimal }> {
  const [tick] = parseRestBookTickers((await api.bookTicker({ symbol: SYMBOL })).body);
  if (tick === undefined) throw new Error('no book ticker');
  const last = Decimal.parse(tick.tick.ask);
  const qty = Decimal.fromInt(usdt).div(last, 3, 'up');
  return { qty, last };
}

describe('UsdmApi against the simulator', () => {
  it('serves market data as bytes the native parsers accept', async () => {
    const info = await api.exchangeInfo();
    const limits = decodeRateLimits(parseJson(info.body));
    expect(limits.find((l) => l.rateLimitType === 'REQUEST_WEIGHT')?.limit).toBe(2400);
    const serverTime = await api.serverTime();
    expect(Math.abs(serverTime - Date.now())).toBeLessThan(5_000);

    const klines = await api.klines({ symbol: SYMBOL, interval: '1m', limit: 45 });
    expect(klines.weight).toBe(1);
    expect(klines.usage.usedWeight1m).toBeGreaterThan(0);
    const bars = parseRestKlines(klines.body, klines.serverTimeMs);
    expect(bars.length).toBe(JSON.parse(text(klines.body)).length);

    expect(Array.isArray(JSON.parse(text((await api.aggTrades({ symbol: SYMBOL, limit: 10 })).body)))).toBe(
      true,
    );
    expect(JSON.parse(text((await api.depth({ symbol: SYMBOL, limit: 5 })).body))).toHaveProperty('bids');
    expect(parseRestBookTickers((await api.bookTicker()).body).length).toBeGreaterThan(1);
    expect(JSON.parse(text((await api.ticker24h({ symbol: SYMBOL })).body))).toHaveProperty('volume');
    expect(JSON.parse(text((await api.premiumIndex({ symbol: SYMBOL })).body))).toHaveProperty('markPrice');
    expect(Array.isArray(JSON.parse(text((await api.fundingRateHistory({ symbol: SYMBOL })).body)))).toBe(
      true,
    );
  });

  it('applies contract settings', async () => {
    expect((await api.setLeverage(SYMBOL, 5)).leverage).toBe(5);
    const margin = await api.setMarginType(SYMBOL, 'CROSSED');
    expect(typeof margin.changed).toBe('boolean');
    expect(await api.setPositionMode(false)).toBeDefined();
    expect(await api.getPositionMode()).toBe(false);
    const rate = await api.commissionRate(SYMBOL);
    expect(rate.symbol).toBe(SYMBOL);
    expect(rate.takerCommissionRate.sign()).toBeGreaterThanOrEqual(0);
  });

  it('places, queries and cancels orders and reads fills, income and the account', async () => {
    const { qty, last } = await quantityFor(500);
    const filled = await api.newOrder({ symbol: SYMBOL, side: 'BUY', type: 'MARKET', quantity: qty });
    expect(filled.symbol).toBe(SYMBOL);
    const queried = await api.queryOrder({ symbol: SYMBOL, origClientOrderId: filled.clientOrderId });
    expect(queried.orderId).toBe(filled.orderId);
    const trades = await api.userTrades({ symbol: SYMBOL });
    expect(trades.some((t) => t.orderId === filled.orderId)).toBe(true);

    const farPrice = last.mul(Decimal.parse('0.8')).snap(Decimal.parse('0.1'), 'down');
    const resting = await api.newOrder({
      symbol: SYMBOL,
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: qty,
      price: farPrice,
    });
    expect((await api.openOrders({ symbol: SYMBOL })).map((o) => o.orderId)).toContain(resting.orderId);
    const cancelled = await api.cancelOrder({ symbol: SYMBOL, orderId: resting.orderId });
    expect(cancelled.status).toBe('CANCELED');
    await api.newOrder({
      symbol: SYMBOL,
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: qty,
      price: farPrice,
    });
    expect((await api.cancelAllOrders(SYMBOL)).code).toBe(200);
    expect(await api.openOrders({ symbol: SYMBOL })).toHaveLength(0);
    const all = await api.allOrders({ symbol: SYMBOL });
    expect(all.length).toBeGreaterThanOrEqual(3);

    const account = parseAccount((await api.accountV3()).body);
    expect(account).toBeDefined();
    expect(JSON.parse(text((await api.accountV2()).body))).toHaveProperty('assets');
    expect(Array.isArray(JSON.parse(text((await api.balanceV3()).body)))).toBe(true);
    expect(Array.isArray(JSON.parse(text((await api.balanceV2()).body)))).toBe(true);
    const positions = parsePositionRisk((await api.positionRiskV3({ symbol: SYMBOL })).body);
    expect(positions.length).toBeGreaterThan(0);
    expect(Array.isArray(JSON.parse(text((await api.positionRiskV2()).body)))).toBe(true);
    const income = decodeIncomes(parseJson((await api.income({ symbol: SYMBOL })).body));
    expect(income.some((i) => i.incomeType === 'COMMISSION')).toBe(true);
  });

  it('places, lists and cancels conditional orders through algoOrder', async () => {
    const { qty, last } = await quantityFor(200);
    const trigger = last.mul(Decimal.parse('0.9')).snap(Decimal.parse('0.1'), 'down');
    const stop = await api.newAlgoOrder({
      symbol: SYMBOL,
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: qty,
      triggerPrice: trigger,
      reduceOnly: true,
    });
    expect(stop.algoStatus).toBe('NEW');
    expect((await api.queryAlgoOrder({ clientAlgoId: stop.clientAlgoId })).algoId).toBe(stop.algoId);
    expect((await api.openAlgoOrders({ symbol: SYMBOL })).map((a) => a.algoId)).toContain(stop.algoId);
    const cancelled = await api.cancelAlgoOrder({ algoId: stop.algoId });
    expect(cancelled.algoId).toBe(stop.algoId);
    await api.newAlgoOrder({
      symbol: SYMBOL,
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: qty,
      triggerPrice: trigger,
      reduceOnly: true,
    });
    expect((await api.cancelAllAlgoOrders(SYMBOL)).code).toBe(200);
    expect(await api.openAlgoOrders({ symbol: SYMBOL })).toHaveLength(0);
    expect((await api.allAlgoOrders({ symbol: SYMBOL })).length).toBeGreaterThanOrEqual(2);
  });

  it('creates, keeps alive and closes a listen key', async () => {
    const key = await api.createListenKey();
    expect(key.length).toBeGreaterThan(10);
    await api.keepAliveListenKey(key);
    await api.closeListenKey(key);
  });
});

describe('UsdmApi against simulator faults', () => {
  it('503 unknown on a placed order: the answer is lost but the order exists under its client id', async () => {
    const { qty, last } = await quantityFor(200);
    const before = (await api.allOrders({ symbol: SYMBOL })).length;
    sim.faults.apply({ unknownStatusNextOrders: 1 });
    const price = last.mul(Decimal.parse('0.8')).snap(Decimal.parse('0.1'), 'down');
    const error = await api
      .newOrder({
        symbol: SYMBOL,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: qty,
        price,
        newClientOrderId: 'conf_503_1',
      })
      .catch((e: unknown) => e);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(sim.faults.snapshot()).toMatchObject({ unknownStatusNextOrders: 0, served: { unknownStatus: 1 } });
    expect((await api.allOrders({ symbol: SYMBOL })).length).toBe(before + 1);
    expect((await api.queryOrder({ symbol: SYMBOL, origClientOrderId: 'conf_503_1' })).status).toBe('NEW');
    await api.cancelAllOrders(SYMBOL);
  });

  it('resyncs on clock skew (-1021) and succeeds', async () => {
    sim.faults.apply({ clockSkewMs: 30_000 });
    try {
      const response = await api.accountV3();
      expect(response.status).toBe(200);
      expect(Math.abs(rest.clock.offsetMs - 30_000)).toBeLessThan(2_000);
    } finally {
      sim.faults.apply({ clockSkewMs: 0 });
      await rest.syncTime();
    }
  });

  it('waits out a 429 Retry-After and retries a read', async () => {
    sim.faults.apply({ rateLimitNextRequests: 1 });
    const started = Date.now();
    const response = await api.depth({ symbol: SYMBOL, limit: 5 });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('stops on 418 with IpBannedError', async () => {
    sim.faults.apply({ banForMs: 1_000 });
    await expect(api.depth({ symbol: SYMBOL, limit: 5 })).rejects.toBeInstanceOf(IpBannedError);
    sim.faults.apply({ reset: true });
    const started = Date.now();
    await api.depth({ symbol: SYMBOL, limit: 5 }); // held by the client until the ban's Retry-After
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });
});
