//! Trader book: applies hub frames in sequence per stream and exposes columnar, copy-free views (DESIGN.md 3.4).
//!
//! Sequencing, per `stream`: the first frame must be a Snapshot; a Delta with the expected seq
//! applies; an older seq is a duplicate and is ignored; a newer one is a gap: the stream turns
//! stale, nothing is applied, and until a Snapshot arrives its deltas are ignored (counted).
//!
//! Chunked snapshots (frames `chunk` = 0 … n − 1 of one stream and seq) are applied atomically:
//! chunks are held until the last one arrives, then all apply in one step, and only then is the
//! stream in sync. Chunk 0 starts a snapshot (dropping one still incomplete: the hub started
//! over); a chunk that does not continue the snapshot in progress (a missing chunk, another seq)
//! drops it, and the stream stays as it was, asking for a snapshot if it is not in sync. A Delta
//! of the stream while a snapshot is incomplete drops the snapshot too (the hub sends chunks back
//! to back, so that delta means the rest is not coming).
//!
//! Views: every entity keeps its exact record and a block of `f64` values (stored as `f64` bits in
//! `AtomicU64`, which has the layout of an `f64`) that JavaScript reads through an external
//! `ArrayBuffer` without copying. A block is allocated once, on the entity's first sight, and
//! updated in place; it is never reallocated, so a pointer into it stays valid while any `Arc`
//! clone is alive. Stores are `Relaxed`: readers run on the same thread between calls, the atomics
//! only make the shared mutation sound in safe Rust.

