// Turns a target position into order legs: the difference from the expected position, snapped and checked by the native filters.
import { Decimal } from '../../ts/exact/decimal.js';
import { LogThrottle } from '../../ts/log/log-throttle.js';
import type { Logger } from '../../ts/log/logger.js';
import type { SymbolRules } from '../execution/symbol-rules.js';
import type { OrderIntent, OrderSide, SignalEvent } from './events.js';
import { partsNeeded, splitEvenly } from './quantity-split.js';

/**
 * Most orders one leg is split into. A real lot's maxQty splits even a huge position into a
 * handful; more means the exchange's maxQty is absurd for the step, and sending them all would
 * flood the order-rate budget (or, with a maxQty below one step, never end).
 */
const MAX_SPLIT = 100;

/** Skipped legs kept for inspection, the newest; {@link TargetPlanner.skippedCount} counts them all. */
const RECENT_SKIPPED = 100;

/**
 * At most one warning a symbol per this long (engine clock): a strategy that asks for a sub-step
 * target on every tick, or on every past bar at its start, would otherwise write a line each. The
 * next warning says how many were held back.
 */
const SKIP_WARN_INTERVAL_MS = 60_000;

/** A leg the planner dropped, and why (counted and logged, never silent). */
export interface SkippedLeg {
  readonly symbol: string;
  readonly quantity: string;
  readonly reason: string;
}

/**
 * The target-position step of the engine (seed 003's portfolio): target − expected position →
 * legs. A position that changes sign is closed by a reduce-only leg first and opened by a second
 * leg; a shrinking position gets one reduce-only leg. Quantities are snapped down to the step
 * (MARKET_LOT_SIZE for market execution) by the native filters; legs above the lot's maxQty are
 * split. Opening legs must pass every filter including MIN_NOTIONAL at the reference price, and
 * without a reference price none is planned; reduce-only legs are exempt from MIN_NOTIONAL, as on
 * Binance (-4164 "... unless you choose reduce only"), and need no reference price at all, so a
 * small remainder, or a position in a symbol with no last trade, can always be closed.
 */
export class TargetPlanner {
  readonly #rules: SymbolRules;
  readonly #log: Logger;
  readonly #recentSkipped: SkippedLeg[] = [];
  readonly #warnThrottle = new LogThrottle(SKIP_WARN_INTERVAL_MS);
  #skippedCount = 0;

  readonly #now: () => number;

  /** `now`: the engine's clock, which paces the warnings (a signal's own time may be a bar's, long past). */
  constructor(rules: SymbolRules, logger: Logger, now: () => number = Date.now) {
    this.#rules = rules;
    this.#log = logger;
    this.#now = now;
  }

  /** Legs dropped since this planner was made. */
  get skippedCount(): number {
    return this.#skippedCount;
  }

  /** The last {@link RECENT_SKIPPED} legs dropped, oldest first (a live trader runs for months). */
  get recentSkipped(): readonly SkippedLeg[] {
    return this.#recentSkipped;
  }

