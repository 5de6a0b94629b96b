// Conditional (algo) orders: their state, storage, and the trigger rules of each type.
import { Decimal } from '../../ts/exact/decimal.js';
import type { PriceMatch } from './order-request.js';
import type { OrderSide, StpMode, TimeInForce, WorkingType } from './order-store.js';
import type { PositionSide } from './position-state.js';

export type AlgoOrderType =
  | 'STOP'
  | 'STOP_MARKET'
  | 'TAKE_PROFIT'
  | 'TAKE_PROFIT_MARKET'
  | 'TRAILING_STOP_MARKET';
export const ALGO_ORDER_TYPES: readonly AlgoOrderType[] = [
  'STOP',
  'STOP_MARKET',
  'TAKE_PROFIT',
  'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET',
];
export type AlgoStatus =
  | 'NEW'
  | 'CANCELED'
  | 'TRIGGERING'
  | 'TRIGGERED'
  | 'FINISHED'
  | 'REJECTED'
  | 'EXPIRED';

/** One conditional order of the algo service. */
export interface AlgoOrder {
  readonly accountId: string;
  readonly algoId: number;
  readonly clientAlgoId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly positionSide: PositionSide;
  readonly orderType: AlgoOrderType;
  readonly timeInForce: TimeInForce;
  /** Zero for a closePosition order (the position size is taken at trigger). */
  readonly quantity: Decimal;
  /** Limit price of STOP / TAKE_PROFIT; zero for the market types. */
  readonly price: Decimal;
  /** Price-match mode of a STOP / TAKE_PROFIT priced from the book at trigger (`price` is zero). */
  readonly priceMatch: PriceMatch | undefined;
  /** Self-trade prevention mode of the order placed at trigger. */
  readonly stp: StpMode;
  readonly workingType: WorkingType;
  readonly priceProtect: boolean;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly activatePrice: Decimal | undefined;
  readonly callbackRate: Decimal | undefined;
  readonly createTime: number;
  /** Trigger price; for a trailing stop the current stop level once activated (zero before). */
  triggerPrice: Decimal;
  status: AlgoStatus;
  updateTime: number;
  triggerTime: number;
  actualOrderId: number | undefined;
  /** Type of the order placed in the matching engine (`MARKET` / `LIMIT`) once triggered. */
  actualOrderType: string | undefined;
  rejectReason: string;
  /** Trailing stop: activated, and the best price seen since (highest for a sell, lowest for a buy). */
  activated: boolean;
  extreme: Decimal;
}

/** Whether the order is still waiting for its trigger. */
export function isWaiting(algo: AlgoOrder): boolean {
  return algo.status === 'NEW';
}

const HUNDRED = Decimal.fromInt(100);

/**
 * Whether a STOP* / TAKE_PROFIT* order triggers at `price`: a stop buys when the price rises to the
 * trigger and sells when it falls to it; a take-profit does the opposite.
 */
export function reachesTrigger(
  type: AlgoOrderType,
  side: OrderSide,
  trigger: Decimal,
  price: Decimal,
): boolean {
  const stop = type === 'STOP' || type === 'STOP_MARKET';
  const rising = (stop && side === 'BUY') || (!stop && side === 'SELL');
  return rising ? price.gte(trigger) : price.lte(trigger);
}

/** Whether a trailing stop with activation price `activate` is activated at `price`. */
export function trailingActivates(side: OrderSide, activate: Decimal, price: Decimal): boolean {
  return side === 'SELL' ? price.gte(activate) : price.lte(activate);
}

/**
 * Moves a trailing stop with a new observed `price` and says whether it fires. After activation
 * a sell tracks the highest price and fires when the price falls `callbackRate` % below it; a buy
 * tracks the lowest and fires `callbackRate` % above it. The stop level is kept on the tick grid.
 */
export function advanceTrailing(algo: AlgoOrder, price: Decimal, tick: Decimal): boolean {
  const rate = algo.callbackRate ?? Decimal.ZERO;
  if (!algo.activated) {
    const activate = algo.activatePrice;
    if (activate !== undefined && !trailingActivates(algo.side, activate, price)) return false;
    algo.activated = true;
    algo.extreme = price;
  } else if (algo.side === 'SELL' ? price.gt(algo.extreme) : price.lt(algo.extreme)) {
    algo.extreme = price;
  }
  if (algo.side === 'SELL') {
    algo.triggerPrice = algo.extreme.mul(Decimal.ONE.sub(rate.div(HUNDRED, 8))).snap(tick, 'floor');
    return price.lte(algo.triggerPrice);
  }
  algo.triggerPrice = algo.extreme.mul(Decimal.ONE.add(rate.div(HUNDRED, 8))).snap(tick, 'ceil');
  return price.gte(algo.triggerPrice);
}

/** Every algo order, by id, with the per-account history in placement order. */
export class AlgoStore {
  readonly #byId = new Map<number, AlgoOrder>();
  readonly #list: AlgoOrder[] = [];

  add(algo: AlgoOrder): void {
    this.#byId.set(algo.algoId, algo);
    this.#list.push(algo);
  }

  find(accountId: string, algoId?: number, clientAlgoId?: string): AlgoOrder | undefined {
    if (algoId !== undefined) {
      const a = this.#byId.get(algoId);
      return a?.accountId === accountId ? a : undefined;
    }
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const a = this.#list[i];
      if (a !== undefined && a.accountId === accountId && a.clientAlgoId === clientAlgoId) return a;
    }
    return undefined;
  }

  /** Waiting orders of an account (or of every account when `accountId` is undefined). */
  waiting(accountId?: string, symbol?: string): AlgoOrder[] {
    return this.#list.filter(
      (a) =>
        isWaiting(a) &&
        (accountId === undefined || a.accountId === accountId) &&
        (symbol === undefined || a.symbol === symbol),
    );
  }

  /** Orders placed in the matching engine whose outcome is still open (TRIGGERED). */
  triggered(): AlgoOrder[] {
    return this.#list.filter((a) => a.status === 'TRIGGERED');
  }

  all(accountId: string, symbol: string): AlgoOrder[] {
    return this.#list.filter((a) => a.accountId === accountId && a.symbol === symbol);
  }
}
