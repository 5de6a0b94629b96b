// Typed decoders for the USD-M REST responses the client returns as objects (orders, trades, settings).
import type { Decimal } from '../exact/decimal.js';
import { POSITION_SIDES, type PositionSide } from '../native/book-layout.js';
import {
  arrayOf,
  bool,
  dec,
  id,
  int,
  type JsonObject,
  objectAt,
  oneOf,
  optBool,
  optDec,
  optInt,
  optStr,
  ShapeError,
  str,
} from './json-shape.js';

export type OrderSide = 'BUY' | 'SELL';
export type { PositionSide };

const SIDES: readonly OrderSide[] = ['BUY', 'SELL'];

/** Order statuses after which nothing more happens to an order. */
export const TERMINAL_ORDER_STATUSES: readonly string[] = [
  'FILLED',
  'CANCELED',
  'EXPIRED',
  'EXPIRED_IN_MATCH',
  'REJECTED',
];

/** An order as `/fapi/v1/order` (new, query, cancel), `openOrders` and `allOrders` return it. */
export interface OrderRecord {
  readonly symbol: string;
  readonly orderId: number;
  readonly clientOrderId: string;
  /** NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, EXPIRED_IN_MATCH, ... */
  readonly status: string;
  readonly side: OrderSide;
  readonly positionSide: PositionSide;
  readonly type: string;
  readonly origType: string | null;
  readonly timeInForce: string | null;
  readonly price: Decimal;
  /** Average fill price (query/list responses; `null` in new/cancel responses). */
  readonly avgPrice: Decimal | null;
  readonly origQty: Decimal;
  readonly executedQty: Decimal;
  /** Filled quote amount (`cumQuote`), when present. */
  readonly cumQuote: Decimal | null;
  readonly stopPrice: Decimal | null;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly priceMatch: string | null;
  readonly selfTradePreventionMode: string | null;
  /** Creation time (query/list responses only). */
  readonly time: number | null;
  readonly updateTime: number;
}

export function decodeOrder(value: unknown, at = '$'): OrderRecord {
  const o = objectAt(value, at);
  return {
    symbol: str(o, 'symbol'),
    orderId: int(o, 'orderId'),
    clientOrderId: str(o, 'clientOrderId'),
    status: str(o, 'status'),
    side: oneOf(o, 'side', SIDES),
    positionSide: o.fields.positionSide === undefined ? 'BOTH' : oneOf(o, 'positionSide', POSITION_SIDES),
    type: str(o, 'type'),
    origType: optStr(o, 'origType'),
    timeInForce: optStr(o, 'timeInForce'),
    price: dec(o, 'price'),
    avgPrice: optDec(o, 'avgPrice'),
    origQty: dec(o, 'origQty'),
    executedQty: dec(o, 'executedQty'),
    cumQuote: optDec(o, 'cumQuote'),
    stopPrice: optDec(o, 'stopPrice'),
    reduceOnly: optBool(o, 'reduceOnly') ?? false,
    closePosition: optBool(o, 'closePosition') ?? false,
    priceMatch: optStr(o, 'priceMatch'),
    selfTradePreventionMode: optStr(o, 'selfTradePreventionMode'),
    time: optInt(o, 'time'),
    updateTime: int(o, 'updateTime'),
  };
}

export function decodeOrders(value: unknown): OrderRecord[] {
  return arrayOf(value, '$', decodeOrder);
}

/** Algo (conditional) order statuses after which it can no longer trigger or be cancelled. */
export const TERMINAL_ALGO_STATUSES: readonly string[] = [
  'CANCELED',
  'FINISHED',
  'TRIGGERED',
  'EXPIRED',
  'REJECTED',
];

/** A conditional order as `/fapi/v1/algoOrder`, `openAlgoOrders` and `allAlgoOrders` return it. */
export interface AlgoOrderRecord {
  readonly algoId: number;
  readonly clientAlgoId: string;
  /** `CONDITIONAL` */
  readonly algoType: string;
  /** STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET */
  readonly orderType: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly positionSide: PositionSide;
  readonly timeInForce: string | null;
  readonly quantity: Decimal;
  /** NEW, TRIGGERING, TRIGGERED, FINISHED, CANCELED, EXPIRED, REJECTED */
  readonly algoStatus: string;
  readonly triggerPrice: Decimal | null;
  readonly price: Decimal | null;
  readonly workingType: string | null;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly priceProtect: boolean;
  readonly activatePrice: Decimal | null;
  readonly callbackRate: Decimal | null;
  /** The regular order created when it triggered (query responses), else `null`. */
  readonly actualOrderId: string | null;
  readonly createTime: number;
  readonly updateTime: number;
  readonly triggerTime: number | null;
}

