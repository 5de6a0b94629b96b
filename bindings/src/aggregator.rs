//! The bar aggregator as JS classes: raw aggTrade messages in (batched); closed bars and id gaps out (`Aggregator`), or bars straight into a collector's Ingest batch (`StreamBars`).

use crate::counts::LiveCounts;
use crate::error::fail;
use crate::gathered::gathered;
use crate::hub::IngestEncoder;
use crate::interval::parse_interval;
use crate::records::{name, KlineObject};
use napi::bindgen_prelude::Uint32Array;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::aggregator::{Aggregator as CoreAggregator, AggregatorStats, ClosedBar, TradeBatch};
use tributary_core::stream_bars::{BackfillPage, HoldStats, StreamBars as CoreStreamBars, StreamBarsBatch};
use tributary_core::Interval;

/// A bar with the aggregator's extended fields.
#[napi(object)]
pub struct BarObject {
    pub interval: String,
    pub kline: KlineObject,
    /// Aggregate trades in the bar.
    pub agg_trades: i64,
    /// Volume-weighted average price at 8 decimals; absent for an empty bar.
    pub vwap: Option<String>,
    /// Volume and quote volume of trades whose taker sold (`volume − takerBuyVolume`).
    pub sell_volume: Option<String>,
    pub sell_quote_volume: Option<String>,
}

impl BarObject {
    fn new(interval: Interval, bar: &tributary_core::aggregator::Bar) -> Self {
        BarObject {
            interval: interval.as_str().to_owned(),
            kline: (&bar.kline).into(),
            agg_trades: bar.agg_trades as i64,
            vwap: bar.vwap(VWAP_SCALE).map(|d| d.to_string()),
            sell_volume: bar.sell_volume().map(|d| d.to_string()),
            sell_quote_volume: bar.sell_quote_volume().map(|d| d.to_string()),
        }
    }
}

const VWAP_SCALE: u8 = 8;

/// Aggregate trade ids that never arrived: the collector backfills them (REST klines for the bars).
#[napi(object)]
pub struct IdGapObject {
    pub first_missing: i64,
    pub last_missing: i64,
}

/// A message the aggregator could not use, with the core's reason label.
#[napi(object)]
pub struct RejectedMessage {
    /// Position of the message in the batch.
    pub index: u32,
    pub code: String,
    pub message: String,
}

/// The lists of the last batch (its counts are in `batchCounts`).
#[napi(object)]
pub struct AggregatorBatchDetails {
    /// Bars the batch closed (empty bars included), grouped by interval, in time order.
    pub closed: Vec<BarObject>,
    pub gaps: Vec<IdGapObject>,
    pub rejected: Vec<RejectedMessage>,
}

/// Slots of `Aggregator.batchCounts`: accepted, duplicates, late, closed bars, id gaps, rejected.
const BATCH_COUNTS: usize = 6;

/// The aggregator's counters since it was created.
#[napi(object)]
pub struct AggregatorStatsObject {
    pub accepted: i64,
    pub duplicates: i64,
    pub late: i64,
    pub gaps: i64,
    pub missing_ids: i64,
    pub out_of_window: i64,
    pub rejected: i64,
}

impl From<AggregatorStats> for AggregatorStatsObject {
    fn from(s: AggregatorStats) -> Self {
        AggregatorStatsObject {
            accepted: s.accepted as i64,
            duplicates: s.duplicates as i64,
            late: s.late as i64,
            gaps: s.gaps as i64,
            missing_ids: s.missing_ids as i64,
            out_of_window: s.out_of_window as i64,
            rejected: s.rejected as i64,
        }
    }
}

fn gaps(batch: &TradeBatch) -> Vec<IdGapObject> {
    batch
        .gaps
        .iter()
        .map(|gap| IdGapObject {
            first_missing: gap.first_missing as i64,
            last_missing: gap.last_missing as i64,
        })
        .collect()
}

fn rejected(batch: &TradeBatch) -> Vec<RejectedMessage> {
    batch
        .rejected
        .iter()
        .map(|r| RejectedMessage {
            index: r.index as u32,
            code: r.error.reason().to_owned(),
            message: r.error.to_string(),
        })
        .collect()
}

