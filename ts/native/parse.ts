// Typed facade over the native Binance payload parsers: bytes in, exact records out.
import type {
  AccountObject,
  AggTradeObject,
  ExchangeInfoObject,
  KlineEventObject,
  KlineObject,
  MarketEventObject,
  MarkPriceObject,
  ParseFailure,
  RateLimitObject,
  SymbolInfoObject,
  SymbolPositionObject,
  SymbolTickObject,
  UserEventObject,
} from '../../bindings/index.cjs';
import { binding } from './binding.js';
import { callNative } from './native-error.js';

export type {
  AccountObject,
  AggTradeObject,
  ExchangeInfoObject,
  KlineEventObject,
  KlineObject,
  MarkPriceObject,
  ParseFailure,
  RateLimitObject,
  SymbolInfoObject,
  SymbolPositionObject,
  SymbolTickObject,
  UserEventObject,
};

/** A parsed websocket market event. */
export type MarketEvent =
  | { kind: 'aggTrade'; aggTrade: AggTradeObject }
  | { kind: 'kline'; kline: KlineEventObject }
  | { kind: 'bookTicker'; bookTicker: SymbolTickObject }
  | { kind: 'markPrice'; markPrice: MarkPriceObject };

function toMarketEvent(o: MarketEventObject): MarketEvent {
  if (o.kind === 'aggTrade' && o.aggTrade) return { kind: o.kind, aggTrade: o.aggTrade };
  if (o.kind === 'kline' && o.kline) return { kind: o.kind, kline: o.kline };
  if (o.kind === 'bookTicker' && o.bookTicker) return { kind: o.kind, bookTicker: o.bookTicker };
  if (o.kind === 'markPrice' && o.markPrice) return { kind: o.kind, markPrice: o.markPrice };
  throw new Error(`native parser returned an inconsistent ${o.kind} event`);
}

/**
 * Parses one websocket market message (plain event or combined-stream envelope). Malformed input
 * throws a `NativeError` whose code is the reason (`truncated`, `malformed`, `schema`,
 * `invalid_decimal`, `unsupported_event`, ...).
 */
export function parseMarketEvent(message: Uint8Array): MarketEvent {
  return toMarketEvent(callNative(() => binding.parseMarketEvent(message)));
}

/** Parses many messages in one native call; failures are returned beside the events. */
export function parseMarketEvents(messages: Buffer[]): { events: MarketEvent[]; failures: ParseFailure[] } {
  const batch = binding.parseMarketEvents(messages);
  return { events: batch.events.map(toMarketEvent), failures: batch.failures };
}

/** Bars of a `GET /fapi/v1/klines` body; those closing before `serverTimeMs` are marked closed. */
export function parseRestKlines(body: Uint8Array, serverTimeMs: number): KlineObject[] {
  return callNative(() => binding.parseRestKlines(body, serverTimeMs));
}

/** Ticks of a `GET /fapi/v1/ticker/bookTicker` body (one object or an array). */
export function parseRestBookTickers(body: Uint8Array): SymbolTickObject[] {
  return callNative(() => binding.parseRestBookTickers(body));
}

/** Positions and balances of a `GET /fapi/v3/account` (or v2) body. */
export function parseAccount(body: Uint8Array): AccountObject {
  return callNative(() => binding.parseAccount(body));
}

/** Positions of a `GET /fapi/v3/positionRisk` (or v2) body. */
export function parsePositionRisk(body: Uint8Array): SymbolPositionObject[] {
  return callNative(() => binding.parsePositionRisk(body));
}

/** One user-data stream message (`ACCOUNT_UPDATE`, `ORDER_TRADE_UPDATE`, `ALGO_UPDATE`, ...). */
export function parseUserEvent(message: Uint8Array): UserEventObject {
  return callNative(() => binding.parseUserEvent(message));
}

/**
 * Rate limits and every contract of a `GET /fapi/v1/exchangeInfo` body, filters as exact strings;
 * `tradable` marks the universe (trading, perpetual, USDT-quoted, not index-like).
 */
export function parseExchangeInfo(body: Uint8Array): ExchangeInfoObject {
  return callNative(() => binding.parseExchangeInfo(body));
}
