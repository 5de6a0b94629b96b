//! A stream collector's bars built from aggTrades, straight into its Ingest batch: only bars whose every trade it saw.
//!
//! Closed bars are final at the hub, so a collector must never send a bar it did not see whole:
//! not one that opened before it subscribed, not one spanning a lost connection, not one spanning
//! an aggTrade id gap. [`StreamBars`] keeps the time from which the collector has seen every
//! trade (`complete_from`) and sends only bars opening at or after it; the REST pollers and the
//! collector's backfill supply the others. The bars go from the aggregator into the collector's
//! [`IngestEncoder`] without leaving Rust.
//!
//! `complete_from` starts at the subscription time and moves forward: after an id gap to just
//! past the time of the trade that revealed it (the missing trades happened at or before it),
//! and after a lost connection to when the connection was restored
//! ([`StreamBars::mark_incomplete_until`]). The first trade counts as revealing a gap too: the
//! subscription time is the collector's clock, which may lag the exchange's, while every trade
//! after the first one received is known by its id to arrive. Because closed bars are filtered per trade, a bar that
//! closed complete before a gap later in the same batch is still sent.

use crate::aggregator::{Aggregator, AggregatorError, ClosedBar, PushOutcome, TimeJump, TradeBatch};
use crate::ingest::IngestEncoder;
use crate::interval::Interval;
use crate::market::Kline;
use crate::symbol::Symbol;

/// What a batch did: the trades' counts, and the bars sent to the batch or withheld.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamBarsBatch {
    pub trades: TradeBatch,
    /// Bars added to the Ingest batch (closed ones and the open bar of each interval).
    pub bars: usize,
    /// Bars not sent because they opened before `complete_from`.
    pub withheld: usize,
}

/// One symbol's aggregator and the completeness rule; see the module documentation.
#[derive(Clone, Debug)]
pub struct StreamBars {
    aggregator: Aggregator,
    complete_from: i64,
    /// Bars closed by the current step, reused between calls.
    closed: Vec<ClosedBar>,
}

impl StreamBars {
    /// Bars of `intervals` for `symbol`; trades are complete from `complete_from` (Unix ms, the
    /// moment the collector subscribed).
    pub fn new(symbol: Symbol, intervals: &[Interval], complete_from: i64) -> Result<StreamBars, AggregatorError> {
        Ok(StreamBars {
            aggregator: Aggregator::new(symbol, intervals)?,
            complete_from,
            closed: Vec::new(),
        })
    }

    /// The aggregator (open bars, counters).
    pub fn aggregator(&self) -> &Aggregator {
        &self.aggregator
    }

    /// Bars opening before this time (Unix ms) may miss trades and are not sent.
    pub fn complete_from(&self) -> i64 {
        self.complete_from
    }

    /// Trades before `time` may be missing (a lost connection restored at `time`); never moves
    /// `complete_from` back.
    pub fn mark_incomplete_until(&mut self, time: i64) {
        self.complete_from = self.complete_from.max(time);
    }

    /// Applies raw aggTrade messages in order, then adds the complete bars they closed and the
    /// open bar of every interval (when complete) to `target`'s batch.
    pub fn push_messages<'m>(
        &mut self,
        messages: impl IntoIterator<Item = &'m [u8]>,
        target: &mut IngestEncoder,
    ) -> StreamBarsBatch {
        let mut batch = StreamBarsBatch::default();
        for (index, message) in messages.into_iter().enumerate() {
            let first = self.aggregator.last_id().is_none();
            let result = self.aggregator.push_message(message, &mut self.closed);
            match result {
                // The missing trades happened at or before this one.
                Ok((PushOutcome::AcceptedAfterGap(_), time)) => self.mark_incomplete_until(time.saturating_add(1)),
                // Trades before the first one received, at its time included, may never arrive.
                Ok((PushOutcome::Accepted, time)) if first => self.mark_incomplete_until(time.saturating_add(1)),
                _ => {}
            }
            batch.trades.count(index, result.map(|(outcome, _)| outcome));
            self.send_closed(target, &mut batch);
        }
        let symbol = self.aggregator.symbol();
        let intervals: Vec<Interval> = self.aggregator.intervals().collect();
        for interval in intervals {
            if let Some(bar) = self.aggregator.open_bar(interval) {
                let kline = bar.kline;
                send(target, &mut batch, self.complete_from, symbol, interval, &kline);
            }
        }
        batch
    }

    /// Closes every bar whose window ended at or before `now_ms` (a quiet market still gets its
    /// bars) and adds the complete ones to `target`'s batch.
    pub fn advance_to(&mut self, now_ms: i64, target: &mut IngestEncoder) -> Result<StreamBarsBatch, TimeJump> {
        let mut batch = StreamBarsBatch::default();
        self.aggregator.advance_to(now_ms, &mut self.closed)?;
        self.send_closed(target, &mut batch);
        Ok(batch)
    }

    fn send_closed(&mut self, target: &mut IngestEncoder, batch: &mut StreamBarsBatch) {
        let symbol = self.aggregator.symbol();
        for closed in self.closed.drain(..) {
            send(
                target,
                batch,
                self.complete_from,
                symbol,
                closed.interval,
                &closed.bar.kline,
            );
        }
    }
}

