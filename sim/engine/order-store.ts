// The user orders of every account: open orders, history, and lookups by id and client id.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { PositionSide } from './position-state.js';

export type OrderSide = 'BUY' | 'SELL';
/** Order types the matching engine runs (conditional types live in the algo service). */
export type MatchingType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';
export type WorkingType = 'MARK_PRICE' | 'CONTRACT_PRICE';
/** Self-trade prevention: what happens when an order would trade against the same account's order. */
export type StpMode = 'NONE' | 'EXPIRE_TAKER' | 'EXPIRE_MAKER' | 'EXPIRE_BOTH';
export const STP_MODES: readonly StpMode[] = ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'];
/** Why the exchange closed a position by an order of its own. */
export type AutoCloseType = 'LIQUIDATION' | 'ADL';

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
  /** Limit price; zero for market orders (a modify changes it). */
  price: Decimal;
  origQty: Decimal;
  /** Trigger price of the algo order that placed it, else zero. */
  readonly stopPrice: Decimal;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly workingType: WorkingType;
  readonly priceProtect: boolean;
  /** Self-trade prevention mode (a modify sets it to NONE, as on Binance). */
  stp: StpMode;
  /** The price-match mode it was placed with (`NONE` when it was given a price). */
  readonly priceMatch: string;
  /** When a GTD order expires (ms, whole seconds); 0 for every other time in force. */
  readonly goodTillDate: number;
  /** Set on the exchange's own liquidation and ADL orders. */
  readonly autoCloseType?: AutoCloseType;
  /** Times the order was modified. */
  amendments: number;
  /** Place in the matching queue at its price (set by the store; a modify moves it to the back). */
  queue: number;
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
  /** GTD orders not yet seen closed (checked for expiry by `dueGoodTillDate`). */
  readonly #goodTillDate = new Set<UserOrder>();
  #queue = 0;

  add(order: UserOrder): void {
    order.queue = ++this.#queue;
    this.#byId.set(order.orderId, order);
    let list = this.#byAccount.get(order.accountId);
    if (list === undefined) {
      list = [];
      this.#byAccount.set(order.accountId, list);
    }
    list.push(order);
    if (isOpen(order)) this.#open.set(order.orderId, order);
    if (order.goodTillDate > 0) this.#goodTillDate.add(order);
  }

  /** Moves an order to the back of the queue (a modified order loses its time priority). */
  requeue(order: UserOrder): void {
    order.queue = ++this.#queue;
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

  /** How many orders an account has open on `symbol` (the MAX_NUM_ORDERS count; no list, no sort). */
  openCount(accountId: string, symbol: string): number {
    let count = 0;
    for (const o of this.#open.values()) if (o.accountId === accountId && o.symbol === symbol) count += 1;
    return count;
  }

  /** Open GTD orders whose time has come (`goodTillDate <= now`). */
  dueGoodTillDate(now: number): UserOrder[] {
    const due: UserOrder[] = [];
    for (const order of this.#goodTillDate) {
      if (!isOpen(order)) this.#goodTillDate.delete(order);
      else if (order.goodTillDate <= now) due.push(order);
    }
    return due;
  }

  /** Open orders of every account on `symbol` (resting orders the tape can fill). */
  openOnSymbol(symbol: string): UserOrder[] {
    const out: UserOrder[] = [];
    for (const o of this.#open.values()) if (o.symbol === symbol) out.push(o);
    return out.sort((a, b) => a.queue - b.queue);
  }

  /** The exchange's own liquidation and ADL orders of an account, oldest first. */
  exchangeOrders(accountId: string): UserOrder[] {
    return (this.#byAccount.get(accountId) ?? []).filter((o) => o.autoCloseType !== undefined);
  }

  /** Every order of an account on `symbol`, oldest first. */
  all(accountId: string, symbol: string): UserOrder[] {
    return (this.#byAccount.get(accountId) ?? []).filter((o) => o.symbol === symbol);
  }
}
