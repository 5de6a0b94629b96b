//! What the trader book's last apply changed: one entry per entity written, so a strategy reacts to the frame without scanning the universe.

use crate::account::PositionSide;
use crate::interval::Interval;
use crate::symbol::{Asset, SymbolId};

/// One entity a frame wrote. A row that was already held, dropped as too old or refused
/// against its base is not a change; an entity may appear more than once when a batch carries
/// several frames of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The bar of `(symbol, interval)` opening at `open_time` was written (a snapshot: its
    /// newest bar, the whole series having been replaced).
    Kline {
        symbol: SymbolId,
        interval: Interval,
        open_time: i64,
    },
    Tick(SymbolId),
    Mark(SymbolId),
    Position {
        symbol: SymbolId,
        side: PositionSide,
    },
    Balance(Asset),
    BanList,
}

impl Change {
    /// The kind's number on the JavaScript side (`BookChanges`): 0 kline, 1 tick, 2 mark,
    /// 3 position, 4 balance, 5 ban list.
    pub const fn code(&self) -> u8 {
        match self {
            Change::Kline { .. } => 0,
            Change::Tick(_) => 1,
            Change::Mark(_) => 2,
            Change::Position { .. } => 3,
            Change::Balance(_) => 4,
            Change::BanList => 5,
        }
    }
}

/// The changes of the book's last apply, in the order they were written.
#[derive(Debug, Default)]
pub struct BookChanges {
    changes: Vec<Change>,
    /// Set while snapshots are applied: whether any frame of the apply was a snapshot.
    snapshot: bool,
}

impl BookChanges {
    /// Starts a new apply (keeps the allocation).
    pub(crate) fn clear(&mut self) {
        self.changes.clear();
        self.snapshot = false;
    }

    pub(crate) fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    pub(crate) fn mark_snapshot(&mut self) {
        self.snapshot = true;
    }

    /// Every change, oldest first.
    pub fn as_slice(&self) -> &[Change] {
        &self.changes
    }

    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// True when a snapshot applied in the last apply: it may also have removed what its
    /// stream held before, which no change names.
    pub fn had_snapshot(&self) -> bool {
        self.snapshot
    }
}
