// The server's limits (weights, order rates, websocket rules, listen keys), Binance's values by default.
import { RATE_LIMITS } from '../contracts.js';

/** Every limit the server enforces; tests shrink them to exercise the refusals quickly. */
export interface ServerLimits {
  /** IP request weight per fixed UTC minute (429 -1003 above it). */
  readonly requestWeightPerMinute: number;
  /** Orders per account per fixed 10 s window and per minute (429 -1015 above them). */
  readonly ordersPer10s: number;
  readonly ordersPerMinute: number;
  /** Requests an IP may still send in a minute after its first 429 before it is banned (418). */
  readonly requestsWhileLimitedBeforeBan: number;
  /** How long an automatic IP ban lasts. */
  readonly banDurationMs: number;
  /** Largest request body accepted (413 above it). */
  readonly maxBodyBytes: number;
  /** Streams one websocket connection may carry. */
  readonly wsMaxStreams: number;
  /** Messages a client may send per second before it is disconnected. */
  readonly wsMaxMessagesPerSecond: number;
  /** How often the server pings each connection. */
  readonly wsPingIntervalMs: number;
  /** A connection that has not answered a ping with a pong for this long is dropped. */
  readonly wsPongTimeoutMs: number;
  /** Connections are closed at this age (Binance: 24 h). */
  readonly wsMaxConnectionAgeMs: number;
  /** A listen key lives this long after its creation or last keepalive. */
  readonly listenKeyValidityMs: number;
  /** How often the server checks pings, connection ages and listen-key expiry. */
  readonly housekeepingIntervalMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  requestWeightPerMinute: RATE_LIMITS.requestWeightPerMinute,
  ordersPer10s: RATE_LIMITS.ordersPer10s,
  ordersPerMinute: RATE_LIMITS.ordersPerMinute,
  requestsWhileLimitedBeforeBan: 20,
  banDurationMs: 2 * 60_000,
  maxBodyBytes: 64 * 1024,
  wsMaxStreams: 1024,
  wsMaxMessagesPerSecond: 10,
  wsPingIntervalMs: 3 * 60_000,
  wsPongTimeoutMs: 10 * 60_000,
  wsMaxConnectionAgeMs: 24 * 60 * 60_000,
  listenKeyValidityMs: 60 * 60_000,
  housekeepingIntervalMs: 1_000,
});

/** A limit that is not a positive integer; `field` names it (`limits.ordersPer10s`). */
export class ServerLimitsError extends Error {
  override readonly name = 'ServerLimitsError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

/** The defaults overridden by `overrides`, each checked to be a positive safe integer. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const resolved: Record<string, number> = { ...DEFAULT_SERVER_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_SERVER_LIMITS)) throw new ServerLimitsError(`limits.${key}`, 'is not a known limit');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ServerLimitsError(`limits.${key}`, `must be a positive integer, got ${String(value)}`);
    }
    resolved[key] = value;
  }
  return Object.freeze(resolved) as unknown as ServerLimits;
}
