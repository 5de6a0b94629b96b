// The account trade list (`GET /fapi/v1/userTrades`): one row per fill, in fill order.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { OrderSide } from './order-store.js';
import type { PositionSide } from './position-state.js';

/** One fill of one account. */
export interface TradeRow {
  readonly accountId: string;
  readonly symbol: string;
  readonly id: number;
  readonly orderId: number;
  readonly side: OrderSide;
  readonly positionSide: PositionSide;
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly quoteQty: Decimal;
  /** Commission paid (positive), 8 digits. */
  readonly commission: Decimal;
  readonly realizedPnl: Decimal;
  readonly maker: boolean;
  readonly time: number;
}

/** Query of `GET /fapi/v1/userTrades`. */
export interface TradeQuery {
  readonly symbol: string;
  readonly orderId?: number;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly fromId?: number;
  readonly limit: number;
}

/** Every fill, append-only. */
export class TradeLedger {
  readonly #rows: TradeRow[] = [];

  record(row: TradeRow): void {
    this.#rows.push(row);
  }

  /** Fills of an order, in order. */
  ofOrder(accountId: string, orderId: number): TradeRow[] {
    return this.#rows.filter((r) => r.accountId === accountId && r.orderId === orderId);
  }

  /**
   * Binance's selection: by `orderId`, or from `fromId` upward, or within start/end time (the most
   * recent `limit` rows when no bound is given), oldest first.
   */
  query(accountId: string, q: TradeQuery): TradeRow[] {
    let rows = this.#rows.filter((r) => r.accountId === accountId && r.symbol === q.symbol);
    if (q.orderId !== undefined) rows = rows.filter((r) => r.orderId === q.orderId);
    if (q.fromId !== undefined) {
      const from = q.fromId;
      return rows.filter((r) => r.id >= from).slice(0, q.limit);
    }
    if (q.startTime !== undefined) {
      const start = q.startTime;
      rows = rows.filter((r) => r.time >= start);
    }
    if (q.endTime !== undefined) {
      const end = q.endTime;
      rows = rows.filter((r) => r.time <= end);
    }
    return q.startTime !== undefined ? rows.slice(0, q.limit) : rows.slice(-q.limit);
  }
}
