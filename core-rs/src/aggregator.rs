//! Bar aggregator: aggTrades into klines for every listed interval (DESIGN.md 3.5).
//!
//! One [`Aggregator`] serves one symbol. Trades are applied in aggregate-id order; a trade whose id
//! is not above the last accepted one is dropped and counted, an id jump is reported (and the trade
//! still applied) so the collector can backfill the affected bars from the exchange's REST klines.
//!
//! Rules where Binance leaves room:
//! - A trade belongs to the bar whose window contains its trade time. A trade time that is earlier
//!   than the current bar's open (ids increasing, times going backwards, or a trade arriving after
//!   [`Aggregator::advance_to`] closed its window) counts in the current bar: closed bars are
//!   final and are never reopened. Such trades are counted in [`AggregatorStats::out_of_window`].
//! - Sums keep their natural scale: the largest scale of the addends, `price × qty` at the sum of
//!   the two scales. Zero sums (taker-buy volume of a bar of sells, volumes of an empty bar) carry
//!   the same scale as their volume column, so formatting gives the exchange's own strings.
//! - `as_of` of a bar is the newest event time of the trades applied to it; an empty bar keeps the
//!   `as_of` of the bar whose close it repeats.

use crate::decimal::Decimal;
use crate::interval::Interval;
use crate::market::{AggTrade, Kline};
use crate::symbol::Symbol;

/// Most bars one step (a trade or [`Aggregator::advance_to`]) may close in one interval: about 69
/// days of empty 1m bars. A larger jump means a broken clock or a corrupt time, not a quiet market,
/// and emitting it would exhaust memory.
pub const MAX_BARS_PER_STEP: i64 = 100_000;

/// Latest trade time accepted: 9999-12-31T23:59:59.999Z. Keeps bar arithmetic far from overflow.
pub const MAX_TRADE_TIME_MS: i64 = 253_402_300_799_999;

/// One bar: a Binance kline plus the fields Binance does not send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    pub kline: Kline,
    /// Aggregate trades applied to the bar (the kline's `trades` counts underlying trades).
    pub agg_trades: u64,
}

impl Bar {
    /// True when no trade fell into the bar (its prices repeat the previous close).
    pub fn is_empty(&self) -> bool {
        self.agg_trades == 0
    }

    /// Volume-weighted average price, quote volume ÷ volume rounded half-to-even to `scale` digits;
    /// `None` for a bar without volume (or a scale above the decimal maximum).
    pub fn vwap(&self, scale: u8) -> Option<Decimal> {
        if self.kline.volume.is_zero() {
            return None;
        }
        self.kline.quote_volume.div_rounded(&self.kline.volume, scale).ok()
    }

    /// Volume of trades whose taker sold (`volume − taker-buy volume`). `None` only when the
    /// difference overflows, which sums built by the aggregator never do.
    pub fn sell_volume(&self) -> Option<Decimal> {
        self.kline.volume.checked_sub(&self.kline.taker_buy_volume)
    }

    /// Quote volume of trades whose taker sold; `None` only on overflow, as [`Bar::sell_volume`].
    pub fn sell_quote_volume(&self) -> Option<Decimal> {
        self.kline.quote_volume.checked_sub(&self.kline.taker_buy_quote_volume)
    }

    /// A bar opened by `trade` at `open_time`.
    fn first(interval_ms: i64, open_time: i64, trade: &AggTrade, applied: &AppliedTrade) -> Bar {
        Bar {
            kline: Kline {
                open_time,
                close_time: open_time + interval_ms - 1,
                open: trade.price,
                high: trade.price,
                low: trade.price,
                close: trade.price,
                volume: trade.quantity,
                quote_volume: applied.notional,
                trades: applied.trades,
                taker_buy_volume: applied.buy_volume,
                taker_buy_quote_volume: applied.buy_quote,
                first_trade_id: Some(trade.first_trade_id),
                last_trade_id: Some(trade.last_trade_id),
                closed: false,
                as_of: trade.event_time,
            },
            agg_trades: 1,
        }
    }

    /// The empty bar at `open_time` that follows `previous`: prices repeat its close, sums are zero
    /// at its sums' scales.
    fn empty_after(previous: &Kline, interval_ms: i64, open_time: i64) -> Bar {
        let volume = zero_at(previous.volume.scale());
        let quote = zero_at(previous.quote_volume.scale());
        Bar {
            kline: Kline {
                open_time,
                close_time: open_time + interval_ms - 1,
                open: previous.close,
                high: previous.close,
                low: previous.close,
                close: previous.close,
                volume,
                quote_volume: quote,
                trades: 0,
                taker_buy_volume: volume,
                taker_buy_quote_volume: quote,
                first_trade_id: None,
                last_trade_id: None,
                closed: false,
                as_of: previous.as_of,
            },
            agg_trades: 0,
        }
    }

    /// The sums of this bar, which holds trades, once `trade` is added; `None` when one overflows.
    #[inline(always)]
    fn sums_after(&self, trade: &AggTrade, applied: &AppliedTrade) -> Option<Sums> {
        let k = &self.kline;
        Some(Sums {
            volume: k.volume.checked_add(&trade.quantity)?,
            quote_volume: k.quote_volume.checked_add(&applied.notional)?,
            trades: k.trades.checked_add(applied.trades)?,
            taker_buy_volume: k.taker_buy_volume.checked_add(&applied.buy_volume)?,
            taker_buy_quote_volume: k.taker_buy_quote_volume.checked_add(&applied.buy_quote)?,
            agg_trades: self.agg_trades.checked_add(1)?,
        })
    }

    /// Adds `trade` to this bar in place, the fields a trade changes only; nothing when a sum
    /// would overflow, which the caller ruled out with [`Bar::sums_after`].
    #[inline(always)]
    fn add(&mut self, trade: &AggTrade, applied: &AppliedTrade) {
        let Some(sums) = self.sums_after(trade, applied) else {
            return;
        };
        self.add_prices(trade);
        let k = &mut self.kline;
        k.volume = sums.volume;
        k.quote_volume = sums.quote_volume;
        k.trades = sums.trades;
        k.taker_buy_volume = sums.taker_buy_volume;
        k.taker_buy_quote_volume = sums.taker_buy_quote_volume;
        k.last_trade_id = Some(trade.last_trade_id);
        k.as_of = k.as_of.max(trade.event_time);
        self.agg_trades = sums.agg_trades;
    }

    /// [`Bar::add`] when the aggregator's [`SumBounds`] hold after this trade: every sum of the
    /// bar and the trade's values then share their scales and no sum can overflow, so the sums
    /// are added in place, mantissa to mantissa, with nothing to check. The result is the same
    /// as `add`'s: this is the common case, once per interval per trade.
    #[inline(always)]
    fn add_within_bounds(&mut self, trade: &AggTrade, applied: &AppliedTrade) {
        self.add_prices(trade);
        let k = &mut self.kline;
        k.volume.add_assign_proven(&trade.quantity);
        k.quote_volume.add_assign_proven(&applied.notional);
        k.taker_buy_volume.add_assign_proven(&applied.buy_volume);
        k.taker_buy_quote_volume.add_assign_proven(&applied.buy_quote);
        // The bounds cover the underlying trades (≤ u64::MAX in all) and the aggregate trades
        // (at most the trades accepted, checked below u64::MAX).
        k.trades += applied.trades;
        k.last_trade_id = Some(trade.last_trade_id);
        k.as_of = k.as_of.max(trade.event_time);
        self.agg_trades += 1;
    }

