// Binance JSON payloads into baseline records: JSON.parse, field checks and Number conversion.
import { barCloseTime, barOpenTime, isJsIntervalName, type JsIntervalName } from './interval.js';
import type { JsBalance, JsKline, JsPosition, JsPositionSide, JsTick } from './records.js';

type JsonObject = Record<string, unknown>;

/** A websocket `kline` event. */
export interface JsKlineEvent {
  symbol: string;
  interval: JsIntervalName;
  kline: JsKline;
}

/** A `bookTicker` event. */
export interface JsSymbolTick {
  symbol: string;
  tick: JsTick;
}

/** A position with its symbol. */
export interface JsSymbolPosition {
  symbol: string;
  position: JsPosition;
}

/** An `ACCOUNT_UPDATE`: every position and balance carries the transaction time `T`. */
export interface JsAccountUpdate {
  eventTime: number;
  transactionTime: number;
  /** Why the account changed (`m`), verbatim. */
  reason: string;
  balances: JsBalance[];
  positions: JsSymbolPosition[];
}

/** One aggregate trade (`aggTrade` event). */
export interface JsAggTrade {
  symbol: string;
  id: number;
  price: number;
  quantity: number;
  firstTradeId: number;
  lastTradeId: number;
  tradeTime: number;
  eventTime: number;
  /** `m`: the buyer was the maker, so the taker sold. */
  buyerIsMaker: boolean;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a websocket message and returns its event, unwrapping a combined-stream envelope. */
function parseEvent(text: string, kind: string): JsonObject {
  const parsed: unknown = JSON.parse(text);
  if (!isObject(parsed)) throw new Error(`${kind}: the message is not a JSON object`);
  const event = typeof parsed.stream === 'string' ? parsed.data : parsed;
  if (!isObject(event)) throw new Error(`${kind}: the envelope has no data object`);
  if (event.e !== kind) throw new Error(`${kind}: the event type is ${String(event.e)}`);
  return event;
}

function object(o: JsonObject, key: string, kind: string): JsonObject {
  const value = o[key];
  if (!isObject(value)) throw new Error(`${kind}: ${key} is not an object`);
  return value;
}

function list(o: JsonObject, key: string, kind: string): unknown[] {
  const value = o[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${kind}: ${key} is not an array`);
  return value;
}

function text(o: JsonObject, key: string, kind: string): string {
  const value = o[key];
  if (typeof value !== 'string' || value === '') throw new Error(`${kind}: ${key} is not a non-empty string`);
  return value;
}

function integer(o: JsonObject, key: string, kind: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new Error(`${kind}: ${key} is not an integer`);
  }
  return value;
}

function flag(o: JsonObject, key: string, kind: string): boolean {
  const value = o[key];
  if (typeof value !== 'boolean') throw new Error(`${kind}: ${key} is not a boolean`);
  return value;
}

/** A decimal string converted to the nearest double. */
function decimal(o: JsonObject, key: string, kind: string): number {
  return toNumber(o[key], key, kind);
}

/** A decimal string that may be absent, null or empty (not reported). */
function optionalDecimal(o: JsonObject, key: string, kind: string): number | null {
  const value = o[key];
  if (value === undefined || value === null || value === '') return null;
  return toNumber(value, key, kind);
}

function toNumber(value: unknown, field: string, kind: string): number {
  if (typeof value !== 'string' || value === '') throw new Error(`${kind}: ${field} is not a decimal string`);
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`${kind}: ${field} is not a decimal: ${value}`);
  return number;
}

function nonNegative(value: number, field: string, kind: string): number {
  if (value < 0) throw new Error(`${kind}: ${field} must not be negative`);
  return value;
}

const KLINE = 'kline';

/** Parses a websocket `kline` message (plain or combined-stream envelope). */
export function parseKlineMessage(message: string): JsKlineEvent {
  const event = parseEvent(message, KLINE);
  const symbol = text(event, 's', KLINE);
  const k = object(event, 'k', KLINE);
  if (k.s !== symbol) throw new Error(`${KLINE}: k.s differs from the event symbol ${symbol}`);
  const interval = text(k, 'i', KLINE);
  if (!isJsIntervalName(interval)) throw new Error(`${KLINE}: unknown interval ${interval}`);
  const openTime = integer(k, 't', KLINE);
  const closeTime = integer(k, 'T', KLINE);
  if (
    openTime < 0 ||
    barOpenTime(interval, openTime) !== openTime ||
    barCloseTime(interval, openTime) !== closeTime
  ) {
    throw new Error(`${KLINE}: ${openTime}..${closeTime} is not one ${interval} bar`);
  }
  let firstTradeId: number | null = integer(k, 'f', KLINE);
  let lastTradeId: number | null = integer(k, 'L', KLINE);
  // Binance sends -1 for both ids while the bar has no trade.
  if (firstTradeId === -1 && lastTradeId === -1) {
    firstTradeId = null;
    lastTradeId = null;
  } else if (firstTradeId < 0 || lastTradeId < firstTradeId) {
    throw new Error(`${KLINE}: trade ids ${firstTradeId}..${lastTradeId} are invalid`);
  }
  const kline: JsKline = {
    openTime,
    closeTime,
    open: decimal(k, 'o', KLINE),
    high: decimal(k, 'h', KLINE),
    low: decimal(k, 'l', KLINE),
    close: decimal(k, 'c', KLINE),
    volume: decimal(k, 'v', KLINE),
    quoteVolume: decimal(k, 'q', KLINE),
    trades: nonNegative(integer(k, 'n', KLINE), 'n', KLINE),
    takerBuyVolume: decimal(k, 'V', KLINE),
    takerBuyQuoteVolume: decimal(k, 'Q', KLINE),
    firstTradeId,
    lastTradeId,
    closed: flag(k, 'x', KLINE),
    asOf: integer(event, 'E', KLINE),
  };
  return { symbol, interval, kline };
}

const BOOK_TICKER = 'bookTicker';

/** Parses a websocket `bookTicker` message into a tick timed by its transaction time `T`. */
export function parseBookTickerMessage(message: string): JsSymbolTick {
  const event = parseEvent(message, BOOK_TICKER);
  return {
    symbol: text(event, 's', BOOK_TICKER),
    tick: {
      bid: decimal(event, 'b', BOOK_TICKER),
      bidQty: decimal(event, 'B', BOOK_TICKER),
      ask: decimal(event, 'a', BOOK_TICKER),
      askQty: decimal(event, 'A', BOOK_TICKER),
      last: null,
      time: integer(event, 'T', BOOK_TICKER),
      updateId: nonNegative(integer(event, 'u', BOOK_TICKER), 'u', BOOK_TICKER),
    },
  };
}

const ACCOUNT_UPDATE = 'ACCOUNT_UPDATE';

function positionSide(value: unknown): JsPositionSide {
  if (value === 'BOTH' || value === 'LONG' || value === 'SHORT') return value;
  throw new Error(`${ACCOUNT_UPDATE}: unknown position side ${String(value)}`);
}

/** Parses a user-data `ACCOUNT_UPDATE` message (plain or combined-stream envelope). */
export function parseAccountUpdate(message: string): JsAccountUpdate {
  const K = ACCOUNT_UPDATE;
  const event = parseEvent(message, K);
  // `E` arrives as a number, but some user-data events send it as a string.
  const eventTime = typeof event.E === 'string' ? Number(event.E) : integer(event, 'E', K);
  if (!Number.isSafeInteger(eventTime)) throw new Error(`${K}: E is not an integer`);
  const time = integer(event, 'T', K);
  const a = object(event, 'a', K);
  const balances = list(a, 'B', K).map((row): JsBalance => {
    if (!isObject(row)) throw new Error(`${K}: a.B holds a non-object`);
    return {
      asset: text(row, 'a', K),
      walletBalance: decimal(row, 'wb', K),
      crossWalletBalance: decimal(row, 'cw', K),
      availableBalance: null,
      unrealizedPnl: null,
      updateTime: time,
    };
  });
  const positions = list(a, 'P', K).map((row): JsSymbolPosition => {
    if (!isObject(row)) throw new Error(`${K}: a.P holds a non-object`);
    const breakEvenPrice = optionalDecimal(row, 'bep', K);
    return {
      symbol: text(row, 's', K),
      position: {
        side: positionSide(row.ps),
        amount: decimal(row, 'pa', K),
        entryPrice: nonNegative(decimal(row, 'ep', K), 'ep', K),
        breakEvenPrice: breakEvenPrice === null ? null : nonNegative(breakEvenPrice, 'bep', K),
        unrealizedPnl: decimal(row, 'up', K),
        markPrice: null,
        isolatedWallet: optionalDecimal(row, 'iw', K),
        updateTime: time,
      },
    };
  });
  return { eventTime, transactionTime: time, reason: text(a, 'm', K), balances, positions };
}

const REST_KLINES = 'klines';

/** Parses a `GET /fapi/v1/klines` body; bars closing before `serverTimeMs` are marked closed. */
export function parseRestKlines(body: string, serverTimeMs: number): JsKline[] {
  const rows: unknown = JSON.parse(body);
  if (!Array.isArray(rows)) throw new Error(`${REST_KLINES}: the body is not an array`);
  return rows.map((row: unknown): JsKline => {
    if (!Array.isArray(row) || row.length < 11) {
      throw new Error(`${REST_KLINES}: a row is not an array of 12 elements`);
    }
    const openTime: unknown = row[0];
    const closeTime: unknown = row[6];
    const trades: unknown = row[8];
    if (
      typeof openTime !== 'number' ||
      typeof closeTime !== 'number' ||
      typeof trades !== 'number' ||
      !Number.isSafeInteger(openTime) ||
      !Number.isSafeInteger(closeTime) ||
      !Number.isSafeInteger(trades) ||
      trades < 0
    ) {
      throw new Error(`${REST_KLINES}: a row has a non-integer time or trade count`);
    }
    return {
      openTime,
      closeTime,
      open: toNumber(row[1], 'open', REST_KLINES),
      high: toNumber(row[2], 'high', REST_KLINES),
      low: toNumber(row[3], 'low', REST_KLINES),
      close: toNumber(row[4], 'close', REST_KLINES),
      volume: toNumber(row[5], 'volume', REST_KLINES),
      quoteVolume: toNumber(row[7], 'quote volume', REST_KLINES),
      trades,
      takerBuyVolume: toNumber(row[9], 'taker buy volume', REST_KLINES),
      takerBuyQuoteVolume: toNumber(row[10], 'taker buy quote volume', REST_KLINES),
      firstTradeId: null,
      lastTradeId: null,
      closed: closeTime < serverTimeMs,
      asOf: 0,
    };
  });
}

const AGG_TRADE = 'aggTrade';

/** Parses a websocket `aggTrade` message: positive price and quantity, ids with `l >= f >= 0`. */
export function parseAggTradeMessage(message: string): JsAggTrade {
  const event = parseEvent(message, AGG_TRADE);
  const price = decimal(event, 'p', AGG_TRADE);
  const quantity = decimal(event, 'q', AGG_TRADE);
  if (!(price > 0 && quantity > 0)) throw new Error(`${AGG_TRADE}: price and quantity must be positive`);
  const id = integer(event, 'a', AGG_TRADE);
  const firstTradeId = integer(event, 'f', AGG_TRADE);
  const lastTradeId = integer(event, 'l', AGG_TRADE);
  if (id < 0 || firstTradeId < 0 || lastTradeId < firstTradeId) {
    throw new Error(`${AGG_TRADE}: ids a=${id} f=${firstTradeId} l=${lastTradeId} are invalid`);
  }
  return {
    symbol: text(event, 's', AGG_TRADE),
    id,
    price,
    quantity,
    firstTradeId,
    lastTradeId,
    tradeTime: integer(event, 'T', AGG_TRADE),
    eventTime: integer(event, 'E', AGG_TRADE),
    buyerIsMaker: flag(event, 'm', AGG_TRADE),
  };
}
