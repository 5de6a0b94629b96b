//! The layout of the trader book's value blocks (kline columns; tick, position and balance slots), its per-frame report codes and the position sides, shared with TypeScript.
//!
//! JavaScript reads the trader book's `f64` blocks without copying, so it must know where each
//! value sits. This module is the one place that says so: the trader book writes by these enums,
//! and [`typescript_module`] renders the same layout as the TypeScript module
//! `ts/native/book-layout.ts`, which the facade and the pure-TypeScript baselines import. A test
//! here fails when the committed TypeScript file differs from what the enums say; regenerate it
//! with `TRIBUTARY_WRITE_LAYOUT=1 cargo test -p tributary-core book_layout`.

use crate::account::PositionSide;
use crate::frame::FrameKind;
use crate::trader_book::FrameResult;

/// Columns of a kline block, in block order; column `c` of row `r` is at `c × capacity + r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum KlineColumn {
    OpenTime = 0,
    CloseTime = 1,
    Open = 2,
    High = 3,
    Low = 4,
    Close = 5,
    Volume = 6,
    QuoteVolume = 7,
    Trades = 8,
    TakerBuyVolume = 9,
    TakerBuyQuoteVolume = 10,
    /// 1 when the bar is final (the exchange's `x`, or a source that saw it whole), else 0.
    Closed = 11,
}

/// Number of columns in a kline block.
pub const KLINE_COLUMNS: usize = 12;

impl KlineColumn {
    /// Every column in block order.
    pub const ALL: [KlineColumn; KLINE_COLUMNS] = [
        KlineColumn::OpenTime,
        KlineColumn::CloseTime,
        KlineColumn::Open,
        KlineColumn::High,
        KlineColumn::Low,
        KlineColumn::Close,
        KlineColumn::Volume,
        KlineColumn::QuoteVolume,
        KlineColumn::Trades,
        KlineColumn::TakerBuyVolume,
        KlineColumn::TakerBuyQuoteVolume,
        KlineColumn::Closed,
    ];

    /// The name JavaScript uses.
    pub const fn name(self) -> &'static str {
        match self {
            KlineColumn::OpenTime => "openTime",
            KlineColumn::CloseTime => "closeTime",
            KlineColumn::Open => "open",
            KlineColumn::High => "high",
            KlineColumn::Low => "low",
            KlineColumn::Close => "close",
            KlineColumn::Volume => "volume",
            KlineColumn::QuoteVolume => "quoteVolume",
            KlineColumn::Trades => "trades",
            KlineColumn::TakerBuyVolume => "takerBuyVolume",
            KlineColumn::TakerBuyQuoteVolume => "takerBuyQuoteVolume",
            KlineColumn::Closed => "closed",
        }
    }
}

/// Slots of a tick block; `Last` is NaN when the source had no last trade price, `UpdateId`
/// when it had no book update id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum TickSlot {
    Bid = 0,
    BidQty = 1,
    Ask = 2,
    AskQty = 3,
    Last = 4,
    Time = 5,
    UpdateId = 6,
}

pub const TICK_SLOTS: usize = 7;

impl TickSlot {
    pub const ALL: [TickSlot; TICK_SLOTS] = [
        TickSlot::Bid,
        TickSlot::BidQty,
        TickSlot::Ask,
        TickSlot::AskQty,
        TickSlot::Last,
        TickSlot::Time,
        TickSlot::UpdateId,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            TickSlot::Bid => "bid",
            TickSlot::BidQty => "bidQty",
            TickSlot::Ask => "ask",
            TickSlot::AskQty => "askQty",
            TickSlot::Last => "last",
            TickSlot::Time => "time",
            TickSlot::UpdateId => "updateId",
        }
    }
}

/// Slots of a position block; NaN where the source had no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum PositionSlot {
    Amount = 0,
    EntryPrice = 1,
    UnrealizedPnl = 2,
    MarkPrice = 3,
    UpdateTime = 4,
}

pub const POSITION_SLOTS: usize = 5;