    /// High, low and close after `trade`. As `max` and `min` decide ties: a price equal to the
    /// high replaces it (it may carry another scale), one equal to the low does not.
    #[inline(always)]
    fn add_prices(&mut self, trade: &AggTrade) {
        let k = &mut self.kline;
        if trade.price >= k.high {
            k.high = trade.price;
        }
        if trade.price < k.low {
            k.low = trade.price;
        }
        k.close = trade.price;
    }
}

/// The sums of a bar after a trade, computed before any is stored.
#[derive(Clone, Copy, Debug)]
struct Sums {
    volume: Decimal,
    quote_volume: Decimal,
    trades: u64,
    taker_buy_volume: Decimal,
    taker_buy_quote_volume: Decimal,
    agg_trades: u64,
}

/// What a trade does to one series, decided (and checked) before any series changes.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Add it to the current bar (its sums fit).
    Add,
    /// Make it the first trade of the current bar, empty so far (opened by `advance_to`).
    Fill,
    /// Close the current bar, if any, and the empty bars after it; open the bar at this time.
    Open(i64),
}

/// Upper bounds on every bar's sums, which let a push skip checking each series' sums for
/// overflow: while every trade so far had the same quantity and quote-volume scales, every sum of
/// every bar (a sum of some of those trades' values, or a zero at those scales) carries those
/// scales and a mantissa no larger in magnitude than the sum of all the trades' mantissa
/// magnitudes; while that total fits an `i128` (`u64` for trade counts), adding a new trade
/// cannot overflow, so the sums need no check. Once the scales vary, every push checks them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SumBounds {
    /// The scales of every trade's quantity and quote volume; `None` before the first trade.
    scales: Option<(u8, u8)>,
    /// A trade came with other scales: the bounds no longer cover the sums.
    varied: bool,
    /// Σ |quantity mantissa|, Σ |quote-volume mantissa| and Σ underlying trades, saturating.
    volume: u128,
    quote: u128,
    trades: u128,
}

impl SumBounds {
    /// The bounds once `quantity` and `quote` (the trade's quote volume) of `trades` underlying
    /// trades are applied, if they still prove that no sum can overflow.
    fn after(&self, quantity: &Decimal, quote: &Decimal, trades: u64) -> Option<SumBounds> {
        let scales = (quantity.scale(), quote.scale());
        if self.varied || self.scales.is_some_and(|s| s != scales) {
            return None;
        }
        let next = SumBounds {
            scales: Some(scales),
            varied: false,
            volume: self.volume.saturating_add(quantity.mantissa().unsigned_abs()),
            quote: self.quote.saturating_add(quote.mantissa().unsigned_abs()),
            trades: self.trades.saturating_add(u128::from(trades)),
        };
        let fits =
            next.volume <= i128::MAX as u128 && next.quote <= i128::MAX as u128 && next.trades <= u128::from(u64::MAX);
        fits.then_some(next)
    }

    /// Records an applied trade: its bounds (`after`), or, when they proved nothing, that the
    /// bounds no longer hold.
    fn record(&mut self, after: Option<SumBounds>) {
        match after {
            Some(next) => *self = next,
            None => self.varied = true,
        }
    }
}

/// Zero carrying `scale` digits after the point (`scale` always comes from an existing decimal).
fn zero_at(scale: u8) -> Decimal {
    Decimal::new(0, scale).unwrap_or(Decimal::ZERO)
}

/// What one trade adds, computed once per trade rather than once per interval.
struct AppliedTrade {
    /// `price × quantity`, exact.
    notional: Decimal,
    /// Underlying trades, `l − f + 1`.
    trades: u64,
    /// The trade's contribution to the taker-buy volume and quote volume: its volumes when the
    /// taker bought, else zeros at the same scales (so taker-buy columns keep the volume
    /// columns' scale).
    buy_volume: Decimal,
    buy_quote: Decimal,
}

impl AppliedTrade {
    fn new(trade: &AggTrade, notional: Decimal) -> AppliedTrade {
        let (buy_volume, buy_quote) = if trade.buyer_is_maker {
            (zero_at(trade.quantity.scale()), zero_at(notional.scale()))
        } else {
            (trade.quantity, notional)
        };
        AppliedTrade {
            notional,
            trades: trade.last_trade_id - trade.first_trade_id + 1,
            buy_volume,
            buy_quote,
        }
    }
}

/// A bar the aggregator finished, with its interval; `bar.kline.closed` is true.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosedBar {
    pub interval: Interval,
    pub bar: Bar,
}

/// Aggregate trade ids missing between the last accepted trade and the one just applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdGap {
    pub first_missing: u64,
    pub last_missing: u64,
}

impl IdGap {
    /// How many aggregate trades are missing.
    pub fn count(&self) -> u64 {
        self.last_missing - self.first_missing + 1
    }
}

/// What [`Aggregator::push`] did with a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// Applied; its id follows the last accepted one (or it is the first trade).
    Accepted,
    /// Applied, but ids were skipped: backfill the bars that cover the gap.
    AcceptedAfterGap(IdGap),
    /// Dropped: its id equals the last accepted id.
    Duplicate,
    /// Dropped: its id is below the last accepted id.
    Late,
}

/// Counters since the aggregator was built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AggregatorStats {
    /// Trades applied.
    pub accepted: u64,
    /// Trades dropped because their id equalled the last accepted id.
    pub duplicates: u64,
    /// Trades dropped because their id was below the last accepted id.
    pub late: u64,
    /// Id jumps seen, and the aggregate trades missing in them.
    pub gaps: u64,
    pub missing_ids: u64,
    /// Applied trades whose time fell before the current bar's window (counted in that bar).
    pub out_of_window: u64,
    /// Trades refused with a [`TradeError`].
    pub rejected: u64,
}

/// Why an aggregator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregatorError {
    #[error("the aggregator needs at least one interval")]
    NoIntervals,
    #[error("interval {0} has no fixed length; the aggregator builds fixed-length bars only")]
    CalendarInterval(Interval),
    #[error("interval {0} is listed twice")]
    DuplicateInterval(Interval),
}

/// A step that would close more than [`MAX_BARS_PER_STEP`] bars of one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "time jumps from the {interval} bar at {from_open_time} to {to_time}: more than {MAX_BARS_PER_STEP} bars at once"
)]
pub struct TimeJump {
    pub interval: Interval,
    pub from_open_time: i64,
    pub to_time: i64,
}

/// Why a trade was refused. A refused trade changes nothing but [`AggregatorStats::rejected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TradeError {
    #[error("trade {id} is for {found}, the aggregator serves {expected}")]
    WrongSymbol { id: u64, expected: Symbol, found: Symbol },
    #[error("trade {id} has last trade id {last} below its first trade id {first}")]
    LastBeforeFirst { id: u64, first: u64, last: u64 },
    #[error("trade {id}: time {time} is outside 1970..9999")]
    TimeOutOfRange { id: u64, time: i64 },
    #[error("trade {id}: price × quantity does not fit an exact decimal")]
    NotionalOverflow { id: u64 },
    #[error("trade {id}: the {interval} bar's sums would overflow")]
    SumOverflow { id: u64, interval: Interval },
    #[error("trade {id}: {jump}")]
    TimeJump { id: u64, jump: TimeJump },
}

