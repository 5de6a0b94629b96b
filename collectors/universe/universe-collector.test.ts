// UniverseCollector against scripted exchangeInfo answers: what reaches the hub's registry.
import { afterEach, describe, expect, it } from 'vitest';
import { exchangeInfo } from '../../sim/market/market-endpoints.js';
import { DEFAULT_SYMBOLS } from '../../sim/symbols.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { ScriptedServer } from '../../ts/exchange/testing/scripted-server.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { CollectorContext } from '../collector-context.js';
import { UniverseCollector } from './universe-collector.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('UniverseCollector', () => {
  it('keeps the universe when exchangeInfo lists no tradable contract, and says so', async () => {
    const server = await ScriptedServer.start();
    cleanup.push(() => server.close());
    let specs = DEFAULT_SYMBOLS;
    server.on('GET', '/fapi/v1/exchangeInfo', () => ({ body: exchangeInfo(specs, Date.now(), () => 0) }));
    server.on('GET', '/fapi/v1/ticker/24hr', () => ({
      body: specs.map((s) => ({ symbol: s.symbol, quoteVolume: '1000' })),
    }));
    const rest = new RestClient({ baseUrl: server.url }, { logger: silentLogger() });
    cleanup.push(() => rest.close());
    const published: string[][] = [];
    const hub = {
      state: 'ready',
      onState: () => () => {},
      setSymbols: (symbols: string[]) => {
        published.push(symbols);
        return Promise.resolve();
      },
      setRanks: () => Promise.resolve(),
    } as unknown as CollectorContext['hub'];
    const ctx = {
      api: new UsdmApi(rest, { logger: silentLogger() }),
      hub,
      link: {} as CollectorContext['link'],
      logger: silentLogger(),
    };
    const universe = new UniverseCollector(ctx, { intervalMs: 86_400_000, symbols: [] });
    await universe.refresh();
    const before = universe.universe.length;
    expect(before).toBeGreaterThan(0);
    // A well-formed answer with no contract in it (maintenance, a glitch): nothing to trade on.
    specs = [];
    await expect(universe.refresh()).rejects.toThrow(/no tradable/);
    expect(universe.universe.length).toBe(before);
    expect(published.map((p) => p.length)).toEqual([before]);
  });
});
