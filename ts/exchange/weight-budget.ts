// Paces REST requests to the per-IP weight budget and the order-count limits, per exchange (UTC) window.
import type { Logger } from '../log/logger.js';
import { ExchangeError } from './exchange-errors.js';
import type { Scheduler } from './scheduler.js';

const MINUTE_MS = 60_000;
const TEN_SECONDS_MS = 10_000;

/** Limits a `WeightBudget` paces to. */
export interface WeightLimits {
  /** IP request weight allowed per UTC minute (e.g. 80 % of exchangeInfo's 2,400). */
  readonly perMinute: number;
  /** Orders per 10 s (`null`: not paced). */
  readonly ordersPer10s: number | null;
  /** Orders per minute (`null`: not paced). */
  readonly ordersPerMinute: number | null;
}

/** Counters read from one response's headers (`null` when the header was absent or invalid). */
export interface UsageHeaders {
  readonly usedWeight1m: number | null;
  readonly orderCount10s: number | null;
  readonly orderCount1m: number | null;
}

/** A granted request: settle it with `WeightBudget.settle` when its response (or failure) arrives. */
export interface WeightTicket {
  readonly weight: number;
  readonly isOrder: boolean;
  /** The minute window (exchange time / 60 000) the request was sent in. */
  readonly minute: number;
  /** The 10-second window it was sent in. */
  readonly tenSeconds: number;
}

/** A snapshot for status pages and tests. */
export interface WeightBudgetStats {
  readonly limits: WeightLimits;
  readonly minute: number;
  /** Weight counted in the current minute: own requests plus what the exchange reported. */
  readonly usedWeight: number;
  readonly inFlightWeight: number;
  readonly orders10s: number;
  readonly orders1m: number;
  /** Exchange time before which nothing is sent (after 429/418), or 0. */
  readonly blockedUntil: number;
  /** How many times a request waited for the next window. */
  readonly windowWaits: number;
}

/** Reads Binance's usage headers (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, `-1M`). */
export function readUsageHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): UsageHeaders {
  const read = (name: string): number | null => {
    const raw = headers[name];
    const text = Array.isArray(raw) ? raw[0] : raw;
    if (text === undefined || !/^\d{1,9}$/.test(text)) return null;
    return Number(text);
  };
  return {
    usedWeight1m: read('x-mbx-used-weight-1m'),
    orderCount10s: read('x-mbx-order-count-10s'),
    orderCount1m: read('x-mbx-order-count-1m'),
  };
}

/**
 * One budget shared by every caller of a client (or several clients of one process). The exchange
 * counts weight per UTC minute of its own clock, so `now` is the estimated exchange time. A request
 * whose weight would exceed the budget waits for the next minute window instead of being sent;
 * callers are admitted in arrival order. The exchange's `X-MBX-USED-WEIGHT-1M` header (which also
 * counts other processes on the same IP) raises the local count, never lowers it.
 */
export class WeightBudget {
  readonly #now: () => number;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  #limits: WeightLimits;
  #minute = -1;
  #tenSeconds = -1;
  #used = 0;
  #inFlight = 0;
  #orders10s = 0;
  #orders1m = 0;
  #inFlightOrders = 0;
  #blockedUntil = 0;
  #blockKind: 'rate-limited' | 'banned' = 'rate-limited';
  #windowWaits = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** Slack after a window boundary, for the residual error of the clock offset. */
  readonly #boundarySlackMs: number;

  /**
   * `now` is exchange time (ServerClock.now); `scheduler.sleep` does the waiting. Waits are
   * computed in exchange time and slept in local time; both run at the same rate.
   */
  constructor(
    limits: WeightLimits,
    options: { now: () => number; scheduler: Scheduler; log: Logger; boundarySlackMs?: number },
  ) {
    this.#limits = limits;
    this.#now = options.now;
    this.#scheduler = options.scheduler;
    this.#log = options.log;
    this.#boundarySlackMs = options.boundarySlackMs ?? 250;
  }