/// How a trade's quote volume is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuoteRule {
    /// `price × quantity`, exact: spot and USD-M (linear) contracts.
    #[default]
    Linear,
    /// `quantity × contract_size ÷ price` rounded half-to-even to [`INVERSE_QUOTE_SCALE`] digits:
    /// COIN-M (inverse) contracts, whose quantity counts contracts of `contract_size` USD and
    /// whose klines' quote column is the base asset volume (coins), summed from each trade's
    /// base quantity as the exchange publishes it (`baseQty`, 8 decimals).
    Inverse { contract_size: Decimal },
}

/// Digits of an inverse contract's per-trade base quantity, as Binance prints `baseQty`.
pub const INVERSE_QUOTE_SCALE: u8 = 8;

impl QuoteRule {
    /// The quote volume of `quantity` at `price`; `None` when it does not fit an exact decimal
    /// (or the price is zero, which parsed trades never have).
    pub fn quote(&self, price: &Decimal, quantity: &Decimal) -> Option<Decimal> {
        match self {
            QuoteRule::Linear => price.checked_mul(quantity),
            QuoteRule::Inverse { contract_size } => quantity
                .checked_mul(contract_size)?
                .div_rounded(price, INVERSE_QUOTE_SCALE)
                .ok(),
        }
    }
}

/// The bar state of one interval.
#[derive(Clone, Debug)]
struct Series {
    interval: Interval,
    length_ms: i64,
}

/// Builds bars of several intervals from one symbol's aggTrades.
#[derive(Clone, Debug)]
pub struct Aggregator {
    symbol: Symbol,
    series: Vec<Series>,
    /// The current (open) bar of each series, by index; `None` before the first trade and after
    /// [`Aggregator::finish`]. A push first checks that the trade can be applied to every
    /// series, so a refused trade leaves no trace, then updates each bar in place.
    bars: Vec<Option<Bar>>,
    /// What the trade being pushed does to each series (kept between pushes: no allocation).
    steps: Vec<Step>,
    /// What proves that a trade's sums fit every bar without checking each.
    bounds: SumBounds,
    last_id: Option<u64>,
    stats: AggregatorStats,
    quote: QuoteRule,
    /// Tests only: every trade takes the planned, checked path, to compare the fast paths with.
    #[cfg(test)]
    checked_only: bool,
}

impl Aggregator {
    /// An aggregator for `symbol` building bars of `intervals` (each must have a fixed length;
    /// use [`crate::interval::AGGREGATED`] for the design's set). Closed bars are reported in the
    /// order the intervals are given here.
    pub fn new(symbol: Symbol, intervals: &[Interval]) -> Result<Aggregator, AggregatorError> {
        if intervals.is_empty() {
            return Err(AggregatorError::NoIntervals);
        }
        let mut series: Vec<Series> = Vec::with_capacity(intervals.len());
        for &interval in intervals {
            let length_ms = interval.fixed_ms().ok_or(AggregatorError::CalendarInterval(interval))?;
            if series.iter().any(|s| s.interval == interval) {
                return Err(AggregatorError::DuplicateInterval(interval));
            }
            series.push(Series { interval, length_ms });
        }
        Ok(Aggregator {
            symbol,
            bars: vec![None; series.len()],
            steps: Vec::with_capacity(series.len()),
            bounds: SumBounds::default(),
            series,
            last_id: None,
            stats: AggregatorStats::default(),
            quote: QuoteRule::Linear,
            #[cfg(test)]
            checked_only: false,
        })
    }

    /// The same aggregator computing quote volumes by `rule` (default [`QuoteRule::Linear`]).
    /// Set it before the first trade: bars already built keep the rule they were built by.
    pub fn with_quote_rule(mut self, rule: QuoteRule) -> Aggregator {
        self.quote = rule;
        self
    }

    /// The symbol this aggregator serves.
    pub fn symbol(&self) -> Symbol {
        self.symbol
    }

