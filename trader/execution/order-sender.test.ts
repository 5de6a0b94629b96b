// Tests of the order sender: unknown outcomes of placements and cancels resolved by client id, bounded.
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../ts/alerts/alert.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { algoJson, orderJson } from '../../ts/exchange/testing/order-json.js';
import type { ScriptedReply, ScriptedRequest } from '../../ts/exchange/testing/scripted-server.js';
import { ScriptedServer } from '../../ts/exchange/testing/scripted-server.js';
import { VirtualScheduler } from '../../ts/exchange/testing/virtual-scheduler.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import { OrderOutcomeUnknownError, OrderSender } from './order-sender.js';

const START = Date.UTC(2026, 0, 5, 10, 0, 0) + 1_000;
const UNKNOWN_503: ScriptedReply = {
  status: 503,
  body: { code: -1007, msg: 'Unknown error, please check your request or try again later.' },
};
const NO_SUCH_ORDER: ScriptedReply = { status: 400, body: { code: -2013, msg: 'Order does not exist.' } };

let server: ScriptedServer;
let rest: RestClient | null = null;
/** The virtual clock of the current test's client (sleeps take no real time). */
let clock: VirtualScheduler;
/** Alerts the sender raised in the current test. */
let raised: AlertInput[] = [];

afterEach(async () => {
  raised = [];
  rest?.close();
  rest = null;
  await server?.close();
});

async function orderSender(): Promise<OrderSender> {
  server = await ScriptedServer.start();
  clock = new VirtualScheduler(START);
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
  const api = new UsdmApi(rest, { logger: silentLogger() });
  return new OrderSender(api, {
    logger: silentLogger(),
    recovery: { queryDelayMs: 50 },
    alerts: { raise: (alert) => raised.push(alert) },
  });
}

const limitBuy = {
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTX',
  quantity: Decimal.parse('0.010'),
  price: Decimal.parse('90000.10'),
} as const;

