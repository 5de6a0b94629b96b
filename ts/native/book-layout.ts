// The trader book's block layout and the position sides, generated from core-rs/src/book_layout.rs: do not edit.
// Regenerate with `TRIBUTARY_WRITE_LAYOUT=1 cargo test -p tributary-core book_layout`; a Rust test fails while
// this file differs from the Rust enums.

/** Kline series block columns in block order (row `r` of column `c` at `c × capacity + r`; `closed`: 1 or 0); the block's last value is the bar count. */
export const KLINE_COLUMNS = [
  'openTime',
  'closeTime',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'trades',
  'takerBuyVolume',
  'takerBuyQuoteVolume',
  'closed',
] as const;
export type KlineColumn = (typeof KLINE_COLUMNS)[number];

/** Slots of a tick block (`last` is NaN when the source had no last trade price, `updateId` when it had no book update id). */
export const TICK_SLOTS = ['bid', 'bidQty', 'ask', 'askQty', 'last', 'time', 'updateId'] as const;
export type TickSlot = (typeof TICK_SLOTS)[number];

/** Slots of a position block (NaN where the source had no value). */
export const POSITION_SLOTS = ['amount', 'entryPrice', 'unrealizedPnl', 'markPrice', 'updateTime'] as const;
export type PositionSlot = (typeof POSITION_SLOTS)[number];

/** Slots of a balance block (NaN where the source had no value). */
export const BALANCE_SLOTS = ['wallet', 'crossWallet', 'available', 'unrealizedPnl', 'updateTime'] as const;
export type BalanceSlot = (typeof BALANCE_SLOTS)[number];

/** Slots of a mark block: mark, index and settle prices, funding rate, next funding time, time. */
export const MARK_SLOTS = [
  'markPrice',
  'indexPrice',
  'estimatedSettlePrice',
  'fundingRate',
  'nextFundingTime',
  'time',
] as const;
export type MarkSlot = (typeof MARK_SLOTS)[number];

/** Position sides in wire-code order: `BOTH` in one-way mode, `LONG` / `SHORT` in hedge mode. */
export const POSITION_SIDES = ['BOTH', 'LONG', 'SHORT'] as const;
export type PositionSide = (typeof POSITION_SIDES)[number];

/** Frame kinds by wire code (`TraderBook.applyMany` reports a frame's kind by this code). */
export const FRAME_KINDS = ['ingest', 'delta', 'snapshot'] as const;
export type FrameKindName = (typeof FRAME_KINDS)[number];

/** What became of a frame of `TraderBook.applyMany`, by result code. */
export const FRAME_RESULTS = [
  'applied',
  'snapshot',
  'chunk',
  'duplicate',
  'gap',
  'stale',
  'chunkDropped',
  'wrongKind',
  'invalid',
  'baseMismatch',
] as const;
export type FrameResultName = (typeof FRAME_RESULTS)[number];
