// The algo service: accepts conditional orders, watches prices, and places the real order on trigger.
import { Decimal } from '../../ts/exact/decimal.js';
import { type Json, MAX_OPEN_ALGO_ORDERS, SimRejection, type SymbolSpec } from '../contracts.js';
import { missing } from '../request-params.js';
import type { Account } from './account.js';
import type { NewAlgoRequest } from './algo-request.js';
import {
  type AlgoOrder,
  advanceTrailing,
  isWaiting,
  reachesTrigger,
  trailingActivates,
} from './algo-store.js';
import type { EngineContext } from './engine-context.js';
import { generatedClientId } from './id-source.js';
import { type OrderExecutor, reducibleQty, resolvePositionSide } from './order-executor.js';
import { matchedPrice } from './order-request.js';
import { isOpen, type UserOrder } from './order-store.js';
import { averagePrice } from './order-views.js';
import { Reject } from './rejections.js';
import { algoUpdate } from './user-events.js';

/** Binance's `triggerProtect` of every USD-M perpetual (exchangeInfo), the simulator's too. */
export const TRIGGER_PROTECT = Decimal.parse('0.05');

/** Conditional orders of every account. */
export class AlgoService {
  readonly #ctx: EngineContext;
  readonly #executor: OrderExecutor;
  /** Algo order behind each order it placed, to report FINISHED. */
  readonly #byOrderId = new Map<number, AlgoOrder>();