use crate::account::{Balance, Position, PositionSide};
use crate::book_changes::{BookChanges, Change};
use crate::cache_hint::{prefetch, prefetch_value};
use crate::decimal::{mantissa_to_f64, Decimal};
use crate::delta::{BanList, Delta, KlineWindow, Snapshot, SourceId};
use crate::frame::compact::{CompactDelta, CompactRow, WireKline};
use crate::frame::{decode_frame_with, Chunk, DecodeBuffers, Frame, FrameError, FrameHeader, FrameKind, FramePayload};
use crate::interval::Interval;
use crate::market::{Kline, Mark, Tick};
use crate::symbol::{Asset, SymbolId};
use crate::word_map::WordMap;
use std::collections::hash_map::Entry;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Klines kept per `(symbol, interval)` unless configured otherwise (the seed's 45).
pub const DEFAULT_WINDOW: usize = 45;

pub use crate::book_layout::{
    BalanceSlot, KlineColumn, MarkSlot, PositionSlot, TickSlot, BALANCE_SLOTS, KLINE_COLUMNS, MARK_SLOTS,
    POSITION_SLOTS, TICK_SLOTS,
};

/// A block of `f64` values shared with JavaScript (f64 bits in `AtomicU64`).
pub type F64Block = Arc<[AtomicU64]>;

fn new_block(len: usize) -> F64Block {
    (0..len).map(|_| AtomicU64::new(f64::NAN.to_bits())).collect()
}

fn store(block: &[AtomicU64], index: usize, value: f64) {
    if let Some(cell) = block.get(index) {
        cell.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// Copies slot `from` of a block to slot `to`; nothing when either is outside the block.
fn copy_cell(block: &[AtomicU64], from: usize, to: usize) {
    if let (Some(source), Some(target)) = (block.get(from), block.get(to)) {
        target.store(source.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Reads slot `index` of a block as `f64`; `None` outside the block.
pub fn load_f64(block: &[AtomicU64], index: usize) -> Option<f64> {
    block
        .get(index)
        .map(|cell| f64::from_bits(cell.load(Ordering::Relaxed)))
}

fn optional_f64(value: Option<Decimal>) -> f64 {
    value.map_or(f64::NAN, |d| d.to_f64())
}

/// The frame that last wrote an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Written {
    pub stream: u32,
    pub seq: u64,
    /// The frame header's source and receive time.
    pub source: SourceId,
    pub received_at: i64,
    /// The frame header's turn (0 on wire-1 Delta frames).
    pub turn: u64,
}

impl Written {
    fn from_header(header: &FrameHeader) -> Written {
        Written {
            stream: header.stream,
            seq: header.seq,
            source: header.source,
            received_at: header.received_at,
            turn: header.turn,
        }
    }
}

/// A bar in wire form whose flags and scales were checked, so it converts to a `Kline`: the only
/// form a [`KlineSeries`] takes a bar in.
#[derive(Clone, Copy, Debug)]
struct CheckedBar(WireKline);

impl CheckedBar {
    /// A compact row's resolved bar, unless its flags or scales are out of range.
    fn new(bar: WireKline) -> Option<CheckedBar> {
        bar.check().ok().map(|()| CheckedBar(bar))
    }

    /// A kline's wire form; `None` for one no wire frame can carry (see
    /// [`TraderBookStats::unrepresentable_klines`]).
    fn of(kline: &Kline) -> Option<CheckedBar> {
        WireKline::of(kline).ok().map(CheckedBar)
    }
}

/// The last `capacity` klines of one `(symbol, interval)`: exact records and a column block.
#[derive(Debug)]
pub struct KlineSeries {
    /// Oldest first, unique open times, at most `capacity`; each exact in its wire form (a
    /// quarter of a `Kline`'s size, and what a compact row's base and the columns are read from),
    /// checked on entry so it always converts to a `Kline`. A ring, so the window's shift at each
    /// bar's opening drops the oldest without moving the others.
    bars: VecDeque<WireKline>,
    /// Per bar, the hub turn its value is known current at (the turn of the frame that carried
    /// it: a wire-2 snapshot's or compact frame's); 0 when unknown (wire 1). A compact row
    /// relative to the version published at turn `b` applies only to a bar held at a turn in
    /// `[b, its frame's turn)`.
    turns: VecDeque<u64>,
    capacity: usize,
    /// `KLINE_COLUMNS × capacity` values, column-major; rows `[0, len)` are chronological. One
    /// more slot after them holds `len`, so JavaScript reads the bar count without a call.
    columns: F64Block,
    written: Written,
}

impl KlineSeries {
    fn new(capacity: usize, written: Written) -> KlineSeries {
        KlineSeries {
            bars: VecDeque::with_capacity(capacity),
            turns: VecDeque::with_capacity(capacity),
            capacity,
            columns: new_block(KLINE_COLUMNS * capacity + 1),
            written,
        }
    }

    /// The column block: column `c` of row `r` at `c × capacity() + r`, then the bar count (NaN
    /// before the first bar). Allocated once; hold a clone to keep a pointer into it valid.
    pub fn columns(&self) -> &F64Block {
        &self.columns
    }

    /// Hints the lines an update of the newest bar reads and writes: its record, its turn, and
    /// its row of every column.
    fn prefetch_newest(&self) {
        let (Some(bar), Some(turn)) = (self.bars.back(), self.turns.back()) else {
            return;
        };
        prefetch_value(std::ptr::from_ref(bar));
        prefetch(std::ptr::from_ref(turn));
        let row = self.bars.len() - 1;
        let columns = self.columns.as_ptr();
        for column in 0..KLINE_COLUMNS {
            prefetch(columns.wrapping_add(column * self.capacity + row));
        }
    }

    /// Rows currently held.
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// Most rows the series holds (the book's window).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The exact klines, oldest first (built from the held wire forms, which always convert).
    pub fn klines(&self) -> Vec<Kline> {
        self.bars.iter().filter_map(|bar| bar.to_kline().ok()).collect()
    }

    /// Value of `column` at `row` as JavaScript sees it; `None` past `len()`.
    pub fn value(&self, column: KlineColumn, row: usize) -> Option<f64> {
        if row >= self.bars.len() {
            return None;
        }
        load_f64(&self.columns, column as usize * self.capacity + row)
    }

    /// The frame that last wrote this series.
    pub fn written(&self) -> Written {
        self.written
    }

    /// The stream that last wrote this series.
    pub fn stream(&self) -> u32 {
        self.written.stream
    }

    fn write_row(&self, row: usize) {
        let Some(bar) = self.bars.get(row) else {
            return;
        };
        for column in KlineColumn::ALL {
            store(
                &self.columns,
                column as usize * self.capacity + row,
                column_value(bar, column),
            );
        }
    }

    /// Rewrites the columns of `row` whose value differs from `before`, the bar of the same open
    /// time it replaced. An update of the open bar usually leaves its times, open and flag (and
    /// often its high and low) as they were, and each column skipped is a cache line an apply does
    /// not write (docs/benchmarks-journal.md). Compared on the exact wire values, so a column is skipped
    /// only when its `f64` is the one already there.
    fn write_changed(&self, row: usize, before: &WireKline) {
        let Some(bar) = self.bars.get(row) else {
            return;
        };
        let [prices, volumes, quotes] = [0, 1, 2].map(|group| bar.scales[group] != before.scales[group]);
        for column in KlineColumn::ALL {
            let changed = match column {
                KlineColumn::OpenTime => bar.open_time != before.open_time,
                KlineColumn::CloseTime => bar.close_time != before.close_time,
                KlineColumn::Open => prices || bar.prices[0] != before.prices[0],
                KlineColumn::High => prices || bar.prices[1] != before.prices[1],
                KlineColumn::Low => prices || bar.prices[2] != before.prices[2],
                KlineColumn::Close => prices || bar.prices[3] != before.prices[3],
                KlineColumn::Volume => volumes || bar.volumes[0] != before.volumes[0],
                KlineColumn::TakerBuyVolume => volumes || bar.volumes[1] != before.volumes[1],
                KlineColumn::QuoteVolume => quotes || bar.quotes[0] != before.quotes[0],
                KlineColumn::TakerBuyQuoteVolume => quotes || bar.quotes[1] != before.quotes[1],
                KlineColumn::Trades => bar.trades != before.trades,
                KlineColumn::Closed => bar.is_closed() != before.is_closed(),
            };
            if changed {
                store(
                    &self.columns,
                    column as usize * self.capacity + row,
                    column_value(bar, column),
                );
            }
        }
    }

    /// Rewrites every row held, blanks (NaN) the rows after them and writes the bar count.
    fn write_all_rows(&self) {
        for row in 0..self.bars.len() {
            self.write_row(row);
        }
        for row in self.bars.len()..self.capacity {
            for column in 0..KLINE_COLUMNS {
                store(&self.columns, column * self.capacity + row, f64::NAN);
            }
        }
        self.write_count();
    }

    fn write_count(&self) {
        store(&self.columns, KLINE_COLUMNS * self.capacity, self.bars.len() as f64);
    }

    /// Moves the values of `rows` one row earlier in every column. When the window shifts, the
    /// bars that stay keep their values: copying the cells costs a load and a store each, where
    /// rewriting them from the bars would convert every exact value to `f64` again, 12 × window
    /// conversions per series at each bar's opening, for every followed series at once.
    fn move_rows_earlier(&self, rows: Range<usize>) {
        // Row 0 has no earlier row.
        if rows.start == 0 {
            return;
        }
        for column in 0..KLINE_COLUMNS {
            let base = column * self.capacity;
            // Ascending, so each cell is read before it is overwritten.
            for row in rows.clone() {
                copy_cell(&self.columns, base + row, base + row - 1);
            }
        }
    }

    /// Moves the values of `rows` one row later in every column (a missing bar inserted before
    /// them); as [`KlineSeries::move_rows_earlier`], copied rather than converted again.
    fn move_rows_later(&self, rows: Range<usize>) {
        for column in 0..KLINE_COLUMNS {
            let base = column * self.capacity;
            // Descending, so each cell is read before it is overwritten.
            for row in rows.clone().rev() {
                copy_cell(&self.columns, base + row, base + row + 1);
            }
        }
    }

    /// The row of the bar opening at `open_time`, or where it would go.
    fn position(&self, open_time: i64) -> Result<usize, usize> {
        // Nearly every update is for the newest bar: check it first.
        match self.bars.back() {
            Some(last) if last.open_time == open_time => Ok(self.bars.len() - 1),
            Some(last) if last.open_time < open_time => Err(self.bars.len()),
            _ => self.bars.binary_search_by_key(&open_time, |k| k.open_time),
        }
    }

    /// True when a bar opening at `open_time` is older than every bar of a full window (a
    /// change to it is dropped).
    fn is_before_full_window(&self, open_time: i64) -> bool {
        self.bars.len() >= self.capacity && self.bars.front().is_some_and(|k| open_time < k.open_time)
    }

    /// Puts one kline, known current at `turn`, in place by open time: replaces the bar with the
    /// same open time, appends a newer one (shifting the oldest out when full) or inserts a
    /// missing one. Returns false when the kline is older than every bar of a full window
    /// (dropped).
    fn upsert(&mut self, bar: CheckedBar, turn: u64) -> bool {
        let CheckedBar(bar) = bar;
        match self.position(bar.open_time) {
            Ok(row) => {
                if let (Some(slot), Some(at)) = (self.bars.get_mut(row), self.turns.get_mut(row)) {
                    let before = std::mem::replace(slot, bar);
                    *at = turn;
                    self.write_changed(row, &before);
                }
            }
            // Rows past `len` are blank already (`write_all_rows`): only the moved rows, the new
            // one and the count are written.
            Err(row) if self.bars.len() < self.capacity => {
                self.move_rows_later(row..self.bars.len());
                self.bars.insert(row, bar);
                self.turns.insert(row, turn);
                self.write_row(row);
                self.write_count();
            }
            Err(0) => return false,
            // A full window: the oldest bar leaves, the bars before the new one move up a row,
            // the count stays.
            Err(row) => {
                self.bars.pop_front();
                self.turns.pop_front();
                self.move_rows_earlier(1..row);
                self.bars.insert(row - 1, bar);
                self.turns.insert(row - 1, turn);
                self.write_row(row - 1);
            }
        }
        true
    }

    /// Replaces the series with `klines`, known current at `turn` (sorted by open time, the last
    /// of equal open times kept, the newest `capacity` retained), from the snapshot's oldest bar
    /// on. The held bars older than that stay when they lead into it without a gap and the last of
    /// them is final (see [`KlineSeries::history_before`]): a hub that restarted holds only the
    /// bars it has seen since, and its snapshot would otherwise cut a strategy's window to them
    /// until the REST pollers have gone round the whole universe (ten minutes at 600 symbols).
    fn replace(&mut self, bars: impl IntoIterator<Item = CheckedBar>, turn: u64) {
        let mut sorted: Vec<WireKline> = bars.into_iter().map(|CheckedBar(bar)| bar).collect();
        sorted.sort_by_key(|k| k.open_time);
        // Keep the last of equal open times: dedup keeps the first, so dedup in reverse.
        sorted.reverse();
        sorted.dedup_by_key(|k| k.open_time);
        sorted.reverse();
        let kept = sorted.first().map_or(0, |first| self.history_before(first.open_time));
        // The kept bars are the oldest `kept` held ones; their versions are another hub turn's
        // (or an earlier stream's), so they count as unknown (turn 0): a compact row based on
        // them is a mismatch and brings a snapshot, never an update applied to the wrong base.
        self.bars.truncate(kept);
        self.turns.clear();
        self.turns.resize(kept, 0);
        self.bars.extend(sorted.drain(..));
        self.turns.resize(self.bars.len(), turn);
        let excess = self.bars.len().saturating_sub(self.capacity);
        self.bars.drain(..excess);
        self.turns.drain(..excess);
        self.write_all_rows();
    }

    /// How many of the oldest held bars stay before a snapshot whose oldest bar opens at
    /// `first_open`: those opening before it, when the last of them is final and closes right
    /// where that bar opens. After a gap, or with its last bar still open (its close never seen),
    /// the held history would splice into the snapshot as if it were adjacent and complete: none
    /// stays, and the series starts at the snapshot (a window shorter than asked for, which a
    /// strategy sees, rather than a wrong one, which it cannot).
    fn history_before(&self, first_open: i64) -> usize {
        let before = self.bars.partition_point(|bar| bar.open_time < first_open);
        match before.checked_sub(1).and_then(|last| self.bars.get(last)) {
            Some(last) if last.is_closed() && last.close_time.checked_add(1) == Some(first_open) => before,
            _ => 0,
        }
    }

    /// The turn the bar of `open_time` is known current at (0 when unknown); `None` when the
    /// series does not hold it.
    pub fn turn_of(&self, open_time: i64) -> Option<u64> {
        self.position(open_time)
            .ok()
            .and_then(|row| self.turns.get(row).copied())
    }
}

/// Column `column` of `bar` as JavaScript sees it: the same nearest `f64` as the exact
/// decimal's `to_f64()`.
fn column_value(bar: &WireKline, column: KlineColumn) -> f64 {
    let [open, high, low, close] = bar.prices;
    let [volume, taker_buy_volume] = bar.volumes;
    let [quote_volume, taker_buy_quote_volume] = bar.quotes;
    let [price_scale, volume_scale, quote_scale] = bar.scales;
    match column {
        KlineColumn::OpenTime => bar.open_time as f64,
        KlineColumn::CloseTime => bar.close_time as f64,
        KlineColumn::Open => mantissa_to_f64(open, price_scale),
        KlineColumn::High => mantissa_to_f64(high, price_scale),
        KlineColumn::Low => mantissa_to_f64(low, price_scale),
        KlineColumn::Close => mantissa_to_f64(close, price_scale),
        KlineColumn::Volume => mantissa_to_f64(volume, volume_scale),
        KlineColumn::QuoteVolume => mantissa_to_f64(quote_volume, quote_scale),
        KlineColumn::Trades => bar.trades as f64,
        KlineColumn::TakerBuyVolume => mantissa_to_f64(taker_buy_volume, volume_scale),
        KlineColumn::TakerBuyQuoteVolume => mantissa_to_f64(taker_buy_quote_volume, quote_scale),
        KlineColumn::Closed => f64::from(u8::from(bar.is_closed())),
    }
}

/// What became of one compact row.
enum RowOutcome {
    Applied,
    /// The book already holds this turn's version (another stream carried it).
    AlreadyHeld,
    /// Older than every bar of a full window.
    Dropped,
    /// The book does not hold the version the row is relative to.
    Mismatch,
}

/// An entity's exact record and its small value block.
#[derive(Debug)]
pub struct RecordView<T> {
    record: T,
    values: F64Block,
    written: Written,
}

impl<T> RecordView<T> {
    /// Hints the lines a new value reads and writes: the record and its value block.
    fn prefetch(&self) {
        prefetch_value(&self.record);
        prefetch(self.values.as_ptr());
    }

    /// The exact record.
    pub fn record(&self) -> &T {
        &self.record
    }

    /// The value block (see [`TickSlot`], [`PositionSlot`], [`BalanceSlot`]). Allocated on the
    /// entity's first sight and updated in place.
    pub fn values(&self) -> &F64Block {
        &self.values
    }

    /// The frame that last wrote this entity.
    pub fn written(&self) -> Written {
        self.written
    }
}

/// The tick of one symbol.
pub type TickView = RecordView<Tick>;
/// The position of one `(symbol, side)`.
pub type PositionView = RecordView<Position>;
/// The balance of one asset.
pub type BalanceView = RecordView<Balance>;
/// The mark price and funding of one symbol.
pub type MarkView = RecordView<Mark>;

fn mark_values(mark: &Mark) -> [f64; MARK_SLOTS] {
    MarkSlot::ALL.map(|slot| match slot {
        MarkSlot::MarkPrice => mark.mark_price.to_f64(),
        MarkSlot::IndexPrice => mark.index_price.to_f64(),
        MarkSlot::EstimatedSettlePrice => mark.estimated_settle_price.to_f64(),
        MarkSlot::FundingRate => mark.funding_rate.to_f64(),
        MarkSlot::NextFundingTime => mark.next_funding_time as f64,
        MarkSlot::Time => mark.time as f64,
    })
}

fn tick_values(tick: &Tick) -> [f64; TICK_SLOTS] {
    TickSlot::ALL.map(|slot| match slot {
        TickSlot::Bid => tick.bid.to_f64(),
        TickSlot::BidQty => tick.bid_qty.to_f64(),
        TickSlot::Ask => tick.ask.to_f64(),
        TickSlot::AskQty => tick.ask_qty.to_f64(),
        TickSlot::Last => optional_f64(tick.last),
        TickSlot::Time => tick.time as f64,
        // Exact below 2^53, which Binance's update ids are far from.
        TickSlot::UpdateId => tick.update_id.map_or(f64::NAN, |id| id as f64),
    })
}

fn position_values(position: &Position) -> [f64; POSITION_SLOTS] {
    PositionSlot::ALL.map(|slot| match slot {
        PositionSlot::Amount => position.amount.to_f64(),
        PositionSlot::EntryPrice => optional_f64(position.entry_price),
        PositionSlot::UnrealizedPnl => optional_f64(position.unrealized_pnl),
        PositionSlot::MarkPrice => optional_f64(position.mark_price),
        PositionSlot::UpdateTime => position.update_time as f64,
    })
}

fn balance_values(balance: &Balance) -> [f64; BALANCE_SLOTS] {
    BalanceSlot::ALL.map(|slot| match slot {
        BalanceSlot::Wallet => balance.wallet_balance.to_f64(),
        BalanceSlot::CrossWallet => optional_f64(balance.cross_wallet_balance),
        BalanceSlot::Available => optional_f64(balance.available_balance),
        BalanceSlot::UnrealizedPnl => optional_f64(balance.unrealized_pnl),
        BalanceSlot::UpdateTime => balance.update_time as f64,
    })
}

/// Stores `record` under `key`, creating the view (and its block) on first sight.
fn put_record<K, T, const N: usize>(
    map: &mut WordMap<K, RecordView<T>>,
    key: K,
    record: T,
    values: [f64; N],
    written: Written,
) where
    K: std::hash::Hash + Eq,
{
    let view = match map.entry(key) {
        Entry::Occupied(entry) => {
            let view = entry.into_mut();
            view.record = record;
            view.written = written;
            view
        }
        Entry::Vacant(entry) => entry.insert(RecordView {
            record,
            values: new_block(N),
            written,
        }),
    };
    for (slot, value) in values.into_iter().enumerate() {
        store(&view.values, slot, value);
    }
}

/// Sequencing state of one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamState {
    /// The seq the next Delta must carry.
    pub expected_seq: u64,
    /// True after a gap (or a delta before any snapshot) until a snapshot arrives.
    pub stale: bool,
    /// The hub turn of the stream's last frame (a wire-2 snapshot's or compact frame's), which
    /// its next compact frame counts from; 0 when unknown (wire 1).
    pub turn: u64,
}

/// What applying one frame did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// A Delta frame in sequence; `deltas` entity changes applied.
    Applied { stream: u32, seq: u64, deltas: usize },
    /// A Snapshot replaced the entities it carries (a whole one, or the last chunk completed
    /// one); the stream is in sync from `seq + 1`.
    SnapshotApplied { stream: u32, seq: u64 },
    /// A chunk of a snapshot, held until the snapshot's last chunk arrives.
    SnapshotChunk { stream: u32, seq: u64, chunk: Chunk },
    /// A chunk that continues no snapshot in progress (one before it is missing, or it belongs to
    /// another seq); the snapshot in progress, if any, was dropped. `resync` when the stream is
    /// not in sync (no snapshot yet, or stale): the caller must ask for a snapshot.
    ChunkDropped {
        stream: u32,
        seq: u64,
        chunk: Chunk,
        resync: bool,
    },
    /// Already applied (a Delta below the expected seq, or a Snapshot older than the state held).
    Duplicate { stream: u32, seq: u64 },
    /// A Delta beyond the expected seq (`expected` is `None` when the stream had no snapshot
    /// yet): the stream is now stale and the caller must ask the hub for a snapshot.
    Gap {
        stream: u32,
        expected: Option<u64>,
        got: u64,
    },
    /// A compact Delta frame in sequence with `rows` kline rows relative to versions the book
    /// does not hold (it missed one, or holds a newer one): those rows were not applied, the
    /// rest of the frame was, and the stream is stale until a snapshot arrives (ask for one).
    BaseMismatch { stream: u32, seq: u64, rows: usize },
    /// A Delta of a stale stream, ignored until the snapshot arrives.
    IgnoredStale { stream: u32, seq: u64 },
    /// A frame kind a trader does not apply (Ingest).
    WrongKind { kind: FrameKind },
}

impl ApplyOutcome {
    /// True when the caller must request a snapshot for the stream.
    pub fn needs_snapshot(&self) -> bool {
        matches!(
            self,
            ApplyOutcome::Gap { .. }
                | ApplyOutcome::ChunkDropped { resync: true, .. }
                | ApplyOutcome::BaseMismatch { .. }
        )
    }

    /// What became of the frame, as reported per frame by [`TraderBook::apply_many`].
    pub fn result(&self) -> FrameResult {
        match self {
            ApplyOutcome::Applied { .. } => FrameResult::Applied,
            ApplyOutcome::SnapshotApplied { .. } => FrameResult::Snapshot,
            ApplyOutcome::SnapshotChunk { .. } => FrameResult::Chunk,
            ApplyOutcome::ChunkDropped { .. } => FrameResult::ChunkDropped,
            ApplyOutcome::Duplicate { .. } => FrameResult::Duplicate,
            ApplyOutcome::Gap { .. } => FrameResult::Gap,
            ApplyOutcome::IgnoredStale { .. } => FrameResult::Stale,
            ApplyOutcome::WrongKind { .. } => FrameResult::WrongKind,
            ApplyOutcome::BaseMismatch { .. } => FrameResult::BaseMismatch,
        }
    }
}

/// What became of one frame of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameResult {
    /// A Delta in sequence, applied.
    Applied = 0,
    /// A snapshot applied (whole, or completed by this chunk): the stream is in sync.
    Snapshot = 1,
    /// A snapshot chunk held until the last one arrives.
    Chunk = 2,
    /// Already applied.
    Duplicate = 3,
    /// A sequence gap: the stream is stale and needs a snapshot.
    Gap = 4,
    /// A Delta of a stale stream, ignored.
    Stale = 5,
    /// A chunk that continued no snapshot in progress.
    ChunkDropped = 6,
    /// A frame kind a trader does not apply.
    WrongKind = 7,
    /// Undecodable.
    Invalid = 8,
    /// A compact frame with rows relative to versions the book does not hold: the stream needs
    /// a snapshot.
    BaseMismatch = 9,
}

impl FrameResult {
    /// Every result in code order.
    pub const ALL: [FrameResult; 10] = [
        FrameResult::Applied,
        FrameResult::Snapshot,
        FrameResult::Chunk,
        FrameResult::Duplicate,
        FrameResult::Gap,
        FrameResult::Stale,
        FrameResult::ChunkDropped,
        FrameResult::WrongKind,
        FrameResult::Invalid,
        FrameResult::BaseMismatch,
    ];

    /// The label JavaScript sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            FrameResult::Applied => "applied",
            FrameResult::Snapshot => "snapshot",
            FrameResult::Chunk => "chunk",
            FrameResult::Duplicate => "duplicate",
            FrameResult::Gap => "gap",
            FrameResult::Stale => "stale",
            FrameResult::ChunkDropped => "chunkDropped",
            FrameResult::WrongKind => "wrongKind",
            FrameResult::Invalid => "invalid",
            FrameResult::BaseMismatch => "baseMismatch",
        }
    }
}

