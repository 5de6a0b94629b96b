// REST handlers for account state and settings: account, balance, positionRisk, leverage, margin type,
// position mode, commission rate and income history.
import type { Endpoint, Json, SymbolSpec } from '../contracts.js';
import { optionalEnum, optionalInt, optionalString, requireEnum, requireString } from '../request-params.js';
import type { Account, MarginType } from './account.js';
import {
  accountV2Json,
  accountV3Json,
  balanceJson,
  positionRiskV2Json,
  positionRiskV3Json,
} from './account-views.js';
import type { EngineContext, EngineDeps } from './engine-context.js';
import { requestAccount } from './engine-context.js';
import { BINANCE_INCOME_TYPES } from './income-ledger.js';
import { bracketsFor, maxNotional } from './leverage-brackets.js';
import { assessAccount } from './margin.js';
import { limitParam } from './order-endpoints.js';
import { incomeJson } from './order-views.js';
import { Reject } from './rejections.js';
import { requireSpec } from './symbol-filters.js';
import { assetModeUpdate, leverageUpdate } from './user-events.js';

const SUCCESS: Json = { code: 200, msg: 'success' };

function hasOpenOrders(ctx: EngineContext, account: Account, symbol?: string): boolean {
  return ctx.orders.open(account.id, symbol).length > 0 || ctx.algos.waiting(account.id, symbol).length > 0;
}

function readEndpoint(
  path: string,
  weight: number,
  body: (deps: EngineDeps, account: Account, symbol: string | undefined) => Json,
) {
  return (deps: EngineDeps): Endpoint => ({
    method: 'GET',
    path,
    security: 'USER_DATA',
    weight: () => weight,
    countsAsOrder: false,
    handle: ({ params, accountId }) => {
      const account = requestAccount(deps.ctx, accountId);
      const symbol = optionalString(params, 'symbol');
      if (symbol !== undefined) requireSpec(deps.ctx.market, symbol);
      return body(deps, account, symbol);
    },
  });
}

