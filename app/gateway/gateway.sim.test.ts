// System test: three traders running the demo strategy send their orders through a real `tributary gateway` process to the simulator: one order per signal, also when the gateway is SIGKILLed between receiving a signal and placing it; split mode trades 1/N each.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TradingEngine } from '../../trader/engine/trading-engine.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { gatewayAuthorization } from '../../ts/gateway/gateway-auth.js';
import { GatewayRequestError } from '../../ts/gateway/gateway-error.js';
import { newKey } from '../../ts/hub/key-file.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { type GatewayChild, GatewayRig, killHard } from './testing/gateway-rig.js';

let rig: GatewayRig;

beforeAll(async () => {
  rig = await GatewayRig.start();
}, 60_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);

/** The simulator's orders grouped by client order id. */
function byClientId(orders: readonly OrderRecord[]): Map<string, OrderRecord[]> {
  const groups = new Map<string, OrderRecord[]>();
  for (const o of orders) groups.set(o.clientOrderId, [...(groups.get(o.clientOrderId) ?? []), o]);
  return groups;
}

/** The claim log's lines of kind `t`. */
function logLines(path: string, t: string): number {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"t":"${t}"`)).length;
}

function signals(traders: readonly TradingEngine[]): number[] {
  return traders.map((t) => t.stats.signals);
}

describe('the order gateway with three traders running the same strategy', () => {
  it('places exactly one order per signal, whichever trader sends it first', async () => {
    const gateway = await rig.gateway(rig.config('first', 'first'));
    const traders = await Promise.all([0, 1, 2].map((i) => rig.trader(gateway.url, i)));
    const before = rig.orders().length;
    for (let i = 0; i < 6; i++) await rig.bar(traders, i % 2 === 0 ? 'up' : 'down');
    // Every trader decided every signal (open, close, ...) and sent its order.
    expect(signals(traders)).toEqual([6, 6, 6]);
    expect(traders.map((t) => t.executor.stats.orders)).toEqual([6, 6, 6]);
    const orders = rig.orders().slice(before);
    const groups = byClientId(orders);
    expect(orders).toHaveLength(6);
    expect(groups.size).toBe(6);
    for (const [id, group] of groups) expect(group, id).toHaveLength(1);
    expect(orders.map((o) => o.status)).toEqual(Array(6).fill('FILLED'));
    expect(rig.position().isZero()).toBe(true);
    const status = await rig.client(gateway.url, 0).status();
    expect(status.claims).toMatchObject({ placed: 6, duplicates: 12, conflicts: 0 });
    await killHard(gateway.proc);
  }, 120_000);

  it('still places exactly one order per signal, none lost, when SIGKILLed between receiving and placing', async () => {
    const config = rig.config('kill', 'first');
    const claimLog = JSON.parse(readFileSync(config, 'utf8')).gateway.claimLog as string;
    let gateway: GatewayChild = await rig.gateway(config);
    const port = gateway.port;
    const traders = await Promise.all([0, 1, 2].map((i) => rig.trader(gateway.url, i)));
    const before = rig.orders().length;

    // 1. The order request is held by the exchange (latency) when the gateway dies: it never executes.
    rig.sim.faults.apply({ latencyMs: 60_000 });
    const open = rig.bar(traders, 'up');
    await waitUntil(() => logLines(claimLog, 'send') >= 1, 'the claim and its send on disk', 30_000, 20);
    await killHard(gateway.proc);
    rig.sim.faults.apply({ reset: true });
    expect(rig.orders().length).toBe(before);
    gateway = await rig.gateway(config, port);
    await open;
    expect(rig.orders().length).toBe(before + 1);

    // 2. The exchange refuses for now (429) when the gateway dies: the restarted one places it once the limit ends.
    const refusedBefore = logLines(claimLog, 'refused');
    rig.sim.faults.apply({ rateLimitForMs: 4000 });
    const close = rig.bar(traders, 'down');
    await waitUntil(() => logLines(claimLog, 'refused') > refusedBefore, 'a refusal on disk', 30_000, 20);
    await killHard(gateway.proc);
    expect(rig.orders().length).toBe(before + 1);
    gateway = await rig.gateway(config, port);
    await close;

    // 3. Killed with the order placed and its outcome not yet written: found, not placed again.
    // (503 "unknown" for the order, then every answer held, so the gateway's own lookup cannot finish.)
    const doneBefore = logLines(claimLog, 'done');
    rig.sim.faults.apply({ reset: true, unknownStatusNextOrders: 1 });
    const again = rig.bar(traders, 'up');
    await waitUntil(() => rig.orders().length >= before + 3, 'the third order at the exchange', 30_000, 5);
    rig.sim.faults.apply({ latencyMs: 60_000 });
    await killHard(gateway.proc);
    rig.sim.faults.apply({ reset: true });
    expect(logLines(claimLog, 'done')).toBe(doneBefore);
    gateway = await rig.gateway(config, port);
    await again;

    const orders = rig.orders().slice(before);
    const groups = byClientId(orders);
    expect(orders).toHaveLength(3);
    expect(groups.size).toBe(3);
    for (const [id, group] of groups) expect(group, id).toHaveLength(1);
    expect(signals(traders)).toEqual([3, 3, 3]);
    // None lost: every trader's every order has an outcome, the account holds the third signal's long.
    expect(rig.position().sign()).toBe(1);
    expect(traders.map((t) => t.executor.stats.unknown)).toEqual([0, 0, 0]);
    await rig.bar(traders, 'down');
    expect(rig.position().isZero()).toBe(true);
    await killHard(gateway.proc);
  }, 240_000);

  it('split mode: each of three traders places its 1/N share, snapped to the step, adding up to the order', async () => {
    const gateway = await rig.gateway(rig.config('split', 'split'));
    const traders = await Promise.all([0, 1, 2].map((i) => rig.trader(gateway.url, i, true)));
    const before = rig.orders().length;
    await rig.bar(traders, 'up');
    const opened = rig.orders().slice(before);
    // One decision id, three member ids `<id>.0`, `.1`, `.2`.
    const decisions = new Set(opened.map((o) => o.clientOrderId.replace(/\.\d$/, '')));
    expect(decisions.size).toBe(1);
    expect(opened.map((o) => o.clientOrderId.slice(-2)).sort()).toEqual(['.0', '.1', '.2']);
    const total = opened.reduce((sum, o) => sum.add(o.executedQty), Decimal.ZERO);
    expect(rig.position().eq(total)).toBe(true);
    // The whole order was the demo's notional at the bar's price, snapped down to the step: shares add up to it.
    const step = Decimal.parse('0.001');
    const whole = Decimal.parse('700').div(rig.market.price, 3, 'down');
    expect(total.eq(whole)).toBe(true);
    const shares = opened.map((o) => o.origQty);
    const spread = shares.reduce((a, b) => (a.gt(b) ? a : b)).sub(shares.reduce((a, b) => (a.lt(b) ? a : b)));
    expect(spread.lte(step)).toBe(true);
    // The close: every member sells its share of the whole position; flat again, nothing left over.
    await rig.bar(traders, 'down');
    const closed = rig.orders().slice(before + 3);
    expect(closed).toHaveLength(3);
    expect(closed.every((o) => o.side === 'SELL' && o.reduceOnly && o.status === 'FILLED')).toBe(true);
    const sold = closed.reduce((sum, o) => sum.add(o.origQty), Decimal.ZERO);
    expect(sold.toString()).toBe(total.toString());
    expect(rig.position().isZero()).toBe(true);
    await killHard(gateway.proc);
  }, 120_000);

  it('refuses a peer it does not know, and bad input, with typed errors it counts', async () => {
    const gateway = await rig.gateway(rig.config('refusals', 'first'));
    const stranger = newKey({ role: 'trader', peers: ['trader-9'] });
    const unknown = rig.client(gateway.url, 9, stranger);
    const refused = await unknown
      .place({
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        quantity: '0.001',
        reduceOnly: false,
        clientOrderId: 't_unknownpeer00000000',
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRequestError);
    expect((refused as GatewayRequestError).code).toBe('unknown-peer');
    expect((refused as GatewayRequestError).message).toMatch(
      /tributary keys issue --role trader --peer trader-9/,
    );
    // A viewer key may read the status but not place.
    const viewer = rig.keys[3];
    const asViewer = rig.client(gateway.url, 0, viewer);
    const forbidden = await asViewer
      .place({
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        quantity: '0.001',
        reduceOnly: false,
        clientOrderId: 't_viewer0000000000000',
      })
      .catch((e: unknown) => e);
    // The viewer key names only `viewer`: using `trader-0` is refused before its role is looked at.
    expect((forbidden as GatewayRequestError).code).toBe('forbidden');
    // Garbage from a known trader: typed, counted, and the gateway goes on serving.
    const response = await fetch(`${gateway.url}/v1/orders`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(401);
    const client = rig.client(gateway.url, 0);
    const bad = await client
      .place({
        symbol: 'btc',
        side: 'BUY',
        type: 'MARKET',
        quantity: '-1',
        reduceOnly: false,
        clientOrderId: 'x',
      } as never)
      .catch((e: unknown) => e);
    expect((bad as GatewayRequestError).code).toBe('bad-request');
    expect((bad as GatewayRequestError).message).toMatch(/symbol/);
    // Signed but not JSON, and signed but too large: typed refusals too.
    const key = rig.keys[0];
    if (key === undefined) throw new Error('no key');
    const signed = (body: string) =>
      fetch(`${gateway.url}/v1/orders`, {
        method: 'POST',
        body,
        headers: {
          authorization: gatewayAuthorization(
            { keyId: key.id, secret: key.secret, peer: 'trader-0' },
            { method: 'POST', path: '/v1/orders', body },
          ),
        },
      });
    const notJson = await signed('{not json');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: 'bad-request' });
    const huge = await signed(`{"pad":"${'x'.repeat(40_000)}"}`).catch(() => undefined);
    expect(huge === undefined || huge.status === 413).toBe(true);
    // A body cut off mid-way (the peer's process dies).
    await new Promise<void>((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1', () => {
        socket.write('POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"symbol":', () => {
          socket.destroy();
          resolve();
        });
      });
    });
    await waitUntil(
      async () =>
        ((await client.status()).server as { refused: Record<string, number> }).refused['bad-request'] === 3,
      'the cut-off body counted',
      10_000,
      50,
    );
    const status = await client.status();
    expect(status.server).toMatchObject({
      refused: { 'unknown-peer': 1, forbidden: 1, unauthenticated: 1, 'bad-request': 3, 'too-large': 1 },
    });
    await killHard(gateway.proc);
  }, 60_000);
});
