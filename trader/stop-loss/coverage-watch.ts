// Watches every position's stop coverage over time and reports one whose stops cover too little for longer than the grace.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { RiskEventSink } from '../risk/risk-events.js';

/** One symbol's coverage as last judged. */
export interface CoverageState {
  readonly amount: Decimal;
  readonly covered: Decimal;
  /** Since when it has been under the minimum, if it is. */
  readonly underSince: number | undefined;
}

/**
 * Keeps, per symbol, since when its position has been covered under `minCoverage` × |position|,
 * emits one `stop-loss-failure` when that lasts longer than `graceMs`, and says when it recovers.
 * Episodes are counted, and the longest one seen, so tests and the status can check the bound.
 */
export class CoverageWatch {
  readonly #events: RiskEventSink;
  readonly #min: Decimal;
  readonly #graceMs: number;
  readonly #state = new Map<string, CoverageState>();
  readonly #reported = new Set<string>();
  /** Times a position stayed under-covered past the grace. */
  breaches = 0;

  constructor(events: RiskEventSink, minCoverage: Decimal, graceMs: number) {
    this.#events = events;
    this.#min = minCoverage;
    this.#graceMs = graceMs;
  }

  /** Judges `symbol` at `now` with its position and the quantity its stops cover. */
  observe(symbol: string, amount: Decimal, covered: Decimal, now: number, quiet = false): void {
    if (amount.isZero()) {
      this.#state.delete(symbol);
      this.#reported.delete(symbol);
      return;
    }
    const under = covered.lt(amount.abs().mul(this.#min));
    const before = this.#state.get(symbol);
    const underSince = under ? (before?.underSince ?? now) : undefined;
    this.#state.set(symbol, { amount, covered, underSince });
    if (!under) {
      this.#reported.delete(symbol);
      return;
    }
    if (quiet || now - (underSince ?? now) <= this.#graceMs || this.#reported.has(symbol)) return;
    this.#reported.add(symbol);
    this.breaches += 1;
    this.#events.emit({
      kind: 'stop-loss-failure',
      symbol,
      positionSide: 'BOTH',
      detail: `stops cover ${covered.toString()} of ${amount.abs().toString()} for ${now - (underSince ?? now)} ms (grace ${this.#graceMs} ms)`,
      at: now,
    });
  }

  /** Forgets symbols no longer watched. */
  retain(symbols: ReadonlySet<string>): void {
    for (const symbol of [...this.#state.keys()]) {
      if (!symbols.has(symbol)) {
        this.#state.delete(symbol);
        this.#reported.delete(symbol);
      }
    }
  }

  state(symbol: string): CoverageState | undefined {
    return this.#state.get(symbol);
  }

  /** Symbols under-covered right now. */
  underCovered(): string[] {
    return [...this.#state.entries()].filter(([, s]) => s.underSince !== undefined).map(([symbol]) => symbol);
  }
}
