// Records of the pure-TypeScript baselines: the native core's records with numbers for decimals.
import type { PositionSide } from '../../ts/native/book-layout.js';
import type { JsIntervalName } from './interval.js';

/** A kline with Binance's fields; decimals are the nearest doubles of the exchange's strings. */
export interface JsKline {
  openTime: number;
  /** The last millisecond inside the bar. */
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  /** Underlying trade count (`n`). */
  trades: number;
  takerBuyVolume: number;
  takerBuyQuoteVolume: number;
  /** `f` / `L`; null where the source has none (REST rows, a bar without trades). */
  firstTradeId: number | null;
  lastTradeId: number | null;
  /** `x`: the bar is final. */
  closed: boolean;
  /** Exchange time of the newest information in the bar; 0 when unknown (REST). */
  asOf: number;
}

/** Top of book with the exchange time it describes. */
export interface JsTick {
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
  /** Last trade price where the source carries one. */
  last: number | null;
  time: number;
  /** Book update id (`u`) where the source carries one. */
  updateId: number | null;
}

/** `BOTH` in one-way mode, `LONG` / `SHORT` in hedge mode (the native core's list). */
export type JsPositionSide = PositionSide;

/** One position; null where the source does not report a field. */
export interface JsPosition {
  side: JsPositionSide;
  /** Signed size in contracts. */
  amount: number;
  entryPrice: number | null;
  breakEvenPrice: number | null;
  unrealizedPnl: number | null;
  markPrice: number | null;
  isolatedWallet: number | null;
  updateTime: number;
}

/** One margin asset's balance; null where the source does not report a field. */
export interface JsBalance {
  asset: string;
  walletBalance: number;
  crossWalletBalance: number | null;
  availableBalance: number | null;
  unrealizedPnl: number | null;
  updateTime: number;
}

/** One real change made by the merge book, carrying the entity's new full value. */
export type JsDelta =
  | { kind: 'kline'; symbol: string; interval: JsIntervalName; kline: JsKline }
  | { kind: 'tick'; symbol: string; tick: JsTick }
  | { kind: 'position'; symbol: string; position: JsPosition }
  | { kind: 'balance'; balance: JsBalance };

/** The window of one `(symbol, interval)` series, oldest first. */
export interface JsKlineWindow {
  symbol: string;
  interval: JsIntervalName;
  klines: JsKline[];
}

/** Everything a subscriber needs to rebuild its book from nothing. */
export interface JsSnapshot {
  klines: JsKlineWindow[];
  ticks: { symbol: string; tick: JsTick }[];
  positions: { symbol: string; position: JsPosition }[];
  balances: JsBalance[];
}
