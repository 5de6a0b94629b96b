// The simulator's configuration (file, flags or code), checked with errors that name the field.
import { Decimal } from '../ts/exact/decimal.js';
import { type FaultSpec, FaultSpecError, parseFaultSpec } from './server/faults.js';
import { resolveLimits, type ServerLimits, ServerLimitsError } from './server/server-limits.js';
import { DEFAULT_SYMBOLS } from './symbols.js';

/** Port of the simulator when none is configured (the CLI and `npm start`). */
export const DEFAULT_SIM_PORT = 8765;
export const DEFAULT_SIM_HOST = '127.0.0.1';

/**
 * The documented demo key pair, used when no account is configured. It is public on purpose: the
 * simulator holds no real money, and clients configured with it work out of the box.
 */
export const DEMO_API_KEY = 'tributary-sim-demo-api-key';
export const DEMO_API_SECRET = 'tributary-sim-demo-api-secret';
/** Starting USDT balance of an account configured without balances. */
export const DEFAULT_BALANCE_USDT = '10000';

/** One simulated account (the engine's `AccountConfig`). */
export interface SimAccountConfig {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Asset → starting wallet balance as a decimal string (default `{ USDT: "10000" }`). */
  readonly balances?: Readonly<Record<string, string>>;
  readonly positionMode?: 'one-way' | 'hedge';
  readonly makerFee?: string;
  readonly takerFee?: string;
  readonly defaultLeverage?: number;
}

/** Where the market's trades come from (the market's `MarketSourceConfig`). */
export type SimMarketSource =
  | { readonly kind: 'random-walk'; readonly tradesPerSecond?: number }
  | {
      readonly kind: 'replay';
      readonly csvPath: string;
      readonly symbol: string;
      readonly speed: number | 'max';
    };

/** Everything `startSimulator` needs; only `accounts` is required. */
export interface SimulatorConfig {
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 8765; 0 picks a free port, as tests do). */
  readonly port?: number;
  readonly accounts: readonly SimAccountConfig[];
  /** Names of the listed contracts, a subset of the built-in ones (default: all). */
  readonly symbols?: readonly string[];
  readonly source?: SimMarketSource;
  /** Seed of the random walk (default: fixed, so runs repeat). */
  readonly seed?: number;
  readonly fundingIntervalMs?: number;
  /** How often the engine advances (funding, expiries), default 100 ms. */
  readonly advanceIntervalMs?: number;
  readonly limits?: Partial<ServerLimits>;
  /** Faults standing from the start. */
  readonly faults?: FaultSpec;
}

/** A configuration that does not hold together; `field` is its path, e.g. `accounts[0].apiSecret`. */
export class SimulatorConfigError extends Error {
  override readonly name = 'SimulatorConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

const TOP_LEVEL = new Set([
  'host',
  'port',
  'accounts',
  'symbols',
  'source',
  'seed',
  'fundingIntervalMs',
  'advanceIntervalMs',
  'limits',
  'faults',
]);
const ACCOUNT_FIELDS = new Set([
  'apiKey',
  'apiSecret',
  'balances',
  'positionMode',
  'makerFee',
  'takerFee',
  'defaultLeverage',
]);
/** What the server accepts in `X-MBX-APIKEY`; a configured key must be sendable. */
const CREDENTIAL_PATTERN = /^[\x21-\x7e]{8,128}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(field: string, message: string): never {
  throw new SimulatorConfigError(field, message);
}

function checkKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) fail(path === '' ? key : `${path}.${key}`, `is not a known setting`);
  }
}

