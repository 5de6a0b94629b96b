// System test: dry-run signs the strategy's order exactly as it would be sent and sends nothing; the exchange accepts the logged request as it stands.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DryRunVenue } from '../trader/execution/dry-run-venue.js';
import type { LoadedConfig } from '../ts/config/load-config.js';
import { silentLogger } from '../ts/log/logger.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { chooseStrategy } from './venues/trader-strategy.js';
import { startTraderTrading, type TraderTrading } from './venues/trader-trading.js';

let rig: CollectorRig | undefined;
let trading: TraderTrading | undefined;
afterEach(async () => {
  await trading?.stop();
  trading = undefined;
  await rig?.stop();
  rig = undefined;
}, 30_000);

describe('dry-run mode', () => {
  it('signs the demo’s order, sends nothing, and the logged request is one the exchange accepts', async () => {
    rig = await CollectorRig.start({
      collectors: {
        account: { instances: 1, intervalMs: 1000, version: 'v3' },
        positionRisk: { instances: 1, intervalMs: 1000, version: 'v3' },
        tick: { instances: 1, maxPollsPerSecond: 2 },
      },
    });
    const r = rig;
    // The risk rules need the account's balance and positions: dry-run trades the real account's view.
    for (const kind of ['universe', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const trader = await r.trader();
    const loaded: LoadedConfig = {
      ...r.loaded,
      config: { ...r.loaded.config, trader: { ...r.loaded.config.trader, mode: 'dry-run' } },
    };
    const chosen = chooseStrategy(
      loaded.config.trader,
      { strategy: 'demo', strategyConfig: { symbols: ['BTCUSDT'], openAbove: '-1', notional: '500' } },
      'test',
    );
    if (!('strategy' in chosen)) throw new Error('no strategy');
    trading = await startTraderTrading(
      trader,
      loaded,
      {
        strategyName: chosen.name,
        strategy: chosen.strategy,
        stateDir: mkdtempSync(join(tmpdir(), 'tributary-dry-run-')),
        instance: 0,
      },
      silentLogger('trading'),
    );
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
