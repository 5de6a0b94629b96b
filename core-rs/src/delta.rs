//! What the merge book emits when it changes something, and the provenance of every entity.

use crate::account::{Balance, Position};
use crate::interval::Interval;
use crate::market::{Kline, Mark, Tick};
use crate::symbol::SymbolId;

/// Which collector (or other peer) supplied a piece of data; assigned by the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u16);

/// Who supplied an entity's current value and when the hub received it (local Unix ms), so
/// staleness can be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Provenance {
    pub source: SourceId,
    pub received_at: i64,
}

/// Symbols the traders must not open positions in; `all` stops every symbol (`ALL`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BanList {
    pub all: bool,
    /// Sorted, without duplicates.
    pub symbols: Vec<SymbolId>,
}

impl BanList {
    /// A ban list from any order of ids; sorts and removes duplicates so equal lists compare equal.
    pub fn new(all: bool, mut symbols: Vec<SymbolId>) -> BanList {
        symbols.sort_unstable();
        symbols.dedup();
        BanList { all, symbols }
    }

    pub fn is_banned(&self, symbol: SymbolId) -> bool {
        self.all || self.symbols.binary_search(&symbol).is_ok()
    }
}

/// One real change made by the merge book, carrying the entity's new full value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delta {
    Kline {
        symbol: SymbolId,
        interval: Interval,
        kline: Kline,
    },
    Tick {
        symbol: SymbolId,
        tick: Tick,
    },
    Position {
        symbol: SymbolId,
        position: Position,
    },
    Balance {
        balance: Balance,
    },
    BanList(BanList),
    /// Mark price, index price and funding of a symbol (appended last: kinds only grow).
    Mark {
        symbol: SymbolId,
        mark: Mark,
    },
    /// Collector → hub only: the `Position` records beside it (the same batch or frame) are every
    /// non-flat position of the account as of `as_of` (exchange Unix ms), a full list such as
    /// `GET /fapi/v3/account` gives, which leaves flat symbols out. The merge sets every position
    /// it holds that is not listed and is older to flat; it never appears in a hub Delta frame or
    /// a snapshot. Appended last: kinds only grow.
    PositionsComplete {
        as_of: i64,
    },
}

/// The full window of one `(symbol, interval)` series, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KlineWindow {
    pub symbol: SymbolId,
    pub interval: Interval,
    pub klines: Vec<Kline>,
}

/// Everything a subscriber needs to rebuild its book from nothing: what the hub sends on request,
/// after a sequence gap, and periodically for reconciliation.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub klines: Vec<KlineWindow>,
    pub ticks: Vec<(SymbolId, Tick)>,
    pub positions: Vec<(SymbolId, Position)>,
    pub balances: Vec<Balance>,
    /// `None` when the snapshot does not cover the ban list.
    pub ban_list: Option<BanList>,
    pub marks: Vec<(SymbolId, Mark)>,
}

/// One entity of a snapshot, borrowed from where it is kept (see `MergeBook::visit_matching`).
#[derive(Clone, Copy, Debug)]
pub enum SnapshotItem<'a> {
    Window {
        symbol: SymbolId,
        interval: Interval,
        klines: &'a [Kline],
    },
    Tick(SymbolId, &'a Tick),
    Position(SymbolId, &'a Position),
    Balance(&'a Balance),
    BanList(&'a BanList),
    Mark(SymbolId, &'a Mark),
}

impl Snapshot {
    /// Adds a copy of `item`.
    pub fn push(&mut self, item: SnapshotItem<'_>) {
        match item {
            SnapshotItem::Window {
                symbol,
                interval,
                klines,
            } => self.klines.push(KlineWindow {
                symbol,
                interval,
                klines: klines.to_vec(),
            }),
            SnapshotItem::Tick(symbol, tick) => self.ticks.push((symbol, *tick)),
            SnapshotItem::Position(symbol, position) => self.positions.push((symbol, *position)),
            SnapshotItem::Balance(balance) => self.balances.push(*balance),
            SnapshotItem::BanList(list) => self.ban_list = Some(list.clone()),
            SnapshotItem::Mark(symbol, mark) => self.marks.push((symbol, *mark)),
        }
    }

    /// True when the snapshot carries nothing at all.
    pub fn is_empty(&self) -> bool {
        self.klines.is_empty()
            && self.ticks.is_empty()
            && self.positions.is_empty()
            && self.balances.is_empty()
            && self.ban_list.is_none()
            && self.marks.is_empty()
    }
}
