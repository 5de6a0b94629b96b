// Tests of the typed USD-M API: raw hand-off, decoding, and the 503-unknown recovery of orders and cancels.
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { silentLogger } from '../log/logger.js';
import { CLIENT_ORDER_ID_PATTERN } from './client-order-id.js';
import {
  BinanceApiError,
  InvalidRequestError,
  MalformedResponseError,
  OrderOutcomeUnknownError,
} from './exchange-errors.js';
import { RestClient } from './rest-client.js';
import type { ScriptedReply, ScriptedRequest } from './testing/scripted-server.js';
import { ScriptedServer } from './testing/scripted-server.js';
import { VirtualScheduler } from './testing/virtual-scheduler.js';
import { UsdmApi } from './usdm-api.js';

const START = Date.UTC(2026, 0, 5, 10, 0, 0) + 1_000;
const UNKNOWN_503: ScriptedReply = {
  status: 503,
  body: { code: -1007, msg: 'Unknown error, please check your request or try again later.' },
};
const NO_SUCH_ORDER: ScriptedReply = { status: 400, body: { code: -2013, msg: 'Order does not exist.' } };

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
  return { api: new UsdmApi(rest, { logger: silentLogger(), recovery: { queryDelayMs: 50 } }), clock };
}

function order(params: URLSearchParams, status = 'NEW'): Record<string, unknown> {
  return {
    orderId: 22542179,
    symbol: params.get('symbol') ?? 'BTCUSDT',
    status,
    clientOrderId: params.get('newClientOrderId') ?? params.get('origClientOrderId') ?? 'x',
    price: params.get('price') ?? '0',
    avgPrice: '0.00000',
    origQty: params.get('quantity') ?? '0.010',
    executedQty: '0',
    cumQty: '0',
    cumQuote: '0',
    timeInForce: params.get('timeInForce') ?? 'GTC',
    type: params.get('type') ?? 'LIMIT',
    reduceOnly: false,
    closePosition: false,
    side: params.get('side') ?? 'BUY',
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: params.get('type') ?? 'LIMIT',
    priceMatch: 'NONE',
    selfTradePreventionMode: 'NONE',
    goodTillDate: 0,
    updateTime: 1566818724722,
  };
}

