// Builders of the user-data stream events exactly as Binance USD-M sends them.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Json, SymbolSpec } from '../contracts.js';
import type { AlgoOrder } from './algo-store.js';
import { atLeast, moneyText } from './binance-format.js';
import type { UserOrder } from './order-store.js';
import { averagePrice, priceText, qtyText } from './order-views.js';
import type { PositionState } from './position-state.js';

/** Execution types of ORDER_TRADE_UPDATE the engine produces. */
export type ExecutionType = 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED' | 'AMENDMENT';

/** The fill an ORDER_TRADE_UPDATE reports (absent for NEW / CANCELED / EXPIRED). */
export interface FillReport {
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly commission: Decimal;
  readonly tradeId: number;
  readonly maker: boolean;
  readonly realizedPnl: Decimal;
}

/** `ORDER_TRADE_UPDATE` for an order after a change. */
export function orderTradeUpdate(
  order: UserOrder,
  spec: SymbolSpec,
  execution: ExecutionType,
  fill: FillReport | undefined,
  notional: { bids: Decimal; asks: Decimal },
  time: number,
): Json {
  const o: Record<string, Json> = {
    s: order.symbol,
    c: order.clientOrderId,
    S: order.side,
    o: order.type,
    f: order.timeInForce,
    q: qtyText(order.origQty, spec),
    p: priceText(order.price, spec),
    ap: atLeast(averagePrice(order), spec.pricePrecision),
    sp: priceText(order.stopPrice, spec),
    x: execution,
    X: order.status,
    i: order.orderId,
    l: qtyText(fill?.qty ?? Decimal.ZERO, spec),
    z: qtyText(order.executedQty, spec),
    L: priceText(fill?.price ?? Decimal.ZERO, spec),
  };
  if (fill !== undefined) {
    o.N = 'USDT';
    o.n = moneyText(fill.commission);
  }
  Object.assign(o, {
    T: time,
    t: fill?.tradeId ?? 0,
    b: atLeast(notional.bids, 1),
    a: atLeast(notional.asks, 1),
    m: fill?.maker ?? false,
    R: order.reduceOnly,
    wt: order.workingType,
    ot: order.origType,
    ps: order.positionSide,
    cp: order.closePosition,
    rp: moneyText(fill?.realizedPnl ?? Decimal.ZERO),
    pP: order.priceProtect,
    si: 0,
    ss: 0,
    V: order.stp,
    pm: order.priceMatch,
    gtd: order.goodTillDate,
  });
  return { e: 'ORDER_TRADE_UPDATE', E: time, T: time, o };
}

/** `TRADE_LITE`: the short form of a fill, sent before its ORDER_TRADE_UPDATE. */
export function tradeLite(order: UserOrder, fill: FillReport, time: number): Json {
  return {
    e: 'TRADE_LITE',
    E: time,
    T: time,
    s: order.symbol,
    q: order.origQty.toString(),
    p: order.price.toString(),
    m: fill.maker,
    c: order.clientOrderId,
    S: order.side,
    L: fill.price.toString(),
    l: fill.qty.toString(),
    t: fill.tradeId,
    i: order.orderId,
  };
}

/** One balance row of ACCOUNT_UPDATE. */
export interface BalanceRow {
  readonly asset: string;
  readonly walletBalance: Decimal;
  readonly crossWalletBalance: Decimal;
  /** Balance change other than PnL and commission (`bc`). */
  readonly balanceChange: Decimal;
}

/** One position row of ACCOUNT_UPDATE. */
export interface PositionRow {
  readonly position: PositionState;
  readonly spec: SymbolSpec;
  readonly unrealizedPnl: Decimal;
  readonly breakEvenPrice: Decimal;
  readonly isolated: boolean;
}

/** `ACCOUNT_UPDATE` with the balances and positions that changed and why (`ORDER`, `FUNDING_FEE`, ...). */
export function accountUpdate(
  reason: string,
  balances: readonly BalanceRow[],
  positions: readonly PositionRow[],
  time: number,
): Json {
  return {
    e: 'ACCOUNT_UPDATE',
    E: time,
    T: time,
    a: {
      m: reason,
      B: balances.map((b) => ({
        a: b.asset,
        wb: moneyText(b.walletBalance),
        cw: moneyText(b.crossWalletBalance),
        bc: moneyText(b.balanceChange),
      })),
      P: positions.map((p) => ({
        s: p.position.symbol,
        pa: qtyText(p.position.amount, p.spec),
        ep: atLeast(p.position.entryPrice.rescale(8, 'half-even'), p.spec.pricePrecision),
        bep: atLeast(p.breakEvenPrice, 1),
        cr: moneyText(p.position.accumulatedRealized),
        up: moneyText(p.unrealizedPnl),
        mt: p.isolated ? 'isolated' : 'cross',
        iw: moneyText(p.position.isolatedWallet),
        ps: p.position.side,
      })),
    },
  };
}

/**
 * `ALGO_UPDATE` for an algo order after a change, sent at `time`; `executed` describes its placed
 * order once there is one. The transaction time is the change's own (the order's `updateTime`, as
 * REST shows it), which the event may be sent after.
 */
export function algoUpdate(
  algo: AlgoOrder,
  spec: SymbolSpec,
  executed: { avgPrice: Decimal; qty: Decimal } | undefined,
  time: number,
): Json {
  const o: Record<string, Json> = {
    caid: algo.clientAlgoId,
    aid: algo.algoId,
    at: 'CONDITIONAL',
    o: algo.orderType,
    s: algo.symbol,
    S: algo.side,
    ps: algo.positionSide,
    f: algo.timeInForce,
    q: qtyText(algo.quantity, spec),
    X: algo.status,
    ai: algo.actualOrderId === undefined ? '' : String(algo.actualOrderId),
    ap: atLeast(executed?.avgPrice ?? Decimal.ZERO, spec.pricePrecision),
    aq: qtyText(executed?.qty ?? Decimal.ZERO, spec),
    act: algo.actualOrderType ?? '0',
    tp: priceText(algo.triggerPrice, spec),
    p: priceText(algo.price, spec),
    V: algo.stp,
    wt: algo.workingType,
    pm: algo.priceMatch ?? 'NONE',
    cp: algo.closePosition,
    pP: algo.priceProtect,
    R: algo.reduceOnly,
    tt: algo.triggerTime,
    gtd: 0,
    rm: algo.rejectReason,
  };
  if (algo.callbackRate !== undefined) o.cr = algo.callbackRate.toString();
  return { e: 'ALGO_UPDATE', T: algo.updateTime, E: time, o };
}

/** `ACCOUNT_CONFIG_UPDATE` after a leverage change. */
export function leverageUpdate(symbol: string, leverage: number, time: number): Json {
  return { e: 'ACCOUNT_CONFIG_UPDATE', E: time, T: time, ac: { s: symbol, l: leverage } };
}

/** `ACCOUNT_CONFIG_UPDATE` after a Multi-Assets mode change. */
export function assetModeUpdate(multiAssets: boolean, time: number): Json {
  return { e: 'ACCOUNT_CONFIG_UPDATE', E: time, T: time, ai: { j: multiAssets } };
}
