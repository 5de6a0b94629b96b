// REST handlers for user orders: place, query, cancel, open/all orders, and the trade list.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Endpoint, Json, MarketView, Params, SymbolSpec } from '../contracts.js';
import { optionalInt, optionalString, requireString } from '../request-params.js';
import type { EngineDeps } from './engine-context.js';
import { requestAccount } from './engine-context.js';
import { resolvePositionSide } from './order-executor.js';
import { parseNewOrder } from './order-request.js';
import { isOpen, type UserOrder } from './order-store.js';
import { orderQueryJson, orderResponseJson, tradeJson } from './order-views.js';
import { Reject } from './rejections.js';
import { requireSpec } from './symbol-filters.js';

/** Binance's reply to a cancel-all request. */
export const CANCEL_ALL_DONE: Json = { code: 200, msg: 'The operation of cancel all open order is done.' };

/** `limit` with Binance's default and maximum. */
export function limitParam(params: Params, fallback: number, max: number): number {
  return optionalInt(params, 'limit', 1, max) ?? fallback;
}

function findOrder(
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
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const req = parseNewOrder(params, market);
        const positionSide = resolvePositionSide(account, req.positionSide, req.reduceOnly);
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
          },
          (o) => {
            accepted = orderResponseJson(o, req.spec);
          },
        );
        return req.respType === 'RESULT' ? orderResponseJson(order, req.spec) : accepted;
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
        const start = optionalInt(params, 'startTime');
        const end = optionalInt(params, 'endTime');
        const limit = limitParam(params, 500, 1000);
        let rows = ctx.orders.all(account.id, spec.symbol);
        if (orderId !== undefined) {
          rows = rows.filter((o) => o.orderId >= orderId).slice(0, limit);
        } else {
          if (start !== undefined) rows = rows.filter((o) => o.time >= start);
          if (end !== undefined) rows = rows.filter((o) => o.time <= end);
          rows = start !== undefined ? rows.slice(0, limit) : rows.slice(-limit);
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
        const startTime = optionalInt(params, 'startTime');
        const endTime = optionalInt(params, 'endTime');
        const fromId = optionalInt(params, 'fromId');
        const rows = ctx.trades.query(account.id, {
          symbol: spec.symbol,
          limit: limitParam(params, 500, 1000),
          ...(orderId === undefined ? {} : { orderId }),
          ...(startTime === undefined ? {} : { startTime }),
          ...(endTime === undefined ? {} : { endTime }),
          ...(fromId === undefined ? {} : { fromId }),
        });
        return rows.map((r) => tradeJson(r, spec));
      },
    },
  ];
}