/// One frame of a batch: what it was (its header; `None` when it did not decode) and what
/// became of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameReport {
    pub header: Option<FrameHeader>,
    pub result: FrameResult,
}

/// A frame of a batch that needs the caller's attention, with its index in the batch: a gap or a
/// dropped chunk of a stream out of sync (ask for a snapshot), a wrong kind, an undecodable frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyIssue {
    pub index: usize,
    pub outcome: Result<ApplyOutcome, FrameError>,
}

/// What a batch of frames did: counts of the normal outcomes, every frame's report, and the
/// frames that need attention. Counts are added up here and nowhere else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Deltas applied.
    pub applied: usize,
    /// Snapshots completed (whole frames, or last chunks).
    pub snapshots: usize,
    /// Snapshot chunks held for later.
    pub chunks: usize,
    pub duplicates: usize,
    pub ignored_stale: usize,
    /// One per frame, in order.
    pub frames: Vec<FrameReport>,
    pub issues: Vec<ApplyIssue>,
}

impl ApplyReport {
    /// Empties the report, keeping its allocations.
    pub fn clear(&mut self) {
        self.applied = 0;
        self.snapshots = 0;
        self.chunks = 0;
        self.duplicates = 0;
        self.ignored_stale = 0;
        self.frames.clear();
        self.issues.clear();
    }

    /// Counts frame `index`'s outcome (or decode error).
    pub fn count(&mut self, index: usize, header: Option<FrameHeader>, outcome: Result<ApplyOutcome, FrameError>) {
        let result = outcome.as_ref().map_or(FrameResult::Invalid, ApplyOutcome::result);
        self.frames.push(FrameReport { header, result });
        match result {
            FrameResult::Applied => self.applied += 1,
            FrameResult::Snapshot => self.snapshots += 1,
            FrameResult::Chunk => self.chunks += 1,
            FrameResult::Duplicate => self.duplicates += 1,
            FrameResult::Stale => self.ignored_stale += 1,
            FrameResult::ChunkDropped if !outcome.as_ref().is_ok_and(ApplyOutcome::needs_snapshot) => {}
            FrameResult::Gap
            | FrameResult::ChunkDropped
            | FrameResult::WrongKind
            | FrameResult::Invalid
            | FrameResult::BaseMismatch => self.issues.push(ApplyIssue { index, outcome }),
        }
    }
}

/// Counters of what the book did with the frames it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TraderBookStats {
    /// Frames applied: in-sequence Deltas and Snapshots.
    pub frames_applied: u64,
    /// Entity changes applied from Delta frames.
    pub deltas_applied: u64,
    pub duplicates: u64,
    pub gaps: u64,
    /// Delta frames ignored because their stream was stale.
    pub ignored_while_stale: u64,
    pub snapshots: u64,
    /// Frames of a kind the trader does not apply.
    pub wrong_kind: u64,
    /// Snapshot chunks received (completed snapshots count once in `snapshots`).
    pub snapshot_chunks: u64,
    /// Chunked snapshots dropped before they completed (a missing chunk, a new snapshot or a
    /// delta mid-way), and chunks that continued none.
    pub snapshots_dropped: u64,
    /// Kline deltas older than every bar of a full window.
    pub old_klines_dropped: u64,
    /// Compact kline rows not applied because the book did not hold their base version.
    pub base_mismatches: u64,
    /// Compact kline rows whose version the book already held (another stream carried it).
    pub rows_already_held: u64,
    /// Klines of a hand-built frame that no wire frame can carry (a mantissa beyond 64 bits),
    /// dropped: a decoded frame never has one.
    pub unrepresentable_klines: u64,
}

/// The trader's local book.
#[derive(Debug)]
pub struct TraderBook {
    window: usize,
    streams: WordMap<u32, StreamState>,
    series: WordMap<(SymbolId, Interval), KlineSeries>,
    ticks: WordMap<SymbolId, TickView>,
    marks: WordMap<SymbolId, MarkView>,
    positions: WordMap<(SymbolId, PositionSide), PositionView>,
    balances: WordMap<Asset, BalanceView>,
    ban_list: BanList,
    stats: TraderBookStats,
    /// Chunked snapshots in progress, by stream.
    assemblies: WordMap<u32, Assembly>,
    /// What the last apply wrote.
    changes: BookChanges,
    /// The vectors Delta frames are decoded into, kept between frames.
    buffers: DecodeBuffers,
}

