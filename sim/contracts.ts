// The seams between the simulator's market, its exchange engine (accounts, matching) and its server.
//
// The server owns transport concerns (HTTP and websocket, API keys, signatures, recvWindow, weights
// and rate limits, fault injection, listen keys); the market owns prices, trades, klines, tickers and
// depth; the engine owns accounts, orders, matching, positions, PnL, fees, funding and income. Both
// the market and the engine describe their REST endpoints as `Endpoint` values that the server
// mounts, and hand websocket payloads to the server through listeners.
import type { Decimal } from '../ts/exact/decimal.js';

/** Request parameters: the query string and the form body merged (Binance accepts either). */
export type Params = Readonly<Record<string, string>>;

/** A JSON value as a handler returns it; the server serialises it unchanged. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/**
 * A refusal exactly as Binance sends it: the HTTP status and the `{ "code", "msg" }` body. Every
 * handler error a client can cause is one of these; anything else thrown is a simulator bug and the
 * server answers it with HTTP 500 / -1000 and logs it.
 */
export class SimRejection extends Error {
  override readonly name = 'SimRejection';
  constructor(
    readonly status: number,
    readonly code: number,
    msg: string,
  ) {
    super(msg);
  }
}

/**
 * Binance's security types: `NONE` is public; `MARKET_DATA` and `USER_STREAM` need `X-MBX-APIKEY`;
 * `USER_DATA` and `TRADE` also need `timestamp` + `signature` (checked by the server before
 * the handler runs).
 */
export type Security = 'NONE' | 'MARKET_DATA' | 'USER_STREAM' | 'USER_DATA' | 'TRADE';

/** What a handler receives. */
export interface RequestContext {
  /** All parameters, including `timestamp`, `recvWindow` and `signature` when present. */
  readonly params: Params;
  /** The account behind `X-MBX-APIKEY` (set for every security type except `NONE`). */
  readonly accountId: string | null;
  /** Server time of this request, Unix ms (the simulator clock). */
  readonly now: number;
}

/** One REST endpoint. */
export interface Endpoint {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Exact path, e.g. `/fapi/v1/order`. */
  readonly path: string;
  readonly security: Security;
  /** IP weight of a request (some depend on parameters, e.g. `klines` on `limit`). */
  weight(params: Params): number;
  /** Whether the request counts toward the order-rate limits (`X-MBX-ORDER-COUNT-10S/1M`). */
  readonly countsAsOrder: boolean;
  /** How much it counts on each window when not 1 and 1 (batch orders: 5 per 10 s, 1 per minute). */
  orderCount?(params: Params): { readonly tenSeconds: number; readonly minute: number };
  handle(ctx: RequestContext): Json;
  /**
   * Fields whose digit-string values the server writes as bare JSON numbers: ids Binance sends as
   * numbers too large for a double (income `tranId`s of 19 digits), which a JavaScript number
   * cannot carry through `Json`. In-process callers see the digits as strings.
   */
  readonly bareIntegers?: readonly string[];
}

/** The simulator's clock: wall-clock time plus an adjustable skew (to test -1021 handling). */
export interface SimClock {
  now(): number;
}

/** A contract the simulator lists, with its exchangeInfo filters. */
export interface SymbolSpec {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: 'USDT';
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  /** PRICE_FILTER */
  readonly tickSize: Decimal;
  readonly minPrice: Decimal;
  readonly maxPrice: Decimal;
  /** LOT_SIZE */
  readonly stepSize: Decimal;
  readonly minQty: Decimal;
  readonly maxQty: Decimal;
  /** MARKET_LOT_SIZE */
  readonly marketStepSize: Decimal;
  readonly marketMinQty: Decimal;
  readonly marketMaxQty: Decimal;
  /** MIN_NOTIONAL (`notional`) */
  readonly minNotional: Decimal;
  /** PERCENT_PRICE multipliers */
  readonly multiplierUp: Decimal;
  readonly multiplierDown: Decimal;
  /** Highest leverage of the first bracket, and its maintenance margin ratio. */
  readonly maxLeverage: number;
  readonly maintMarginRatio: Decimal;
  /** Where the random walk starts. */
  readonly initialPrice: Decimal;
}

