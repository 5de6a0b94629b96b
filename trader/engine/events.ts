// The event types that flow through the engine's one queue, from market data to fills.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';

/** A bar of a subscribed series closed (final); prices as doubles for signals, never for orders. */
export interface BarEvent {
  readonly type: 'bar';
  readonly symbol: string;
  readonly interval: IntervalName;
  readonly openTime: number;
  readonly closeTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Engine time the close was seen. */
  readonly time: number;
}

/** A new last traded price of a symbol (only for strategies that ask for ticks). */
export interface TickEvent {
  readonly type: 'tick';
  readonly symbol: string;
  readonly price: number;
  readonly time: number;
}

export type MarketEvent = BarEvent | TickEvent;

/**
 * How an order is executed: `market` (taker), `post-only` (GTX limit at the touch, re-priced until
 * filled or timed out), `twap` (equal slices over a duration), `vwap` (slices by the historical
 * volume profile over a duration).
 */
export type ExecutionStyle =
  | { readonly kind: 'market' }
  | { readonly kind: 'post-only'; readonly timeoutMs?: number }
  | { readonly kind: 'twap'; readonly durationMs: number; readonly slices: number }
  | { readonly kind: 'vwap'; readonly durationMs: number; readonly slices: number };

/**
 * What identifies one decision: the strategy instance, the symbol, the decision's time (a bar's
 * close time, or the tick's time) and the leg (a flip is a close leg and an open leg). The same
 * key always gives the same client order ids, so a decision is sent at most once, across retries,
 * restarts and redundant traders (the gateway deduplicates on it).
 */
export interface SignalKey {
  readonly strategy: string;
  readonly symbol: string;
  readonly time: number;
}

/** A strategy's decision: the position it wants in `symbol` (signed base quantity, exact). */
export interface SignalEvent {
  readonly type: 'signal';
  readonly key: SignalKey;
  readonly target: Decimal;
  readonly execution: ExecutionStyle;
  /** Why, for logs and the report. */
  readonly reason: string;
}

export type OrderSide = 'BUY' | 'SELL';

/** One order the portfolio wants, before and after risk: exact, snapped, with its client id. */
export interface OrderIntent {
  readonly key: SignalKey;
  /** 0-based leg of the signal (close leg first when the position flips). */
  readonly leg: number;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: Decimal;
  readonly reduceOnly: boolean;
  readonly execution: ExecutionStyle;
  /**
   * Reference price the size was computed from (the last trade, else the mid of a sane quote),
   * exact. `undefined` only for a reduce-only leg of a symbol with no price at all: closing needs
   * none (reduce-only market orders are exempt from MIN_NOTIONAL), opening is never planned without.
   */
  readonly referencePrice: Decimal | undefined;
  readonly reason: string;
}

/** An order intent that passed risk and goes to an executor. */
export interface OrderEvent {
  readonly type: 'order';
  readonly intent: OrderIntent;
}

/** One fill of one of our orders, as the venue reported it. */
export interface FillEvent {
  readonly type: 'fill';
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly price: Decimal;
  readonly quantity: Decimal;
  readonly commission: Decimal;
  readonly commissionAsset: string;
  readonly realizedPnl: Decimal;
  readonly maker: boolean;
  readonly time: number;
  readonly tradeId: string;
}

/** An order reached a final state (filled, canceled, expired, rejected). */
export interface OrderDoneEvent {
  readonly type: 'orderDone';
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly status: string;
  readonly executedQty: Decimal;
  readonly time: number;
}

export type EngineEvent = MarketEvent | SignalEvent | OrderEvent | FillEvent | OrderDoneEvent;
export type EngineEventType = EngineEvent['type'];
