// The market's public REST endpoints (Binance USD-M paths, parameters, weights, error codes and bodies).
import { isIntervalName } from '../../ts/native/interval.js';
import {
  type Endpoint,
  type Json,
  MAX_OPEN_ALGO_ORDERS,
  MAX_OPEN_ORDERS,
  type Params,
  RATE_LIMITS,
  type RateLimitValues,
  SimRejection,
  type SymbolSpec,
} from '../contracts.js';
import { illegal, optionalInt, optionalString, requireString } from '../request-params.js';
import type { SymbolMarket } from './symbol-market.js';
import {
  bookTickerRow,
  depthBody,
  klineRow,
  premiumIndexRow,
  priceRow,
  ticker24hRow,
} from './symbol-views.js';
import { aggTrades } from './trade-query.js';

/** What the endpoints read from the market. */
export interface MarketRestSource {
  /** What exchangeInfo's `rateLimits` states (the server's limits). */
  readonly rateLimits: RateLimitValues;
  specs(): readonly SymbolSpec[];
  symbols(): readonly SymbolMarket[];
  symbol(name: string): SymbolMarket | undefined;
  /** Brings klines up to `now` (closing finished bars) before they are read: of `market`, or all. */
  advance(now: number, market?: SymbolMarket): void;
  /** Market time (the clock, or the newest trade of a replay running ahead of it). */
  now(): number;
}

const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000] as const;

/** -1121, as Binance answers an unknown symbol. */
export function invalidSymbol(): SimRejection {
  return new SimRejection(400, -1121, 'Invalid symbol.');
}

function limitParam(params: Params, fallback: number, max: number): number {
  return optionalInt(params, 'limit', 1, max) ?? fallback;
}

/** Weight of a parameter-dependent request, read leniently (a bad limit is refused by the handler). */
function lenientLimit(params: Params, fallback: number): number {
  const text = params.limit;
  const value = text === undefined ? Number.NaN : Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

function klinesWeight(params: Params): number {
  const limit = lenientLimit(params, 500);
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

function depthWeight(params: Params): number {
  const limit = lenientLimit(params, 500);
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/** Weight `one` with a symbol, `all` without. */
function bySymbol(one: number, all: number): (params: Params) => number {
  return (params) => (optionalString(params, 'symbol') === undefined ? all : one);
}

function exchangeSymbol(spec: SymbolSpec, onboardDate: number): Json {
  return {
    symbol: spec.symbol,
    pair: spec.symbol,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate,
    status: 'TRADING',
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    baseAsset: spec.baseAsset,
    quoteAsset: spec.quoteAsset,
    marginAsset: spec.quoteAsset,
    pricePrecision: spec.pricePrecision,
    quantityPrecision: spec.quantityPrecision,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    settlePlan: 0,
    triggerProtect: '0.0500',
    liquidationFee: '0.012500',
    marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: spec.minPrice.toString(),
        maxPrice: spec.maxPrice.toString(),
        tickSize: spec.tickSize.toString(),
      },
      {
        filterType: 'LOT_SIZE',
        stepSize: spec.stepSize.toString(),
        maxQty: spec.maxQty.toString(),
        minQty: spec.minQty.toString(),
      },
      {
        filterType: 'MARKET_LOT_SIZE',
        stepSize: spec.marketStepSize.toString(),
        maxQty: spec.marketMaxQty.toString(),
        minQty: spec.marketMinQty.toString(),
      },
      { filterType: 'MAX_NUM_ORDERS', limit: MAX_OPEN_ORDERS },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: MAX_OPEN_ALGO_ORDERS },
      { filterType: 'MIN_NOTIONAL', notional: spec.minNotional.toString() },
      {
        filterType: 'PERCENT_PRICE',
        multiplierUp: spec.multiplierUp.toFixed(4),
        multiplierDown: spec.multiplierDown.toFixed(4),
        multiplierDecimal: '4',
      },
    ],
    orderTypes: [
      'LIMIT',
      'MARKET',
      'STOP',
      'STOP_MARKET',
      'TAKE_PROFIT',
      'TAKE_PROFIT_MARKET',
      'TRAILING_STOP_MARKET',
    ],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
    permissionSet: ['GRID', 'COPY'],
  };
}

/** The `GET /fapi/v1/exchangeInfo` body; `onboardDate` is when each symbol's history begins. */
export function exchangeInfo(
  specs: readonly SymbolSpec[],
  now: number,
  onboardDate: (symbol: string) => number,
  limits: RateLimitValues = RATE_LIMITS,
): Json {
  return {
    timezone: 'UTC',
    serverTime: now,
    futuresType: 'U_MARGINED',
    rateLimits: [
      {
        rateLimitType: 'REQUEST_WEIGHT',
        interval: 'MINUTE',
        intervalNum: 1,
        limit: limits.requestWeightPerMinute,
      },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: limits.ordersPerMinute },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: limits.ordersPer10s },
    ],
    exchangeFilters: [],
    assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: specs.map((spec) => exchangeSymbol(spec, onboardDate(spec.symbol))),
  };
}