/// The intervals given, or the aggregator's default set.
fn intervals(env: &Env, names: Option<Vec<String>>) -> Result<Vec<Interval>> {
    match names {
        Some(names) => names.iter().map(|n| parse_interval(env, n)).collect(),
        None => Ok(tributary_core::interval::AGGREGATED.to_vec()),
    }
}

/// Builds bars of one symbol for several intervals from raw `aggTrade` websocket messages.
#[napi]
pub struct Aggregator {
    inner: CoreAggregator,
    closed: Vec<ClosedBar>,
    /// The last batch, until `takeBatchDetails` (or the next batch) replaces it.
    batch: TradeBatch,
    counts: LiveCounts<BATCH_COUNTS>,
}

#[napi]
impl Aggregator {
    /// An aggregator for `symbol`; `intervals` defaults to 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d.
    #[napi(constructor)]
    pub fn new(env: Env, symbol: String, intervals: Option<Vec<String>>) -> Result<Self> {
        let symbol = name(&env, "symbol", &symbol)?;
        let intervals = self::intervals(&env, intervals)?;
        let inner = CoreAggregator::new(symbol, &intervals).map_err(|e| fail(&env, "invalid_intervals", e))?;
        Ok(Aggregator {
            inner,
            closed: Vec::new(),
            batch: TradeBatch::default(),
            counts: LiveCounts::default(),
        })
    }

    /// Parses and applies a batch of raw `aggTrade` messages (plain or combined-stream envelope),
    /// in order, in one call: the first `count` messages gathered back to back in `bytes`, message
    /// `i` ending at `ends[i]` (`GatheredMessages`; ends that do not describe `bytes` throw
    /// `invalid_batch` before any is applied). Bad messages are reported, not thrown, so one never
    /// hides the rest. The counts go to `batchCounts` (accepted, duplicates, late, closed bars, id
    /// gaps, rejected); returns closed bars + gaps + rejected, and when that is not 0 the lists
    /// come from `takeBatchDetails`: a batch that closes nothing builds no JS value.
    #[napi]
    pub fn push_gathered(&mut self, env: Env, bytes: &[u8], ends: &[u32], count: u32) -> Result<u32> {
        let messages = gathered(&env, bytes, ends, count)?;
        self.closed.clear();
        self.batch = self.inner.push_messages(messages.iter(), &mut self.closed);
        let b = &self.batch;
        self.counts.set([
            b.accepted,
            b.duplicates,
            b.late,
            self.closed.len(),
            b.gaps.len(),
            b.rejected.len(),
        ]);
        Ok(u32::try_from(self.closed.len() + b.gaps.len() + b.rejected.len()).unwrap_or(u32::MAX))
    }

    /// The six counts of the last `pushGathered` as a live Uint32Array over native memory; can be
    /// taken once (keep it).
    #[napi]
    pub fn batch_counts(&mut self, env: Env) -> Result<Uint32Array> {
        self.counts.export(&env)
    }

    /// The closed bars, id gaps and rejected messages of the last `pushGathered` (taken: a
    /// second call returns empty lists).
    #[napi]
    pub fn take_batch_details(&mut self) -> AggregatorBatchDetails {
        let batch = std::mem::take(&mut self.batch);
        AggregatorBatchDetails {
            closed: self
                .closed
                .drain(..)
                .map(|c| BarObject::new(c.interval, &c.bar))
                .collect(),
            gaps: gaps(&batch),
            rejected: rejected(&batch),
        }
    }

    /// Closes every bar whose window ended at or before `nowMs` (a quiet market still gets its bars).
    #[napi]
    pub fn advance_to(&mut self, env: Env, now_ms: i64) -> Result<Vec<BarObject>> {
        self.inner
            .advance_to(now_ms, &mut self.closed)
            .map_err(|e| fail(&env, "time_jump", e))?;
        Ok(self
            .closed
            .drain(..)
            .map(|c| BarObject::new(c.interval, &c.bar))
            .collect())
    }

    /// The still-open bar of `interval`, if any trade has opened one.
    #[napi]
    pub fn open_bar(&self, env: Env, interval: String) -> Result<Option<BarObject>> {
        let interval = parse_interval(&env, &interval)?;
        Ok(self.inner.open_bar(interval).map(|b| BarObject::new(interval, b)))
    }

    #[napi]
    pub fn stats(&self) -> AggregatorStatsObject {
        self.inner.stats().into()
    }
}

