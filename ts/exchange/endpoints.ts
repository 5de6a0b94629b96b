// The Binance USD-M REST endpoints Tributary uses: method, path, security, IP weight, order counting.
import type { BudgetKind } from './budget-kinds.js';
import type { RequestParams } from './request-signer.js';

/** Binance's security types (NONE public; MARKET_DATA/USER_STREAM key only; USER_DATA/TRADE signed). */
export type Security = 'NONE' | 'MARKET_DATA' | 'USER_STREAM' | 'USER_DATA' | 'TRADE';

/** One REST endpoint as Binance documents it. */
export interface EndpointSpec {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly security: Security;
  /** IP weight of a request with these parameters. */
  weight(params: RequestParams): number;
  /** Counts toward `X-MBX-ORDER-COUNT-10S/1M`. */
  readonly countsAsOrder: boolean;
  /** The priority the IP weight budget serves it with (`order` first … `universe` last). */
  readonly budgetKind: BudgetKind;
  /**
   * Whether repeating the request cannot change anything on the exchange (reads, keep-alives):
   * only these are retried automatically after 5xx and transport failures.
   */
  readonly idempotent: boolean;
}

/** Whether the endpoint needs `timestamp` + `signature`. */
export function isSigned(spec: EndpointSpec): boolean {
  return spec.security === 'USER_DATA' || spec.security === 'TRADE';
}

/** Whether the endpoint needs `X-MBX-APIKEY`. */
export function needsApiKey(spec: EndpointSpec): boolean {
  return spec.security !== 'NONE';
}

const fixed =
  (weight: number) =>
  (_params: RequestParams): number =>
    weight;

/** `withSymbol` when `symbol` is sent, else `allSymbols`. */
const bySymbol =
  (withSymbol: number, allSymbols: number) =>
  (params: RequestParams): number =>
    params.symbol === undefined ? allSymbols : withSymbol;

function limitOf(params: RequestParams, fallback: number): number {
  const raw = params.limit;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : Number.NaN;
  return Number.isFinite(value) ? value : fallback;
}

