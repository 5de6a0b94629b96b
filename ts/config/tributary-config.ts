// The whole system's configuration: its shape, defaults and validation (every error names its field).
import { INTERVALS, type IntervalName } from '../native/interval.js';
import { ConfigReader } from './config-reader.js';

/** Which exchange the system talks to. */
export type ExchangeKind = 'simulator' | 'binance' | 'testnet';

/** Binance's production and testnet endpoints (REST base, websocket base). */
export const EXCHANGE_ENDPOINTS = {
  binance: { restUrl: 'https://fapi.binance.com', wsUrl: 'wss://fstream.binance.com' },
  testnet: { restUrl: 'https://demo-fapi.binance.com', wsUrl: 'wss://demo-fstream.binance.com' },
} as const;

export interface ExchangeConfig {
  readonly kind: ExchangeKind;
  /** REST base URL; derived from `kind` (the simulator's own address for `simulator`). */
  readonly restUrl: string | undefined;
  /** Websocket base URL (routes `/public`, `/market`, `/private` are appended). */
  readonly wsUrl: string | undefined;
  readonly recvWindow: number;
  /** Share of the exchange's per-minute IP weight limit this machine may use (0..1). */
  readonly weightShare: number;
}

export interface SimulatorSettings {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly seed: number;
  /** Contracts the simulator lists (empty: its defaults). */
  readonly symbols: readonly string[];
  /** Starting USDT balance of the account, exact. */
  readonly balance: string;
  readonly positionMode: 'one-way' | 'hedge';
  readonly tradesPerSecond: number;
  /** Replay an aggTrades CSV instead of the random walk. */
  readonly replay:
    | { readonly csvPath: string; readonly symbol: string; readonly speed: number | 'max' }
    | undefined;
}

export interface HubSettings {
  /** Address the hub listens on (loopback by default). */
  readonly host: string;
  readonly port: number;
  /** Where peers connect; derived from host/port when absent. */
  readonly url: string | undefined;
  readonly transport: 'auto' | 'uws' | 'ws';
  readonly snapshotIntervalMs: number;
}

export interface PollerSettings {
  readonly instances: number;
  readonly intervalMs: number;
}

export interface CollectorsConfig {
  readonly kline: PollerSettings & {
    readonly intervals: readonly IntervalName[];
    readonly fullEveryMs: number;
  };
  readonly hotKline: PollerSettings & { readonly intervals: readonly IntervalName[]; readonly top: number };
  readonly tick: { readonly instances: number; readonly maxPollsPerSecond: number };
  readonly stream: {
    readonly instances: number;
    readonly intervals: readonly IntervalName[];
    readonly maxStreamsPerConnection: number;
  };
  readonly account: PollerSettings & { readonly version: 'v3' | 'v2' };
  readonly positionRisk: PollerSettings & { readonly version: 'v3' | 'v2' };
  readonly userStream: { readonly instances: number };
  readonly income: PollerSettings;
  readonly universe: PollerSettings;
}

export interface TraderSettings {
  readonly instances: number;
  readonly mode: 'paper' | 'live' | 'testnet' | 'dry-run';
  readonly intervals: readonly IntervalName[];
}

/** Secrets: only ever from the environment or a secrets file, never from the config file or logged. */
export interface Secrets {
  readonly apiKey: string | undefined;
  readonly apiSecret: string | undefined;
  readonly hubSecret: string | undefined;
}

export interface TributaryConfig {
  readonly exchange: ExchangeConfig;
  readonly simulator: SimulatorSettings;
  readonly hub: HubSettings;
  /** Symbols to trade and collect (empty: every USDT perpetual the universe lists). */
  readonly symbols: readonly string[];
  readonly collectors: CollectorsConfig;
  readonly trader: TraderSettings;
}

const SYMBOL = /^[A-Z0-9]{2,20}$/;

function checkInterval(item: string): string | undefined {
  return (INTERVALS as readonly string[]).includes(item) ? undefined : `"${item}" is not a Binance interval`;
}

function checkSymbol(item: string): string | undefined {
  return SYMBOL.test(item) ? undefined : `"${item}" is not a symbol name (A-Z, 0-9)`;
}

function poller(r: ConfigReader, instances: number, intervalMs: number): PollerSettings {
  return {
    instances: r.int('instances', instances, 0, 64),
    intervalMs: r.int('intervalMs', intervalMs, 50, 86_400_000),
  };
}

/**
 * Validates a parsed configuration object (file contents with environment overrides applied) and
 * fills defaults. Throws a `ConfigError` listing every problem with its field path.
 */
