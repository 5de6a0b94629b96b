//! The hub's last published version of each recent bar: what the next wire-2 row of that bar is written against.
//!
//! An entry (turn, wire form) says: this bar's value, as every subscriber in sync holds it, was
//! published at `turn` and has not changed since, except `as_of`, which rows never take from a
//! base. The hub keeps that true by recording every version it publishes and forgetting a bar
//! whose change goes unpublished (deltas discarded, a snapshot taken while deltas wait); a bar
//! without an entry travels whole, which is always correct. Only the newest few bars of a series
//! are kept: updates go to the open bar and, around a bar's close, to the one before it.

use crate::cache_hint::prefetch_value;
use crate::delta::Delta;
use crate::frame::compact::{self, CompactRow, WireKline};
use crate::frame::FrameError;
use crate::interval::Interval;
use crate::symbol::SymbolId;
use crate::word_map::WordMap;
use std::ops::Range;

/// Bars of one series with a base kept (the newest by open time).
pub const BARS_PER_SERIES: usize = 4;

#[derive(Clone, Copy, Debug)]
struct Base {
    turn: u64,
    wire: WireKline,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct KlineBases {
    /// Per series, ascending by open time, at most [`BARS_PER_SERIES`].
    series: WordMap<(SymbolId, Interval), Vec<Base>>,
}

impl KlineBases {
    pub fn new() -> KlineBases {
        KlineBases::default()
    }

    /// Records `wire` as the bar's version published at `turn` and returns the version it
    /// replaces (turn and wire form), the base of the bar's row in this turn, if one was kept.
    pub fn publish(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        turn: u64,
        wire: WireKline,
    ) -> Option<(u64, WireKline)> {
        let bars = self.series.entry((symbol, interval)).or_default();
        let new = Base { turn, wire };
        match bars.binary_search_by_key(&wire.open_time, |b| b.wire.open_time) {
            Ok(at) => bars.get_mut(at).map(|slot| {
                let old = std::mem::replace(slot, new);
                (old.turn, old.wire)
            }),
            // Older than every kept bar of a full series: not kept (its next row travels whole).
            Err(0) if bars.len() >= BARS_PER_SERIES => None,
            Err(at) => {
                bars.insert(at, new);
                if bars.len() > BARS_PER_SERIES {
                    bars.remove(0);
                }
                None
            }
        }
    }

    /// Hints the lines [`KlineBases::publish`] reads for each kline among `deltas`: the newest
    /// kept version of its series (src/cache_hint.rs); nothing for a single delta, which has no
    /// other miss to overlap with.
    pub fn prefetch_for(&self, deltas: &[Delta]) {
        if deltas.len() < 2 {
            return;
        }
        for delta in deltas {
            if let Delta::Kline { symbol, interval, .. } = delta {
                if let Some(newest) = self.series.get(&(*symbol, *interval)).and_then(|bars| bars.last()) {
                    prefetch_value(newest);
                }
            }
        }
    }

    /// Drops the bar's entry: its value changed without a publication every subscriber saw.
    pub fn forget(&mut self, symbol: SymbolId, interval: Interval, open_time: i64) {
        if let Some(bars) = self.series.get_mut(&(symbol, interval)) {
            bars.retain(|b| b.wire.open_time != open_time);
        }
    }

    /// Drops the entries of every bar among `deltas`.
    pub fn forget_deltas(&mut self, deltas: &[Delta]) {
        for delta in deltas {
            if let Delta::Kline {
                symbol,
                interval,
                kline,
            } = delta
            {
                self.forget(*symbol, *interval, kline.open_time);
            }
        }
    }

    pub fn clear(&mut self) {
        self.series.clear();
    }

    /// Bars with an entry.
    pub fn bars(&self) -> usize {
        self.series.values().map(Vec::len).sum()
    }
}

/// One delta's compact row in a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowSlot {
    /// Not a kline, nor a tick written as a row: it travels in the frame's tail.
    Tail,
    /// The kline row's bytes in [`TurnRows`]' buffer.
    Row(Range<usize>),
    /// The tick row's bytes in [`TurnRows`]' buffer (wire 3; a wire-2 frame carries the tick in
    /// its tail).
    Tick(Range<usize>),
    /// The kline or tick cannot travel (its decimals do not fit the wire): streams carrying it fail.
    Failed(FrameError),
}

