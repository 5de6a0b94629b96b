// Configuration of the Binance REST client, validated with errors that name the offending field.
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function section(input: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = input[field];
  if (value === undefined) return {};
  if (!isRecord(value)) throw new ExchangeConfigError(field, 'must be an object');
  return value;
}

function integer(
  input: Record<string, unknown>,
  key: string,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = input[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ExchangeConfigError(field, `must be an integer, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max)
    throw new ExchangeConfigError(field, `must be within ${min}..${max}, got ${value}`);
  return value;
}

function flag(input: Record<string, unknown>, key: string, field: string, fallback: boolean): boolean {
  const value = input[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new ExchangeConfigError(field, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function optionalLimit(
  input: Record<string, unknown>,
  key: string,
  field: string,
  fallback: number,
): number | null {
  if (input[key] === null) return null;
  return integer(input, key, field, fallback, 1, 1_000_000);
}

function share(
  input: Record<string, unknown>,
  key: string,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = input[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ExchangeConfigError(
      field,
      `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function credential(input: Record<string, unknown>, key: string): string | null {
  const value = input[key];
  if (value === undefined || value === null) return null;
  // the value itself is never echoed: it may be a secret
  if (typeof value !== 'string') throw new ExchangeConfigError(key, 'must be a string');
  if (value.length === 0 || /[\s]/.test(value)) {
    throw new ExchangeConfigError(key, 'must be non-empty without whitespace');
  }
  return value;
}

function baseUrlOf(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ExchangeConfigError('baseUrl', 'is required (e.g. https://fapi.binance.com)');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ExchangeConfigError('baseUrl', `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ExchangeConfigError('baseUrl', `must be http: or https:, got ${url.protocol}`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ExchangeConfigError('baseUrl', 'must not carry a query, fragment or credentials');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Validates `input` and fills in defaults; throws `ExchangeConfigError` naming the field. */
export function resolveRestConfig(input: unknown): RestClientConfig {
  if (!isRecord(input)) throw new ExchangeConfigError('(root)', 'must be an object');
  const apiKey = credential(input, 'apiKey');
  const apiSecret = credential(input, 'apiSecret');
  if ((apiKey === null) !== (apiSecret === null)) {
    throw new ExchangeConfigError(
      apiKey === null ? 'apiKey' : 'apiSecret',
      'must be given together with its pair',
    );
  }
  const budget = section(input, 'weightBudget');
  const timeouts = section(input, 'timeouts');
  const retries = section(input, 'retries');
  const f = DEFAULT_BUDGET_FRACTION;
  return {
    baseUrl: baseUrlOf(input.baseUrl),
    apiKey,
    apiSecret,
    recvWindow: integer(input, 'recvWindow', 'recvWindow', 5000, 1, 60_000),
    weightBudget: {
      perMinute: integer(
        budget,
        'perMinute',
        'weightBudget.perMinute',
        Math.floor(BINANCE_LIMITS.weightPerMinute * f),
        1,
        1_000_000,
      ),
      ordersPer10s: optionalLimit(
        budget,
        'ordersPer10s',
        'weightBudget.ordersPer10s',
        Math.floor(BINANCE_LIMITS.ordersPer10s * f),
      ),
      ordersPerMinute: optionalLimit(
        budget,
        'ordersPerMinute',
        'weightBudget.ordersPerMinute',
        Math.floor(BINANCE_LIMITS.ordersPerMinute * f),
      ),
      coordinated: flag(budget, 'coordinated', 'weightBudget.coordinated', false),
      fallbackShare: share(budget, 'fallbackShare', 'weightBudget.fallbackShare', 0.25, 0.01, 1),
      orderReserve: share(budget, 'orderReserve', 'weightBudget.orderReserve', 0.05, 0, 0.5),
    },
    timeouts: {
      requestMs: integer(timeouts, 'requestMs', 'timeouts.requestMs', 10_000, 10, 600_000),
    },
    retries: {
      maxAttempts: integer(retries, 'maxAttempts', 'retries.maxAttempts', 3, 1, 10),
      baseDelayMs: integer(retries, 'baseDelayMs', 'retries.baseDelayMs', 250, 0, 60_000),
      maxDelayMs: integer(retries, 'maxDelayMs', 'retries.maxDelayMs', 5000, 0, 600_000),
      maxRateLimitWaitMs: integer(
        retries,
        'maxRateLimitWaitMs',
        'retries.maxRateLimitWaitMs',
        60_000,
        0,
        3_600_000,
      ),
    },
    timeSyncMaxAgeMs: integer(input, 'timeSyncMaxAgeMs', 'timeSyncMaxAgeMs', 600_000, 1000, 86_400_000),
    maxSockets: integer(input, 'maxSockets', 'maxSockets', 8, 1, 256),
    maxBodyBytes: integer(input, 'maxBodyBytes', 'maxBodyBytes', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
}