/// What a `StreamBars` call did: the trades' counts, and the bars sent to the Ingest batch or
/// withheld as incomplete.
#[napi(object)]
pub struct StreamBarsResult {
    pub accepted: u32,
    pub duplicates: u32,
    pub late: u32,
    pub gaps: Vec<IdGapObject>,
    pub rejected: Vec<RejectedMessage>,
    /// Bars added to the encoder's batch.
    pub bars: u32,
    /// Bars not sent because they opened before `completeFrom`.
    pub withheld: u32,
    /// Trades put aside because ids before them are missing (a hold is on).
    pub held: u32,
    /// Trades applied that came from a REST backfill page.
    pub backfilled: u32,
}

impl From<StreamBarsBatch> for StreamBarsResult {
    fn from(batch: StreamBarsBatch) -> Self {
        StreamBarsResult {
            accepted: batch.trades.accepted as u32,
            duplicates: batch.trades.duplicates as u32,
            late: batch.trades.late as u32,
            gaps: gaps(&batch.trades),
            rejected: rejected(&batch.trades),
            bars: batch.bars as u32,
            withheld: batch.withheld as u32,
            held: batch.held as u32,
            backfilled: batch.backfilled as u32,
        }
    }
}

/// What a REST backfill page added to a hold.
#[napi(object)]
pub struct BackfillPageObject {
    pub rows: u32,
    /// Trades put aside to be applied in id order.
    pub added: u32,
    /// Rows already applied or put aside: dropped, never counted twice.
    pub duplicates: u32,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
}

impl From<BackfillPage> for BackfillPageObject {
    fn from(p: BackfillPage) -> Self {
        BackfillPageObject {
            rows: p.rows as u32,
            added: p.added as u32,
            duplicates: p.duplicates as u32,
            first_id: p.first_id.map(|id| id as i64),
            last_id: p.last_id.map(|id| id as i64),
        }
    }
}

/// Counters of the holds of one symbol's bars.
#[napi(object)]
pub struct HoldStatsObject {
    pub holds: i64,
    pub healed: i64,
    pub released: i64,
    pub backfilled: i64,
    pub duplicates: i64,
}

impl From<HoldStats> for HoldStatsObject {
    fn from(s: HoldStats) -> Self {
        HoldStatsObject {
            holds: s.holds as i64,
            healed: s.healed as i64,
            released: s.released as i64,
            backfilled: s.backfilled as i64,
            duplicates: s.duplicates as i64,
        }
    }
}

/// A stream collector's bars of one symbol, from raw aggTrade messages straight into its
/// `IngestEncoder`'s batch: only bars whose every trade it saw (opened at or after
/// `completeFrom`, which an id gap or `markIncompleteUntil` moves forward).
#[napi]
pub struct StreamBars {
    inner: CoreStreamBars,
}

