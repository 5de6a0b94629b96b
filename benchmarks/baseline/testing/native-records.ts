// Test support: native facade records as baseline numbers, so both paths compare value for value.
import type { Balance, Kline, Position, Tick } from '../../../ts/native/records.js';
import type { JsBalance, JsKline, JsPosition, JsPositionSide, JsTick } from '../records.js';

function optional(value: string | undefined): number | null {
  return value === undefined ? null : Number(value);
}

function side(value: string): JsPositionSide {
  if (value === 'BOTH' || value === 'LONG' || value === 'SHORT') return value;
  throw new Error(`unknown position side ${value}`);
}

/** A native kline with each exact decimal replaced by its nearest double. */
export function klineAsNumbers(k: Kline): JsKline {
  return {
    openTime: k.openTime,
    closeTime: k.closeTime,
    open: Number(k.open),
    high: Number(k.high),
    low: Number(k.low),
    close: Number(k.close),
    volume: Number(k.volume),
    quoteVolume: Number(k.quoteVolume),
    trades: k.trades,
    takerBuyVolume: Number(k.takerBuyVolume),
    takerBuyQuoteVolume: Number(k.takerBuyQuoteVolume),
    firstTradeId: k.firstTradeId ?? null,
    lastTradeId: k.lastTradeId ?? null,
    closed: k.closed,
    asOf: k.asOf,
  };
}

/** A native tick with each exact decimal replaced by its nearest double. */
export function tickAsNumbers(t: Tick): JsTick {
  return {
    bid: Number(t.bid),
    bidQty: Number(t.bidQty),
    ask: Number(t.ask),
    askQty: Number(t.askQty),
    last: optional(t.last),
    time: t.time,
    updateId: t.updateId ?? null,
  };
}

/** A native position with each exact decimal replaced by its nearest double. */
export function positionAsNumbers(p: Position): JsPosition {
  return {
    side: side(p.side),
    amount: Number(p.amount),
    entryPrice: optional(p.entryPrice),
    breakEvenPrice: optional(p.breakEvenPrice),
    unrealizedPnl: optional(p.unrealizedPnl),
    markPrice: optional(p.markPrice),
    isolatedWallet: optional(p.isolatedWallet),
    updateTime: p.updateTime,
  };
}

/** A native balance with each exact decimal replaced by its nearest double. */
export function balanceAsNumbers(b: Balance): JsBalance {
  return {
    asset: b.asset,
    walletBalance: Number(b.walletBalance),
    crossWalletBalance: optional(b.crossWalletBalance),
    availableBalance: optional(b.availableBalance),
    unrealizedPnl: optional(b.unrealizedPnl),
    updateTime: b.updateTime,
  };
}
