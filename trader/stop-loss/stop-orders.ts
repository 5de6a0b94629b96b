// The conditional orders a stop-loss ladder is made of, and the venue that places, cancels and lists them (POST/DELETE /fapi/v1/algoOrder, GET openAlgoOrders).
import type { Decimal } from '../../ts/exact/decimal.js';
import type { OrderSide } from '../engine/events.js';

/** Which price triggers a stop. */
export type StopWorkingType = 'MARK_PRICE' | 'CONTRACT_PRICE';

/** One reduce-only STOP_MARKET order to place. */
export interface StopOrderRequest {
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: Decimal;
  readonly triggerPrice: Decimal;
  readonly workingType: StopWorkingType;
  /** Says which ladder and rung it is (`sl_<generation>_<rung>`). */
  readonly clientAlgoId: string;
}

/** A conditional order as the exchange reports it (placement answer, open algo orders, ALGO_UPDATE). */
export interface StopOrder {
  readonly symbol: string;
  readonly clientAlgoId: string;
  readonly side: OrderSide;
  readonly quantity: Decimal;
  readonly triggerPrice: Decimal | null;
  /** NEW (waiting), TRIGGERING, TRIGGERED, FINISHED, CANCELED, EXPIRED, REJECTED. */
  readonly status: string;
  readonly reduceOnly: boolean;
  readonly updateTime: number;
}

/** Statuses in which a conditional order still waits for its trigger. */
export function isWaiting(status: string): boolean {
  return status === 'NEW';
}

/**
 * Where stop orders go. `placeStop` resolves an unknown outcome by client id before answering (an
 * order is never placed twice blindly) and throws what the exchange refused; `cancelStop` resolves
 * once the order no longer waits (cancelled now, or already triggered, cancelled or unknown);
 * `openStops` is the exchange's list of waiting conditional orders.
 */
export interface StopOrderVenue {
  placeStop(request: StopOrderRequest): Promise<StopOrder>;
  cancelStop(symbol: string, clientAlgoId: string): Promise<void>;
  openStops(symbol?: string): Promise<StopOrder[]>;
}

/** Binance's "Order would immediately trigger." (the price is already past the stop). */
export const ORDER_WOULD_TRIGGER = -2021;
