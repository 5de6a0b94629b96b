// Places, matches, fills and cancels orders, and books each fill into positions, wallets and ledgers.
import { Decimal } from '../../ts/exact/decimal.js';
import type { MarketTrade, SymbolSpec } from '../contracts.js';
import { type Account, MARGIN_ASSET } from './account.js';
import { money } from './binance-format.js';
import type { EngineContext } from './engine-context.js';
import { generatedClientId } from './id-source.js';
import { assessAccount, closesHedgeSide, openingQty } from './margin.js';
import { allocateTrade, sweep, totalQty, wouldTake } from './matching.js';
import {
  isOpen,
  type MatchingType,
  type OrderSide,
  type TimeInForce,
  type UserOrder,
  type WorkingType,
} from './order-store.js';
import type { PositionSide, PositionState } from './position-state.js';
import { Reject } from './rejections.js';
import {
  accountUpdate,
  type ExecutionType,
  type FillReport,
  orderTradeUpdate,
  type PositionRow,
} from './user-events.js';

/** Levels of the market book a taker order may sweep. */
export const BOOK_LEVELS = 100;

/** Everything needed to put an order into the matching engine (already filter-checked). */
export interface PlaceOrder {
  readonly spec: SymbolSpec;
  readonly side: OrderSide;
  readonly type: MatchingType;
  readonly timeInForce: TimeInForce;
  readonly positionSide: PositionSide;
  readonly quantity: Decimal;
  readonly price: Decimal | undefined;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  /** Generated from the order id when absent. */
  readonly clientOrderId: string | undefined;
  readonly origType: string;
  readonly stopPrice: Decimal;
  readonly workingType: WorkingType;
  readonly priceProtect: boolean;
}

/**
 * The position side an order goes to: one-way mode accepts only BOTH (or nothing), hedge mode
 * requires LONG or SHORT (-4061) and refuses reduceOnly (-1106).
 */
export function resolvePositionSide(
  account: Account,
  sent: PositionSide | undefined,
  reduceOnly: boolean,
): PositionSide {
  if (account.positionMode === 'one-way') {
    if (sent !== undefined && sent !== 'BOTH') throw Reject.positionSideMismatch();
    return 'BOTH';
  }
  if (sent === undefined || sent === 'BOTH') throw Reject.positionSideMismatch();
  if (reduceOnly) throw Reject.notRequired('reduceOnly');
  return sent;
}

/** How much of `position` an order on `side` can close (zero when it would only open). */
export function reducibleQty(position: PositionState, side: OrderSide): Decimal {
  if (position.side !== 'BOTH')
    return closesHedgeSide(position.side, side) ? position.amount.abs() : Decimal.ZERO;
  const closing =
    (side === 'SELL' && position.amount.sign() > 0) || (side === 'BUY' && position.amount.sign() < 0);
  return closing ? position.amount.abs() : Decimal.ZERO;
}

/** The matching engine of the simulator for user orders. */
export class OrderExecutor {
  readonly #ctx: EngineContext;
  readonly #closedListeners: Array<(order: UserOrder) => void> = [];

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Calls `listener` when an order leaves the book (filled, canceled, expired). */
  onOrderClosed(listener: (order: UserOrder) => void): void {
    this.#closedListeners.push(listener);
  }

  /**
   * Checks reduce-only, post-only and margin, accepts the order (ORDER_TRADE_UPDATE NEW, then
   * `onAccepted`), sweeps the book as taker, and rests, expires or finishes it by its time in force.
   */
  place(account: Account, req: PlaceOrder, onAccepted?: (order: UserOrder) => void): UserOrder {
    const { market } = this.#ctx;
    const symbol = req.spec.symbol;
    const position = account.position(symbol, req.positionSide);
    const reducible = reducibleQty(position, req.side);
    const closing = req.reduceOnly || closesHedgeSide(req.positionSide, req.side);
    if (closing && reducible.isZero()) throw Reject.reduceOnlyRejected();
    if (closesHedgeSide(req.positionSide, req.side) && req.quantity.gt(reducible))
      throw Reject.reduceOnlyRejected();
    const book = market.book(symbol, BOOK_LEVELS);
    if (
      req.type === 'LIMIT' &&
      req.timeInForce === 'GTX' &&
      req.price !== undefined &&
      wouldTake(book, req.side, req.price)
    ) {
      throw Reject.postOnlyWouldTake();
    }
    const limit = req.type === 'LIMIT' ? req.price : undefined;
    let planned = sweep(book, req.side, req.quantity, limit);
    if (!req.reduceOnly) this.#checkMargin(account, req, position, planned);
    const now = this.#ctx.clock.now();
    const orderId = this.#ctx.ids.nextOrderId();
    const order: UserOrder = {
      accountId: account.id,
      symbol,
      orderId,
      clientOrderId: req.clientOrderId ?? generatedClientId('', orderId),
      side: req.side,
      type: req.type,
      origType: req.origType,
      timeInForce: req.type === 'MARKET' ? 'GTC' : req.timeInForce,
      positionSide: req.positionSide,
      price: req.price ?? Decimal.ZERO,
      origQty: req.quantity,
      stopPrice: req.stopPrice,
      reduceOnly: req.reduceOnly,
      closePosition: req.closePosition,
      workingType: req.workingType,
      priceProtect: req.priceProtect,
      time: now,
      executedQty: Decimal.ZERO,
      cumQuote: Decimal.ZERO,
      status: 'NEW',
      updateTime: now,
    };
    this.#ctx.orders.add(order);
    this.#emitOrder(account, order, 'NEW', undefined);
    onAccepted?.(order);
    if (req.timeInForce === 'GTX' && req.type === 'LIMIT') planned = [];
    let capped = false;
    if (req.reduceOnly) {
      const capResult = capFills(planned, reducible);
      planned = capResult.fills;
      capped = capResult.capped;
    }
    if (req.type === 'LIMIT' && req.timeInForce === 'FOK' && totalQty(planned).lt(req.quantity)) {
      this.#finish(account, order, 'EXPIRED');
      return order;
    }
    for (const fill of planned) {
      this.applyFill(account, order, fill.price, fill.qty, false);
      market.recordTakerFill({
        symbol,
        price: fill.price,
        qty: fill.qty,
        time: this.#ctx.clock.now(),
        buyerIsMaker: req.side === 'SELL',
      });
    }
    if (isOpen(order)) {
      const rests =
        req.type === 'LIMIT' && (req.timeInForce === 'GTC' || req.timeInForce === 'GTX') && !capped;
      if (!rests) this.#finish(account, order, 'EXPIRED');
    }
    return order;
  }

