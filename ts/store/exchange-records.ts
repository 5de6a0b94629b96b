// Exchange payloads as store records: user-stream order updates, REST orders, trades and income rows.
import { Decimal } from '../exact/decimal.js';
import type {
  AlgoOrderRecord,
  IncomeRecord as ExchangeIncome,
  OrderRecord,
  TradeRecord,
} from '../exchange/usdm-decoders.js';
import type { UserEventObject } from '../native/parse.js';
import type {
  AlgoOrderUpdateRecord,
  FillRecord,
  IncomeRecord,
  OrderUpdateRecord,
  RecordScope,
} from './store-records.js';

/** The order part of a parsed `ORDER_TRADE_UPDATE`. */
export type StreamOrderUpdate = NonNullable<UserEventObject['orderUpdate']>;

const optional = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;

/**
 * The order state an `ORDER_TRADE_UPDATE` reports. Its time is the event's transaction time, the
 * one REST reports as the order's `updateTime`, so the same state read both ways is one record.
 */
export function orderUpdateFromStream(scope: RecordScope, o: StreamOrderUpdate): OrderUpdateRecord {
  return {
    ...scope,
    symbol: o.symbol,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    side: o.side === 'SELL' ? 'SELL' : 'BUY',
    positionSide: o.positionSide,
    type: o.originalOrderType === '' ? o.orderType : o.originalOrderType,
    timeInForce: optional(o.timeInForce),
    status: o.status,
    executionType: o.executionType,
    price: o.price,
    origQty: o.originalQuantity,
    executedQty: o.cumulativeFilledQuantity,
    avgPrice: optional(o.averagePrice),
    stopPrice: optional(o.stopPrice),
    reduceOnly: o.reduceOnly,
    createTime: null,
    updateTime: o.transactionTime,
    source: 'stream',
  };
}

/** The conditional order part of a parsed `ALGO_UPDATE`. */
export type StreamAlgoUpdate = NonNullable<UserEventObject['algoUpdate']>;

/**
 * The conditional order state an `ALGO_UPDATE` reports, at the event's transaction time (REST's
 * `updateTime` of the same state).
 */
export function algoOrderUpdateFromStream(scope: RecordScope, a: StreamAlgoUpdate): AlgoOrderUpdateRecord {
  return {
    ...scope,
    symbol: a.symbol,
    algoId: a.algoId,
    clientAlgoId: a.clientAlgoId,
    algoType: a.algoType,
    type: a.orderType,
    side: a.side === 'SELL' ? 'SELL' : 'BUY',
    positionSide: a.positionSide,
    timeInForce: optional(a.timeInForce),
    status: a.status,
    quantity: a.quantity,
    triggerPrice: optional(a.triggerPrice),
    price: optional(a.price),
    workingType: optional(a.workingType),
    reduceOnly: a.reduceOnly,
    closePosition: a.closePosition,
    actualOrderId: optional(a.orderId),
    createTime: null,
    updateTime: a.transactionTime,
    source: 'stream',
  };
}

/** A conditional order as `openAlgoOrders`, `allAlgoOrders` or `algoOrder` returned it. */
export function algoOrderUpdateFromRest(scope: RecordScope, r: AlgoOrderRecord): AlgoOrderUpdateRecord {
  return {
    ...scope,
    symbol: r.symbol,
    algoId: String(r.algoId),
    clientAlgoId: r.clientAlgoId,
    algoType: r.algoType,
    type: r.orderType,
    side: r.side,
    positionSide: r.positionSide,
    timeInForce: r.timeInForce,
    status: r.algoStatus,
    quantity: r.quantity.toString(),
    triggerPrice: r.triggerPrice?.toString() ?? null,
    price: r.price?.toString() ?? null,
    workingType: r.workingType,
    reduceOnly: r.reduceOnly,
    closePosition: r.closePosition,
    actualOrderId: r.actualOrderId,
    createTime: r.createTime,
    updateTime: r.updateTime,
    source: 'rest',
  };
}

/** The fill an `ORDER_TRADE_UPDATE` of execution type TRADE reports, else undefined. */
export function fillFromStream(scope: RecordScope, o: StreamOrderUpdate): FillRecord | undefined {
  if (o.executionType !== 'TRADE' || o.tradeId === undefined) return undefined;
  const price = Decimal.parse(o.lastFilledPrice);
  const qty = Decimal.parse(o.lastFilledQuantity);
  return {
    ...scope,
    symbol: o.symbol,
    tradeId: o.tradeId,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    side: o.side === 'SELL' ? 'SELL' : 'BUY',
    positionSide: o.positionSide,
    price: o.lastFilledPrice,
    qty: o.lastFilledQuantity,
    quoteQty: price.mul(qty).normalize().toString(),
    realizedPnl: o.realizedProfit,
    commission: o.commission ?? '0',
    commissionAsset: o.commissionAsset ?? 'USDT',
    maker: o.isMaker,
    time: o.tradeTime,
    source: 'stream',
  };
}

/** An order as `allOrders` / `queryOrder` returned it. */
export function orderUpdateFromRest(scope: RecordScope, r: OrderRecord): OrderUpdateRecord {
  return {
    ...scope,
    symbol: r.symbol,
    orderId: String(r.orderId),
    clientOrderId: r.clientOrderId,
    side: r.side,
    positionSide: r.positionSide,
    type: r.origType ?? r.type,
    timeInForce: r.timeInForce,
    status: r.status,
    executionType: null,
    price: r.price.toString(),
    origQty: r.origQty.toString(),
    executedQty: r.executedQty.toString(),
    avgPrice: r.avgPrice?.toString() ?? null,
    stopPrice: r.stopPrice?.toString() ?? null,
    reduceOnly: r.reduceOnly,
    createTime: r.time,
    updateTime: r.updateTime,
    source: 'rest',
  };
}

/** A fill as `userTrades` returned it (`clientOrderId` when the order is known). */
export function fillFromRest(scope: RecordScope, t: TradeRecord, clientOrderId: string | null): FillRecord {
  return {
    ...scope,
    symbol: t.symbol,
    tradeId: String(t.id),
    orderId: String(t.orderId),
    clientOrderId,
    side: t.side,
    positionSide: t.positionSide,
    price: t.price.toString(),
    qty: t.qty.toString(),
    quoteQty: t.quoteQty.toString(),
    realizedPnl: t.realizedPnl.toString(),
    commission: t.commission.toString(),
    commissionAsset: t.commissionAsset,
    maker: t.maker,
    time: t.time,
    source: 'rest',
  };
}

/** A row of the income history. */
export function incomeFromRest(scope: RecordScope, i: ExchangeIncome): IncomeRecord {
  return {
    ...scope,
    symbol: i.symbol,
    incomeType: i.incomeType,
    income: i.income.toString(),
    asset: i.asset,
    info: i.info,
    time: i.time,
    tranId: String(i.tranId),
    tradeId: i.tradeId,
  };
}
