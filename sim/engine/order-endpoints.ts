// REST handlers for user orders: place, query, cancel, open/all orders, and the trade list.
import { Decimal } from '../../ts/exact/decimal.js';
import {
  type Endpoint,
  type Json,
  MAX_OPEN_ORDERS,
  type MarketView,
  type Params,
  type SymbolSpec,
} from '../contracts.js';
import {
  illegal,
  optionalInt,
  optionalString,
  requireDecimal,
  requireInt,
  requireString,
} from '../request-params.js';
import type { Account } from './account.js';
import type { EngineDeps } from './engine-context.js';
import { requestAccount } from './engine-context.js';
import { historyWindow, sendsStart, sendsTime } from './history-window.js';
import { resolvePositionSide } from './order-executor.js';
import { type NewOrderRequest, parseNewOrder, sideParam } from './order-request.js';
import { isOpen, type UserOrder } from './order-store.js';
import { orderQueryJson, orderResponseJson, tradeJson } from './order-views.js';
import { Reject } from './rejections.js';
import { checkPercentPrice, checkPrice, checkQuantity, requireSpec } from './symbol-filters.js';

/** Binance caps an order at 10,000 modifications. */
const MAX_AMENDMENTS = 10_000;

/**
 * Checks a new order against the account (position side, duplicate client id) and places it;
 * returns the response body its `newOrderRespType` asks for (ACK: the accepted order).
 */
export function placeOrder(deps: EngineDeps, account: Account, req: NewOrderRequest): Json {
  const { ctx, executor } = deps;
  const positionSide = resolvePositionSide(account, req.positionSide, req.reduceOnly);
  // exchangeInfo's MAX_NUM_ORDERS: without it a client could pile up open orders without bound.
  if (ctx.orders.openCount(account.id, req.spec.symbol) >= MAX_OPEN_ORDERS) throw Reject.maxOpenOrders();
  if (req.clientOrderId !== undefined) {
    const same = ctx.orders.find(account.id, req.spec.symbol, undefined, req.clientOrderId);
    if (same !== undefined && isOpen(same)) throw Reject.duplicateClientOrderId();
  }
  let accepted: Json = null;
  const order = executor.place(
    account,
    {
      spec: req.spec,
      side: req.side,
      type: req.type,
      timeInForce: req.timeInForce,
      positionSide,
      quantity: req.quantity,
      price: req.price,
      reduceOnly: req.reduceOnly,
      closePosition: false,
      clientOrderId: req.clientOrderId,
      origType: req.type,
      stopPrice: Decimal.ZERO,
      workingType: 'CONTRACT_PRICE',
      priceProtect: false,
      stp: req.stp,
      ...(req.priceMatch === undefined ? {} : { priceMatch: req.priceMatch }),
      goodTillDate: req.goodTillDate,
    },
    (o) => {
      accepted = orderResponseJson(o, req.spec);
    },
  );
  return req.respType === 'RESULT' ? orderResponseJson(order, req.spec) : accepted;
}

/**
 * Checks a modification (PUT /fapi/v1/order) and applies it: the order must be the account's open
 * limit order on `symbol` and `side`; the new price and quantity pass the symbol's filters (a
 * refused one leaves the order as it was); the same price and quantity are refused with -5027.
 */
export function modifyOrder(deps: EngineDeps, account: Account, params: Params): Json {
  const { ctx, executor } = deps;
  const market = ctx.market;
  const { order, spec } = findOrder(deps, account.id, params, market);
  if (order === undefined || !isOpen(order)) throw Reject.noSuchOrder();
  const side = sideParam(params);
  if (side !== order.side) throw illegal('side', side);
  const quantity = requireDecimal(params, 'quantity');
  const price = requireDecimal(params, 'price');
  checkQuantity(spec, quantity, false);
  checkPrice(spec, price);
  checkPercentPrice(spec, side, price, market.markPrice(spec.symbol));
  if (quantity.eq(order.origQty) && price.eq(order.price)) throw Reject.nothingToModify();
  if (order.amendments >= MAX_AMENDMENTS) throw Reject.tooManyModifications();
  executor.modify(account, order, quantity, price);
  return orderResponseJson(order, spec);
}

/** Binance's reply to a cancel-all request. */
export const CANCEL_ALL_DONE: Json = { code: 200, msg: 'The operation of cancel all open order is done.' };

/** `limit` with Binance's default and maximum. */
export function limitParam(params: Params, fallback: number, max: number): number {
  return optionalInt(params, 'limit', 1, max) ?? fallback;
}

export function findOrder(
  deps: EngineDeps,
  accountId: string,
  params: Params,
  market: MarketView,
): { order: UserOrder | undefined; spec: SymbolSpec } {
  const spec = requireSpec(market, requireString(params, 'symbol'));
  const orderId = optionalInt(params, 'orderId', 1);
  const clientId = optionalString(params, 'origClientOrderId');
  if (orderId === undefined && clientId === undefined) throw Reject.eitherId('origClientOrderId', 'orderId');
  return { order: deps.ctx.orders.find(accountId, spec.symbol, orderId, clientId), spec };
}