/** The account endpoints. */
export function accountEndpoints(deps: EngineDeps): Endpoint[] {
  const { ctx } = deps;
  const market = ctx.market;
  const reads = [
    readEndpoint('/fapi/v3/account', 5, (d, a) => accountV3Json(d.snapshot(a))),
    readEndpoint('/fapi/v2/account', 5, (d, a) => accountV2Json(d.snapshot(a))),
    readEndpoint('/fapi/v3/balance', 5, (d, a) => balanceJson(d.snapshot(a))),
    readEndpoint('/fapi/v2/balance', 5, (d, a) => balanceJson(d.snapshot(a))),
    readEndpoint('/fapi/v3/positionRisk', 5, (d, a, s) => positionRiskV3Json(d.snapshot(a), s)),
    readEndpoint('/fapi/v2/positionRisk', 5, (d, a, s) => positionRiskV2Json(d.snapshot(a), s)),
  ].map((make) => make(deps));
  return [
    ...reads,
    {
      method: 'POST',
      path: '/fapi/v1/leverage',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        const text = requireString(params, 'leverage');
        const leverage = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
        if (!Number.isInteger(leverage) || leverage < 1 || leverage > spec.maxLeverage)
          throw Reject.badLeverage(text);
        // An isolated position's margin was set at the old leverage: Binance refuses to lower it under one.
        const settings = account.settings(spec.symbol, spec.maxLeverage);
        if (
          settings.marginType === 'ISOLATED' &&
          leverage < settings.leverage &&
          account.openPositions(spec.symbol).length > 0
        )
          throw Reject.isolatedLeverageReduction();
        // The positions of the symbol (both sides in hedge mode) must fit the new leverage's brackets.
        const cap = maxNotional(bracketsFor(spec), leverage);
        const risk = assessAccount(account, market, ctx.orders.open(account.id));
        for (const p of risk.positions) {
          if (p.position.symbol === spec.symbol && p.notional.abs().gt(cap))
            throw Reject.leverageTooHighForPosition();
        }
        settings.leverage = leverage;
        ctx.emit(account.id, leverageUpdate(spec.symbol, leverage, ctx.clock.now()));
        return { leverage, maxNotionalValue: cap.toString(), symbol: spec.symbol };
      },
    },
    {
      method: 'POST',
      path: '/fapi/v1/marginType',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        const marginType: MarginType = requireEnum(params, 'marginType', ['ISOLATED', 'CROSSED'] as const);
        const settings = account.settings(spec.symbol, spec.maxLeverage);
        if (settings.marginType === marginType) throw Reject.marginTypeUnchanged();
        if (marginType === 'ISOLATED' && account.multiAssetsMargin) throw Reject.isolatedUnderMultiAssets();
        if (account.openPositions(spec.symbol).length > 0) throw Reject.marginTypePosition();
        if (hasOpenOrders(ctx, account, spec.symbol)) throw Reject.marginTypeOpenOrders();
        settings.marginType = marginType;
        return SUCCESS;
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/positionSide/dual',
      security: 'USER_DATA',
      weight: () => 30,
      countsAsOrder: false,
      handle: ({ accountId }) => ({
        dualSidePosition: requestAccount(ctx, accountId).positionMode === 'hedge',
      }),
    },
    {
      method: 'POST',
      path: '/fapi/v1/positionSide/dual',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const dual = requireEnum(params, 'dualSidePosition', ['true', 'false'] as const) === 'true';
        const mode = dual ? 'hedge' : 'one-way';
        if (account.positionMode === mode) throw Reject.positionModeUnchanged();
        if (account.openPositions().length > 0) throw Reject.positionModePosition();
        if (hasOpenOrders(ctx, account)) throw Reject.positionModeOpenOrders();
        account.positionMode = mode;
        return SUCCESS;
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/multiAssetsMargin',
      security: 'USER_DATA',
      weight: () => 30,
      countsAsOrder: false,
      handle: ({ accountId }) => ({ multiAssetsMargin: requestAccount(ctx, accountId).multiAssetsMargin }),
    },
    {
      method: 'POST',
      path: '/fapi/v1/multiAssetsMargin',
      security: 'TRADE',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const on = requireEnum(params, 'multiAssetsMargin', ['true', 'false'] as const) === 'true';
        if (account.multiAssetsMargin === on) throw Reject.multiAssetsUnchanged();
        if (on) {
          for (const spec of market.specs()) {
            if (account.settings(spec.symbol, spec.maxLeverage).marginType === 'ISOLATED') {
              throw Reject.multiAssetsWithIsolated();
            }
          }
        }
        account.multiAssetsMargin = on;
        ctx.emit(account.id, assetModeUpdate(on, ctx.clock.now()));
        return SUCCESS;
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/commissionRate',
      security: 'USER_DATA',
      weight: () => 20,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        const account = requestAccount(ctx, accountId);
        const spec = requireSpec(market, requireString(params, 'symbol'));
        return {
          symbol: spec.symbol,
          makerCommissionRate: account.makerFee.toString(),
          takerCommissionRate: account.takerFee.toString(),
        };
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/leverageBracket',
      security: 'USER_DATA',
      weight: () => 1,
      countsAsOrder: false,
      handle: ({ params, accountId }) => {
        requestAccount(ctx, accountId);
        const symbol = optionalString(params, 'symbol');
        const bracket = (spec: SymbolSpec) => ({
          symbol: spec.symbol,
          notionalCoef: 1.0,
          brackets: bracketsFor(spec).map((b) => ({
            bracket: b.bracket,
            initialLeverage: b.initialLeverage,
            notionalCap: b.notionalCap.toNumber(),
            notionalFloor: b.notionalFloor.toNumber(),
            maintMarginRatio: b.maintMarginRatio.toNumber(),
            cum: b.cum.toNumber(),
          })),
        });
        // With a symbol Binance answers one object, without it the list of every symbol.
        if (symbol !== undefined) return bracket(requireSpec(market, symbol));
        return market.specs().map(bracket);
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/income',
      security: 'USER_DATA',
      weight: () => 30,
      countsAsOrder: false,
      bareIntegers: ['tranId'],
      handle: ({ params, accountId, now }) => {
        const account = requestAccount(ctx, accountId);
        const symbol = optionalString(params, 'symbol');
        if (symbol !== undefined) requireSpec(market, symbol);
        const incomeType = optionalEnum(params, 'incomeType', BINANCE_INCOME_TYPES);
        const startTime = optionalInt(params, 'startTime');
        const endTime = optionalInt(params, 'endTime');
        const rows = ctx.income.query(
          account.id,
          {
            page: optionalInt(params, 'page', 1) ?? 1,
            limit: limitParam(params, 100, 1000),
            ...(symbol === undefined ? {} : { symbol }),
            ...(incomeType === undefined ? {} : { incomeType }),
            ...(startTime === undefined ? {} : { startTime }),
            ...(endTime === undefined ? {} : { endTime }),
          },
          now,
        );
        return rows.map(incomeJson);
      },
    },
  ];
}
