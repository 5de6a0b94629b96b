// The simulator's open orders in a backtest, per symbol, followed from its user events: one tracker for the bar fill model and the trade-by-trade replay.
import { Decimal } from '../../ts/exact/decimal.js';
import { TERMINAL_ORDER_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import type { UserEventObject } from '../../ts/native/parse.js';

type Side = 'BUY' | 'SELL';

/** A limit order resting on the simulator, as its order updates describe it. */
export interface RestingLimit {
  readonly symbol: string;
  readonly side: Side;
  readonly price: Decimal;
  readonly quantity: Decimal;
  readonly filled: Decimal;
  /** When it was placed (or last amended: the simulator moves it to the back of the queue then). */
  readonly placedAt: number;
}

/** A conditional order with a fixed trigger waiting on the simulator (its algo updates). */
export interface WaitingStop {
  readonly symbol: string;
  readonly trigger: Decimal;
  /** Fires when the price rises to the trigger (a buy stop, a sell take-profit); else when it falls to it. */
  readonly rising: boolean;
}

/** Conditional types with a fixed trigger; a trailing stop's moves with the price and is left to the simulator. */
const FIXED_TRIGGER = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET']);

/** One symbol's open orders, and the nearest triggers of its stops as numbers (the per-trade test). */
interface SymbolOrders {
  readonly limits: Map<string, RestingLimit>;
  readonly stops: Map<string, WaitingStop>;
  /** The highest trigger that fires on a fall (−Infinity: none). */
  below: number;
  /** The lowest trigger that fires on a rise (Infinity: none). */
  above: number;
}

const NONE: readonly never[] = [];

/**
 * Follows the simulator's ORDER_TRADE_UPDATEs (limit orders, until they end) and ALGO_UPDATEs
 * (fixed-trigger conditional orders, while NEW), kept per symbol so each question about a symbol
 * is a lookup. An aggTrades replay hands the simulator a trade only where it must (a resting limit,
 * a trade that reaches a waiting trigger: {@link reached}, on numbers — a price of at most 15
 * significant digits keeps its order as a double; the simulator judges the trade itself exactly);
 * a klines replay walks its bars past these orders' prices.
 */
export class SimulatorOpenOrders {
  readonly #bySymbol = new Map<string, SymbolOrders>();
  /** The symbol of each tracked order (limit client ids and algo client ids are separate spaces). */
  readonly #limitSymbol = new Map<string, string>();
  readonly #stopSymbol = new Map<string, string>();

  /** Applies one user event of the simulator (in order). */
  onUserEvent(event: UserEventObject): void {
    const u = event.orderUpdate;
    if (u !== undefined) {
      if (TERMINAL_ORDER_STATUSES.includes(u.status) || u.orderType !== 'LIMIT')
        this.#dropLimit(u.clientOrderId);
      else {
        const orders = this.#orders(u.symbol);
        const known = orders.limits.get(u.clientOrderId);
        const moved = known === undefined || u.executionType === 'AMENDMENT';
        orders.limits.set(u.clientOrderId, {
          symbol: u.symbol,
          side: u.side === 'SELL' ? 'SELL' : 'BUY',
          price: Decimal.parse(u.price),
          quantity: Decimal.parse(u.originalQuantity),
          filled: Decimal.parse(u.cumulativeFilledQuantity),
          placedAt: moved ? u.transactionTime : known.placedAt,
        });
        this.#limitSymbol.set(u.clientOrderId, u.symbol);
      }
    }
    const a = event.algoUpdate;
    if (a !== undefined) {
      if (a.status !== 'NEW' || !FIXED_TRIGGER.has(a.orderType) || a.triggerPrice === undefined)
        this.#dropStop(a.clientAlgoId);
      else {
        const stop = a.orderType === 'STOP' || a.orderType === 'STOP_MARKET';
        const orders = this.#orders(a.symbol);
        orders.stops.set(a.clientAlgoId, {
          symbol: a.symbol,
          trigger: Decimal.parse(a.triggerPrice),
          rising: stop === (a.side === 'BUY'),
        });
        this.#stopSymbol.set(a.clientAlgoId, a.symbol);
        recomputeBounds(orders);
      }
    }
  }

  /** The limit orders resting for `symbol`. */
  limits(symbol: string): Iterable<RestingLimit> {
    return this.#bySymbol.get(symbol)?.limits.values() ?? NONE;
  }

  /** The fixed-trigger orders waiting for `symbol`. */
  stops(symbol: string): Iterable<WaitingStop> {
    return this.#bySymbol.get(symbol)?.stops.values() ?? NONE;
  }

  /** Whether `symbol` has a limit order resting. */
  rests(symbol: string): boolean {
    return (this.#bySymbol.get(symbol)?.limits.size ?? 0) > 0;
  }

  /** Whether `symbol` has a fixed-trigger order waiting. */
  waits(symbol: string): boolean {
    return (this.#bySymbol.get(symbol)?.stops.size ?? 0) > 0;
  }

  /** Whether `symbol` has anything a price could fill or trigger. */
  watches(symbol: string): boolean {
    return this.rests(symbol) || this.waits(symbol);
  }

  /** Whether a trade of `symbol` at `price` reaches a waiting trigger. */
  reached(symbol: string, price: string): boolean {
    const orders = this.#bySymbol.get(symbol);
    if (orders === undefined || orders.stops.size === 0) return false;
    const p = Number(price);
    return p <= orders.below || p >= orders.above;
  }

  #orders(symbol: string): SymbolOrders {
    let orders = this.#bySymbol.get(symbol);
    if (orders === undefined) {
      orders = {
        limits: new Map(),
        stops: new Map(),
        below: Number.NEGATIVE_INFINITY,
        above: Number.POSITIVE_INFINITY,
      };
      this.#bySymbol.set(symbol, orders);
    }
    return orders;
  }

  #dropLimit(clientOrderId: string): void {
    const symbol = this.#limitSymbol.get(clientOrderId);
    if (symbol === undefined) return;
    this.#limitSymbol.delete(clientOrderId);
    this.#bySymbol.get(symbol)?.limits.delete(clientOrderId);
  }

  #dropStop(clientAlgoId: string): void {
    const symbol = this.#stopSymbol.get(clientAlgoId);
    if (symbol === undefined) return;
    this.#stopSymbol.delete(clientAlgoId);
    const orders = this.#bySymbol.get(symbol);
    if (orders === undefined) return;
    orders.stops.delete(clientAlgoId);
    recomputeBounds(orders);
  }
}

/** The nearest triggers on each side, from the symbol's stops. */
function recomputeBounds(orders: SymbolOrders): void {
  orders.below = Number.NEGATIVE_INFINITY;
  orders.above = Number.POSITIVE_INFINITY;
  for (const stop of orders.stops.values()) {
    const trigger = stop.trigger.toNumber();
    if (stop.rising) orders.above = Math.min(orders.above, trigger);
    else orders.below = Math.max(orders.below, trigger);
  }
}
