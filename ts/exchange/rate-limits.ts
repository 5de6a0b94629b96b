// The exchange's rate limits as the budget paces to them: exchangeInfo `rateLimits` times the paced share, and the usage headers of each response.

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