/** One public trade on the simulator's tape. */
export interface MarketTrade {
  readonly symbol: string;
  readonly price: Decimal;
  readonly qty: Decimal;
  /** Exchange time, Unix ms. */
  readonly time: number;
  /** True when the buyer was the maker (the taker sold). */
  readonly buyerIsMaker: boolean;
}

/** A price level of the simulated order book. */
export interface BookLevel {
  readonly price: Decimal;
  readonly qty: Decimal;
}

/** The market as the engine sees it. All prices are on the symbol's tick grid. */
export interface MarketView {
  specs(): readonly SymbolSpec[];
  spec(symbol: string): SymbolSpec | undefined;
  /** The book's best `levels` levels each side, best first; the engine sweeps it for taker orders. */
  book(
    symbol: string,
    levels: number,
  ): { readonly bids: readonly BookLevel[]; readonly asks: readonly BookLevel[] };
  lastPrice(symbol: string): Decimal;
  markPrice(symbol: string): Decimal;
  /** The current funding rate (premium index), applied by the engine at each funding time. */
  fundingRate(symbol: string): Decimal;
  /**
   * Calls `listener` for every public trade the market makes (not for `recordTakerFill`); the
   * engine fills resting limit orders and triggers conditional orders from these. Returns an
   * unsubscribe function.
   */
  onTrade(listener: (trade: MarketTrade) => void): () => void;
  /** A user's taker fill, put on the public tape (aggTrades, klines, tickers) so every view agrees. */
  recordTakerFill(trade: MarketTrade): void;
  /**
   * An account's liquidation order, for the forceOrder streams (its fills went through
   * `recordTakerFill`). Optional: a market without public liquidation streams (the trader's
   * driven market in paper mode and backtests) leaves it out.
   */
  recordLiquidation?(report: LiquidationReport): void;
}

/** A liquidation order as the forceOrder streams report it. */
export interface LiquidationReport {
  readonly symbol: string;
  /** The order's side (SELL closes a long). */
  readonly side: 'BUY' | 'SELL';
  /** Its limit price (the bankruptcy price) and the average price it filled at. */
  readonly price: Decimal;
  readonly averagePrice: Decimal;
  /** Filled quantity. */
  readonly qty: Decimal;
  readonly time: number;
}

/** Where a market websocket stream is served: Binance's `/public` or `/market` routed path. */
export type StreamRoute = 'public' | 'market';

/**
 * A market stream payload: `stream` is Binance's stream name (`btcusdt@aggTrade`,
 * `btcusdt@kline_1m`, `btcusdt@bookTicker`, `btcusdt@markPrice`, `btcusdt@depth5`, `!bookTicker`,
 * `!markPrice@arr`, ...), `payload` the event object exactly as Binance sends it.
 */
export type MarketStreamListener = (route: StreamRoute, stream: string, payload: Json) => void;

/** A user-data event for one account (`ACCOUNT_UPDATE`, `ORDER_TRADE_UPDATE`, `ALGO_UPDATE`, ...). */
export type UserEventListener = (accountId: string, event: Json) => void;

/** Resolves an API key to its account and secret (implemented by the engine's account book). */
export interface AccountDirectory {
  credentials(apiKey: string): { readonly accountId: string; readonly secret: string } | undefined;
}

/** The limits exchangeInfo's `rateLimits` states and the server enforces. */
export interface RateLimitValues {
  /** IP weight per minute. */
  readonly requestWeightPerMinute: number;
  /** Orders per account per 10 s and per minute. */
  readonly ordersPer10s: number;
  readonly ordersPerMinute: number;
}

/** Binance's published limits, served in exchangeInfo `rateLimits` and enforced by the server. */
export const RATE_LIMITS = {
  /** IP weight per minute. */
  requestWeightPerMinute: 2400,
  /** Orders per account per 10 s and per minute. */
  ordersPer10s: 300,
  ordersPerMinute: 1200,
} as const;

/** Open orders allowed per account and symbol (exchangeInfo's MAX_NUM_ORDERS); the next is refused with -2025. */
export const MAX_OPEN_ORDERS = 200;

/** Open conditional orders allowed per account and symbol (exchangeInfo's MAX_NUM_ALGO_ORDERS); the next is refused with -4045. */
export const MAX_OPEN_ALGO_ORDERS = 10;