#[napi]
impl StreamBars {
    /// Bars of `symbol` for `intervals` (default 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d); trades are
    /// complete from `completeFromMs` (when the collector subscribed). With `holdGaps`, trades
    /// after an id gap are put aside until the missing ids are backfilled.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        symbol: String,
        intervals: Option<Vec<String>>,
        complete_from_ms: i64,
        hold_gaps: Option<bool>,
    ) -> Result<Self> {
        let symbol = name(&env, "symbol", &symbol)?;
        let intervals = self::intervals(&env, intervals)?;
        let inner = CoreStreamBars::new(symbol, &intervals, complete_from_ms)
            .map_err(|e| fail(&env, "invalid_intervals", e))?
            .holding_gaps(hold_gaps.unwrap_or(false));
        Ok(StreamBars { inner })
    }

    /// Applies up to `maxTrades` trades put aside, in id order, while ids follow each other (all
    /// of them once released); ends the hold when nothing is left or missing.
    #[napi]
    pub fn resume(&mut self, encoder: &mut IngestEncoder, max_trades: u32) -> StreamBarsResult {
        self.inner.resume(&mut encoder.inner, max_trades as usize).into()
    }

    /// Adds a `GET /fapi/v1/aggTrades` body fetched for the hold (`limit`: the page size asked
    /// for). Throws with the parser's reason code when the body is not an aggTrades array.
    #[napi]
    pub fn add_backfill_page(&mut self, env: Env, body: &[u8], limit: u32) -> Result<BackfillPageObject> {
        self.inner
            .add_backfill_page(body, limit as usize)
            .map(Into::into)
            .map_err(|e| fail(&env, e.reason(), e))
    }

    /// A lost connection was restored at `restoredAtMs`: true when a hold now waits for the ids
    /// after the last applied one, false when trades before it were marked incomplete instead.
    #[napi]
    pub fn expect_after_loss(&mut self, restored_at_ms: i64) -> bool {
        self.inner.expect_after_loss(restored_at_ms)
    }

    /// Gives the hold up (what is put aside is applied with the gap by `resume`); false when none.
    #[napi]
    pub fn release(&mut self) -> bool {
        self.inner.release()
    }

    /// Whether a hold is on.
    #[napi(getter)]
    pub fn holding(&self) -> bool {
        self.inner.is_holding()
    }

    /// Trades put aside, not applied yet.
    #[napi(getter)]
    pub fn held_trades(&self) -> u32 {
        self.inner.held_trades() as u32
    }

    /// The `fromId` to fetch when a hold waits for missing ids, else null.
    #[napi(getter)]
    pub fn missing_from(&self) -> Option<i64> {
        self.inner.missing_from().map(|id| id as i64)
    }

    /// The last missing id when known, else null.
    #[napi(getter)]
    pub fn missing_until(&self) -> Option<i64> {
        self.inner.missing_until().map(|id| id as i64)
    }

    #[napi]
    pub fn hold_stats(&self) -> HoldStatsObject {
        self.inner.hold_stats().into()
    }

    /// Applies raw aggTrade messages in order, gathered as for `Aggregator.pushGathered`; the
    /// complete bars they closed and each interval's open bar go into `encoder`'s batch. While a
    /// hold is on (or when one starts) trades are put aside for `resume` instead. Bad messages are
    /// reported, not thrown.
    #[napi]
    pub fn push_gathered(
        &mut self,
        env: Env,
        bytes: &[u8],
        ends: &[u32],
        count: u32,
        encoder: &mut IngestEncoder,
    ) -> Result<StreamBarsResult> {
        let messages = gathered(&env, bytes, ends, count)?;
        Ok(self.inner.push_messages(messages.iter(), &mut encoder.inner).into())
    }

    /// Closes bars whose window ended at or before `nowMs` and puts the complete ones into
    /// `encoder`'s batch; nothing closes while a hold is on.
    #[napi]
    pub fn advance_to(&mut self, env: Env, now_ms: i64, encoder: &mut IngestEncoder) -> Result<StreamBarsResult> {
        self.inner
            .advance_to(now_ms, &mut encoder.inner)
            .map(Into::into)
            .map_err(|e| fail(&env, "time_jump", e))
    }

    /// Trades before `timeMs` may be missing (a connection lost and restored then): bars opened
    /// before it are not sent. Never moves back.
    #[napi]
    pub fn mark_incomplete_until(&mut self, time_ms: i64) {
        self.inner.mark_incomplete_until(time_ms);
    }

    /// Bars opening before this time are not sent.
    #[napi(getter)]
    pub fn complete_from(&self) -> i64 {
        self.inner.complete_from()
    }

    /// Complete closed bars kept for `resend`: per interval the last `max(2, ⌈30 min ÷ interval⌉)`,
    /// at most 32.
    #[napi(getter)]
    pub fn retained_bars(&self) -> u32 {
        self.inner.retained_bars() as u32
    }

    /// Pushes the kept complete closed bars (per interval, oldest first) and each interval's open
    /// bar (when complete and no hold is on) into `encoder`'s batch again, for a hub that lost them
    /// (a restart); returns the bars pushed, at most `retainedBars` plus one per interval.
    #[napi]
    pub fn resend(&mut self, encoder: &mut IngestEncoder) -> u32 {
        self.inner.resend(&mut encoder.inner) as u32
    }

    /// The still-open bar of `interval`, if any trade has opened one.
    #[napi]
    pub fn open_bar(&self, env: Env, interval: String) -> Result<Option<BarObject>> {
        let interval = parse_interval(&env, &interval)?;
        Ok(self
            .inner
            .aggregator()
            .open_bar(interval)
            .map(|b| BarObject::new(interval, b)))
    }

    #[napi]
    pub fn stats(&self) -> AggregatorStatsObject {
        self.inner.aggregator().stats().into()
    }
}
