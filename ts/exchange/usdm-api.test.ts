// Tests of the typed USD-M API: raw hand-off, decoding, and order calls that are each sent exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { silentLogger } from '../log/logger.js';
import { CLIENT_ORDER_ID_PATTERN } from './client-order-id.js';
import {
  BinanceApiError,
  InvalidRequestError,
  isOutcomeUnknown,
  MalformedResponseError,
} from './exchange-errors.js';
import { RestClient } from './rest-client.js';
import { algoJson, orderJson } from './testing/order-json.js';
import type { ScriptedReply } from './testing/scripted-server.js';
import { ScriptedServer } from './testing/scripted-server.js';
import { VirtualScheduler } from './testing/virtual-scheduler.js';
import { UsdmApi } from './usdm-api.js';

const START = Date.UTC(2026, 0, 5, 10, 0, 0) + 1_000;
const UNKNOWN_503: ScriptedReply = {
  status: 503,
  body: { code: -1007, msg: 'Unknown error, please check your request or try again later.' },
};

let server: ScriptedServer;
let rest: RestClient | null = null;

afterEach(async () => {
  rest?.close();
  rest = null;
  await server?.close();
});

async function api(): Promise<{ api: UsdmApi; clock: VirtualScheduler }> {
  server = await ScriptedServer.start();
  const clock = new VirtualScheduler(START);
  server.on('GET', '/fapi/v1/time', () => ({ body: { serverTime: clock.now() } }));
  rest = new RestClient(
    {
      baseUrl: server.url,
      apiKey: 'k',
      apiSecret: 's',
      timeouts: { requestMs: 300 },
      retries: { baseDelayMs: 1 },
    },
    { scheduler: clock, logger: silentLogger() },
  );
  return { api: new UsdmApi(rest, { logger: silentLogger() }), clock };
}

const limitBuy = {
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTX',
  quantity: Decimal.parse('0.010'),
  price: Decimal.parse('90000.10'),
} as const;

