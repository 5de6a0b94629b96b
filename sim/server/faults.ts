// Fault injection: latency, forced 429/418, 503 unknown-status orders, dropped, stalled sockets (all or one) and aggTrades, quiet or stale market, expiry, skew.
import type { Json } from '../contracts.js';

/**
 * A fault request, from the simulator config or `POST /_sim/faults`. Every field is optional; given
 * fields change only their own fault. Durations are milliseconds.
 */
export interface FaultSpec {
  /** Clear every standing fault (latency, forced 429/418/503, skew) before applying the rest. */
  readonly reset?: boolean;
  /** Added to every REST response: `latencyMs` plus a uniform random `0..latencyJitterMs`. */
  readonly latencyMs?: number;
  readonly latencyJitterMs?: number;
  /** Answer the next N REST requests with 429 -1003. */
  readonly rateLimitNextRequests?: number;
  /** Answer every REST request with 429 -1003 for this long. */
  readonly rateLimitForMs?: number;
  /** Answer every REST request with 418 (IP ban) for this long. */
  readonly banForMs?: number;
  /** Run the next N order requests and answer them 503 -1007 (the order IS placed). */
  readonly unknownStatusNextOrders?: number;
  /** Close every websocket connection now. */
  readonly dropWebsockets?: boolean;
  /** Expire every listen key now (`listenKeyExpired` is sent, connections closed). */
  readonly expireListenKeys?: boolean;
  /** Freeze the market (no trades, no stream payloads) for this long: a stale exchange. */
  readonly staleMarketForMs?: number;
  /**
   * No trades for this long; time-driven streams (`!markPrice@arr@1s`, kline updates) keep coming,
   * as on Binance when nothing trades.
   */
  readonly quietMarketForMs?: number;
  /**
   * Every market websocket connection open now delivers nothing for this long while it stays open,
   * answering pings and control messages; trades go on (tape, REST aggTrades and klines), and what
   * those connections missed is never sent. Connections opened later deliver as usual.
   */
  readonly stallStreamsForMs?: number;
  /**
   * As `stallStreamsForMs`, for the connections open now that subscribe to `stream` only (one
   * client's connection carrying, say, `btcusdt@aggTrade`): they deliver nothing for `forMs` while
   * they stay open, answering pings and control messages; every other connection delivers on.
   * Refused for a stream the simulator does not serve.
   */
  readonly stallConnection?: { readonly stream: string; readonly forMs: number };
  /** Server clock = wall clock + this skew (replaces the previous skew). */
  readonly clockSkewMs?: number;
  /**
   * The next `count` aggTrade stream messages of `symbol` are not sent (an id gap for every
   * subscriber); the trades still happen: tape, REST aggTrades, klines. Replaces an earlier count.
   */
  readonly dropAggTrades?: { readonly symbol: string; readonly count: number };
}

/** A fault request that is not valid; `field` names the offending field. */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

const COUNT_FIELDS = ['rateLimitNextRequests', 'unknownStatusNextOrders'] as const;
const DURATION_FIELDS = [
  'latencyMs',
  'latencyJitterMs',
  'rateLimitForMs',
  'banForMs',
  'staleMarketForMs',
  'quietMarketForMs',
  'stallStreamsForMs',
] as const;
const FLAG_FIELDS = ['reset', 'dropWebsockets', 'expireListenKeys'] as const;
const KNOWN = new Set<string>([
  ...COUNT_FIELDS,
  ...DURATION_FIELDS,
  ...FLAG_FIELDS,
  'clockSkewMs',
  'dropAggTrades',
  'stallConnection',
]);
/** A symbol name as Binance spells them. */
const SYMBOL = /^[A-Z0-9]{1,32}$/;
/** One day: no fault needs to last longer, and it keeps arithmetic far from overflow. */
const MAX_MS = 86_400_000;