/** klines: [1,100) → 1, [100,500) → 2, [500,1000] → 5, > 1000 → 10; default limit 500. */
export function klinesWeight(params: RequestParams): number {
  const limit = limitOf(params, 500);
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/** depth: 5/10/20/50 → 2, 100 → 5, 500 → 10, 1000 → 20; default limit 500. */
export function depthWeight(params: RequestParams): number {
  const limit = limitOf(params, 500);
  if (limit <= 50) return 2;
  if (limit <= 100) return 5;
  if (limit <= 500) return 10;
  return 20;
}

function spec(
  name: string,
  method: EndpointSpec['method'],
  path: string,
  security: Security,
  weight: (params: RequestParams) => number,
  budgetKind: BudgetKind,
  extra: { countsAsOrder?: boolean; idempotent?: boolean } = {},
): EndpointSpec {
  return {
    name,
    method,
    path,
    security,
    weight,
    budgetKind,
    countsAsOrder: extra.countsAsOrder ?? false,
    idempotent: extra.idempotent ?? method === 'GET',
  };
}

/**
 * The endpoint table (weights from Binance's USD-M REST documentation, 2026). Order placement
 * carries IP weight 0 and counts toward the order limits instead. The budget kind says what a
 * request is for: placing, cancelling and querying single orders and the contract settings that
 * precede them (and the time sync signed requests need) are `order`; account, balance, position,
 * listen-key and order-history reads `account`; klines and aggTrades (bar backfill) `kline`;
 * tickers, books and the mark price `tick`; income and funding history `income`; exchangeInfo and
 * the 24 h tickers that rank the symbols `universe`.
 */
export const ENDPOINTS = {
  time: spec('time', 'GET', '/fapi/v1/time', 'NONE', fixed(1), 'order'),
  exchangeInfo: spec('exchangeInfo', 'GET', '/fapi/v1/exchangeInfo', 'NONE', fixed(1), 'universe'),
  klines: spec('klines', 'GET', '/fapi/v1/klines', 'NONE', klinesWeight, 'kline'),
  aggTrades: spec('aggTrades', 'GET', '/fapi/v1/aggTrades', 'NONE', fixed(20), 'kline'),
  depth: spec('depth', 'GET', '/fapi/v1/depth', 'NONE', depthWeight, 'tick'),
  bookTicker: spec('bookTicker', 'GET', '/fapi/v1/ticker/bookTicker', 'NONE', bySymbol(2, 5), 'tick'),
  tickerPrice: spec('tickerPrice', 'GET', '/fapi/v2/ticker/price', 'NONE', bySymbol(1, 2), 'tick'),
  ticker24h: spec('ticker24h', 'GET', '/fapi/v1/ticker/24hr', 'NONE', bySymbol(1, 40), 'universe'),
  premiumIndex: spec('premiumIndex', 'GET', '/fapi/v1/premiumIndex', 'NONE', bySymbol(1, 10), 'tick'),
  // fundingRate has its own 500/5 min/IP limit; one unit of IP weight is counted to stay conservative.
  fundingRate: spec('fundingRate', 'GET', '/fapi/v1/fundingRate', 'NONE', fixed(1), 'income'),

  newOrder: spec('newOrder', 'POST', '/fapi/v1/order', 'TRADE', fixed(0), 'order', { countsAsOrder: true }),
  queryOrder: spec('queryOrder', 'GET', '/fapi/v1/order', 'USER_DATA', fixed(1), 'order'),
  cancelOrder: spec('cancelOrder', 'DELETE', '/fapi/v1/order', 'TRADE', fixed(1), 'order'),
  cancelAllOrders: spec('cancelAllOrders', 'DELETE', '/fapi/v1/allOpenOrders', 'TRADE', fixed(1), 'order', {
    idempotent: true,
  }),
  openOrders: spec('openOrders', 'GET', '/fapi/v1/openOrders', 'USER_DATA', bySymbol(1, 40), 'account'),
  allOrders: spec('allOrders', 'GET', '/fapi/v1/allOrders', 'USER_DATA', fixed(5), 'account'),
  userTrades: spec('userTrades', 'GET', '/fapi/v1/userTrades', 'USER_DATA', fixed(5), 'account'),

  newAlgoOrder: spec('newAlgoOrder', 'POST', '/fapi/v1/algoOrder', 'TRADE', fixed(0), 'order', {
    countsAsOrder: true,
  }),
  queryAlgoOrder: spec('queryAlgoOrder', 'GET', '/fapi/v1/algoOrder', 'USER_DATA', fixed(1), 'order'),
  cancelAlgoOrder: spec('cancelAlgoOrder', 'DELETE', '/fapi/v1/algoOrder', 'TRADE', fixed(1), 'order'),
  cancelAllAlgoOrders: spec(
    'cancelAllAlgoOrders',
    'DELETE',
    '/fapi/v1/algoOpenOrders',
    'TRADE',
    fixed(1),
    'order',
    { idempotent: true },
  ),
  openAlgoOrders: spec(
    'openAlgoOrders',
    'GET',
    '/fapi/v1/openAlgoOrders',
    'USER_DATA',
    bySymbol(1, 40),
    'account',
  ),
  allAlgoOrders: spec('allAlgoOrders', 'GET', '/fapi/v1/allAlgoOrders', 'USER_DATA', fixed(5), 'account'),

  accountV3: spec('accountV3', 'GET', '/fapi/v3/account', 'USER_DATA', fixed(5), 'account'),
  accountV2: spec('accountV2', 'GET', '/fapi/v2/account', 'USER_DATA', fixed(5), 'account'),
  balanceV3: spec('balanceV3', 'GET', '/fapi/v3/balance', 'USER_DATA', fixed(5), 'account'),
  balanceV2: spec('balanceV2', 'GET', '/fapi/v2/balance', 'USER_DATA', fixed(5), 'account'),
  positionRiskV3: spec('positionRiskV3', 'GET', '/fapi/v3/positionRisk', 'USER_DATA', fixed(5), 'account'),
  positionRiskV2: spec('positionRiskV2', 'GET', '/fapi/v2/positionRisk', 'USER_DATA', fixed(5), 'account'),
  income: spec('income', 'GET', '/fapi/v1/income', 'USER_DATA', fixed(30), 'income'),
  commissionRate: spec('commissionRate', 'GET', '/fapi/v1/commissionRate', 'USER_DATA', fixed(20), 'account'),

  // Settings: repeating them sets the same value again, so they are safe to retry.
  leverage: spec('leverage', 'POST', '/fapi/v1/leverage', 'TRADE', fixed(1), 'order', { idempotent: true }),
  marginType: spec('marginType', 'POST', '/fapi/v1/marginType', 'TRADE', fixed(1), 'order', {
    idempotent: true,
  }),
  getPositionMode: spec(
    'getPositionMode',
    'GET',
    '/fapi/v1/positionSide/dual',
    'USER_DATA',
    fixed(30),
    'order',
  ),
  setPositionMode: spec('setPositionMode', 'POST', '/fapi/v1/positionSide/dual', 'TRADE', fixed(1), 'order', {
    idempotent: true,
  }),

  createListenKey: spec('createListenKey', 'POST', '/fapi/v1/listenKey', 'USER_STREAM', fixed(1), 'account', {
    // Binance returns the account's current key when one is active, so a repeat is harmless.
    idempotent: true,
  }),
  keepAliveListenKey: spec(
    'keepAliveListenKey',
    'PUT',
    '/fapi/v1/listenKey',
    'USER_STREAM',
    fixed(1),
    'account',
    {
      idempotent: true,
    },
  ),
  closeListenKey: spec('closeListenKey', 'DELETE', '/fapi/v1/listenKey', 'USER_STREAM', fixed(1), 'account', {
    idempotent: true,
  }),
} as const satisfies Record<string, EndpointSpec>;

/** Names of the endpoints in `ENDPOINTS`. */
export type EndpointName = keyof typeof ENDPOINTS;
