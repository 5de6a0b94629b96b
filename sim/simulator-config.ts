// The simulator's configuration (file, flags or code): a zod schema, with errors that name the field.
import { z } from 'zod';
import { Decimal } from '../ts/exact/decimal.js';
import { type FaultSpec, FaultSpecError, parseFaultSpec } from './server/faults.js';
import { resolveLimits, type ServerLimits, ServerLimitsError } from './server/server-limits.js';
import { DEFAULT_SYMBOLS } from './symbols.js';
import { MAX_UNIVERSE, syntheticBase } from './synthetic-universe.js';

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

/** What the server accepts in `X-MBX-APIKEY`; a configured key must be sendable. */
const CREDENTIAL_PATTERN = /^[\x21-\x7e]{8,128}$/;
const CREDENTIAL_RULE = 'must be 8 to 128 printable ASCII characters without spaces';

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

/** A decimal written as a string, within `[min, max]`. */
function decimalText(min: string, max: string) {
  return z.string({ error: 'must be a decimal number written as a string' }).superRefine((text, ctx) => {
    const value = Decimal.tryParse(text);
    if (value === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a decimal number written as a string, got ${JSON.stringify(text)}`,
      });
    } else if (value.lt(Decimal.parse(min)) || value.gt(Decimal.parse(max))) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${text}` });
    }
  });
}

function positiveInt(max = Number.MAX_SAFE_INTEGER) {
  return z
    .number({ error: `must be a positive integer up to ${max}` })
    .int(`must be a positive integer up to ${max}`)
    .min(1, `must be a positive integer up to ${max}`)
    .max(max, `must be a positive integer up to ${max}`);
}

// The secret is never echoed back in a message.
const credential = z.string({ error: CREDENTIAL_RULE }).regex(CREDENTIAL_PATTERN, CREDENTIAL_RULE);

const keyPairSchema = z.strictObject({ apiKey: credential, apiSecret: credential });

const accountSchema = z.strictObject({
  apiKey: credential,
  apiSecret: credential,
  /** More key pairs of the same account: they share its orders and its order-rate limits. */
  apiKeys: z.array(keyPairSchema).max(20).optional(),
  /** Asset → starting wallet balance as a decimal string (default `{ USDT: "10000" }`). */
  balances: z
    .record(
      z.string().regex(/^[A-Z0-9]{2,12}$/, 'is not an asset name'),
      decimalText('0', '1000000000000000'),
    )
    .optional(),
  positionMode: z.enum(['one-way', 'hedge'], { error: 'must be "one-way" or "hedge"' }).optional(),
  makerFee: decimalText('-0.01', '0.01').optional(),
  takerFee: decimalText('-0.01', '0.01').optional(),
  defaultLeverage: positiveInt(125).optional(),
});

const sourceSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('random-walk'),
      tradesPerSecond: z
        .number({ error: 'must be a number in (0, 100000]' })
        .gt(0, 'must be a number in (0, 100000]')
        .max(100_000, 'must be a number in (0, 100000]')
        .optional(),
    }),
    z.strictObject({
      kind: z.literal('replay'),
      csvPath: z.string().min(1, 'must be a file path'),
      symbol: z.string().regex(/^[A-Z0-9]{1,20}USDT$/, 'must be a USDT contract name such as BTCUSDT'),
      speed: z.union([z.literal('max'), z.number().gt(0).max(1e6)], {
        error: 'must be a positive number or "max"',
      }),
    }),
  ],
  { error: 'must be "random-walk" or "replay"' },
);