    /// The intervals, in the order given to [`Aggregator::new`].
    pub fn intervals(&self) -> impl Iterator<Item = Interval> + '_ {
        self.series.iter().map(|s| s.interval)
    }

    /// The id of the last applied trade.
    pub fn last_id(&self) -> Option<u64> {
        self.last_id
    }

    /// Applies one trade. Bars that this trade closes, followed by the empty bars between them and
    /// the trade's bar, are appended to `closed` (interval by interval, each in time order).
    pub fn push(&mut self, trade: &AggTrade, closed: &mut Vec<ClosedBar>) -> Result<PushOutcome, TradeError> {
        let gap = match self.last_id {
            Some(last) if trade.id == last => {
                self.stats.duplicates += 1;
                return Ok(PushOutcome::Duplicate);
            }
            Some(last) if trade.id < last => {
                self.stats.late += 1;
                return Ok(PushOutcome::Late);
            }
            Some(last) if trade.id > last + 1 => Some(IdGap {
                first_missing: last + 1,
                last_missing: trade.id - 1,
            }),
            _ => None,
        };
        let (applied, bounds) = match self.admit(trade) {
            Ok(admitted) => admitted,
            Err(error) => {
                self.stats.rejected += 1;
                return Err(error);
            }
        };
        let mut steps = std::mem::take(&mut self.steps);
        // Nearly every trade falls inside the current bar of every interval, each already holding
        // trades; when the bounds also prove its sums, it is added everywhere as it is, with no
        // step to plan and nothing that could refuse it.
        let within_bounds = bounds.is_some() && self.proven_paths();
        let out_of_window = if within_bounds && self.inside_every_bar(trade.trade_time) {
            for bar in self.bars.iter_mut().flatten() {
                bar.add_within_bounds(trade, &applied);
            }
            false
        } else {
            // Every series is checked (and its step decided) before any changes: a refused
            // trade leaves no trace, and each sum is computed once.
            let out_of_window = match self.plan(trade, &applied, bounds, &mut steps) {
                Ok(out_of_window) => out_of_window,
                Err(error) => {
                    self.steps = steps;
                    self.stats.rejected += 1;
                    return Err(error);
                }
            };
            self.apply(trade, &applied, within_bounds, &steps, closed);
            out_of_window
        };
        self.steps = steps;
        self.bounds.record(bounds);
        self.last_id = Some(trade.id);
        self.stats.accepted += 1;
        if out_of_window {
            self.stats.out_of_window += 1;
        }
        Ok(match gap {
            Some(gap) => {
                self.stats.gaps += 1;
                self.stats.missing_ids += gap.count();
                PushOutcome::AcceptedAfterGap(gap)
            }
            None => PushOutcome::Accepted,
        })
    }

    /// Checks what does not depend on the series, changing nothing: what `trade` adds, and the
    /// bounds after it (`None` when they prove nothing).
    fn admit(&self, trade: &AggTrade) -> Result<(AppliedTrade, Option<SumBounds>), TradeError> {
        let id = trade.id;
        if trade.symbol != self.symbol {
            return Err(TradeError::WrongSymbol {
                id,
                expected: self.symbol,
                found: trade.symbol,
            });
        }
        if trade.last_trade_id < trade.first_trade_id {
            return Err(TradeError::LastBeforeFirst {
                id,
                first: trade.first_trade_id,
                last: trade.last_trade_id,
            });
        }
        let time = trade.trade_time;
        if !(0..=MAX_TRADE_TIME_MS).contains(&time) {
            return Err(TradeError::TimeOutOfRange { id, time });
        }
        let notional = self
            .quote
            .quote(&trade.price, &trade.quantity)
            .ok_or(TradeError::NotionalOverflow { id })?;
        let applied = AppliedTrade::new(trade, notional);
        let bounds = self
            .bounds
            .after(&trade.quantity, &applied.notional, applied.trades)
            // A bar's aggregate-trade count is at most the trades accepted.
            .filter(|_| self.stats.accepted < u64::MAX);
        Ok((applied, bounds))
    }

    /// Whether a trade whose bounds hold may take the paths that rely on them (always, but in
    /// the tests that compare those paths with the checked one).
    #[inline(always)]
    fn proven_paths(&self) -> bool {
        #[cfg(test)]
        return !self.checked_only;
        #[cfg(not(test))]
        true
    }

    /// Whether `time` lies inside the window of every series' current bar, each holding trades.
    #[inline(always)]
    fn inside_every_bar(&self, time: i64) -> bool {
        self.series.iter().zip(&self.bars).all(|(series, bar)| {
            bar.as_ref().is_some_and(|current| {
                let open = current.kline.open_time;
                !current.is_empty() && time >= open && time < open + series.length_ms
            })
        })
    }

    /// Checks that the admitted `trade` can be applied to every series, changing nothing, and
    /// decides (into `steps`, emptied first) what it does to each; returns whether its time fell
    /// before a current bar's window.
    fn plan(
        &self,
        trade: &AggTrade,
        applied: &AppliedTrade,
        bounds: Option<SumBounds>,
        steps: &mut Vec<Step>,
    ) -> Result<bool, TradeError> {
        steps.clear();
        let (id, time) = (trade.id, trade.trade_time);
        let mut out_of_window = false;
        for (series, bar) in self.series.iter().zip(&self.bars) {
            let step = match bar {
                Some(current) if time < current.kline.open_time + series.length_ms => {
                    out_of_window |= time < current.kline.open_time;
                    if current.is_empty() {
                        Step::Fill
                    } else {
                        if bounds.is_none() && current.sums_after(trade, applied).is_none() {
                            return Err(TradeError::SumOverflow {
                                id,
                                interval: series.interval,
                            });
                        }
                        Step::Add
                    }
                }
                Some(current) => {
                    check_jump(series, current, time).map_err(|jump| TradeError::TimeJump { id, jump })?;
                    Step::Open(series.interval.open_time(time))
                }
                None => Step::Open(series.interval.open_time(time)),
            };
            steps.push(step);
        }
        Ok(out_of_window)
    }

    /// Applies the planned `steps` of an admitted trade; `within_bounds` when its bounds held.
    fn apply(
        &mut self,
        trade: &AggTrade,
        applied: &AppliedTrade,
        within_bounds: bool,
        steps: &[Step],
        closed: &mut Vec<ClosedBar>,
    ) {
        for ((series, slot), step) in self.series.iter().zip(self.bars.iter_mut()).zip(steps) {
            match (step, slot.as_mut()) {
                (Step::Add, Some(bar)) if within_bounds => bar.add_within_bounds(trade, applied),
                (Step::Add, Some(bar)) => bar.add(trade, applied),
                (Step::Fill, Some(bar)) => {
                    *bar = Bar::first(series.length_ms, bar.kline.open_time, trade, applied);
                }
                (&Step::Open(open_time), _) => {
                    close_through(series, slot, open_time, closed);
                    *slot = Some(Bar::first(series.length_ms, open_time, trade, applied));
                }
                // Unreachable: `plan` decides Add and Fill only for a series with a bar.
                (Step::Add | Step::Fill, None) => {}
            }
        }
    }

    /// Closes every bar whose window ended at or before `now_ms` (exchange time), empty bars
    /// included, for a stream that has gone quiet. The current bar of each interval then is the
    /// (possibly empty) bar containing `now_ms`. Pass a time the exchange has surely reached
    /// (e.g. the newest event time seen, or the local clock minus a margin): a trade that arrives
    /// later for a closed window counts in the current bar.
    pub fn advance_to(&mut self, now_ms: i64, closed: &mut Vec<ClosedBar>) -> Result<(), TimeJump> {
        for (series, bar) in self.series.iter().zip(&self.bars) {
            if let Some(current) = bar {
                check_jump(series, current, now_ms)?;
            }
        }
        for (series, bar) in self.series.iter().zip(self.bars.iter_mut()) {
            if let Some(current) = bar {
                if now_ms >= current.kline.open_time + series.length_ms {
                    close_through(series, bar, series.interval.open_time(now_ms), closed);
                }
            }
        }
        Ok(())
    }

    /// The current, still-open bar of `interval`; `None` before the first trade, after
    /// [`Aggregator::finish`], or for an interval this aggregator does not build.
    pub fn open_bar(&self, interval: Interval) -> Option<&Bar> {
        self.series
            .iter()
            .position(|s| s.interval == interval)
            .and_then(|i| self.bars.get(i))
            .and_then(Option::as_ref)
    }

    /// End of input: emits every open bar that holds trades as it is, marked closed, and forgets
    /// the open bars (an empty bar opened by [`Aggregator::advance_to`] is dropped: nothing was
    /// observed in it). The last id and the counters stay, so a later trade is still checked
    /// against the last id; it opens fresh bars without empty bars before them.
    pub fn finish(&mut self, closed: &mut Vec<ClosedBar>) {
        for (series, slot) in self.series.iter().zip(self.bars.iter_mut()) {
            if let Some(mut bar) = slot.take() {
                if !bar.is_empty() {
                    bar.kline.closed = true;
                    closed.push(ClosedBar {
                        interval: series.interval,
                        bar,
                    });
                }
            }
        }
    }

    /// Counters since the aggregator was built.
    pub fn stats(&self) -> AggregatorStats {
        self.stats
    }

    /// Parses one raw `aggTrade` websocket message (plain or combined-stream envelope) and
    /// applies it; returns what [`Aggregator::push`] did and the trade's time.
    pub fn push_message(
        &mut self,
        bytes: &[u8],
        closed: &mut Vec<ClosedBar>,
    ) -> Result<(PushOutcome, i64), MessageError> {
        let trade = crate::parse::parse_agg_trade(bytes)?;
        let outcome = self.push(&trade, closed)?;
        Ok((outcome, trade.trade_time))
    }

    /// Parses and applies raw messages in order; a bad one is reported and the rest still apply.
    pub fn push_messages<'m>(
        &mut self,
        messages: impl IntoIterator<Item = &'m [u8]>,
        closed: &mut Vec<ClosedBar>,
    ) -> TradeBatch {
        let mut batch = TradeBatch::default();
        for (index, message) in messages.into_iter().enumerate() {
            let result = self.push_message(message, closed);
            batch.count(index, result.map(|(outcome, _)| outcome));
        }
        batch
    }
}

/// Why a raw aggTrade message was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Parse(#[from] crate::parse::ParseError),
    #[error(transparent)]
    Trade(#[from] TradeError),
}

impl MessageError {
    /// A stable short label: the parser's reason, or `bad_trade`.
    pub fn reason(&self) -> &'static str {
        match self {
            MessageError::Parse(e) => e.reason(),
            MessageError::Trade(_) => "bad_trade",
        }
    }
}

/// A message of a batch that was not applied, with its index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedMessage {
    pub index: usize,
    pub error: MessageError,
}

/// What a batch of raw aggTrade messages did. Counts are added up here and nowhere else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeBatch {
    pub accepted: usize,
    pub duplicates: usize,
    pub late: usize,
    /// Id gaps seen (each trade after one was still applied).
    pub gaps: Vec<IdGap>,
    pub rejected: Vec<RejectedMessage>,
}