function positiveInt(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > max) {
    fail(field, `must be a positive integer up to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function decimalText(value: unknown, field: string, min: Decimal, max: Decimal): string {
  const parsed = typeof value === 'string' ? Decimal.tryParse(value) : undefined;
  if (typeof value !== 'string' || parsed === undefined) {
    fail(field, `must be a decimal number written as a string, got ${JSON.stringify(value)}`);
  }
  if (parsed.cmp(min) < 0 || parsed.cmp(max) > 0)
    fail(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function account(value: unknown, path: string): SimAccountConfig {
  if (!isRecord(value)) fail(path, 'must be an object');
  checkKeys(value, ACCOUNT_FIELDS, path);
  const { apiKey, apiSecret } = value;
  if (typeof apiKey !== 'string' || !CREDENTIAL_PATTERN.test(apiKey)) {
    fail(`${path}.apiKey`, 'must be 8 to 128 printable ASCII characters without spaces');
  }
  if (typeof apiSecret !== 'string' || !CREDENTIAL_PATTERN.test(apiSecret)) {
    // The secret itself is never echoed.
    fail(`${path}.apiSecret`, 'must be 8 to 128 printable ASCII characters without spaces');
  }
  const result: {
    apiKey: string;
    apiSecret: string;
    balances?: Record<string, string>;
    positionMode?: 'one-way' | 'hedge';
    makerFee?: string;
    takerFee?: string;
    defaultLeverage?: number;
  } = { apiKey, apiSecret };
  if (value.balances !== undefined) {
    if (!isRecord(value.balances)) fail(`${path}.balances`, 'must be an object of asset → amount');
    const balances: Record<string, string> = {};
    for (const [asset, amount] of Object.entries(value.balances)) {
      if (!/^[A-Z0-9]{2,12}$/.test(asset)) fail(`${path}.balances.${asset}`, 'is not an asset name');
      balances[asset] = decimalText(
        amount,
        `${path}.balances.${asset}`,
        Decimal.ZERO,
        Decimal.parse('1000000000000000'),
      );
    }
    result.balances = balances;
  }
  if (value.positionMode !== undefined) {
    if (value.positionMode !== 'one-way' && value.positionMode !== 'hedge') {
      fail(`${path}.positionMode`, `must be "one-way" or "hedge", got ${JSON.stringify(value.positionMode)}`);
    }
    result.positionMode = value.positionMode;
  }
  for (const fee of ['makerFee', 'takerFee'] as const) {
    if (value[fee] !== undefined) {
      result[fee] = decimalText(value[fee], `${path}.${fee}`, Decimal.parse('-0.01'), Decimal.parse('0.01'));
    }
  }
  if (value.defaultLeverage !== undefined) {
    result.defaultLeverage = positiveInt(value.defaultLeverage, `${path}.defaultLeverage`, 125);
  }
  return result;
}

function source(value: unknown): SimMarketSource {
  if (!isRecord(value)) fail('source', 'must be an object');
  if (value.kind === 'random-walk') {
    checkKeys(value, new Set(['kind', 'tradesPerSecond']), 'source');
    if (value.tradesPerSecond === undefined) return { kind: 'random-walk' };
    const tps = value.tradesPerSecond;
    if (typeof tps !== 'number' || !Number.isFinite(tps) || tps <= 0 || tps > 100_000) {
      fail('source.tradesPerSecond', `must be a number in (0, 100000], got ${JSON.stringify(tps)}`);
    }
    return { kind: 'random-walk', tradesPerSecond: tps };
  }
  if (value.kind === 'replay') {
    checkKeys(value, new Set(['kind', 'csvPath', 'symbol', 'speed']), 'source');
    const { csvPath, symbol, speed } = value;
    if (typeof csvPath !== 'string' || csvPath === '') fail('source.csvPath', 'must be a file path');
    if (typeof symbol !== 'string' || !/^[A-Z0-9]{1,20}USDT$/.test(symbol)) {
      fail('source.symbol', `must be a USDT contract name such as BTCUSDT, got ${JSON.stringify(symbol)}`);
    }
    if (
      speed !== 'max' &&
      (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0 || speed > 1e6)
    ) {
      fail('source.speed', `must be a positive number or "max", got ${JSON.stringify(speed)}`);
    }
    return { kind: 'replay', csvPath, symbol, speed };
  }
  return fail('source.kind', `must be "random-walk" or "replay", got ${JSON.stringify(value.kind)}`);
}

/**
 * Checks an untrusted value (a parsed JSON file, or an object built from flags) and returns it as a
 * `SimulatorConfig`. Throws {@link SimulatorConfigError} naming the first bad field.
 */
export function validateSimulatorConfig(value: unknown): SimulatorConfig {
  if (!isRecord(value)) fail('config', 'must be a JSON object');
  checkKeys(value, TOP_LEVEL, '');
  const config: Record<string, unknown> = {};
  if (value.host !== undefined) {
    if (typeof value.host !== 'string' || !/^[A-Za-z0-9.:\-[\]]{1,253}$/.test(value.host)) {
      fail('host', `must be a host name or IP address, got ${JSON.stringify(value.host)}`);
    }
    config.host = value.host;
  }
  if (value.port !== undefined) {
    const port = value.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
      fail('port', `must be an integer 0..65535, got ${JSON.stringify(port)}`);
    }
    config.port = port;
  }
  if (!Array.isArray(value.accounts) || value.accounts.length === 0) {
    fail('accounts', 'must be a non-empty list of accounts');
  }
  const accounts = value.accounts.map((a, i) => account(a, `accounts[${i}]`));
  const seen = new Set<string>();
  accounts.forEach((a, i) => {
    if (seen.has(a.apiKey)) fail(`accounts[${i}].apiKey`, 'is used by an earlier account');
    seen.add(a.apiKey);
  });
  config.accounts = accounts;
  if (value.symbols !== undefined) {
    const known = new Set(DEFAULT_SYMBOLS.map((s) => s.symbol));
    if (!Array.isArray(value.symbols) || value.symbols.length === 0)
      fail('symbols', 'must be a non-empty list');
    value.symbols.forEach((s, i) => {
      if (typeof s !== 'string' || !known.has(s)) {
        fail(`symbols[${i}]`, `must be one of ${[...known].join(', ')}, got ${JSON.stringify(s)}`);
      }
    });
    if (new Set(value.symbols).size !== value.symbols.length) fail('symbols', 'lists a symbol twice');
    config.symbols = value.symbols;
  }
  if (value.source !== undefined) config.source = source(value.source);
  if (value.seed !== undefined) {
    if (typeof value.seed !== 'number' || !Number.isSafeInteger(value.seed)) {
      fail('seed', `must be an integer, got ${JSON.stringify(value.seed)}`);
    }
    config.seed = value.seed;
  }
  if (value.fundingIntervalMs !== undefined) {
    config.fundingIntervalMs = positiveInt(value.fundingIntervalMs, 'fundingIntervalMs');
  }
  if (value.advanceIntervalMs !== undefined) {
    config.advanceIntervalMs = positiveInt(value.advanceIntervalMs, 'advanceIntervalMs', 60_000);
  }
  if (value.limits !== undefined) {
    if (!isRecord(value.limits)) fail('limits', 'must be an object');
    try {
      resolveLimits(value.limits as Partial<ServerLimits>);
    } catch (error) {
      if (error instanceof ServerLimitsError) fail(error.field, error.message.slice(error.field.length + 1));
      throw error;
    }
    config.limits = value.limits;
  }
  if (value.faults !== undefined) {
    try {
      config.faults = parseFaultSpec(value.faults, 'faults');
    } catch (error) {
      if (error instanceof FaultSpecError) fail(error.field, error.message.slice(error.field.length + 1));
      throw error;
    }
  }
  return config as unknown as SimulatorConfig;
}

/** The demo account: the documented key pair and the default balance. */
export function demoAccount(): SimAccountConfig {
  return { apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, balances: { USDT: DEFAULT_BALANCE_USDT } };
}