/** The simulator's configuration: only `accounts` is required. */
export const simulatorConfigSchema = z
  .strictObject({
    /** Interface to listen on (default 127.0.0.1). */
    host: z
      .string()
      .regex(/^[A-Za-z0-9.:\-[\]]{1,253}$/, 'must be a host name or IP address')
      .optional(),
    /** Port (default 8765; 0 picks a free port, as tests do). */
    port: z
      .number({ error: 'must be an integer 0..65535' })
      .int('must be an integer 0..65535')
      .min(0, 'must be an integer 0..65535')
      .max(65_535, 'must be an integer 0..65535')
      .optional(),
    accounts: z
      .array(accountSchema, { error: 'must be a non-empty list of accounts' })
      .min(1, 'must be a non-empty list of accounts'),
    /**
     * Contracts listed: the built-in six, then generated ones (XAAAUSDT, XAABUSDT, ...) up to this
     * many (default 6; about 600 is Binance's size).
     */
    universe: positiveInt(MAX_UNIVERSE).optional(),
    /** Names of the listed contracts, a subset of the universe (default: all of it). */
    symbols: z.array(z.string()).min(1, 'must be a non-empty list').optional(),
    source: sourceSchema.optional(),
    /** Seed of the random walk and the history (default: fixed, so runs repeat). */
    seed: z.number({ error: 'must be an integer' }).int('must be an integer').optional(),
    /** The generated past every symbol has from the first second. */
    history: z
      .strictObject({
        /** Days before the start (rounded back to a month); 0 for none. Default 46,000 (1,500 monthly bars). */
        days: z.number().int().min(0).max(100_000, 'must be an integer 0..100000').optional(),
      })
      .optional(),
    /** Share of the walk's trades that are other traders' liquidations (forceOrder streams), default 0.002. */
    liquidationShare: z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').optional(),
    /** Live aggTrades kept over all symbols together (default 2,000,000). */
    tapeBudget: positiveInt(50_000_000).optional(),
    fundingIntervalMs: positiveInt().optional(),
    /** How often the engine advances (funding, expiries, liquidation checks), default 100 ms. */
    advanceIntervalMs: positiveInt(60_000).optional(),
    limits: z.record(z.string(), z.unknown()).optional(),
    /** Faults standing from the start. */
    faults: z.unknown().optional(),
  })
  .superRefine((config, ctx) => {
    const keys = new Set<string>();
    config.accounts.forEach((account, i) => {
      const pairs = [{ apiKey: account.apiKey, path: ['accounts', i, 'apiKey'] }];
      (account.apiKeys ?? []).forEach((pair, j) => {
        pairs.push({ apiKey: pair.apiKey, path: ['accounts', i, 'apiKeys', j, 'apiKey'] });
      });
      for (const pair of pairs) {
        if (keys.has(pair.apiKey))
          ctx.addIssue({ code: 'custom', path: pair.path, message: 'is used by an earlier key' });
        keys.add(pair.apiKey);
      }
    });
    if (config.symbols !== undefined) {
      const known = listedNames(config.universe ?? DEFAULT_SYMBOLS.length);
      config.symbols.forEach((s, i) => {
        if (!known.has(s)) {
          ctx.addIssue({
            code: 'custom',
            path: ['symbols', i],
            message: `must be a listed contract (${DEFAULT_SYMBOLS.map((d) => d.symbol).join(', ')}${known.size > DEFAULT_SYMBOLS.length ? ', XAAAUSDT…' : ''}), got ${JSON.stringify(s)}`,
          });
        }
      });
      if (new Set(config.symbols).size !== config.symbols.length) {
        ctx.addIssue({ code: 'custom', path: ['symbols'], message: 'lists a symbol twice' });
      }
    }
    if (config.limits !== undefined) {
      try {
        resolveLimits(config.limits as Partial<ServerLimits>);
      } catch (error) {
        if (!(error instanceof ServerLimitsError)) throw error;
        ctx.addIssue({
          code: 'custom',
          path: error.field.split('.'),
          message: error.message.slice(error.field.length + 1),
        });
      }
    }
    if (config.faults !== undefined) {
      try {
        parseFaultSpec(config.faults, 'faults');
      } catch (error) {
        if (!(error instanceof FaultSpecError)) throw error;
        ctx.addIssue({
          code: 'custom',
          path: error.field.split('.'),
          message: error.message.slice(error.field.length + 1),
        });
      }
    }
  });

/** One simulated account (the engine's `AccountConfig`). */
export interface SimAccountConfig {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** More key pairs of the same account: they share its orders and its order-rate limits. */
  readonly apiKeys?: ReadonlyArray<{ readonly apiKey: string; readonly apiSecret: string }>;
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

/** Everything `startSimulator` needs; only `accounts` is required (see the schema for each field). */
export interface SimulatorConfig {
  readonly host?: string;
  readonly port?: number;
  readonly accounts: readonly SimAccountConfig[];
  readonly universe?: number;
  readonly symbols?: readonly string[];
  readonly source?: SimMarketSource;
  readonly seed?: number;
  readonly history?: { readonly days?: number };
  readonly liquidationShare?: number;
  readonly tapeBudget?: number;
  readonly fundingIntervalMs?: number;
  readonly advanceIntervalMs?: number;
  readonly limits?: Partial<ServerLimits>;
  /** Faults standing from the start. */
  readonly faults?: FaultSpec;
}

/** The contract names of a universe of `size` (built-in six first, then generated ones). */
function listedNames(size: number): Set<string> {
  const names = new Set(DEFAULT_SYMBOLS.slice(0, size).map((s) => s.symbol));
  for (let i = 0; names.size < size; i++) names.add(`${syntheticBase(i)}USDT`);
  return names;
}

/** `accounts[0].apiSecret` from zod's path. */
function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? 'config' : out;
}

/**
 * Checks an untrusted value (a parsed JSON file, or an object built from flags) and returns it as a
 * `SimulatorConfig`. Throws {@link SimulatorConfigError} naming the first bad field.
 */
export function validateSimulatorConfig(value: unknown): SimulatorConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimulatorConfigError('config', 'must be a JSON object');
  }
  const result = simulatorConfigSchema.safeParse(value);
  // The schema checked every field; the interfaces above are its readonly, exact-optional form.
  if (result.success) return result.data as unknown as SimulatorConfig;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new SimulatorConfigError('config', 'is not valid');
  if (issue.code === 'unrecognized_keys') {
    throw new SimulatorConfigError(fieldOf([...issue.path, issue.keys[0] ?? '']), 'is not a known setting');
  }
  throw new SimulatorConfigError(fieldOf(issue.path), issue.message);
}

/** The demo account: the documented key pair and the default balance. */
export function demoAccount(): SimAccountConfig {
  return { apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, balances: { USDT: DEFAULT_BALANCE_USDT } };
}
