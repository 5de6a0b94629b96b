// REST handlers for liquidation data: ADL quantiles and the account's liquidation and ADL orders.
import type { Endpoint, Json } from '../contracts.js';
import { optionalEnum, optionalInt, optionalString } from '../request-params.js';
import type { EngineDeps } from './engine-context.js';
import { requestAccount } from './engine-context.js';
import { limitParam } from './order-endpoints.js';
import { orderQueryJson } from './order-views.js';
import { requireSpec } from './symbol-filters.js';

const WEEK_MS = 7 * 24 * 3_600_000;

/** GET /fapi/v1/adlQuantile and GET /fapi/v1/forceOrders. */
export function riskEndpoints(deps: EngineDeps): Endpoint[] {
  const { ctx, liquidations } = deps;
  const market = ctx.market;
  return [
    {
      method: 'GET',
      path: '/fapi/v1/adlQuantile',
      security: 'USER_DATA',
      weight: () => 5,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const only = optionalString(params, 'symbol');
        if (only !== undefined) requireSpec(market, only);
        const symbols = [...new Set(account.openPositions().map((p) => p.symbol))]
          .filter((s) => only === undefined || s === only)
          .sort();
        return symbols.map((symbol): Json => {
          const spec = requireSpec(market, symbol);
          const settings = account.settings(symbol, spec.maxLeverage);
          if (account.positionMode === 'one-way') {
            const position = account.position(symbol, 'BOTH');
            const q = liquidations.quantile(account, position);
            const long = position.amount.sign() > 0;
            return { symbol, adlQuantile: { LONG: long ? q : 0, SHORT: long ? 0 : q, BOTH: q } };
          }
          const long = liquidations.quantile(account, account.position(symbol, 'LONG'));
          const short = liquidations.quantile(account, account.position(symbol, 'SHORT'));
          // Cross hedge positions share one quantile, shown under HEDGE when both sides are open.
          if (settings.marginType === 'CROSSED' && long > 0 && short > 0) {
            const both = Math.max(long, short);
            return { symbol, adlQuantile: { LONG: both, SHORT: both, HEDGE: both } };
          }
          return { symbol, adlQuantile: { LONG: long, SHORT: short, BOTH: 0 } };
        });
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/forceOrders',
      security: 'USER_DATA',
      weight: (params) => (optionalString(params, 'symbol') === undefined ? 50 : 20),
      countsAsOrder: false,
      handle: ({ params, accountId, now }) => {
        const account = requestAccount(ctx, accountId);
        const symbol = optionalString(params, 'symbol');
        if (symbol !== undefined) requireSpec(market, symbol);
        const type = optionalEnum(params, 'autoCloseType', ['LIQUIDATION', 'ADL'] as const);
        const endTime = optionalInt(params, 'endTime') ?? now;
        // Without a start, the 7 days before the end.
        const startTime = optionalInt(params, 'startTime') ?? endTime - WEEK_MS;
        const limit = limitParam(params, 50, 100);
        return ctx.orders
          .exchangeOrders(account.id)
          .filter(
            (o) =>
              (symbol === undefined || o.symbol === symbol) &&
              (type === undefined || o.autoCloseType === type) &&
              o.time >= startTime &&
              o.time <= endTime,
          )
          .slice(-limit)
          .map((o) => orderQueryJson(o, requireSpec(market, o.symbol)));
      },
    },
  ];
}