/** The market's REST endpoints, to be mounted by the server. */
export function marketEndpoints(source: MarketRestSource): Endpoint[] {
  const requireSymbol = (params: Params): SymbolMarket => {
    const market = source.symbol(requireString(params, 'symbol'));
    if (market === undefined) throw invalidSymbol();
    return market;
  };
  /** One row for `symbol`, or an array of all when it is absent. */
  const oneOrAll = (params: Params, row: (m: SymbolMarket) => Json): Json => {
    const name = optionalString(params, 'symbol');
    if (name === undefined) return source.symbols().map(row);
    const market = source.symbol(name);
    if (market === undefined) throw invalidSymbol();
    return row(market);
  };
  const klinesOf = (market: SymbolMarket, params: Params): Json => {
    const interval = requireString(params, 'interval');
    if (!isIntervalName(interval)) throw new SimRejection(400, -1120, 'Invalid interval.');
    const startTime = optionalInt(params, 'startTime');
    const endTime = optionalInt(params, 'endTime');
    const limit = limitParam(params, 500, 1500);
    const now = source.now();
    source.advance(now, market);
    return market.klines
      .bars(interval, now, { startTime, endTime, limit })
      .map(({ bar, closed }) => klineRow(market, bar, closed));
  };
  const get = (path: string, weight: (params: Params) => number, handle: Endpoint['handle']): Endpoint => ({
    method: 'GET',
    path,
    security: 'NONE',
    weight,
    countsAsOrder: false,
    handle,
  });

  return [
    get(
      '/fapi/v1/ping',
      () => 1,
      () => ({}),
    ),
    get(
      '/fapi/v1/time',
      () => 1,
      (ctx) => ({ serverTime: ctx.now }),
    ),
    get(
      '/fapi/v1/exchangeInfo',
      () => 1,
      (ctx) =>
        exchangeInfo(
          source.specs(),
          ctx.now,
          (symbol) => source.symbol(symbol)?.klines.firstTime ?? ctx.now,
          source.rateLimits,
        ),
    ),
    get('/fapi/v1/klines', klinesWeight, ({ params }) => klinesOf(requireSymbol(params), params)),
    // Only perpetual contracts are listed, so a perpetual pair's continuous klines are its klines.
    get('/fapi/v1/continuousKlines', klinesWeight, ({ params }) => {
      const contractType = requireString(params, 'contractType');
      if (contractType !== 'PERPETUAL') throw illegal('contractType', contractType);
      const market = source.symbol(requireString(params, 'pair'));
      if (market === undefined) throw new SimRejection(400, -1121, 'Invalid pair.');
      return klinesOf(market, params);
    }),
    get(
      '/fapi/v1/aggTrades',
      () => 20,
      ({ params }) => {
        const market = requireSymbol(params);
        const fromId = optionalInt(params, 'fromId');
        const startTime = optionalInt(params, 'startTime');
        const endTime = optionalInt(params, 'endTime');
        const limit = limitParam(params, 500, 1000);
        if (startTime !== undefined && endTime !== undefined && endTime - startTime >= 3600_000) {
          throw new SimRejection(400, -1127, 'More than 1 hours between startTime and endTime.');
        }
        return aggTrades(market, { fromId, startTime, endTime, limit });
      },
    ),
    get('/fapi/v1/depth', depthWeight, ({ params, now }) => {
      const market = requireSymbol(params);
      const text = optionalString(params, 'limit');
      const limit = text === undefined ? 500 : Number(text);
      if (!(DEPTH_LIMITS as readonly number[]).includes(limit)) throw illegal('limit', text ?? '');
      return depthBody(market, limit, now);
    }),
    get('/fapi/v1/ticker/bookTicker', bySymbol(2, 5), ({ params }) => oneOrAll(params, bookTickerRow)),
    get('/fapi/v1/ticker/24hr', bySymbol(1, 40), ({ params }) => {
      const now = source.now();
      const one = optionalString(params, 'symbol');
      source.advance(now, one === undefined ? undefined : source.symbol(one));
      return oneOrAll(params, (m) => ticker24hRow(m, now));
    }),
    // v1 is deprecated in favour of v2; both answer the same rows.
    get('/fapi/v1/ticker/price', bySymbol(1, 2), ({ params }) => oneOrAll(params, priceRow)),
    get('/fapi/v2/ticker/price', bySymbol(1, 2), ({ params }) => oneOrAll(params, priceRow)),
    get('/fapi/v1/premiumIndex', bySymbol(1, 10), ({ params }) => {
      const now = source.now();
      return oneOrAll(params, (m) => premiumIndexRow(m, now));
    }),
    // Binance charges no IP weight here; the call shares a separate 500 per 5 minutes limit with fundingInfo.
    get(
      '/fapi/v1/fundingRate',
      () => 0,
      ({ params }) => {
        const name = optionalString(params, 'symbol');
        const startTime = optionalInt(params, 'startTime');
        const endTime = optionalInt(params, 'endTime');
        const limit = limitParam(params, 100, 1000);
        let markets = source.symbols();
        if (name !== undefined) {
          const market = source.symbol(name);
          if (market === undefined) throw invalidSymbol();
          markets = [market];
        }
        // Without a start Binance returns the most recent records; with one, from the start.
        const fromEnd = startTime === undefined;
        const from = startTime ?? Number.NEGATIVE_INFINITY;
        const to = endTime ?? Number.POSITIVE_INFINITY;
        const rows: Array<{ symbol: string; time: number; rate: string; mark: string }> = [];
        for (const m of markets) {
          const scale = Math.max(8, m.spec.pricePrecision);
          const live = m.funding.history.filter((r) => r.fundingTime >= from && r.fundingTime <= to);
          const past = m.history.fundings(from, to, limit, fromEnd);
          for (const r of [...past, ...live]) {
            rows.push({
              symbol: m.spec.symbol,
              time: r.fundingTime,
              rate: r.fundingRate.toFixed(8),
              mark: r.markPrice.toFixed(scale),
            });
          }
        }
        rows.sort((x, y) => x.time - y.time || (x.symbol < y.symbol ? -1 : 1));
        const picked = fromEnd ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
        return picked.map((r) => ({
          symbol: r.symbol,
          fundingRate: r.rate,
          fundingTime: r.time,
          markPrice: r.mark,
        }));
      },
    ),
  ];
}
