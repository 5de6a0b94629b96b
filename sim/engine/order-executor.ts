// Places, matches, fills and cancels orders, and books each fill into positions, wallets and ledgers.
import { Decimal } from '../../ts/exact/decimal.js';
import type { MarketTrade, SymbolSpec } from '../contracts.js';
import { type Account, MARGIN_ASSET } from './account.js';
import { money } from './binance-format.js';
import type { EngineContext } from './engine-context.js';
import { generatedClientId } from './id-source.js';
import { bracketsFor, maxNotional } from './leverage-brackets.js';
import { assessAccount, closesHedgeSide, openingQty } from './margin.js';
import { allocateTrade, opposingLiquidity, type PlannedFill, sweepLiquidity, totalQty } from './matching.js';
import {
  type AutoCloseType,
  isOpen,
  type MatchingType,
  type OrderSide,
  type StpMode,
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
  tradeLite,
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
  /** Self-trade prevention mode (default NONE). */
  readonly stp?: StpMode;
  /** The price-match mode that set the price (default NONE). */
  readonly priceMatch?: string;
  /** Expiry of a GTD order (default 0: none). */
  readonly goodTillDate?: number;
}

/** How one fill reaches the books: on the public tape, or not (ADL and insurance fund fills are not market trades). */
export interface FillOptions {
  readonly maker: boolean;
  readonly onTape: boolean;
  /** No commission (the exchange's own ADL closes). */
  readonly free?: boolean;
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
    const liquidity = opposingLiquidity(
      market.book(symbol, BOOK_LEVELS),
      req.side,
      this.#ctx.orders.openOnSymbol(symbol),
    );
    if (req.type === 'LIMIT' && req.timeInForce === 'GTX' && req.price !== undefined) {
      const best = liquidity[0];
      if (best !== undefined && marketablePrice(req.side, req.price, best.price))
        throw Reject.postOnlyWouldTake();
    }
    const limit = req.type === 'LIMIT' ? req.price : undefined;
    const planned = sweepLiquidity(liquidity, req.side, req.quantity, limit);
    if (!req.reduceOnly) {
      this.#checkMargin(account, req, position, planned);
      this.#checkMaxNotional(account, req, position);
    }
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
      stp: req.stp ?? 'NONE',
      priceMatch: req.priceMatch ?? 'NONE',
      goodTillDate: req.type === 'LIMIT' && req.timeInForce === 'GTD' ? (req.goodTillDate ?? 0) : 0,
      amendments: 0,
      queue: 0,
      time: now,
      executedQty: Decimal.ZERO,
      cumQuote: Decimal.ZERO,
      status: 'NEW',
      updateTime: now,
    };
    this.#ctx.orders.add(order);
    this.#emitOrder(account, order, 'NEW', undefined);
    onAccepted?.(order);
    this.#execute(
      account,
      order,
      req.timeInForce === 'GTX' && req.type === 'LIMIT' ? [] : planned,
      reducible,
    );
    return order;
  }

  /**
   * Runs an accepted order as taker through `planned` fills: against the market's book, or against
   * another account's resting order (a trade between them); against the same account's order the
   * taker's self-trade prevention decides. A reduce-only order is capped at what it can reduce.
   * What is left rests (GTC and GTX limits) or expires by its time in force.
   */
  #execute(
    account: Account,
    order: UserOrder,
    plannedFills: readonly PlannedFill[],
    reducible: Decimal,
  ): void {
    let planned = [...plannedFills];
    let capped = false;
    if (order.reduceOnly) {
      const capResult = capFills(planned, reducible);
      planned = capResult.fills;
      capped = capResult.capped;
    }
    if (
      order.type === 'LIMIT' &&
      order.timeInForce === 'FOK' &&
      totalQty(planned).lt(order.origQty.sub(order.executedQty))
    ) {
      this.#finish(account, order, 'EXPIRED');
      return;
    }
    for (const fill of planned) {
      if (!isOpen(order)) return;
      const maker = fill.maker;
      if (maker === undefined) {
        const qty = Decimal.min(fill.qty, order.origQty.sub(order.executedQty));
        this.applyFill(account, order, fill.price, qty, { maker: false, onTape: true });
        continue;
      }
      if (!isOpen(maker)) continue;
      if (maker.accountId === account.id && order.stp !== 'NONE') {
        // Self-trade prevention: the taker's mode decides who expires.
        if (order.stp === 'EXPIRE_MAKER' || order.stp === 'EXPIRE_BOTH')
          this.#finish(account, maker, 'EXPIRED_IN_MATCH');
        if (order.stp === 'EXPIRE_TAKER' || order.stp === 'EXPIRE_BOTH') {
          this.#finish(account, order, 'EXPIRED_IN_MATCH');
          return;
        }
        continue;
      }
      const makerAccount = this.#ctx.account(maker.accountId);
      let qty = Decimal.min(
        fill.qty,
        Decimal.min(maker.origQty.sub(maker.executedQty), order.origQty.sub(order.executedQty)),
      );
      if (maker.reduceOnly)
        qty = Decimal.min(
          qty,
          reducibleQty(makerAccount.position(maker.symbol, maker.positionSide), maker.side),
        );
      if (qty.sign() <= 0) {
        if (maker.reduceOnly) this.#finish(makerAccount, maker, 'EXPIRED');
        continue;
      }
      this.applyFill(makerAccount, maker, maker.price, qty, { maker: true, onTape: false });
      this.applyFill(account, order, maker.price, qty, { maker: false, onTape: true });
    }
    if (isOpen(order)) {
      const rests =
        order.type === 'LIMIT' &&
        (order.timeInForce === 'GTC' || order.timeInForce === 'GTX' || order.timeInForce === 'GTD') &&
        !capped;
      if (!rests) this.#finish(account, order, 'EXPIRED');
    }
  }

  /**
   * Modifies an open limit order (PUT /fapi/v1/order): a new quantity at or below what has filled
   * cancels it, as does a post-only price that would take; otherwise it takes the new price and
   * quantity (ORDER_TRADE_UPDATE AMENDMENT), loses its self-trade prevention (NONE), and, moved to the
   * back of the queue, trades as taker if it now crosses. Returns the order.
   */
  modify(account: Account, order: UserOrder, quantity: Decimal, price: Decimal): UserOrder {
    const spec = this.#spec(order.symbol);
    if (quantity.lte(order.executedQty)) {
      this.#finish(account, order, 'CANCELED');
      return order;
    }
    const liquidity = opposingLiquidity(
      this.#ctx.market.book(order.symbol, BOOK_LEVELS),
      order.side,
      this.#ctx.orders.openOnSymbol(order.symbol).filter((o) => o !== order),
    );
    const best = liquidity[0];
    if (order.timeInForce === 'GTX' && best !== undefined && marketablePrice(order.side, price, best.price)) {
      this.#finish(account, order, 'CANCELED');
      return order;
    }
    const position = account.position(order.symbol, order.positionSide);
    if (!order.reduceOnly) {
      const extra = quantity
        .sub(order.origQty)
        .mul(price)
        .add(order.origQty.sub(order.executedQty).mul(price.sub(order.price)));
      const leverage = account.settings(order.symbol, spec.maxLeverage).leverage;
      const needed = money(Decimal.max(Decimal.ZERO, extra).div(Decimal.fromInt(leverage), 12));
      const risk = assessAccount(account, this.#ctx.market, this.#ctx.orders.open(account.id));
      if (
        openingQty(position, order.side, quantity.sub(order.executedQty)).sign() > 0 &&
        needed.gt(risk.availableBalance)
      ) {
        throw Reject.marginInsufficient();
      }
    }
    order.price = price;
    order.origQty = quantity;
    order.stp = 'NONE';
    order.amendments += 1;
    order.updateTime = this.#ctx.clock.now();
    this.#ctx.orders.requeue(order);
    this.#emitOrder(account, order, 'AMENDMENT', undefined);
    const planned = sweepLiquidity(liquidity, order.side, quantity.sub(order.executedQty), price);
    if (planned.length > 0) this.#execute(account, order, planned, reducibleQty(position, order.side));
    return order;
  }

  /**
   * An order the exchange places itself to close `qty` of a position (a liquidation or an ADL
   * close): LIMIT IOC at `price`, reduce-only, under the given client id. With `takeFromMarket` it
   * first trades as taker against the book and resting orders at `price` or better. It is left
   * open for the caller to fill the rest (`applyFill`) and then `expire` what is left.
   */
  exchangeOrder(
    account: Account,
    position: PositionState,
    qty: Decimal,
    price: Decimal,
    autoCloseType: AutoCloseType,
    clientOrderId: string,
    takeFromMarket: boolean,
  ): UserOrder {
    const now = this.#ctx.clock.now();
    const side: OrderSide = position.amount.sign() > 0 ? 'SELL' : 'BUY';
    const order: UserOrder = {
      accountId: account.id,
      symbol: position.symbol,
      orderId: this.#ctx.ids.nextOrderId(),
      clientOrderId,
      side,
      type: 'LIMIT',
      origType: 'LIMIT',
      timeInForce: 'IOC',
      positionSide: position.side,
      price,
      origQty: qty,
      stopPrice: Decimal.ZERO,
      reduceOnly: position.side === 'BOTH',
      closePosition: false,
      workingType: 'CONTRACT_PRICE',
      priceProtect: false,
      stp: 'NONE',
      priceMatch: 'NONE',
      goodTillDate: 0,
      autoCloseType,
      amendments: 0,
      queue: 0,
      time: now,
      executedQty: Decimal.ZERO,
      cumQuote: Decimal.ZERO,
      status: 'NEW',
      updateTime: now,
    };
    this.#ctx.orders.add(order);
    this.#emitOrder(account, order, 'NEW', undefined);
    if (!takeFromMarket) return order;
    const resting = this.#ctx.orders.openOnSymbol(position.symbol).filter((o) => o.accountId !== account.id);
    const liquidity = opposingLiquidity(this.#ctx.market.book(position.symbol, BOOK_LEVELS), side, resting);
    for (const fill of sweepLiquidity(liquidity, side, qty, price)) {
      if (!isOpen(order)) break;
      const maker = fill.maker;
      if (maker === undefined) {
        this.applyFill(account, order, fill.price, fill.qty, { maker: false, onTape: true });
      } else if (isOpen(maker)) {
        const makerAccount = this.#ctx.account(maker.accountId);
        const take = Decimal.min(fill.qty, maker.origQty.sub(maker.executedQty));
        this.applyFill(makerAccount, maker, maker.price, take, { maker: true, onTape: false });
        this.applyFill(account, order, maker.price, take, { maker: false, onTape: true });
      }
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
      this.applyFill(account, order, order.price, fillQty, { maker: true, onTape: false });
    }
  }

  /**
   * Books one fill: position and entry, realized PnL, commission, isolated margin moves, the trade
   * row, income rows, and the ORDER_TRADE_UPDATE TRADE + ACCOUNT_UPDATE ORDER events.
   */
  applyFill(account: Account, order: UserOrder, price: Decimal, qty: Decimal, options: FillOptions): void {
    const ctx = this.#ctx;
    const maker = options.maker;
    const now = ctx.clock.now();
    const spec = this.#spec(order.symbol);
    const settings = account.settings(order.symbol, spec.maxLeverage);
    const position = account.position(order.symbol, order.positionSide);
    const signed = order.side === 'BUY' ? qty : qty.neg();
    const isolatedBefore = position.isolatedWallet;
    const effect = position.applyFill(signed, price, now);
    const notional = price.mul(qty);
    const commission =
      options.free === true ? Decimal.ZERO : money(notional.mul(maker ? account.makerFee : account.takerFee));
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
    ctx.emit(account.id, tradeLite(order, report, now));
    this.#emitOrder(account, order, 'TRADE', report);
    this.emitAccountUpdate(account, 'ORDER', [position]);
    if (options.onTape) {
      ctx.market.recordTakerFill({
        symbol: order.symbol,
        price,
        qty,
        time: now,
        buyerIsMaker: order.side === 'SELL',
      });
    }
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
    planned: readonly PlannedFill[],
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

  #finish(account: Account, order: UserOrder, status: 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH'): void {
    order.status = status;
    order.updateTime = this.#ctx.clock.now();
    this.#ctx.orders.touch(order);
    this.#emitOrder(account, order, status === 'CANCELED' ? 'CANCELED' : 'EXPIRED', undefined);
    this.#notifyClosed(order);
  }

  /** Expires an open order the exchange ends itself (e.g. a liquidation's leftover). */
  expire(account: Account, order: UserOrder): void {
    this.#finish(account, order, 'EXPIRED');
  }

  /**
   * -2027 when the position this order would open, with the account's other opening orders on it,
   * is larger at the mark price than the symbol's brackets allow at the position's leverage.
   */
  #checkMaxNotional(account: Account, req: PlaceOrder, position: PositionState): void {
    const opening = openingQty(position, req.side, req.quantity);
    if (opening.isZero()) return;
    const spec = req.spec;
    const leverage = account.settings(spec.symbol, spec.maxLeverage).leverage;
    let qty = position.amount.abs().add(opening);
    for (const o of this.#ctx.orders.open(account.id, spec.symbol)) {
      if (o.positionSide !== req.positionSide || o.reduceOnly) continue;
      qty = qty.add(openingQty(position, o.side, o.origQty.sub(o.executedQty)));
    }
    const mark = this.#ctx.market.markPrice(spec.symbol);
    if (qty.mul(mark).gt(maxNotional(bracketsFor(spec), leverage))) throw Reject.maxNotionalExceeded();
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
    // The event's transaction time is the order's update time (and the fill's trade time), as on
    // Binance: a recorder matches a streamed state with the same state read by REST by it.
    this.#ctx.emit(
      account.id,
      orderTradeUpdate(order, spec, execution, fill, { bids, asks }, order.updateTime),
    );
  }

  #spec(symbol: string): SymbolSpec {
    const spec = this.#ctx.market.spec(symbol);
    if (spec === undefined) throw new Error(`engine holds an order for unlisted symbol ${symbol}`);
    return spec;
  }
}

/** Whether a limit at `limit` on `side` meets a level at `levelPrice`. */
function marketablePrice(side: OrderSide, limit: Decimal, levelPrice: Decimal): boolean {
  return side === 'BUY' ? levelPrice.lte(limit) : levelPrice.gte(limit);
}

/** Trims planned fills to at most `cap` in total; says whether anything was cut. */
function capFills(fills: readonly PlannedFill[], cap: Decimal): { fills: PlannedFill[]; capped: boolean } {
  const out: PlannedFill[] = [];
  let left = cap;
  let capped = false;
  for (const f of fills) {
    if (left.sign() <= 0) {
      capped = true;
      break;
    }
    const take = Decimal.min(f.qty, left);
    if (take.lt(f.qty)) capped = true;
    out.push(
      f.maker === undefined ? { price: f.price, qty: take } : { price: f.price, qty: take, maker: f.maker },
    );
    left = left.sub(take);
  }
  return { fills: out, capped };
}
