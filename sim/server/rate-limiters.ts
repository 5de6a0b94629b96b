// Binance's REST limits: IP request weight per fixed minute (429, then a 418 ban) and order counts.
import type { ServerLimits } from './server-limits.js';

const MINUTE_MS = 60_000;
const TEN_SECONDS_MS = 10_000;

/** What one request's weight charge decided. */
export type WeightVerdict =
  | { readonly kind: 'ok'; readonly used: number }
  | { readonly kind: 'limited'; readonly used: number; readonly retryAfterMs: number }
  | { readonly kind: 'banned'; readonly used: number; readonly untilMs: number };

interface IpWindow {
  minute: number;
  used: number;
  /** Requests refused with 429 in this minute. */
  refused: number;
  bannedUntil: number;
}

/**
 * Request weight per IP in fixed UTC minute buckets, as Binance counts it: the weight of every
 * request (refused ones too) adds up; above the limit requests get 429 until the minute ends; an IP
 * that keeps sending while limited is banned (418) for `banDurationMs`.
 */
export class IpWeightLimiter {
  readonly #limits: ServerLimits;
  readonly #ips = new Map<string, IpWindow>();

  constructor(limits: ServerLimits) {
    this.#limits = limits;
  }

  /** The ban end time of `ip` when it is banned at `now`. */
  bannedUntil(ip: string, now: number): number | undefined {
    const window = this.#ips.get(ip);
    return window !== undefined && window.bannedUntil > now ? window.bannedUntil : undefined;
  }

  /** Weight used by `ip` in the minute of `now`. */
  used(ip: string, now: number): number {
    const window = this.#ips.get(ip);
    return window !== undefined && window.minute === Math.floor(now / MINUTE_MS) ? window.used : 0;
  }

  /** Adds `weight` for `ip` and says whether the request may go on. */
  charge(ip: string, weight: number, now: number): WeightVerdict {
    const minute = Math.floor(now / MINUTE_MS);
    let window = this.#ips.get(ip);
    if (window === undefined) {
      window = { minute, used: 0, refused: 0, bannedUntil: 0 };
      this.#ips.set(ip, window);
    } else if (window.minute !== minute) {
      window.minute = minute;
      window.used = 0;
      window.refused = 0;
    }
    if (window.bannedUntil > now) return { kind: 'banned', used: window.used, untilMs: window.bannedUntil };
    window.used += weight;
    if (window.used <= this.#limits.requestWeightPerMinute) return { kind: 'ok', used: window.used };
    window.refused += 1;
    if (window.refused > this.#limits.requestsWhileLimitedBeforeBan) {
      window.bannedUntil = now + this.#limits.banDurationMs;
      return { kind: 'banned', used: window.used, untilMs: window.bannedUntil };
    }
    return { kind: 'limited', used: window.used, retryAfterMs: (minute + 1) * MINUTE_MS - now };
  }

  /** Forgets IPs whose minute is over and who are not banned (bounded memory over a long run). */
  prune(now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    for (const [ip, window] of this.#ips) {
      if (window.minute < minute && window.bannedUntil <= now) this.#ips.delete(ip);
    }
  }
}

/** What one order's charge decided: the counts for the response headers and any refusal window. */
export interface OrderVerdict {
  readonly count10s: number;
  readonly count1m: number;
  /** Set when a limit is exceeded: which one. */
  readonly exceeded?: { readonly limit: number; readonly per: '10 SECOND' | '1 MINUTE' };
}

interface OrderWindows {
  tenSeconds: number;
  count10s: number;
  minute: number;
  count1m: number;
}

/** Orders per account per fixed 10-second and one-minute window. */
export class OrderRateLimiter {
  readonly #limits: ServerLimits;
  readonly #accounts = new Map<string, OrderWindows>();

  constructor(limits: ServerLimits) {
    this.#limits = limits;
  }

  /**
   * Counts an order request for `accountId` (`count` on each window, default one); every attempt
   * counts, refused ones included, as on Binance. The account, not the API key, is counted: every
   * key of an account shares its limits.
   */
  charge(accountId: string, now: number, count = { tenSeconds: 1, minute: 1 }): OrderVerdict {
    const tenSeconds = Math.floor(now / TEN_SECONDS_MS);
    const minute = Math.floor(now / MINUTE_MS);
    let windows = this.#accounts.get(accountId);
    if (windows === undefined) {
      windows = { tenSeconds, count10s: 0, minute, count1m: 0 };
      this.#accounts.set(accountId, windows);
    }
    if (windows.tenSeconds !== tenSeconds) {
      windows.tenSeconds = tenSeconds;
      windows.count10s = 0;
    }
    if (windows.minute !== minute) {
      windows.minute = minute;
      windows.count1m = 0;
    }
    windows.count10s += count.tenSeconds;
    windows.count1m += count.minute;
    const counts = { count10s: windows.count10s, count1m: windows.count1m };
    if (windows.count10s > this.#limits.ordersPer10s) {
      return { ...counts, exceeded: { limit: this.#limits.ordersPer10s, per: '10 SECOND' } };
    }
    if (windows.count1m > this.#limits.ordersPerMinute) {
      return { ...counts, exceeded: { limit: this.#limits.ordersPerMinute, per: '1 MINUTE' } };
    }
    return counts;
  }
}