impl PositionSlot {
    pub const ALL: [PositionSlot; POSITION_SLOTS] = [
        PositionSlot::Amount,
        PositionSlot::EntryPrice,
        PositionSlot::UnrealizedPnl,
        PositionSlot::MarkPrice,
        PositionSlot::UpdateTime,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            PositionSlot::Amount => "amount",
            PositionSlot::EntryPrice => "entryPrice",
            PositionSlot::UnrealizedPnl => "unrealizedPnl",
            PositionSlot::MarkPrice => "markPrice",
            PositionSlot::UpdateTime => "updateTime",
        }
    }
}

/// Slots of a balance block; NaN where the source had no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum BalanceSlot {
    Wallet = 0,
    CrossWallet = 1,
    Available = 2,
    UnrealizedPnl = 3,
    UpdateTime = 4,
}

pub const BALANCE_SLOTS: usize = 5;

impl BalanceSlot {
    pub const ALL: [BalanceSlot; BALANCE_SLOTS] = [
        BalanceSlot::Wallet,
        BalanceSlot::CrossWallet,
        BalanceSlot::Available,
        BalanceSlot::UnrealizedPnl,
        BalanceSlot::UpdateTime,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            BalanceSlot::Wallet => "wallet",
            BalanceSlot::CrossWallet => "crossWallet",
            BalanceSlot::Available => "available",
            BalanceSlot::UnrealizedPnl => "unrealizedPnl",
            BalanceSlot::UpdateTime => "updateTime",
        }
    }
}

/// Slots of a mark block: mark price, index price, estimated settle price, funding rate, next
/// funding time and the exchange time of the values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum MarkSlot {
    MarkPrice = 0,
    IndexPrice = 1,
    EstimatedSettlePrice = 2,
    FundingRate = 3,
    NextFundingTime = 4,
    Time = 5,
}

pub const MARK_SLOTS: usize = 6;

impl MarkSlot {
    pub const ALL: [MarkSlot; MARK_SLOTS] = [
        MarkSlot::MarkPrice,
        MarkSlot::IndexPrice,
        MarkSlot::EstimatedSettlePrice,
        MarkSlot::FundingRate,
        MarkSlot::NextFundingTime,
        MarkSlot::Time,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            MarkSlot::MarkPrice => "markPrice",
            MarkSlot::IndexPrice => "indexPrice",
            MarkSlot::EstimatedSettlePrice => "estimatedSettlePrice",
            MarkSlot::FundingRate => "fundingRate",
            MarkSlot::NextFundingTime => "nextFundingTime",
            MarkSlot::Time => "time",
        }
    }
}

/// Every position side in wire-code order.
pub const POSITION_SIDES: [PositionSide; 3] = [PositionSide::Both, PositionSide::Long, PositionSide::Short];

/// Where the generated TypeScript module lives, relative to the repository root.
pub const TYPESCRIPT_PATH: &str = "ts/native/book-layout.ts";

/// `export const NAME = ['a', 'b'] as const;` with a doc comment, laid out as the repository's
/// formatter (Biome, 110 columns) would, so formatting the file changes nothing.
fn const_list(out: &mut String, doc: &str, name: &str, items: impl IntoIterator<Item = &'static str>) {
    const LINE_WIDTH: usize = 110;
    let quoted: Vec<String> = items.into_iter().map(|i| format!("'{i}'")).collect();
    let one_line = format!("export const {name} = [{}] as const;", quoted.join(", "));
    out.push_str(&format!("/** {doc} */\n"));
    if one_line.chars().count() <= LINE_WIDTH {
        out.push_str(&one_line);
        out.push('\n');
    } else {
        out.push_str(&format!("export const {name} = [\n"));
        for item in quoted {
            out.push_str(&format!("  {item},\n"));
        }
        out.push_str("] as const;\n");
    }
}

