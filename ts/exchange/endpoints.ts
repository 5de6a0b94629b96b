// The Binance USD-M REST endpoints Tributary uses: method, path, security, IP weight, order counting.
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
  extra: { countsAsOrder?: boolean; idempotent?: boolean } = {},
): EndpointSpec {
  return {
    name,
    method,
    path,
    security,
    weight,
    countsAsOrder: extra.countsAsOrder ?? false,
    idempotent: extra.idempotent ?? method === 'GET',
  };
}

/**
 * The endpoint table (weights from Binance's USD-M REST documentation, 2026). Order placement
 * carries IP weight 0 and counts toward the order limits instead.
 */
export const ENDPOINTS = {
  time: spec('time', 'GET', '/fapi/v1/time', 'NONE', fixed(1)),
  exchangeInfo: spec('exchangeInfo', 'GET', '/fapi/v1/exchangeInfo', 'NONE', fixed(1)),
  klines: spec('klines', 'GET', '/fapi/v1/klines', 'NONE', klinesWeight),
  aggTrades: spec('aggTrades', 'GET', '/fapi/v1/aggTrades', 'NONE', fixed(20)),
  depth: spec('depth', 'GET', '/fapi/v1/depth', 'NONE', depthWeight),
  bookTicker: spec('bookTicker', 'GET', '/fapi/v1/ticker/bookTicker', 'NONE', bySymbol(2, 5)),
  tickerPrice: spec('tickerPrice', 'GET', '/fapi/v2/ticker/price', 'NONE', bySymbol(1, 2)),
  ticker24h: spec('ticker24h', 'GET', '/fapi/v1/ticker/24hr', 'NONE', bySymbol(1, 40)),
  premiumIndex: spec('premiumIndex', 'GET', '/fapi/v1/premiumIndex', 'NONE', bySymbol(1, 10)),
  // fundingRate has its own 500/5 min/IP limit; one unit of IP weight is counted to stay conservative.
  fundingRate: spec('fundingRate', 'GET', '/fapi/v1/fundingRate', 'NONE', fixed(1)),

  newOrder: spec('newOrder', 'POST', '/fapi/v1/order', 'TRADE', fixed(0), { countsAsOrder: true }),
  queryOrder: spec('queryOrder', 'GET', '/fapi/v1/order', 'USER_DATA', fixed(1)),
  cancelOrder: spec('cancelOrder', 'DELETE', '/fapi/v1/order', 'TRADE', fixed(1)),
  cancelAllOrders: spec('cancelAllOrders', 'DELETE', '/fapi/v1/allOpenOrders', 'TRADE', fixed(1), {
    idempotent: true,
  }),
  openOrders: spec('openOrders', 'GET', '/fapi/v1/openOrders', 'USER_DATA', bySymbol(1, 40)),
  allOrders: spec('allOrders', 'GET', '/fapi/v1/allOrders', 'USER_DATA', fixed(5)),
  userTrades: spec('userTrades', 'GET', '/fapi/v1/userTrades', 'USER_DATA', fixed(5)),

  newAlgoOrder: spec('newAlgoOrder', 'POST', '/fapi/v1/algoOrder', 'TRADE', fixed(0), {
    countsAsOrder: true,
  }),
  queryAlgoOrder: spec('queryAlgoOrder', 'GET', '/fapi/v1/algoOrder', 'USER_DATA', fixed(1)),
  cancelAlgoOrder: spec('cancelAlgoOrder', 'DELETE', '/fapi/v1/algoOrder', 'TRADE', fixed(1)),
  cancelAllAlgoOrders: spec('cancelAllAlgoOrders', 'DELETE', '/fapi/v1/algoOpenOrders', 'TRADE', fixed(1), {
    idempotent: true,
  }),
  openAlgoOrders: spec('openAlgoOrders', 'GET', '/fapi/v1/openAlgoOrders', 'USER_DATA', bySymbol(1, 40)),
  allAlgoOrders: spec('allAlgoOrders', 'GET', '/fapi/v1/allAlgoOrders', 'USER_DATA', fixed(5)),

  accountV3: spec('accountV3', 'GET', '/fapi/v3/account', 'USER_DATA', fixed(5)),
  accountV2: spec('accountV2', 'GET', '/fapi/v2/account', 'USER_DATA', fixed(5)),
  balanceV3: spec('balanceV3', 'GET', '/fapi/v3/balance', 'USER_DATA', fixed(5)),
  balanceV2: spec('balanceV2', 'GET', '/fapi/v2/balance', 'USER_DATA', fixed(5)),
  positionRiskV3: spec('positionRiskV3', 'GET', '/fapi/v3/positionRisk', 'USER_DATA', fixed(5)),
  positionRiskV2: spec('positionRiskV2', 'GET', '/fapi/v2/positionRisk', 'USER_DATA', fixed(5)),
  income: spec('income', 'GET', '/fapi/v1/income', 'USER_DATA', fixed(30)),
  commissionRate: spec('commissionRate', 'GET', '/fapi/v1/commissionRate', 'USER_DATA', fixed(20)),

  // Settings: repeating them sets the same value again, so they are safe to retry.
  leverage: spec('leverage', 'POST', '/fapi/v1/leverage', 'TRADE', fixed(1), { idempotent: true }),
  marginType: spec('marginType', 'POST', '/fapi/v1/marginType', 'TRADE', fixed(1), { idempotent: true }),
  getPositionMode: spec('getPositionMode', 'GET', '/fapi/v1/positionSide/dual', 'USER_DATA', fixed(30)),
  setPositionMode: spec('setPositionMode', 'POST', '/fapi/v1/positionSide/dual', 'TRADE', fixed(1), {
    idempotent: true,
  }),

  createListenKey: spec('createListenKey', 'POST', '/fapi/v1/listenKey', 'USER_STREAM', fixed(1), {
    // Binance returns the account's current key when one is active, so a repeat is harmless.
    idempotent: true,
  }),
  keepAliveListenKey: spec('keepAliveListenKey', 'PUT', '/fapi/v1/listenKey', 'USER_STREAM', fixed(1), {
    idempotent: true,
  }),
  closeListenKey: spec('closeListenKey', 'DELETE', '/fapi/v1/listenKey', 'USER_STREAM', fixed(1), {
    idempotent: true,
  }),
} as const satisfies Record<string, EndpointSpec>;

/** Names of the endpoints in `ENDPOINTS`. */
export type EndpointName = keyof typeof ENDPOINTS;