/// The compact rows of one turn's deltas, written once and shared by every wire-2 and wire-3 stream.
#[derive(Debug, Default)]
pub struct TurnRows {
    bytes: Vec<u8>,
    /// One per delta of the turn, in order.
    slots: Vec<RowSlot>,
}

impl TurnRows {
    pub fn new() -> TurnRows {
        TurnRows::default()
    }

    /// Writes the row of every kline among `deltas` (one delta per entity: coalesced) against
    /// its kept base, and records each as published at `turn`; with `tick_rows` (a wire-3
    /// stream exists), the row of every tick too. `sent_at` is the frames' send time, which rows
    /// are written against.
    pub fn write(&mut self, deltas: &[Delta], bases: &mut KlineBases, turn: u64, sent_at: i64, tick_rows: bool) {
        self.clear();
        bases.prefetch_for(deltas);
        for delta in deltas {
            let (symbol, interval, kline) = match delta {
                Delta::Kline {
                    symbol,
                    interval,
                    kline,
                } => (symbol, interval, kline),
                Delta::Tick { symbol, tick } if tick_rows => {
                    let start = self.bytes.len();
                    let slot = match compact::write_tick(&mut self.bytes, *symbol, tick, sent_at) {
                        Ok(()) => RowSlot::Tick(start..self.bytes.len()),
                        Err(error) => {
                            self.bytes.truncate(start);
                            RowSlot::Failed(error)
                        }
                    };
                    self.slots.push(slot);
                    continue;
                }
                _ => {
                    self.slots.push(RowSlot::Tail);
                    continue;
                }
            };
            let slot = match WireKline::of(kline) {
                Ok(wire) => {
                    let base = bases.publish(*symbol, *interval, turn, wire);
                    let row = CompactRow::diff(
                        *symbol,
                        *interval,
                        &wire,
                        base.as_ref().map(|(at, b)| (turn - at, b)),
                        sent_at,
                    );
                    let start = self.bytes.len();
                    row.write(&mut self.bytes, sent_at);
                    RowSlot::Row(start..self.bytes.len())
                }
                Err(error) => {
                    bases.forget(*symbol, *interval, kline.open_time);
                    RowSlot::Failed(error)
                }
            };
            self.slots.push(slot);
        }
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.slots.clear();
    }

    /// The slot of delta `index` of the turn.
    pub fn slot(&self, index: usize) -> Option<&RowSlot> {
        self.slots.get(index)
    }

    /// The bytes of a [`RowSlot::Row`] or [`RowSlot::Tick`].
    pub fn bytes(&self, range: &Range<usize>) -> &[u8] {
        self.bytes.get(range.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(open_minute: i64, trades: u64) -> WireKline {
        WireKline {
            open_time: open_minute * 60_000,
            close_time: open_minute * 60_000 + 59_999,
            trades,
            ..WireKline::default()
        }
    }

    #[test]
    fn the_newest_bars_of_a_series_are_kept_with_their_turn() {
        let mut bases = KlineBases::new();
        let (s, i) = (SymbolId(1), Interval::M1);
        assert_eq!(bases.publish(s, i, 5, wire(10, 1)), None);
        assert_eq!(bases.publish(s, i, 6, wire(10, 2)), Some((5, wire(10, 1))));
        for minute in 11..=13 {
            bases.publish(s, i, 7, wire(minute, 1));
        }
        assert_eq!(bases.bars(), 4);
        // A fifth newer bar pushes the oldest out; an older one is not kept.
        bases.publish(s, i, 8, wire(14, 1));
        assert_eq!(bases.publish(s, i, 9, wire(10, 3)), None);
        assert_eq!(bases.bars(), 4);
        assert_eq!(bases.publish(s, i, 9, wire(10, 4)), None);
        assert_eq!(bases.publish(s, i, 9, wire(14, 2)), Some((8, wire(14, 1))));
        bases.forget(s, i, 14 * 60_000);
        assert_eq!(bases.publish(s, i, 10, wire(14, 3)), None);
        // Another series of the same symbol is its own.
        assert_eq!(bases.publish(s, Interval::M5, 10, wire(14, 1)), None);
        bases.clear();
        assert_eq!(bases.bars(), 0);
    }
}
