// System test: `tributary trader`'s own wiring (startTraderTrading) in testnet mode with gateway.enabled sends its orders through the gateway, signed with its hub key.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { readTributaryConfig } from '../../ts/config/tributary-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { decodeOrders } from '../../ts/exchange/usdm-decoders.js';
import { silentLogger } from '../../ts/log/logger.js';
import { IDLE_STRATEGY } from '../testing/live-trading-rig.js';
import { CollectorRig, eventually } from '../testing/system-rig.js';
import { startTraderTrading, type TraderTrading } from '../venues/trader-trading.js';
import { type RunningGateway, startGatewayService } from './gateway-service.js';

let rig: CollectorRig | undefined;
let gateway: RunningGateway | undefined;
let trading: TraderTrading | undefined;

afterAll(async () => {
  await trading?.stop();
  await gateway?.stop();
  await rig?.stop();
}, 30_000);

describe('a trader with gateway.enabled', () => {
  it('places its orders through the gateway: claimed there, one order at the exchange', async () => {
    rig = await CollectorRig.start({
      collectors: {
        account: { instances: 1, intervalMs: 1000, version: 'v3' },
        positionRisk: { instances: 1, intervalMs: 1000, version: 'v3' },
        tick: { instances: 1, maxPollsPerSecond: 2 },
      },
    });
    const r = rig;
    for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-gateway-trader-'));
    const configOf = (gatewayUrl?: string): LoadedConfig => ({
      config: readTributaryConfig(
        {
          exchange: { kind: 'testnet', restUrl: r.sim.restUrl, wsUrl: r.sim.wsUrl },
          hub: { url: r.loaded.config.hub.url, port: r.loaded.config.hub.port },
          trader: { mode: 'testnet', intervals: ['1m'] },
          risk: { stopLoss: { enabled: false } },
          gateway: {
            enabled: true,
            port: 0,
            claimLog: join(dir, 'claims.jsonl'),
            ...(gatewayUrl === undefined ? {} : { url: gatewayUrl }),
          },
        },
        'gateway-trader-test',
      ),
      secrets: r.loaded.secrets,
      sources: ['gateway-trader-test'],
    });
    gateway = await startGatewayService(configOf(), r.ring, silentLogger('gateway'));
    const trader = await r.trader(0);
    trading = await startTraderTrading(
      trader,
      configOf(gateway.url),
      {
        strategyName: 'gateway-test',
        strategy: IDLE_STRATEGY,
        instance: 0,
        stateDir: join(dir, 'trader-0'),
        gatewayKey: r.keys.trader,
      },
      silentLogger('trading'),
    );
    expect(trading.venue.name).toBe('testnet via gateway');
    const runtime = trading.runtime;
    await eventually(
      () =>
        runtime.market.lastPriceExact('BTCUSDT') !== undefined &&
        runtime.market.quote('BTCUSDT') !== undefined,
      'prices in the book',
      15_000,
    );
    runtime.engine.submitTarget('test', 'BTCUSDT', Decimal.parse('0.010'), 'open');
    await eventually(() => gateway?.claims.stats.placed === 1, 'the order placed by the gateway', 15_000);
    await runtime.engine.idle();
    const handler = r.sim.engine
      .endpoints()
      .find((e) => e.method === 'GET' && e.path === '/fapi/v1/allOrders');
    const orders = decodeOrders(
      handler?.handle({ params: { symbol: 'BTCUSDT' }, accountId: 'account-1', now: r.sim.clock.now() }),
    );
    expect(orders).toHaveLength(1);
    expect(orders[0]?.status).toBe('FILLED');
    expect(runtime.engine.executor.stats).toMatchObject({ orders: 1, rejected: 0, unknown: 0 });
  }, 120_000);
});