export function decodeAlgoOrder(value: unknown, at = '$'): AlgoOrderRecord {
  const o = objectAt(value, at);
  const actual = o.fields.actualOrderId;
  return {
    algoId: int(o, 'algoId'),
    clientAlgoId: str(o, 'clientAlgoId'),
    algoType: str(o, 'algoType'),
    orderType: str(o, 'orderType'),
    symbol: str(o, 'symbol'),
    side: oneOf(o, 'side', SIDES),
    positionSide: o.fields.positionSide === undefined ? 'BOTH' : oneOf(o, 'positionSide', POSITION_SIDES),
    timeInForce: optStr(o, 'timeInForce'),
    quantity: dec(o, 'quantity'),
    algoStatus: str(o, 'algoStatus'),
    triggerPrice: optDecOrEmpty(o, 'triggerPrice'),
    price: optDecOrEmpty(o, 'price'),
    workingType: optStr(o, 'workingType'),
    reduceOnly: optBool(o, 'reduceOnly') ?? false,
    closePosition: optBool(o, 'closePosition') ?? false,
    priceProtect: optBool(o, 'priceProtect') ?? false,
    activatePrice: optDecOrEmpty(o, 'activatePrice'),
    callbackRate: optDecOrEmpty(o, 'callbackRate'),
    actualOrderId:
      actual === undefined || actual === null || actual === ''
        ? null
        : typeof actual === 'number'
          ? String(int(o, 'actualOrderId'))
          : str(o, 'actualOrderId'),
    createTime: int(o, 'createTime'),
    updateTime: int(o, 'updateTime'),
    triggerTime: optInt(o, 'triggerTime'),
  };
}

/** Binance sends "" for unset decimal fields of algo orders. */
function optDecOrEmpty(o: JsonObject, key: string): Decimal | null {
  return o.fields[key] === '' ? null : optDec(o, key);
}

export function decodeAlgoOrders(value: unknown): AlgoOrderRecord[] {
  return arrayOf(value, '$', decodeAlgoOrder);
}

/** The answer to DELETE /fapi/v1/algoOrder. */
export interface AlgoCancelRecord {
  readonly algoId: number;
  readonly clientAlgoId: string;
  /** The algo order's status when the cancel was confirmed by a query (`null` from the cancel response). */
  readonly algoStatus: string | null;
}

export function decodeAlgoCancel(value: unknown): AlgoCancelRecord {
  const o = objectAt(value, '$');
  return { algoId: int(o, 'algoId'), clientAlgoId: str(o, 'clientAlgoId'), algoStatus: null };
}

/** One fill from `/fapi/v1/userTrades`. */
export interface TradeRecord {
  readonly symbol: string;
  readonly id: number;
  readonly orderId: number;
  readonly side: OrderSide;
  readonly positionSide: PositionSide;
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly quoteQty: Decimal;
  readonly realizedPnl: Decimal;
  readonly commission: Decimal;
  readonly commissionAsset: string;
  readonly buyer: boolean;
  readonly maker: boolean;
  readonly time: number;
}

export function decodeTrade(value: unknown, at = '$'): TradeRecord {
  const o = objectAt(value, at);
  return {
    symbol: str(o, 'symbol'),
    id: int(o, 'id'),
    orderId: int(o, 'orderId'),
    side: oneOf(o, 'side', SIDES),
    positionSide: o.fields.positionSide === undefined ? 'BOTH' : oneOf(o, 'positionSide', POSITION_SIDES),
    price: dec(o, 'price'),
    qty: dec(o, 'qty'),
    quoteQty: dec(o, 'quoteQty'),
    realizedPnl: dec(o, 'realizedPnl'),
    commission: dec(o, 'commission'),
    commissionAsset: str(o, 'commissionAsset'),
    buyer: bool(o, 'buyer'),
    maker: bool(o, 'maker'),
    time: int(o, 'time'),
  };
}

export function decodeTrades(value: unknown): TradeRecord[] {
  return arrayOf(value, '$', decodeTrade);
}

/** One row of `/fapi/v1/income` (realized PnL, commission, funding fee, ...). */
export interface IncomeRecord {
  /** Empty for account-wide incomes such as transfers. */
  readonly symbol: string;
  readonly incomeType: string;
  readonly income: Decimal;
  readonly asset: string;
  readonly info: string;
  readonly time: number;
  /**
   * The natural key for idempotent upserts (with `incomeType`), as digits: funding fees' ids have
   * 18–19 digits, more than a double holds.
   */
  readonly tranId: string;
  readonly tradeId: string;
}