  /** Cancels an open order (ORDER_TRADE_UPDATE CANCELED). */
  cancel(account: Account, order: UserOrder): void {
    this.#finish(account, order, 'CANCELED');
  }

  /** Fills resting limit orders of every account from one public trade, as maker at their limit price. */
  fillFromTrade(trade: MarketTrade): void {
    const resting = this.#ctx.orders.openOnSymbol(trade.symbol);
    if (resting.length === 0) return;
    for (const { order, qty } of allocateTrade(trade, resting)) {
      const account = this.#ctx.account(order.accountId);
      let fillQty = qty;
      if (order.reduceOnly) {
        const reducible = reducibleQty(account.position(order.symbol, order.positionSide), order.side);
        fillQty = Decimal.min(qty, reducible);
        if (fillQty.isZero()) {
          this.#finish(account, order, 'EXPIRED');
          continue;
        }
      }
      this.applyFill(account, order, order.price, fillQty, true);
    }
  }

  /**
   * Books one fill: position and entry, realized PnL, commission, isolated margin moves, the trade
   * row, income rows, and the ORDER_TRADE_UPDATE TRADE + ACCOUNT_UPDATE ORDER events.
   */
  applyFill(account: Account, order: UserOrder, price: Decimal, qty: Decimal, maker: boolean): void {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const spec = this.#spec(order.symbol);
    const settings = account.settings(order.symbol, spec.maxLeverage);
    const position = account.position(order.symbol, order.positionSide);
    const signed = order.side === 'BUY' ? qty : qty.neg();
    const isolatedBefore = position.isolatedWallet;
    const effect = position.applyFill(signed, price, now);
    const notional = price.mul(qty);
    const commission = money(notional.mul(maker ? account.makerFee : account.takerFee));
    if (settings.marginType === 'ISOLATED') {
      if (effect.closedQty.sign() > 0) {
        const withPnl = isolatedBefore.add(effect.realizedPnl);
        const fullyClosed = effect.closedQty.eq(effect.sizeBefore);
        const release = fullyClosed
          ? withPnl
          : money(withPnl.mul(effect.closedQty).div(effect.sizeBefore, 12));
        position.isolatedWallet = withPnl.sub(release);
        account.adjustCrossWallet(release, now);
      }
      if (effect.openedQty.sign() > 0) {
        const margin = money(effect.openedQty.mul(price).div(Decimal.fromInt(settings.leverage), 12));
        position.isolatedWallet = position.isolatedWallet.add(margin);
        account.adjustCrossWallet(margin.neg(), now);
      }
    } else {
      account.adjustCrossWallet(effect.realizedPnl, now);
    }
    account.adjustCrossWallet(commission.neg(), now);
    order.executedQty = order.executedQty.add(qty);
    order.cumQuote = order.cumQuote.add(notional);
    order.status = order.executedQty.gte(order.origQty) ? 'FILLED' : 'PARTIALLY_FILLED';
    order.updateTime = now;
    ctx.orders.touch(order);
    const tradeId = ctx.ids.nextTradeId();
    ctx.trades.record({
      accountId: account.id,
      symbol: order.symbol,
      id: tradeId,
      orderId: order.orderId,
      side: order.side,
      positionSide: order.positionSide,
      price,
      qty,
      quoteQty: notional,
      commission,
      realizedPnl: effect.realizedPnl,
      maker,
      time: now,
    });
    if (effect.closedQty.sign() > 0) {
      ctx.income.record({
        accountId: account.id,
        symbol: order.symbol,
        incomeType: 'REALIZED_PNL',
        income: effect.realizedPnl,
        asset: MARGIN_ASSET,
        info: String(tradeId),
        time: now,
        tranId: ctx.ids.nextTranId(),
        tradeId: String(tradeId),
      });
    }
    if (!commission.isZero()) {
      ctx.income.record({
        accountId: account.id,
        symbol: order.symbol,
        incomeType: 'COMMISSION',
        income: commission.neg(),
        asset: MARGIN_ASSET,
        info: String(tradeId),
        time: now,
        tranId: ctx.ids.nextTranId(),
        tradeId: String(tradeId),
      });
    }
    const report: FillReport = { qty, price, commission, tradeId, maker, realizedPnl: effect.realizedPnl };
    this.#emitOrder(account, order, 'TRADE', report);
    this.emitAccountUpdate(account, 'ORDER', [position]);
    if (!isOpen(order)) this.#notifyClosed(order);
  }

