//! Hub merge book: merges klines, ticks, positions, balances and the ban list from many sources (DESIGN.md 3.2).
//!
//! Several collectors report the same entities (REST polls, websocket streams, account endpoints).
//! The book keeps the best current value of each entity, judged by the data's own ordering (trade
//! counts for open klines, exchange times for everything else), and appends a [`Delta`] to a
//! caller-owned vector for every real change and nothing otherwise.

use crate::account::{Balance, Position, PositionSide};
use crate::cache_hint::{prefetch, prefetch_value};
use crate::decimal::Decimal;
use crate::delta::{BanList, Delta, KlineWindow, Provenance, Snapshot, SnapshotItem};
use crate::frame::{check_balance, check_kline, check_mark, check_position, check_tick, plainly_fits, FrameError};
use crate::interval::{Interval, ALL as ALL_INTERVALS};
use crate::market::{Kline, Mark, Tick};
use crate::symbol::{Asset, SymbolId};
use crate::topic::{kinds, retain_matching, TopicFilter};

/// Bars kept per `(symbol, interval)` unless configured otherwise (the seed reads `limit=45`).
pub const DEFAULT_KLINE_WINDOW: usize = 45;

/// Symbol ids the book accepts unless configured otherwise: far above Binance's few hundred
/// perpetuals, and small enough that a corrupt id cannot make the dense per-symbol table huge.
pub const DEFAULT_MAX_SYMBOLS: u32 = 1 << 16;

const INTERVAL_COUNT: usize = ALL_INTERVALS.len();
const POSITION_SIDES: usize = 3;

/// How the book is sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergeBookConfig {
    /// Bars kept per `(symbol, interval)`; at least 1.
    pub kline_window: usize,
    /// Symbol ids must be below this; at least 1.
    pub max_symbols: u32,
}

impl Default for MergeBookConfig {
    fn default() -> Self {
        MergeBookConfig {
            kline_window: DEFAULT_KLINE_WINDOW,
            max_symbols: DEFAULT_MAX_SYMBOLS,
        }
    }
}

/// What is wrong with a kline the book refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KlineDefect {
    #[error("open time is not on an interval boundary (the bar containing it opens at {expected})")]
    MisalignedOpenTime { expected: i64 },
    #[error("close time is not after the open time")]
    CloseTimeNotAfterOpenTime,
    #[error("close time is past the bar's last millisecond {last}")]
    CloseTimePastBar { last: i64 },
    #[error("high is below low")]
    HighBelowLow,
    #[error("open is outside [low, high]")]
    OpenOutsideRange,
    #[error("close is outside [low, high]")]
    CloseOutsideRange,
    #[error("low price is not positive")]
    NonPositivePrice,
    #[error("a volume is negative")]
    NegativeVolume,
    #[error("taker buy volume exceeds the bar's volume")]
    TakerBuyExceedsVolume,
    #[error("first trade id is after the last trade id")]
    TradeIdsReversed,
}

/// What is wrong with a tick the book refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TickDefect {
    #[error("bid or ask price is negative")]
    NegativePrice,
    #[error("bid or ask quantity is negative")]
    NegativeQuantity,
    #[error("last trade price is not positive")]
    NonPositiveLast,
    #[error("bid is above ask")]
    CrossedBook,
}

/// What is wrong with a mark the book refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MarkDefect {
    #[error("mark price is not positive")]
    NonPositiveMark,
    #[error("index or estimated settle price is negative")]
    NegativeIndex,
    #[error("next funding time is negative")]
    NegativeFundingTime,
}

/// Why the book refused a configuration or an input. Refused inputs are counted and never stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("kline window must hold at least one bar")]
    ZeroKlineWindow,
    #[error("max_symbols must be at least 1")]
    ZeroMaxSymbols,
    #[error("symbol id {} is not below the book's limit of {max}", symbol.0)]
    SymbolOutOfRange { symbol: SymbolId, max: u32 },
    #[error("invalid {interval} kline of symbol id {} opening at {open_time}: {defect}", symbol.0)]
    InvalidKline {
        symbol: SymbolId,
        interval: Interval,
        open_time: i64,
        defect: KlineDefect,
    },
    #[error("invalid tick of symbol id {} at {time}: {defect}", symbol.0)]
    InvalidTick {
        symbol: SymbolId,
        time: i64,
        defect: TickDefect,
    },
    #[error("invalid mark of symbol id {} at {time}: {defect}", symbol.0)]
    InvalidMark {
        symbol: SymbolId,
        time: i64,
        defect: MarkDefect,
    },
    /// Storing the record (or what merging it would make of the stored value) would leave a
    /// value the wire cannot carry: a decimal group whose mantissas do not fit an i64 at their
    /// common scale. The book never holds such a value, so every Delta and Snapshot encodes.
    #[error("{entity} would not travel on the wire: {field} does not fit an i64 mantissa at its group's scale")]
    Unrepresentable { entity: &'static str, field: &'static str },
}

impl MergeError {
    /// A stable short label for counters and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            MergeError::ZeroKlineWindow | MergeError::ZeroMaxSymbols => "invalid_config",
            MergeError::SymbolOutOfRange { .. } => "symbol_out_of_range",
            MergeError::InvalidKline { .. } => "invalid_kline",
            MergeError::InvalidTick { .. } => "invalid_tick",
            MergeError::InvalidMark { .. } => "invalid_mark",
            MergeError::Unrepresentable { .. } => "unrepresentable",
        }
    }
}

/// The merge error for a value the wire cannot carry.
fn unrepresentable(entity: &'static str, error: FrameError) -> MergeError {
    let field = match error {
        FrameError::DecimalOutOfRange { field } => field,
        // The record checks raise nothing else; keep the label if that ever changes.
        other => other.reason(),
    };
    MergeError::Unrepresentable { entity, field }
}

/// Why an input changed nothing although it differs from what the book holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Not newer than the stored value by exchange time: older, or a tie that keeps the first
    /// arrival.
    NotNewer,
    /// The stored bar is closed, and a closed bar is final.
    Closed,
    /// Both versions are open and the incoming one has not seen more trades.
    NotMoreTrades,
    /// The bar is older than the oldest bar of a full window.
    OutsideWindow,
}

/// The result of merging one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The stored value changed; a delta was appended.
    Changed,
    /// The input carried nothing the book did not already hold.
    Unchanged,
    /// The input lost against the stored value.
    Dropped(DropReason),
}

/// Outcomes of a batch merge ([`MergeBook::merge_klines`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeCounts {
    /// Klines that changed the book (one delta each).
    pub changed: usize,
    /// Klines that carried nothing new.
    pub unchanged: usize,
    /// Klines that lost against the stored bar or fell outside the window.
    pub dropped: usize,
}

impl MergeCounts {
    fn add(&mut self, outcome: MergeOutcome) {
        match outcome {
            MergeOutcome::Changed => self.changed += 1,
            MergeOutcome::Unchanged => self.unchanged += 1,
            MergeOutcome::Dropped(_) => self.dropped += 1,
        }
    }
}

/// Counters for one entity kind. Fields that do not apply to a kind stay zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    /// Inputs that changed the stored value.
    pub applied: u64,
    /// Inputs that carried nothing new (identical re-sends).
    pub unchanged: u64,
    /// Inputs not newer by exchange time ([`DropReason::NotNewer`]).
    pub dropped_older: u64,
    /// Kline updates for a bar already closed ([`DropReason::Closed`]).
    pub ignored_closed: u64,
    /// Open kline versions that had not seen more trades ([`DropReason::NotMoreTrades`]).
    pub ignored_not_more_trades: u64,
    /// Klines older than a full window ([`DropReason::OutsideWindow`]).
    pub outside_window: u64,
    /// Inputs refused with a [`MergeError`].
    pub rejected_invalid: u64,
    /// Bars whose close/high/low a tick changed (klines only).
    pub tick_corrections: u64,
}

impl KindStats {
    fn record(&mut self, outcome: MergeOutcome) {
        match outcome {
            MergeOutcome::Changed => self.applied += 1,
            MergeOutcome::Unchanged => self.unchanged += 1,
            MergeOutcome::Dropped(DropReason::NotNewer) => self.dropped_older += 1,
            MergeOutcome::Dropped(DropReason::Closed) => self.ignored_closed += 1,
            MergeOutcome::Dropped(DropReason::NotMoreTrades) => self.ignored_not_more_trades += 1,
            MergeOutcome::Dropped(DropReason::OutsideWindow) => self.outside_window += 1,
        }
    }
}

/// Counters of everything the book did, per entity kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Kline merges, and the tick corrections of bars.
    pub klines: KindStats,
    /// Tick merges.
    pub ticks: KindStats,
    /// Position merges.
    pub positions: KindStats,
    /// Balance merges.
    pub balances: KindStats,
    /// Ban list writes.
    pub ban_list: KindStats,
    /// Mark price / funding merges.
    pub marks: KindStats,
}

/// The hub's merge book. See the module documentation and DESIGN.md 3.2.
#[derive(Debug, Clone)]
pub struct MergeBook {
    config: MergeBookConfig,
    /// Indexed by `SymbolId.0`; boxed so that unused ids cost one pointer.
    symbols: Vec<Option<Box<SymbolBook>>>,
    /// A handful of margin assets: a linear scan beats hashing.
    balances: Vec<Carried<Balance>>,
    ban_list: BanList,
    ban_list_provenance: Option<Provenance>,
    stats: MergeStats,
}

impl MergeBook {
    /// An empty book.
    pub fn new(config: MergeBookConfig) -> Result<Self, MergeError> {
        if config.kline_window == 0 {
            return Err(MergeError::ZeroKlineWindow);
        }
        if config.max_symbols == 0 {
            return Err(MergeError::ZeroMaxSymbols);
        }
        Ok(MergeBook {
            config,
            symbols: Vec::new(),
            balances: Vec::new(),
            ban_list: BanList::default(),
            ban_list_provenance: None,
            stats: MergeStats::default(),
        })
    }

    /// The configuration the book was built with.
    pub fn config(&self) -> MergeBookConfig {
        self.config
    }

    /// Merges one kline of `(symbol, interval)`.
    ///
    /// A new bar is inserted in open-time order; an existing closed bar is final; a closed
    /// version replaces an open one; between open versions the one with the larger
    /// `(trades, volume)` wins, with high only rising and low only falling.
    pub fn merge_kline(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        kline: &Kline,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let result = self.merge_kline_uncounted(symbol, interval, kline, from, out);
        match result {
            Ok(outcome) => self.stats.klines.record(outcome),
            Err(_) => self.stats.klines.rejected_invalid += 1,
        }
        result
    }

