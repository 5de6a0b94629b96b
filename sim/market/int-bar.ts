// A kline in integer units (ticks, steps, tick·step units): what the market stores and combines exactly.
import type { KlineObject } from '../../ts/native/index.js';
import type { PriceUnits } from './history/price-units.js';

/** One bar in integer units; a bar with `trades === 0` is empty (its four prices are the previous close). */
export interface IntBar {
  readonly openTime: number;
  readonly closeTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Base volume in steps, quote volume in tick·step units; `taker*` the taker-buy parts. */
  readonly volume: bigint;
  readonly quote: bigint;
  readonly takerVolume: bigint;
  readonly takerQuote: bigint;
  /** Underlying trades (Σ l − f + 1 of the aggTrades). */
  readonly trades: number;
  readonly firstTradeId: number | undefined;
  readonly lastTradeId: number | undefined;
  /** Time of the newest information in the bar. */
  readonly asOf: number;
}

/** An empty bar at `price` (ticks): no trades, zero volumes. */
export function emptyBar(price: number, openTime: number, closeTime: number, asOf: number): IntBar {
  return {
    openTime,
    closeTime,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: 0n,
    quote: 0n,
    takerVolume: 0n,
    takerQuote: 0n,
    trades: 0,
    firstTradeId: undefined,
    lastTradeId: undefined,
    asOf,
  };
}

/**
 * Two consecutive parts of one window as one bar: `earlier` before `later`, either may be empty or
 * absent. Prices come from the parts that traded; sums add. The window is `openTime..closeTime`.
 */
export function combineBars(
  earlier: IntBar | undefined,
  later: IntBar | undefined,
  openTime: number,
  closeTime: number,
): IntBar | undefined {
  if (earlier === undefined && later === undefined) return undefined;
  if (earlier === undefined || later === undefined) {
    const only = (earlier ?? later) as IntBar;
    return { ...only, openTime, closeTime };
  }
  const a = earlier;
  const b = later;
  if (b.trades === 0 && a.trades === 0) {
    return { ...emptyBar(b.close, openTime, closeTime, Math.max(a.asOf, b.asOf)) };
  }
  if (b.trades === 0) return { ...a, openTime, closeTime, asOf: Math.max(a.asOf, b.asOf) };
  if (a.trades === 0) return { ...b, openTime, closeTime, asOf: Math.max(a.asOf, b.asOf) };
  return {
    openTime,
    closeTime,
    open: a.open,
    high: Math.max(a.high, b.high),
    low: Math.min(a.low, b.low),
    close: b.close,
    volume: a.volume + b.volume,
    quote: a.quote + b.quote,
    takerVolume: a.takerVolume + b.takerVolume,
    takerQuote: a.takerQuote + b.takerQuote,
    trades: a.trades + b.trades,
    firstTradeId: a.firstTradeId ?? b.firstTradeId,
    lastTradeId: b.lastTradeId ?? a.lastTradeId,
    asOf: Math.max(a.asOf, b.asOf),
  };
}

/** The bar as the native aggregator writes it (prices at the price scale, sums at their natural scales). */
export function toKlineObject(bar: IntBar, units: PriceUnits, closed: boolean): KlineObject {
  const k: KlineObject = {
    openTime: bar.openTime,
    closeTime: bar.closeTime,
    open: units.price(bar.open),
    high: units.price(bar.high),
    low: units.price(bar.low),
    close: units.price(bar.close),
    volume: units.qty(bar.volume),
    quoteVolume: units.notional(bar.quote),
    trades: bar.trades,
    takerBuyVolume: units.qty(bar.takerVolume),
    takerBuyQuoteVolume: units.notional(bar.takerQuote),
    closed,
    asOf: bar.asOf,
  };
  if (bar.firstTradeId !== undefined) k.firstTradeId = bar.firstTradeId;
  if (bar.lastTradeId !== undefined) k.lastTradeId = bar.lastTradeId;
  return k;
}

/** A kline from the native aggregator in integer units (exact: every string is on the symbol's grids). */
export function fromKlineObject(k: KlineObject, units: PriceUnits): IntBar {
  return {
    openTime: k.openTime,
    closeTime: k.closeTime,
    open: units.ticksOf(k.open),
    high: units.ticksOf(k.high),
    low: units.ticksOf(k.low),
    close: units.ticksOf(k.close),
    volume: units.stepsOf(k.volume),
    quote: units.unitsOf(k.quoteVolume),
    takerVolume: units.stepsOf(k.takerBuyVolume),
    takerQuote: units.unitsOf(k.takerBuyQuoteVolume),
    trades: k.trades,
    firstTradeId: k.firstTradeId,
    lastTradeId: k.lastTradeId,
    asOf: k.asOf,
  };
}