/// A chunked snapshot being received: the chunks so far, in order.
#[derive(Debug)]
struct Assembly {
    seq: u64,
    count: u32,
    parts: Vec<(FrameHeader, Snapshot)>,
}

impl Default for TraderBook {
    fn default() -> Self {
        TraderBook::new()
    }
}

impl TraderBook {
    /// A book keeping [`DEFAULT_WINDOW`] klines per series.
    pub fn new() -> TraderBook {
        TraderBook::with_window(DEFAULT_WINDOW)
    }

    /// A book keeping `window` klines per series (at least 1).
    pub fn with_window(window: usize) -> TraderBook {
        TraderBook {
            window: window.max(1),
            streams: WordMap::default(),
            series: WordMap::default(),
            ticks: WordMap::default(),
            marks: WordMap::default(),
            positions: WordMap::default(),
            balances: WordMap::default(),
            ban_list: BanList::default(),
            stats: TraderBookStats::default(),
            assemblies: WordMap::default(),
            changes: BookChanges::default(),
            buffers: DecodeBuffers::default(),
        }
    }

    /// Klines kept per series.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Decodes and applies one frame.
    pub fn apply_bytes(&mut self, bytes: &[u8]) -> Result<ApplyOutcome, FrameError> {
        self.changes.clear();
        let frame = decode_frame_with(bytes, &mut self.buffers)?;
        Ok(self.apply_owned(frame.header, frame.payload))
    }

