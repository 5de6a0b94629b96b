import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../sim/simulator.js';
import type { AlertInput } from '../ts/alerts/alert.js';
import { Decimal } from '../ts/exact/decimal.js';
import { RestClient } from '../ts/exchange/rest-client.js';
import { UsdmApi } from '../ts/exchange/usdm-api.js';
import { decodeOrders } from '../ts/exchange/usdm-decoders.js';
import { GatewayRequestError } from '../ts/gateway/gateway-error.js';
import type { PlaceRequest } from '../ts/gateway/gateway-protocol.js';
import { silentLogger } from '../ts/log/logger.js';
import { SymbolFilterSet } from '../ts/native/filters.js';
import { parseExchangeInfo } from '../ts/native/parse.js';
import { ClaimLog } from './claim-log.js';
import { type ClaimMode, OrderClaims, type OrderPlacer } from './order-claims.js';

let sim: RunningSimulator;
let rest: RestClient;
let api: UsdmApi;
let filters: Map<string, SymbolFilterSet>;

beforeAll(async () => {
  const apiKey = randomBytes(16).toString('hex');
  const apiSecret = randomBytes(32).toString('hex');
  sim = await startSimulator(
    {
      port: 0,
      seed: 5,
      accounts: [{ apiKey, apiSecret, balances: { USDT: '100000' } }],
      source: { kind: 'random-walk', tradesPerSecond: 10 },
    },
    { logger: silentLogger('sim') },
  );
  rest = new RestClient({ baseUrl: sim.restUrl, apiKey, apiSecret });
  api = new UsdmApi(rest);
  const info = parseExchangeInfo((await api.exchangeInfo()).body);
  filters = new Map(info.symbols.map((s) => [s.symbol, new SymbolFilterSet(s)]));
}, 30_000);

afterAll(async () => {
  rest?.close();
  await sim?.stop();
});

/** The exchange side as the gateway uses it: the API itself places (a sim that answers is enough here). */
const placer = (): OrderPlacer => ({
  api,
  place: (params) => api.newOrder(params),
  cancel: (ref) => api.cancelOrder(ref),
});

/** Alerts raised, as the process's alerter would receive them. */
const raised: AlertInput[] = [];

function claims(mode: ClaimMode = { kind: 'first' }, now?: () => number) {
  const log = new ClaimLog(
    join(mkdtempSync(join(tmpdir(), 'tributary-order-claims-')), 'claims.jsonl'),
    silentLogger(),
    86_400_000,
  );
  const c = new OrderClaims({
    log,
    placer: placer(),
    mode,
    filters: (s) => filters.get(s),
    logger: silentLogger('claims'),
    placeWithinMs: 60_000,
    settleMs: 200,
    alerts: { raise: (alert) => raised.push(alert) },
    ...(now === undefined ? {} : { now }),
  });
  return { log, claims: c };
}

function ordersWith(prefix: string) {
  const handler = sim.engine.endpoints().find((e) => e.method === 'GET' && e.path === '/fapi/v1/allOrders');
  if (handler === undefined) throw new Error('no allOrders');
  return decodeOrders(
    handler.handle({
      params: { symbol: 'ETHUSDT', limit: '1000' },
      accountId: 'account-1',
      now: sim.clock.now(),
    }),
  ).filter((o) => o.clientOrderId.startsWith(prefix));
}

function order(id: string, quantity = '0.100', side: 'BUY' | 'SELL' = 'BUY'): PlaceRequest {
  return { symbol: 'ETHUSDT', side, type: 'MARKET', quantity, reduceOnly: false, clientOrderId: id };
}