/** Checks an untrusted value (parsed JSON) as a `FaultSpec`; `path` prefixes field names in errors. */
export function parseFaultSpec(value: unknown, path = 'faults'): FaultSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultSpecError(path, 'must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const spec: Record<
    string,
    number | boolean | { symbol: string; count: number } | { stream: string; forMs: number }
  > = {};
  for (const [key, field] of Object.entries(record)) {
    const name = `${path}.${key}`;
    if (!KNOWN.has(key))
      throw new FaultSpecError(name, `is not a known fault (one of ${[...KNOWN].join(', ')})`);
    if (key === 'dropAggTrades') {
      spec[key] = parseDropAggTrades(field, name);
    } else if (key === 'stallConnection') {
      spec[key] = parseStallConnection(field, name);
    } else if ((FLAG_FIELDS as readonly string[]).includes(key)) {
      if (typeof field !== 'boolean') throw new FaultSpecError(name, 'must be true or false');
      spec[key] = field;
    } else if (key === 'clockSkewMs') {
      if (typeof field !== 'number' || !Number.isSafeInteger(field) || Math.abs(field) > MAX_MS) {
        throw new FaultSpecError(name, `must be an integer between -${MAX_MS} and ${MAX_MS}`);
      }
      spec[key] = field;
    } else {
      const max = (COUNT_FIELDS as readonly string[]).includes(key) ? 1_000_000 : MAX_MS;
      if (typeof field !== 'number' || !Number.isSafeInteger(field) || field < 0 || field > max) {
        throw new FaultSpecError(name, `must be an integer between 0 and ${max}`);
      }
      spec[key] = field;
    }
  }
  return spec as FaultSpec;
}

function parseDropAggTrades(value: unknown, name: string): { symbol: string; count: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultSpecError(name, 'must be an object {"symbol": "BTCUSDT", "count": 20}');
  }
  const { symbol, count, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new FaultSpecError(`${name}.${extra}`, 'is not a field (symbol, count)');
  if (typeof symbol !== 'string' || !SYMBOL.test(symbol)) {
    throw new FaultSpecError(`${name}.symbol`, 'must be a symbol name such as BTCUSDT');
  }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > 1_000_000) {
    throw new FaultSpecError(`${name}.count`, 'must be an integer between 0 and 1000000');
  }
  return { symbol, count };
}

