// REST handlers for conditional orders: `/fapi/v1/algoOrder` and the algo order lists.
import type { Endpoint, Json, Params } from '../contracts.js';
import { optionalInt, optionalString, requireString } from '../request-params.js';
import { parseNewAlgo } from './algo-request.js';
import type { AlgoOrder } from './algo-store.js';
import type { EngineDeps } from './engine-context.js';
import { requestAccount } from './engine-context.js';
import { historyWindow, sendsStart } from './history-window.js';
import { CANCEL_ALL_DONE, limitParam } from './order-endpoints.js';
import { algoOrderJson } from './order-views.js';
import { Reject } from './rejections.js';
import { requireSpec } from './symbol-filters.js';

/** The algo endpoints of `/fapi/v1`. */
export function algoEndpoints(deps: EngineDeps): Endpoint[] {
  const { ctx, algoService } = deps;
  const market = ctx.market;
  const json = (algo: AlgoOrder): Json => algoOrderJson(algo, requireSpec(market, algo.symbol));
  const find = (accountId: string, params: Params): AlgoOrder | undefined => {
    const algoId = optionalInt(params, 'algoId', 1);
    const clientAlgoId = optionalString(params, 'clientAlgoId');
    if (algoId === undefined && clientAlgoId === undefined) throw Reject.eitherId('algoId', 'clientAlgoId');
    return ctx.algos.find(accountId, algoId, clientAlgoId);
  };
  return [
    {
      method: 'POST',
      path: '/fapi/v1/algoOrder',
      security: 'TRADE',
      weight: () => 0,
      countsAsOrder: true,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        return json(algoService.place(account, parseNewAlgo(params, market)));
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/algoOrder',
      security: 'USER_DATA',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const algo = find(requestAccount(ctx, accountId).id, params);
        if (algo === undefined) throw Reject.noSuchOrder();
        return json(algo);
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/algoOrder',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const algo = find(requestAccount(ctx, accountId).id, params);
        if (algo === undefined) throw Reject.unknownOrderCancel();
        algoService.cancel(algo);
        return { algoId: algo.algoId, clientAlgoId: algo.clientAlgoId, code: '200', msg: 'success' };
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/openAlgoOrders',
      security: 'USER_DATA',
      weight: (params) => (optionalString(params, 'symbol') === undefined ? 40 : 1),
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const symbol = optionalString(params, 'symbol');
        if (symbol !== undefined) requireSpec(market, symbol);
        const algoId = optionalInt(params, 'algoId', 1);
        return ctx.algos
          .waiting(account.id, symbol)
          .filter((a) => algoId === undefined || a.algoId === algoId)
          .map(json);
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/allAlgoOrders',
      security: 'USER_DATA',
      weight: () => 5,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        const algoId = optionalInt(params, 'algoId', 0);
        const page = optionalInt(params, 'page', 1) ?? 1;
        const limit = limitParam(params, 500, 1000);
        let rows = ctx.algos.all(account.id, spec.symbol);
        if (algoId !== undefined) {
          rows = rows.filter((a) => a.algoId >= algoId);
        } else {
          const window = historyWindow(params, ctx.clock.now());
          rows = rows.filter((a) => a.createTime >= window.start && a.createTime <= window.end);
          // Without a cursor or a start time, pages count back from the most recent order.
          if (!sendsStart(params)) {
            const end = Math.max(0, rows.length - (page - 1) * limit);
            return rows.slice(Math.max(0, end - limit), end).map(json);
          }
        }
        return rows.slice((page - 1) * limit, page * limit).map(json);
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/algoOpenOrders',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        for (const algo of ctx.algos.waiting(account.id, spec.symbol)) algoService.cancel(algo);
        return CANCEL_ALL_DONE;
      },
    },
  ];
}