  /** Replaces the limits (e.g. from exchangeInfo `rateLimits`). */
  setLimits(limits: WeightLimits): void {
    this.#limits = limits;
    this.#log.info('weight budget limits set', {
      perMinute: limits.perMinute,
      ordersPer10s: limits.ordersPer10s,
      ordersPerMinute: limits.ordersPerMinute,
    });
  }

  get limits(): WeightLimits {
    return this.#limits;
  }

  /**
   * Waits until `weight` fits the current minute (and, for orders, the order limits) and no
   * block is in force, then counts it. Bounded: gives up only if the clock stops advancing.
   */
  acquire(weight: number, isOrder = false): Promise<WeightTicket> {
    const turn = this.#queue.then(() => this.#admit(weight, isOrder));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** Records the outcome of a granted request; `usage` is null when no response arrived. */
  settle(ticket: WeightTicket, usage: UsageHeaders | null): void {
    this.#inFlight = Math.max(0, this.#inFlight - ticket.weight);
    if (ticket.isOrder) this.#inFlightOrders = Math.max(0, this.#inFlightOrders - 1);
    if (usage === null) return;
    this.#roll(this.#now());
    // Only a response to a request sent in the current window describes the current window.
    if (ticket.minute === this.#minute) {
      if (usage.usedWeight1m !== null) this.#used = Math.max(this.#used, usage.usedWeight1m + this.#inFlight);
      if (usage.orderCount1m !== null) {
        this.#orders1m = Math.max(this.#orders1m, usage.orderCount1m + this.#inFlightOrders);
      }
    }
    if (ticket.tenSeconds === this.#tenSeconds && usage.orderCount10s !== null) {
      this.#orders10s = Math.max(this.#orders10s, usage.orderCount10s + this.#inFlightOrders);
    }
  }

  /** Nothing is admitted before exchange time `until` (429 Retry-After, 418 ban). */
  blockUntil(until: number, reason: string, kind: 'rate-limited' | 'banned' = 'rate-limited'): void {
    if (until <= this.#blockedUntil) return;
    this.#blockedUntil = until;
    this.#blockKind = kind;
    this.#log.warn('requests blocked', { until, waitMs: until - this.#now(), reason, kind });
  }

  /** The block in force, if any: until when (exchange time) and why. */
  get block(): { readonly until: number; readonly kind: 'rate-limited' | 'banned' } | null {
    return this.#blockedUntil > this.#now() ? { until: this.#blockedUntil, kind: this.#blockKind } : null;
  }

  /** Exchange time before which nothing is sent, or 0. */
  get blockedUntil(): number {
    return this.#blockedUntil;
  }

  stats(): WeightBudgetStats {
    this.#roll(this.#now());
    return {
      limits: this.#limits,
      minute: this.#minute,
      usedWeight: this.#used,
      inFlightWeight: this.#inFlight,
      orders10s: this.#orders10s,
      orders1m: this.#orders1m,
      blockedUntil: this.#blockedUntil,
      windowWaits: this.#windowWaits,
    };
  }

  #roll(now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#used = 0;
      this.#orders1m = 0;
    }
    const tenSeconds = Math.floor(now / TEN_SECONDS_MS);
    if (tenSeconds !== this.#tenSeconds) {
      this.#tenSeconds = tenSeconds;
      this.#orders10s = 0;
    }
  }

  /** Milliseconds until the request fits, or 0 when it fits now. */
  #waitFor(weight: number, isOrder: boolean, now: number): number {
    if (now < this.#blockedUntil) return this.#blockedUntil - now;
    const nextMinute = (this.#minute + 1) * MINUTE_MS - now + this.#boundarySlackMs;
    // A request heavier than the whole budget still goes, alone, in a fresh window.
    if (weight > 0 && this.#used > 0 && this.#used + weight > this.#limits.perMinute) return nextMinute;
    if (isOrder) {
      const { ordersPer10s, ordersPerMinute } = this.#limits;
      if (ordersPerMinute !== null && this.#orders1m + 1 > ordersPerMinute) return nextMinute;
      if (ordersPer10s !== null && this.#orders10s + 1 > ordersPer10s) {
        return (this.#tenSeconds + 1) * TEN_SECONDS_MS - now + this.#boundarySlackMs;
      }
    }
    return 0;
  }

  async #admit(weight: number, isOrder: boolean): Promise<WeightTicket> {
    // Each wait ends at a window boundary or the end of a block, so a handful of rounds always
    // suffices while the clock advances; the bound only guards against a stopped clock.
    for (let round = 0; round < 1000; round++) {
      const now = this.#now();
      this.#roll(now);
      const wait = this.#waitFor(weight, isOrder, now);
      if (wait <= 0) {
        this.#used += weight;
        this.#inFlight += weight;
        if (isOrder) {
          this.#orders10s += 1;
          this.#orders1m += 1;
          this.#inFlightOrders += 1;
        }
        return { weight, isOrder, minute: this.#minute, tenSeconds: this.#tenSeconds };
      }
      if (now >= this.#blockedUntil) {
        this.#windowWaits += 1;
        this.#log.info('weight budget full; waiting for the next window', {
          weight,
          used: this.#used,
          perMinute: this.#limits.perMinute,
          isOrder,
          waitMs: wait,
        });
      }
      await this.#scheduler.sleep(wait);
    }
    throw new ExchangeError('weight budget: the clock did not advance across 1000 waits');
  }
}

/** One exchangeInfo `rateLimits` entry (as `decodeRateLimits` returns it). */
export interface RateLimitEntry {
  readonly rateLimitType: string;
  readonly interval: string;
  readonly intervalNum: number;
  readonly limit: number;
}

/**
 * Budget limits as `fraction` (e.g. 0.8) of exchangeInfo's `rateLimits`: REQUEST_WEIGHT per
 * 1 MINUTE and ORDERS per 10 SECOND / 1 MINUTE. Limits the exchange does not list fall back to
 * `fallback`.
 */
export function limitsFromRateLimits(
  rateLimits: readonly RateLimitEntry[],
  fraction: number,
  fallback: WeightLimits,
): WeightLimits {
  const find = (type: string, interval: string, num: number): number | null => {
    const entry = rateLimits.find(
      (r) => r.rateLimitType === type && r.interval === interval && r.intervalNum === num,
    );
    return entry === undefined ? null : Math.max(1, Math.floor(entry.limit * fraction));
  };
  return {
    perMinute: find('REQUEST_WEIGHT', 'MINUTE', 1) ?? fallback.perMinute,
    ordersPer10s: find('ORDERS', 'SECOND', 10) ?? fallback.ordersPer10s,
    ordersPerMinute: find('ORDERS', 'MINUTE', 1) ?? fallback.ordersPerMinute,
  };
}
