// Typed facade over the native symbol filters: tick/step snapping and order checks, exact decimals in and out.
import type { FilterViolation, SymbolFilterFields } from '../../bindings/index.cjs';
import { Decimal } from '../exact/decimal.js';
import { binding } from './binding.js';
import { callNative } from './native-error.js';

export type { FilterViolation, SymbolFilterFields };

/** Which side of the book an order is on (decides the safe rounding of its price). */
export type FilterSide = 'BUY' | 'SELL';

/**
 * One symbol's exchangeInfo filters (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL,
 * PERCENT_PRICE), evaluated by the native core so that TypeScript never re-implements them:
 * quantities round down to the step, prices round toward the safe side of the order, and a check
 * returns the violated filter by its exchangeInfo name, or `null`.
 */
export class SymbolFilterSet {
  readonly #native: InstanceType<typeof binding.SymbolFilters>;

  /** `fields` as `parseExchangeInfo` returns them per symbol (absent groups impose nothing). */
  constructor(fields: SymbolFilterFields) {
    this.#native = callNative(() => new binding.SymbolFilters(fields));
  }

  /** `qty` rounded down to the step (MARKET_LOT_SIZE for market orders when the symbol has one). */
  snapQuantity(qty: Decimal, market: boolean): Decimal {
    return Decimal.parse(callNative(() => this.#native.snapQuantity(qty.toString(), market)));
  }

  /** `price` on the tick grid, rounded down for a buy and up for a sell. */
  snapPrice(price: Decimal, side: FilterSide): Decimal {
    return Decimal.parse(callNative(() => this.#native.snapPrice(price.toString(), side)));
  }

  /**
   * The lot filter, for limit orders the price filter, and MIN_NOTIONAL (`price × qty`; for a
   * market order `price` is a reference such as the last or mark price). `null` when it passes.
   */
  checkOrder(price: Decimal | undefined, qty: Decimal, market: boolean): FilterViolation | null {
    return callNative(() => this.#native.checkOrder(price?.toString(), qty.toString(), market));
  }

  /** PERCENT_PRICE: a buy not above `mark × multiplierUp`, a sell not below `mark × multiplierDown`. */
  checkPercentPrice(price: Decimal, side: FilterSide, markPrice: Decimal): FilterViolation | null {
    return callNative(() => this.#native.checkPercentPrice(price.toString(), side, markPrice.toString()));
  }
}