describe('OrderSender', () => {
  it('after 503 unknown, finds the order by its client id and does not resend', async () => {
    const sender = await orderSender();
    const placed: URLSearchParams[] = [];
    server.on('POST', '/fapi/v1/order', (r) => {
      placed.push(r.params);
      return UNKNOWN_503;
    });
    server.on('GET', '/fapi/v1/order', (r) => ({ body: orderJson(r.params, 'NEW') }));
    const result = await sender.place({ ...limitBuy, newClientOrderId: 'm_abc-1' });
    expect(result.clientOrderId).toBe('m_abc-1');
    expect(placed).toHaveLength(1);
    const [query] = server.requestsTo('/fapi/v1/order', 'GET');
    expect(query?.params.get('origClientOrderId')).toBe('m_abc-1');
    expect(query?.params.get('symbol')).toBe('BTCUSDT');
  });

  it('after 503 unknown and "order does not exist" past recvWindow, resends once with the same client id', async () => {
    const sender = await orderSender();
    const posts: { id: string | null; at: number; timestamp: number; recvWindow: number }[] = [];
    server.on('POST', '/fapi/v1/order', (r) => {
      posts.push({
        id: r.params.get('newClientOrderId'),
        at: clock.now(),
        timestamp: Number(r.params.get('timestamp')),
        recvWindow: Number(r.params.get('recvWindow')),
      });
      return posts.length === 1 ? UNKNOWN_503 : { body: orderJson(r.params) };
    });
    const queriedAt: number[] = [];
    server.on('GET', '/fapi/v1/order', () => {
      queriedAt.push(clock.now());
      return NO_SUCH_ORDER;
    });
    const result = await sender.place(limitBuy);
    const [first, second] = posts;
    if (first === undefined || second === undefined) throw new Error(`expected 2 sends, got ${posts.length}`);
    expect(posts).toHaveLength(2);
    expect(second.id).toBe(first.id);
    expect(result.clientOrderId).toBe(first.id);
    // the resend waits until the first request can no longer be accepted (timestamp + recvWindow + 1 s)
    expect(first.recvWindow).toBe(5000);
    expect(second.at - first.timestamp).toBeGreaterThanOrEqual(first.recvWindow + 1000);
    // and the order is looked up again after that wait, before the resend
    expect(queriedAt.some((at) => at >= first.timestamp + first.recvWindow + 1000 && at <= second.at)).toBe(
      true,
    );
  });

  it('does not resend a market order while the unanswered first request can still be accepted', async () => {
    // Binance keeps client ids unique among OPEN orders only: a MARKET order that executes late
    // fills at once and frees its id, so an early resend with the same id is a second order.
    const sender = await orderSender();
    const posts: { at: number; timestamp: number; recvWindow: number }[] = [];
    let executed = false;
    server.on('POST', '/fapi/v1/order', (r) => {
      posts.push({
        at: clock.now(),
        timestamp: Number(r.params.get('timestamp')),
        recvWindow: Number(r.params.get('recvWindow')),
      });
      // 503: the request reached Binance, which did not say whether it executed (still queued for
      // the matching engine); the first query does not see it yet.
      return posts.length === 1
        ? { status: 503, body: { code: -1007, msg: 'Timeout waiting for response from backend server.' } }
        : { body: orderJson(r.params, 'FILLED') };
    });
    server.on('GET', '/fapi/v1/order', (r) => {
      const first = posts[0];
      // the lost request executes late, but within its recvWindow
      if (first !== undefined && clock.now() >= first.timestamp + first.recvWindow - 500) executed = true;
      return executed ? { body: orderJson(r.params, 'FILLED') } : NO_SUCH_ORDER;
    });
    const result = await sender.place({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: Decimal.parse('0.010'),
      newClientOrderId: 't_late',
    });
    expect(result.status).toBe('FILLED');
    expect(result.clientOrderId).toBe('t_late');
    expect(posts).toHaveLength(1);
    expect(raised).toEqual([]);
  });

  it('reads the order when the resend is refused as a duplicate client id', async () => {
    const sender = await orderSender();
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
      // absent before and after the recvWindow wait; the resend's duplicate says it landed after all
      return queries <= 2 ? NO_SUCH_ORDER : { body: orderJson(r.params, 'FILLED') };
    });
    const result = await sender.place(limitBuy);
    expect(result.status).toBe('FILLED');
    expect(posts).toBe(2);
  });

  it('treats a timeout after sending as unknown and resolves it by query', async () => {
    const sender = await orderSender();
    server.on('POST', '/fapi/v1/order', () => ({ delayMs: 1_000, body: {} }));
    server.on('GET', '/fapi/v1/order', (r) => ({ body: orderJson(r.params, 'PARTIALLY_FILLED') }));
    const result = await sender.place(limitBuy);
    expect(result.status).toBe('PARTIALLY_FILLED');
    expect(server.requestsTo('/fapi/v1/order', 'POST')).toHaveLength(1);
    expect(raised).toEqual([]); // resolved: nothing for the owner
  });

  it('bounds the resends: unknown twice and absent twice ends in OrderOutcomeUnknownError', async () => {
    const sender = await orderSender();
    server.on('POST', '/fapi/v1/order', () => UNKNOWN_503);
    server.on('GET', '/fapi/v1/order', () => NO_SUCH_ORDER);
    const error = await sender.place(limitBuy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderOutcomeUnknownError);
    expect(server.requestsTo('/fapi/v1/order', 'POST')).toHaveLength(2);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      severity: 'critical',
      source: 'orders.outcome-unknown',
      details: { symbol: 'BTCUSDT', clientOrderId: (error as OrderOutcomeUnknownError).clientOrderId },
    });
  });

  it('resolves an unknown cancel by query: a cancelled order is returned, a live one is cancelled again', async () => {
    const sender = await orderSender();
    let cancels = 0;
    let status = 'CANCELED';
    server.on('DELETE', '/fapi/v1/order', (r) => {
      cancels += 1;
      return cancels === 1 ? UNKNOWN_503 : { body: orderJson(r.params, 'CANCELED') };
    });
    server.on('GET', '/fapi/v1/order', (r) => ({ body: orderJson(r.params, status) }));
    const done = await sender.cancel({ symbol: 'BTCUSDT', origClientOrderId: 'm_1' });
    expect(done.status).toBe('CANCELED');
    expect(cancels).toBe(1);

    cancels = 0;
    status = 'NEW';
    const again = await sender.cancel({ symbol: 'BTCUSDT', origClientOrderId: 'm_2' });
    expect(again.status).toBe('CANCELED');
    expect(cancels).toBe(2);
  });

  it('places a conditional order through /fapi/v1/algoOrder and recovers an unknown outcome by clientAlgoId', async () => {
    const sender = await orderSender();
    let posts = 0;
    let sent: ScriptedRequest | undefined;
    server.on('POST', '/fapi/v1/algoOrder', (r) => {
      posts += 1;
      sent = r;
      return UNKNOWN_503;
    });
    server.on('GET', '/fapi/v1/algoOrder', (r) => ({ body: algoJson(r.params) }));
    const result = await sender.placeAlgo({
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
});