export function decodeIncome(value: unknown, at = '$'): IncomeRecord {
  const o = objectAt(value, at);
  const tradeId = o.fields.tradeId;
  return {
    symbol: optStr(o, 'symbol') ?? '',
    incomeType: str(o, 'incomeType'),
    income: dec(o, 'income'),
    asset: str(o, 'asset'),
    info: optStr(o, 'info') ?? '',
    time: int(o, 'time'),
    tranId: id(o, 'tranId'),
    tradeId: typeof tradeId === 'number' ? String(int(o, 'tradeId')) : (optStr(o, 'tradeId') ?? ''),
  };
}

export function decodeIncomes(value: unknown): IncomeRecord[] {
  return arrayOf(value, '$', decodeIncome);
}

/** Binance's `{ "code": 200, "msg": "..." }` acknowledgement (cancel all, margin type, position mode). */
export interface CodeMessage {
  readonly code: number;
  readonly msg: string;
}

export function decodeCodeMessage(value: unknown): CodeMessage {
  const o = objectAt(value, '$');
  return { code: int(o, 'code'), msg: str(o, 'msg') };
}

/** The answer to POST /fapi/v1/leverage. */
export interface LeverageRecord {
  readonly symbol: string;
  readonly leverage: number;
  readonly maxNotionalValue: Decimal | null;
}

export function decodeLeverage(value: unknown): LeverageRecord {
  const o = objectAt(value, '$');
  const maxNotional = o.fields.maxNotionalValue;
  return {
    symbol: str(o, 'symbol'),
    leverage: int(o, 'leverage'),
    // "INF" is sent for unlimited tiers
    maxNotionalValue: maxNotional === 'INF' ? null : optDec(o, 'maxNotionalValue'),
  };
}

/** The answer to GET /fapi/v1/commissionRate. */
export interface CommissionRateRecord {
  readonly symbol: string;
  readonly makerCommissionRate: Decimal;
  readonly takerCommissionRate: Decimal;
}

export function decodeCommissionRate(value: unknown): CommissionRateRecord {
  const o = objectAt(value, '$');
  return {
    symbol: str(o, 'symbol'),
    makerCommissionRate: dec(o, 'makerCommissionRate'),
    takerCommissionRate: dec(o, 'takerCommissionRate'),
  };
}

/** `dualSidePosition` of GET /fapi/v1/positionSide/dual (true = hedge mode). */
export function decodePositionMode(value: unknown): boolean {
  return bool(objectAt(value, '$'), 'dualSidePosition');
}

/** `listenKey` of POST /fapi/v1/listenKey. */
export function decodeListenKey(value: unknown): string {
  const key = str(objectAt(value, '$'), 'listenKey');
  if (key.length === 0) throw new ShapeError('$.listenKey', 'is empty');
  return key;
}

/** `serverTime` of GET /fapi/v1/time. */
export function decodeServerTime(value: unknown): number {
  return int(objectAt(value, '$'), 'serverTime');
}

/** One entry of exchangeInfo `rateLimits`. */
export interface RateLimitRecord {
  /** REQUEST_WEIGHT or ORDERS */
  readonly rateLimitType: string;
  /** SECOND, MINUTE, DAY */
  readonly interval: string;
  readonly intervalNum: number;
  readonly limit: number;
}

/** An integer of at least 1 (a count per window, a window's length). */
function positiveInt(o: JsonObject, key: string): number {
  const v = int(o, key);
  if (v < 1) throw new ShapeError(`${o.at}.${key}`, `expected a positive integer, got ${v}`);
  return v;
}

/**
 * `rateLimits` of an exchangeInfo body (the rest of the document is left to its consumers). A
 * `limit` or `intervalNum` below 1 is a shape error like any other: paced to, a limit of 0 would
 * become one request a minute (the budget's floor) and stall every process on the host; refused,
 * the reader keeps the limits it has and says so.
 */
export function decodeRateLimits(value: unknown): RateLimitRecord[] {
  const o = objectAt(value, '$');
  return arrayOf(o.fields.rateLimits, '$.rateLimits', (item, at) => {
    const r = objectAt(item, at);
    return {
      rateLimitType: str(r, 'rateLimitType'),
      interval: str(r, 'interval'),
      intervalNum: positiveInt(r, 'intervalNum'),
      limit: positiveInt(r, 'limit'),
    };
  });
}
