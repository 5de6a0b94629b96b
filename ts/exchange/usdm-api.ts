// Typed Binance USD-M REST methods: raw bytes for market data and account polls, checked records for orders.
import type { Decimal } from '../exact/decimal.js';
import { Logger } from '../log/logger.js';
import { ClientOrderIdGenerator, checkClientOrderId } from './client-order-id.js';
import { ENDPOINTS, type EndpointSpec } from './endpoints.js';
import {
  BinanceCode,
  hasBinanceCode,
  InvalidRequestError,
  MalformedResponseError,
} from './exchange-errors.js';
import { parseJson, ShapeError } from './json-shape.js';
import type { RequestParams } from './request-signer.js';
import type { RawResponse, RequestOptions, RestClient } from './rest-client.js';
import {
  type AlgoCancelRecord,
  type AlgoOrderRecord,
  type CodeMessage,
  type CommissionRateRecord,
  decodeAlgoCancel,
  decodeAlgoOrder,
  decodeAlgoOrders,
  decodeCodeMessage,
  decodeCommissionRate,
  decodeLeverage,
  decodeListenKey,
  decodeOrder,
  decodeOrders,
  decodePositionMode,
  decodeServerTime,
  decodeTrades,
  type LeverageRecord,
  type OrderRecord,
  type OrderSide,
  type PositionSide,
  type TradeRecord,
} from './usdm-decoders.js';
import type { ListenKeyApi } from './user-data-stream.js';

export type { ListenKeyApi };

/** Kline intervals Binance serves. */
export type KlineInterval =
  | '1m'
  | '3m'
  | '5m'
  | '15m'
  | '30m'
  | '1h'
  | '2h'
  | '4h'
  | '6h'
  | '8h'
  | '12h'
  | '1d'
  | '3d'
  | '1w'
  | '1M';

export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';
export type WorkingType = 'MARK_PRICE' | 'CONTRACT_PRICE';
export type SelfTradePreventionMode = 'NONE' | 'EXPIRE_TAKER' | 'EXPIRE_MAKER' | 'EXPIRE_BOTH';

/** A time/limit window shared by the history endpoints. */
export interface HistoryWindow {
  readonly startTime?: number;
  readonly endTime?: number;
  readonly limit?: number;
}

/** `POST /fapi/v1/order` — only LIMIT and MARKET: conditional types go through `newAlgoOrder`. */
export interface NewOrderParams {
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: 'LIMIT' | 'MARKET';
  readonly quantity: Decimal;
  /** Required for LIMIT (unless `priceMatch`). */
  readonly price?: Decimal;
  /** Required for LIMIT; GTX is post-only. */
  readonly timeInForce?: TimeInForce;
  /** Default BOTH (one-way mode). */
  readonly positionSide?: PositionSide;
  readonly reduceOnly?: boolean;
  /** Generated when absent; every resend of this order carries the same id. */
  readonly newClientOrderId?: string;
  readonly priceMatch?: string;
  readonly selfTradePreventionMode?: SelfTradePreventionMode;
  /** For GTD. */
  readonly goodTillDate?: number;
  /** Default ACK. */
  readonly newOrderRespType?: 'ACK' | 'RESULT';
}

/** Names an existing order: by exchange id or by client id. */
export type OrderRef =
  | { readonly symbol: string; readonly orderId: number; readonly origClientOrderId?: undefined }
  | { readonly symbol: string; readonly origClientOrderId: string; readonly orderId?: undefined };

/** `POST /fapi/v1/algoOrder` (algoType CONDITIONAL), the only way to place stop / take-profit orders since 2025-12-09. */
export interface NewAlgoOrderParams {
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: 'STOP' | 'STOP_MARKET' | 'TAKE_PROFIT' | 'TAKE_PROFIT_MARKET' | 'TRAILING_STOP_MARKET';
  /** Absent with `closePosition`. */
  readonly quantity?: Decimal;
  /** For STOP / TAKE_PROFIT (limit after trigger). */
  readonly price?: Decimal;
  readonly triggerPrice?: Decimal;
  readonly positionSide?: PositionSide;
  readonly timeInForce?: TimeInForce;
  readonly workingType?: WorkingType;
  readonly reduceOnly?: boolean;
  readonly closePosition?: boolean;
  readonly priceProtect?: boolean;
  /** TRAILING_STOP_MARKET */
  readonly activatePrice?: Decimal;
  readonly callbackRate?: Decimal;
  /** Generated when absent; every resend carries the same id. */
  readonly clientAlgoId?: string;
  readonly selfTradePreventionMode?: SelfTradePreventionMode;
  readonly goodTillDate?: number;
}