describe('UsdmApi market data and polls', () => {
  it('returns the body bytes untouched with status, weight and usage for the native parsers', async () => {
    const { api: a } = await api();
    const body =
      '[[1591258320000,"9640.7","9642.4","9640.6","9642.0","206",1591258379999,"1986688.6",74,"148","1427021.2","0"]]';
    server.on('GET', '/fapi/v1/klines', () => ({ headers: { 'X-MBX-USED-WEIGHT-1M': '12' }, body }));
    const response = await a.klines({ symbol: 'BTCUSDT', interval: '1m', limit: 45 });
    expect(response.body.toString('utf8')).toBe(body);
    expect(response.status).toBe(200);
    expect(response.weight).toBe(1);
    expect(response.usage.usedWeight1m).toBe(12);
    expect(response.serverTimeMs).toBe(START);
  });

  it('sends account polls signed and hands back the bytes', async () => {
    const { api: a } = await api();
    server.on('GET', '/fapi/v3/positionRisk', () => ({ body: '[]' }));
    const response = await a.positionRiskV3({ symbol: 'ETHUSDT' });
    expect(response.body.toString()).toBe('[]');
    expect(server.requestsTo('/fapi/v3/positionRisk')[0]?.params.get('signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses bad symbols before sending', async () => {
    const { api: a } = await api();
    await expect(a.depth({ symbol: 'btc usdt' })).rejects.toBeInstanceOf(InvalidRequestError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('UsdmApi orders', () => {
  it('places an order with a generated client order id and decodes it exactly', async () => {
    const { api: a } = await api();
    server.on('POST', '/fapi/v1/order', (r) => ({ body: orderJson(r.params) }));
    const placed = await a.newOrder(limitBuy);
    const [sent] = server.requestsTo('/fapi/v1/order', 'POST');
    const id = sent?.params.get('newClientOrderId') ?? '';
    expect(id).toMatch(CLIENT_ORDER_ID_PATTERN);
    expect(sent?.params.get('price')).toBe('90000.10');
    expect(sent?.params.get('quantity')).toBe('0.010');
    expect(placed.clientOrderId).toBe(id);
    expect(placed.price.toString()).toBe('90000.10');
    expect(placed.origQty.eq(Decimal.parse('0.01'))).toBe(true);
    expect(placed.status).toBe('NEW');
  });

  it('sends an order once: a 503 unknown reaches the caller as an unknown outcome, with the client id sent', async () => {
    const { api: a } = await api();
    server.on('POST', '/fapi/v1/order', () => UNKNOWN_503);
    const error = await a.newOrder({ ...limitBuy, newClientOrderId: 'm_once-1' }).catch((e: unknown) => e);
    expect(isOutcomeUnknown(error)).toBe(true);
    const posts = server.requestsTo('/fapi/v1/order', 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.params.get('newClientOrderId')).toBe('m_once-1');
    expect(server.requestsTo('/fapi/v1/order', 'GET')).toHaveLength(0);
  });

  it('does not retry definite rejections', async () => {
    const { api: a } = await api();
    server.on('POST', '/fapi/v1/order', () => ({
      status: 400,
      body: { code: -2019, msg: 'Margin is insufficient.' },
    }));
    const error = await a.newOrder(limitBuy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BinanceApiError);
    expect(error).toMatchObject({ code: -2019 });
    expect(server.requests.filter((r) => r.path === '/fapi/v1/order')).toHaveLength(1);
  });

  it('rejects a malformed order answer with a typed error', async () => {
    const { api: a } = await api();
    server.on('POST', '/fapi/v1/order', (r) => ({ body: { ...orderJson(r.params), price: 90000.1 } }));
    const error = await a.newOrder(limitBuy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(String(error)).toContain('$.price');
  });

  it('decodes openOrders, userTrades and settings answers', async () => {
    const { api: a } = await api();
    server.on('GET', '/fapi/v1/openOrders', (r) => ({ body: [orderJson(r.params)] }));
    server.on('GET', '/fapi/v1/userTrades', () => ({
      body: [
        {
          buyer: false,
          commission: '-0.07819010',
          commissionAsset: 'USDT',
          id: 698759,
          maker: false,
          orderId: 25851813,
          price: '7819.01',
          qty: '0.002',
          quoteQty: '15.63802',
          realizedPnl: '-0.91539999',
          side: 'SELL',
          positionSide: 'SHORT',
          symbol: 'BTCUSDT',
          time: 1569514978020,
        },
      ],
    }));
    server.on('POST', '/fapi/v1/marginType', () => ({
      status: 400,
      body: { code: -4046, msg: 'No need to change margin type.' },
    }));
    server.on('POST', '/fapi/v1/leverage', () => ({
      body: { leverage: 21, maxNotionalValue: '1000000', symbol: 'BTCUSDT' },
    }));
    server.on('GET', '/fapi/v1/positionSide/dual', () => ({ body: { dualSidePosition: true } }));
    server.on('GET', '/fapi/v1/commissionRate', () => ({
      body: { symbol: 'BTCUSDT', makerCommissionRate: '0.0002', takerCommissionRate: '0.0004' },
    }));
    expect(await a.openOrders({ symbol: 'BTCUSDT' })).toHaveLength(1);
    const [trade] = await a.userTrades({ symbol: 'BTCUSDT', limit: 10 });
    expect(trade?.realizedPnl.toString()).toBe('-0.91539999');
    expect(await a.setMarginType('BTCUSDT', 'CROSSED')).toEqual({ changed: false });
    expect((await a.setLeverage('BTCUSDT', 21)).leverage).toBe(21);
    expect(await a.getPositionMode()).toBe(true);
    expect((await a.commissionRate('BTCUSDT')).takerCommissionRate.toString()).toBe('0.0004');
  });
});

describe('UsdmApi algo orders and listen keys', () => {
  it('cancels an algo order and lists open ones', async () => {
    const { api: a } = await api();
    server.on('DELETE', '/fapi/v1/algoOrder', (r) => ({
      body: { algoId: 2146760, clientAlgoId: r.params.get('clientAlgoId'), code: '200', msg: 'success' },
    }));
    server.on('GET', '/fapi/v1/openAlgoOrders', (r) => ({ body: [algoJson(r.params)] }));
    const cancelled = await a.cancelAlgoOrder({ clientAlgoId: 'sl_1' });
    expect(cancelled).toEqual({ algoId: 2146760, clientAlgoId: 'sl_1', algoStatus: null });
    expect(await a.openAlgoOrders()).toHaveLength(1);
    expect(server.requestsTo('/fapi/v1/openAlgoOrders')[0]?.params.has('symbol')).toBe(false);
  });

  it('creates, keeps alive and closes a listen key with the API key and no signature', async () => {
    const { api: a } = await api();
    const key = 'pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1';
    server.on('POST', '/fapi/v1/listenKey', () => ({ body: { listenKey: key } }));
    server.on('PUT', '/fapi/v1/listenKey', () => ({ body: { listenKey: key } }));
    server.on('DELETE', '/fapi/v1/listenKey', () => ({ body: {} }));
    expect(await a.createListenKey()).toBe(key);
    await a.keepAliveListenKey(key);
    await a.closeListenKey(key);
    const calls = server.requestsTo('/fapi/v1/listenKey');
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PUT', 'DELETE']);
    for (const c of calls) {
      expect(c.headers['x-mbx-apikey']).toBe('k');
      expect(c.params.has('signature')).toBe(false);
    }
  });
});