  /** ACCOUNT_UPDATE with the USDT balance and the given positions, valued now. */
  emitAccountUpdate(account: Account, reason: string, positions: readonly PositionState[]): void {
    const now = this.#ctx.clock.now();
    const rows: PositionRow[] = positions.map((p) => this.positionRow(account, p));
    const balances = [
      {
        asset: MARGIN_ASSET,
        walletBalance: account.walletBalance(),
        crossWalletBalance: account.crossWallet(),
        balanceChange: Decimal.ZERO,
      },
    ];
    this.#ctx.emit(account.id, accountUpdate(reason, balances, rows, now));
  }

  /** A position as ACCOUNT_UPDATE reports it. */
  positionRow(account: Account, position: PositionState): PositionRow {
    const spec = this.#spec(position.symbol);
    const mark = this.#ctx.market.markPrice(position.symbol);
    return {
      position,
      spec,
      unrealizedPnl: position.unrealizedPnl(mark),
      breakEvenPrice: position.breakEvenPrice(account.takerFee),
      isolated: account.settings(position.symbol, spec.maxLeverage).marginType === 'ISOLATED',
    };
  }

  #checkMargin(
    account: Account,
    req: PlaceOrder,
    position: PositionState,
    planned: ReturnType<typeof sweep>,
  ): void {
    const opening = openingQty(position, req.side, req.quantity);
    if (opening.isZero()) return;
    let reference = req.price;
    if (reference === undefined) {
      const swept = totalQty(planned);
      reference = swept.isZero()
        ? this.#ctx.market.markPrice(req.spec.symbol)
        : planned.reduce((s, f) => s.add(f.price.mul(f.qty)), Decimal.ZERO).div(swept, 8, 'ceil');
    }
    const leverage = account.settings(req.spec.symbol, req.spec.maxLeverage).leverage;
    const required = money(opening.mul(reference).div(Decimal.fromInt(leverage), 12));
    const risk = assessAccount(account, this.#ctx.market, this.#ctx.orders.open(account.id));
    if (required.gt(risk.availableBalance)) throw Reject.marginInsufficient();
  }

  #finish(account: Account, order: UserOrder, status: 'CANCELED' | 'EXPIRED'): void {
    order.status = status;
    order.updateTime = this.#ctx.clock.now();
    this.#ctx.orders.touch(order);
    this.#emitOrder(account, order, status, undefined);
    this.#notifyClosed(order);
  }

  #notifyClosed(order: UserOrder): void {
    for (const listener of this.#closedListeners) listener(order);
  }

  #emitOrder(
    account: Account,
    order: UserOrder,
    execution: ExecutionType,
    fill: FillReport | undefined,
  ): void {
    let bids = Decimal.ZERO;
    let asks = Decimal.ZERO;
    for (const o of this.#ctx.orders.open(account.id, order.symbol)) {
      const n = o.origQty.sub(o.executedQty).mul(o.price);
      if (o.side === 'BUY') bids = bids.add(n);
      else asks = asks.add(n);
    }
    const spec = this.#spec(order.symbol);
    this.#ctx.emit(
      account.id,
      orderTradeUpdate(order, spec, execution, fill, { bids, asks }, this.#ctx.clock.now()),
    );
  }

  #spec(symbol: string): SymbolSpec {
    const spec = this.#ctx.market.spec(symbol);
    if (spec === undefined) throw new Error(`engine holds an order for unlisted symbol ${symbol}`);
    return spec;
  }
}

/** Trims planned fills to at most `cap` in total; says whether anything was cut. */
function capFills(
  fills: ReturnType<typeof sweep>,
  cap: Decimal,
): { fills: ReturnType<typeof sweep>; capped: boolean } {
  const out: Array<{ price: Decimal; qty: Decimal }> = [];
  let left = cap;
  let capped = false;
  for (const f of fills) {
    if (left.sign() <= 0) {
      capped = true;
      break;
    }
    const take = Decimal.min(f.qty, left);
    if (take.lt(f.qty)) capped = true;
    out.push({ price: f.price, qty: take });
    left = left.sub(take);
  }
  return { fills: out, capped };
}