  /** `referencePrice` undefined: the symbol has no usable price; only reduce-only legs are planned. */
  plan(signal: SignalEvent, expected: Decimal, referencePrice: Decimal | undefined): OrderIntent[] {
    const { target } = signal;
    const symbol = signal.key.symbol;
    if (target.eq(expected)) return [];
    const legs: Array<{ side: OrderSide; qty: Decimal; reduceOnly: boolean }> = [];
    const flips = !expected.isZero() && (target.isZero() || target.sign() !== expected.sign());
    if (flips) {
      legs.push({ side: expected.sign() > 0 ? 'SELL' : 'BUY', qty: expected.abs(), reduceOnly: true });
      if (!target.isZero())
        legs.push({ side: target.sign() > 0 ? 'BUY' : 'SELL', qty: target.abs(), reduceOnly: false });
    } else if (target.abs().gt(expected.abs())) {
      legs.push({
        side: target.sign() > 0 ? 'BUY' : 'SELL',
        qty: target.abs().sub(expected.abs()),
        reduceOnly: false,
      });
    } else {
      legs.push({
        side: expected.sign() > 0 ? 'SELL' : 'BUY',
        qty: expected.abs().sub(target.abs()),
        reduceOnly: true,
      });
    }
    const market = signal.execution.kind !== 'post-only';
    const intents: OrderIntent[] = [];
    for (const leg of legs) {
      const snapped = this.#rules.snapQuantity(symbol, leg.qty, market);
      const pieces = this.#split(symbol, snapped, market);
      if (typeof pieces === 'string') {
        this.#skip(symbol, snapped, pieces, signal);
        continue;
      }
      for (const qty of pieces) {
        const problem = this.#check(symbol, qty, referencePrice, market, leg.reduceOnly);
        if (problem !== undefined) {
          this.#skip(symbol, qty, problem, signal);
          continue;
        }
        intents.push({
          key: signal.key,
          leg: intents.length,
          symbol,
          side: leg.side,
          quantity: qty,
          reduceOnly: leg.reduceOnly,
          execution: signal.execution,
          referencePrice,
          reason: signal.reason,
        });
      }
    }
    return intents;
  }

  /**
   * Splits `qty` into the fewest near-equal pieces no larger than the lot's maxQty, each on the step
   * ({@link splitEvenly}: no small remainder that could fall under minQty), or says why it cannot:
   * a maxQty under one step, or one so small the leg would take over MAX_SPLIT orders.
   */
  #split(symbol: string, qty: Decimal, market: boolean): Decimal[] | string {
    const fields = this.#rules.fields(symbol);
    const maxText = market ? (fields?.marketMaxQty ?? fields?.maxQty) : fields?.maxQty;
    const max = maxText === undefined || maxText === null ? undefined : Decimal.parse(maxText);
    if (max === undefined || max.sign() <= 0 || qty.lte(max)) return [qty];
    const cap = this.#rules.snapQuantity(symbol, max, market);
    if (cap.sign() <= 0) return `the lot's maxQty ${max.toString()} is under one step`;
    const parts = partsNeeded(qty, cap);
    if (parts > MAX_SPLIT)
      return `the lot's maxQty ${max.toString()} would split ${qty.toString()} into more than ${MAX_SPLIT} orders`;
    return splitEvenly(qty, parts, (q) => this.#rules.snapQuantity(symbol, q, market));
  }

  #check(
    symbol: string,
    qty: Decimal,
    price: Decimal | undefined,
    market: boolean,
    reduceOnly: boolean,
  ): string | undefined {
    if (qty.sign() <= 0) return 'quantity is below one step after snapping';
    if (price === undefined && !reduceOnly)
      return 'no price (no last trade, no usable quote): an opening leg cannot be sized or checked';
    const violation = this.#rules.filters(symbol).checkOrder(price, qty, market);
    if (violation === null) return undefined;
    if (reduceOnly && violation.filter === 'MIN_NOTIONAL') return undefined;
    // A reduce-only leg without a reference price: the lot filter was checked; the price a
    // post-only close rests at comes from the book when it is sent.
    if (reduceOnly && price === undefined && violation.reason === 'missing_price') return undefined;
    return violation.message;
  }

  #skip(symbol: string, qty: Decimal, reason: string, signal: SignalEvent): void {
    this.#skippedCount += 1;
    this.#recentSkipped.push({ symbol, quantity: qty.toString(), reason });
    if (this.#recentSkipped.length > RECENT_SKIPPED) this.#recentSkipped.shift();
    const suppressed = this.#warnThrottle.allow(symbol, this.#now());
    if (suppressed === undefined) return;
    this.#log.warn('order leg skipped', {
      symbol,
      quantity: qty.toString(),
      reason,
      signal: signal.reason,
      suppressed,
    });
  }
}
