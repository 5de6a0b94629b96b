// Binance's JSON shapes for orders, algo orders, trades and income rows.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Json, SymbolSpec } from '../contracts.js';
import type { AlgoOrder } from './algo-store.js';
import { atLeast, moneyText } from './binance-format.js';
import type { IncomeRow } from './income-ledger.js';
import type { UserOrder } from './order-store.js';
import type { TradeRow } from './trade-ledger.js';

export function qtyText(value: Decimal, spec: SymbolSpec): string {
  return value.toFixed(spec.quantityPrecision, 'down');
}

export function priceText(value: Decimal, spec: SymbolSpec): string {
  return value.toFixed(spec.pricePrecision, 'half-even');
}

/** Average fill price of an order (zero before the first fill), 8 digits at most. */
export function averagePrice(order: UserOrder): Decimal {
  return order.executedQty.isZero() ? Decimal.ZERO : order.cumQuote.div(order.executedQty, 8);
}

function avgText(order: UserOrder, spec: SymbolSpec): string {
  return atLeast(averagePrice(order), spec.pricePrecision);
}

function common(order: UserOrder, spec: SymbolSpec): Record<string, Json> {
  return {
    orderId: order.orderId,
    symbol: order.symbol,
    status: order.status,
    clientOrderId: order.clientOrderId,
    price: priceText(order.price, spec),
    avgPrice: avgText(order, spec),
    origQty: qtyText(order.origQty, spec),
    executedQty: qtyText(order.executedQty, spec),
    cumQuote: atLeast(order.cumQuote, spec.pricePrecision),
    timeInForce: order.timeInForce,
    type: order.type,
    reduceOnly: order.reduceOnly,
    closePosition: order.closePosition,
    side: order.side,
    positionSide: order.positionSide,
    stopPrice: priceText(order.stopPrice, spec),
    workingType: order.workingType,
    priceProtect: order.priceProtect,
    origType: order.origType,
    priceMatch: order.priceMatch,
    selfTradePreventionMode: order.stp,
    goodTillDate: order.goodTillDate,
  };
}

/** The response of `POST` / `DELETE /fapi/v1/order` (carries `cumQty`, no `time`). */
export function orderResponseJson(order: UserOrder, spec: SymbolSpec): Json {
  return {
    ...common(order, spec),
    cumQty: qtyText(order.executedQty, spec),
    updateTime: order.updateTime,
  };
}

/** `GET /fapi/v1/order`, `openOrder(s)`, `allOrders` rows (carry `time`). */
export function orderQueryJson(order: UserOrder, spec: SymbolSpec): Json {
  return { ...common(order, spec), time: order.time, updateTime: order.updateTime };
}

/** An algo order as `POST` / `GET /fapi/v1/algoOrder` and the algo lists return it. */
export function algoOrderJson(algo: AlgoOrder, spec: SymbolSpec): Json {
  const out: Record<string, Json> = {
    algoId: algo.algoId,
    clientAlgoId: algo.clientAlgoId,
    algoType: 'CONDITIONAL',
    orderType: algo.orderType,
    symbol: algo.symbol,
    side: algo.side,
    positionSide: algo.positionSide,
    timeInForce: algo.timeInForce,
    quantity: qtyText(algo.quantity, spec),
    algoStatus: algo.status,
    actualOrderId: algo.actualOrderId === undefined ? '' : String(algo.actualOrderId),
    actualPrice: '',
    triggerPrice: priceText(algo.triggerPrice, spec),
    price: priceText(algo.price, spec),
    icebergQuantity: null,
    selfTradePreventionMode: algo.stp,
    workingType: algo.workingType,
    priceMatch: algo.priceMatch ?? 'NONE',
    closePosition: algo.closePosition,
    priceProtect: algo.priceProtect,
    reduceOnly: algo.reduceOnly,
    createTime: algo.createTime,
    updateTime: algo.updateTime,
    triggerTime: algo.triggerTime,
    goodTillDate: 0,
  };
  if (algo.orderType === 'TRAILING_STOP_MARKET') {
    out.activatePrice = algo.activatePrice === undefined ? '' : priceText(algo.activatePrice, spec);
    out.callbackRate = algo.callbackRate === undefined ? '' : algo.callbackRate.toString();
  }
  return out;
}

/** A `GET /fapi/v1/userTrades` row. */
export function tradeJson(row: TradeRow, spec: SymbolSpec): Json {
  return {
    buyer: row.side === 'BUY',
    commission: moneyText(row.commission),
    commissionAsset: 'USDT',
    id: row.id,
    maker: row.maker,
    orderId: row.orderId,
    price: priceText(row.price, spec),
    qty: qtyText(row.qty, spec),
    quoteQty: atLeast(row.quoteQty, spec.pricePrecision),
    realizedPnl: moneyText(row.realizedPnl),
    side: row.side,
    positionSide: row.positionSide,
    symbol: row.symbol,
    time: row.time,
  };
}

/** A `GET /fapi/v1/income` row. */
export function incomeJson(row: IncomeRow): Json {
  return {
    symbol: row.symbol,
    incomeType: row.incomeType,
    income: moneyText(row.income),
    asset: row.asset,
    info: row.info,
    time: row.time,
    tranId: row.tranId,
    tradeId: row.tradeId,
  };
}
