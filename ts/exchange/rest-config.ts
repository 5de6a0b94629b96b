// Configuration of the Binance REST client, validated with errors that name the offending field.
import { z } from 'zod';
import { configIssues } from '../config/config-error.js';
import { expecting, flag, integer, number, section } from '../config/config-fields.js';
import { ExchangeConfigError } from './exchange-errors.js';

/** Binance USD-M production REST base URL. */
export const USDM_MAINNET_URL = 'https://fapi.binance.com';
/** Binance USD-M testnet ("demo trading") REST base URL, as documented in 2026. */
export const USDM_TESTNET_URL = 'https://demo-fapi.binance.com';

/** Binance's published limits (exchangeInfo `rateLimits`). */
export const BINANCE_LIMITS = { weightPerMinute: 2400, ordersPer10s: 300, ordersPerMinute: 1200 } as const;

/** Share of the exchange limits the client paces to by default. */
export const DEFAULT_BUDGET_FRACTION = 0.8;

/** A validated configuration with every default filled in. */
export interface RestClientConfig {
  /** `https://fapi.binance.com`, the testnet, or the simulator (`http://127.0.0.1:port`). */
  readonly baseUrl: string;
  /** Sent as `X-MBX-APIKEY`; `null` for a public-data-only client. */
  readonly apiKey: string | null;
  /** Signs USER_DATA/TRADE requests; never logged. `null` for a public-data-only client. */
  readonly apiSecret: string | null;
  /** `recvWindow` of signed requests, ms (1…60 000; default 5 000). */
  readonly recvWindow: number;
  readonly weightBudget: {
    /** IP weight per minute to pace to (default 80 % of 2,400). */
    readonly perMinute: number;
    /** Orders per 10 s to pace to (default 80 % of 300; `null` disables). */
    readonly ordersPer10s: number | null;
    /** Orders per minute to pace to (default 80 % of 1,200; `null` disables). */
    readonly ordersPerMinute: number | null;
    /** Whether the weight is leased from a coordinator (the hub); until one answers, the fallback share applies. */
    readonly coordinated: boolean;
    /** Share of `perMinute` paced to while coordinated but unable to lease (default 0.25). */
    readonly fallbackShare: number;
    /** Share of `perMinute` only order requests may use (the coordinator keeps it free; default 0.05). */
    readonly orderReserve: number;
  };
  readonly timeouts: {
    /** Whole request (connect, send, receive), ms (default 10 000). */
    readonly requestMs: number;
  };
  readonly retries: {
    /** Attempts of an idempotent request, including the first (default 3). */
    readonly maxAttempts: number;
    /** First backoff after a 5xx or transport failure, doubled each time (default 250 ms). */
    readonly baseDelayMs: number;
    /** Longest backoff (default 5 000 ms). */
    readonly maxDelayMs: number;
    /** A read waits out a 429 Retry-After up to this long before failing (default 60 000 ms). */
    readonly maxRateLimitWaitMs: number;
  };
  /** Signed requests resync the server-time offset when it is older than this (default 10 min). */
  readonly timeSyncMaxAgeMs: number;
  /** Keep-alive sockets per client (default 8). */
  readonly maxSockets: number;
  /** Largest response body accepted (default 64 MiB). */
  readonly maxBodyBytes: number;
}

/** What a caller may give: `baseUrl` is required, everything else has a default. */
export interface RestClientConfigInput {
  readonly baseUrl: string;
  readonly apiKey?: string | null;
  readonly apiSecret?: string | null;
  readonly recvWindow?: number;
  readonly weightBudget?: Partial<RestClientConfig['weightBudget']>;
  readonly timeouts?: Partial<RestClientConfig['timeouts']>;
  readonly retries?: Partial<RestClientConfig['retries']>;
  readonly timeSyncMaxAgeMs?: number;
  readonly maxSockets?: number;
  readonly maxBodyBytes?: number;
}

/** An optional limit: a count to pace to, or `null` to disable it. */
function optionalLimit(fallback: number) {
  const error = expecting('an integer from 1 to 1000000, or null');
  return z.union([z.null(), integer(1, 1_000_000)], { error }).default(fallback);
}

/** A credential: a string without whitespace, or absent. Its value is never echoed: it may be a secret. */
const credential = z
  .unknown()
  .transform((value, ctx): string | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') {
      ctx.issues.push({ code: 'custom', message: 'must be a string', input: '(hidden)' });
      return z.NEVER;
    }
    if (value.length === 0 || /\s/.test(value)) {
      ctx.issues.push({ code: 'custom', message: 'must be non-empty without whitespace', input: '(hidden)' });
      return z.NEVER;
    }
    return value;
  })
  .default(null);

/** The base URL, normalised to origin + path without a trailing slash. */
const baseUrl = z
  .unknown()
  .transform((value, ctx): string => {
    const fail = (message: string) => {
      ctx.issues.push({ code: 'custom', message, input: value });
      return z.NEVER;
    };
    if (typeof value !== 'string' || value.length === 0)
      return fail('is required (e.g. https://fapi.binance.com)');
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(`is not a URL: ${JSON.stringify(value)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return fail(`must be http: or https:, got ${url.protocol}`);
    }
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      return fail('must not carry a query, fragment or credentials');
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  })
  // Absent: checked as empty, so the error says it is required.
  .prefault('');

const f = DEFAULT_BUDGET_FRACTION;

/** The client's options: every field checked, every default filled in, unknown options refused. */
const restConfigSchema = section({
  baseUrl,
  apiKey: credential,
  apiSecret: credential,
  recvWindow: integer(1, 60_000).default(5000),
  weightBudget: section({
    perMinute: integer(1, 1_000_000).default(Math.floor(BINANCE_LIMITS.weightPerMinute * f)),
    ordersPer10s: optionalLimit(Math.floor(BINANCE_LIMITS.ordersPer10s * f)),
    ordersPerMinute: optionalLimit(Math.floor(BINANCE_LIMITS.ordersPerMinute * f)),
    coordinated: flag().default(false),
    fallbackShare: number(0.01, 1).default(0.25),
    orderReserve: number(0, 0.5).default(0.05),
  }).prefault({}),
  timeouts: section({
    requestMs: integer(10, 600_000).default(10_000),
  }).prefault({}),
  retries: section({
    maxAttempts: integer(1, 10).default(3),
    baseDelayMs: integer(0, 60_000).default(250),
    maxDelayMs: integer(0, 600_000).default(5000),
    maxRateLimitWaitMs: integer(0, 3_600_000).default(60_000),
  }).prefault({}),
  timeSyncMaxAgeMs: integer(1000, 86_400_000).default(600_000),
  maxSockets: integer(1, 256).default(8),
  maxBodyBytes: integer(1024, 1024 * 1024 * 1024).default(64 * 1024 * 1024),
});

/** Validates `input` and fills in defaults; throws `ExchangeConfigError` naming the (first) bad field. */
export function resolveRestConfig(input: unknown): RestClientConfig {
  const parsed = restConfigSchema.safeParse(input);
  if (!parsed.success) {
    const [first] = configIssues(parsed.error);
    throw new ExchangeConfigError(first?.path ?? '(root)', first?.message ?? 'is not valid');
  }
  const config = parsed.data;
  if ((config.apiKey === null) !== (config.apiSecret === null)) {
    throw new ExchangeConfigError(
      config.apiKey === null ? 'apiKey' : 'apiSecret',
      'must be given together with its pair',
    );
  }
  return config;
}
