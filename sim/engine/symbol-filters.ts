// exchangeInfo filters of a symbol (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, PERCENT_PRICE, MIN_NOTIONAL).
import type { Decimal } from '../../ts/exact/decimal.js';
import type { MarketView, SymbolSpec } from '../contracts.js';
import type { OrderSide } from './order-store.js';
import { Reject } from './rejections.js';

/** The spec of `symbol`, or -1121. */
export function requireSpec(market: MarketView, symbol: string): SymbolSpec {
  const spec = market.spec(symbol);
  if (spec === undefined) throw Reject.badSymbol();
  return spec;
}

/** Quantity checks in Binance's order: sign, precision, step, min, max (market orders use MARKET_LOT_SIZE). */
export function checkQuantity(spec: SymbolSpec, qty: Decimal, isMarket: boolean): void {
  if (qty.sign() <= 0) throw Reject.qtyNotPositive();
  if (qty.normalize().scale > spec.quantityPrecision) throw Reject.badPrecision();
  const step = isMarket ? spec.marketStepSize : spec.stepSize;
  if (!qty.isMultipleOf(step)) throw Reject.qtyNotStep();
  if (qty.lt(isMarket ? spec.marketMinQty : spec.minQty)) throw Reject.qtyBelowMin();
  if (qty.gt(isMarket ? spec.marketMaxQty : spec.maxQty)) throw Reject.qtyAboveMax();
}

/** PRICE_FILTER checks of a limit price. */
export function checkPrice(spec: SymbolSpec, price: Decimal): void {
  if (price.sign() <= 0) throw Reject.priceNotPositive();
  if (price.normalize().scale > spec.pricePrecision) throw Reject.badPrecision();
  if (price.lt(spec.minPrice)) throw Reject.priceBelowMin();
  if (price.gt(spec.maxPrice)) throw Reject.priceAboveMax();
  if (!price.isMultipleOf(spec.tickSize)) throw Reject.priceNotTick();
}

/** PRICE_FILTER checks of a trigger (stop) price. */
export function checkStopPrice(spec: SymbolSpec, price: Decimal): void {
  if (price.sign() <= 0) throw Reject.stopPriceNotPositive();
  if (price.normalize().scale > spec.pricePrecision) throw Reject.badPrecision();
  if (price.gt(spec.maxPrice)) throw Reject.stopPriceAboveMax();
  if (price.lt(spec.minPrice)) throw Reject.priceBelowMin();
  if (!price.isMultipleOf(spec.tickSize)) throw Reject.priceNotTick();
}

/**
 * PERCENT_PRICE: a buy may not be priced above mark × multiplierUp, a sell not below
 * mark × multiplierDown; the message names the bound on the tick grid.
 */
export function checkPercentPrice(spec: SymbolSpec, side: OrderSide, price: Decimal, mark: Decimal): void {
  if (side === 'BUY') {
    const cap = mark.mul(spec.multiplierUp);
    if (price.gt(cap))
      throw Reject.priceAboveMultiplier(cap.snap(spec.tickSize, 'floor').toFixed(spec.pricePrecision));
  } else {
    const floor = mark.mul(spec.multiplierDown);
    if (price.lt(floor)) {
      throw Reject.priceBelowMultiplier(floor.snap(spec.tickSize, 'ceil').toFixed(spec.pricePrecision));
    }
  }
}

/** MIN_NOTIONAL: price × qty ≥ notional, reduce-only orders exempt. */
export function checkNotional(spec: SymbolSpec, qty: Decimal, price: Decimal, reduceOnly: boolean): void {
  if (reduceOnly) return;
  if (qty.mul(price).lt(spec.minNotional)) throw Reject.minNotional(spec.minNotional.normalize().toString());
}