impl TradeBatch {
    /// Counts the result of message `index`.
    pub fn count(&mut self, index: usize, result: Result<PushOutcome, MessageError>) {
        match result {
            Ok(PushOutcome::Accepted) => self.accepted += 1,
            Ok(PushOutcome::AcceptedAfterGap(gap)) => {
                self.accepted += 1;
                self.gaps.push(gap);
            }
            Ok(PushOutcome::Duplicate) => self.duplicates += 1,
            Ok(PushOutcome::Late) => self.late += 1,
            Err(error) => self.rejected.push(RejectedMessage { index, error }),
        }
    }
}

/// Refuses a step from `current` to `time` that would close more than [`MAX_BARS_PER_STEP`] bars.
fn check_jump(series: &Series, current: &Bar, time: i64) -> Result<(), TimeJump> {
    let bars = time
        .saturating_sub(current.kline.open_time)
        .div_euclid(series.length_ms);
    if bars > MAX_BARS_PER_STEP {
        return Err(TimeJump {
            interval: series.interval,
            from_open_time: current.kline.open_time,
            to_time: time,
        });
    }
    Ok(())
}

/// Closes the series' current bar (`slot`) and emits empty bars up to (not including) the bar
/// opening at `next_open`, which becomes the current bar (empty until a trade fills it).
fn close_through(series: &Series, slot: &mut Option<Bar>, next_open: i64, closed: &mut Vec<ClosedBar>) {
    let Some(mut bar) = slot.take() else {
        return;
    };
    loop {
        bar.kline.closed = true;
        closed.push(ClosedBar {
            interval: series.interval,
            bar,
        });
        let open = bar.kline.open_time + series.length_ms;
        bar = Bar::empty_after(&bar.kline, series.length_ms, open);
        if open >= next_open {
            break;
        }
    }
    *slot = Some(bar);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::AGGREGATED;
    use proptest::prelude::*;

    const MIN: i64 = 60_000;
    /// 2026-05-08 00:00 UTC.
    const DAY0: i64 = 1_778_198_400_000;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn sym() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn trade(id: u64, price: &str, qty: &str, time: i64, buyer_is_maker: bool) -> AggTrade {
        AggTrade {
            symbol: sym(),
            id,
            price: d(price),
            quantity: d(qty),
            first_trade_id: id * 10,
            last_trade_id: id * 10 + 1,
            trade_time: time,
            event_time: time + 5,
            buyer_is_maker,
        }
    }

    fn agg(intervals: &[Interval]) -> Aggregator {
        Aggregator::new(sym(), intervals).unwrap()
    }

    #[test]
    fn builds_every_kline_field_with_natural_scales() {
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        assert_eq!(
            a.push(&trade(1, "79972.8", "542.0", DAY0 + 20, false), &mut closed),
            Ok(PushOutcome::Accepted)
        );
        assert_eq!(
            a.push(&trade(2, "79973.0", "1.5", DAY0 + 30, true), &mut closed),
            Ok(PushOutcome::Accepted)
        );
        assert_eq!(
            a.push(&trade(3, "79970.1", "2.0", DAY0 + 40, false), &mut closed),
            Ok(PushOutcome::Accepted)
        );
        assert!(closed.is_empty());
        let bar = a.open_bar(Interval::M1).unwrap();
        let k = &bar.kline;
        assert_eq!((k.open_time, k.close_time), (DAY0, DAY0 + MIN - 1));
        assert_eq!(k.open.to_string(), "79972.8");
        assert_eq!(k.high.to_string(), "79973.0");
        assert_eq!(k.low.to_string(), "79970.1");
        assert_eq!(k.close.to_string(), "79970.1");
        assert_eq!(k.volume.to_string(), "545.5");
        // 79972.8×542.0 + 79973.0×1.5 + 79970.1×2.0
        assert_eq!(k.quote_volume.to_string(), "43625157.30");
        assert_eq!(k.taker_buy_volume.to_string(), "544.0");
        assert_eq!(k.taker_buy_quote_volume.to_string(), "43505197.80");
        assert_eq!(k.trades, 6);
        assert_eq!((k.first_trade_id, k.last_trade_id), (Some(10), Some(31)));
        assert!(!k.closed);
        assert_eq!(k.as_of, DAY0 + 45);
        assert_eq!(bar.agg_trades, 3);
        assert_eq!(bar.sell_volume().unwrap().to_string(), "1.5");
        assert_eq!(bar.sell_quote_volume().unwrap().to_string(), "119959.50");
        // 43625157.30 / 545.5 = 79972.7906...
        assert_eq!(bar.vwap(2).unwrap().to_string(), "79972.79");
    }

    #[test]
    fn taker_buy_zero_keeps_the_volume_scale() {
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        a.push(&trade(1, "0.2468", "3218", DAY0, true), &mut closed).unwrap();
        let k = a.open_bar(Interval::M1).unwrap().kline;
        // As Binance formats KEEPUSDT: V "0", Q "0.0000".
        assert_eq!(k.taker_buy_volume.to_string(), "0");
        assert_eq!(k.taker_buy_quote_volume.to_string(), "0.0000");
    }

    #[test]
    fn empty_intervals_repeat_the_previous_close() {
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        a.push(&trade(1, "10.0", "1.00", DAY0 + 5, false), &mut closed).unwrap();
        a.push(&trade(2, "11.5", "2.00", DAY0 + 10, true), &mut closed).unwrap();
        // Three minutes later: minute 0 closes, minutes 1 and 2 are empty.
        a.push(&trade(3, "12.0", "1.00", DAY0 + 3 * MIN + 1, false), &mut closed)
            .unwrap();
        assert_eq!(closed.len(), 3);
        let opens: Vec<i64> = closed.iter().map(|c| c.bar.kline.open_time).collect();
        assert_eq!(opens, vec![DAY0, DAY0 + MIN, DAY0 + 2 * MIN]);
        assert!(closed.iter().all(|c| c.bar.kline.closed && c.interval == Interval::M1));
        assert_eq!(closed[0].bar.kline.close, d("11.5"));
        for empty in &closed[1..] {
            let k = &empty.bar.kline;
            assert!(empty.bar.is_empty());
            assert_eq!(
                (k.open, k.high, k.low, k.close),
                (d("11.5"), d("11.5"), d("11.5"), d("11.5"))
            );
            assert_eq!(k.volume.to_string(), "0.00");
            assert_eq!(k.quote_volume.to_string(), "0.000");
            assert_eq!(k.taker_buy_volume.to_string(), "0.00");
            assert_eq!(k.taker_buy_quote_volume.to_string(), "0.000");
            assert_eq!(k.trades, 0);
            assert_eq!((k.first_trade_id, k.last_trade_id), (None, None));
            assert_eq!(k.close_time, k.open_time + MIN - 1);
            assert_eq!(empty.bar.vwap(4), None);
            assert_eq!(empty.bar.sell_volume(), Some(Decimal::ZERO));
        }
        let open = a.open_bar(Interval::M1).unwrap();
        assert_eq!(open.kline.open_time, DAY0 + 3 * MIN);
        assert_eq!(open.kline.open, d("12.0"));
    }

    #[test]
    fn advance_to_closes_quiet_windows_and_a_trade_then_fills_the_empty_bar() {
        let mut a = agg(&[Interval::M1, Interval::M5]);
        let mut closed = Vec::new();
        a.push(&trade(1, "10", "1", DAY0 + 5, false), &mut closed).unwrap();
        // Before the window ends nothing closes.
        a.advance_to(DAY0 + MIN - 1, &mut closed).unwrap();
        assert!(closed.is_empty());
        // The window [DAY0, DAY0+1m) ends at DAY0+1m.
        a.advance_to(DAY0 + 2 * MIN, &mut closed).unwrap();
        assert_eq!(closed.len(), 2);
        assert_eq!(closed[1].bar.kline.open_time, DAY0 + MIN);
        assert!(closed[1].bar.is_empty());
        let current = a.open_bar(Interval::M1).unwrap();
        assert!(current.is_empty() && !current.kline.closed);
        assert_eq!(current.kline.open_time, DAY0 + 2 * MIN);
        assert_eq!(a.open_bar(Interval::M5).unwrap().kline.open_time, DAY0);
        // A trade inside the empty current bar starts it afresh.
        closed.clear();
        a.push(&trade(2, "9", "3", DAY0 + 2 * MIN + 7, true), &mut closed)
            .unwrap();
        assert!(closed.is_empty());
        let k = a.open_bar(Interval::M1).unwrap().kline;
        assert_eq!((k.open, k.high, k.low, k.close), (d("9"), d("9"), d("9"), d("9")));
        assert_eq!((k.volume, k.trades, k.first_trade_id), (d("3"), 2, Some(20)));
        let k5 = a.open_bar(Interval::M5).unwrap().kline;
        assert_eq!(
            (k5.open, k5.high, k5.low, k5.close, k5.volume),
            (d("10"), d("10"), d("9"), d("9"), d("4"))
        );
        // advance_to before any trade does nothing.
        let mut fresh = agg(&[Interval::M1]);
        fresh.advance_to(DAY0, &mut closed).unwrap();
        assert!(fresh.open_bar(Interval::M1).is_none());
    }

    #[test]
    fn multi_interval_boundaries() {
        let mut a = agg(&AGGREGATED);
        let mut closed = Vec::new();
        a.push(&trade(1, "1", "1", DAY0 + 14 * MIN + 59_999, false), &mut closed)
            .unwrap();
        assert!(closed.is_empty());
        // Crossing 00:15 closes 1m, 3m, 5m and 15m but not 30m and above.
        a.push(&trade(2, "2", "1", DAY0 + 15 * MIN, false), &mut closed)
            .unwrap();
        let intervals: Vec<Interval> = closed.iter().map(|c| c.interval).collect();
        assert_eq!(intervals, vec![Interval::M1, Interval::M3, Interval::M5, Interval::M15]);
        let opens: Vec<i64> = closed.iter().map(|c| c.bar.kline.open_time).collect();
        assert_eq!(opens, vec![DAY0 + 14 * MIN, DAY0 + 12 * MIN, DAY0 + 10 * MIN, DAY0]);
        assert_eq!(a.open_bar(Interval::H1).unwrap().kline.close, d("2"));
        // Crossing midnight closes every interval, each with its own close time.
        closed.clear();
        a.push(&trade(3, "3", "1", DAY0 + 24 * 60 * MIN, false), &mut closed)
            .unwrap();
        let day = closed.iter().find(|c| c.interval == Interval::D1).unwrap();
        assert_eq!(day.bar.kline.close_time, DAY0 + 24 * 60 * MIN - 1);
        assert_eq!(
            (day.bar.kline.open, day.bar.kline.close, day.bar.agg_trades),
            (d("1"), d("2"), 2)
        );
        // 1m: 00:15 closed, then empty bars 00:16 .. 23:59.
        let m1 = closed.iter().filter(|c| c.interval == Interval::M1).count();
        assert_eq!(m1, 24 * 60 - 15);
        let h12: Vec<i64> = closed
            .iter()
            .filter(|c| c.interval == Interval::H12)
            .map(|c| c.bar.kline.open_time)
            .collect();
        assert_eq!(h12, vec![DAY0, DAY0 + 12 * 60 * MIN]);
        for interval in AGGREGATED {
            assert_eq!(a.open_bar(interval).unwrap().kline.open_time, DAY0 + 24 * 60 * MIN);
        }
    }

    #[test]
    fn duplicates_late_and_gaps_are_counted() {
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        assert_eq!(
            a.push(&trade(5, "1", "1", DAY0, false), &mut closed),
            Ok(PushOutcome::Accepted)
        );
        assert_eq!(
            a.push(&trade(5, "9", "1", DAY0, false), &mut closed),
            Ok(PushOutcome::Duplicate)
        );
        assert_eq!(
            a.push(&trade(4, "9", "1", DAY0, false), &mut closed),
            Ok(PushOutcome::Late)
        );
        assert_eq!(
            a.push(&trade(6, "2", "1", DAY0 + 1, false), &mut closed),
            Ok(PushOutcome::Accepted)
        );
        let gap = IdGap {
            first_missing: 7,
            last_missing: 9,
        };
        assert_eq!(
            a.push(&trade(10, "3", "1", DAY0 + 2, false), &mut closed),
            Ok(PushOutcome::AcceptedAfterGap(gap))
        );
        assert_eq!(
            a.push(&trade(12, "4", "1", DAY0 + 3, false), &mut closed)
                .map(|o| o != PushOutcome::Accepted),
            Ok(true)
        );
        assert_eq!(
            a.stats(),
            AggregatorStats {
                accepted: 4,
                duplicates: 1,
                late: 1,
                gaps: 2,
                missing_ids: 4,
                out_of_window: 0,
                rejected: 0,
            }
        );
        // Dropped trades never touched the bar; the gap trade did.
        let k = a.open_bar(Interval::M1).unwrap().kline;
        assert_eq!((k.high, k.close, k.volume, k.trades), (d("4"), d("4"), d("4"), 8));
        assert_eq!(a.last_id(), Some(12));
    }

    #[test]
    fn a_trade_time_going_backwards_counts_in_the_current_bar() {
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        a.push(&trade(1, "5", "1", DAY0 + 10, false), &mut closed).unwrap();
        a.push(&trade(2, "6", "1", DAY0 + MIN + 10, false), &mut closed)
            .unwrap();
        assert_eq!(closed.len(), 1);
        // Id 3 claims a time inside the closed minute: it goes to the current minute, and the
        // closed bar stays as it was.
        a.push(&trade(3, "4", "2", DAY0 + 20, true), &mut closed).unwrap();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].bar.kline.volume, d("1"));
        let k = a.open_bar(Interval::M1).unwrap().kline;
        assert_eq!(k.open_time, DAY0 + MIN);
        assert_eq!((k.open, k.low, k.close, k.volume), (d("6"), d("4"), d("4"), d("3")));
        assert_eq!(k.as_of, DAY0 + MIN + 15);
        assert_eq!(a.stats().out_of_window, 1);
    }

    #[test]
    fn finish_emits_open_bars_closed_and_skips_empty_ones() {
        let mut a = agg(&[Interval::M1, Interval::H1]);
        let mut closed = Vec::new();
        a.push(&trade(1, "5", "1", DAY0 + 10, false), &mut closed).unwrap();
        a.advance_to(DAY0 + MIN, &mut closed).unwrap();
        closed.clear();
        a.finish(&mut closed);
        // The 1m current bar is the empty one advance_to opened: dropped. The hour is emitted.
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].interval, Interval::H1);
        assert!(closed[0].bar.kline.closed);
        assert!(a.open_bar(Interval::H1).is_none());
        // A later trade still meets the id check, and opens fresh bars without empty ones before.
        closed.clear();
        assert_eq!(
            a.push(&trade(1, "5", "1", DAY0 + 10, false), &mut closed),
            Ok(PushOutcome::Duplicate)
        );
        a.push(&trade(2, "7", "1", DAY0 + 10 * MIN, false), &mut closed)
            .unwrap();
        assert!(closed.is_empty());
        assert_eq!(a.open_bar(Interval::M1).unwrap().kline.open, d("7"));
    }

    #[test]
    fn refused_trades_change_nothing() {
        let mut a = agg(&[Interval::M1, Interval::D1]);
        let mut closed = Vec::new();
        a.push(&trade(1, "5", "1", DAY0, false), &mut closed).unwrap();
        let before = a.clone();
        let mut other = trade(2, "5", "1", DAY0, false);
        other.symbol = Symbol::new("ETHUSDT").unwrap();
        assert!(matches!(
            a.push(&other, &mut closed),
            Err(TradeError::WrongSymbol { id: 2, .. })
        ));
        let mut inverted = trade(2, "5", "1", DAY0, false);
        inverted.first_trade_id = 30;
        inverted.last_trade_id = 29;
        assert_eq!(
            a.push(&inverted, &mut closed),
            Err(TradeError::LastBeforeFirst {
                id: 2,
                first: 30,
                last: 29
            })
        );
        let mut huge = trade(2, "1", "1", DAY0, false);
        huge.price = Decimal::new(i128::MAX / 4, 0).unwrap();
        huge.quantity = d("8");
        assert_eq!(a.push(&huge, &mut closed), Err(TradeError::NotionalOverflow { id: 2 }));
        let mut big = trade(2, "1", "1", DAY0, false);
        big.price = d("1");
        big.quantity = Decimal::new(i128::MAX, 0).unwrap();
        assert_eq!(
            a.push(&big, &mut closed),
            Err(TradeError::SumOverflow {
                id: 2,
                interval: Interval::M1
            })
        );
        let mut ancient = trade(2, "5", "1", DAY0, false);
        ancient.trade_time = -1;
        assert_eq!(
            a.push(&ancient, &mut closed),
            Err(TradeError::TimeOutOfRange { id: 2, time: -1 })
        );
        let far = trade(2, "5", "1", DAY0 + (MAX_BARS_PER_STEP + 1) * MIN, false);
        assert!(matches!(
            a.push(&far, &mut closed),
            Err(TradeError::TimeJump {
                id: 2,
                jump: TimeJump {
                    interval: Interval::M1,
                    ..
                }
            })
        ));
        assert!(closed.is_empty());
        assert_eq!(a.stats().rejected, 6);
        assert!(a.advance_to(i64::MAX, &mut closed).is_err());
        assert_eq!(a.open_bar(Interval::M1), before.open_bar(Interval::M1));
        assert_eq!(a.open_bar(Interval::D1), before.open_bar(Interval::D1));
        assert_eq!(a.last_id(), Some(1));
        assert!(a.advance_to(DAY0 + (MAX_BARS_PER_STEP + 1) * MIN, &mut closed).is_err());
        assert!(closed.is_empty());
        // The largest allowed jump passes.
        a.push(&trade(2, "5", "1", DAY0 + MAX_BARS_PER_STEP * MIN, false), &mut closed)
            .unwrap();
        assert_eq!(closed.len() as i64, MAX_BARS_PER_STEP + 69);
    }

    #[test]
    fn a_sum_overflowing_in_a_later_series_changes_no_series() {
        let mut a = agg(&[Interval::M1, Interval::D1]);
        let mut closed = Vec::new();
        let mut first = trade(1, "1", "1", DAY0, false);
        first.quantity = Decimal::new(i128::MAX / 2, 0).unwrap();
        a.push(&first, &mut closed).unwrap();
        let before = a.clone();
        // A new minute: the 1m series would close its bar and open one with the trade alone,
        // but the day's volume overflows, so nothing happens at all.
        let mut second = trade(2, "1", "1", DAY0 + MIN, false);
        second.quantity = Decimal::new(i128::MAX / 2 + 10, 0).unwrap();
        assert_eq!(
            a.push(&second, &mut closed),
            Err(TradeError::SumOverflow {
                id: 2,
                interval: Interval::D1
            })
        );
        assert!(closed.is_empty());
        assert_eq!(a.open_bar(Interval::M1), before.open_bar(Interval::M1));
        assert_eq!(a.open_bar(Interval::D1), before.open_bar(Interval::D1));
        assert_eq!(a.last_id(), Some(1));
    }

    #[test]
    fn sums_are_checked_again_once_scales_vary() {
        // 10^30 at scale 0 fits; aligned to the next trade's 10 decimals it would not (10^40).
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        let mut first = trade(1, "1", "1", DAY0, false);
        first.quantity = Decimal::new(10i128.pow(30), 0).unwrap();
        a.push(&first, &mut closed).unwrap();
        assert_eq!(a.bounds.scales, Some((0, 0)));
        let before = a.clone();
        let second = trade(2, "1", "0.0000000001", DAY0 + 1, false);
        assert_eq!(
            a.push(&second, &mut closed),
            Err(TradeError::SumOverflow {
                id: 2,
                interval: Interval::M1
            })
        );
        assert_eq!(a.open_bar(Interval::M1), before.open_bar(Interval::M1));
        assert_eq!(
            a.bounds, before.bounds,
            "a refused trade leaves the bounds as they were"
        );
        // A trade of another scale that fits is applied, and from then on every push checks.
        a.push(&trade(3, "1", "0.5", DAY0 + 2, false), &mut closed).unwrap();
        assert!(a.bounds.varied);
        let k = a.open_bar(Interval::M1).unwrap().kline;
        assert_eq!(k.volume.to_string(), "1000000000000000000000000000000.5");
    }

    #[test]
    fn price_ties_keep_the_scales_of_max_and_min() {
        let mut a = agg(&[Interval::M1]);
        let mut closed = Vec::new();
        a.push(&trade(1, "5.0", "1", DAY0, false), &mut closed).unwrap();
        a.push(&trade(2, "5.00", "1", DAY0 + 1, false), &mut closed).unwrap();
        let k = a.open_bar(Interval::M1).unwrap().kline;
        // A price equal to the high replaces it, as `max` does; the low keeps its own, as `min`.
        assert_eq!(
            (k.high.to_string(), k.low.to_string(), k.close.to_string()),
            ("5.00".into(), "5.0".into(), "5.00".into())
        );
    }

    #[test]
    fn rejects_bad_interval_sets() {
        assert_eq!(Aggregator::new(sym(), &[]).err(), Some(AggregatorError::NoIntervals));
        assert_eq!(
            Aggregator::new(sym(), &[Interval::M1, Interval::Mo1]).err(),
            Some(AggregatorError::CalendarInterval(Interval::Mo1))
        );
        assert_eq!(
            Aggregator::new(sym(), &[Interval::M1, Interval::M1]).err(),
            Some(AggregatorError::DuplicateInterval(Interval::M1))
        );
        // Fixed-length intervals outside the default set are fine; weeks open on Monday.
        let mut a = agg(&[Interval::W1, Interval::D3, Interval::H6]);
        a.push(&trade(1, "1", "1", DAY0, false), &mut Vec::new()).unwrap();
        assert_eq!(
            a.open_bar(Interval::W1).unwrap().kline.open_time,
            DAY0 - 4 * 24 * 60 * MIN
        );
        assert_eq!(
            a.open_bar(Interval::W1).unwrap().kline.close_time,
            DAY0 + 3 * 24 * 60 * MIN - 1
        );
        assert!(a.open_bar(Interval::M1).is_none());
    }

    /// The 5m bar that five consecutive 1m bars (some possibly empty, some possibly not seen
    /// because aggregation started later) make.
    fn merge(minutes: &[Bar], open_time: i64) -> Option<Kline> {
        let full: Vec<&Kline> = minutes.iter().filter(|b| !b.is_empty()).map(|b| &b.kline).collect();
        let first = full.first()?;
        let last = full.last()?;
        let sum = |f: fn(&Kline) -> Decimal| {
            full.iter()
                .fold(Decimal::ZERO, |acc, k| acc.checked_add(&f(k)).unwrap())
        };
        Some(Kline {
            open_time,
            close_time: open_time + 5 * MIN - 1,
            open: first.open,
            high: full.iter().map(|k| k.high).max()?,
            low: full.iter().map(|k| k.low).min()?,
            close: last.close,
            volume: sum(|k| k.volume),
            quote_volume: sum(|k| k.quote_volume),
            trades: full.iter().map(|k| k.trades).sum(),
            taker_buy_volume: sum(|k| k.taker_buy_volume),
            taker_buy_quote_volume: sum(|k| k.taker_buy_quote_volume),
            first_trade_id: first.first_trade_id,
            last_trade_id: last.last_trade_id,
            closed: true,
            as_of: full.iter().map(|k| k.as_of).max()?,
        })
    }

    fn trades_strategy() -> impl Strategy<Value = Vec<AggTrade>> {
        // (time step in ms, price ticks, qty ticks, maker flag, id step 1 or 2)
        proptest::collection::vec(
            (0i64..200_000, 1i128..100_000, 1i128..5_000, any::<bool>(), 1u64..3),
            1..120,
        )
        .prop_map(|steps| {
            let mut time = DAY0 + 123_456;
            let mut id = 100;
            steps
                .into_iter()
                .map(|(dt, price, qty, maker, id_step)| {
                    time += dt;
                    id += id_step;
                    AggTrade {
                        symbol: sym(),
                        id,
                        price: Decimal::new(price, 2).unwrap(),
                        quantity: Decimal::new(qty, 3).unwrap(),
                        first_trade_id: id * 3,
                        last_trade_id: id * 3 + (id % 3),
                        trade_time: time,
                        event_time: time + 1,
                        buyer_is_maker: maker,
                    }
                })
                .collect()
        })
    }

    /// Trades with prices and quantities of varying scales (so the sum bounds break now and
    /// then), times that sometimes go backwards, repeated and skipped ids; `Some(t)` in the
    /// second place is an `advance_to(t)` before the trade.
    fn unruly_trades_strategy() -> impl Strategy<Value = Vec<(AggTrade, Option<i64>)>> {
        // (time step in ms, backwards, price, its scale, qty, its scale, maker, id step, advance)
        proptest::collection::vec(
            (
                0i64..150_000,
                prop::bool::weighted(0.1),
                1i128..100_000,
                prop::sample::select(vec![2u8, 2, 2, 2, 1, 3]),
                1i128..5_000,
                prop::sample::select(vec![3u8, 3, 3, 3, 3, 2, 4]),
                any::<bool>(),
                0u64..3,
                prop::option::weighted(0.05, 0i64..400_000),
            ),
            1..200,
        )
        .prop_map(|steps| {
            let mut time = DAY0 + 123_456;
            let mut id = 100;
            steps
                .into_iter()
                .map(
                    |(dt, back, price, price_scale, qty, qty_scale, maker, id_step, advance)| {
                        time = if back { time - dt / 3 } else { time + dt };
                        id += id_step;
                        let trade = AggTrade {
                            symbol: sym(),
                            id,
                            price: Decimal::new(price, price_scale).unwrap(),
                            quantity: Decimal::new(qty, qty_scale).unwrap(),
                            first_trade_id: id * 3,
                            last_trade_id: id * 3 + (id % 3),
                            trade_time: time,
                            event_time: time + 1,
                            buyer_is_maker: maker,
                        };
                        (trade, advance.map(|a| time + a))
                    },
                )
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_proven_paths_build_what_the_checked_path_builds(trades in unruly_trades_strategy()) {
            let mut fast = agg(&AGGREGATED);
            let mut checked = agg(&AGGREGATED);
            checked.checked_only = true;
            let (mut fast_closed, mut checked_closed) = (Vec::new(), Vec::new());
            for (trade, advance) in &trades {
                if let Some(now) = advance {
                    prop_assert_eq!(fast.advance_to(*now, &mut fast_closed), checked.advance_to(*now, &mut checked_closed));
                }
                prop_assert_eq!(fast.push(trade, &mut fast_closed), checked.push(trade, &mut checked_closed));
                prop_assert_eq!(&fast_closed, &checked_closed);
                for interval in AGGREGATED {
                    prop_assert_eq!(fast.open_bar(interval), checked.open_bar(interval));
                }
            }
            prop_assert_eq!(fast.stats(), checked.stats());
            // Same strings, not only the same values.
            let text = |bars: &[ClosedBar]| {
                bars.iter().map(|c| format!("{} {} {}", c.bar.kline.volume, c.bar.kline.quote_volume, c.bar.kline.high)).collect::<Vec<_>>()
            };
            prop_assert_eq!(text(&fast_closed), text(&checked_closed));
        }

        #[test]
        fn five_minute_bars_merge_five_one_minute_bars(trades in trades_strategy()) {
            let mut a = agg(&[Interval::M1, Interval::M5]);
            let mut closed = Vec::new();
            for t in &trades {
                a.push(t, &mut closed).unwrap();
            }
            a.finish(&mut closed);
            let m1: Vec<Bar> = closed.iter().filter(|c| c.interval == Interval::M1).map(|c| c.bar).collect();
            let m5: Vec<Bar> = closed.iter().filter(|c| c.interval == Interval::M5).map(|c| c.bar).collect();
            prop_assert!(!m5.is_empty());
            let mut previous_close = None;
            for five in &m5 {
                let open = five.kline.open_time;
                let minutes: Vec<Bar> = m1
                    .iter()
                    .filter(|b| b.kline.open_time >= open && b.kline.open_time < open + 5 * MIN)
                    .copied()
                    .collect();
                match merge(&minutes, open) {
                    Some(expected) => {
                        prop_assert_eq!(five.kline, expected);
                        // Same strings, not only the same values.
                        prop_assert_eq!(five.kline.volume.to_string(), expected.volume.to_string());
                        prop_assert_eq!(five.kline.quote_volume.to_string(), expected.quote_volume.to_string());
                        prop_assert_eq!(five.agg_trades, minutes.iter().map(|b| b.agg_trades).sum::<u64>());
                    }
                    None => {
                        // No trade in the five minutes: an empty 5m bar at the previous close.
                        prop_assert!(five.is_empty());
                        prop_assert_eq!(Some(five.kline.close), previous_close);
                        prop_assert!(minutes.iter().all(|b| b.kline.close == five.kline.close));
                    }
                }
                previous_close = Some(five.kline.close);
            }
            // Both series cover the same trades.
            let total = |bars: &[Bar]| bars.iter().map(|b| b.kline.trades).sum::<u64>();
            prop_assert_eq!(total(&m1), total(&m5));
            prop_assert_eq!(total(&m1), trades.iter().map(|t| t.trade_count()).sum::<u64>());
        }
    }
}
