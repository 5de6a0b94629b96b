import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../package-root.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { STRATEGY_NAMES } from './strategy-names.js';
import { readTributaryConfig, tributaryJsonSchema } from './tributary-config.js';

function issuesOf(raw: unknown): string[] {
  try {
    readTributaryConfig(raw, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the configuration schema', () => {
  it('fills every default of every section from an empty file', () => {
    expect(readTributaryConfig({}, 'test')).toEqual({
      exchange: {
        kind: 'simulator',
        restUrl: undefined,
        wsUrl: undefined,
        recvWindow: 5000,
        weightShare: 0.8,
        budget: {
          coordinator: 'hub',
          fallbackShare: 0.25,
          orderReserve: 0.05,
          limitsRefreshMs: 3_600_000,
        },
      },
      simulator: {
        host: '127.0.0.1',
        port: 0,
        seed: 1,
        symbols: [],
        balance: '10000',
        positionMode: 'one-way',
        tradesPerSecond: 20,
      },
      hub: { host: '127.0.0.1', port: 7700, transport: 'auto', snapshotIntervalMs: 30_000 },
      gateway: {
        enabled: false,
        host: '127.0.0.1',
        port: 7710,
        mode: 'first',
        members: [],
        claimLog: '.tributary/gateway/claims.jsonl',
        placeWithinMs: 60_000,
        retentionMs: 604_800_000,
        requestTimeoutMs: 30_000,
        tls: false,
      },
      symbols: [],
      collectors: {
        kline: { instances: 1, intervalMs: 1000, intervals: ['1m', '15m'], fullEveryMs: 30_000 },
        hotKline: {
          instances: 1,
          intervalMs: 200,
          intervals: ['1m'],
          top: 5,
          minQuoteVolume: '0',
          conditionRefreshMs: 300_000,
        },
        tick: { instances: 1, maxPollsPerSecond: 2 },
        stream: {
          instances: 1,
          intervals: ['1m', '15m'],
          maxStreamsPerConnection: 200,
          markFallbackMs: 3000,
          quietCloseBoundMs: 2500,
          marketStallMs: 10_000,
          connectionStallMs: 60_000,
          publicStallMs: 30_000,
        },
        account: { instances: 1, intervalMs: 5000, version: 'v3' },
        positionRisk: { instances: 1, intervalMs: 5000, version: 'v3' },
        userStream: { instances: 1 },
        income: { instances: 1, intervalMs: 60_000 },
        universe: { instances: 1, intervalMs: 86_400_000 },
      },
      trader: { instances: 1, mode: 'paper', intervals: ['1m', '15m'], strategyConfig: {} },
      supervisor: { maxRestarts: 5, restartWindowMs: 60_000, restartDelayMs: 1000, stopTimeoutMs: 5000 },
      risk: {
        enabled: true,
        banList: { symbol4h: '-150', symbol24h: '-1800', account24h: '-3000' },
        preTrade: {
          followBanList: true,
          maxTickAgeMs: 10_000,
          maxSymbolNotional: '10000',
          maxTotalNotional: '50000',
          maxLeverage: '5',
          openingOrderShare: '0.8',
        },
        lossGuard: { forceClosePercent: '7', closeAllBelow: '-3000', checkMs: 500, retryMs: 3000 },
        stopLoss: {
          enabled: true,
          rungs: 5,
          firstPercent: '5',
          stepPercent: '0.5',
          minCoverage: '0.95',
          maxCoverage: '1.05',
          maxOpenStops: 10,
          repricePercent: '1',
          workingType: 'MARK_PRICE',
          coverageGraceMs: 5000,
          queuedGraceMs: 300_000,
          settleMs: 1000,
          resyncMs: 15_000,
          fullResyncMs: 60_000,
          confirmAttempts: 3,
        },
        orderTimeouts: {
          enabled: true,
          checkMs: 250,
          reconcileMs: 60_000,
          rules: [
            { prefix: 'm_', maxAgeMs: 2500, takerShare: '0.3' },
            { prefix: 'wTake', maxAgeMs: 15_000, takerShare: '0' },
            { prefix: 'MC', maxAgeMs: 60_000, takerShare: '0' },
          ],
        },
      },
      publish: {
        enabled: true,
        intervalMs: 5000,
        target: { kind: 'folder', dir: '.tributary/public' },
        retry: { attempts: 4, baseDelayMs: 500, maxDelayMs: 5000 },
        equityDays: 30,
        equityPoints: 2000,
        dailyDays: 90,
        roundTrips: 200,
        largeLoss: '-50',
        largeLosses: 50,
        chartInterval: '15m',
        chartCandles: 300,
        chartSymbols: 20,
        chartDays: 3,
      },
      dashboard: { enabled: true, host: '127.0.0.1', port: 7780, logLines: 500, trustedProxies: [] },
      alerts: {
        label: 'Tributary',
        minIntervalMs: 60_000,
        gatherMs: 1000,
        timeoutMs: 5000,
        attempts: 3,
        retryDelayMs: 2000,
        maxPending: 1000,
        maxKinds: 15,
        maxDetailChars: 200,
        watch: {
          checkMs: 5000,
          peerSilentMs: 30_000,
          staleDataMs: 60_000,
          sparseKinds: ['universe', 'income', 'user-stream'],
        },
      },
      store: {
        sqlitePath: '.tributary/records.sqlite',
        url: undefined,
        account: 'main',
        flushMs: 200,
        maxBatch: 2000,
      },
      recorder: {
        enabled: true,
        reconcileMs: 300_000,
        incomeMs: 60_000,
        snapshotMs: 60_000,
        lookbackMs: 86_400_000,
        overlapMs: 120_000,
        activeDays: 7,
        symbols: [],
        klineSymbols: [],
        klineIntervals: [],
      },
    });
  });

  it('takes a MySQL URL for the store only without a password', () => {
    expect(
      readTributaryConfig({ store: { url: 'mysql://rec@db.local:3306/tributary' } }, 't').store.url,
    ).toBe('mysql://rec@db.local:3306/tributary');
    expect(() =>
      readTributaryConfig({ store: { url: 'mysql://rec:pw@db.local:3306/tributary' } }, 't'),
    ).toThrow(/store\.url: must not carry a password: put the whole URL in TRIBUTARY_STORE_URL/);
    expect(() => readTributaryConfig({ store: { url: 'postgres://db/x' } }, 't')).toThrow(
      /store\.url: must be a URL/,
    );
  });

  it('gives each parse its own default lists', () => {
    const a = readTributaryConfig({}, 'a');
    const b = readTributaryConfig({}, 'b');
    expect(a.trader.intervals).not.toBe(b.trader.intervals);
  });

  it('derives the exchange endpoints from the kind unless given', () => {
    expect(readTributaryConfig({ exchange: { kind: 'binance' } }, 't').exchange).toMatchObject({
      restUrl: 'https://fapi.binance.com',
      wsUrl: 'wss://fstream.binance.com',
    });
    expect(
      readTributaryConfig({ exchange: { kind: 'testnet', restUrl: 'http://127.0.0.1:9' } }, 't').exchange,
    ).toMatchObject({ restUrl: 'http://127.0.0.1:9', wsUrl: 'wss://demo-fstream.binance.com' });
  });

  it('validates the shared weight budget, naming each bad field', () => {
    expect(
      issuesOf({
        exchange: {
          budget: {
            coordinator: 'host',
            group: 'a b',
            fallbackShare: 0,
            orderReserve: 0.6,
            limitsRefreshMs: 1,
          },
        },
      }),
    ).toEqual([
      'exchange.budget.coordinator: must be one of hub, none, got "host"',
      'exchange.budget.group: must be 1 to 64 characters of A-Z a-z 0-9 . _ : + @ -, got "a b"',
      'exchange.budget.fallbackShare: must be a number from 0.01 to 1, got 0',
      'exchange.budget.orderReserve: must be a number from 0 to 0.5, got 0.6',
      'exchange.budget.limitsRefreshMs: must be an integer from 60000 to 86400000, got 1',
    ]);
    expect(
      readTributaryConfig({ exchange: { budget: { group: 'box-1' } } }, 'test').exchange.budget,
    ).toMatchObject({
      coordinator: 'hub',
      group: 'box-1',
    });
  });

  it('collectors.stream.connectionStallMs: 0 turns the watch off, 10 s to 1 h taken, a shorter bound refused', () => {
    const stall = (ms: unknown) => ({ collectors: { stream: { connectionStallMs: ms } } });
    expect(readTributaryConfig(stall(0), 't').collectors.stream.connectionStallMs).toBe(0);
    expect(readTributaryConfig(stall(10_000), 't').collectors.stream.connectionStallMs).toBe(10_000);
    expect(issuesOf(stall(5_000))).toEqual([
      'collectors.stream.connectionStallMs: must be 0 (off) or an integer from 10000 to 3600000, got 5000',
    ]);
    expect(issuesOf(stall(3_600_001))).toEqual([
      'collectors.stream.connectionStallMs: must be an integer from 0 to 3600000, got 3600001',
    ]);
  });

  it('collectors.stream.publicStallMs: 0 turns the route watch off, 10 s to 1 h taken, a shorter bound refused', () => {
    const stall = (ms: unknown) => ({ collectors: { stream: { publicStallMs: ms } } });
    expect(readTributaryConfig({}, 't').collectors.stream.publicStallMs).toBe(30_000);
    expect(readTributaryConfig(stall(0), 't').collectors.stream.publicStallMs).toBe(0);
    expect(readTributaryConfig(stall(10_000), 't').collectors.stream.publicStallMs).toBe(10_000);
    expect(issuesOf(stall(9_999))).toEqual([
      'collectors.stream.publicStallMs: must be 0 (off) or an integer from 10000 to 3600000, got 9999',
    ]);
    expect(issuesOf(stall('30s'))).toHaveLength(1);
  });

  it('reports every problem at once, each at its own path', () => {
    expect(
      issuesOf({
        hub: 'localhost',
        simulator: { replay: { speed: 0 }, seed: 1.5, symbols: ['btcusdt'] },
        collectors: { kline: { instances: -1, intervalz: ['1m'] }, tick: { maxPollsPerSecond: '2' } },
        exchange: { restUrl: 'ftp://x', weightShare: 2 },
        trader: { intervals: '1m' },
        symbols: ['BTCUSDT', 7],
        extra: true,
      }),
    ).toEqual([
      'exchange.restUrl: must be a URL starting http:// or https://, got "ftp://x"',
      'exchange.weightShare: must be a number from 0.05 to 1, got 2',
      'simulator.seed: must be an integer from 0 to 2147483647, got 1.5',
      'simulator.symbols[0]: "btcusdt" is not a symbol name (A-Z, 0-9)',
      'simulator.replay.csvPath: is required (a non-empty string)',
      'simulator.replay.speed: must be a number from 1 to 1000000 or "max", got 0',
      'hub: must be an object, got "localhost"',
      'symbols[1]: must be a symbol name, got 7',
      'collectors.kline.instances: must be an integer from 0 to 64, got -1',
      'collectors.kline.intervalz: is not a known option',
      'collectors.tick.maxPollsPerSecond: must be a number from 0.1 to 8, got "2"',
      'trader.intervals: must be an array of interval names, got "1m"',
      'extra: is not a known option',
    ]);
  });

  it('refuses a root that is not an object', () => {
    expect(issuesOf([1])).toEqual(['(root): must be an object, got an array']);
    expect(issuesOf(null)).toEqual(['(root): must be an object, got null']);
  });

  it('refuses a symbol or an interval named twice, at its second place', () => {
    expect(issuesOf({ symbols: ['BTCUSDT', 'ETHUSDT', 'BTCUSDT'] })).toEqual([
      'symbols[2]: "BTCUSDT" is named twice',
    ]);
    expect(issuesOf({ recorder: { klineSymbols: ['ETHUSDT', 'ETHUSDT'] } })).toEqual([
      'recorder.klineSymbols[1]: "ETHUSDT" is named twice',
    ]);
    expect(issuesOf({ collectors: { kline: { intervals: ['1m', '15m', '1m'] } } })).toEqual([
      'collectors.kline.intervals[2]: "1m" is named twice',
    ]);
  });

  it('takes only IP addresses as trusted proxies of the dashboard', () => {
    expect(
      readTributaryConfig({ dashboard: { trustedProxies: ['127.0.0.1', '::1'] } }, 'test').dashboard
        .trustedProxies,
    ).toEqual(['127.0.0.1', '::1']);
    expect(issuesOf({ dashboard: { trustedProxies: ['localhost', 7] } })).toEqual([
      'dashboard.trustedProxies[0]: "localhost" is not an IP address (a host name is not resolved here)',
      'dashboard.trustedProxies[1]: must be an IP address, got 7',
    ]);
  });

  it('keeps the cross-section rules of the trading modes', () => {
    expect(issuesOf({ trader: { mode: 'testnet' }, exchange: { kind: 'binance' } })).toEqual([
      'trader.mode: "testnet" needs exchange.kind "testnet", got "binance"',
    ]);
    expect(
      readTributaryConfig({ trader: { mode: 'live' }, exchange: { kind: 'binance' } }, 't').trader.mode,
    ).toBe('live');
  });

  it('refuses an unknown strategy name, naming the field and the strategies there are', () => {
    expect(issuesOf({ trader: { strategy: 'bolinger' } })).toEqual([
      'trader.strategy: unknown strategy "bolinger" (one of demo, bollinger, factor, example; none runs the book only)',
    ]);
    expect(issuesOf({ trader: { strategy: 7 } })).toEqual([
      'trader.strategy: must be a strategy name such as "demo", got 7',
    ]);
    for (const name of [...STRATEGY_NAMES, 'none'])
      expect(readTributaryConfig({ trader: { strategy: name } }, 't').trader.strategy).toBe(name);
    expect(readTributaryConfig({}, 't').trader.strategy).toBeUndefined();
  });

  it('refuses an unknown strategy through the environment as from the file (what every process loads)', () => {
    expect(() => loadConfig(undefined, { TRIBUTARY__TRADER__STRATEGY: 'nope' })).toThrow(
      /trader\.strategy: unknown strategy "nope"/,
    );
  });

  it('accepts the editor schema pointer and leaves it out of the result', () => {
    const config = readTributaryConfig({ $schema: './tributary.schema.json' }, 't');
    expect(Object.keys(config)).not.toContain('$schema');
  });
});

describe('config/tributary.schema.json', () => {
  it('is the schema the code validates with (regenerate: npm run config:schema)', () => {
    const committed: unknown = JSON.parse(
      readFileSync(join(packageRoot, 'config', 'tributary.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(tributaryJsonSchema());
  });

  it('is what the example configuration points its editors to', () => {
    const example = JSON.parse(
      readFileSync(join(packageRoot, 'config', 'tributary.example.json'), 'utf8'),
    ) as {
      $schema?: string;
    };
    expect(example.$schema).toBe('./tributary.schema.json');
  });
});
