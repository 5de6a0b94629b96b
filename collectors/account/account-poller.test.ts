// AccountPoller against a scripted account answer: positions the hub's registry does not know.
import { afterEach, describe, expect, it } from 'vitest';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { ScriptedServer } from '../../ts/exchange/testing/scripted-server.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { CollectorContext } from '../collector-context.js';
import { type CollectorHub, IngestLink } from '../collector-hub.js';
import { AccountPoller } from './account-poller.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function position(symbol: string, amount: string, time: number) {
  return {
    symbol,
    positionSide: 'BOTH',
    positionAmt: amount,
    unrealizedProfit: '0',
    isolatedMargin: '0',
    notional: '100',
    isolatedWallet: '0',
    initialMargin: '0',
    maintMargin: '0',
    updateTime: time,
  };
}

describe('AccountPoller', () => {
  it('counts and logs a held position whose symbol the registry lacks instead of dropping it unseen', async () => {
    const server = await ScriptedServer.start();
    cleanup.push(() => server.close());
    const now = Date.now();
    server.on('GET', '/fapi/v1/time', () => ({ body: { serverTime: Date.now() } }));
    server.on('GET', '/fapi/v3/account', () => ({
      body: { assets: [], positions: [position('BTCUSDT', '1', now), position('NEWUSDT', '-250', now)] },
    }));
    const rest = new RestClient(
      { baseUrl: server.url, apiKey: 'k', apiSecret: 's' },
      { logger: silentLogger() },
    );
    cleanup.push(() => rest.close());
    const hub = {
      state: 'ready',
      symbols: ['BTCUSDT'],
      peerId: 1,
      welcome: undefined,
      onState: () => () => {},
      onMessage: () => () => {},
      sendIngest: () => true,
    } as unknown as CollectorHub;
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = (message: string) => {
      warnings.push(message);
    };
    const ctx: CollectorContext = {
      api: new UsdmApi(rest, { logger: silentLogger() }),
      hub,
      link: new IngestLink(hub, silentLogger()),
      logger,
    };
    const poller = new AccountPoller(ctx, { kind: 'account', version: 'v3', intervalMs: 60_000 });
    await poller.poll();
    expect(poller.status().detail.records).toBe(1);
    expect(poller.status().detail.unknownSymbols).toBe(1);
    expect(warnings.length).toBe(1);
  });
});