/** Names an existing algo order. */
export type AlgoOrderRef =
  | { readonly algoId: number; readonly clientAlgoId?: undefined }
  | { readonly clientAlgoId: string; readonly algoId?: undefined };

/** Options of a `UsdmApi`. */
export interface UsdmApiOptions {
  /** Prefix of generated client order ids (default `tb`). */
  readonly clientOrderIdPrefix?: string;
  readonly logger?: Logger;
}

function requireSymbol(symbol: string): string {
  if (!/^[A-Z0-9_]{1,32}$/.test(symbol))
    throw new InvalidRequestError('symbol', `${JSON.stringify(symbol)} is not a symbol`);
  return symbol;
}

function positive(value: Decimal, parameter: string): string {
  if (value.sign() <= 0)
    throw new InvalidRequestError(parameter, `must be positive, got ${value.toString()}`);
  return value.toString();
}

function optionalInt(value: number | undefined, parameter: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidRequestError(parameter, `must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function windowParams(window: HistoryWindow = {}): RequestParams {
  return {
    startTime: optionalInt(window.startTime, 'startTime'),
    endTime: optionalInt(window.endTime, 'endTime'),
    limit: optionalInt(window.limit, 'limit', 1),
  };
}

function orderRefParams(ref: OrderRef): RequestParams {
  if (ref.orderId !== undefined)
    return { symbol: requireSymbol(ref.symbol), orderId: optionalInt(ref.orderId, 'orderId') };
  return {
    symbol: requireSymbol(ref.symbol),
    origClientOrderId: checkClientOrderId(ref.origClientOrderId, 'origClientOrderId'),
  };
}

function algoRefParams(ref: AlgoOrderRef): RequestParams {
  if (ref.algoId !== undefined) return { algoId: optionalInt(ref.algoId, 'algoId') };
  return { clientAlgoId: checkClientOrderId(ref.clientAlgoId, 'clientAlgoId') };
}

/**
 * The USD-M REST API Tributary uses, over one `RestClient` (and so one weight budget).
 *
 * Market data and account polls return `RawResponse` (body bytes for the native parsers);
 * order, trade and settings calls return decoded records. Every order call is sent once: order
 * placement always sets a client order id, so that an outcome the exchange left unknown (HTTP 5xx
 * such as 503 "Unknown error", -1006/-1007, a timeout after sending; `isOutcomeUnknown`) can be
 * resolved by querying that id. Resolving it is execution policy and lives with the trader
 * (`trader/execution/order-sender.ts`), not here.
 */
export class UsdmApi implements ListenKeyApi {
  readonly rest: RestClient;
  readonly #ids: ClientOrderIdGenerator;
  readonly #log: Logger;

  constructor(rest: RestClient, options: UsdmApiOptions = {}) {
    this.rest = rest;
    this.#ids = new ClientOrderIdGenerator(options.clientOrderIdPrefix ?? 'tb');
    this.#log = options.logger ?? new Logger('exchange.usdm');
  }

  /** A fresh client order id (for callers that record the id before placing). */
  nextClientOrderId(prefix?: string): string {
    return this.#ids.next(prefix);
  }

  // ---- market data: raw bytes --------------------------------------------------------------

  /** GET /fapi/v1/exchangeInfo (weight 1). */
  async exchangeInfo(): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.exchangeInfo);
  }

  /** GET /fapi/v1/klines (weight 1–10 by `limit`); for `parseRestKlines` / `IngestEncoder.pushRestKlines`. */
  async klines(
    params: { symbol: string; interval: KlineInterval } & HistoryWindow,
    options: RequestOptions = {},
  ): Promise<RawResponse> {
    return this.rest.request(
      ENDPOINTS.klines,
      {
        symbol: requireSymbol(params.symbol),
        interval: params.interval,
        ...windowParams(params),
      },
      options,
    );
  }

  /** GET /fapi/v1/aggTrades (weight 20). */
  async aggTrades(params: { symbol: string; fromId?: number } & HistoryWindow): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.aggTrades, {
      symbol: requireSymbol(params.symbol),
      fromId: optionalInt(params.fromId, 'fromId'),
      ...windowParams(params),
    });
  }

  /** GET /fapi/v1/depth (weight 2–20 by `limit`). */
  async depth(params: { symbol: string; limit?: 5 | 10 | 20 | 50 | 100 | 500 | 1000 }): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.depth, { symbol: requireSymbol(params.symbol), limit: params.limit });
  }

  /** GET /fapi/v1/ticker/bookTicker (weight 2, or 5 for all symbols); for `parseRestBookTickers`. */
  async bookTicker(params: { symbol?: string } = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.bookTicker, { symbol: this.#optSymbol(params.symbol) });
  }

  /** GET /fapi/v2/ticker/price (weight 1, or 2 for all symbols): latest traded prices, for `pushRestPriceTickers`. */
  async tickerPrice(params: { symbol?: string } = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.tickerPrice, { symbol: this.#optSymbol(params.symbol) });
  }

  /** GET /fapi/v1/ticker/24hr (weight 1, or 40 for all symbols). */
  async ticker24h(params: { symbol?: string } = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.ticker24h, { symbol: this.#optSymbol(params.symbol) });
  }

  /** GET /fapi/v1/premiumIndex: mark price, index price, funding rate (weight 1, or 10 for all). */
  async premiumIndex(params: { symbol?: string } = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.premiumIndex, { symbol: this.#optSymbol(params.symbol) });
  }

  /** GET /fapi/v1/fundingRate: funding rate history. */
  async fundingRateHistory(params: { symbol?: string } & HistoryWindow = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.fundingRate, {
      symbol: this.#optSymbol(params.symbol),
      ...windowParams(params),
    });
  }

  /** GET /fapi/v1/time: the exchange's time, Unix ms. */
  async serverTime(): Promise<number> {
    return this.#decode(ENDPOINTS.time, await this.rest.request(ENDPOINTS.time), decodeServerTime);
  }

  // ---- account polls: raw bytes ------------------------------------------------------------

  /** GET /fapi/v3/account (weight 5); for `parseAccount` / `IngestEncoder.pushAccount`. */
  async accountV3(): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.accountV3);
  }

  /** GET /fapi/v2/account (weight 5). */
  async accountV2(): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.accountV2);
  }

  /** GET /fapi/v3/balance (weight 5). */
  async balanceV3(): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.balanceV3);
  }

  /** GET /fapi/v2/balance (weight 5). */
  async balanceV2(): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.balanceV2);
  }

  /** GET /fapi/v3/positionRisk (weight 5); for `parsePositionRisk`. */
  async positionRiskV3(params: { symbol?: string } = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.positionRiskV3, { symbol: this.#optSymbol(params.symbol) });
  }

  /** GET /fapi/v2/positionRisk (weight 5). */
  async positionRiskV2(params: { symbol?: string } = {}): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.positionRiskV2, { symbol: this.#optSymbol(params.symbol) });
  }

  /** GET /fapi/v1/income (weight 30); decode with `decodeIncomes(parseJson(body))`. */
  async income(
    params: { symbol?: string; incomeType?: string; page?: number } & HistoryWindow = {},
  ): Promise<RawResponse> {
    return this.rest.request(ENDPOINTS.income, {
      symbol: this.#optSymbol(params.symbol),
      incomeType: params.incomeType,
      ...windowParams(params),
      page: optionalInt(params.page, 'page', 1),
    });
  }

  // ---- orders: decoded ---------------------------------------------------------------------

  /**
   * POST /fapi/v1/order, sent once with a client order id (generated when absent). An error for
   * which `isOutcomeUnknown` holds means the order may exist: query it by that id.
   */
  async newOrder(params: NewOrderParams): Promise<OrderRecord> {
    const type: string = params.type;
    if (type !== 'LIMIT' && type !== 'MARKET') {
      throw new InvalidRequestError('type', `${type} goes through newAlgoOrder (POST /fapi/v1/algoOrder)`);
    }
    if (type === 'LIMIT' && params.price === undefined && params.priceMatch === undefined) {
      throw new InvalidRequestError('price', 'is required for LIMIT orders');
    }
    if (type === 'LIMIT' && params.timeInForce === undefined) {
      throw new InvalidRequestError('timeInForce', 'is required for LIMIT orders');
    }
    const symbol = requireSymbol(params.symbol);
    const clientOrderId = checkClientOrderId(params.newClientOrderId ?? this.#ids.next());
    const request: RequestParams = {
      symbol,
      side: params.side,
      positionSide: params.positionSide,
      type,
      timeInForce: params.timeInForce,
      quantity: positive(params.quantity, 'quantity'),
      price: params.price === undefined ? undefined : positive(params.price, 'price'),
      reduceOnly: params.reduceOnly === undefined ? undefined : String(params.reduceOnly),
      newClientOrderId: clientOrderId,
      priceMatch: params.priceMatch,
      selfTradePreventionMode: params.selfTradePreventionMode,
      goodTillDate: optionalInt(params.goodTillDate, 'goodTillDate'),
      newOrderRespType: params.newOrderRespType,
    };
    return this.#decode(
      ENDPOINTS.newOrder,
      await this.rest.request(ENDPOINTS.newOrder, request),
      decodeOrder,
    );
  }

  /** GET /fapi/v1/order (weight 1). A missing order is `BinanceApiError` code -2013. */
  async queryOrder(ref: OrderRef): Promise<OrderRecord> {
    const response = await this.rest.request(ENDPOINTS.queryOrder, orderRefParams(ref));
    return this.#decode(ENDPOINTS.queryOrder, response, decodeOrder);
  }

  /** DELETE /fapi/v1/order (weight 1), sent once. */
  async cancelOrder(ref: OrderRef): Promise<OrderRecord> {
    const response = await this.rest.request(ENDPOINTS.cancelOrder, orderRefParams(ref));
    return this.#decode(ENDPOINTS.cancelOrder, response, decodeOrder);
  }

  /** DELETE /fapi/v1/allOpenOrders (weight 1): cancels every open order of `symbol`. */
  async cancelAllOrders(symbol: string): Promise<CodeMessage> {
    const response = await this.rest.request(ENDPOINTS.cancelAllOrders, { symbol: requireSymbol(symbol) });
    return this.#decode(ENDPOINTS.cancelAllOrders, response, decodeCodeMessage);
  }

  /** GET /fapi/v1/openOrders (weight 1, or 40 for all symbols). */
  async openOrders(params: { symbol?: string } = {}): Promise<OrderRecord[]> {
    const response = await this.rest.request(ENDPOINTS.openOrders, {
      symbol: this.#optSymbol(params.symbol),
    });
    return this.#decode(ENDPOINTS.openOrders, response, decodeOrders);
  }

  /** GET /fapi/v1/allOrders (weight 5). */
  async allOrders(
    params: { symbol: string; orderId?: number } & HistoryWindow,
    options: RequestOptions = {},
  ): Promise<OrderRecord[]> {
    const response = await this.rest.request(
      ENDPOINTS.allOrders,
      {
        symbol: requireSymbol(params.symbol),
        orderId: optionalInt(params.orderId, 'orderId'),
        ...windowParams(params),
      },
      options,
    );
    return this.#decode(ENDPOINTS.allOrders, response, decodeOrders);
  }

  /** GET /fapi/v1/userTrades (weight 5). */
  async userTrades(
    params: { symbol: string; orderId?: number; fromId?: number } & HistoryWindow,
  ): Promise<TradeRecord[]> {
    const response = await this.rest.request(ENDPOINTS.userTrades, {
      symbol: requireSymbol(params.symbol),
      orderId: optionalInt(params.orderId, 'orderId'),
      fromId: optionalInt(params.fromId, 'fromId'),
      ...windowParams(params),
    });
    return this.#decode(ENDPOINTS.userTrades, response, decodeTrades);
  }

  // ---- algo (conditional) orders -------------------------------------------------------------

  /**
   * POST /fapi/v1/algoOrder (algoType CONDITIONAL), sent once with a client algo id (generated
   * when absent); an unknown outcome is resolved by querying that id, as for `newOrder`.
   */
  async newAlgoOrder(params: NewAlgoOrderParams): Promise<AlgoOrderRecord> {
    const symbol = requireSymbol(params.symbol);
    if (params.closePosition === true && params.quantity !== undefined) {
      throw new InvalidRequestError('quantity', 'cannot be sent with closePosition=true');
    }
    if (params.closePosition !== true && params.quantity === undefined) {
      throw new InvalidRequestError('quantity', 'is required unless closePosition=true');
    }
    if (params.type !== 'TRAILING_STOP_MARKET' && params.triggerPrice === undefined) {
      throw new InvalidRequestError('triggerPrice', `is required for ${params.type}`);
    }
    const clientAlgoId = checkClientOrderId(params.clientAlgoId ?? this.#ids.next(), 'clientAlgoId');
    const bool = (value: boolean | undefined): string | undefined =>
      value === undefined ? undefined : String(value);
    const request: RequestParams = {
      algoType: 'CONDITIONAL',
      symbol,
      side: params.side,
      positionSide: params.positionSide,
      type: params.type,
      timeInForce: params.timeInForce,
      quantity: params.quantity === undefined ? undefined : positive(params.quantity, 'quantity'),
      price: params.price === undefined ? undefined : positive(params.price, 'price'),
      triggerPrice:
        params.triggerPrice === undefined ? undefined : positive(params.triggerPrice, 'triggerPrice'),
      workingType: params.workingType,
      reduceOnly: bool(params.reduceOnly),
      closePosition: bool(params.closePosition),
      priceProtect: bool(params.priceProtect),
      activatePrice:
        params.activatePrice === undefined ? undefined : positive(params.activatePrice, 'activatePrice'),
      callbackRate:
        params.callbackRate === undefined ? undefined : positive(params.callbackRate, 'callbackRate'),
      clientAlgoId,
      selfTradePreventionMode: params.selfTradePreventionMode,
      goodTillDate: optionalInt(params.goodTillDate, 'goodTillDate'),
    };
    const response = await this.rest.request(ENDPOINTS.newAlgoOrder, request);
    return this.#decode(ENDPOINTS.newAlgoOrder, response, decodeAlgoOrder);
  }

  /** GET /fapi/v1/algoOrder (weight 1). */
  async queryAlgoOrder(ref: AlgoOrderRef): Promise<AlgoOrderRecord> {
    const response = await this.rest.request(ENDPOINTS.queryAlgoOrder, algoRefParams(ref));
    return this.#decode(ENDPOINTS.queryAlgoOrder, response, decodeAlgoOrder);
  }

  /** DELETE /fapi/v1/algoOrder (weight 1), sent once. */
  async cancelAlgoOrder(ref: AlgoOrderRef): Promise<AlgoCancelRecord> {
    const response = await this.rest.request(ENDPOINTS.cancelAlgoOrder, algoRefParams(ref));
    return this.#decode(ENDPOINTS.cancelAlgoOrder, response, decodeAlgoCancel);
  }

  /** DELETE /fapi/v1/algoOpenOrders (weight 1): cancels every open algo order of `symbol`. */
  async cancelAllAlgoOrders(symbol: string): Promise<CodeMessage> {
    const response = await this.rest.request(ENDPOINTS.cancelAllAlgoOrders, {
      symbol: requireSymbol(symbol),
    });
    return this.#decode(ENDPOINTS.cancelAllAlgoOrders, response, decodeCodeMessage);
  }

  /** GET /fapi/v1/openAlgoOrders (weight 1, or 40 for all symbols). */
  async openAlgoOrders(params: { symbol?: string } = {}): Promise<AlgoOrderRecord[]> {
    const response = await this.rest.request(ENDPOINTS.openAlgoOrders, {
      symbol: this.#optSymbol(params.symbol),
    });
    return this.#decode(ENDPOINTS.openAlgoOrders, response, decodeAlgoOrders);
  }

  /** GET /fapi/v1/allAlgoOrders (weight 5). */
  async allAlgoOrders(
    params: { symbol: string; algoId?: number; page?: number } & HistoryWindow,
  ): Promise<AlgoOrderRecord[]> {
    const response = await this.rest.request(ENDPOINTS.allAlgoOrders, {
      symbol: requireSymbol(params.symbol),
      algoId: optionalInt(params.algoId, 'algoId'),
      ...windowParams(params),
      page: optionalInt(params.page, 'page', 1),
    });
    return this.#decode(ENDPOINTS.allAlgoOrders, response, decodeAlgoOrders);
  }

  // ---- contract settings -------------------------------------------------------------------

  /** POST /fapi/v1/leverage (weight 1). */
  async setLeverage(symbol: string, leverage: number): Promise<LeverageRecord> {
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      throw new InvalidRequestError('leverage', `must be an integer 1..125, got ${leverage}`);
    }
    const response = await this.rest.request(ENDPOINTS.leverage, { symbol: requireSymbol(symbol), leverage });
    return this.#decode(ENDPOINTS.leverage, response, decodeLeverage);
  }

  /** POST /fapi/v1/marginType (weight 1); `changed` is false when it already was (-4046). */
  async setMarginType(symbol: string, marginType: 'ISOLATED' | 'CROSSED'): Promise<{ changed: boolean }> {
    try {
      const response = await this.rest.request(
        ENDPOINTS.marginType,
        { symbol: requireSymbol(symbol), marginType },
        { expectedCodes: [BinanceCode.NO_NEED_TO_CHANGE_MARGIN_TYPE] },
      );
      this.#decode(ENDPOINTS.marginType, response, decodeCodeMessage);
      return { changed: true };
    } catch (error) {
      if (hasBinanceCode(error, BinanceCode.NO_NEED_TO_CHANGE_MARGIN_TYPE)) return { changed: false };
      throw error;
    }
  }

  /** GET /fapi/v1/positionSide/dual (weight 30): true in hedge mode. */
  async getPositionMode(): Promise<boolean> {
    const response = await this.rest.request(ENDPOINTS.getPositionMode);
    return this.#decode(ENDPOINTS.getPositionMode, response, decodePositionMode);
  }

  /** POST /fapi/v1/positionSide/dual (weight 1); `changed` is false when it already was (-4059). */
  async setPositionMode(dualSidePosition: boolean): Promise<{ changed: boolean }> {
    try {
      const response = await this.rest.request(
        ENDPOINTS.setPositionMode,
        { dualSidePosition: String(dualSidePosition) },
        { expectedCodes: [BinanceCode.NO_NEED_TO_CHANGE_POSITION_SIDE] },
      );
      this.#decode(ENDPOINTS.setPositionMode, response, decodeCodeMessage);
      return { changed: true };
    } catch (error) {
      if (hasBinanceCode(error, BinanceCode.NO_NEED_TO_CHANGE_POSITION_SIDE)) return { changed: false };
      throw error;
    }
  }

  /** GET /fapi/v1/commissionRate (weight 20). */
  async commissionRate(symbol: string): Promise<CommissionRateRecord> {
    const response = await this.rest.request(ENDPOINTS.commissionRate, { symbol: requireSymbol(symbol) });
    return this.#decode(ENDPOINTS.commissionRate, response, decodeCommissionRate);
  }

  // ---- user data stream ----------------------------------------------------------------------

  /** POST /fapi/v1/listenKey: the account's listen key (the active one if it exists). */
  async createListenKey(): Promise<string> {
    const response = await this.rest.request(ENDPOINTS.createListenKey);
    return this.#decode(ENDPOINTS.createListenKey, response, decodeListenKey);
  }

  /** PUT /fapi/v1/listenKey: extends the key's validity by 60 minutes. */
  async keepAliveListenKey(key: string): Promise<void> {
    await this.rest.request(ENDPOINTS.keepAliveListenKey, { listenKey: this.#listenKey(key) });
  }

  /** DELETE /fapi/v1/listenKey: closes the user data stream. */
  async closeListenKey(key: string): Promise<void> {
    await this.rest.request(ENDPOINTS.closeListenKey, { listenKey: this.#listenKey(key) });
  }

  // ---- internals -----------------------------------------------------------------------------

  #listenKey(key: string): string {
    if (!/^[A-Za-z0-9]{1,128}$/.test(key)) throw new InvalidRequestError('listenKey', 'is not a listen key');
    return key;
  }

  #optSymbol(symbol: string | undefined): string | undefined {
    return symbol === undefined ? undefined : requireSymbol(symbol);
  }

  #decode<T>(endpoint: EndpointSpec, response: RawResponse, decode: (value: unknown) => T): T {
    try {
      return decode(parseJson(response.body));
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      const snippet = response.body.subarray(0, 200).toString('utf8');
      this.#log.error('malformed response', {
        method: endpoint.method,
        path: endpoint.path,
        problem: error.message,
      });
      throw new MalformedResponseError(endpoint.method, endpoint.path, error.message, snippet);
    }
  }
}
