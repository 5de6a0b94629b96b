// Every tradable symbol's exchange filters (native), looked up by name: what order sizes and prices snap to.
import type { Decimal } from '../../ts/exact/decimal.js';
import { type SymbolFilterFields, SymbolFilterSet } from '../../ts/native/filters.js';

/** One symbol's filter fields as exchangeInfo lists them (the `parseExchangeInfo` shape). */
export interface SymbolRuleFields extends SymbolFilterFields {
  readonly symbol: string;
}

/** A symbol the rules do not list: an order for it cannot be sized. */
export class UnknownSymbolError extends Error {
  override readonly name = 'UnknownSymbolError';
}

/** The filters of every symbol, from exchangeInfo (live) or the simulator's specs (paper, backtest). */
export class SymbolRules {
  readonly #filters = new Map<string, SymbolFilterSet>();
  readonly #fields = new Map<string, SymbolRuleFields>();

  constructor(symbols: readonly SymbolRuleFields[]) {
    for (const s of symbols) {
      this.#filters.set(s.symbol, new SymbolFilterSet(s));
      this.#fields.set(s.symbol, s);
    }
  }

  has(symbol: string): boolean {
    return this.#filters.has(symbol);
  }

  symbols(): string[] {
    return [...this.#filters.keys()];
  }

  /** The native filters of `symbol`; throws {@link UnknownSymbolError} when it is not listed. */
  filters(symbol: string): SymbolFilterSet {
    const filters = this.#filters.get(symbol);
    if (filters === undefined) throw new UnknownSymbolError(`${symbol} is not in the exchange's symbol list`);
    return filters;
  }

  /** The raw fields (tick, step, minimums) of `symbol`. */
  fields(symbol: string): SymbolRuleFields | undefined {
    return this.#fields.get(symbol);
  }

  /** MIN_NOTIONAL of `symbol`, when it has one. */
  minNotional(symbol: string): string | undefined {
    return this.#fields.get(symbol)?.minNotional ?? undefined;
  }

  /** `qty` snapped down to the step of `symbol` (market or limit lot filter). */
  snapQuantity(symbol: string, qty: Decimal, market: boolean): Decimal {
    return this.filters(symbol).snapQuantity(qty, market);
  }
}