/** The order endpoints of `/fapi/v1`. */
export function orderEndpoints(deps: EngineDeps): Endpoint[] {
  const { ctx, executor } = deps;
  const market = ctx.market;
  return [
    {
      method: 'POST',
      path: '/fapi/v1/order',
      security: 'TRADE',
      weight: () => 0,
      countsAsOrder: true,
      handle: ({ params, accountId }) =>
        placeOrder(deps, requestAccount(ctx, accountId), parseNewOrder(params, market, ctx.clock.now())),
    },
    {
      method: 'PUT',
      path: '/fapi/v1/order',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: true,
      handle: ({ params, accountId }) => modifyOrder(deps, requestAccount(ctx, accountId), params),
    },
    {
      // Checks everything a new order is checked for, then sends nothing to the matching engine.
      method: 'POST',
      path: '/fapi/v1/order/test',
      security: 'TRADE',
      weight: () => 0,
      countsAsOrder: false,
      handle: ({ params, accountId, now }) => {
        const account = requestAccount(ctx, accountId);
        const req = parseNewOrder(params, market, ctx.clock.now());
        const positionSide = resolvePositionSide(account, req.positionSide, req.reduceOnly);
        return orderResponseJson(
          {
            accountId: account.id,
            symbol: req.spec.symbol,
            orderId: 0,
            clientOrderId: req.clientOrderId ?? '',
            side: req.side,
            type: req.type,
            origType: req.type,
            timeInForce: req.timeInForce,
            positionSide,
            price: req.price ?? Decimal.ZERO,
            origQty: req.quantity,
            stopPrice: Decimal.ZERO,
            reduceOnly: req.reduceOnly,
            closePosition: false,
            workingType: 'CONTRACT_PRICE',
            priceProtect: false,
            stp: req.stp,
            priceMatch: req.priceMatch ?? 'NONE',
            goodTillDate: req.goodTillDate,
            amendments: 0,
            queue: 0,
            time: now,
            executedQty: Decimal.ZERO,
            cumQuote: Decimal.ZERO,
            status: 'NEW',
            updateTime: now,
          },
          req.spec,
        );
      },
    },
    {
      method: 'POST',
      path: '/fapi/v1/countdownCancelAll',
      security: 'TRADE',
      weight: () => 10,
      countsAsOrder: false,
      handle: ({ params, accountId, now }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        const countdown = requireInt(params, 'countdownTime', 0, 86_400_000);
        deps.countdowns.set(account.id, spec.symbol, countdown === 0 ? undefined : now + countdown);
        return { symbol: spec.symbol, countdownTime: String(countdown) };
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/order',
      security: 'USER_DATA',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const { order, spec } = findOrder(deps, account.id, params, market);
        if (order === undefined) throw Reject.noSuchOrder();
        return orderQueryJson(order, spec);
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/order',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const { order, spec } = findOrder(deps, account.id, params, market);
        if (order === undefined || !isOpen(order)) throw Reject.unknownOrderCancel();
        executor.cancel(account, order);
        return orderResponseJson(order, spec);
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/allOpenOrders',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        for (const order of ctx.orders.open(account.id, spec.symbol)) executor.cancel(account, order);
        return CANCEL_ALL_DONE;
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/openOrder',
      security: 'USER_DATA',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const { order, spec } = findOrder(deps, account.id, params, market);
        if (order === undefined || !isOpen(order)) throw Reject.noSuchOrder();
        return orderQueryJson(order, spec);
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/openOrders',
      security: 'USER_DATA',
      weight: (params) => (optionalString(params, 'symbol') === undefined ? 40 : 1),
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const symbol = optionalString(params, 'symbol');
        if (symbol !== undefined) requireSpec(market, symbol);
        return ctx.orders
          .open(account.id, symbol)
          .map((o) => orderQueryJson(o, requireSpec(market, o.symbol)));
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/allOrders',
      security: 'USER_DATA',
      weight: () => 5,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        const orderId = optionalInt(params, 'orderId', 0);
        const limit = limitParam(params, 500, 1000);
        let rows = ctx.orders.all(account.id, spec.symbol);
        if (orderId !== undefined) {
          rows = rows.filter((o) => o.orderId >= orderId).slice(0, limit);
        } else {
          const window = historyWindow(params, ctx.clock.now());
          rows = rows.filter((o) => o.time >= window.start && o.time <= window.end);
          rows = sendsStart(params) ? rows.slice(0, limit) : rows.slice(-limit);
        }
        return rows.map((o) => orderQueryJson(o, spec));
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/userTrades',
      security: 'USER_DATA',
      weight: () => 5,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        const orderId = optionalInt(params, 'orderId', 0);
        const fromId = optionalInt(params, 'fromId');
        if (fromId !== undefined && sendsTime(params)) throw Reject.invalidCombination();
        const rows = ctx.trades.query(account.id, {
          symbol: spec.symbol,
          limit: limitParam(params, 500, 1000),
          ...(orderId === undefined ? {} : { orderId }),
          ...(fromId === undefined
            ? { window: historyWindow(params, ctx.clock.now()), fromStart: sendsStart(params) }
            : { fromId }),
        });
        return rows.map((r) => tradeJson(r, spec));
      },
    },
  ];
}