/// The TypeScript module that mirrors this layout (what `ts/native/book-layout.ts` holds).
pub fn typescript_module() -> String {
    let mut out = String::new();
    out.push_str(
        "// The trader book's block layout and the position sides, generated from core-rs/src/book_layout.rs: do not edit.\n\
         // Regenerate with `TRIBUTARY_WRITE_LAYOUT=1 cargo test -p tributary-core book_layout`; a Rust test fails while\n\
         // this file differs from the Rust enums.\n\n",
    );
    const_list(
        &mut out,
        "Kline series block columns in block order (row `r` of column `c` at `c × capacity + r`; `closed`: 1 or 0); the block's last value is the bar count.",
        "KLINE_COLUMNS",
        KlineColumn::ALL.map(KlineColumn::name),
    );
    out.push_str("export type KlineColumn = (typeof KLINE_COLUMNS)[number];\n\n");
    const_list(
        &mut out,
        "Slots of a tick block (`last` is NaN when the source had no last trade price, `updateId` when it had no book update id).",
        "TICK_SLOTS",
        TickSlot::ALL.map(TickSlot::name),
    );
    out.push_str("export type TickSlot = (typeof TICK_SLOTS)[number];\n\n");
    const_list(
        &mut out,
        "Slots of a position block (NaN where the source had no value).",
        "POSITION_SLOTS",
        PositionSlot::ALL.map(PositionSlot::name),
    );
    out.push_str("export type PositionSlot = (typeof POSITION_SLOTS)[number];\n\n");
    const_list(
        &mut out,
        "Slots of a balance block (NaN where the source had no value).",
        "BALANCE_SLOTS",
        BalanceSlot::ALL.map(BalanceSlot::name),
    );
    out.push_str("export type BalanceSlot = (typeof BALANCE_SLOTS)[number];\n\n");
    const_list(
        &mut out,
        "Slots of a mark block: mark, index and settle prices, funding rate, next funding time, time.",
        "MARK_SLOTS",
        MarkSlot::ALL.map(MarkSlot::name),
    );
    out.push_str("export type MarkSlot = (typeof MARK_SLOTS)[number];\n\n");
    const_list(
        &mut out,
        "Position sides in wire-code order: `BOTH` in one-way mode, `LONG` / `SHORT` in hedge mode.",
        "POSITION_SIDES",
        POSITION_SIDES.map(PositionSide::as_str),
    );
    out.push_str("export type PositionSide = (typeof POSITION_SIDES)[number];\n\n");
    const_list(
        &mut out,
        "Frame kinds by wire code (`TraderBook.applyMany` reports a frame's kind by this code).",
        "FRAME_KINDS",
        [FrameKind::Ingest, FrameKind::Delta, FrameKind::Snapshot].map(FrameKind::as_str),
    );
    out.push_str("export type FrameKindName = (typeof FRAME_KINDS)[number];\n\n");
    const_list(
        &mut out,
        "What became of a frame of `TraderBook.applyMany`, by result code.",
        "FRAME_RESULTS",
        FrameResult::ALL.map(FrameResult::as_str),
    );
    out.push_str("export type FrameResultName = (typeof FRAME_RESULTS)[number];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn enums_list_every_index_once_in_order() {
        assert!(KlineColumn::ALL.iter().enumerate().all(|(i, c)| *c as usize == i));
        assert!(TickSlot::ALL.iter().enumerate().all(|(i, c)| *c as usize == i));
        assert!(PositionSlot::ALL.iter().enumerate().all(|(i, c)| *c as usize == i));
        assert!(BalanceSlot::ALL.iter().enumerate().all(|(i, c)| *c as usize == i));
        assert!(POSITION_SIDES.iter().enumerate().all(|(i, s)| *s as usize == i));
        assert!(FrameResult::ALL.iter().enumerate().all(|(i, r)| *r as usize == i));
        assert!([FrameKind::Ingest, FrameKind::Delta, FrameKind::Snapshot]
            .iter()
            .enumerate()
            .all(|(i, k)| k.code() as usize == i));
    }

    /// The committed TypeScript layout is what the enums say (regenerate as the module doc says).
    #[test]
    fn book_layout_typescript_is_current() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(TYPESCRIPT_PATH);
        let expected = typescript_module();
        if std::env::var_os("TRIBUTARY_WRITE_LAYOUT").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{} differs from core-rs/src/book_layout.rs; regenerate it with \
             TRIBUTARY_WRITE_LAYOUT=1 cargo test -p tributary-core book_layout",
            path.display()
        );
    }
}