describe('order claims', () => {
  it('places one order for many simultaneous requests of the same signal, from any trader', async () => {
    const { claims: c } = claims();
    const id = `t_${randomBytes(6).toString('hex')}`;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.place(`trader-${i % 3}`, order(id))),
    );
    expect(answers.filter((a) => a.outcome === 'placed')).toHaveLength(1);
    expect(answers.filter((a) => a.outcome === 'duplicate')).toHaveLength(29);
    expect(new Set(answers.map((a) => a.order?.orderId)).size).toBe(1);
    expect(ordersWith(id)).toHaveLength(1);
    expect(c.stats).toMatchObject({ placed: 1, duplicates: 29 });
    // A conflicting duplicate (another size) gets the claimed order, counted and logged.
    const later = await c.place('trader-1', order(id, '0.200'));
    expect(later.outcome).toBe('duplicate');
    expect(c.stats.conflicts).toBe(1);
    expect(raised.filter((a) => a.source === 'gateway.conflict').map((a) => a.severity)).toEqual(['warning']);
    expect(ordersWith(id)).toHaveLength(1);
  });

  it('gives every request of a refused order the exchange refusal, without asking the exchange again', async () => {
    const { claims: c } = claims();
    const id = `t_${randomBytes(6).toString('hex')}`;
    const first = await c.place('trader-0', order(id, '100000')).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(GatewayRequestError);
    expect((first as GatewayRequestError).code).toBe('exchange-rejected');
    expect((first as GatewayRequestError).exchange?.code).toBeLessThan(0);
    let requests = 0;
    const off = sim.server.onRequest(() => {
      requests += 1;
    });
    const second = await c.place('trader-1', order(id, '100000')).catch((e: unknown) => e);
    off();
    expect((second as GatewayRequestError).code).toBe('exchange-rejected');
    expect(requests).toBe(0);
    expect(c.stats.rejected).toBe(1);
  });

  it('after a restart: finds a sent order at the exchange instead of placing it again, and expires a stale claim unsent', async () => {
    const { log, claims: c } = claims();
    const sentId = `t_${randomBytes(6).toString('hex')}`;
    const staleId = `t_${randomBytes(6).toString('hex')}`;
    // The crash: a claim whose order reached the exchange but whose outcome was never written.
    const sent = log.claim({
      symbol: 'ETHUSDT',
      clientOrderId: sentId,
      member: null,
      exchangeClientOrderId: sentId,
      order: { side: 'BUY', type: 'MARKET', quantity: '0.100', reduceOnly: false },
      peer: 'trader-0',
      claimedAt: Date.now(),
    });
    log.sending(sent, Date.now());
    await api.newOrder({
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: Decimal.parse('0.100'),
      newClientOrderId: sentId,
    });
    log.claim({
      symbol: 'ETHUSDT',
      clientOrderId: staleId,
      member: null,
      exchangeClientOrderId: staleId,
      order: { side: 'BUY', type: 'MARKET', quantity: '0.100', reduceOnly: false },
      peer: 'trader-0',
      claimedAt: Date.now() - 120_000,
    });
    await c.resume();
    expect(ordersWith(sentId)).toHaveLength(1);
    expect(log.get(sent.key)?.outcome?.kind).toBe('placed');
    expect(ordersWith(staleId)).toHaveLength(0);
    const stale = await c.place('trader-2', order(staleId)).catch((e: unknown) => e);
    expect((stale as GatewayRequestError).code).toBe('expired');
    expect(c.stats).toMatchObject({ recovered: 2, expired: 1 });
    expect(raised.find((a) => a.source === 'gateway.expired')).toMatchObject({
      severity: 'critical',
      details: { clientOrderId: staleId },
    });
  });

  it('split mode: members only, each its own share under its own id; an empty share places nothing', async () => {
    const { claims: c } = claims({ kind: 'split', members: ['trader-0', 'trader-1', 'trader-2'] });
    const id = `t_${randomBytes(6).toString('hex')}`;
    const answers = await Promise.all([0, 1, 2].map((i) => c.place(`trader-${i}`, order(id, '0.100'))));
    expect(answers.map((a) => [a.exchangeClientOrderId, a.quantity])).toEqual([
      [`${id}.0`, '0.033'],
      [`${id}.1`, '0.033'],
      [`${id}.2`, '0.034'],
    ]);
    expect(
      ordersWith(id)
        .reduce((s, o) => s.add(o.executedQty), Decimal.ZERO)
        .toString(),
    ).toBe('0.100');
    const tiny = `t_${randomBytes(6).toString('hex')}`;
    const first = await c.place('trader-0', order(tiny, '0.002'));
    expect(first.outcome).toBe('nothing');
    expect(ordersWith(tiny)).toHaveLength(0);
    const outsider = await c.place('trader-7', order(id)).catch((e: unknown) => e);
    expect((outsider as GatewayRequestError).code).toBe('not-a-member');
    const queried = await c.query('trader-1', { symbol: 'ETHUSDT', clientOrderId: id });
    expect(queried.exchangeClientOrderId).toBe(`${id}.1`);
  });

  it('refuses a limit order priced at zero before claiming it (newOrder would refuse it unsent, forever)', async () => {
    const { log, claims: c } = claims();
    const id = `t_${randomBytes(6).toString('hex')}`;
    const zero = { ...order(id), type: 'LIMIT' as const, price: '0.00', timeInForce: 'GTC' as const };
    const refusal = await c.place('trader-0', zero).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(GatewayRequestError);
    expect((refusal as GatewayRequestError).code).toBe('bad-request');
    expect((refusal as GatewayRequestError).message).toContain('price');
    // Nothing claimed: no pending claim for a restart to resume, nothing at the exchange.
    expect(log.pending()).toHaveLength(0);
    expect(ordersWith(id)).toHaveLength(0);
  });

  it('split mode: refuses an id too long to carry the share suffix with a typed error, for every member', async () => {
    const { log, claims: c } = claims({ kind: 'split', members: ['trader-0', 'trader-1', 'trader-2'] });
    // 35 characters: a valid Binance id, but `<id>.<i>` would be 37.
    const id = `t_${'a'.repeat(33)}`;
    for (const member of ['trader-0', 'trader-2']) {
      const refusal = await c.place(member, order(id)).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(GatewayRequestError);
      expect((refusal as GatewayRequestError).code).toBe('bad-request');
      expect((refusal as GatewayRequestError).message).toContain('clientOrderId');
    }
    expect(log.stats.claims).toBe(0);
  });

  it('refuses a duplicate of the opposite side (that trader would book a trade that did not happen); the claimed order stands', async () => {
    const { claims: c } = claims();
    const id = `t_${randomBytes(6).toString('hex')}`;
    const first = await c.place('trader-0', order(id, '0.100', 'BUY'));
    expect(first.outcome).toBe('placed');
    const alertsBefore = raised.filter((a) => a.source === 'gateway.conflict').length;
    const opposite = await c.place('trader-1', order(id, '0.100', 'SELL')).catch((e: unknown) => e);
    expect(opposite).toBeInstanceOf(GatewayRequestError);
    expect((opposite as GatewayRequestError).code).toBe('conflict');
    expect((opposite as GatewayRequestError).message).toContain('BUY');
    expect(c.stats.conflicts).toBe(1);
    expect(raised.filter((a) => a.source === 'gateway.conflict')).toHaveLength(alertsBefore + 1);
    // The claimed order is untouched: its own trader still gets it, and only it exists.
    const again = await c.place('trader-0', order(id, '0.100', 'BUY'));
    expect(again).toMatchObject({
      outcome: 'duplicate',
      order: { orderId: first.order?.orderId, side: 'BUY' },
    });
    expect(ordersWith(id)).toHaveLength(1);
  });

  it('split mode: refuses a member whose share is the opposite side of a share already claimed for the signal', async () => {
    const { claims: c } = claims({ kind: 'split', members: ['trader-0', 'trader-1', 'trader-2'] });
    const id = `t_${randomBytes(6).toString('hex')}`;
    const buy = await c.place('trader-0', order(id, '0.300', 'BUY'));
    expect(buy).toMatchObject({ outcome: 'placed', quantity: '0.100' });
    const sell = await c.place('trader-1', order(id, '0.300', 'SELL')).catch((e: unknown) => e);
    expect(sell).toBeInstanceOf(GatewayRequestError);
    expect((sell as GatewayRequestError).code).toBe('conflict');
    expect(c.stats.conflicts).toBe(1);
    // Only the first member's share exists; the refused member's was never claimed nor sent.
    expect(ordersWith(id).map((o) => [o.clientOrderId, o.side])).toEqual([[`${id}.0`, 'BUY']]);
    const third = await c.place('trader-2', order(id, '0.300', 'BUY'));
    expect(third).toMatchObject({ outcome: 'placed', quantity: '0.100' });
  });
});
