// The user orders of every account: open orders, history, and lookups by id and client id.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { PositionSide } from './position-state.js';

export type OrderSide = 'BUY' | 'SELL';
/** Order types the matching engine runs (conditional types live in the algo service). */
export type MatchingType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX';
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';
export type WorkingType = 'MARK_PRICE' | 'CONTRACT_PRICE';

/** One order in the matching engine, mutable while open. */
export interface UserOrder {
  readonly accountId: string;
  readonly symbol: string;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly type: MatchingType;
  /** The type the user asked for (`STOP_MARKET` … for orders an algo order placed). */
  readonly origType: string;
  readonly timeInForce: TimeInForce;
  readonly positionSide: PositionSide;
  /** Limit price; zero for market orders. */
  readonly price: Decimal;
  readonly origQty: Decimal;
  /** Trigger price of the algo order that placed it, else zero. */
  readonly stopPrice: Decimal;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly workingType: WorkingType;
  readonly priceProtect: boolean;
  readonly time: number;
  executedQty: Decimal;
  /** Σ price × qty of the fills. */
  cumQuote: Decimal;
  status: OrderStatus;
  updateTime: number;
}

/** Whether an order can still fill. */
export function isOpen(order: UserOrder): boolean {
  return order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
}

/** Every order, indexed; open orders are also kept per account in placement order. */
export class OrderStore {
  readonly #byId = new Map<number, UserOrder>();
  readonly #byAccount = new Map<string, UserOrder[]>();
  readonly #open = new Map<number, UserOrder>();

  add(order: UserOrder): void {
    this.#byId.set(order.orderId, order);
    let list = this.#byAccount.get(order.accountId);
    if (list === undefined) {
      list = [];
      this.#byAccount.set(order.accountId, list);
    }
    list.push(order);
    if (isOpen(order)) this.#open.set(order.orderId, order);
  }

  /** Call after a status change so the open index stays right. */
  touch(order: UserOrder): void {
    if (isOpen(order)) this.#open.set(order.orderId, order);
    else this.#open.delete(order.orderId);
  }

  /** An account's order by id, or by client id (the newest order carrying it). */
  find(accountId: string, symbol: string, orderId?: number, clientOrderId?: string): UserOrder | undefined {
    if (orderId !== undefined) {
      const o = this.#byId.get(orderId);
      return o !== undefined && o.accountId === accountId && o.symbol === symbol ? o : undefined;
    }
    const list = this.#byAccount.get(accountId) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const o = list[i];
      if (o !== undefined && o.symbol === symbol && o.clientOrderId === clientOrderId) return o;
    }
    return undefined;
  }

  /** Open orders of an account (all symbols when `symbol` is undefined), oldest first. */
  open(accountId: string, symbol?: string): UserOrder[] {
    const out: UserOrder[] = [];
    for (const o of this.#open.values()) {
      if (o.accountId === accountId && (symbol === undefined || o.symbol === symbol)) out.push(o);
    }
    return out.sort((a, b) => a.orderId - b.orderId);
  }

  /** Open orders of every account on `symbol` (resting orders the tape can fill). */
  openOnSymbol(symbol: string): UserOrder[] {
    const out: UserOrder[] = [];
    for (const o of this.#open.values()) if (o.symbol === symbol) out.push(o);
    return out.sort((a, b) => a.orderId - b.orderId);
  }

  /** Every order of an account on `symbol`, oldest first. */
  all(accountId: string, symbol: string): UserOrder[] {
    return (this.#byAccount.get(accountId) ?? []).filter((o) => o.symbol === symbol);
  }
}
