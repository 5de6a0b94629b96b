// POST/PUT/DELETE /fapi/v1/batchOrders: several new orders, modifications or cancels in one request.
import { type Endpoint, type Json, type Params, SimRejection } from '../contracts.js';
import { illegal, missing, optionalString, requireString } from '../request-params.js';
import type { EngineDeps } from './engine-context.js';
import { requestAccount } from './engine-context.js';
import { modifyOrder, placeOrder } from './order-endpoints.js';
import { CLIENT_ID_PATTERN, parseNewOrder } from './order-request.js';
import { isOpen } from './order-store.js';
import { orderResponseJson } from './order-views.js';
import { Reject } from './rejections.js';
import { requireSpec } from './symbol-filters.js';

/** Orders one batch may place or modify, and orders one batch cancel may name. */
const MAX_BATCH = 5;
const MAX_CANCELS = 10;
/** Binance counts a batch as 5 orders on the 10-second window and 1 on the minute window. */
const BATCH_ORDER_COUNT = { tenSeconds: 5, minute: 1 } as const;

/** A refusal as a batch lists it, in place of the order it refused. */
function refusal(error: unknown): Json {
  if (error instanceof SimRejection) return { code: error.code, msg: error.message };
  throw error;
}

/** A JSON list parameter (`batchOrders`, `orderIdList`, …) as the client encoded it. */
function jsonList(params: Params, name: string, max: number, tooLong: (count: number) => Error): unknown[] {
  const text = requireString(params, name);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw illegal(name, text);
  }
  if (!Array.isArray(value) || value.length === 0) throw illegal(name, text);
  if (value.length > max) throw tooLong(value.length);
  return value;
}

/** One order of a batch as request parameters (Binance's values are strings or numbers). */
function itemParams(item: unknown, name: string): Params {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw illegal(name, JSON.stringify(item));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(item)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else throw illegal(key, JSON.stringify(value));
  }
  return out;
}

/** The batch endpoints: each item succeeds or fails on its own, answered in the batch's order. */
export function batchEndpoints(deps: EngineDeps): Endpoint[] {
  const { ctx, executor } = deps;
  const market = ctx.market;
  return [
    {
      method: 'POST',
      path: '/fapi/v1/batchOrders',
      security: 'TRADE',
      weight: () => 5,
      countsAsOrder: true,
      orderCount: () => BATCH_ORDER_COUNT,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        return jsonList(params, 'batchOrders', MAX_BATCH, Reject.batchTooLong).map((item) => {
          try {
            return placeOrder(
              deps,
              account,
              parseNewOrder(itemParams(item, 'batchOrders'), market, ctx.clock.now()),
            );
          } catch (error) {
            return refusal(error);
          }
        });
      },
    },
    {
      method: 'PUT',
      path: '/fapi/v1/batchOrders',
      security: 'TRADE',
      weight: () => 5,
      countsAsOrder: true,
      orderCount: () => BATCH_ORDER_COUNT,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        return jsonList(params, 'batchOrders', MAX_BATCH, Reject.batchTooLong).map((item) => {
          try {
            return modifyOrder(deps, account, itemParams(item, 'batchOrders'));
          } catch (error) {
            return refusal(error);
          }
        });
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/batchOrders',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        // Binance also reads these two in lower case (ccxt sends `orderidlist`).
        const idName = optionalString(params, 'orderIdList') !== undefined ? 'orderIdList' : 'orderidlist';
        const clientName =
          optionalString(params, 'origClientOrderIdList') !== undefined
            ? 'origClientOrderIdList'
            : 'origclientorderidlist';
        const byId = optionalString(params, idName);
        const byClient = optionalString(params, clientName);
        if (byId === undefined && byClient === undefined) throw missing('orderIdList');
        const ids =
          byId !== undefined
            ? jsonList(params, idName, MAX_CANCELS, Reject.tooManyCancels).map((id) => {
                if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
                  throw illegal('orderIdList', String(id));
                return { orderId: id };
              })
            : jsonList(params, clientName, MAX_CANCELS, Reject.tooManyCancels).map((id) => {
                if (typeof id !== 'string' || !CLIENT_ID_PATTERN.test(id))
                  throw illegal('origClientOrderIdList', String(id));
                return { clientId: id };
              });
        return ids.map((ref) => {
          const order = ctx.orders.find(
            account.id,
            spec.symbol,
            'orderId' in ref ? ref.orderId : undefined,
            'clientId' in ref ? ref.clientId : undefined,
          );
          if (order === undefined || !isOpen(order)) return refusal(Reject.unknownOrderCancel());
          executor.cancel(account, order);
          return orderResponseJson(order, spec);
        });
      },
    },
  ];
}