    /// Merges a window of klines of one `(symbol, interval)` (a REST poll) in one call.
    ///
    /// The batch is all or nothing: every kline is validated first, and if any is invalid none
    /// is applied, each invalid one is counted, and the first one's error is returned.
    pub fn merge_klines(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        klines: &[Kline],
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeCounts, MergeError> {
        if symbol.0 >= self.config.max_symbols {
            self.stats.klines.rejected_invalid += klines.len() as u64;
            return Err(MergeError::SymbolOutOfRange {
                symbol,
                max: self.config.max_symbols,
            });
        }
        let mut first_error = None;
        for kline in klines {
            if let Err(defect) = validate_kline(interval, kline) {
                self.stats.klines.rejected_invalid += 1;
                first_error.get_or_insert(MergeError::InvalidKline {
                    symbol,
                    interval,
                    open_time: kline.open_time,
                    defect,
                });
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        let mut counts = MergeCounts::default();
        for kline in klines {
            // Validated above: merge without checking each bar a second time.
            let outcome = self.merge_valid_kline(symbol, interval, kline, from, out)?;
            self.stats.klines.record(outcome);
            counts.add(outcome);
        }
        Ok(counts)
    }

    fn merge_kline_uncounted(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        kline: &Kline,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        validate_kline(interval, kline).map_err(|defect| MergeError::InvalidKline {
            symbol,
            interval,
            open_time: kline.open_time,
            defect,
        })?;
        self.merge_valid_kline(symbol, interval, kline, from, out)
    }

    /// Merges a kline already validated with `validate_kline`; counts nothing.
    fn merge_valid_kline(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        kline: &Kline,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let window = self.config.kline_window;
        let book = self.book_mut(symbol)?;
        let series = &mut book.klines[interval.code() as usize];
        series.merge(symbol, interval, kline, from, window, out)
    }

    /// Merges a tick. Its two parts are merged separately, each newest by its own exchange time:
    /// the book (bid/ask and their quantities, `update_id`; on equal times the larger
    /// `update_id` when both carry one, else the first arrival) and the latest traded price
    /// `last` (a tick without a book, see [`Tick::traded`], carries only that). The stored tick
    /// holds the newest of each, timed by its book. A newer traded price then corrects the newest
    /// open bar of every interval of the symbol whose span contains its time; each corrected bar
    /// whose close, high or low changed appends a kline delta after the tick's own delta. Bid,
    /// ask and their midpoint never enter a bar: nothing traded there (DESIGN.md 3.2).
    pub fn merge_tick(
        &mut self,
        symbol: SymbolId,
        tick: &Tick,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let result = self.merge_tick_uncounted(symbol, tick, from, out);
        match result {
            Ok((outcome, corrections)) => {
                self.stats.ticks.record(outcome);
                self.stats.klines.tick_corrections += corrections;
                Ok(outcome)
            }
            Err(error) => {
                self.stats.ticks.rejected_invalid += 1;
                Err(error)
            }
        }
    }

    /// [`MergeBook::merge_tick`] without the counters; returns the outcome and the bars corrected.
    /// Every bar the tick would correct is checked before anything changes, so a refused tick
    /// leaves no trace.
    fn merge_tick_uncounted(
        &mut self,
        symbol: SymbolId,
        tick: &Tick,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<(MergeOutcome, u64), MergeError> {
        validate_tick(tick).map_err(|defect| MergeError::InvalidTick {
            symbol,
            time: tick.time,
            defect,
        })?;
        check_tick(tick).map_err(|e| unrepresentable("tick", e))?;
        let book = self.book_mut(symbol)?;
        let stored = book.tick.as_ref().map(|s| s.value);
        let book_newer = tick.has_book()
            && match &stored {
                None => true,
                Some(s) if !s.has_book() => true,
                Some(s) => tick_is_newer(tick, s),
            };
        let price = tick
            .last
            .filter(|_| book.last_time.is_none_or(|last_time| tick.time > last_time));
        if !book_newer && price.is_none() {
            // Nothing newer: a repeat of what is stored, or an older record.
            let last_time = book.last_time;
            let repeat = stored.is_some_and(|s| {
                (!tick.has_book() || same_book(&s, tick))
                    && (tick.last.is_none() || (tick.last == s.last && last_time == Some(tick.time)))
            });
            let outcome = if repeat {
                MergeOutcome::Unchanged
            } else {
                MergeOutcome::Dropped(DropReason::NotNewer)
            };
            return Ok((outcome, 0));
        }
        // The stored tick after the merge: the newer book, the newer traded price.
        let mut merged = match stored {
            Some(s) if !book_newer => s,
            Some(s) => Tick { last: s.last, ..*tick },
            None => Tick { last: None, ..*tick },
        };
        if price.is_some() {
            merged.last = price;
        }
        let tick_changed = stored != Some(merged);
        if tick_changed {
            check_tick(&merged).map_err(|e| unrepresentable("tick", e))?;
        }
        // Check every correction first, apply them after: a refused tick leaves no trace. The
        // first pass notes which intervals the tick corrects (bit `code`), so the second visits
        // only those, and no bar is held between the passes.
        let mut corrected: u16 = 0;
        if let Some(price) = price {
            for (series, interval) in book.klines.iter().zip(ALL_INTERVALS) {
                if let Some(bar) = series.corrected_newest(tick.time, price) {
                    check_kline(&bar.kline).map_err(|e| unrepresentable("kline corrected by a tick", e))?;
                    corrected |= 1 << interval.code();
                }
            }
            book.last_time = Some(tick.time);
        }
        if tick_changed {
            book.tick = Some(Stored {
                value: merged,
                provenance: from,
            });
            out.push(Delta::Tick { symbol, tick: merged });
        }
        let mut corrections = 0;
        if let Some(price) = price.filter(|_| corrected != 0) {
            for (series, interval) in book.klines.iter_mut().zip(ALL_INTERVALS) {
                if corrected & (1 << interval.code()) == 0 {
                    continue;
                }
                if let Some(bar) = series.corrected_newest(tick.time, price) {
                    if series.apply_correction(symbol, interval, bar, from, out) {
                        corrections += 1;
                    }
                }
            }
        }
        // The same traded price again moves only its time (and may still correct a new bar).
        let outcome = if tick_changed {
            MergeOutcome::Changed
        } else {
            MergeOutcome::Unchanged
        };
        Ok((outcome, corrections))
    }

    /// Merges a mark (mark price, index price, funding rate, next funding time) as ticks merge:
    /// the newest exchange `time` wins, on equal times the first arrival. The websocket
    /// `!markPrice@arr@1s` stream and the REST `premiumIndex` fallback both feed it.
    pub fn merge_mark(
        &mut self,
        symbol: SymbolId,
        mark: &Mark,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let result = self.merge_mark_uncounted(symbol, mark, from, out);
        match result {
            Ok(outcome) => self.stats.marks.record(outcome),
            Err(_) => self.stats.marks.rejected_invalid += 1,
        }
        result
    }

    fn merge_mark_uncounted(
        &mut self,
        symbol: SymbolId,
        mark: &Mark,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        validate_mark(mark).map_err(|defect| MergeError::InvalidMark {
            symbol,
            time: mark.time,
            defect,
        })?;
        check_mark(mark).map_err(|e| unrepresentable("mark", e))?;
        let book = self.book_mut(symbol)?;
        let outcome = match &book.mark {
            None => MergeOutcome::Changed,
            Some(stored) if stored.value == *mark => MergeOutcome::Unchanged,
            Some(stored) if mark.time > stored.value.time => MergeOutcome::Changed,
            Some(_) => MergeOutcome::Dropped(DropReason::NotNewer),
        };
        if outcome == MergeOutcome::Changed {
            book.mark = Some(Stored {
                value: *mark,
                provenance: from,
            });
            out.push(Delta::Mark { symbol, mark: *mark });
        }
        Ok(outcome)
    }

    /// Merges a position, keyed by `(symbol, position.side)`.
    ///
    /// The newest `update_time` wins and ties keep the first arrival's values. Optional fields a
    /// record lacks are carried from records that report the same amount with no different amount
    /// between them by exchange time, and become `None` across an amount change. This is
    /// evaluated in exchange-time order whatever the arrival order, so an older record may still
    /// fill a field the newer one lacks, or clear a field that predates an amount change it
    /// reveals; the final value does not depend on which source arrived first.
    pub fn merge_position(
        &mut self,
        symbol: SymbolId,
        position: &Position,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let result = self.book_mut(symbol).and_then(|book| {
            let slot = &mut book.positions[position.side as usize];
            let (outcome, merged) = merge_carried(slot, position, from, |p| {
                check_position(p).map_err(|e| unrepresentable("position", e))
            })?;
            if let Some(value) = merged {
                out.push(Delta::Position {
                    symbol,
                    position: value,
                });
            }
            Ok(outcome)
        });
        match result {
            Ok(outcome) => self.stats.positions.record(outcome),
            Err(_) => self.stats.positions.rejected_invalid += 1,
        }
        result
    }

    /// Applies a full positions list of the account as of `as_of` (exchange ms): every position
    /// the book holds with a non-zero amount, an update time before `as_of` and a `(symbol, side)`
    /// not in `listed` is merged as flat at `as_of` (the list leaves flat symbols out, so it was
    /// flat then). Changed if any was, Unchanged otherwise; a flat position never gets a delta.
    pub fn apply_positions_complete(
        &mut self,
        listed: &[(SymbolId, PositionSide)],
        as_of: i64,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let mut stale = Vec::new();
        for (id, book) in self.symbols.iter().enumerate() {
            let Some(book) = book else { continue };
            for stored in book.positions.iter().flatten() {
                let p = &stored.value;
                let symbol = SymbolId(id as u32);
                if !p.amount.is_zero() && p.update_time < as_of && !listed.contains(&(symbol, p.side)) {
                    stale.push((symbol, p.side));
                }
            }
        }
        let mut outcome = MergeOutcome::Unchanged;
        for (symbol, side) in stale {
            let flat = Position {
                side,
                amount: Decimal::ZERO,
                entry_price: None,
                break_even_price: None,
                unrealized_pnl: None,
                mark_price: None,
                isolated_wallet: None,
                update_time: as_of,
            };
            if self.merge_position(symbol, &flat, from, out)? == MergeOutcome::Changed {
                outcome = MergeOutcome::Changed;
            }
        }
        Ok(outcome)
    }

    /// Merges a balance, keyed by asset, with the same rules as [`MergeBook::merge_position`]
    /// (the wallet balance plays the position amount's part).
    pub fn merge_balance(
        &mut self,
        balance: &Balance,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let check = |b: &Balance| check_balance(b).map_err(|e| unrepresentable("balance", e));
        let result = match self.balances.iter_mut().find(|b| b.value.asset == balance.asset) {
            None => check(balance).map(|()| {
                self.balances.push(Carried::new(*balance, from));
                out.push(Delta::Balance { balance: *balance });
                MergeOutcome::Changed
            }),
            Some(stored) => merge_stored(stored, balance, from, check).map(|(outcome, merged)| {
                if let Some(value) = merged {
                    out.push(Delta::Balance { balance: value });
                }
                outcome
            }),
        };
        match result {
            Ok(outcome) => self.stats.balances.record(outcome),
            Err(_) => self.stats.balances.rejected_invalid += 1,
        }
        result
    }

    /// Replaces the ban list (last writer wins: it is a command, not a measurement).
    pub fn set_ban_list(&mut self, list: BanList, from: Provenance, out: &mut Vec<Delta>) -> MergeOutcome {
        let outcome = if list == self.ban_list {
            MergeOutcome::Unchanged
        } else {
            out.push(Delta::BanList(list.clone()));
            self.ban_list = list;
            self.ban_list_provenance = Some(from);
            MergeOutcome::Changed
        };
        self.stats.ban_list.record(outcome);
        outcome
    }

    /// The window of `(symbol, interval)`, oldest first; empty when nothing is stored.
    pub fn klines(&self, symbol: SymbolId, interval: Interval) -> &[Kline] {
        self.series(symbol, interval).map_or(&[], KlineSeries::live)
    }

    /// Provenance of each bar of [`MergeBook::klines`], index for index.
    pub fn kline_provenances(&self, symbol: SymbolId, interval: Interval) -> &[Provenance] {
        self.series(symbol, interval).map_or(&[], KlineSeries::live_provenance)
    }

    /// Provenance of one bar: the last source that changed it (a tick correction included).
    pub fn kline_provenance(&self, symbol: SymbolId, interval: Interval, open_time: i64) -> Option<Provenance> {
        let series = self.series(symbol, interval)?;
        let index = series.live().binary_search_by_key(&open_time, |k| k.open_time).ok()?;
        series.live_provenance().get(index).copied()
    }

    /// The stored mark (mark price, index, funding) of `symbol` and who supplied it.
    pub fn mark(&self, symbol: SymbolId) -> Option<(&Mark, Provenance)> {
        let stored = self.book(symbol)?.mark.as_ref()?;
        Some((&stored.value, stored.provenance))
    }

    /// The stored tick of `symbol` and who supplied it.
    pub fn tick(&self, symbol: SymbolId) -> Option<(&Tick, Provenance)> {
        let stored = self.book(symbol)?.tick.as_ref()?;
        Some((&stored.value, stored.provenance))
    }

    /// The stored position of `(symbol, side)` and who supplied its newest record.
    pub fn position(&self, symbol: SymbolId, side: PositionSide) -> Option<(&Position, Provenance)> {
        let stored = self.book(symbol)?.positions[side as usize].as_ref()?;
        Some((&stored.value, stored.provenance))
    }

    /// The stored balance of `asset` and who supplied its newest record.
    pub fn balance(&self, asset: &Asset) -> Option<(&Balance, Provenance)> {
        let stored = self.balances.iter().find(|b| b.value.asset == *asset)?;
        Some((&stored.value, stored.provenance))
    }

    /// The current ban list (empty until one is set).
    pub fn ban_list(&self) -> &BanList {
        &self.ban_list
    }

    /// Who set the current ban list; `None` until one was set.
    pub fn ban_list_provenance(&self) -> Option<Provenance> {
        self.ban_list_provenance
    }

    /// Every entity the book holds: klines by symbol id then interval, ticks and positions by
    /// symbol id (positions then by side), balances by asset name, and the ban list.
    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for (id, book) in self.symbols.iter().enumerate() {
            if let Some(book) = book {
                book.add_to(SymbolId(id as u32), &mut snapshot);
            }
        }
        self.add_account_wide(&mut snapshot);
        snapshot
    }

    /// The klines, ticks and positions of `symbols` (in id order, duplicates and unknown ids
    /// ignored) plus every balance and the ban list.
    pub fn snapshot_of(&self, symbols: &[SymbolId]) -> Snapshot {
        let mut ids = symbols.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut snapshot = Snapshot::default();
        for id in ids {
            if let Some(book) = self.book(id) {
                book.add_to(id, &mut snapshot);
            }
        }
        self.add_account_wide(&mut snapshot);
        snapshot
    }

    /// The part of the book a subscription topic selects: what [`MergeBook::snapshot_of`] would
    /// give for the filter's symbols (or [`MergeBook::snapshot`] for every symbol), keeping only the
    /// filter's kinds and intervals; balances and the ban list only when their kind is selected.
    pub fn snapshot_matching(&self, filter: &TopicFilter) -> Snapshot {
        let mut snapshot = match filter.symbols() {
            Some(ids) => self.snapshot_of(ids),
            None => self.snapshot(),
        };
        retain_matching(&mut snapshot, filter);
        snapshot
    }

    /// Visits, without copying, what [`MergeBook::snapshot_matching`] would hold for `filter`,
    /// in the same order: per symbol (ascending id) its kline windows by interval, its tick and
    /// its positions by side; then balances by asset name; then the ban list.
    pub fn visit_matching(&self, filter: &TopicFilter, mut visit: impl FnMut(SnapshotItem<'_>)) {
        let mut visit_symbol = |id: SymbolId, book: &SymbolBook| {
            if filter.has_kind(kinds::KLINE) {
                for (series, interval) in book.klines.iter().zip(ALL_INTERVALS) {
                    let klines = series.live();
                    if !klines.is_empty() && filter.has_interval(interval) {
                        visit(SnapshotItem::Window {
                            symbol: id,
                            interval,
                            klines,
                        });
                    }
                }
            }
            if filter.has_kind(kinds::TICK) {
                if let Some(tick) = &book.tick {
                    visit(SnapshotItem::Tick(id, &tick.value));
                }
            }
            if filter.has_kind(kinds::POSITION) {
                for position in book.positions.iter().flatten() {
                    visit(SnapshotItem::Position(id, &position.value));
                }
            }
            if filter.has_kind(kinds::MARK) {
                if let Some(mark) = &book.mark {
                    visit(SnapshotItem::Mark(id, &mark.value));
                }
            }
        };
        match filter.symbols() {
            Some(ids) => {
                for &id in ids {
                    if let Some(book) = self.book(id) {
                        visit_symbol(id, book);
                    }
                }
            }
            None => {
                for (id, book) in self.symbols.iter().enumerate() {
                    if let Some(book) = book {
                        visit_symbol(SymbolId(id as u32), book);
                    }
                }
            }
        }
        if filter.has_kind(kinds::BALANCE) {
            let mut balances: Vec<&Balance> = self.balances.iter().map(|b| &b.value).collect();
            balances.sort_by(|a, b| a.asset.as_str().cmp(b.asset.as_str()));
            for balance in balances {
                visit(SnapshotItem::Balance(balance));
            }
        }
        if filter.has_kind(kinds::BAN_LIST) {
            visit(SnapshotItem::BanList(&self.ban_list));
        }
    }

    /// Counters of everything merged so far.
    pub fn stats(&self) -> MergeStats {
        self.stats
    }

    fn add_account_wide(&self, snapshot: &mut Snapshot) {
        snapshot.balances = self.balances.iter().map(|b| b.value).collect();
        snapshot.balances.sort_by(|a, b| a.asset.as_str().cmp(b.asset.as_str()));
        snapshot.ban_list = Some(self.ban_list.clone());
    }

    /// Hints the lines merging `records` reads first: each kline's series and newest bar, each
    /// tick's stored tick. In two passes, because a bar's address is in its series: the first
    /// pass's misses overlap one another, then the second's (src/cache_hint.rs). A single record
    /// has nothing to overlap with, so it is left to its own lookup.
    pub fn prefetch_for(&self, records: &[Delta]) {
        if records.len() < 2 {
            return;
        }
        for record in records {
            match record {
                Delta::Kline { symbol, interval, .. } => {
                    if let Some(series) = self.series(*symbol, *interval) {
                        prefetch(series);
                    }
                }
                Delta::Tick { symbol, .. } => {
                    if let Some(book) = self.book(*symbol) {
                        prefetch_value(&book.tick);
                    }
                }
                _ => {}
            }
        }
        for record in records {
            if let Delta::Kline { symbol, interval, .. } = record {
                if let Some(series) = self.series(*symbol, *interval) {
                    if let Some(bar) = series.bars.last() {
                        prefetch_value(bar);
                    }
                    if let Some(provenance) = series.provenance.last() {
                        prefetch(provenance);
                    }
                }
            }
        }
    }

    fn book(&self, symbol: SymbolId) -> Option<&SymbolBook> {
        self.symbols.get(symbol.0 as usize)?.as_deref()
    }

    fn series(&self, symbol: SymbolId, interval: Interval) -> Option<&KlineSeries> {
        self.book(symbol)?.klines.get(interval.code() as usize)
    }

    /// The book of `symbol`, created on first use.
    fn book_mut(&mut self, symbol: SymbolId) -> Result<&mut SymbolBook, MergeError> {
        if symbol.0 >= self.config.max_symbols {
            return Err(MergeError::SymbolOutOfRange {
                symbol,
                max: self.config.max_symbols,
            });
        }
        let index = symbol.0 as usize;
        if index >= self.symbols.len() {
            self.symbols.resize_with(index + 1, || None);
        }
        match self.symbols.get_mut(index) {
            Some(slot) => Ok(slot.get_or_insert_with(Box::default)),
            // Unreachable: the table was just grown past `index`.
            None => Err(MergeError::SymbolOutOfRange {
                symbol,
                max: self.config.max_symbols,
            }),
        }
    }
}

/// Everything the book holds for one symbol.
#[derive(Debug, Clone, Default)]
struct SymbolBook {
    /// Indexed by `Interval::code()`.
    klines: [KlineSeries; INTERVAL_COUNT],
    tick: Option<Stored<Tick>>,
    /// Exchange time of the stored tick's `last` (the tick's own `time` is its book's).
    last_time: Option<i64>,
    /// Indexed by `PositionSide as usize` (both, long, short).
    positions: [Option<Carried<Position>>; POSITION_SIDES],
    mark: Option<Stored<Mark>>,
}

impl SymbolBook {
    fn add_to(&self, symbol: SymbolId, snapshot: &mut Snapshot) {
        for (series, interval) in self.klines.iter().zip(ALL_INTERVALS) {
            if !series.live().is_empty() {
                snapshot.klines.push(KlineWindow {
                    symbol,
                    interval,
                    klines: series.live().to_vec(),
                });
            }
        }
        if let Some(tick) = &self.tick {
            snapshot.ticks.push((symbol, tick.value));
        }
        for position in self.positions.iter().flatten() {
            snapshot.positions.push((symbol, position.value));
        }
        if let Some(mark) = &self.mark {
            snapshot.marks.push((symbol, mark.value));
        }
    }
}

/// A value with the provenance of its current version.
#[derive(Debug, Clone, Copy)]
struct Stored<T> {
    value: T,
    provenance: Provenance,
}

/// The bars of one `(symbol, interval)`, oldest first.
///
/// The live window is `bars[start..]`: evicting the oldest bar only advances `start`, and the dead
/// prefix is removed in one move once it is a window long, so eviction costs O(1) amortised and
/// the live bars stay one contiguous slice.
#[derive(Debug, Clone, Default)]
struct KlineSeries {
    bars: Vec<Kline>,
    /// Parallel to `bars`.
    provenance: Vec<Provenance>,
    start: usize,
}

impl KlineSeries {
    fn live(&self) -> &[Kline] {
        self.bars.get(self.start..).unwrap_or(&[])
    }

    fn live_provenance(&self) -> &[Provenance] {
        self.provenance.get(self.start..).unwrap_or(&[])
    }

    /// Merges one bar; refuses it when the bar it would store cannot travel on the wire.
    fn merge(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        incoming: &Kline,
        from: Provenance,
        window: usize,
        out: &mut Vec<Delta>,
    ) -> Result<MergeOutcome, MergeError> {
        let check = |k: &Kline| check_kline(k).map_err(|e| unrepresentable("kline", e));
        let live = self.live();
        // Nearly every update is for the newest bar or a new newest bar: check that first.
        let position = match live.last() {
            Some(last) if last.open_time == incoming.open_time => Ok(live.len() - 1),
            Some(last) if last.open_time < incoming.open_time => Err(live.len()),
            _ => live.binary_search_by_key(&incoming.open_time, |k| k.open_time),
        };
        match position {
            Ok(offset) => {
                let index = self.start + offset;
                let (Some(stored), Some(provenance)) = (self.bars.get_mut(index), self.provenance.get_mut(index))
                else {
                    // Unreachable: `offset` came from a search of the live bars.
                    return Ok(MergeOutcome::Dropped(DropReason::OutsideWindow));
                };
                // The merged bar combines both versions' prices: it is stored only if it can travel.
                // Fast path for the common update of an open bar, when its price group plainly
                // fits whatever mix of the two versions the merge makes: merge in place.
                if !stored.closed
                    && !incoming.closed
                    && stored.trades > 0
                    && (incoming.trades, incoming.volume) > (stored.trades, stored.volume)
                    && kline_mix_plainly_fits(stored, incoming)
                {
                    let (high, low, as_of) = (stored.high, stored.low, stored.as_of);
                    *stored = *incoming;
                    stored.high = stored.high.max(high);
                    stored.low = stored.low.min(low);
                    stored.as_of = stored.as_of.max(as_of);
                    *provenance = from;
                    out.push(Delta::Kline {
                        symbol,
                        interval,
                        kline: *stored,
                    });
                    return Ok(MergeOutcome::Changed);
                }
                match merge_into_bar(stored, incoming) {
                    Ok(merged) => {
                        check(&merged)?;
                        *stored = merged;
                        *provenance = from;
                        out.push(Delta::Kline {
                            symbol,
                            interval,
                            kline: merged,
                        });
                        Ok(MergeOutcome::Changed)
                    }
                    Err(unchanged) => Ok(unchanged),
                }
            }
            Err(offset) => {
                if offset == 0 && live.len() >= window {
                    return Ok(MergeOutcome::Dropped(DropReason::OutsideWindow));
                }
                check(incoming)?;
                let index = self.start + offset;
                self.bars.insert(index, *incoming);
                self.provenance.insert(index, from);
                if self.bars.len() - self.start > window {
                    self.start += 1;
                    if self.start >= window {
                        self.bars.drain(..self.start);
                        self.provenance.drain(..self.start);
                        self.start = 0;
                    }
                }
                out.push(Delta::Kline {
                    symbol,
                    interval,
                    kline: *incoming,
                });
                Ok(MergeOutcome::Changed)
            }
        }
    }

    /// What a tick at `time` with reference `price` would make of the newest bar: a bar that is
    /// open, contains `time` and is not newer than it gets `as_of = time` and the price as close
    /// (raising high or lowering low). `None` when the tick does not apply to the newest bar.
    fn corrected_newest(&self, time: i64, price: Decimal) -> Option<Correction> {
        let bar = self.live().last()?;
        if bar.closed || time < bar.open_time || time > bar.close_time || time < bar.as_of {
            return None;
        }
        let mut kline = *bar;
        kline.as_of = time;
        // Compare by value so an equal price in another scale does not count as a change.
        let mut changed = false;
        if bar.trades == 0 {
            // An empty bar's prices repeat the previous close: nothing traded at them in this bar.
            // Until a version with trades replaces them, they are the newest traded price seen.
            changed = kline.open != price || kline.high != price || kline.low != price || kline.close != price;
            (kline.open, kline.high, kline.low, kline.close) = (price, price, price, price);
            return Some(Correction { kline, changed });
        }
        if kline.close != price {
            kline.close = price;
            changed = true;
        }
        if price > kline.high {
            kline.high = price;
            changed = true;
        }
        if price < kline.low {
            kline.low = price;
            changed = true;
        }
        Some(Correction { kline, changed })
    }

    /// Stores a correction from [`KlineSeries::corrected_newest`] as the newest bar. Returns
    /// whether close, high or low changed (a delta was appended); `as_of` advances silently
    /// otherwise.
    fn apply_correction(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        correction: Correction,
        from: Provenance,
        out: &mut Vec<Delta>,
    ) -> bool {
        let start = self.start;
        let Some(bar) = self.bars.get_mut(start..).and_then(<[Kline]>::last_mut) else {
            return false;
        };
        *bar = correction.kline;
        if correction.changed {
            if let Some(provenance) = self.provenance.last_mut() {
                *provenance = from;
            }
            out.push(Delta::Kline {
                symbol,
                interval,
                kline: correction.kline,
            });
        }
        correction.changed
    }
}

/// The newest bar as a tick would correct it.
#[derive(Clone, Copy, Debug)]
struct Correction {
    kline: Kline,
    /// Whether close, high or low changed (otherwise only `as_of` moved).
    changed: bool,
}

/// Whether any bar made of `incoming` with `stored`'s high and low fits the wire without
/// arithmetic (see [`plainly_fits`]): the merge of an open bar with more trades makes one.
fn kline_mix_plainly_fits(stored: &Kline, incoming: &Kline) -> bool {
    plainly_fits(&[
        Some(&incoming.open),
        Some(&incoming.high),
        Some(&incoming.low),
        Some(&incoming.close),
        Some(&stored.high),
        Some(&stored.low),
    ]) && plainly_fits(&[Some(&incoming.volume), Some(&incoming.taker_buy_volume)])
        && plainly_fits(&[Some(&incoming.quote_volume), Some(&incoming.taker_buy_quote_volume)])
}

/// The merge rules for a version of a bar the series already holds: the bar to store when the
/// merge changes it, or the outcome when it does not.
fn merge_into_bar(stored: &Kline, incoming: &Kline) -> Result<Kline, MergeOutcome> {
    if stored.closed {
        return Err(if same_bar(stored, incoming) {
            MergeOutcome::Unchanged
        } else {
            MergeOutcome::Dropped(DropReason::Closed)
        });
    }
    if incoming.closed {
        // The exchange's final word replaces the open version entirely.
        if incoming == stored {
            return Err(MergeOutcome::Unchanged);
        }
        return Ok(*incoming);
    }
    if (incoming.trades, incoming.volume) > (stored.trades, stored.volume) {
        let mut merged = *incoming;
        // A version without trades holds no traded price of its own (the exchange repeats the
        // previous close in an empty bar; a correction guesses): the first version with trades
        // replaces it, extremes included.
        if stored.trades > 0 {
            merged.high = merged.high.max(stored.high);
            merged.low = merged.low.min(stored.low);
        }
        merged.as_of = merged.as_of.max(stored.as_of);
        return Ok(merged);
    }
    Err(if same_bar(stored, incoming) {
        MergeOutcome::Unchanged
    } else {
        MergeOutcome::Dropped(DropReason::NotMoreTrades)
    })
}

/// Whether two versions of a bar say the same thing about the market: every field equal except
/// `as_of` (REST has none), and trade ids compared only where both sources carry them.
fn same_bar(a: &Kline, b: &Kline) -> bool {
    fn same_id(x: Option<u64>, y: Option<u64>) -> bool {
        match (x, y) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
    }
    a.open_time == b.open_time
        && a.close_time == b.close_time
        && a.open == b.open
        && a.high == b.high
        && a.low == b.low
        && a.close == b.close
        && a.volume == b.volume
        && a.quote_volume == b.quote_volume
        && a.trades == b.trades
        && a.taker_buy_volume == b.taker_buy_volume
        && a.taker_buy_quote_volume == b.taker_buy_quote_volume
        && a.closed == b.closed
        && same_id(a.first_trade_id, b.first_trade_id)
        && same_id(a.last_trade_id, b.last_trade_id)
}

/// Cheap consistency checks that every real bar passes.
fn validate_kline(interval: Interval, k: &Kline) -> Result<(), KlineDefect> {
    let expected = interval.open_time(k.open_time);
    if expected != k.open_time {
        return Err(KlineDefect::MisalignedOpenTime { expected });
    }
    if k.close_time <= k.open_time {
        return Err(KlineDefect::CloseTimeNotAfterOpenTime);
    }
    let last = interval.close_time(k.open_time);
    if k.close_time > last {
        return Err(KlineDefect::CloseTimePastBar { last });
    }
    if k.high < k.low {
        return Err(KlineDefect::HighBelowLow);
    }
    if k.open > k.high || k.open < k.low {
        return Err(KlineDefect::OpenOutsideRange);
    }
    if k.close > k.high || k.close < k.low {
        return Err(KlineDefect::CloseOutsideRange);
    }
    if !k.low.is_positive() {
        return Err(KlineDefect::NonPositivePrice);
    }
    if k.volume.is_negative()
        || k.quote_volume.is_negative()
        || k.taker_buy_volume.is_negative()
        || k.taker_buy_quote_volume.is_negative()
    {
        return Err(KlineDefect::NegativeVolume);
    }
    if k.taker_buy_volume > k.volume || k.taker_buy_quote_volume > k.quote_volume {
        return Err(KlineDefect::TakerBuyExceedsVolume);
    }
    if let (Some(first), Some(last)) = (k.first_trade_id, k.last_trade_id) {
        if first > last {
            return Err(KlineDefect::TradeIdsReversed);
        }
    }
    Ok(())
}

/// Cheap consistency checks on a top of book. A side may be empty (price 0).
fn validate_tick(t: &Tick) -> Result<(), TickDefect> {
    if t.bid.is_negative() || t.ask.is_negative() {
        return Err(TickDefect::NegativePrice);
    }
    if t.bid_qty.is_negative() || t.ask_qty.is_negative() {
        return Err(TickDefect::NegativeQuantity);
    }
    if t.last.is_some_and(|last| !last.is_positive()) {
        return Err(TickDefect::NonPositiveLast);
    }
    if t.bid.is_positive() && t.ask.is_positive() && t.bid > t.ask {
        return Err(TickDefect::CrossedBook);
    }
    Ok(())
}

/// Cheap consistency checks on a mark: a positive mark price, non-negative index and settle
/// prices (zero when the exchange has none yet) and funding time. The funding rate has any sign.
fn validate_mark(m: &Mark) -> Result<(), MarkDefect> {
    if !m.mark_price.is_positive() {
        return Err(MarkDefect::NonPositiveMark);
    }
    if m.index_price.is_negative() || m.estimated_settle_price.is_negative() {
        return Err(MarkDefect::NegativeIndex);
    }
    if m.next_funding_time < 0 {
        return Err(MarkDefect::NegativeFundingTime);
    }
    Ok(())
}

/// Whether two ticks carry the same book (prices, quantities, time, update id).
fn same_book(a: &Tick, b: &Tick) -> bool {
    a.bid == b.bid
        && a.ask == b.ask
        && a.bid_qty == b.bid_qty
        && a.ask_qty == b.ask_qty
        && a.time == b.time
        && a.update_id == b.update_id
}

/// Whether `incoming` supersedes `stored`: a later exchange time, or the same time with a larger
/// book update id when both carry one.
fn tick_is_newer(incoming: &Tick, stored: &Tick) -> bool {
    if incoming.time != stored.time {
        return incoming.time > stored.time;
    }
    matches!((incoming.update_id, stored.update_id), (Some(a), Some(b)) if a > b)
}

/// Merges `incoming` into the carried value in `slot` (creating it when empty), storing the result
/// only when `check` accepts the value it would hold. Returns the outcome and, on `Changed`, the
/// new value (for the delta).
fn merge_carried<T: CarriedRecord>(
    slot: &mut Option<Carried<T>>,
    incoming: &T,
    from: Provenance,
    check: impl Fn(&T) -> Result<(), MergeError>,
) -> Result<(MergeOutcome, Option<T>), MergeError> {
    match slot {
        None => {
            check(incoming)?;
            *slot = Some(Carried::new(*incoming, from));
            Ok((MergeOutcome::Changed, Some(*incoming)))
        }
        Some(stored) => merge_stored(stored, incoming, from, check),
    }
}

/// [`merge_carried`] into a value the book already holds.
fn merge_stored<T: CarriedRecord>(
    stored: &mut Carried<T>,
    incoming: &T,
    from: Provenance,
    check: impl Fn(&T) -> Result<(), MergeError>,
) -> Result<(MergeOutcome, Option<T>), MergeError> {
    // Fast path: when both records plainly fit together, any mix of their fields does, so the
    // merge needs no copy to fall back on.
    if stored.value.plainly_fits_with(incoming) {
        let outcome = stored.merge(incoming, from);
        return Ok((outcome, (outcome == MergeOutcome::Changed).then_some(stored.value)));
    }
    let mut merged = *stored;
    let outcome = merged.merge(incoming, from);
    if outcome != MergeOutcome::Changed {
        // The value is unchanged, but the merge may have learnt of an amount change (the
        // bookkeeping that places late records): keep it.
        *stored = merged;
        return Ok((outcome, None));
    }
    // A merged value combines fields of several records (and their scales): check the result.
    check(&merged.value)?;
    *stored = merged;
    Ok((outcome, Some(merged.value)))
}

/// Most optional fields any carried record has (a position's five).
const CARRIED_FIELDS: usize = 5;

type OptionalFields = [Option<Decimal>; CARRIED_FIELDS];

/// A record whose sources carry different subsets of optional fields, ordered by an exchange
/// update time, with an amount whose change makes the optional fields stale.
trait CarriedRecord: Copy + PartialEq {
    /// Whether every value group of `self` and `other` together plainly fits the wire (one
    /// scale, i64 mantissas), so any record mixing their fields does.
    fn plainly_fits_with(&self, other: &Self) -> bool;
    fn update_time(&self) -> i64;
    fn amount(&self) -> Decimal;
    fn optional_fields(&self) -> OptionalFields;
    fn set_optional_fields(&mut self, fields: OptionalFields);
}

impl CarriedRecord for Position {
    fn plainly_fits_with(&self, other: &Self) -> bool {
        plainly_fits(&[Some(&self.amount), Some(&other.amount)])
            && plainly_fits(&[
                self.entry_price.as_ref(),
                self.break_even_price.as_ref(),
                self.mark_price.as_ref(),
                other.entry_price.as_ref(),
                other.break_even_price.as_ref(),
                other.mark_price.as_ref(),
            ])
            && plainly_fits(&[
                self.unrealized_pnl.as_ref(),
                self.isolated_wallet.as_ref(),
                other.unrealized_pnl.as_ref(),
                other.isolated_wallet.as_ref(),
            ])
    }
    fn update_time(&self) -> i64 {
        self.update_time
    }
    fn amount(&self) -> Decimal {
        self.amount
    }
    fn optional_fields(&self) -> OptionalFields {
        [
            self.entry_price,
            self.break_even_price,
            self.unrealized_pnl,
            self.mark_price,
            self.isolated_wallet,
        ]
    }
    fn set_optional_fields(&mut self, [entry, break_even, pnl, mark, isolated]: OptionalFields) {
        self.entry_price = entry;
        self.break_even_price = break_even;
        self.unrealized_pnl = pnl;
        self.mark_price = mark;
        self.isolated_wallet = isolated;
    }
}

impl CarriedRecord for Balance {
    fn plainly_fits_with(&self, other: &Self) -> bool {
        plainly_fits(&[
            Some(&self.wallet_balance),
            self.cross_wallet_balance.as_ref(),
            self.available_balance.as_ref(),
            self.unrealized_pnl.as_ref(),
            Some(&other.wallet_balance),
            other.cross_wallet_balance.as_ref(),
            other.available_balance.as_ref(),
            other.unrealized_pnl.as_ref(),
        ])
    }
    fn update_time(&self) -> i64 {
        self.update_time
    }
    fn amount(&self) -> Decimal {
        self.wallet_balance
    }
    fn optional_fields(&self) -> OptionalFields {
        [
            self.cross_wallet_balance,
            self.available_balance,
            self.unrealized_pnl,
            None,
            None,
        ]
    }
    fn set_optional_fields(&mut self, [cross, available, pnl, _, _]: OptionalFields) {
        self.cross_wallet_balance = cross;
        self.available_balance = available;
        self.unrealized_pnl = pnl;
    }
}

/// The merged value of a [`CarriedRecord`] entity and what is needed to merge records in any
/// arrival order as if they had arrived in exchange-time order.
///
/// In time order the rule is: the newest record wins; an optional field it lacks keeps the
/// previous value while the amount is unchanged and becomes `None` when it changed. So a field's
/// final value comes from the newest record that carries it among the records after the last
/// amount change. Keeping that change's time and each field's source time is enough to place a
/// late, older record correctly.
#[derive(Debug, Clone, Copy)]
struct Carried<T> {
    value: T,
    /// Of the newest record (ties: the first arrival).
    provenance: Provenance,
    /// Exchange time of the record each optional field's value came from.
    field_times: [i64; CARRIED_FIELDS],
    /// Exchange time of the newest record seen whose amount differs from `value`'s; fields
    /// reported at or before it are stale. `i64::MIN` when there was none.
    amount_changed_at: i64,
}

impl<T: CarriedRecord> Carried<T> {
    fn new(value: T, provenance: Provenance) -> Self {
        Carried {
            value,
            provenance,
            field_times: [value.update_time(); CARRIED_FIELDS],
            amount_changed_at: i64::MIN,
        }
    }

    fn merge(&mut self, incoming: &T, from: Provenance) -> MergeOutcome {
        let time = incoming.update_time();
        let stored_time = self.value.update_time();
        let same_amount = incoming.amount() == self.value.amount();
        let reported = incoming.optional_fields();
        let before = self.value.optional_fields();
        let mut fields = before;

        if time > stored_time {
            if same_amount {
                for ((field, at), new) in fields.iter_mut().zip(&mut self.field_times).zip(reported) {
                    if new.is_some() {
                        *field = new;
                        *at = time;
                    }
                }
            } else {
                self.amount_changed_at = stored_time;
                fields = reported;
                self.field_times = [time; CARRIED_FIELDS];
            }
            let mut merged = *incoming;
            merged.set_optional_fields(fields);
            self.value = merged;
            self.provenance = from;
            return MergeOutcome::Changed;
        }
        if time == stored_time && *incoming == self.value {
            return MergeOutcome::Unchanged;
        }
        if time > self.amount_changed_at {
            if same_amount {
                // A tie or an older record of the current amount: it supplies fields the stored
                // value lacks or holds from an even older record. Ties keep the first's values.
                for ((field, at), new) in fields.iter_mut().zip(&mut self.field_times).zip(reported) {
                    if new.is_some() && (field.is_none() || *at < time) {
                        *field = new;
                        *at = time;
                    }
                }
            } else if time < stored_time {
                // An older record of another amount: the amount changed after it, so fields
                // reported at or before it are stale.
                self.amount_changed_at = time;
                for (field, at) in fields.iter_mut().zip(&self.field_times) {
                    if *at <= time {
                        *field = None;
                    }
                }
            }
        }
        if fields == before {
            return MergeOutcome::Dropped(DropReason::NotNewer);
        }
        self.value.set_optional_fields(fields);
        MergeOutcome::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::SourceId;
    use crate::symbol::{Name, SymbolRegistry};
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    /// 2021-07-22 22:25:00 UTC, a minute (and 5-minute) boundary.
    const T0: i64 = 1_626_992_700_000;
    const MIN: i64 = 60_000;
    const S: SymbolId = SymbolId(3);

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn prov(source: u16, received_at: i64) -> Provenance {
        Provenance {
            source: SourceId(source),
            received_at,
        }
    }

    fn book() -> MergeBook {
        MergeBook::new(MergeBookConfig::default()).unwrap()
    }

    fn book_with_window(kline_window: usize) -> MergeBook {
        MergeBook::new(MergeBookConfig {
            kline_window,
            ..MergeBookConfig::default()
        })
        .unwrap()
    }

    /// An open 1m bar: `[open, high, low, close]`, volume and trade count.
    fn bar(open_time: i64, [o, h, l, c]: [&str; 4], volume: &str, trades: u64) -> Kline {
        Kline {
            open_time,
            close_time: open_time + MIN - 1,
            open: d(o),
            high: d(h),
            low: d(l),
            close: d(c),
            volume: d(volume),
            quote_volume: d(volume),
            trades,
            taker_buy_volume: Decimal::ZERO,
            taker_buy_quote_volume: Decimal::ZERO,
            first_trade_id: None,
            last_trade_id: None,
            closed: false,
            as_of: 0,
        }
    }

    /// A plain open bar at `T0 + i` minutes.
    fn plain(i: i64) -> Kline {
        bar(T0 + i * MIN, ["10", "12", "9", "11"], "5", 5)
    }

    fn tick(bid: &str, ask: &str, time: i64) -> Tick {
        Tick {
            bid: d(bid),
            bid_qty: d("1"),
            ask: d(ask),
            ask_qty: d("1"),
            last: None,
            time,
            update_id: None,
        }
    }

    fn position(side: PositionSide, amount: &str, update_time: i64) -> Position {
        Position {
            side,
            amount: d(amount),
            entry_price: None,
            break_even_price: None,
            unrealized_pnl: None,
            mark_price: None,
            isolated_wallet: None,
            update_time,
        }
    }

    fn usdt() -> Asset {
        Name::new("USDT").unwrap()
    }

    fn balance(wallet: &str, update_time: i64) -> Balance {
        Balance {
            asset: usdt(),
            wallet_balance: d(wallet),
            cross_wallet_balance: None,
            available_balance: None,
            unrealized_pnl: None,
            update_time,
        }
    }

    fn merge(book: &mut MergeBook, kline: &Kline, out: &mut Vec<Delta>) -> MergeOutcome {
        book.merge_kline(S, Interval::M1, kline, prov(1, 0), out).unwrap()
    }

    fn kline_delta(kline: Kline) -> Delta {
        Delta::Kline {
            symbol: S,
            interval: Interval::M1,
            kline,
        }
    }

    /// Every ordering of `0..n`.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new()];
        }
        let mut all = Vec::new();
        for rest in permutations(n - 1) {
            for at in 0..=rest.len() {
                let mut p = rest.clone();
                p.insert(at, n - 1);
                all.push(p);
            }
        }
        all
    }

    // ---- configuration -------------------------------------------------------------------

    #[test]
    fn config_defaults_and_errors() {
        assert_eq!(MergeBookConfig::default().kline_window, 45);
        assert_eq!(
            MergeBook::new(MergeBookConfig {
                kline_window: 0,
                ..MergeBookConfig::default()
            })
            .unwrap_err(),
            MergeError::ZeroKlineWindow
        );
        assert_eq!(
            MergeBook::new(MergeBookConfig {
                max_symbols: 0,
                ..MergeBookConfig::default()
            })
            .unwrap_err(),
            MergeError::ZeroMaxSymbols
        );
    }

    #[test]
    fn symbol_ids_beyond_the_limit_are_refused() {
        let mut b = MergeBook::new(MergeBookConfig {
            max_symbols: 10,
            ..MergeBookConfig::default()
        })
        .unwrap();
        let mut out = Vec::new();
        let big = SymbolId(10);
        let err = b.merge_kline(big, Interval::M1, &plain(0), prov(1, 0), &mut out);
        assert_eq!(err, Err(MergeError::SymbolOutOfRange { symbol: big, max: 10 }));
        assert!(b.merge_tick(big, &tick("1", "2", T0), prov(1, 0), &mut out).is_err());
        assert!(b
            .merge_position(big, &position(PositionSide::Both, "1", 1), prov(1, 0), &mut out)
            .is_err());
        assert!(b
            .merge_klines(big, Interval::M1, &[plain(0), plain(1)], prov(1, 0), &mut out)
            .is_err());
        assert!(out.is_empty());
        let stats = b.stats();
        assert_eq!(stats.klines.rejected_invalid, 3);
        assert_eq!(stats.ticks.rejected_invalid, 1);
        assert_eq!(stats.positions.rejected_invalid, 1);
        assert!(b
            .merge_kline(SymbolId(9), Interval::M1, &plain(0), prov(1, 0), &mut out)
            .is_ok());
    }

    // ---- klines: insertion, provenance ---------------------------------------------------

    #[test]
    fn first_bar_is_inserted_with_its_provenance() {
        let mut b = book();
        let mut out = Vec::new();
        let k = plain(0);
        let outcome = b.merge_kline(S, Interval::M1, &k, prov(7, 1234), &mut out).unwrap();
        assert_eq!(outcome, MergeOutcome::Changed);
        assert_eq!(out, vec![kline_delta(k)]);
        assert_eq!(b.klines(S, Interval::M1), &[k]);
        assert_eq!(b.kline_provenance(S, Interval::M1, k.open_time), Some(prov(7, 1234)));
        assert_eq!(b.kline_provenances(S, Interval::M1), &[prov(7, 1234)]);
        assert_eq!(b.kline_provenance(S, Interval::M1, k.open_time + MIN), None);
        assert!(b.klines(S, Interval::M5).is_empty());
        assert!(b.klines(SymbolId(99), Interval::M1).is_empty());
        assert_eq!(b.stats().klines.applied, 1);
    }

    #[test]
    fn identical_resend_is_unchanged_and_emits_nothing() {
        let mut b = book();
        let mut out = Vec::new();
        let open = plain(0);
        merge(&mut b, &open, &mut out);
        let closed = Kline {
            closed: true,
            ..plain(1)
        };
        merge(&mut b, &closed, &mut out);
        out.clear();
        assert_eq!(merge(&mut b, &open, &mut out), MergeOutcome::Unchanged);
        assert_eq!(merge(&mut b, &closed, &mut out), MergeOutcome::Unchanged);
        // A REST copy of a websocket bar: no trade ids, no event time. Same market content.
        let ws = Kline {
            first_trade_id: Some(10),
            last_trade_id: Some(14),
            as_of: T0 + 2 * MIN + 5,
            closed: true,
            ..plain(2)
        };
        merge(&mut b, &ws, &mut out);
        out.clear();
        let rest = Kline {
            closed: true,
            ..plain(2)
        };
        assert_eq!(merge(&mut b, &rest, &mut out), MergeOutcome::Unchanged);
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1)[2], ws);
        assert_eq!(b.stats().klines.unchanged, 3);
        assert_eq!(b.stats().klines.ignored_closed, 0);
    }

    // ---- klines: closed is final -----------------------------------------------------------

    #[test]
    fn closed_bar_is_final() {
        let mut b = book();
        let mut out = Vec::new();
        let closed = Kline {
            closed: true,
            ..bar(T0, ["10", "12", "9", "11"], "5", 5)
        };
        merge(&mut b, &closed, &mut out);
        out.clear();
        // A late open update with more trades, and a different closed version: both ignored.
        let late_open = bar(T0, ["10", "13", "8", "12"], "9", 9);
        let other_closed = Kline {
            closed: true,
            ..bar(T0, ["10", "13", "8", "12"], "9", 9)
        };
        assert_eq!(
            merge(&mut b, &late_open, &mut out),
            MergeOutcome::Dropped(DropReason::Closed)
        );
        assert_eq!(
            merge(&mut b, &other_closed, &mut out),
            MergeOutcome::Dropped(DropReason::Closed)
        );
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1), &[closed]);
        assert_eq!(b.stats().klines.ignored_closed, 2);
    }

    #[test]
    fn closed_replaces_open_entirely() {
        let mut b = book();
        let mut out = Vec::new();
        let open = Kline {
            as_of: T0 + 50_000,
            first_trade_id: Some(1),
            last_trade_id: Some(9),
            ..bar(T0, ["10", "14", "8", "12"], "9", 9)
        };
        merge(&mut b, &open, &mut out);
        out.clear();
        // The final word has a lower high and fewer trades than the open version: it still wins,
        // whole (high is not max-merged, as_of and trade ids are its own).
        let closed = Kline {
            closed: true,
            ..bar(T0, ["10", "13", "9", "11"], "7", 7)
        };
        assert_eq!(merge(&mut b, &closed, &mut out), MergeOutcome::Changed);
        assert_eq!(out, vec![kline_delta(closed)]);
        assert_eq!(b.klines(S, Interval::M1), &[closed]);
        // Closing a bar whose content is already complete still changes it (the closed flag).
        let mut b = book();
        let open = plain(0);
        merge(&mut b, &open, &mut out);
        let closed = Kline { closed: true, ..open };
        assert_eq!(merge(&mut b, &closed, &mut out), MergeOutcome::Changed);
        assert!(b.klines(S, Interval::M1)[0].closed);
    }

    // ---- klines: open versions -------------------------------------------------------------

    #[test]
    fn more_trades_wins() {
        let mut b = book();
        let mut out = Vec::new();
        merge(&mut b, &bar(T0, ["10", "12", "9", "11"], "50", 5), &mut out);
        out.clear();
        let newer = bar(T0, ["10", "12", "9", "10.5"], "6", 6);
        assert_eq!(merge(&mut b, &newer, &mut out), MergeOutcome::Changed);
        // More trades wins even with less volume (lexicographic order).
        assert_eq!(b.klines(S, Interval::M1), &[newer]);
        assert_eq!(out, vec![kline_delta(newer)]);
    }

    #[test]
    fn equal_trades_more_volume_wins() {
        let mut b = book();
        let mut out = Vec::new();
        merge(&mut b, &bar(T0, ["10", "12", "9", "11"], "5", 5), &mut out);
        let newer = bar(T0, ["10", "12", "9", "11.5"], "5.5", 5);
        assert_eq!(merge(&mut b, &newer, &mut out), MergeOutcome::Changed);
        assert_eq!(b.klines(S, Interval::M1), &[newer]);
    }

    #[test]
    fn equal_trades_and_volume_keep_the_first() {
        let mut b = book();
        let mut out = Vec::new();
        let first = bar(T0, ["10", "12", "9", "11"], "5", 5);
        merge(&mut b, &first, &mut out);
        out.clear();
        let other = Kline {
            as_of: T0 + 9,
            ..bar(T0, ["10", "12", "9", "10"], "5.0", 5)
        };
        assert_eq!(
            merge(&mut b, &other, &mut out),
            MergeOutcome::Dropped(DropReason::NotMoreTrades)
        );
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1), &[first]);
        assert_eq!(b.stats().klines.ignored_not_more_trades, 1);
    }

    #[test]
    fn fewer_trades_is_ignored_even_with_more_volume() {
        let mut b = book();
        let mut out = Vec::new();
        let first = bar(T0, ["10", "12", "9", "11"], "5", 5);
        merge(&mut b, &first, &mut out);
        out.clear();
        let stale = bar(T0, ["10", "15", "1", "14"], "100", 4);
        assert_eq!(
            merge(&mut b, &stale, &mut out),
            MergeOutcome::Dropped(DropReason::NotMoreTrades)
        );
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1), &[first]);
    }

    #[test]
    fn high_only_rises_low_only_falls_as_of_is_max() {
        let mut b = book();
        let mut out = Vec::new();
        let first = Kline {
            as_of: T0 + 30_000,
            ..bar(T0, ["10", "14", "8", "11"], "5", 5)
        };
        merge(&mut b, &first, &mut out);
        out.clear();
        // More trades, but (a REST read served from an older cache) narrower range and older as_of.
        let next = Kline {
            as_of: T0 + 20_000,
            ..bar(T0, ["10", "13", "9", "12"], "6", 6)
        };
        assert_eq!(merge(&mut b, &next, &mut out), MergeOutcome::Changed);
        let expected = Kline {
            high: d("14"),
            low: d("8"),
            as_of: T0 + 30_000,
            ..next
        };
        assert_eq!(b.klines(S, Interval::M1), &[expected]);
        assert_eq!(out, vec![kline_delta(expected)]);
        // A wider version raises the high and lowers the low.
        let wider = bar(T0, ["10", "15", "7", "12"], "7", 7);
        merge(&mut b, &wider, &mut out);
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!((stored.high, stored.low, stored.close), (d("15"), d("7"), d("12")));
    }

    // ---- klines: the window --------------------------------------------------------------

    #[test]
    fn window_evicts_the_oldest_and_stays_contiguous() {
        let mut b = book_with_window(3);
        let mut out = Vec::new();
        for i in 0..100 {
            assert_eq!(merge(&mut b, &plain(i), &mut out), MergeOutcome::Changed);
            let live = b.klines(S, Interval::M1);
            let first = (i - 2).max(0);
            let expected: Vec<Kline> = (first..=i).map(plain).collect();
            assert_eq!(live, expected.as_slice(), "after bar {i}");
            assert_eq!(b.kline_provenances(S, Interval::M1).len(), live.len());
        }
        assert_eq!(out.len(), 100);
        // The evicted bars are gone for good: an update to one is outside the window.
        let late = bar(T0 + 90 * MIN, ["10", "12", "9", "11"], "9", 9);
        assert_eq!(
            merge(&mut b, &late, &mut out),
            MergeOutcome::Dropped(DropReason::OutsideWindow)
        );
        // Updates inside the window still work after compaction.
        let update = bar(T0 + 98 * MIN, ["10", "12", "9", "11"], "9", 9);
        assert_eq!(merge(&mut b, &update, &mut out), MergeOutcome::Changed);
        assert_eq!(b.klines(S, Interval::M1)[1], update);
    }

    #[test]
    fn bar_older_than_a_full_window_is_dropped() {
        let mut b = book_with_window(3);
        let mut out = Vec::new();
        for i in 5..8 {
            merge(&mut b, &plain(i), &mut out);
        }
        out.clear();
        assert_eq!(
            merge(&mut b, &plain(4), &mut out),
            MergeOutcome::Dropped(DropReason::OutsideWindow)
        );
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1), &[plain(5), plain(6), plain(7)]);
        assert_eq!(b.stats().klines.outside_window, 1);
        // A window that is not full accepts an older bar at its front.
        let mut b = book_with_window(3);
        merge(&mut b, &plain(5), &mut out);
        assert_eq!(merge(&mut b, &plain(1), &mut out), MergeOutcome::Changed);
        assert_eq!(b.klines(S, Interval::M1), &[plain(1), plain(5)]);
    }

    #[test]
    fn gap_fill_keeps_open_time_order() {
        let mut b = book_with_window(5);
        let mut out = Vec::new();
        for i in [4, 0, 2, 1, 3] {
            assert_eq!(merge(&mut b, &plain(i), &mut out), MergeOutcome::Changed);
        }
        let expected: Vec<Kline> = (0..5).map(plain).collect();
        assert_eq!(b.klines(S, Interval::M1), expected.as_slice());
        // Filling a gap in a full window keeps the newest bars: the oldest goes.
        let mut b = book_with_window(3);
        for i in [0, 1, 3] {
            merge(&mut b, &plain(i), &mut out);
        }
        assert_eq!(merge(&mut b, &plain(2), &mut out), MergeOutcome::Changed);
        assert_eq!(b.klines(S, Interval::M1), &[plain(1), plain(2), plain(3)]);
    }

    #[test]
    fn series_are_separate_per_symbol_and_interval() {
        let mut b = book();
        let mut out = Vec::new();
        let five = Kline {
            close_time: T0 + 5 * MIN - 1,
            ..plain(0)
        };
        b.merge_kline(S, Interval::M5, &five, prov(1, 0), &mut out).unwrap();
        b.merge_kline(SymbolId(0), Interval::M1, &plain(0), prov(2, 0), &mut out)
            .unwrap();
        assert_eq!(b.klines(S, Interval::M5), &[five]);
        assert!(b.klines(S, Interval::M1).is_empty());
        assert_eq!(b.klines(SymbolId(0), Interval::M1), &[plain(0)]);
        assert_eq!(
            out,
            vec![
                Delta::Kline {
                    symbol: S,
                    interval: Interval::M5,
                    kline: five
                },
                Delta::Kline {
                    symbol: SymbolId(0),
                    interval: Interval::M1,
                    kline: plain(0)
                }
            ]
        );
    }

    // ---- klines: validation --------------------------------------------------------------

    #[test]
    fn invalid_klines_are_rejected_and_never_stored() {
        let good = plain(0);
        let cases: Vec<(Kline, KlineDefect)> = vec![
            (
                Kline {
                    open_time: T0 + 1,
                    close_time: T0 + MIN - 1,
                    ..good
                },
                KlineDefect::MisalignedOpenTime { expected: T0 },
            ),
            (Kline { close_time: T0, ..good }, KlineDefect::CloseTimeNotAfterOpenTime),
            (
                Kline {
                    close_time: T0 + MIN,
                    ..good
                },
                KlineDefect::CloseTimePastBar { last: T0 + MIN - 1 },
            ),
            (bar(T0, ["10", "9", "12", "10"], "5", 5), KlineDefect::HighBelowLow),
            (bar(T0, ["13", "12", "9", "11"], "5", 5), KlineDefect::OpenOutsideRange),
            (bar(T0, ["10", "12", "9", "8"], "5", 5), KlineDefect::CloseOutsideRange),
            (bar(T0, ["0", "12", "0", "11"], "5", 5), KlineDefect::NonPositivePrice),
            (bar(T0, ["10", "12", "9", "11"], "-5", 5), KlineDefect::NegativeVolume),
            (
                Kline {
                    taker_buy_volume: d("6"),
                    ..good
                },
                KlineDefect::TakerBuyExceedsVolume,
            ),
            (
                Kline {
                    first_trade_id: Some(9),
                    last_trade_id: Some(8),
                    ..good
                },
                KlineDefect::TradeIdsReversed,
            ),
        ];
        let mut b = book();
        let mut out = Vec::new();
        for (kline, defect) in &cases {
            let result = b.merge_kline(S, Interval::M1, kline, prov(1, 0), &mut out);
            assert_eq!(
                result,
                Err(MergeError::InvalidKline {
                    symbol: S,
                    interval: Interval::M1,
                    open_time: kline.open_time,
                    defect: *defect
                })
            );
        }
        assert!(out.is_empty());
        assert!(b.klines(S, Interval::M1).is_empty());
        assert_eq!(b.stats().klines.rejected_invalid, cases.len() as u64);
        // Month and week bars are aligned by the calendar.
        let week_open = Interval::W1.open_time(T0);
        let week = Kline {
            open_time: week_open,
            close_time: Interval::W1.close_time(week_open),
            ..good
        };
        assert!(b.merge_kline(S, Interval::W1, &week, prov(1, 0), &mut out).is_ok());
        let misaligned = Kline {
            open_time: week_open + 86_400_000,
            close_time: week_open + 2 * 86_400_000,
            ..good
        };
        assert!(b
            .merge_kline(S, Interval::W1, &misaligned, prov(1, 0), &mut out)
            .is_err());
    }

    #[test]
    fn a_rest_window_merges_in_one_call_and_is_all_or_nothing() {
        let mut b = book();
        let mut out = Vec::new();
        let window: Vec<Kline> = (0..5)
            .map(|i| Kline {
                closed: i < 4,
                ..plain(i)
            })
            .collect();
        let counts = b.merge_klines(S, Interval::M1, &window, prov(2, 5), &mut out).unwrap();
        assert_eq!(
            counts,
            MergeCounts {
                changed: 5,
                unchanged: 0,
                dropped: 0
            }
        );
        assert_eq!(b.klines(S, Interval::M1), window.as_slice());
        // The next poll: four identical closed bars, the open bar with fewer trades, a new bar.
        let mut next: Vec<Kline> = window[1..].to_vec();
        next[3] = bar(T0 + 4 * MIN, ["10", "12", "9", "11"], "1", 1);
        next.push(plain(5));
        out.clear();
        let counts = b.merge_klines(S, Interval::M1, &next, prov(2, 6), &mut out).unwrap();
        assert_eq!(
            counts,
            MergeCounts {
                changed: 1,
                unchanged: 3,
                dropped: 1
            }
        );
        assert_eq!(out, vec![kline_delta(plain(5))]);
        // One invalid row refuses the whole window.
        let mut bad = next.clone();
        bad.push(bar(T0 + 6 * MIN, ["10", "9", "12", "10"], "5", 5));
        bad.push(plain(7));
        out.clear();
        let before = b.stats().klines;
        let err = b.merge_klines(S, Interval::M1, &bad, prov(2, 7), &mut out);
        assert!(matches!(
            err,
            Err(MergeError::InvalidKline {
                defect: KlineDefect::HighBelowLow,
                ..
            })
        ));
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1).len(), 6);
        assert_eq!(b.stats().klines.rejected_invalid, before.rejected_invalid + 1);
        assert_eq!(b.stats().klines.applied, before.applied);
    }

    // ---- tick correction ------------------------------------------------------------------

    /// A book with one open 1m bar `[10, 12, 9, 11]` whose as_of is `T0 + 10 s`.
    fn book_with_open_bar() -> (MergeBook, Kline) {
        let mut b = book();
        let k = Kline {
            as_of: T0 + 10_000,
            ..bar(T0, ["10", "12", "9", "11"], "5", 5)
        };
        b.merge_kline(S, Interval::M1, &k, prov(1, 0), &mut Vec::new()).unwrap();
        (b, k)
    }

    /// A tick carrying only a traded price (REST `ticker/price`).
    fn traded(price: &str, time: i64) -> Tick {
        Tick::traded(d(price), time)
    }

    #[test]
    fn a_traded_price_inside_the_open_bar_corrects_close_high_low() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        let t = traded("12.55", T0 + 20_000);
        assert_eq!(b.merge_tick(S, &t, prov(4, 77), &mut out), Ok(MergeOutcome::Changed));
        let corrected = Kline {
            close: d("12.55"),
            high: d("12.55"),
            as_of: T0 + 20_000,
            ..k
        };
        assert_eq!(b.klines(S, Interval::M1), &[corrected]);
        assert_eq!(out, vec![Delta::Tick { symbol: S, tick: t }, kline_delta(corrected)]);
        assert_eq!(b.kline_provenance(S, Interval::M1, T0), Some(prov(4, 77)));
        // A tick carrying a book and a traded price corrects from the traded price: a new low.
        let t2 = Tick {
            last: Some(d("8.5")),
            ..tick("8.4", "8.6", T0 + 30_000)
        };
        b.merge_tick(S, &t2, prov(4, 78), &mut out).unwrap();
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!(
            (stored.close, stored.high, stored.low, stored.as_of),
            (d("8.5"), d("12.55"), d("8.5"), T0 + 30_000)
        );
        assert_eq!(b.stats().klines.tick_corrections, 2);
        assert_eq!(b.stats().ticks.applied, 2);
    }

    /// The exchange repeats the previous close in a bar without trades; the first version with
    /// trades starts the bar at its own prices (the data-path system test once saw a low of the
    /// previous close kept in a bar whose only trade was a tick above it).
    #[test]
    fn an_empty_bar_gives_no_prices_to_the_first_version_with_trades() {
        let mut b = book();
        let mut out = Vec::new();
        let empty = bar(T0, ["79996.1", "79996.1", "79996.1", "79996.1"], "0", 0);
        assert_eq!(merge(&mut b, &empty, &mut out), MergeOutcome::Changed);
        let first = bar(T0, ["79996.2", "79996.2", "79996.2", "79996.2"], "0.002", 1);
        assert_eq!(merge(&mut b, &first, &mut out), MergeOutcome::Changed);
        assert_eq!(b.klines(S, Interval::M1), &[first]);
        // From then on extremes only widen: a stale version with fewer trades changes nothing,
        // and the next with more keeps the high and low already seen.
        assert_ne!(merge(&mut b, &empty, &mut out), MergeOutcome::Changed);
        assert_eq!(b.klines(S, Interval::M1), &[first]);
        let second = bar(T0, ["79996.2", "79996.3", "79996.2", "79996.3"], "0.003", 2);
        assert_eq!(merge(&mut b, &second, &mut out), MergeOutcome::Changed);
        let third = bar(T0, ["79996.2", "79996.2", "79996.0", "79996.0"], "0.004", 3);
        merge(&mut b, &third, &mut out);
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!(
            (stored.high, stored.low, stored.close),
            (d("79996.3"), d("79996.0"), d("79996.0"))
        );
    }

    #[test]
    fn a_traded_price_in_an_empty_bar_sets_its_provisional_prices() {
        let mut b = book();
        let mut out = Vec::new();
        let empty = bar(T0, ["10", "10", "10", "10"], "0", 0);
        merge(&mut b, &empty, &mut out);
        assert_eq!(
            b.merge_tick(S, &traded("10.5", T0 + 20_000), prov(4, 0), &mut out),
            Ok(MergeOutcome::Changed)
        );
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!(
            (stored.open, stored.high, stored.low, stored.close, stored.as_of),
            (d("10.5"), d("10.5"), d("10.5"), d("10.5"), T0 + 20_000)
        );
        // Until a version with trades arrives the prices stay provisional: the newest traded price
        // sets them all (that version replaces them anyway, extremes included).
        b.merge_tick(S, &traded("10.2", T0 + 30_000), prov(4, 0), &mut out)
            .unwrap();
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!(
            (stored.open, stored.high, stored.low, stored.close),
            (d("10.2"), d("10.2"), d("10.2"), d("10.2"))
        );
        let first = Kline {
            as_of: T0 + 25_000,
            ..bar(T0, ["10.5", "10.5", "10.1", "10.1"], "1", 2)
        };
        merge(&mut b, &first, &mut out);
        assert_eq!(
            b.klines(S, Interval::M1),
            &[Kline {
                as_of: T0 + 30_000,
                ..first
            }]
        );
    }

    /// Seed 000 corrects the last kline from the latest traded price; a book quote is no trade.
    #[test]
    fn bid_ask_and_midpoint_never_enter_a_bar() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        // Midpoint 12.55 would be a new high, a bid of 8 a new low: neither traded.
        for (i, (bid, ask)) in [("12.5", "12.6"), ("8", "8.1"), ("20", "21")].into_iter().enumerate() {
            let t = tick(bid, ask, T0 + 20_000 + i as i64);
            assert_eq!(b.merge_tick(S, &t, prov(4, 0), &mut out), Ok(MergeOutcome::Changed));
        }
        assert_eq!(b.klines(S, Interval::M1), &[k]);
        assert_eq!(b.stats().klines.tick_corrections, 0);
        assert!(out.iter().all(|delta| matches!(delta, Delta::Tick { .. })));
    }

    #[test]
    fn book_and_traded_price_merge_separately_each_by_its_own_time() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        // A book at T0 + 30 s, then a traded price at T0 + 20 s: older than the book, newer than
        // any traded price, so it is kept beside the book and corrects the bar.
        let book_tick = tick("11.4", "11.6", T0 + 30_000);
        b.merge_tick(S, &book_tick, prov(4, 0), &mut out).unwrap();
        assert_eq!(
            b.merge_tick(S, &traded("11.5", T0 + 20_000), prov(5, 0), &mut out),
            Ok(MergeOutcome::Changed)
        );
        let merged = Tick {
            last: Some(d("11.5")),
            ..book_tick
        };
        assert_eq!(b.tick(S).map(|(t, _)| *t), Some(merged));
        assert_eq!(b.klines(S, Interval::M1)[0].close, d("11.5"));
        // A newer book keeps the traded price; an older traded price is dropped.
        let newer_book = tick("11.7", "11.8", T0 + 40_000);
        b.merge_tick(S, &newer_book, prov(4, 0), &mut out).unwrap();
        assert_eq!(b.tick(S).map(|(t, _)| t.last), Some(Some(d("11.5"))));
        assert_eq!(
            b.merge_tick(S, &traded("9", T0 + 19_000), prov(5, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        // The newer book did not move the bar, the older price did not either.
        assert_eq!(
            b.klines(S, Interval::M1)[0],
            Kline {
                close: d("11.5"),
                as_of: T0 + 20_000,
                ..k
            }
        );
        // Repeats are unchanged.
        assert_eq!(
            b.merge_tick(S, &newer_book, prov(4, 0), &mut out),
            Ok(MergeOutcome::Unchanged)
        );
        assert_eq!(
            b.merge_tick(S, &traded("11.5", T0 + 20_000), prov(5, 0), &mut out),
            Ok(MergeOutcome::Unchanged)
        );
    }

    /// Defect 1 of issue 10: a tick whose price the open bar's price group cannot carry on the wire
    /// (12 × 10^18 overflows an i64 mantissa) made every later Delta and Snapshot of the bar fail
    /// to encode until it closed. It is refused and changes nothing.
    #[test]
    fn a_tick_whose_price_the_bar_cannot_carry_is_refused_and_changes_nothing() {
        let (mut b, k) = book_with_open_bar();
        let before = b.clone();
        let tiny = Tick {
            last: Some(d("0.000000000000000001")),
            ..tick("0.000000000000000001", "0.000000000000000001", T0 + 20_000)
        };
        let mut out = Vec::new();
        let result = b.merge_tick(S, &tiny, prov(4, 0), &mut out);
        assert!(result.is_err(), "{result:?}");
        assert!(out.is_empty());
        assert_eq!(b.klines(S, Interval::M1), &[k]);
        assert_eq!(b.tick(S), before.tick(S));
        let mut encoder = crate::frame::FrameEncoder::new();
        let header = crate::frame::FrameHeader {
            kind: crate::frame::FrameKind::Snapshot,
            stream: 1,
            seq: 1,
            source: SourceId(0),
            received_at: 0,
            chunk: crate::frame::Chunk::WHOLE,
            turn: 0,
        };
        encoder.encode_snapshot(&header, &b.snapshot()).unwrap();
    }

    #[test]
    fn tick_outside_the_bar_does_not_correct_it() {
        for time in [T0 - 1, T0 + MIN] {
            let (mut b, k) = book_with_open_bar();
            let mut out = Vec::new();
            b.merge_tick(S, &traded("20", time), prov(4, 0), &mut out).unwrap();
            assert_eq!(b.klines(S, Interval::M1), &[k], "tick at {time}");
            assert_eq!(out.len(), 1);
        }
        // The bar's last millisecond is inside.
        let (mut b, _) = book_with_open_bar();
        b.merge_tick(S, &traded("20", T0 + MIN - 1), prov(4, 0), &mut Vec::new())
            .unwrap();
        assert_eq!(b.klines(S, Interval::M1)[0].close, d("20"));
    }

    #[test]
    fn tick_older_than_the_bar_as_of_does_not_correct_it() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        b.merge_tick(S, &traded("20", T0 + 9_999), prov(4, 0), &mut out)
            .unwrap();
        assert_eq!(b.klines(S, Interval::M1), &[k]);
        // Exactly at as_of is allowed.
        b.merge_tick(S, &traded("20", T0 + 10_000), prov(4, 0), &mut out)
            .unwrap();
        assert_eq!(b.klines(S, Interval::M1)[0].close, d("20"));
        assert_eq!(b.stats().klines.tick_corrections, 1);
    }

    #[test]
    fn tick_leaves_closed_bars_untouched() {
        let mut b = book();
        let closed = Kline {
            closed: true,
            ..plain(0)
        };
        b.merge_kline(S, Interval::M1, &closed, prov(1, 0), &mut Vec::new())
            .unwrap();
        let mut out = Vec::new();
        b.merge_tick(S, &traded("20", T0 + 5), prov(4, 0), &mut out).unwrap();
        assert_eq!(b.klines(S, Interval::M1), &[closed]);
        assert_eq!(out.len(), 1);
        assert_eq!(b.stats().klines.tick_corrections, 0);
    }

    #[test]
    fn tick_corrects_only_the_newest_bar() {
        let mut b = book();
        let older = plain(0);
        let newest = Kline {
            as_of: T0 + MIN,
            ..plain(1)
        };
        b.merge_kline(S, Interval::M1, &older, prov(1, 0), &mut Vec::new())
            .unwrap();
        b.merge_kline(S, Interval::M1, &newest, prov(1, 0), &mut Vec::new())
            .unwrap();
        let mut out = Vec::new();
        // Inside the older (still open) bar only.
        b.merge_tick(S, &traded("20", T0 + 5), prov(4, 0), &mut out).unwrap();
        assert_eq!(b.klines(S, Interval::M1), &[older, newest]);
        b.merge_tick(S, &traded("20", T0 + MIN + 5), prov(4, 0), &mut out)
            .unwrap();
        assert_eq!(b.klines(S, Interval::M1)[0], older);
        assert_eq!(b.klines(S, Interval::M1)[1].close, d("20"));
    }

    #[test]
    fn tick_corrects_every_interval_of_its_symbol() {
        let mut b = book();
        let mut out = Vec::new();
        let one = plain(0);
        let five = Kline {
            close_time: T0 + 5 * MIN - 1,
            ..plain(0)
        };
        b.merge_kline(S, Interval::M1, &one, prov(1, 0), &mut out).unwrap();
        b.merge_kline(S, Interval::M5, &five, prov(1, 0), &mut out).unwrap();
        b.merge_kline(SymbolId(0), Interval::M1, &one, prov(1, 0), &mut out)
            .unwrap();
        out.clear();
        b.merge_tick(S, &traded("13", T0 + 1_000), prov(4, 0), &mut out)
            .unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(b.klines(S, Interval::M1)[0].high, d("13"));
        assert_eq!(b.klines(S, Interval::M5)[0].high, d("13"));
        assert_eq!(b.klines(SymbolId(0), Interval::M1), &[one]);
        assert_eq!(b.stats().klines.tick_corrections, 2);
    }

    #[test]
    fn tick_that_changes_no_price_emits_no_kline_delta() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        // Close is 11; a traded 11.00 in another scale changes nothing but as_of.
        let t = traded("11.00", T0 + 20_000);
        b.merge_tick(S, &t, prov(4, 0), &mut out).unwrap();
        assert_eq!(out, vec![Delta::Tick { symbol: S, tick: t }]);
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!(
            stored,
            Kline {
                as_of: T0 + 20_000,
                ..k
            }
        );
        assert_eq!(b.kline_provenance(S, Interval::M1, T0), Some(prov(1, 0)));
        assert_eq!(b.stats().klines.tick_corrections, 0);
    }

    #[test]
    fn a_later_kline_version_keeps_the_tick_extremes() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        b.merge_tick(S, &traded("13", T0 + 20_000), prov(4, 0), &mut out)
            .unwrap();
        // The kline stream catches up with more trades but an older view of the high.
        let next = Kline {
            as_of: T0 + 15_000,
            ..bar(T0, ["10", "12.5", "9", "12"], "6", 6)
        };
        merge(&mut b, &next, &mut out);
        let stored = b.klines(S, Interval::M1)[0];
        assert_eq!(stored.high, d("13"));
        assert_eq!(stored.close, d("12"));
        assert_eq!(stored.as_of, T0 + 20_000);
        assert_eq!(stored.low, k.low);
    }

    #[test]
    fn one_sided_book_does_not_correct_bars() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        // An empty bid side (its "midpoint" would be half the ask): a book, never a trade.
        let t = tick("0", "12", T0 + 20_000);
        assert_eq!(b.merge_tick(S, &t, prov(4, 0), &mut out), Ok(MergeOutcome::Changed));
        assert_eq!(b.klines(S, Interval::M1), &[k]);
    }

    // ---- marks ------------------------------------------------------------------------------

    fn mark(price: &str, time: i64) -> Mark {
        Mark {
            time,
            mark_price: d(price),
            index_price: d("99.5"),
            estimated_settle_price: d("99.6"),
            funding_rate: d("-0.0001"),
            next_funding_time: T0 + 8 * 60 * MIN,
        }
    }

    #[test]
    fn newest_mark_wins_by_exchange_time_and_never_touches_bars() {
        let (mut b, k) = book_with_open_bar();
        let mut out = Vec::new();
        let m2 = mark("100.2", T0 + 2_000);
        assert_eq!(b.merge_mark(S, &m2, prov(6, 1), &mut out), Ok(MergeOutcome::Changed));
        // Older: dropped. The same again: unchanged. Equal time, other values: first arrival.
        assert_eq!(
            b.merge_mark(S, &mark("1", T0 + 1_000), prov(7, 2), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(b.merge_mark(S, &m2, prov(7, 2), &mut out), Ok(MergeOutcome::Unchanged));
        assert_eq!(
            b.merge_mark(S, &mark("100.3", T0 + 2_000), prov(7, 2), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(b.mark(S), Some((&m2, prov(6, 1))));
        let m3 = mark("100.4", T0 + 3_000);
        b.merge_mark(S, &m3, prov(7, 3), &mut out).unwrap();
        assert_eq!(
            out,
            vec![Delta::Mark { symbol: S, mark: m2 }, Delta::Mark { symbol: S, mark: m3 }]
        );
        // A mark price is no trade: the open bar is as it was.
        assert_eq!(b.klines(S, Interval::M1), &[k]);
        assert_eq!(b.snapshot().marks, vec![(S, m3)]);
        let stats = b.stats().marks;
        assert_eq!((stats.applied, stats.unchanged, stats.dropped_older), (2, 1, 2));
    }

    #[test]
    fn bad_marks_are_refused_and_counted() {
        let mut b = book();
        let mut out = Vec::new();
        for (bad, reason) in [
            (mark("0", T0), "mark price is not positive"),
            (
                Mark {
                    index_price: d("-1"),
                    ..mark("1", T0)
                },
                "index or estimated settle price is negative",
            ),
            (
                Mark {
                    next_funding_time: -1,
                    ..mark("1", T0)
                },
                "next funding time is negative",
            ),
        ] {
            let error = b.merge_mark(S, &bad, prov(6, 0), &mut out).unwrap_err();
            assert_eq!(error.reason(), "invalid_mark");
            assert!(error.to_string().contains(reason), "{error}");
        }
        assert!(out.is_empty() && b.mark(S).is_none());
        assert_eq!(b.stats().marks.rejected_invalid, 3);
    }

    // ---- ticks ------------------------------------------------------------------------------

    #[test]
    fn newest_tick_wins_older_is_dropped() {
        let mut b = book();
        let mut out = Vec::new();
        let t1 = tick("1", "2", 100);
        let t2 = tick("1.1", "2", 200);
        b.merge_tick(S, &t2, prov(1, 10), &mut out).unwrap();
        assert_eq!(
            b.merge_tick(S, &t1, prov(2, 11), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(b.tick(S), Some((&t2, prov(1, 10))));
        let t3 = tick("1.2", "2", 300);
        assert_eq!(b.merge_tick(S, &t3, prov(2, 12), &mut out), Ok(MergeOutcome::Changed));
        assert_eq!(b.tick(S), Some((&t3, prov(2, 12))));
        assert_eq!(
            out,
            vec![Delta::Tick { symbol: S, tick: t2 }, Delta::Tick { symbol: S, tick: t3 }]
        );
        assert_eq!(b.stats().ticks.dropped_older, 1);
        assert_eq!(b.stats().ticks.applied, 2);
        assert_eq!(b.tick(SymbolId(1)), None);
    }

    #[test]
    fn tick_tie_keeps_the_first() {
        let mut b = book();
        let mut out = Vec::new();
        let first = tick("1", "2", 100);
        let second = tick("1.5", "2", 100);
        b.merge_tick(S, &first, prov(1, 10), &mut out).unwrap();
        assert_eq!(
            b.merge_tick(S, &second, prov(2, 11), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        // Only one side carries an update id: still a tie.
        let with_id = Tick {
            update_id: Some(5),
            ..second
        };
        assert_eq!(
            b.merge_tick(S, &with_id, prov(2, 12), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(b.tick(S), Some((&first, prov(1, 10))));
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn tick_update_id_breaks_time_ties() {
        let mut b = book();
        let mut out = Vec::new();
        let a = Tick {
            update_id: Some(50),
            ..tick("1", "2", 100)
        };
        let lower = Tick {
            update_id: Some(49),
            ..tick("1.1", "2", 100)
        };
        let higher = Tick {
            update_id: Some(51),
            ..tick("1.2", "2", 100)
        };
        b.merge_tick(S, &a, prov(1, 0), &mut out).unwrap();
        assert_eq!(
            b.merge_tick(S, &lower, prov(1, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(
            b.merge_tick(S, &higher, prov(2, 0), &mut out),
            Ok(MergeOutcome::Changed)
        );
        assert_eq!(b.tick(S).map(|(t, _)| *t), Some(higher));
        // Time decides before update ids.
        let older_bigger_id = Tick {
            update_id: Some(99),
            ..tick("1.3", "2", 99)
        };
        assert_eq!(
            b.merge_tick(S, &older_bigger_id, prov(1, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
    }

    #[test]
    fn identical_tick_is_unchanged() {
        let mut b = book();
        let mut out = Vec::new();
        let t = tick("1", "2", 100);
        b.merge_tick(S, &t, prov(1, 0), &mut out).unwrap();
        assert_eq!(b.merge_tick(S, &t, prov(2, 5), &mut out), Ok(MergeOutcome::Unchanged));
        assert_eq!(out.len(), 1);
        assert_eq!(b.tick(S), Some((&t, prov(1, 0))));
        assert_eq!(b.stats().ticks.unchanged, 1);
    }

    #[test]
    fn invalid_ticks_are_rejected() {
        let mut b = book();
        let mut out = Vec::new();
        let cases = [
            (tick("2", "1", 1), TickDefect::CrossedBook),
            (tick("-1", "1", 1), TickDefect::NegativePrice),
            (
                Tick {
                    bid_qty: d("-1"),
                    ..tick("1", "2", 1)
                },
                TickDefect::NegativeQuantity,
            ),
            (
                Tick {
                    last: Some(d("0")),
                    ..tick("1", "2", 1)
                },
                TickDefect::NonPositiveLast,
            ),
        ];
        for (t, defect) in cases {
            assert_eq!(
                b.merge_tick(S, &t, prov(1, 0), &mut out),
                Err(MergeError::InvalidTick {
                    symbol: S,
                    time: 1,
                    defect
                })
            );
        }
        assert!(out.is_empty());
        assert_eq!(b.tick(S), None);
        assert_eq!(b.stats().ticks.rejected_invalid, 4);
    }

    // ---- positions and balances -----------------------------------------------------------

    /// The same one-way position as three sources report it, oldest first: `positionRisk` (every
    /// field), account v3 (no entry, break-even or mark price), `ACCOUNT_UPDATE` (no mark price).
    fn three_sources(amounts: [&str; 3]) -> [Position; 3] {
        let risk = Position {
            entry_price: Some(d("100")),
            break_even_price: Some(d("100.04")),
            unrealized_pnl: Some(d("1.5")),
            mark_price: Some(d("101.5")),
            isolated_wallet: Some(d("0")),
            ..position(PositionSide::Both, amounts[0], 1_000)
        };
        let account = Position {
            unrealized_pnl: Some(d("2")),
            isolated_wallet: Some(d("0")),
            ..position(PositionSide::Both, amounts[1], 2_000)
        };
        let user_stream = Position {
            entry_price: Some(d("100.2")),
            break_even_price: Some(d("100.25")),
            unrealized_pnl: Some(d("2.5")),
            isolated_wallet: Some(d("0")),
            ..position(PositionSide::Both, amounts[2], 3_000)
        };
        [risk, account, user_stream]
    }

    /// The rule applied literally in exchange-time order: the reference for any arrival order.
    fn time_ordered(records: &[Position]) -> Position {
        let mut sorted = records.to_vec();
        sorted.sort_by_key(|p| p.update_time);
        let mut current = sorted[0];
        for r in &sorted[1..] {
            let mut next = *r;
            if r.amount == current.amount {
                next.entry_price = r.entry_price.or(current.entry_price);
                next.break_even_price = r.break_even_price.or(current.break_even_price);
                next.unrealized_pnl = r.unrealized_pnl.or(current.unrealized_pnl);
                next.mark_price = r.mark_price.or(current.mark_price);
                next.isolated_wallet = r.isolated_wallet.or(current.isolated_wallet);
            }
            current = next;
        }
        current
    }

    #[test]
    fn positions_from_three_sources_converge_in_every_arrival_order() {
        for amounts in [["1", "1", "1"], ["1", "2", "2"], ["1", "2", "1"], ["2", "2", "1"]] {
            let records = three_sources(amounts);
            let expected = time_ordered(&records);
            for order in permutations(3) {
                let mut b = book();
                let mut out = Vec::new();
                let mut changed = 0;
                for &i in &order {
                    let from = prov(i as u16, 0);
                    if b.merge_position(S, &records[i], from, &mut out).unwrap() == MergeOutcome::Changed {
                        changed += 1;
                    }
                }
                let (stored, from) = b.position(S, PositionSide::Both).unwrap();
                assert_eq!(*stored, expected, "amounts {amounts:?}, order {order:?}");
                // The newest record (the user stream, source 2) supplied the value.
                assert_eq!(from, prov(2, 0));
                assert_eq!(out.len(), changed);
                assert_eq!(
                    out.last(),
                    Some(&Delta::Position {
                        symbol: S,
                        position: expected
                    })
                );
            }
        }
        // Spelled out for the unchanged amount: the mark price only positionRisk carries survives.
        let expected = time_ordered(&three_sources(["1", "1", "1"]));
        assert_eq!(expected.mark_price, Some(d("101.5")));
        assert_eq!(expected.entry_price, Some(d("100.2")));
        assert_eq!(expected.unrealized_pnl, Some(d("2.5")));
    }

    #[test]
    fn newer_position_wins_older_is_dropped_ties_keep_the_first() {
        let mut b = book();
        let mut out = Vec::new();
        let newer = position(PositionSide::Both, "2", 200);
        let older = position(PositionSide::Both, "1", 100);
        b.merge_position(S, &newer, prov(1, 0), &mut out).unwrap();
        assert_eq!(
            b.merge_position(S, &older, prov(2, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        let tie = position(PositionSide::Both, "3", 200);
        assert_eq!(
            b.merge_position(S, &tie, prov(2, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(
            b.merge_position(S, &newer, prov(2, 0), &mut out),
            Ok(MergeOutcome::Unchanged)
        );
        assert_eq!(b.position(S, PositionSide::Both), Some((&newer, prov(1, 0))));
        assert_eq!(out.len(), 1);
        let stats = b.stats().positions;
        assert_eq!((stats.applied, stats.dropped_older, stats.unchanged), (1, 2, 1));
    }

    #[test]
    fn missing_fields_carry_over_only_while_the_amount_is_unchanged() {
        let mut b = book();
        let mut out = Vec::new();
        let risk = Position {
            entry_price: Some(d("100")),
            mark_price: Some(d("101")),
            ..position(PositionSide::Both, "1", 100)
        };
        b.merge_position(S, &risk, prov(1, 0), &mut out).unwrap();
        // Same amount, no entry price (account v3): the entry price is kept.
        let account = Position {
            mark_price: Some(d("102")),
            ..position(PositionSide::Both, "1.0", 200)
        };
        b.merge_position(S, &account, prov(2, 0), &mut out).unwrap();
        let stored = *b.position(S, PositionSide::Both).unwrap().0;
        assert_eq!(stored.entry_price, Some(d("100")));
        assert_eq!(stored.mark_price, Some(d("102")));
        assert_eq!(stored.update_time, 200);
        // The amount changed and the record has no mark price (ACCOUNT_UPDATE): no stale mark.
        let update = Position {
            entry_price: Some(d("100.5")),
            ..position(PositionSide::Both, "2", 300)
        };
        b.merge_position(S, &update, prov(3, 0), &mut out).unwrap();
        assert_eq!(b.position(S, PositionSide::Both), Some((&update, prov(3, 0))));
    }

    #[test]
    fn a_late_record_revealing_an_amount_change_clears_stale_fields() {
        // Exchange order: 100 amount 1 entry 100; 200 amount 2 entry 105; 300 amount 1 (no entry).
        // Arrival order: 100, 300, 200. Without the late record the entry price 100 would look
        // current; it predates a change of the position, so it must go.
        let first = Position {
            entry_price: Some(d("100")),
            ..position(PositionSide::Both, "1", 100)
        };
        let changed = Position {
            entry_price: Some(d("105")),
            ..position(PositionSide::Both, "2", 200)
        };
        let newest = position(PositionSide::Both, "1", 300);
        let mut b = book();
        let mut out = Vec::new();
        b.merge_position(S, &first, prov(1, 0), &mut out).unwrap();
        b.merge_position(S, &newest, prov(2, 0), &mut out).unwrap();
        assert_eq!(b.position(S, PositionSide::Both).unwrap().0.entry_price, Some(d("100")));
        assert_eq!(
            b.merge_position(S, &changed, prov(3, 0), &mut out),
            Ok(MergeOutcome::Changed)
        );
        assert_eq!(b.position(S, PositionSide::Both), Some((&newest, prov(2, 0))));
        assert_eq!(
            out.last(),
            Some(&Delta::Position {
                symbol: S,
                position: newest
            })
        );
        // Any record at or before that change can no longer bring a field back.
        assert_eq!(
            b.merge_position(S, &first, prov(1, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(
            *b.position(S, PositionSide::Both).unwrap().0,
            time_ordered(&[first, changed, newest])
        );
    }

    #[test]
    fn a_tie_of_the_same_amount_fills_fields_the_first_lacked() {
        let mut b = book();
        let mut out = Vec::new();
        let account = Position {
            unrealized_pnl: Some(d("2")),
            ..position(PositionSide::Both, "1", 100)
        };
        let risk = Position {
            entry_price: Some(d("100")),
            unrealized_pnl: Some(d("3")),
            ..position(PositionSide::Both, "1", 100)
        };
        b.merge_position(S, &account, prov(1, 0), &mut out).unwrap();
        assert_eq!(
            b.merge_position(S, &risk, prov(2, 0), &mut out),
            Ok(MergeOutcome::Changed)
        );
        let stored = *b.position(S, PositionSide::Both).unwrap().0;
        // The first arrival's values win the tie; only the missing entry price is taken.
        assert_eq!(stored.unrealized_pnl, Some(d("2")));
        assert_eq!(stored.entry_price, Some(d("100")));
        assert_eq!(b.position(S, PositionSide::Both).unwrap().1, prov(1, 0));
        // Nothing left to fill: a repeat is dropped.
        assert_eq!(
            b.merge_position(S, &risk, prov(2, 0), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
    }

    #[test]
    fn hedge_mode_sides_are_separate_positions() {
        let mut b = book();
        let mut out = Vec::new();
        let long = position(PositionSide::Long, "3", 200);
        let short = position(PositionSide::Short, "-2", 100);
        b.merge_position(S, &long, prov(1, 0), &mut out).unwrap();
        // Older than the long side, but a different entity: applied.
        assert_eq!(
            b.merge_position(S, &short, prov(1, 0), &mut out),
            Ok(MergeOutcome::Changed)
        );
        assert_eq!(b.position(S, PositionSide::Long).unwrap().0, &long);
        assert_eq!(b.position(S, PositionSide::Short).unwrap().0, &short);
        assert_eq!(b.position(S, PositionSide::Both), None);
        assert_eq!(b.position(SymbolId(0), PositionSide::Long), None);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn balances_follow_the_same_rules() {
        let account = Balance {
            available_balance: Some(d("80")),
            cross_wallet_balance: Some(d("100")),
            ..balance("100", 100)
        };
        let user_stream = Balance {
            cross_wallet_balance: Some(d("100")),
            ..balance("100", 200)
        };
        let after_fee = Balance {
            cross_wallet_balance: Some(d("99.9")),
            ..balance("99.9", 300)
        };
        let records = [account, user_stream, after_fee];
        for prefix in [2, 3] {
            let mut finals = Vec::new();
            for order in permutations(prefix) {
                let mut b = book();
                let mut out = Vec::new();
                for &i in &order {
                    b.merge_balance(&records[i], prov(i as u16, 0), &mut out).unwrap();
                }
                finals.push(*b.balance(&usdt()).unwrap().0);
            }
            assert!(finals.windows(2).all(|w| w[0] == w[1]), "{finals:?}");
            if prefix == 2 {
                // Same wallet balance: the available balance carries over.
                assert_eq!(finals[0].available_balance, Some(d("80")));
                assert_eq!(finals[0].update_time, 200);
            } else {
                // The wallet changed: the available balance is unknown, not stale.
                assert_eq!(finals[0], after_fee);
            }
        }
        let mut b = book();
        let mut out = Vec::new();
        b.merge_balance(&after_fee, prov(1, 5), &mut out).unwrap();
        assert_eq!(
            b.merge_balance(&account, prov(2, 6), &mut out),
            Ok(MergeOutcome::Dropped(DropReason::NotNewer))
        );
        assert_eq!(
            b.merge_balance(&after_fee, prov(2, 7), &mut out),
            Ok(MergeOutcome::Unchanged)
        );
        assert_eq!(b.balance(&usdt()), Some((&after_fee, prov(1, 5))));
        assert_eq!(b.balance(&Name::new("BNB").unwrap()), None);
        assert_eq!(out, vec![Delta::Balance { balance: after_fee }]);
        let stats = b.stats().balances;
        assert_eq!((stats.applied, stats.dropped_older, stats.unchanged), (1, 1, 1));
    }

    // ---- ban list ---------------------------------------------------------------------------

    #[test]
    fn ban_list_last_writer_wins() {
        let mut b = book();
        let mut out = Vec::new();
        assert_eq!(b.ban_list(), &BanList::default());
        assert_eq!(b.ban_list_provenance(), None);
        let first = BanList::new(false, vec![SymbolId(5), SymbolId(2)]);
        assert_eq!(
            b.set_ban_list(first.clone(), prov(1, 10), &mut out),
            MergeOutcome::Changed
        );
        // The same list in another order is the same list.
        let same = BanList::new(false, vec![SymbolId(2), SymbolId(5), SymbolId(5)]);
        assert_eq!(b.set_ban_list(same, prov(2, 11), &mut out), MergeOutcome::Unchanged);
        assert_eq!(b.ban_list_provenance(), Some(prov(1, 10)));
        // Shrinking the list is a command like any other: it applies.
        let second = BanList::new(false, vec![SymbolId(2)]);
        assert_eq!(
            b.set_ban_list(second.clone(), prov(2, 12), &mut out),
            MergeOutcome::Changed
        );
        assert_eq!(b.ban_list(), &second);
        assert_eq!(b.ban_list_provenance(), Some(prov(2, 12)));
        assert_eq!(out, vec![Delta::BanList(first), Delta::BanList(second)]);
        let stats = b.stats().ban_list;
        assert_eq!((stats.applied, stats.unchanged), (2, 1));
    }

    // ---- stats and snapshots -----------------------------------------------------------------

    #[test]
    fn stats_count_every_outcome() {
        let mut b = book_with_window(2);
        let mut out = Vec::new();
        merge(&mut b, &plain(1), &mut out); // applied
        merge(&mut b, &plain(2), &mut out); // applied
        merge(&mut b, &plain(2), &mut out); // unchanged
        merge(&mut b, &plain(0), &mut out); // outside window
        merge(&mut b, &bar(T0 + 2 * MIN, ["10", "12", "9", "11"], "1", 1), &mut out); // not more trades
        merge(
            &mut b,
            &Kline {
                closed: true,
                ..plain(1)
            },
            &mut out,
        ); // applied
        merge(&mut b, &bar(T0 + MIN, ["10", "12", "9", "11"], "9", 9), &mut out); // closed
        let _ = b.merge_kline(
            S,
            Interval::M1,
            &bar(T0, ["1", "1", "2", "1"], "1", 1),
            prov(1, 0),
            &mut out,
        );
        b.merge_tick(S, &traded("30", T0 + 2 * MIN + 1), prov(1, 0), &mut out)
            .unwrap();
        b.merge_tick(S, &traded("30", T0), prov(1, 0), &mut out).unwrap();
        assert_eq!(
            b.stats().klines,
            KindStats {
                applied: 3,
                unchanged: 1,
                dropped_older: 0,
                ignored_closed: 1,
                ignored_not_more_trades: 1,
                outside_window: 1,
                rejected_invalid: 1,
                tick_corrections: 1,
            }
        );
        assert_eq!(
            b.stats().ticks,
            KindStats {
                applied: 1,
                dropped_older: 1,
                ..KindStats::default()
            }
        );
        // Deltas: 3 applied klines, 1 tick, 1 correction.
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn snapshot_holds_exactly_the_current_state() {
        let mut b = book();
        let mut out = Vec::new();
        let other = SymbolId(1);
        let k0 = Kline {
            closed: true,
            ..plain(0)
        };
        let k1 = plain(1);
        b.merge_kline(S, Interval::M1, &k1, prov(1, 0), &mut out).unwrap();
        b.merge_kline(S, Interval::M1, &k0, prov(1, 0), &mut out).unwrap();
        let h1 = Kline {
            close_time: Interval::H1.close_time(Interval::H1.open_time(T0)),
            ..bar(Interval::H1.open_time(T0), ["10", "12", "9", "11"], "5", 5)
        };
        b.merge_kline(other, Interval::H1, &h1, prov(1, 0), &mut out).unwrap();
        // A dropped version must not show up.
        b.merge_kline(
            S,
            Interval::M1,
            &bar(T0 + MIN, ["10", "20", "1", "15"], "1", 1),
            prov(1, 0),
            &mut out,
        )
        .unwrap();
        let t = tick("1", "2", 5);
        b.merge_tick(other, &t, prov(1, 0), &mut out).unwrap();
        let long = position(PositionSide::Long, "1", 1);
        let short = position(PositionSide::Short, "-1", 1);
        b.merge_position(S, &short, prov(1, 0), &mut out).unwrap();
        b.merge_position(S, &long, prov(1, 0), &mut out).unwrap();
        let bnb = Balance {
            asset: Name::new("BNB").unwrap(),
            ..balance("1", 1)
        };
        b.merge_balance(&balance("10", 1), prov(1, 0), &mut out).unwrap();
        b.merge_balance(&bnb, prov(1, 0), &mut out).unwrap();
        let bans = BanList::new(true, vec![]);
        b.set_ban_list(bans.clone(), prov(1, 0), &mut out);

        let snapshot = b.snapshot();
        assert_eq!(
            snapshot,
            Snapshot {
                klines: vec![
                    KlineWindow {
                        symbol: other,
                        interval: Interval::H1,
                        klines: vec![h1]
                    },
                    KlineWindow {
                        symbol: S,
                        interval: Interval::M1,
                        klines: vec![k0, k1]
                    },
                ],
                ticks: vec![(other, t)],
                positions: vec![(S, long), (S, short)],
                balances: vec![bnb, balance("10", 1)],
                ban_list: Some(bans.clone()),
                marks: vec![],
            }
        );
        let only_s = b.snapshot_of(&[S, SymbolId(40), S, SymbolId(1_000_000)]);
        assert_eq!(
            only_s,
            Snapshot {
                klines: vec![KlineWindow {
                    symbol: S,
                    interval: Interval::M1,
                    klines: vec![k0, k1]
                }],
                ticks: vec![],
                positions: vec![(S, long), (S, short)],
                balances: vec![bnb, balance("10", 1)],
                ban_list: Some(bans),
                marks: vec![],
            }
        );
        assert_eq!(
            book().snapshot(),
            Snapshot {
                ban_list: Some(BanList::default()),
                ..Snapshot::default()
            }
        );
    }

    // ---- properties ---------------------------------------------------------------------------

    /// One open 1m version: (trades, volume, high above 100, low below 100, close pick, as_of).
    fn version() -> impl Strategy<Value = (u64, i64, i64, i64, i64, i64)> {
        (0u64..5, 0i64..5, 0i64..6, 0i64..6, 0i64..100, 0i64..60_000)
    }

    proptest! {
        #[test]
        fn open_bar_versions_converge_on_the_most_trades(versions in prop::collection::vec(version(), 1..14)) {
            let klines: Vec<Kline> = versions
                .iter()
                .map(|&(trades, volume, up, down, pick, as_of)| {
                    let high = 100 + up;
                    let low = 100 - down;
                    let close = low + pick % (high - low + 1);
                    Kline {
                        open: Decimal::from_int(100),
                        high: Decimal::from_int(high),
                        low: Decimal::from_int(low),
                        close: Decimal::from_int(close),
                        volume: Decimal::from_int(volume),
                        quote_volume: Decimal::from_int(volume),
                        trades,
                        as_of: T0 + as_of,
                        ..plain(0)
                    }
                })
                .collect();
            let mut b = book();
            let mut out = Vec::new();
            let mut applied = Vec::new();
            for k in &klines {
                if merge(&mut b, k, &mut out) == MergeOutcome::Changed {
                    applied.push(*k);
                }
            }
            prop_assert_eq!(out.len(), applied.len());
            let best_key = klines.iter().map(|k| (k.trades, k.volume)).max().unwrap();
            let winner = klines.iter().find(|k| (k.trades, k.volume) == best_key).unwrap();
            // Versions without trades carry no traded price: the first with trades replaces them,
            // so the extremes come from the versions with trades (or the last one, when none has).
            let traded: Vec<&Kline> = applied.iter().filter(|k| k.trades > 0).collect();
            let priced = if traded.is_empty() { vec![applied.last().unwrap()] } else { traded };
            let expected = Kline {
                high: priced.iter().map(|k| k.high).max().unwrap(),
                low: priced.iter().map(|k| k.low).min().unwrap(),
                as_of: applied.iter().map(|k| k.as_of).max().unwrap(),
                ..*winner
            };
            prop_assert_eq!(b.klines(S, Interval::M1), &[expected]);
            // Applied versions have strictly increasing (trades, volume).
            prop_assert!(applied.windows(2).all(|w| (w[0].trades, w[0].volume) < (w[1].trades, w[1].volume)));
            prop_assert_eq!(b.stats().klines.applied, applied.len() as u64);
        }

        #[test]
        fn positions_merge_as_if_delivered_in_time_order(
            raw in prop::collection::vec((0u8..2, prop::array::uniform5(prop::option::of(0i64..3))), 1..8),
            order_seed in prop::collection::vec(0usize..1000, 8),
        ) {
            // Distinct exchange times; arrival order shuffled by the seed.
            let records: Vec<Position> = raw
                .iter()
                .enumerate()
                .map(|(i, &(amount, fields))| {
                    let mut p = position(PositionSide::Both, "1", 1_000 + i as i64);
                    p.amount = Decimal::from_int(1 + amount as i64);
                    p.set_optional_fields(fields.map(|f| f.map(Decimal::from_int)));
                    p
                })
                .collect();
            let mut arrival: Vec<usize> = (0..records.len()).collect();
            arrival.sort_by_key(|&i| (order_seed[i], i));
            let mut b = book();
            let mut out = Vec::new();
            let mut changed = 0;
            for &i in &arrival {
                if b.merge_position(S, &records[i], prov(i as u16, 0), &mut out).unwrap() == MergeOutcome::Changed {
                    changed += 1;
                }
            }
            prop_assert_eq!(*b.position(S, PositionSide::Both).unwrap().0, time_ordered(&records));
            prop_assert_eq!(out.len(), changed);
        }
    }

    // ---- real exchange data -------------------------------------------------------------------

    fn data_dir() -> Option<PathBuf> {
        let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
        [beside, PathBuf::from("../shared/data")]
            .into_iter()
            .find(|p| p.is_dir())
    }

    /// Kline and bookTicker events of the USD-M capture, in arrival order.
    enum Event {
        Kline(SymbolId, Kline),
        Tick(SymbolId, Tick),
    }

    fn capture_events() -> Option<Vec<Event>> {
        let Some(dir) = data_dir() else {
            eprintln!("SKIP: shared/data not found; real-capture merge test not run");
            return None;
        };
        let text = std::fs::read_to_string(dir.join("usdm-ws-capture-2021-07-22.txt")).unwrap();
        let mut registry = SymbolRegistry::new();
        let mut events = Vec::new();
        let dec = |v: &serde_json::Value| d(v.as_str().unwrap());
        for line in text.lines().skip(1) {
            let (_, json) = line.split_once(": ").unwrap();
            let msg: serde_json::Value = serde_json::from_str(json).unwrap();
            let data = &msg["data"];
            let stream = msg["stream"].as_str().unwrap();
            let symbol = registry.intern(Name::new(data["s"].as_str().unwrap()).unwrap());
            if stream.ends_with("@kline_1m") {
                let k = &data["k"];
                events.push(Event::Kline(
                    symbol,
                    Kline {
                        open_time: k["t"].as_i64().unwrap(),
                        close_time: k["T"].as_i64().unwrap(),
                        open: dec(&k["o"]),
                        high: dec(&k["h"]),
                        low: dec(&k["l"]),
                        close: dec(&k["c"]),
                        volume: dec(&k["v"]),
                        quote_volume: dec(&k["q"]),
                        trades: k["n"].as_u64().unwrap(),
                        taker_buy_volume: dec(&k["V"]),
                        taker_buy_quote_volume: dec(&k["Q"]),
                        first_trade_id: k["f"].as_u64(),
                        last_trade_id: k["L"].as_u64(),
                        closed: k["x"].as_bool().unwrap(),
                        as_of: data["E"].as_i64().unwrap(),
                    },
                ));
            } else if stream.ends_with("@bookTicker") {
                events.push(Event::Tick(
                    symbol,
                    Tick {
                        bid: dec(&data["b"]),
                        bid_qty: dec(&data["B"]),
                        ask: dec(&data["a"]),
                        ask_qty: dec(&data["A"]),
                        last: None,
                        time: data["T"].as_i64().unwrap(),
                        update_id: data["u"].as_u64(),
                    },
                ));
            } else if stream.ends_with("@aggTrade") {
                // A trade's price, as a tick collector would pass the latest traded price on.
                events.push(Event::Tick(
                    symbol,
                    Tick::traded(dec(&data["p"]), data["T"].as_i64().unwrap()),
                ));
            }
        }
        Some(events)
    }

    #[test]
    fn real_capture_klines_converge_in_any_arrival_order() {
        let Some(events) = capture_events() else { return };
        let klines: Vec<(SymbolId, Kline)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Kline(s, k) => Some((*s, *k)),
                Event::Tick(..) => None,
            })
            .collect();
        assert_eq!(klines.len(), 67);
        // The exchange's own best version of each bar: the closed one, else the most trades.
        let mut expected: Vec<(SymbolId, Kline)> = Vec::new();
        for &(s, k) in &klines {
            match expected
                .iter_mut()
                .find(|(es, ek)| *es == s && ek.open_time == k.open_time)
            {
                None => expected.push((s, k)),
                Some((_, best)) => {
                    if !best.closed && (k.closed || (k.trades, k.volume) > (best.trades, best.volume)) {
                        *best = k;
                    }
                }
            }
        }
        assert!(expected.iter().any(|(_, k)| k.closed));
        let n = klines.len();
        let orders: Vec<Vec<usize>> = vec![
            (0..n).collect(),
            (0..n).rev().collect(),
            (0..n).map(|i| (i * 37) % n).collect(),
        ];
        for order in orders {
            let mut b = book();
            let mut out = Vec::new();
            for i in order {
                let (s, k) = klines[i];
                b.merge_kline(s, Interval::M1, &k, prov(1, 0), &mut out).unwrap();
            }
            for (s, k) in &expected {
                assert_eq!(b.kline_provenance(*s, Interval::M1, k.open_time), Some(prov(1, 0)));
                let stored = b.klines(*s, Interval::M1).iter().find(|x| x.open_time == k.open_time);
                assert_eq!(stored, Some(k));
            }
            assert_eq!(b.stats().klines.applied as usize, out.len());
        }
    }

    #[test]
    fn real_capture_ticks_correct_open_bars_and_never_closed_ones() {
        let Some(events) = capture_events() else { return };
        let mut b = book();
        let mut out = Vec::new();
        for e in &events {
            match e {
                Event::Kline(s, k) => {
                    b.merge_kline(*s, Interval::M1, k, prov(1, 0), &mut out).unwrap();
                }
                Event::Tick(s, t) => {
                    b.merge_tick(*s, t, prov(2, 0), &mut out).unwrap();
                }
            }
            for s in 0..4 {
                for k in b.klines(SymbolId(s), Interval::M1) {
                    assert!(k.low <= k.close && k.close <= k.high, "{k:?}");
                }
            }
        }
        let stats = b.stats();
        assert!(stats.klines.tick_corrections > 0);
        assert_eq!(stats.ticks.rejected_invalid, 0);
        // Every bar's close, high and low is a price something traded at: the exchange's own
        // kline prices or an aggTrade's, never a bid, an ask or their midpoint.
        let mut traded: std::collections::HashSet<(SymbolId, Decimal)> = std::collections::HashSet::new();
        for e in &events {
            match e {
                Event::Kline(s, k) => {
                    traded.extend([k.open, k.high, k.low, k.close].map(|p| (*s, p)));
                }
                Event::Tick(s, t) => traded.extend(t.last.map(|p| (*s, p))),
            }
        }
        let mut book_prices = 0;
        for e in &events {
            if let Event::Tick(s, t) = e {
                if t.has_book() && !traded.contains(&(*s, t.bid)) {
                    book_prices += 1;
                }
            }
        }
        assert!(book_prices > 0, "the capture has bids at which nothing traded");
        for s in 0..4 {
            for k in b.klines(SymbolId(s), Interval::M1) {
                for price in [k.high, k.low, k.close] {
                    assert!(traded.contains(&(SymbolId(s), price)), "{price} in {k:?}");
                }
            }
        }
        // Closed bars are exactly the exchange's closed messages.
        for e in &events {
            if let Event::Kline(s, k) = e {
                if k.closed {
                    let stored = b.klines(*s, Interval::M1).iter().find(|x| x.open_time == k.open_time);
                    assert_eq!(stored, Some(k));
                }
            }
        }
        let kline_deltas = out.iter().filter(|d| matches!(d, Delta::Kline { .. })).count() as u64;
        assert_eq!(kline_deltas, stats.klines.applied + stats.klines.tick_corrections);
        let tick_deltas = out.iter().filter(|d| matches!(d, Delta::Tick { .. })).count() as u64;
        assert_eq!(tick_deltas, stats.ticks.applied);
    }
}