  constructor(ctx: EngineContext, executor: OrderExecutor) {
    this.#ctx = ctx;
    this.#executor = executor;
    executor.onOrderClosed((order) => this.#orderClosed(order));
  }

  /** Accepts a conditional order (ALGO_UPDATE NEW); -2021 when it would trigger at once. */
  place(account: Account, req: NewAlgoRequest): AlgoOrder {
    const positionSide = resolvePositionSide(account, req.positionSide, req.reduceOnly);
    const symbol = req.spec.symbol;
    const now = this.#ctx.clock.now();
    const algoId = this.#ctx.ids.nextAlgoId();
    const clientAlgoId = req.clientAlgoId ?? generatedClientId('', algoId);
    if (req.clientAlgoId !== undefined) {
      const same = this.#ctx.algos.find(account.id, undefined, req.clientAlgoId);
      if (same !== undefined && isWaiting(same)) throw Reject.duplicateClientOrderId();
    }
    // MAX_NUM_ALGO_ORDERS of exchangeInfo: open conditional orders per account and symbol.
    if (this.#ctx.algos.waiting(account.id, symbol).length >= MAX_OPEN_ALGO_ORDERS)
      throw Reject.maxStopOrders();
    const price = this.#watchPrice(symbol, req.workingType);
    const algo: AlgoOrder = {
      accountId: account.id,
      algoId,
      clientAlgoId,
      symbol,
      side: req.side,
      positionSide,
      orderType: req.orderType,
      timeInForce: req.timeInForce,
      quantity: req.quantity,
      price: req.price,
      priceMatch: req.priceMatch,
      stp: req.stp,
      workingType: req.workingType,
      priceProtect: req.priceProtect,
      reduceOnly: req.reduceOnly,
      closePosition: req.closePosition,
      activatePrice: req.activatePrice,
      callbackRate: req.callbackRate,
      createTime: now,
      triggerPrice: req.triggerPrice,
      status: 'NEW',
      updateTime: now,
      triggerTime: 0,
      actualOrderId: undefined,
      actualOrderType: undefined,
      rejectReason: '',
      activated: false,
      extreme: Decimal.ZERO,
    };
    if (req.orderType === 'TRAILING_STOP_MARKET') {
      const activate = req.activatePrice;
      // An activation price already passed would activate and could fire at once.
      if (activate !== undefined && !activate.eq(price) && trailingActivates(req.side, activate, price)) {
        throw Reject.wouldTrigger();
      }
      if (activate === undefined) advanceTrailing(algo, price, req.spec.tickSize);
    } else if (reachesTrigger(req.orderType, req.side, req.triggerPrice, price)) {
      throw Reject.wouldTrigger();
    }
    this.#ctx.algos.add(algo);
    this.#emit(algo, undefined);
    return algo;
  }

  /** Cancels a waiting algo order (ALGO_UPDATE CANCELED); -2011 when it is no longer waiting. */
  cancel(algo: AlgoOrder): void {
    if (!isWaiting(algo)) throw Reject.unknownOrderCancel();
    algo.status = 'CANCELED';
    algo.updateTime = this.#ctx.clock.now();
    this.#emit(algo, undefined);
  }

  /** Checks every waiting order of `symbol` (or all symbols) against current prices. */
  check(symbol?: string, contractPrice?: Decimal): void {
    for (const algo of this.#ctx.algos.waiting(undefined, symbol)) {
      const spec = this.#ctx.market.spec(algo.symbol);
      if (spec === undefined) continue;
      const price =
        algo.workingType === 'CONTRACT_PRICE' && contractPrice !== undefined
          ? contractPrice
          : this.#watchPrice(algo.symbol, algo.workingType);
      const fires =
        algo.orderType === 'TRAILING_STOP_MARKET'
          ? advanceTrailing(algo, price, spec.tickSize)
          : reachesTrigger(algo.orderType, algo.side, algo.triggerPrice, price);
      if (fires && algo.priceProtect && !this.#pricesAgree(algo.symbol)) {
        // priceProtect: no trigger while the contract price is more than triggerProtect off the mark.
        continue;
      }
      if (fires) this.#trigger(algo, spec);
    }
  }

  /** The limit price of a triggered STOP / TAKE_PROFIT: its own, or the book's by its price-match mode. */
  #limitPrice(algo: AlgoOrder): Decimal {
    if (algo.priceMatch === undefined) return algo.price;
    const matched = matchedPrice(this.#ctx.market, algo.symbol, algo.side, algo.priceMatch);
    // An empty book side has no level to match: refused as a limit order without its price.
    if (matched === undefined) throw missing('price');
    return matched;
  }

  /** Places the real order: market for *_MARKET types, limit at `price` (or the matched price) for STOP / TAKE_PROFIT. */
  #trigger(algo: AlgoOrder, spec: SymbolSpec): void {
    const account = this.#ctx.account(algo.accountId);
    const now = this.#ctx.clock.now();
    algo.status = 'TRIGGERING';
    algo.triggerTime = now;
    algo.updateTime = now;
    this.#emit(algo, undefined);
    const limitType = algo.orderType === 'STOP' || algo.orderType === 'TAKE_PROFIT';
    let quantity = algo.quantity;
    if (algo.closePosition)
      quantity = reducibleQty(account.position(algo.symbol, algo.positionSide), algo.side);
    try {
      if (quantity.isZero()) throw Reject.reduceOnlyRejected();
      const price = limitType ? this.#limitPrice(algo) : undefined;
      this.#executor.place(
        account,
        {
          spec,
          side: algo.side,
          type: limitType ? 'LIMIT' : 'MARKET',
          timeInForce: algo.timeInForce,
          positionSide: algo.positionSide,
          quantity,
          price,
          reduceOnly: algo.positionSide === 'BOTH' && (algo.reduceOnly || algo.closePosition),
          closePosition: algo.closePosition,
          clientOrderId: algo.clientAlgoId,
          origType: algo.orderType,
          stopPrice: algo.triggerPrice,
          workingType: algo.workingType,
          priceProtect: algo.priceProtect,
          stp: algo.stp,
          ...(algo.priceMatch === undefined ? {} : { priceMatch: algo.priceMatch }),
        },
        (order) => {
          algo.status = 'TRIGGERED';
          algo.actualOrderId = order.orderId;
          algo.actualOrderType = order.type;
          algo.updateTime = this.#ctx.clock.now();
          this.#byOrderId.set(order.orderId, algo);
          this.#emit(algo, undefined);
        },
      );
    } catch (error) {
      if (!(error instanceof SimRejection)) throw error;
      // The matching engine refused the order (margin, reduce-only, ...): the algo order is rejected.
      algo.status = 'REJECTED';
      algo.rejectReason = error.message;
      algo.updateTime = this.#ctx.clock.now();
      this.#ctx.logger.info('triggered algo order rejected', {
        algoId: algo.algoId,
        code: error.code,
        reason: error.message,
      });
      this.#emit(algo, undefined);
    }
  }

  #orderClosed(order: UserOrder): void {
    const algo = this.#byOrderId.get(order.orderId);
    if (algo === undefined || isOpen(order)) return;
    this.#byOrderId.delete(order.orderId);
    algo.status = 'FINISHED';
    algo.updateTime = this.#ctx.clock.now();
    this.#emit(algo, { avgPrice: averagePrice(order), qty: order.executedQty });
  }

  /** Whether last and mark price differ by at most the symbol's triggerProtect (5 %, exchangeInfo). */
  #pricesAgree(symbol: string): boolean {
    const mark = this.#ctx.market.markPrice(symbol);
    if (mark.sign() <= 0) return false;
    const gap = this.#ctx.market.lastPrice(symbol).sub(mark).abs();
    return gap.div(mark, 12).lte(TRIGGER_PROTECT);
  }

  #watchPrice(symbol: string, workingType: AlgoOrder['workingType']): Decimal {
    return workingType === 'MARK_PRICE'
      ? this.#ctx.market.markPrice(symbol)
      : this.#ctx.market.lastPrice(symbol);
  }

  #emit(algo: AlgoOrder, executed: { avgPrice: Decimal; qty: Decimal } | undefined): void {
    const spec = this.#ctx.market.spec(algo.symbol);
    if (spec === undefined) return;
    const event: Json = algoUpdate(algo, spec, executed, this.#ctx.clock.now());
    this.#ctx.emit(algo.accountId, event);
  }
}
