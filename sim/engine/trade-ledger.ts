// The account trade list (`GET /fapi/v1/userTrades`): one row per fill, in fill order.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { HistoryWindow } from './history-window.js';
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
  /** From this trade id upward; no time window applies. */
  readonly fromId?: number;
  /** The times selected (see `historyWindow`), when no `fromId` is sent. */
  readonly window?: HistoryWindow;
  /** Whether a start time was sent: the oldest `limit` rows of the window, else the newest. */
  readonly fromStart?: boolean;
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
   * Binance's selection: by `orderId`, then from `fromId` upward, or within the time window (its
   * oldest `limit` rows when a start time was sent, else its newest), oldest first.
   */
  query(accountId: string, q: TradeQuery): TradeRow[] {
    let rows = this.#rows.filter((r) => r.accountId === accountId && r.symbol === q.symbol);
    if (q.orderId !== undefined) rows = rows.filter((r) => r.orderId === q.orderId);
    if (q.fromId !== undefined) {
      const from = q.fromId;
      return rows.filter((r) => r.id >= from).slice(0, q.limit);
    }
    const window = q.window;
    if (window !== undefined) rows = rows.filter((r) => r.time >= window.start && r.time <= window.end);
    return q.fromStart === true ? rows.slice(0, q.limit) : rows.slice(-q.limit);
  }
}