/// Adds `kline` to `target` when it opened at or after `complete_from`, counting it either way.
fn send(
    target: &mut IngestEncoder,
    batch: &mut StreamBarsBatch,
    complete_from: i64,
    symbol: Symbol,
    interval: Interval,
    kline: &Kline,
) {
    if kline.open_time < complete_from {
        batch.withheld += 1;
    } else {
        batch.bars += target.push_named_klines(&symbol, interval, std::slice::from_ref(kline));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::Delta;
    use crate::symbol::Name;

    const T0: i64 = 1_626_992_700_000; // a minute boundary
    const MIN: i64 = 60_000;

    fn trade(id: u64, time: i64, price: &str) -> Vec<u8> {
        format!(
            r#"{{"e":"aggTrade","E":{time},"s":"BTCUSDT","a":{id},"p":"{price}","q":"1.000","f":{id},"l":{id},"T":{time},"m":false}}"#
        )
        .into_bytes()
    }

    fn btc() -> Symbol {
        Name::new("BTCUSDT").unwrap()
    }

    fn encoder() -> IngestEncoder {
        IngestEncoder::new([Name::new("ETHUSDT").unwrap(), btc()])
    }

    /// The (interval, open time, closed) of every bar in the encoder's batch.
    fn bars(target: &IngestEncoder) -> Vec<(Interval, i64, bool)> {
        target
            .batch()
            .records()
            .iter()
            .map(|r| match r {
                Delta::Kline {
                    symbol,
                    interval,
                    kline,
                } => {
                    assert_eq!(symbol.0, 1, "BTCUSDT is id 1 in the encoder's registry");
                    (*interval, kline.open_time, kline.closed)
                }
                other => panic!("not a kline: {other:?}"),
            })
            .collect()
    }

    fn push(bars: &mut StreamBars, target: &mut IngestEncoder, trades: &[Vec<u8>]) -> StreamBarsBatch {
        bars.push_messages(trades.iter().map(Vec::as_slice), target)
    }

    #[test]
    fn a_bar_opened_before_the_subscription_is_withheld() {
        let mut target = encoder();
        let mut stream = StreamBars::new(btc(), &[Interval::M1], T0 + 10_000).unwrap();
        let batch = push(
            &mut stream,
            &mut target,
            &[trade(1, T0 + 20_000, "10"), trade(2, T0 + MIN, "11")],
        );
        assert_eq!(batch.trades.accepted, 2);
        // The first minute closed but started before the subscription; the second is complete.
        assert_eq!(bars(&target), vec![(Interval::M1, T0 + MIN, false)]);
        assert_eq!((batch.bars, batch.withheld), (1, 1));
    }

    #[test]
    fn bars_spanning_an_id_gap_are_withheld_and_bars_closed_before_it_are_sent() {
        let mut target = encoder();
        let mut stream = StreamBars::new(btc(), &[Interval::M1], T0).unwrap();
        let batch = push(
            &mut stream,
            &mut target,
            &[
                trade(0, T0 - 1, "10"),               // the first trade: complete from T0
                trade(1, T0 + 1_000, "10"),           // closes the minute before, withheld
                trade(2, T0 + MIN + 1_000, "11"),     // closes minute 0, complete
                trade(9, T0 + 2 * MIN + 5_000, "12"), // ids 3..8 missing: closes minute 1, which may miss them
                trade(10, T0 + 3 * MIN, "13"),        // closes minute 2, which holds the gap's trade
            ],
        );
        assert_eq!(batch.trades.gaps.len(), 1);
        assert_eq!(stream.complete_from(), T0 + 2 * MIN + 5_001);
        assert_eq!(
            bars(&target),
            vec![(Interval::M1, T0, true), (Interval::M1, T0 + 3 * MIN, false)]
        );
        assert_eq!(batch.withheld, 3);
    }

    #[test]
    fn a_collector_clock_behind_the_exchange_does_not_make_a_joined_bar_complete() {
        let mut target = encoder();
        // Subscribed, by the collector's clock, five minutes before the exchange's time: the
        // first trade received is what says where complete bars start.
        let mut stream = StreamBars::new(btc(), &[Interval::M1], T0 - 5 * MIN).unwrap();
        let batch = push(
            &mut stream,
            &mut target,
            &[trade(7, T0 + 30_000, "10"), trade(8, T0 + MIN, "11")],
        );
        assert_eq!(stream.complete_from(), T0 + 30_001);
        assert_eq!(bars(&target), vec![(Interval::M1, T0 + MIN, false)]);
        assert_eq!((batch.bars, batch.withheld), (1, 1));
    }

    #[test]
    fn a_lost_connection_withholds_bars_until_it_was_restored() {
        let mut target = encoder();
        let mut stream = StreamBars::new(btc(), &[Interval::M1, Interval::M5], T0).unwrap();
        push(&mut stream, &mut target, &[trade(1, T0 + 1_000, "10")]);
        target.batch_mut().clear();
        stream.mark_incomplete_until(T0 + 30_000);
        stream.mark_incomplete_until(T0); // never back
        assert_eq!(stream.complete_from(), T0 + 30_000);
        push(&mut stream, &mut target, &[trade(2, T0 + MIN + 1, "11")]);
        // Minute 0 and the 5m bar span the loss; minute 1 opened after it.
        assert_eq!(bars(&target), vec![(Interval::M1, T0 + MIN, false)]);
        target.batch_mut().clear();
        // A quiet market: advancing closes minute 1 (complete) and opens an empty minute 2.
        let batch = stream.advance_to(T0 + 2 * MIN, &mut target).unwrap();
        assert_eq!(bars(&target), vec![(Interval::M1, T0 + MIN, true)]);
        assert_eq!(batch.bars, 1);
    }

    #[test]
    fn bars_of_a_symbol_the_registry_does_not_know_are_skipped_and_counted() {
        let mut target = IngestEncoder::new([Name::new("ETHUSDT").unwrap()]);
        let mut stream = StreamBars::new(btc(), &[Interval::M1], T0).unwrap();
        // The first trade makes bars complete from T0; the second's open bar is complete.
        let batch = push(
            &mut stream,
            &mut target,
            &[trade(1, T0 - 1, "10"), trade(2, T0 + 1_000, "10")],
        );
        assert_eq!(batch.bars, 0);
        assert!(target.batch().is_empty());
        assert_eq!(target.batch().unknown_symbols(), 1);
    }

    #[test]
    fn bad_messages_are_reported_with_their_index() {
        let mut target = encoder();
        let mut stream = StreamBars::new(btc(), &[Interval::M1], T0).unwrap();
        let batch = push(
            &mut stream,
            &mut target,
            &[b"{".to_vec(), trade(1, T0 + 1_000, "10"), trade(1, T0 + 1_000, "10")],
        );
        assert_eq!(batch.trades.accepted, 1);
        assert_eq!(batch.trades.duplicates, 1);
        assert_eq!(batch.trades.rejected.len(), 1);
        assert_eq!(batch.trades.rejected[0].index, 0);
        assert_eq!(batch.trades.rejected[0].error.reason(), "truncated");
    }
}
