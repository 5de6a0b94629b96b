//! The bar aggregator as a JS class: raw aggTrade messages in (batched), closed bars and id gaps out.

use crate::error::fail;
use crate::interval::parse_interval;
use crate::records::{name, KlineObject};
use napi::bindgen_prelude::BufferSlice;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::aggregator::{Aggregator as CoreAggregator, ClosedBar, PushOutcome};
use tributary_core::parse::{parse_agg_trade, ParseError};
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

/// What one batch did.
#[napi(object)]
pub struct AggregatorBatchResult {
    /// Bars the batch closed (empty bars included), grouped by interval, in time order.
    pub closed: Vec<BarObject>,
    pub gaps: Vec<IdGapObject>,
    pub rejected: Vec<RejectedMessage>,
    pub accepted: u32,
    pub duplicates: u32,
    pub late: u32,
}

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

/// Builds bars of one symbol for several intervals from raw `aggTrade` websocket messages.
#[napi]
pub struct Aggregator {
    inner: CoreAggregator,
    closed: Vec<ClosedBar>,
}

#[napi]
impl Aggregator {
    /// An aggregator for `symbol`; `intervals` defaults to 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d.
    #[napi(constructor)]
    pub fn new(env: Env, symbol: String, intervals: Option<Vec<String>>) -> Result<Self> {
        let symbol = name(&env, "symbol", &symbol)?;
        let intervals = match intervals {
            Some(names) => names
                .iter()
                .map(|n| parse_interval(&env, n))
                .collect::<Result<Vec<_>>>()?,
            None => tributary_core::interval::AGGREGATED.to_vec(),
        };
        let inner = CoreAggregator::new(symbol, &intervals).map_err(|e| fail(&env, "invalid_intervals", e))?;
        Ok(Aggregator {
            inner,
            closed: Vec::new(),
        })
    }

    /// Parses and applies a batch of raw `aggTrade` messages (plain or combined-stream envelope),
    /// in order, in one call. Bad messages are reported, not thrown, so one never hides the rest.
    #[napi]
    pub fn push_messages(&mut self, messages: Vec<BufferSlice>) -> AggregatorBatchResult {
        let mut result = AggregatorBatchResult {
            closed: Vec::new(),
            gaps: Vec::new(),
            rejected: Vec::new(),
            accepted: 0,
            duplicates: 0,
            late: 0,
        };
        for (index, message) in messages.iter().enumerate() {
            let outcome = parse_agg_trade(message)
                .map_err(|e: ParseError| (e.reason().to_owned(), e.to_string()))
                .and_then(|trade| {
                    self.inner
                        .push(&trade, &mut self.closed)
                        .map_err(|e| ("bad_trade".to_owned(), e.to_string()))
                });
            match outcome {
                Ok(PushOutcome::Accepted) => result.accepted += 1,
                Ok(PushOutcome::AcceptedAfterGap(gap)) => {
                    result.accepted += 1;
                    result.gaps.push(IdGapObject {
                        first_missing: gap.first_missing as i64,
                        last_missing: gap.last_missing as i64,
                    });
                }
                Ok(PushOutcome::Duplicate) => result.duplicates += 1,
                Ok(PushOutcome::Late) => result.late += 1,
                Err((code, message)) => result.rejected.push(RejectedMessage {
                    index: index as u32,
                    code,
                    message,
                }),
            }
        }
        result.closed = self
            .closed
            .drain(..)
            .map(|c| BarObject::new(c.interval, &c.bar))
            .collect();
        result
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
        let s = self.inner.stats();
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