export function readTributaryConfig(raw: unknown, source: string): TributaryConfig {
  const root = ConfigReader.root(raw);

  const ex = root.object('exchange');
  const kind = ex.oneOf<ExchangeKind>('kind', ['simulator', 'binance', 'testnet'], 'simulator');
  const exchange: ExchangeConfig = {
    kind,
    restUrl:
      ex.optionalString('restUrl') ?? (kind === 'simulator' ? undefined : EXCHANGE_ENDPOINTS[kind].restUrl),
    wsUrl: ex.optionalString('wsUrl') ?? (kind === 'simulator' ? undefined : EXCHANGE_ENDPOINTS[kind].wsUrl),
    recvWindow: ex.int('recvWindow', 5000, 1, 60_000),
    weightShare: ex.number('weightShare', 0.8, 0.05, 1),
  };
  ex.rejectUnknownKeys();

  const sim = root.object('simulator');
  const replayReader = sim.object('replay');
  let replay: SimulatorSettings['replay'];
  if (sim.has('replay')) {
    replay = {
      csvPath: replayReader.string('csvPath', ''),
      symbol: replayReader.string('symbol', 'BTCUSDT'),
      speed: replayReader.numberOrWord('speed', 'max', 1, 1, 1_000_000),
    };
    if (replay.csvPath === '') replayReader.reject('csvPath', 'is required when replay is set');
  }
  replayReader.rejectUnknownKeys();
  const simulator: SimulatorSettings = {
    host: sim.string('host', '127.0.0.1'),
    port: sim.int('port', 0, 0, 65_535),
    seed: sim.int('seed', 1, 0, 2 ** 31 - 1),
    symbols: sim.strings('symbols', [], checkSymbol),
    balance: sim.decimalString('balance', '10000'),
    positionMode: sim.oneOf('positionMode', ['one-way', 'hedge'], 'one-way'),
    tradesPerSecond: sim.number('tradesPerSecond', 20, 0.1, 100_000),
    replay,
  };
  sim.rejectUnknownKeys();

  const hubReader = root.object('hub');
  const hub: HubSettings = {
    host: hubReader.string('host', '127.0.0.1'),
    port: hubReader.int('port', 7700, 0, 65_535),
    url: hubReader.optionalString('url'),
    transport: hubReader.oneOf('transport', ['auto', 'uws', 'ws'], 'auto'),
    snapshotIntervalMs: hubReader.int('snapshotIntervalMs', 30_000, 1000, 3_600_000),
  };
  hubReader.rejectUnknownKeys();

  const symbols = root.strings('symbols', [], checkSymbol);

  const c = root.object('collectors');
  const klineR = c.object('kline');
  const kline = {
    ...poller(klineR, 1, 1000),
    intervals: klineR.strings('intervals', ['1m', '15m'], checkInterval) as IntervalName[],
    fullEveryMs: klineR.int('fullEveryMs', 30_000, 1000, 3_600_000),
  };
  klineR.rejectUnknownKeys();
  const hotR = c.object('hotKline');
  const hotKline = {
    ...poller(hotR, 1, 200),
    intervals: hotR.strings('intervals', ['1m'], checkInterval) as IntervalName[],
    top: hotR.int('top', 5, 1, 500),
  };
  hotR.rejectUnknownKeys();
  const tickR = c.object('tick');
  // All-symbol bookTicker costs weight 5: 2 polls a second is 600 of the 2,400 a minute.
  const tick = {
    instances: tickR.int('instances', 1, 0, 64),
    maxPollsPerSecond: tickR.number('maxPollsPerSecond', 2, 0.1, 8),
  };
  tickR.rejectUnknownKeys();
  const streamR = c.object('stream');
  const stream = {
    instances: streamR.int('instances', 1, 0, 64),
    intervals: streamR.strings('intervals', ['1m', '15m'], checkInterval) as IntervalName[],
    maxStreamsPerConnection: streamR.int('maxStreamsPerConnection', 200, 1, 1024),
  };
  streamR.rejectUnknownKeys();
  const accountR = c.object('account');
  const account = { ...poller(accountR, 1, 5000), version: accountR.oneOf('version', ['v3', 'v2'], 'v3') };
  accountR.rejectUnknownKeys();
  const riskR = c.object('positionRisk');
  const positionRisk = { ...poller(riskR, 1, 5000), version: riskR.oneOf('version', ['v3', 'v2'], 'v3') };
  riskR.rejectUnknownKeys();
  const userR = c.object('userStream');
  const userStream = { instances: userR.int('instances', 1, 0, 4) };
  userR.rejectUnknownKeys();
  const incomeR = c.object('income');
  const income = poller(incomeR, 1, 60_000);
  incomeR.rejectUnknownKeys();
  const universeR = c.object('universe');
  const universe = poller(universeR, 1, 86_400_000);
  universeR.rejectUnknownKeys();
  c.rejectUnknownKeys();

  const t = root.object('trader');
  const trader: TraderSettings = {
    instances: t.int('instances', 1, 0, 16),
    mode: t.oneOf('mode', ['paper', 'live', 'testnet', 'dry-run'], 'paper'),
    intervals: t.strings('intervals', ['1m', '15m'], checkInterval) as IntervalName[],
  };
  t.rejectUnknownKeys();
  if (trader.mode === 'live' && exchange.kind !== 'binance') {
    t.reject('mode', `"live" needs exchange.kind "binance", got "${exchange.kind}"`);
  }
  if (trader.mode === 'testnet' && exchange.kind !== 'testnet') {
    t.reject('mode', `"testnet" needs exchange.kind "testnet", got "${exchange.kind}"`);
  }

  root.rejectUnknownKeys();
  root.throwIfInvalid(source);
  return {
    exchange,
    simulator,
    hub,
    symbols,
    collectors: { kline, hotKline, tick, stream, account, positionRisk, userStream, income, universe },
    trader,
  };
}