function algo(params: URLSearchParams, algoStatus = 'NEW'): Record<string, unknown> {
  return {
    algoId: 2146760,
    clientAlgoId: params.get('clientAlgoId') ?? 'x',
    algoType: 'CONDITIONAL',
    orderType: params.get('type') ?? 'STOP_MARKET',
    symbol: params.get('symbol') ?? 'BTCUSDT',
    side: params.get('side') ?? 'SELL',
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: params.get('quantity') ?? '0.010',
    algoStatus,
    triggerPrice: params.get('triggerPrice') ?? '95000',
    price: '0.00',
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: false,
    priceProtect: false,
    reduceOnly: true,
    activatePrice: '',
    callbackRate: '',
    createTime: 1750485492076,
    updateTime: 1750485492076,
    triggerTime: 0,
    goodTillDate: 0,
  };
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
    server.on('POST', '/fapi/v1/order', (r) => ({ body: order(r.params) }));
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

  it('after 503 unknown, finds the order by its client id and does not resend', async () => {
    const { api: a } = await api();
    const placed: URLSearchParams[] = [];
    server.on('POST', '/fapi/v1/order', (r) => {
      placed.push(r.params);
      return UNKNOWN_503;
    });
    server.on('GET', '/fapi/v1/order', (r) => ({ body: order(r.params, 'NEW') }));
    const result = await a.newOrder({ ...limitBuy, newClientOrderId: 'm_abc-1' });
    expect(result.clientOrderId).toBe('m_abc-1');
    expect(placed).toHaveLength(1);
    const [query] = server.requestsTo('/fapi/v1/order', 'GET');
    expect(query?.params.get('origClientOrderId')).toBe('m_abc-1');
    expect(query?.params.get('symbol')).toBe('BTCUSDT');
  });

  it('after 503 unknown and "order does not exist", resends once with the same client id', async () => {
    const { api: a } = await api();
    const ids: (string | null)[] = [];
    server.on('POST', '/fapi/v1/order', (r) => {
      ids.push(r.params.get('newClientOrderId'));
      return ids.length === 1 ? UNKNOWN_503 : { body: order(r.params) };
    });
    server.on('GET', '/fapi/v1/order', () => NO_SUCH_ORDER);
    const result = await a.newOrder(limitBuy);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(result.clientOrderId).toBe(ids[0]);
  });

  it('reads the order when the resend is refused as a duplicate client id', async () => {
    const { api: a } = await api();
    let posts = 0;
    let queries = 0;
    server.on('POST', '/fapi/v1/order', () => {
      posts += 1;
      return posts === 1
        ? UNKNOWN_503
        : { status: 400, body: { code: -4116, msg: 'ClientOrderId is duplicated.' } };
    });
    server.on('GET', '/fapi/v1/order', (r) => {
      queries += 1;
      return queries === 1 ? NO_SUCH_ORDER : { body: order(r.params, 'FILLED') };
    });
    const result = await a.newOrder(limitBuy);
    expect(result.status).toBe('FILLED');
    expect(posts).toBe(2);
  });

  it('treats a timeout after sending as unknown and resolves it by query', async () => {
    const { api: a } = await api();
    server.on('POST', '/fapi/v1/order', () => ({ delayMs: 1_000, body: {} }));
    server.on('GET', '/fapi/v1/order', (r) => ({ body: order(r.params, 'PARTIALLY_FILLED') }));
    const result = await a.newOrder(limitBuy);
    expect(result.status).toBe('PARTIALLY_FILLED');
    expect(server.requestsTo('/fapi/v1/order', 'POST')).toHaveLength(1);
  });

  it('bounds the resends: unknown twice and absent twice ends in OrderOutcomeUnknownError', async () => {
    const { api: a } = await api();
    server.on('POST', '/fapi/v1/order', () => UNKNOWN_503);
    server.on('GET', '/fapi/v1/order', () => NO_SUCH_ORDER);
    const error = await a.newOrder(limitBuy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderOutcomeUnknownError);
    expect(server.requestsTo('/fapi/v1/order', 'POST')).toHaveLength(2);
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
    server.on('POST', '/fapi/v1/order', (r) => ({ body: { ...order(r.params), price: 90000.1 } }));
    const error = await a.newOrder(limitBuy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(String(error)).toContain('$.price');
  });

  it('resolves an unknown cancel by query: a cancelled order is returned, a live one is cancelled again', async () => {
    const { api: a } = await api();
    let cancels = 0;
    let status = 'CANCELED';
    server.on('DELETE', '/fapi/v1/order', (r) => {
      cancels += 1;
      return cancels === 1 ? UNKNOWN_503 : { body: order(r.params, 'CANCELED') };
    });
    server.on('GET', '/fapi/v1/order', (r) => ({ body: order(r.params, status) }));
    const done = await a.cancelOrder({ symbol: 'BTCUSDT', origClientOrderId: 'm_1' });
    expect(done.status).toBe('CANCELED');
    expect(cancels).toBe(1);

    cancels = 0;
    status = 'NEW';
    const again = await a.cancelOrder({ symbol: 'BTCUSDT', origClientOrderId: 'm_2' });
    expect(again.status).toBe('CANCELED');
    expect(cancels).toBe(2);
  });

  it('decodes openOrders, userTrades and settings answers', async () => {
    const { api: a } = await api();
    server.on('GET', '/fapi/v1/openOrders', (r) => ({ body: [order(r.params)] }));
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
  it('places a conditional order through /fapi/v1/algoOrder and recovers an unknown outcome by clientAlgoId', async () => {
    const { api: a } = await api();
    let posts = 0;
    let sent: ScriptedRequest | undefined;
    server.on('POST', '/fapi/v1/algoOrder', (r) => {
      posts += 1;
      sent = r;
      return UNKNOWN_503;
    });
    server.on('GET', '/fapi/v1/algoOrder', (r) => ({ body: algo(r.params) }));
    const result = await a.newAlgoOrder({
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: Decimal.parse('0.010'),
      triggerPrice: Decimal.parse('95000'),
      reduceOnly: true,
    });
    expect(posts).toBe(1);
    expect(sent?.params.get('algoType')).toBe('CONDITIONAL');
    expect(sent?.params.get('reduceOnly')).toBe('true');
    const id = sent?.params.get('clientAlgoId') ?? '';
    expect(result.clientAlgoId).toBe(id);
    expect(server.requestsTo('/fapi/v1/algoOrder', 'GET')[0]?.params.get('clientAlgoId')).toBe(id);
    expect(result.triggerPrice?.toString()).toBe('95000');
    expect(result.activatePrice).toBeNull();
  });

  it('cancels an algo order and lists open ones', async () => {
    const { api: a } = await api();
    server.on('DELETE', '/fapi/v1/algoOrder', (r) => ({
      body: { algoId: 2146760, clientAlgoId: r.params.get('clientAlgoId'), code: '200', msg: 'success' },
    }));
    server.on('GET', '/fapi/v1/openAlgoOrders', (r) => ({ body: [algo(r.params)] }));
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