    /// Decodes and applies frames in order, reporting each (see [`ApplyReport`]); an undecodable
    /// frame is reported, never stops the batch.
    pub fn apply_many<'f>(&mut self, frames: impl IntoIterator<Item = &'f [u8]>) -> ApplyReport {
        let mut report = ApplyReport::default();
        self.apply_many_into(frames, &mut report);
        report
    }

    /// [`TraderBook::apply_many`] into a report the caller keeps between batches (cleared first),
    /// so a batch allocates nothing once the report has grown to the batch size.
    pub fn apply_many_into<'f>(&mut self, frames: impl IntoIterator<Item = &'f [u8]>, report: &mut ApplyReport) {
        report.clear();
        self.changes.clear();
        for (index, bytes) in frames.into_iter().enumerate() {
            match decode_frame_with(bytes, &mut self.buffers) {
                Ok(frame) => {
                    let outcome = self.apply_owned(frame.header, frame.payload);
                    report.count(index, Some(frame.header), Ok(outcome));
                }
                Err(error) => report.count(index, None, Err(error)),
            }
        }
    }

    /// Applies one decoded frame under the sequencing rules of the module doc.
    pub fn apply(&mut self, frame: &Frame) -> ApplyOutcome {
        self.changes.clear();
        self.apply_owned(frame.header, frame.payload.clone())
    }

    /// [`TraderBook::apply`] of a frame the book may keep (a snapshot chunk is held as it is).
    fn apply_owned(&mut self, header: FrameHeader, payload: FramePayload) -> ApplyOutcome {
        let (stream, seq) = (header.stream, header.seq);
        match (payload, header.kind) {
            (FramePayload::Snapshot(snapshot), FrameKind::Snapshot) if header.chunk == Chunk::WHOLE => {
                if self.assemblies.remove(&stream).is_some() {
                    self.stats.snapshots_dropped += 1;
                }
                if self.is_older_than_held(stream, seq) {
                    self.stats.duplicates += 1;
                    return ApplyOutcome::Duplicate { stream, seq };
                }
                self.complete_snapshot(stream, seq, [(header, snapshot)])
            }
            (FramePayload::Snapshot(snapshot), FrameKind::Snapshot) => self.apply_chunk(header, snapshot),
            (FramePayload::Deltas(deltas), FrameKind::Delta) => {
                self.drop_assembly(stream);
                let outcome = self.apply_deltas(&header, &deltas);
                self.buffers.recycle(FramePayload::Deltas(deltas));
                outcome
            }
            (FramePayload::Compact(compact), FrameKind::Delta) => {
                self.drop_assembly(stream);
                let outcome = self.apply_compact(&header, &compact);
                self.buffers.recycle(FramePayload::Compact(compact));
                outcome
            }
            (payload, kind) => {
                self.buffers.recycle(payload);
                self.stats.wrong_kind += 1;
                ApplyOutcome::WrongKind { kind }
            }
        }
    }

    /// A Delta of `stream` ends the stream's snapshot in progress (the rest is not coming).
    fn drop_assembly(&mut self, stream: u32) {
        // Most books have no snapshot in progress: skip the lookup then.
        if !self.assemblies.is_empty() && self.assemblies.remove(&stream).is_some() {
            self.stats.snapshots_dropped += 1;
        }
    }

    /// True when a snapshot at `seq` is older than what a healthy stream already holds: applying
    /// it would roll entities back and make the next in-order delta look like a gap.
    fn is_older_than_held(&self, stream: u32, seq: u64) -> bool {
        self.streams
            .get(&stream)
            .is_some_and(|state| !state.stale && seq.saturating_add(1) < state.expected_seq)
    }

    /// Applies the parts of one snapshot in one step and puts the stream in sync after `seq`.
    fn complete_snapshot(
        &mut self,
        stream: u32,
        seq: u64,
        parts: impl IntoIterator<Item = (FrameHeader, Snapshot)>,
    ) -> ApplyOutcome {
        let mut turn = 0;
        for (header, snapshot) in parts {
            self.apply_snapshot(&header, &snapshot);
            turn = header.turn;
        }
        self.streams.insert(
            stream,
            StreamState {
                expected_seq: seq.saturating_add(1),
                stale: false,
                turn,
            },
        );
        self.stats.snapshots += 1;
        self.stats.frames_applied += 1;
        ApplyOutcome::SnapshotApplied { stream, seq }
    }

    /// One chunk of a chunked snapshot (see the module doc).
    fn apply_chunk(&mut self, header: FrameHeader, snapshot: Snapshot) -> ApplyOutcome {
        let (stream, seq, chunk) = (header.stream, header.seq, header.chunk);
        self.stats.snapshot_chunks += 1;
        if chunk.index == 0 {
            if self.assemblies.remove(&stream).is_some() {
                self.stats.snapshots_dropped += 1;
            }
            if self.is_older_than_held(stream, seq) {
                self.stats.duplicates += 1;
                return ApplyOutcome::Duplicate { stream, seq };
            }
            self.assemblies.insert(
                stream,
                Assembly {
                    seq,
                    count: chunk.count,
                    parts: vec![(header, snapshot)],
                },
            );
            return ApplyOutcome::SnapshotChunk { stream, seq, chunk };
        }
        let continues = self
            .assemblies
            .get(&stream)
            .is_some_and(|a| a.seq == seq && a.count == chunk.count && a.parts.len() == chunk.index as usize);
        if !continues {
            self.assemblies.remove(&stream);
            self.stats.snapshots_dropped += 1;
            let resync = self.streams.get(&stream).is_none_or(|s| s.stale);
            return ApplyOutcome::ChunkDropped {
                stream,
                seq,
                chunk,
                resync,
            };
        }
        if !chunk.is_last() {
            if let Some(assembly) = self.assemblies.get_mut(&stream) {
                assembly.parts.push((header, snapshot));
            }
            return ApplyOutcome::SnapshotChunk { stream, seq, chunk };
        }
        let mut parts = self.assemblies.remove(&stream).map(|a| a.parts).unwrap_or_default();
        parts.push((header, snapshot));
        self.complete_snapshot(stream, seq, parts)
    }

    /// The sequencing rules for a Delta frame of `stream` numbered `seq`: its stream's state
    /// when the frame is the one expected (the caller applies it and advances the state), or
    /// what became of it.
    fn sequence(&mut self, stream: u32, seq: u64) -> Result<&mut StreamState, ApplyOutcome> {
        let state = match self.streams.entry(stream) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                entry.insert(StreamState {
                    expected_seq: 0,
                    stale: true,
                    turn: 0,
                });
                self.stats.gaps += 1;
                return Err(ApplyOutcome::Gap {
                    stream,
                    expected: None,
                    got: seq,
                });
            }
        };
        if state.stale {
            self.stats.ignored_while_stale += 1;
            return Err(ApplyOutcome::IgnoredStale { stream, seq });
        }
        if seq < state.expected_seq {
            self.stats.duplicates += 1;
            return Err(ApplyOutcome::Duplicate { stream, seq });
        }
        if seq > state.expected_seq {
            state.stale = true;
            self.stats.gaps += 1;
            return Err(ApplyOutcome::Gap {
                stream,
                expected: Some(state.expected_seq),
                got: seq,
            });
        }
        Ok(state)
    }

    /// A Delta frame under the sequencing rules.
    fn apply_deltas(&mut self, header: &FrameHeader, deltas: &[Delta]) -> ApplyOutcome {
        let (stream, seq) = (header.stream, header.seq);
        let state = match self.sequence(stream, seq) {
            Ok(state) => state,
            Err(outcome) => return outcome,
        };
        state.expected_seq = seq.saturating_add(1);
        // A wire-1 frame says no turn: what the stream's next compact frame would count from is unknown.
        state.turn = header.turn;
        let written = Written::from_header(header);
        for delta in deltas {
            self.apply_delta(delta, written);
        }
        self.stats.deltas_applied += deltas.len() as u64;
        self.stats.frames_applied += 1;
        ApplyOutcome::Applied {
            stream,
            seq,
            deltas: deltas.len(),
        }
    }

    /// A compact (wire 2 or 3) Delta frame under the sequencing rules: its turn counts from the
    /// stream's last one; each kline row applies only against the version it was written
    /// against (see [`KlineSeries`]); tick rows (wire 3) and the tail apply like a wire-1
    /// frame's deltas.
    fn apply_compact(&mut self, header: &FrameHeader, compact: &CompactDelta) -> ApplyOutcome {
        let (stream, seq) = (header.stream, header.seq);
        let state = match self.sequence(stream, seq) {
            Ok(state) => state,
            Err(outcome) => return outcome,
        };
        state.expected_seq = seq.saturating_add(1);
        // Without the stream's turn (its snapshot was wire 1) no row can be checked.
        let turn = match state.turn {
            0 => None,
            known => known.checked_add(compact.turn_step),
        };
        state.turn = turn.unwrap_or(0);
        let written = Written::from_header(header);
        self.prefetch_entities(compact);
        let mut mismatches = 0;
        let mut applied = 0;
        for row in &compact.rows {
            let outcome = match turn {
                Some(turn) => self.apply_row(row, turn, header.received_at, written),
                None => RowOutcome::Mismatch,
            };
            match outcome {
                RowOutcome::Applied => applied += 1,
                RowOutcome::AlreadyHeld => self.stats.rows_already_held += 1,
                RowOutcome::Dropped => self.stats.old_klines_dropped += 1,
                RowOutcome::Mismatch => mismatches += 1,
            }
        }
        for (symbol, tick) in &compact.ticks {
            self.apply_tick(*symbol, tick, written);
        }
        for delta in &compact.tail {
            self.apply_delta(delta, written);
        }
        let deltas = applied + compact.ticks.len() + compact.tail.len();
        self.stats.deltas_applied += deltas as u64;
        if mismatches > 0 {
            if let Some(state) = self.streams.get_mut(&stream) {
                state.stale = true;
            }
            self.stats.base_mismatches += mismatches as u64;
            return ApplyOutcome::BaseMismatch {
                stream,
                seq,
                rows: mismatches,
            };
        }
        self.stats.frames_applied += 1;
        ApplyOutcome::Applied { stream, seq, deltas }
    }

    /// Hints the lines of every held entity a compact frame updates, before any is applied: the
    /// lookups are independent, so their misses overlap instead of each waiting for the previous
    /// row's work (src/cache_hint.rs). A frame of one entity has nothing to overlap with.
    fn prefetch_entities(&self, compact: &CompactDelta) {
        if compact.rows.len() + compact.ticks.len() < 2 {
            return;
        }
        for row in &compact.rows {
            if let Some(series) = self.series.get(&(row.symbol, row.interval)) {
                series.prefetch_newest();
            }
        }
        for (symbol, _) in &compact.ticks {
            if let Some(view) = self.ticks.get(symbol) {
                view.prefetch();
            }
        }
    }

    /// One compact kline row of a frame of `turn` sent at `sent_at`.
    fn apply_row(&mut self, row: &CompactRow, turn: u64, sent_at: i64, written: Written) -> RowOutcome {
        let key = (row.symbol, row.interval);
        let Some(series) = self.series.get_mut(&key) else {
            if row.has_base() {
                return RowOutcome::Mismatch;
            }
            let Some(bar) = row.resolve(sent_at, None).ok().and_then(CheckedBar::new) else {
                return RowOutcome::Mismatch;
            };
            let open_time = bar.0.open_time;
            let mut series = KlineSeries::new(self.window, written);
            series.upsert(bar, turn);
            self.series.insert(key, series);
            self.changes.push(Change::Kline {
                symbol: row.symbol,
                interval: row.interval,
                open_time,
            });
            return RowOutcome::Applied;
        };
        let base = match (series.position(row.open_time), row.has_base()) {
            (Ok(at), true) => {
                let held = series.turns.get(at).copied().unwrap_or(0);
                if held == turn {
                    return RowOutcome::AlreadyHeld;
                }
                let Some(base_turn) = turn.checked_sub(row.base_back) else {
                    return RowOutcome::Mismatch;
                };
                // The held version is the base's when it was known current at or after the
                // base's publication and before this turn (versions change only at turns).
                if held == 0 || held < base_turn || held > turn {
                    return RowOutcome::Mismatch;
                }
                match series.bars.get(at) {
                    Some(held) => Some(*held),
                    None => return RowOutcome::Mismatch,
                }
            }
            (Ok(at), false) => {
                if series.turns.get(at) == Some(&turn) {
                    return RowOutcome::AlreadyHeld;
                }
                None
            }
            (Err(_), true) if series.is_before_full_window(row.open_time) => return RowOutcome::Dropped,
            (Err(_), true) => return RowOutcome::Mismatch,
            (Err(_), false) => None,
        };
        let Some(bar) = row.resolve(sent_at, base.as_ref()).ok().and_then(CheckedBar::new) else {
            return RowOutcome::Mismatch;
        };
        series.written = written;
        if series.upsert(bar, turn) {
            self.changes.push(Change::Kline {
                symbol: row.symbol,
                interval: row.interval,
                open_time: row.open_time,
            });
            RowOutcome::Applied
        } else {
            RowOutcome::Dropped
        }
    }

    /// Stores a tick as the symbol's top of book (a wire-1 or wire-2 tail's, or a wire-3 row's).
    fn apply_tick(&mut self, symbol: SymbolId, tick: &Tick, written: Written) {
        put_record(&mut self.ticks, symbol, *tick, tick_values(tick), written);
        self.changes.push(Change::Tick(symbol));
    }

    fn apply_delta(&mut self, delta: &Delta, written: Written) {
        match delta {
            Delta::Kline {
                symbol,
                interval,
                kline,
            } => {
                let window = self.window;
                let series = self
                    .series
                    .entry((*symbol, *interval))
                    .or_insert_with(|| KlineSeries::new(window, written));
                series.written = written;
                let Some(bar) = CheckedBar::of(kline) else {
                    self.stats.unrepresentable_klines += 1;
                    return;
                };
                // A wire-1 frame carries no turn: 0, the version's turn is unknown.
                if series.upsert(bar, written.turn) {
                    self.changes.push(Change::Kline {
                        symbol: *symbol,
                        interval: *interval,
                        open_time: kline.open_time,
                    });
                } else {
                    self.stats.old_klines_dropped += 1;
                }
            }
            Delta::Tick { symbol, tick } => self.apply_tick(*symbol, tick, written),
            Delta::Mark { symbol, mark } => {
                put_record(&mut self.marks, *symbol, *mark, mark_values(mark), written);
                self.changes.push(Change::Mark(*symbol));
            }
            Delta::Position { symbol, position } => {
                let values = position_values(position);
                put_record(
                    &mut self.positions,
                    (*symbol, position.side),
                    *position,
                    values,
                    written,
                );
                self.changes.push(Change::Position {
                    symbol: *symbol,
                    side: position.side,
                });
            }
            Delta::Balance { balance } => {
                put_record(
                    &mut self.balances,
                    balance.asset,
                    *balance,
                    balance_values(balance),
                    written,
                );
                self.changes.push(Change::Balance(balance.asset));
            }
            Delta::BanList(list) => {
                self.ban_list = list.clone();
                self.changes.push(Change::BanList);
            }
            // Collector → hub only: a Delta frame cannot carry it (the decoder refuses one).
            Delta::PositionsComplete { .. } => {}
        }
    }

    fn apply_snapshot(&mut self, header: &FrameHeader, snapshot: &Snapshot) {
        let written = Written::from_header(header);
        self.changes.mark_snapshot();
        for KlineWindow {
            symbol,
            interval,
            klines,
        } in &snapshot.klines
        {
            let window = self.window;
            let series = self
                .series
                .entry((*symbol, *interval))
                .or_insert_with(|| KlineSeries::new(window, written));
            series.written = written;
            let bars: Vec<CheckedBar> = klines.iter().filter_map(CheckedBar::of).collect();
            self.stats.unrepresentable_klines += (klines.len() - bars.len()) as u64;
            series.replace(bars, header.turn);
            if let Some(newest) = series.bars.back() {
                self.changes.push(Change::Kline {
                    symbol: *symbol,
                    interval: *interval,
                    open_time: newest.open_time,
                });
            }
        }
        for (symbol, tick) in &snapshot.ticks {
            put_record(&mut self.ticks, *symbol, *tick, tick_values(tick), written);
            self.changes.push(Change::Tick(*symbol));
        }
        for (symbol, mark) in &snapshot.marks {
            put_record(&mut self.marks, *symbol, *mark, mark_values(mark), written);
            self.changes.push(Change::Mark(*symbol));
        }
        for (symbol, position) in &snapshot.positions {
            let values = position_values(position);
            put_record(
                &mut self.positions,
                (*symbol, position.side),
                *position,
                values,
                written,
            );
            self.changes.push(Change::Position {
                symbol: *symbol,
                side: position.side,
            });
        }
        for balance in &snapshot.balances {
            put_record(
                &mut self.balances,
                balance.asset,
                *balance,
                balance_values(balance),
                written,
            );
            self.changes.push(Change::Balance(balance.asset));
        }
        if let Some(list) = &snapshot.ban_list {
            self.ban_list = list.clone();
            self.changes.push(Change::BanList);
        }
    }

    /// Entities the book holds: kline series, ticks, marks, positions and balances. None is ever
    /// removed, so the number changes exactly when an apply creates one (a reader that found an
    /// entity missing need not ask again until it does).
    pub fn entities(&self) -> usize {
        self.series.len() + self.ticks.len() + self.marks.len() + self.positions.len() + self.balances.len()
    }

    /// What the last apply (`apply`, `apply_bytes`, `apply_many`) wrote, in order.
    pub fn changes(&self) -> &BookChanges {
        &self.changes
    }

    /// The row of the bar of `(symbol, interval)` opening at `open_time` in the series' columns
    /// now, if the series holds it (a change's row moves when a newer bar shifts the window).
    pub fn kline_row(&self, symbol: SymbolId, interval: Interval, open_time: i64) -> Option<usize> {
        self.series.get(&(symbol, interval))?.position(open_time).ok()
    }

    /// True while the stream waits for a snapshot after a gap.
    pub fn is_stale(&self, stream: u32) -> bool {
        self.streams.get(&stream).is_some_and(|s| s.stale)
    }

    /// Sequencing state of a stream seen before.
    pub fn stream_state(&self, stream: u32) -> Option<StreamState> {
        self.streams.get(&stream).copied()
    }

    /// Streams waiting for a snapshot, ascending.
    pub fn stale_streams(&self) -> Vec<u32> {
        let mut streams: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, s)| s.stale)
            .map(|(id, _)| *id)
            .collect();
        streams.sort_unstable();
        streams
    }

    /// The kline series of `(symbol, interval)`, once seen.
    pub fn kline_series(&self, symbol: SymbolId, interval: Interval) -> Option<&KlineSeries> {
        self.series.get(&(symbol, interval))
    }

    /// Every kline series, in no particular order.
    pub fn all_kline_series(&self) -> impl Iterator<Item = (SymbolId, Interval, &KlineSeries)> {
        self.series
            .iter()
            .map(|(&(symbol, interval), series)| (symbol, interval, series))
    }

    pub fn tick(&self, symbol: SymbolId) -> Option<&TickView> {
        self.ticks.get(&symbol)
    }

    /// The mark price, index price and funding of `symbol` (live columns: [`MarkSlot`]).
    pub fn mark(&self, symbol: SymbolId) -> Option<&MarkView> {
        self.marks.get(&symbol)
    }

    /// Every tick, in no particular order.
    pub fn ticks(&self) -> impl Iterator<Item = (SymbolId, &TickView)> {
        self.ticks.iter().map(|(&symbol, view)| (symbol, view))
    }

    pub fn position(&self, symbol: SymbolId, side: PositionSide) -> Option<&PositionView> {
        self.positions.get(&(symbol, side))
    }

    /// Every position, in no particular order.
    pub fn positions(&self) -> impl Iterator<Item = (SymbolId, &PositionView)> {
        self.positions.iter().map(|(&(symbol, _), view)| (symbol, view))
    }

    pub fn balance(&self, asset: &Asset) -> Option<&BalanceView> {
        self.balances.get(asset)
    }

    /// Every balance, in no particular order.
    pub fn balances(&self) -> impl Iterator<Item = &BalanceView> {
        self.balances.values()
    }

    pub fn ban_list(&self) -> &BanList {
        &self.ban_list
    }

    /// Everything the book holds, ordered as the hub orders a snapshot (klines by symbol id then
    /// interval, ticks by symbol, positions by symbol then side, balances by asset name), so a
    /// trader's state compares equal to the hub's `MergeBook::snapshot` of the same data.
    pub fn snapshot(&self) -> Snapshot {
        let mut klines: Vec<KlineWindow> = self
            .series
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(&(symbol, interval), s)| KlineWindow {
                symbol,
                interval,
                klines: s.klines(),
            })
            .collect();
        klines.sort_by_key(|w| (w.symbol, w.interval.code()));
        let mut ticks: Vec<(SymbolId, Tick)> = self.ticks.iter().map(|(&s, v)| (s, v.record)).collect();
        ticks.sort_by_key(|(s, _)| *s);
        let mut positions: Vec<(SymbolId, Position)> =
            self.positions.iter().map(|(&(s, _), v)| (s, v.record)).collect();
        positions.sort_by_key(|(s, p)| (*s, p.side));
        let mut balances: Vec<Balance> = self.balances.values().map(|v| v.record).collect();
        balances.sort_by(|a, b| a.asset.as_str().cmp(b.asset.as_str()));
        let mut marks: Vec<(SymbolId, Mark)> = self.marks.iter().map(|(&s, v)| (s, v.record)).collect();
        marks.sort_by_key(|(s, _)| *s);
        Snapshot {
            klines,
            ticks,
            positions,
            balances,
            ban_list: Some(self.ban_list.clone()),
            marks,
        }
    }

    pub fn stats(&self) -> TraderBookStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameEncoder;
    use crate::symbol::Name;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    const BTC: SymbolId = SymbolId(1);

    fn kline(minute: i64) -> Kline {
        // Distinct, non-round values so every column is checked for real.
        let price = Decimal::new(i128::from(7_000_000 + minute * 37), 4).unwrap();
        Kline {
            open_time: minute * 60_000,
            close_time: minute * 60_000 + 59_999,
            open: price,
            high: price.checked_add(&d("0.0150")).unwrap(),
            low: price.checked_sub(&d("0.0075")).unwrap(),
            close: price.checked_add(&d("0.0003")).unwrap(),
            volume: Decimal::new(i128::from(1000 + minute), 3).unwrap(),
            quote_volume: Decimal::new(i128::from(700_000 + minute * 11), 5).unwrap(),
            trades: 10 + minute as u64,
            taker_buy_volume: Decimal::new(i128::from(500 + minute), 3).unwrap(),
            taker_buy_quote_volume: Decimal::new(i128::from(350_000 + minute * 7), 5).unwrap(),
            first_trade_id: None,
            last_trade_id: None,
            closed: true,
            as_of: 0,
        }
    }

    fn header(kind: FrameKind, stream: u32, seq: u64) -> FrameHeader {
        FrameHeader {
            kind,
            stream,
            seq,
            source: SourceId(2),
            received_at: 1_000 + seq as i64,
            chunk: crate::frame::Chunk::WHOLE,
            turn: 0,
        }
    }

    fn delta_frame(stream: u32, seq: u64, deltas: Vec<Delta>) -> Frame {
        Frame {
            header: header(FrameKind::Delta, stream, seq),
            payload: FramePayload::Deltas(deltas),
        }
    }

    fn snapshot_frame(stream: u32, seq: u64, snapshot: Snapshot) -> Frame {
        Frame {
            header: header(FrameKind::Snapshot, stream, seq),
            payload: FramePayload::Snapshot(snapshot),
        }
    }

    fn kline_delta(minute: i64) -> Delta {
        Delta::Kline {
            symbol: BTC,
            interval: Interval::M1,
            kline: kline(minute),
        }
    }

    fn window_snapshot(minutes: std::ops::Range<i64>) -> Snapshot {
        Snapshot {
            klines: vec![KlineWindow {
                symbol: BTC,
                interval: Interval::M1,
                klines: minutes.map(kline).collect(),
            }],
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_kline_no_wire_frame_can_carry_is_dropped_and_counted() {
        let mut book = TraderBook::new();
        book.apply(&snapshot_frame(7, 1, window_snapshot(0..3)));
        let mut wide = kline(3);
        wide.volume = Decimal::new(i128::from(i64::MAX) * 4, 3).unwrap();
        let outcome = book.apply(&delta_frame(
            7,
            2,
            vec![Delta::Kline {
                symbol: BTC,
                interval: Interval::M1,
                kline: wide,
            }],
        ));
        assert!(matches!(outcome, ApplyOutcome::Applied { .. }));
        assert_eq!(book.stats().unrepresentable_klines, 1);
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines(), vec![kline(0), kline(1), kline(2)]);
        assert_columns_match(series);
        // In a snapshot too: the rest of the window applies.
        let mut snapshot = window_snapshot(10..13);
        snapshot.klines[0].klines[1] = wide;
        book.apply(&snapshot_frame(7, 3, snapshot));
        assert_eq!(book.stats().unrepresentable_klines, 2);
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines(), vec![kline(10), kline(12)]);
        assert_columns_match(series);
    }

    /// The columns JavaScript sees equal the exact klines' `to_f64()` values, and rows past
    /// `len` are NaN.
    fn assert_columns_match(series: &KlineSeries) {
        let cap = series.capacity();
        let block = series.columns();
        assert_eq!(block.len(), KLINE_COLUMNS * cap + 1);
        assert_eq!(load_f64(block, KLINE_COLUMNS * cap), Some(series.len() as f64));
        for (row, k) in series.klines().iter().enumerate() {
            let expected = [
                k.open_time as f64,
                k.close_time as f64,
                k.open.to_f64(),
                k.high.to_f64(),
                k.low.to_f64(),
                k.close.to_f64(),
                k.volume.to_f64(),
                k.quote_volume.to_f64(),
                k.trades as f64,
                k.taker_buy_volume.to_f64(),
                k.taker_buy_quote_volume.to_f64(),
                f64::from(u8::from(k.closed)),
            ];
            for (column, value) in expected.into_iter().enumerate() {
                assert_eq!(
                    load_f64(block, column * cap + row),
                    Some(value),
                    "row {row} column {column}"
                );
            }
        }
        for row in series.len()..cap {
            for column in 0..KLINE_COLUMNS {
                assert!(load_f64(block, column * cap + row).unwrap().is_nan());
            }
        }
        assert_eq!(series.value(KlineColumn::Close, series.len()), None);
    }

    #[test]
    fn first_frame_must_be_a_snapshot() {
        let mut book = TraderBook::new();
        assert_eq!(
            book.apply(&delta_frame(4, 10, vec![kline_delta(0)])),
            ApplyOutcome::Gap {
                stream: 4,
                expected: None,
                got: 10
            }
        );
        assert!(book.is_stale(4));
        assert!(book.kline_series(BTC, Interval::M1).is_none());
        assert_eq!(
            book.apply(&delta_frame(4, 11, vec![kline_delta(1)])),
            ApplyOutcome::IgnoredStale { stream: 4, seq: 11 }
        );
        assert_eq!(
            book.apply(&snapshot_frame(4, 11, window_snapshot(0..2))),
            ApplyOutcome::SnapshotApplied { stream: 4, seq: 11 }
        );
        assert!(!book.is_stale(4));
        assert_eq!(
            book.stream_state(4),
            Some(StreamState {
                expected_seq: 12,
                stale: false,
                turn: 0
            })
        );
        assert_eq!(
            book.apply(&delta_frame(4, 12, vec![kline_delta(2)])),
            ApplyOutcome::Applied {
                stream: 4,
                seq: 12,
                deltas: 1
            }
        );
        assert_eq!(book.kline_series(BTC, Interval::M1).unwrap().len(), 3);
    }

    #[test]
    fn in_order_duplicate_gap_stale_and_recovery() {
        let mut book = TraderBook::new();
        book.apply(&snapshot_frame(1, 100, window_snapshot(0..3)));
        assert!(matches!(
            book.apply(&delta_frame(1, 101, vec![kline_delta(3)])),
            ApplyOutcome::Applied { deltas: 1, .. }
        ));
        // Replayed frame: ignored.
        assert_eq!(
            book.apply(&delta_frame(1, 101, vec![kline_delta(50)])),
            ApplyOutcome::Duplicate { stream: 1, seq: 101 }
        );
        assert_eq!(book.kline_series(BTC, Interval::M1).unwrap().len(), 4);
        // 102 lost: 103 is a gap, nothing applies.
        assert_eq!(
            book.apply(&delta_frame(1, 103, vec![kline_delta(5)])),
            ApplyOutcome::Gap {
                stream: 1,
                expected: Some(102),
                got: 103
            }
        );
        // Only the gap itself asks for a snapshot; later frames of the stale stream do not.
        assert_eq!(
            book.apply(&delta_frame(1, 104, vec![])),
            ApplyOutcome::IgnoredStale { stream: 1, seq: 104 }
        );
        assert!(book.is_stale(1));
        assert_eq!(book.stale_streams(), vec![1]);
        // Even the missing seq is ignored while stale: only a snapshot recovers.
        assert_eq!(
            book.apply(&delta_frame(1, 102, vec![kline_delta(4)])),
            ApplyOutcome::IgnoredStale { stream: 1, seq: 102 }
        );
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines().last().unwrap().open_time, kline(3).open_time);
        // Other streams are unaffected.
        assert!(!book.is_stale(2));

        book.apply(&snapshot_frame(1, 110, window_snapshot(0..6)));
        assert!(!book.is_stale(1));
        assert!(book.stale_streams().is_empty());
        assert!(matches!(
            book.apply(&delta_frame(1, 111, vec![kline_delta(6)])),
            ApplyOutcome::Applied { seq: 111, .. }
        ));
        // A snapshot older than the state held is a duplicate, not a rollback.
        assert_eq!(
            book.apply(&snapshot_frame(1, 105, window_snapshot(0..1))),
            ApplyOutcome::Duplicate { stream: 1, seq: 105 }
        );
        assert_eq!(book.kline_series(BTC, Interval::M1).unwrap().len(), 7);

        let stats = book.stats();
        assert_eq!(
            stats,
            TraderBookStats {
                frames_applied: 4,
                deltas_applied: 2,
                duplicates: 2,
                gaps: 1,
                ignored_while_stale: 2,
                snapshots: 2,
                wrong_kind: 0,
                snapshot_chunks: 0,
                snapshots_dropped: 0,
                old_klines_dropped: 0,
                base_mismatches: 0,
                rows_already_held: 0,
                unrepresentable_klines: 0,
            }
        );
    }

    #[test]
    fn window_shifts_in_place_and_columns_follow() {
        let mut book = TraderBook::with_window(5);
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..1)));
        let block = Arc::clone(book.kline_series(BTC, Interval::M1).unwrap().columns());
        assert_columns_match(book.kline_series(BTC, Interval::M1).unwrap());
        for minute in 1..200 {
            // A normal delta: the previous bar's final version and the new open bar.
            let open = Kline {
                closed: false,
                ..kline(minute)
            };
            let deltas = vec![
                kline_delta(minute - 1),
                Delta::Kline {
                    symbol: BTC,
                    interval: Interval::M1,
                    kline: open,
                },
            ];
            book.apply(&delta_frame(1, minute as u64, deltas));
            let series = book.kline_series(BTC, Interval::M1).unwrap();
            assert_eq!(series.len(), (minute as usize + 1).min(5));
            assert_columns_match(series);
            // The block handed to JavaScript is the same allocation throughout.
            assert!(Arc::ptr_eq(series.columns(), &block));
        }
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        let opens: Vec<i64> = series.klines().iter().map(|k| k.open_time / 60_000).collect();
        assert_eq!(opens, vec![195, 196, 197, 198, 199]);
        assert!(!series.klines()[4].closed);
        assert_eq!(series.value(KlineColumn::OpenTime, 0), Some(195.0 * 60_000.0));
        // The block outlives the book while a clone is held.
        drop(book);
        assert_eq!(load_f64(&block, 4), Some(199.0 * 60_000.0));
    }

    #[test]
    fn a_new_version_of_a_bar_rewrites_exactly_its_changed_columns() {
        // Only the columns that changed are written in place (`write_changed`): every column
        // must still read the new version, whichever fields and scales changed.
        let mut book = TraderBook::with_window(4);
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..3)));
        let base = Kline {
            closed: false,
            ..kline(2)
        };
        let versions: Vec<Kline> = vec![
            base,
            // The usual update: close, volumes, trades.
            Kline {
                close: d("700.0080"),
                volume: d("1.500"),
                quote_volume: d("1050.01234"),
                taker_buy_volume: d("0.700"),
                taker_buy_quote_volume: d("490.00111"),
                trades: 40,
                ..base
            },
            // A new high and low, the same values at another scale, then other scales.
            Kline {
                high: d("700.9000"),
                low: d("699.1000"),
                ..base
            },
            Kline {
                high: d("700.9"),
                low: d("699.1"),
                close: d("700.25"),
                volume: d("1.5"),
                quote_volume: d("1050.5"),
                ..base
            },
            Kline {
                open: d("700.00371"),
                taker_buy_volume: d("0.7001"),
                taker_buy_quote_volume: d("490.1"),
                ..base
            },
            // Nothing changed at all, then the bar closes.
            Kline {
                open: d("700.00371"),
                taker_buy_volume: d("0.7001"),
                taker_buy_quote_volume: d("490.1"),
                ..base
            },
            Kline { closed: true, ..base },
            Kline { closed: false, ..base },
            // Every mantissa the same and only the scales changed: every value is new.
            Kline {
                open: d("700.00"),
                high: d("700.90"),
                low: d("699.10"),
                close: d("700.25"),
                volume: d("1.5"),
                taker_buy_volume: d("0.7"),
                quote_volume: d("1050.5"),
                taker_buy_quote_volume: d("490.1"),
                ..base
            },
            Kline {
                open: d("7.0000"),
                high: d("7.0090"),
                low: d("6.9910"),
                close: d("7.0025"),
                volume: d("0.015"),
                taker_buy_volume: d("0.007"),
                quote_volume: d("10.505"),
                taker_buy_quote_volume: d("4.901"),
                ..base
            },
        ];
        for (seq, version) in versions.into_iter().enumerate() {
            let delta = Delta::Kline {
                symbol: BTC,
                interval: Interval::M1,
                kline: version,
            };
            book.apply(&delta_frame(1, seq as u64 + 1, vec![delta]));
            let series = book.kline_series(BTC, Interval::M1).unwrap();
            assert_eq!(series.klines().last(), Some(&version), "version {seq}");
            assert_columns_match(series);
        }
    }

    #[test]
    fn out_of_order_klines_insert_or_drop() {
        let mut book = TraderBook::with_window(4);
        book.apply(&snapshot_frame(1, 0, window_snapshot(10..12)));
        // A missing older bar inside a window that is not full is inserted in order.
        book.apply(&delta_frame(1, 1, vec![kline_delta(8), kline_delta(9)]));
        let opens = |book: &TraderBook| -> Vec<i64> {
            book.kline_series(BTC, Interval::M1)
                .unwrap()
                .klines()
                .iter()
                .map(|k| k.open_time / 60_000)
                .collect()
        };
        assert_eq!(opens(&book), vec![8, 9, 10, 11]);
        // Older than the whole full window: dropped and counted.
        book.apply(&delta_frame(1, 2, vec![kline_delta(3)]));
        assert_eq!(opens(&book), vec![8, 9, 10, 11]);
        assert_eq!(book.stats().old_klines_dropped, 1);
        // Full window, a gap bar in the middle: the oldest goes.
        book.apply(&delta_frame(1, 3, vec![kline_delta(13)]));
        book.apply(&delta_frame(1, 4, vec![kline_delta(12)]));
        assert_eq!(opens(&book), vec![10, 11, 12, 13]);
        assert_columns_match(book.kline_series(BTC, Interval::M1).unwrap());
    }

    proptest::proptest! {
        /// Whatever order bars arrive in, the window holds the newest `capacity` open times it
        /// was given (a bar older than a full window dropped) with each one's latest version, and
        /// the columns JavaScript reads match the bars after every frame: rows moved when the
        /// window shifts or a missing bar is inserted are copied, not rewritten, so a wrong move
        /// shows here.
        #[test]
        fn the_columns_follow_any_order_of_bars(
            capacity in 1usize..7,
            bars in proptest::collection::vec((0i64..24, 0u64..3), 1..80),
        ) {
            let mut book = TraderBook::with_window(capacity);
            book.apply(&snapshot_frame(1, 0, window_snapshot(0..0)));
            let mut model = std::collections::BTreeMap::new();
            for (seq, &(minute, version)) in bars.iter().enumerate() {
                let bar = Kline { trades: 1_000 + version, ..kline(minute) };
                let delta = Delta::Kline { symbol: BTC, interval: Interval::M1, kline: bar };
                book.apply(&delta_frame(1, seq as u64 + 1, vec![delta]));
                let full = model.len() >= capacity;
                if !(full && model.keys().next().is_some_and(|&oldest| minute < oldest)) {
                    model.insert(minute, bar.trades);
                    if model.len() > capacity {
                        model.pop_first();
                    }
                }
                let series = book.kline_series(BTC, Interval::M1).unwrap();
                let held: Vec<(i64, u64)> =
                    series.klines().iter().map(|k| (k.open_time / 60_000, k.trades)).collect();
                let expected: Vec<(i64, u64)> = model.iter().map(|(&m, &t)| (m, t)).collect();
                proptest::prop_assert_eq!(held, expected);
                assert_columns_match(series);
            }
        }
    }

    #[test]
    fn snapshot_replaces_the_series_it_carries() {
        let mut book = TraderBook::with_window(5);
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..5)));
        let other = SymbolId(9);
        book.apply(&delta_frame(
            1,
            1,
            vec![Delta::Kline {
                symbol: other,
                interval: Interval::H1,
                kline: kline(0),
            }],
        ));
        // Fewer rows, unsorted, with a duplicate open time (the later one wins).
        let mut replacement = kline(21);
        replacement.trades = 999;
        let snapshot = Snapshot {
            klines: vec![KlineWindow {
                symbol: BTC,
                interval: Interval::M1,
                klines: vec![kline(21), kline(20), replacement],
            }],
            ..Snapshot::default()
        };
        book.apply(&snapshot_frame(1, 7, snapshot));
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines(), &[kline(20), replacement]);
        assert_eq!(series.klines()[1].trades, 999);
        assert_columns_match(series);
        assert_eq!(series.written().seq, 7);
        // A series the snapshot does not carry is left alone.
        assert_eq!(book.kline_series(other, Interval::H1).unwrap().len(), 1);
        // More rows than the window: the newest are kept.
        book.apply(&snapshot_frame(1, 8, window_snapshot(0..45)));
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines().first().unwrap().open_time, 40 * 60_000);
        assert_columns_match(series);
    }

    /// The bars of `series` by minute.
    fn minutes(series: &KlineSeries) -> Vec<i64> {
        series.klines().iter().map(|k| k.open_time / 60_000).collect()
    }

    #[test]
    fn a_snapshot_keeps_the_held_history_that_leads_into_it() {
        // A hub that restarted holds only minutes 5 and 6; the book held 0..5, all final.
        let mut book = TraderBook::with_window(10);
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..5)));
        let mut restarted = snapshot_frame(1, 1, window_snapshot(5..7));
        restarted.header.turn = 9;
        book.apply(&restarted);
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines(), (0..7).map(kline).collect::<Vec<_>>());
        assert_columns_match(series);
        // The kept bars' versions are unknown (no compact row can be based on them); the
        // snapshot's are its turn's.
        assert_eq!(series.turn_of(4 * 60_000), Some(0));
        assert_eq!(series.turn_of(5 * 60_000), Some(9));
        // The window still holds the newest only.
        let mut small = TraderBook::with_window(5);
        small.apply(&snapshot_frame(1, 0, window_snapshot(0..5)));
        small.apply(&snapshot_frame(1, 1, window_snapshot(5..7)));
        let series = small.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(minutes(series), vec![2, 3, 4, 5, 6]);
        assert_columns_match(series);
    }

    #[test]
    fn a_snapshot_after_a_gap_or_an_unfinished_bar_keeps_no_history() {
        // Minute 5 missing between the held bars and the snapshot: no splice across the gap.
        let mut book = TraderBook::with_window(10);
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..5)));
        book.apply(&snapshot_frame(1, 1, window_snapshot(6..8)));
        assert_eq!(minutes(book.kline_series(BTC, Interval::M1).unwrap()), vec![6, 7]);
        // The held minute 4 never closed (the hub went away first): its history is not kept.
        let mut book = TraderBook::with_window(10);
        let mut held = window_snapshot(0..5);
        if let Some(last) = held.klines[0].klines.last_mut() {
            last.closed = false;
        }
        book.apply(&snapshot_frame(1, 0, held));
        book.apply(&snapshot_frame(1, 1, window_snapshot(5..7)));
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(minutes(series), vec![5, 6]);
        assert_columns_match(series);
        // Held bars the snapshot's range covers are the snapshot's, whatever was held.
        let mut book = TraderBook::with_window(10);
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..6)));
        let mut corrected = window_snapshot(3..5);
        corrected.klines[0].klines[1].trades = 999;
        book.apply(&snapshot_frame(1, 1, corrected));
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(minutes(series), vec![0, 1, 2, 3, 4]);
        assert_eq!(series.klines()[4].trades, 999);
    }

    #[test]
    fn the_last_writing_stream_is_kept_per_series() {
        let mut book = TraderBook::new();
        book.apply(&snapshot_frame(1, 0, window_snapshot(0..1)));
        book.apply(&snapshot_frame(2, 50, Snapshot::default()));
        assert_eq!(book.kline_series(BTC, Interval::M1).unwrap().stream(), 1);
        book.apply(&delta_frame(2, 51, vec![kline_delta(1)]));
        let written = book.kline_series(BTC, Interval::M1).unwrap().written();
        assert_eq!(
            written,
            Written {
                stream: 2,
                seq: 51,
                source: SourceId(2),
                received_at: 1_051,
                turn: 0
            }
        );
    }

    #[test]
    fn ticks_positions_and_balances_have_views() {
        let mut book = TraderBook::new();
        let usdt = Name::new("USDT").unwrap();
        let tick = Tick {
            bid: d("100.5"),
            bid_qty: d("3"),
            ask: d("100.6"),
            ask_qty: d("0.25"),
            last: None,
            time: 77,
            update_id: Some(5),
        };
        let position = Position {
            side: PositionSide::Short,
            amount: d("-0.004"),
            entry_price: Some(d("100.1")),
            break_even_price: None,
            unrealized_pnl: None,
            mark_price: Some(d("100.55")),
            isolated_wallet: None,
            update_time: 66,
        };
        let balance = Balance {
            asset: usdt,
            wallet_balance: d("1000.5"),
            cross_wallet_balance: None,
            available_balance: Some(d("-2.5")),
            unrealized_pnl: Some(d("0.1")),
            update_time: 55,
        };
        let snapshot = Snapshot {
            ticks: vec![(BTC, tick)],
            positions: vec![(BTC, position)],
            balances: vec![balance],
            ban_list: Some(BanList::new(false, vec![SymbolId(3)])),
            ..Snapshot::default()
        };
        book.apply(&snapshot_frame(1, 0, snapshot));
        let values = |block: &F64Block| -> Vec<f64> { (0..block.len()).map(|i| load_f64(block, i).unwrap()).collect() };

        let view = book.tick(BTC).unwrap();
        assert_eq!(view.record(), &tick);
        let v = values(view.values());
        assert_eq!(v.len(), TICK_SLOTS);
        assert_eq!(&v[..4], &[100.5, 3.0, 100.6, 0.25]);
        assert!(v[TickSlot::Last as usize].is_nan());
        assert_eq!(v[TickSlot::Time as usize], 77.0);
        assert_eq!(v[TickSlot::UpdateId as usize], 5.0);
        let tick_block = Arc::clone(view.values());
        // The snapshot names each entity it wrote.
        assert!(book.changes().had_snapshot());
        assert_eq!(
            book.changes().as_slice(),
            &[
                Change::Tick(BTC),
                Change::Position {
                    symbol: BTC,
                    side: PositionSide::Short
                },
                Change::Balance(usdt),
                Change::BanList
            ]
        );

        let view = book.position(BTC, PositionSide::Short).unwrap();
        assert_eq!(view.record(), &position);
        let v = values(view.values());
        assert_eq!(v[PositionSlot::Amount as usize], -0.004);
        assert_eq!(v[PositionSlot::EntryPrice as usize], 100.1);
        assert!(v[PositionSlot::UnrealizedPnl as usize].is_nan());
        assert_eq!(v[PositionSlot::MarkPrice as usize], 100.55);
        assert_eq!(v[PositionSlot::UpdateTime as usize], 66.0);
        assert!(book.position(BTC, PositionSide::Long).is_none());

        let view = book.balance(&usdt).unwrap();
        assert_eq!(view.record(), &balance);
        assert_eq!(
            values(view.values())[..4]
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>(),
            [1000.5, f64::NAN, -2.5, 0.1]
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        );
        assert!(book.ban_list().is_banned(SymbolId(3)));

        // Deltas update the same blocks in place.
        let newer = Tick {
            last: Some(d("100.55")),
            time: 78,
            ..tick
        };
        book.apply(&delta_frame(
            1,
            1,
            vec![
                Delta::Tick {
                    symbol: BTC,
                    tick: newer,
                },
                Delta::BanList(BanList::new(true, vec![])),
            ],
        ));
        assert!(!book.changes().had_snapshot());
        assert_eq!(book.changes().as_slice(), &[Change::Tick(BTC), Change::BanList]);
        let view = book.tick(BTC).unwrap();
        assert!(Arc::ptr_eq(view.values(), &tick_block));
        assert_eq!(load_f64(&tick_block, TickSlot::Last as usize), Some(100.55));
        assert_eq!(load_f64(&tick_block, TickSlot::Time as usize), Some(78.0));
        assert_eq!(view.record().last, Some(d("100.55")));
        assert!(book.ban_list().all);
        // A snapshot without a ban list leaves it.
        book.apply(&snapshot_frame(1, 5, Snapshot::default()));
        assert!(book.ban_list().all);
        assert_eq!(book.ticks().count(), 1);
        assert_eq!(book.positions().count(), 1);
        assert_eq!(book.balances().count(), 1);
    }

    #[test]
    fn changes_name_what_the_last_apply_wrote_and_nothing_else() {
        let mut book = TraderBook::with_window(4);
        let m1 = |minute: i64| Change::Kline {
            symbol: BTC,
            interval: Interval::M1,
            open_time: minute * 60_000,
        };
        book.apply(&snapshot_frame(1, 0, window_snapshot(10..14)));
        // A snapshot names each series once, by its newest bar.
        assert_eq!(book.changes().as_slice(), &[m1(13)]);
        assert!(book.changes().had_snapshot());
        // Two rows of one bar and a new bar: each written row, in order; the new bar shifted the
        // window, so the older rows moved and the first bar's is gone.
        book.apply(&delta_frame(
            1,
            1,
            vec![kline_delta(13), kline_delta(3), kline_delta(14), kline_delta(10)],
        ));
        // Minute 3 is older than the full window (dropped): not a change.
        assert_eq!(book.changes().as_slice(), &[m1(13), m1(14)]);
        assert!(!book.changes().had_snapshot());
        assert_eq!(book.kline_row(BTC, Interval::M1, 13 * 60_000), Some(2));
        assert_eq!(book.kline_row(BTC, Interval::M1, 14 * 60_000), Some(3));
        assert_eq!(book.kline_row(BTC, Interval::M1, 10 * 60_000), None);
        assert_eq!(book.kline_row(SymbolId(77), Interval::M1, 14 * 60_000), None);
        // A duplicate, a gap and what is ignored while stale write nothing, and each apply starts
        // a new list.
        book.apply(&delta_frame(1, 1, vec![kline_delta(14)]));
        assert!(book.changes().is_empty());
        book.apply(&delta_frame(1, 5, vec![kline_delta(14)]));
        assert!(book.changes().is_empty());
        book.apply(&delta_frame(1, 6, vec![kline_delta(14)]));
        assert!(book.changes().is_empty());
        // A batch lists the changes of all its frames; an undecodable frame adds none.
        let mut encoder = FrameEncoder::new();
        let snapshot = encoder
            .encode_snapshot(&header(FrameKind::Snapshot, 1, 9), &window_snapshot(12..14))
            .unwrap()
            .to_vec();
        let delta = encoder
            .encode_deltas(&header(FrameKind::Delta, 1, 10), &[kline_delta(14)])
            .unwrap()
            .to_vec();
        book.apply_many([snapshot.as_slice(), b"junk".as_slice(), delta.as_slice()]);
        assert_eq!(book.changes().as_slice(), &[m1(13), m1(14)]);
        assert!(book.changes().had_snapshot());
        assert_eq!(book.changes().len(), 2);
    }

    #[test]
    fn ingest_frames_are_not_for_traders() {
        let mut book = TraderBook::new();
        let frame = Frame {
            header: header(FrameKind::Ingest, 1, 0),
            payload: FramePayload::Deltas(vec![kline_delta(0)]),
        };
        assert_eq!(
            book.apply(&frame),
            ApplyOutcome::WrongKind {
                kind: FrameKind::Ingest
            }
        );
        assert_eq!(book.stats().wrong_kind, 1);
        assert!(book.stream_state(1).is_none());
    }

    #[test]
    fn applies_encoded_frames() {
        let mut encoder = FrameEncoder::new();
        let mut book = TraderBook::new();
        let bytes = encoder
            .encode_snapshot(&header(FrameKind::Snapshot, 3, 9), &window_snapshot(0..45))
            .unwrap()
            .to_vec();
        assert_eq!(
            book.apply_bytes(&bytes),
            Ok(ApplyOutcome::SnapshotApplied { stream: 3, seq: 9 })
        );
        let bytes = encoder
            .encode_deltas(&header(FrameKind::Delta, 3, 10), &[kline_delta(45)])
            .unwrap()
            .to_vec();
        assert!(matches!(
            book.apply_bytes(&bytes),
            Ok(ApplyOutcome::Applied { deltas: 1, .. })
        ));
        let series = book.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.len(), DEFAULT_WINDOW);
        assert_eq!(series.klines().last(), Some(&kline(45)));
        assert_columns_match(series);
        assert_eq!(book.apply_bytes(b"nope").unwrap_err().reason(), "bad_identifier");
    }
}
