// Watches every position's stop coverage over time and reports one whose stops cover too little for longer than the grace.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { RiskEventSink } from '../risk/risk-events.js';

/** One symbol's coverage as last judged. */
export interface CoverageState {
  readonly amount: Decimal;
  readonly covered: Decimal;
  /** Since when it has been under the minimum, if it is. */
  readonly underSince: number | undefined;
  /** When, while under the minimum, its ladder was last seen waiting in the order-rate limiter. */
  readonly queuedAt: number | undefined;
}

/** How one observation is judged. */
export interface ObserveOptions {
  /** Only note the coverage (a reconcile's own look, right before it acts): never report. */
  readonly quiet?: boolean;
  /**
   * The symbol's ladder requests are waiting their turn in the order-rate limiter now: not yet
   * handed to the exchange, so the grace has not started for them.
   */
  readonly queued?: boolean;
}

/** Options of a {@link CoverageWatch}. */
export interface CoverageWatchOptions {
  /** The bound on an under-coverage whose ladder waits in the order-rate limiter, ms (default: the grace). */
  readonly queuedGraceMs?: number;
  /** Where a grace extended by the limiter is said (once per episode). */
  readonly logger?: Logger;
}

/**
 * Keeps, per symbol, since when its position has been covered under `minCoverage` × |position|,
 * emits one `stop-loss-failure` when that lasts longer than `graceMs`, and says when it recovers.
 * A ladder waiting its turn in the order-rate limiter (many positions opened at once) has not
 * failed: the grace runs from the last moment it was seen waiting, i.e. from when its orders went
 * to the exchange, and the whole episode is bounded by `queuedGraceMs` instead, so a queue that
 * never drains still alerts. Episodes are counted, and the longest one seen, so tests and the
 * status can check the bound.
 */
export class CoverageWatch {
  readonly #events: RiskEventSink;
  readonly #min: Decimal;
  readonly #graceMs: number;
  readonly #queuedGraceMs: number;
  readonly #logger: Logger | undefined;
  readonly #state = new Map<string, CoverageState>();
  readonly #reported = new Set<string>();
  readonly #deferred = new Set<string>();
  /** Times a position stayed under-covered past the grace. */
  breaches = 0;
  /** Times the grace of an under-covered position was extended because its ladder was queued. */
  queuedPastGrace = 0;

  constructor(
    events: RiskEventSink,
    minCoverage: Decimal,
    graceMs: number,
    options: CoverageWatchOptions = {},
  ) {
    this.#events = events;
    this.#min = minCoverage;
    this.#graceMs = graceMs;
    this.#queuedGraceMs = Math.max(options.queuedGraceMs ?? graceMs, graceMs);
    this.#logger = options.logger;
  }

  /** Judges `symbol` at `now` with its position and the quantity its stops cover. */
  observe(
    symbol: string,
    amount: Decimal,
    covered: Decimal,
    now: number,
    options: ObserveOptions = {},
  ): void {
    if (amount.isZero()) {
      this.#forget(symbol);
      return;
    }
    const under = covered.lt(amount.abs().mul(this.#min));
    const before = this.#state.get(symbol);
    const underSince = under ? (before?.underSince ?? now) : undefined;
    const queuedAt = under ? (options.queued === true ? now : before?.queuedAt) : undefined;
    this.#state.set(symbol, { amount, covered, underSince, queuedAt });
    if (!under || underSince === undefined) {
      this.#reported.delete(symbol);
      this.#deferred.delete(symbol);
      return;
    }
    if (options.quiet === true || this.#reported.has(symbol)) return;
    const age = now - underSince;
    if (age <= this.#graceMs) return;
    // Past the grace: a failure unless the ladder was waiting in the limiter within the grace.
    const sinceQueued = queuedAt === undefined ? age : now - queuedAt;
    if (sinceQueued <= this.#graceMs && age <= this.#queuedGraceMs) {
      if (!this.#deferred.has(symbol)) {
        this.#deferred.add(symbol);
        this.queuedPastGrace += 1;
        this.#logger?.warn('stop-loss ladder waiting its turn in the order-rate limiter', {
          symbol,
          underCoveredMs: age,
          graceMs: this.#graceMs,
          queuedGraceMs: this.#queuedGraceMs,
        });
      }
      return;
    }
    this.#reported.add(symbol);
    this.#deferred.delete(symbol);
    this.breaches += 1;
    const queued =
      queuedAt === undefined ? '' : `, waiting in the order-rate limiter until ${now - queuedAt} ms ago`;
    const bound =
      queuedAt !== undefined && sinceQueued <= this.#graceMs
        ? `queued bound ${this.#queuedGraceMs} ms`
        : `grace ${this.#graceMs} ms`;
    this.#events.emit({
      kind: 'stop-loss-failure',
      symbol,
      positionSide: 'BOTH',
      detail: `stops cover ${covered.toString()} of ${amount.abs().toString()} for ${age} ms${queued} (${bound})`,
      at: now,
    });
  }

  /** Forgets symbols no longer watched. */
  retain(symbols: ReadonlySet<string>): void {
    for (const symbol of [...this.#state.keys()]) if (!symbols.has(symbol)) this.#forget(symbol);
  }

  state(symbol: string): CoverageState | undefined {
    return this.#state.get(symbol);
  }

  /** Symbols under-covered right now. */
  underCovered(): string[] {
    return [...this.#state.entries()].filter(([, s]) => s.underSince !== undefined).map(([symbol]) => symbol);
  }

  /** Symbols under-covered past the grace whose ladders wait in the order-rate limiter (not failed yet). */
  queued(): string[] {
    return [...this.#deferred];
  }

  #forget(symbol: string): void {
    this.#state.delete(symbol);
    this.#reported.delete(symbol);
    this.#deferred.delete(symbol);
  }
}