/** A stream name as a client sends it (no space, slash or query characters). */
const STREAM = /^[^\s/?&#"\\]{1,200}$/;

function parseStallConnection(value: unknown, name: string): { stream: string; forMs: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultSpecError(name, 'must be an object {"stream": "btcusdt@aggTrade", "forMs": 20000}');
  }
  const { stream, forMs, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new FaultSpecError(`${name}.${extra}`, 'is not a field (stream, forMs)');
  if (typeof stream !== 'string' || !STREAM.test(stream)) {
    throw new FaultSpecError(`${name}.stream`, 'must be a stream name such as btcusdt@aggTrade');
  }
  if (typeof forMs !== 'number' || !Number.isSafeInteger(forMs) || forMs < 0 || forMs > MAX_MS) {
    throw new FaultSpecError(`${name}.forMs`, `must be an integer between 0 and ${MAX_MS}`);
  }
  return { stream, forMs };
}

/** The instant actions a fault can trigger in other parts of the simulator. */
export interface FaultActions {
  dropWebsockets(): number;
  expireListenKeys(): number;
  /** Freezes the market until `untilMs` (simulator clock); absent when no market is attached. */
  freezeMarket?(untilMs: number): void;
  /** No trades until `untilMs` (simulator clock), streams go on; absent when the market cannot. */
  quietMarket?(untilMs: number): void;
  /** Stalls the market websocket connections open now for `forMs`; returns how many. */
  stallStreams?(forMs: number): number;
  /** Stalls the market websocket connections open now that subscribe to `stream` for `forMs`; returns how many. */
  stallConnection?(stream: string, forMs: number): number;
  /** Ends every stream connection stall (the reset). */
  clearStreamStalls?(): void;
  /** Whether the simulator serves market stream `stream` (checked before a fault names it). */
  servesStream?(stream: string): boolean;
  /**
   * Drops the next `count` aggTrade stream messages of `symbol` (0 clears); false when the market
   * does not list the symbol. Absent when no market is attached.
   */
  dropAggTrades?(symbol: string, count: number): boolean;
  /** Clears every pending aggTrade drop. */
  clearAggTradeDrops?(): void;
  /** Drops still to come per symbol, and aggTrade messages dropped so far. */
  aggTradeDrops?(): { pending: Record<string, number>; dropped: number };
  setClockSkew(skewMs: number): void;
  clockSkewMs(): number;
  /** The simulator clock (read after a skew change, so durations run on the new time). */
  now(): number;
}

/** The standing faults and the counters of faults already served. */
export class FaultInjector {
  readonly #actions: FaultActions;
  readonly #random: () => number;
  #latencyMs = 0;
  #latencyJitterMs = 0;
  #rateLimitNext = 0;
  #rateLimitUntil = 0;
  #banUntil = 0;
  #unknownNext = 0;
  #staleUntil = 0;
  #quietUntil = 0;
  #stallUntil = 0;
  readonly #served = {
    rateLimited: 0,
    banned: 0,
    unknownStatus: 0,
    dropped: 0,
    expired: 0,
    streamsStalled: 0,
    connectionsStalled: 0,
  };

  constructor(actions: FaultActions, random: () => number = Math.random) {
    this.#actions = actions;
    this.#random = random;
  }

  /** Applies a checked spec. */
  apply(spec: FaultSpec): void {
    if (spec.staleMarketForMs !== undefined && this.#actions.freezeMarket === undefined) {
      // Refuse before anything changes, so a refused request leaves no partial effect.
      throw new FaultSpecError('faults.staleMarketForMs', 'needs a market, and none is attached');
    }
    if (spec.quietMarketForMs !== undefined && this.#actions.quietMarket === undefined) {
      throw new FaultSpecError('faults.quietMarketForMs', 'needs a market, and none is attached');
    }
    if (spec.stallStreamsForMs !== undefined && this.#actions.stallStreams === undefined) {
      throw new FaultSpecError('faults.stallStreamsForMs', 'needs a websocket server, and none is attached');
    }
    if (spec.stallConnection !== undefined) {
      if (this.#actions.stallConnection === undefined) {
        throw new FaultSpecError('faults.stallConnection', 'needs a websocket server, and none is attached');
      }
      const { stream } = spec.stallConnection;
      if (this.#actions.servesStream?.(stream) !== true) {
        throw new FaultSpecError(
          'faults.stallConnection.stream',
          `${stream} is not a stream the simulator serves`,
        );
      }
    }
    if (spec.dropAggTrades !== undefined) {
      // First, so a refused request (no market, unknown symbol) leaves no partial effect.
      const { symbol, count } = spec.dropAggTrades;
      if (this.#actions.dropAggTrades === undefined) {
        throw new FaultSpecError('faults.dropAggTrades', 'needs a market, and none is attached');
      }
      if (!this.#actions.dropAggTrades(symbol, count)) {
        throw new FaultSpecError('faults.dropAggTrades.symbol', `${symbol} is not listed`);
      }
    }
    if (spec.reset === true) {
      this.#latencyMs = 0;
      this.#latencyJitterMs = 0;
      this.#rateLimitNext = 0;
      this.#rateLimitUntil = 0;
      this.#banUntil = 0;
      this.#unknownNext = 0;
      this.#actions.setClockSkew(0);
      this.#actions.clearAggTradeDrops?.();
      this.#actions.clearStreamStalls?.();
      // The drop this request asks for (checked and set above) stands after the reset.
      if (spec.dropAggTrades !== undefined) {
        this.#actions.dropAggTrades?.(spec.dropAggTrades.symbol, spec.dropAggTrades.count);
      }
    }
    if (spec.clockSkewMs !== undefined) this.#actions.setClockSkew(spec.clockSkewMs);
    const now = this.#actions.now();
    if (spec.latencyMs !== undefined) this.#latencyMs = spec.latencyMs;
    if (spec.latencyJitterMs !== undefined) this.#latencyJitterMs = spec.latencyJitterMs;
    if (spec.rateLimitNextRequests !== undefined) this.#rateLimitNext = spec.rateLimitNextRequests;
    if (spec.rateLimitForMs !== undefined) this.#rateLimitUntil = now + spec.rateLimitForMs;
    if (spec.banForMs !== undefined) this.#banUntil = now + spec.banForMs;
    if (spec.unknownStatusNextOrders !== undefined) this.#unknownNext = spec.unknownStatusNextOrders;
    if (spec.staleMarketForMs !== undefined && this.#actions.freezeMarket !== undefined) {
      this.#staleUntil = now + spec.staleMarketForMs;
      this.#actions.freezeMarket(this.#staleUntil);
    }
    if (spec.quietMarketForMs !== undefined && this.#actions.quietMarket !== undefined) {
      this.#quietUntil = now + spec.quietMarketForMs;
      this.#actions.quietMarket(this.#quietUntil);
    }
    if (spec.stallStreamsForMs !== undefined && this.#actions.stallStreams !== undefined) {
      this.#stallUntil = now + spec.stallStreamsForMs;
      this.#served.streamsStalled += this.#actions.stallStreams(spec.stallStreamsForMs);
    }
    if (spec.stallConnection !== undefined && this.#actions.stallConnection !== undefined) {
      const { stream, forMs } = spec.stallConnection;
      this.#served.connectionsStalled += this.#actions.stallConnection(stream, forMs);
    }
    if (spec.dropWebsockets === true) this.#served.dropped += this.#actions.dropWebsockets();
    if (spec.expireListenKeys === true) this.#served.expired += this.#actions.expireListenKeys();
  }

  /** Milliseconds to hold the next REST response. */
  latencyMs(): number {
    if (this.#latencyJitterMs === 0) return this.#latencyMs;
    return this.#latencyMs + Math.floor(this.#random() * (this.#latencyJitterMs + 1));
  }

  /** The end of a forced ban at `now`, counting the refusal it causes. */
  takeForcedBan(now: number): number | undefined {
    if (this.#banUntil <= now) return undefined;
    this.#served.banned += 1;
    return this.#banUntil;
  }

  /** Milliseconds until a forced 429 ends (1000 for a counted one) when this request gets it. */
  takeForcedRateLimit(now: number): number | undefined {
    if (this.#rateLimitUntil > now) {
      this.#served.rateLimited += 1;
      return this.#rateLimitUntil - now;
    }
    if (this.#rateLimitNext > 0) {
      this.#rateLimitNext -= 1;
      this.#served.rateLimited += 1;
      return 1_000;
    }
    return undefined;
  }

  /** Whether this order request's answer is replaced by 503 -1007 (after it has run). */
  takeUnknownStatus(): boolean {
    if (this.#unknownNext <= 0) return false;
    this.#unknownNext -= 1;
    this.#served.unknownStatus += 1;
    return true;
  }

  /** The standing faults and the counts served so far, as `GET /_sim/faults` shows them. */
  snapshot(): Json {
    const now = this.#actions.now();
    return {
      latencyMs: this.#latencyMs,
      latencyJitterMs: this.#latencyJitterMs,
      rateLimitNextRequests: this.#rateLimitNext,
      rateLimitRemainingMs: Math.max(0, this.#rateLimitUntil - now),
      banRemainingMs: Math.max(0, this.#banUntil - now),
      unknownStatusNextOrders: this.#unknownNext,
      staleMarketRemainingMs: Math.max(0, this.#staleUntil - now),
      quietMarketRemainingMs: Math.max(0, this.#quietUntil - now),
      stallStreamsRemainingMs: Math.max(0, this.#stallUntil - now),
      clockSkewMs: this.#actions.clockSkewMs(),
      dropAggTradesPending: this.#actions.aggTradeDrops?.().pending ?? {},
      served: { ...this.#served, aggTradesDropped: this.#actions.aggTradeDrops?.().dropped ?? 0 },
    };
  }
}
