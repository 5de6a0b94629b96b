// System test: dry-run signs the strategy's order exactly as it would be sent and sends nothing; the exchange accepts the logged request as it stands.
import { describe, expect, it } from 'vitest';
import { DryRunVenue } from '../trader/execution/dry-run-venue.js';
import type { LoadedConfig } from '../ts/config/load-config.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { PACED_COLLECTORS, startStrategy, tradingSession } from './testing/trading-session.js';

const session = tradingSession();

describe('dry-run mode', () => {
  it('signs the demo’s order, sends nothing, and the logged request is one the exchange accepts', async () => {
    const r = await CollectorRig.start({ collectors: PACED_COLLECTORS });
    session.rig = r;
    // The risk rules need the account's balance and positions: dry-run trades the real account's view.
    for (const kind of ['universe', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const loaded: LoadedConfig = {
      ...r.loaded,
      config: { ...r.loaded.config, trader: { ...r.loaded.config.trader, mode: 'dry-run' } },
    };
    const trading = await startStrategy(await r.trader(), loaded, {
      strategy: 'demo',
      strategyConfig: { symbols: ['BTCUSDT'], openAbove: '-1', notional: '500' },
    });
    session.trading = trading;
    const venue = trading.venue;
    if (!(venue instanceof DryRunVenue)) throw new Error(`venue ${venue.name}, not dry-run`);
    await eventually(() => venue.sent.length >= 1, 'the demo’s order, signed', 90_000);
    const [order] = venue.sent;
    if (order === undefined) throw new Error('no order');

    // Nothing went out: no order, no conditional order, no cancel.
    const sent = r.requests.filter(
      (q) => q.method !== 'GET' && (q.path === '/fapi/v1/order' || q.path === '/fapi/v1/algoOrder'),
    );
    expect(sent).toEqual([]);
    const params = new URLSearchParams(order.query);
    expect(Object.fromEntries(params)).toMatchObject({
      symbol: 'BTCUSDT',
      side: 'BUY',
      newClientOrderId: order.clientOrderId,
    });
    expect(order.signature).toMatch(/^[0-9a-f]{64}$/);

    // Sent by hand as logged (within its recvWindow), the exchange takes it: the signature is right.
    const answer = await fetch(`${r.sim.restUrl}/fapi/v1/order?${order.query}&signature=${order.signature}`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': loaded.secrets.apiKey ?? '' },
    });
    const body = (await answer.json()) as { clientOrderId?: string; status?: string; msg?: string };
    expect(answer.status, body.msg).toBe(200);
    expect(body.clientOrderId).toBe(order.clientOrderId);
  }, 150_000);
});
