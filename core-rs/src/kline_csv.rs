//! Turns an aggTrades CSV dump into a kline CSV in data.binance.vision's 12-column layout.
//!
//! One row per interval from the first trade's bar to the last trade's, empty bars included (their
//! prices repeat the previous close, their volumes are zero). Written as Binance writes its kline
//! dumps of the same market:
//! - USD-M (seven columns): decimals exact, at the natural scale of their sums (see
//!   [`crate::aggregator`]); quote volume `Σ price × qty`.
//! - COIN-M: the caller passes [`QuoteRule::Inverse`] with the contract size; the quote columns
//!   are base asset volumes, `Σ qty × contract size ÷ price` at 8 decimals.
//! - Spot (eight columns, see [`crate::aggtrades_csv::Layout`]): quote columns rounded
//!   half-to-even to 8 decimals, as the spot dumps print every number.
//!
//! Times are written in the input's unit: microsecond dumps (spot since 2025) give microsecond
//! open and close times, as the spot kline dumps do.
//!
//! The input must be in trade order: an aggregate trade id not above the previous one, or a
//! trade time before the previous one, stops the conversion with an error naming the line (sort
//! the dump by its first column first). Nothing is dropped silently.

use std::io::{BufRead, Write};

use crate::aggregator::{Aggregator, AggregatorError, AggregatorStats, ClosedBar, QuoteRule, TradeError};
use crate::aggtrades_csv::{CsvError, Layout, RowError, RowParser, TimeUnit, MAX_LINE_BYTES};
use crate::decimal::Decimal;
use crate::interval::Interval;
use crate::market::Kline;
use crate::symbol::Symbol;

/// The header row of data.binance.vision kline dumps (present in the dumps since 2022).
pub const KLINE_CSV_HEADER: &str = "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
taker_buy_volume,taker_buy_quote_volume,ignore";

/// Digits of the quote columns in the spot kline dumps (they print every number with 8).
pub const SPOT_QUOTE_SCALE: u8 = 8;

/// How to write the kline CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KlineCsvOptions {
    /// Write [`KLINE_CSV_HEADER`] as the first row.
    pub header: bool,
    /// How a trade's quote volume is computed: [`QuoteRule::Inverse`] for COIN-M dumps.
    pub quote: QuoteRule,
}

/// What [`aggregate_csv`] read and wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AggregateSummary {
    /// Kline rows written (header not counted), and how many of them are empty bars.
    pub rows: u64,
    pub empty_rows: u64,
    /// Trade rows read, whether applied or dropped.
    pub trades_read: u64,
    /// The aggregator's counters: applied, duplicate and late trades dropped, id gaps.
    pub stats: AggregatorStats,
}

/// Why [`aggregate_csv`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum AggregateCsvError {
    #[error(transparent)]
    Interval(#[from] AggregatorError),
    #[error("reading trades: {0}")]
    Csv(#[from] CsvError),
    #[error("line {line}: {source}")]
    Trade { line: u64, source: TradeError },
    #[error(
        "line {line}: aggregate trade id {id} is not above the previous row's {previous}: the dump is out of order or repeats rows (sort it by agg_trade_id)"
    )]
    IdOutOfOrder { line: u64, id: u64, previous: u64 },
    #[error(
        "line {line}: trade {id} at {time} ms is before the previous row's time {previous} ms: the dump is out of time order"
    )]
    TimeOutOfOrder {
        line: u64,
        id: u64,
        time: i64,
        previous: i64,
    },
    #[error("quote volume {value} does not round to {SPOT_QUOTE_SCALE} decimals")]
    QuoteRounding { value: Decimal },
    #[error("writing klines: {0}")]
    Write(#[from] std::io::Error),
}

/// Reads aggregate trades of `symbol` from `input` (an aggTrades CSV, see [`crate::aggtrades_csv::AggTradesCsv`]) and
/// writes `interval` klines to `out`. Stops at the first bad row. Output is written in chunks and
/// flushed before returning.
pub fn aggregate_csv<R: BufRead, W: Write>(
    mut input: R,
    symbol: Symbol,
    interval: Interval,
    options: KlineCsvOptions,
    mut out: W,
) -> Result<AggregateSummary, AggregateCsvError> {
    let mut stream = KlineCsvStream::new(symbol, interval, options)?;
    let mut buf = Vec::with_capacity(1 << 16);
    loop {
        let chunk = input.fill_buf().map_err(|source| CsvError::Io {
            line: stream.line_number + 1,
            source,
        })?;
        if chunk.is_empty() {
            break;
        }
        let len = chunk.len();
        stream.push(chunk, &mut buf)?;
        input.consume(len);
        out.write_all(&buf)?;
        buf.clear();
    }
    let summary = stream.finish(&mut buf)?;
    out.write_all(&buf)?;
    out.flush()?;
    Ok(summary)
}

/// The push form of [`aggregate_csv`]: the dump arrives in chunks of any size (split anywhere,
/// even inside a line) and each call appends the kline rows it completed to `out`. Used where the
/// caller owns the input and output streams (the Node CLI), so nothing is held whole in memory.
pub struct KlineCsvStream {
    rows: RowParser,
    options: KlineCsvOptions,
    aggregator: Aggregator,
    /// Time of the last trade applied, to refuse one that goes back.
    last_time: Option<i64>,
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    line_number: u64,
    closed: Vec<ClosedBar>,
    summary: AggregateSummary,
    header_written: bool,
}

impl KlineCsvStream {
    /// A stream of `symbol` trades into `interval` klines.
    pub fn new(symbol: Symbol, interval: Interval, options: KlineCsvOptions) -> Result<Self, AggregateCsvError> {
        Ok(KlineCsvStream {
            rows: RowParser::new(symbol),
            options,
            aggregator: Aggregator::new(symbol, &[interval])?.with_quote_rule(options.quote),
            last_time: None,
            partial: Vec::with_capacity(256),
            line_number: 0,
            closed: Vec::new(),
            summary: AggregateSummary::default(),
            header_written: false,
        })
    }

    /// Feeds the next bytes of the dump; rows of the bars they close are appended to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) -> Result<(), AggregateCsvError> {
        self.write_header(out);
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            let (line, rest) = chunk.split_at(end + 1);
            if self.partial.is_empty() {
                self.line(line, out)?;
            } else {
                let mut joined = std::mem::take(&mut self.partial);
                joined.extend_from_slice(line);
                let result = self.line(&joined, out);
                joined.clear();
                self.partial = joined;
                result?;
            }
            chunk = rest;
        }
        if self.partial.len() + chunk.len() > MAX_LINE_BYTES {
            return Err(CsvError::Row {
                line: self.line_number + 1,
                reason: RowError::LineTooLong,
            }
            .into());
        }
        self.partial.extend_from_slice(chunk);
        Ok(())
    }

    /// Ends the input: a last line without a line end is read, the open bar is written, and the
    /// summary returned.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<AggregateSummary, AggregateCsvError> {
        self.write_header(out);
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(&last, out)?;
        }
        self.aggregator.finish(&mut self.closed);
        self.write_closed(out)?;
        self.summary.stats = self.aggregator.stats();
        Ok(self.summary)
    }

    /// Counters so far.
    pub fn summary(&self) -> AggregateSummary {
        AggregateSummary {
            stats: self.aggregator.stats(),
            ..self.summary
        }
    }

    fn write_header(&mut self, out: &mut Vec<u8>) {
        if self.options.header && !self.header_written {
            out.extend_from_slice(KLINE_CSV_HEADER.as_bytes());
            out.push(b'\n');
        }
        self.header_written = true;
    }

    fn line(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), AggregateCsvError> {
        self.line_number += 1;
        let line = self.line_number;
        let Some(trade) = self.rows.parse_line(raw, line) else {
            return Ok(());
        };
        let trade = trade?;
        self.summary.trades_read += 1;
        if let Some(previous) = self.aggregator.last_id().filter(|&last| trade.id <= last) {
            return Err(AggregateCsvError::IdOutOfOrder {
                line,
                id: trade.id,
                previous,
            });
        }
        if let Some(previous) = self.last_time.filter(|&last| trade.trade_time < last) {
            return Err(AggregateCsvError::TimeOutOfOrder {
                line,
                id: trade.id,
                time: trade.trade_time,
                previous,
            });
        }
        self.aggregator
            .push(&trade, &mut self.closed)
            .map_err(|source| AggregateCsvError::Trade { line, source })?;
        self.last_time = Some(trade.trade_time);
        self.write_closed(out)?;
        Ok(())
    }

    /// Writes and drains the closed bars, in the form the input's market and time unit call for.
    fn write_closed(&mut self, out: &mut Vec<u8>) -> Result<(), AggregateCsvError> {
        let spot = self.rows.layout() == Some(Layout::Spot);
        let micros = self.rows.time_unit() == Some(TimeUnit::Micros);
        for closed in self.closed.drain(..) {
            let mut kline = closed.bar.kline;
            if spot {
                kline.quote_volume = round_quote(kline.quote_volume)?;
                kline.taker_buy_quote_volume = round_quote(kline.taker_buy_quote_volume)?;
            }
            if micros {
                write_kline_row_micros(out, &kline)?;
            } else {
                write_kline_row(out, &kline)?;
            }
            self.summary.rows += 1;
            if closed.bar.is_empty() {
                self.summary.empty_rows += 1;
            }
        }
        Ok(())
    }
}

/// A spot quote column at the dumps' 8 decimals.
fn round_quote(value: Decimal) -> Result<Decimal, AggregateCsvError> {
    value
        .div_rounded(&Decimal::from_int(1), SPOT_QUOTE_SCALE)
        .map_err(|_| AggregateCsvError::QuoteRounding { value })
}

/// [`write_kline_row`] with open and close times in microseconds, as the spot kline dumps since
/// 2025 (the close time is the bar's last microsecond).
pub fn write_kline_row_micros<W: Write>(out: &mut W, k: &Kline) -> std::io::Result<()> {
    let micros = Kline {
        open_time: k.open_time * 1000,
        close_time: k.close_time * 1000 + 999,
        ..*k
    };
    write_kline_row(out, &micros)
}

/// Writes one kline as a data.binance.vision CSV row (with its newline; `ignore` is 0).
pub fn write_kline_row<W: Write>(out: &mut W, k: &Kline) -> std::io::Result<()> {
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},0",
        k.open_time,
        k.open,
        k.high,
        k.low,
        k.close,
        k.volume,
        k.close_time,
        k.quote_volume,
        k.trades,
        k.taker_buy_volume,
        k.taker_buy_quote_volume
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggtrades_csv::RowError;

    fn run(input: &str, interval: Interval, header: bool) -> Result<(String, AggregateSummary), AggregateCsvError> {
        let mut out = Vec::new();
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let summary = aggregate_csv(
            input.as_bytes(),
            symbol,
            interval,
            KlineCsvOptions {
                header,
                ..KlineCsvOptions::default()
            },
            &mut out,
        )?;
        Ok((String::from_utf8(out).unwrap(), summary))
    }

    const TRADES: &str = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n\
        10,100.5,2.0,100,101,1778198400020,false\n\
        11,101.0,1.5,102,102,1778198430000,true\n\
        13,99.9,0.5,104,106,1778198580000,false\n";

    #[test]
    fn writes_rows_with_empty_minutes_and_exact_strings() {
        let (text, summary) = run(TRADES, Interval::M1, false).unwrap();
        // Minute 0 holds ids 10 and 11, minutes 1 and 2 are empty, minute 3 holds id 13 after the
        // gap at 12.
        let expected = "\
1778198400000,100.5,101.0,100.5,101.0,3.5,1778198459999,352.50,3,2.0,201.00,0
1778198460000,101.0,101.0,101.0,101.0,0.0,1778198519999,0.00,0,0.0,0.00,0
1778198520000,101.0,101.0,101.0,101.0,0.0,1778198579999,0.00,0,0.0,0.00,0
1778198580000,99.9,99.9,99.9,99.9,0.5,1778198639999,49.95,3,0.5,49.95,0
";
        assert_eq!(text, expected);
        assert_eq!(summary.rows, 4);
        assert_eq!(summary.empty_rows, 2);
        assert_eq!(summary.trades_read, 3);
        assert_eq!(summary.stats.accepted, 3);
        assert_eq!(summary.stats.duplicates, 0);
        assert_eq!((summary.stats.gaps, summary.stats.missing_ids), (1, 1));
    }

    #[test]
    fn header_is_an_option() {
        let (text, summary) = run(TRADES, Interval::H1, true).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(KLINE_CSV_HEADER));
        assert_eq!(
            lines.next(),
            Some("1778198400000,100.5,101.0,99.9,99.9,4.0,1778201999999,402.45,6,2.5,250.95,0")
        );
        assert_eq!(lines.next(), None);
        assert_eq!(summary.rows, 1);
        assert_eq!(KLINE_CSV_HEADER.split(',').count(), 12);
    }

    #[test]
    fn no_trades_no_rows() {
        let (text, summary) = run("", Interval::M1, false).unwrap();
        assert_eq!((text.as_str(), summary.rows), ("", 0));
    }

    #[test]
    fn stops_at_the_first_bad_row_naming_its_line() {
        let input = format!("{TRADES}14,abc,1,107,107,1778198590000,true\n15,1,1,108,108,1778198600000,true\n");
        match run(&input, Interval::M1, false) {
            Err(AggregateCsvError::Csv(CsvError::Row { line, reason })) => {
                assert_eq!(line, 5);
                assert!(matches!(reason, RowError::BadDecimal { .. }));
            }
            other => panic!("expected a row error, got {other:?}"),
        }
        let huge = format!("1,{},1000,1,1,1778198400000,true\n", "9".repeat(37));
        match run(&huge, Interval::M1, false) {
            Err(error @ AggregateCsvError::Trade { line: 1, .. }) => {
                assert_eq!(
                    error.to_string(),
                    "line 1: trade 1: price × quantity does not fit an exact decimal"
                );
            }
            other => panic!("expected a trade error, got {other:?}"),
        }
        assert!(matches!(
            run(TRADES, Interval::Mo1, false),
            Err(AggregateCsvError::Interval(AggregatorError::CalendarInterval(
                Interval::Mo1
            )))
        ));
    }

    #[test]
    fn out_of_order_rows_are_errors_not_drops() {
        let repeated = format!("{TRADES}13,99.9,0.5,104,106,1778198580000,false\n");
        let error = run(&repeated, Interval::M1, false).unwrap_err();
        assert!(
            matches!(
                error,
                AggregateCsvError::IdOutOfOrder {
                    line: 5,
                    id: 13,
                    previous: 13
                }
            ),
            "{error}"
        );
        let late = format!("{TRADES}12,99.9,0.5,103,103,1778198580000,false\n");
        assert!(matches!(
            run(&late, Interval::M1, false),
            Err(AggregateCsvError::IdOutOfOrder {
                line: 5,
                id: 12,
                previous: 13
            })
        ));
        let back_in_time = format!("{TRADES}14,99.9,0.5,107,107,1778198579999,false\n");
        let error = run(&back_in_time, Interval::M1, false).unwrap_err();
        assert!(
            matches!(
                error,
                AggregateCsvError::TimeOutOfOrder {
                    line: 5,
                    id: 14,
                    time: 1_778_198_579_999,
                    previous: 1_778_198_580_000
                }
            ),
            "{error}"
        );
        assert!(error
            .to_string()
            .starts_with("line 5: trade 14 at 1778198579999 ms is before"));
        // The same time as the previous row is in order.
        let same_time = format!("{TRADES}14,99.9,0.5,107,107,1778198580000,false\n");
        assert!(run(&same_time, Interval::M1, false).is_ok());
    }

    #[test]
    fn spot_dumps_print_quote_columns_at_8_decimals_and_micro_times() {
        // The spot layout: eight columns, µs times, 8-decimal prices and quantities.
        let spot = "1,80006.00000000,0.00012345,1,1,1778198400000123,false,true\n\
                    2,80006.01000000,0.50000000,2,3,1778198400500000,true,true\n";
        let (text, _) = run(spot, Interval::M1, false).unwrap();
        // 80006 × 0.00012345 = 9.8767407 and 80006.01 × 0.5 = 40003.005, exact at 8 decimals.
        assert_eq!(
            text,
            "1778198400000000,80006.00000000,80006.01000000,80006.00000000,80006.01000000,0.50012345,\
             1778198459999999,40012.88174070,3,0.00012345,9.87674070,0\n"
        );
        // A product with more than 8 decimals rounds half to even.
        let fine = "1,0.12345678,0.12345678,1,1,1778198400000,false,true\n";
        let (text, _) = run(fine, Interval::M1, false).unwrap();
        // 0.12345678² = 0.0152415765279684
        assert_eq!(column(&text, 7), "0.01524158");
    }

    fn column(row: &str, index: usize) -> &str {
        row.trim_end().split(',').nth(index).unwrap()
    }

    #[test]
    fn coin_m_quote_volume_is_contracts_times_size_over_price() {
        let symbol = Symbol::new("BTCUSD_PERP").unwrap();
        let options = KlineCsvOptions {
            header: false,
            quote: QuoteRule::Inverse {
                contract_size: Decimal::from_int(100),
            },
        };
        // 542 contracts of 100 USD at 79972.8 = 0.67772...; 3 at 80000 = 0.00375 (taker sold).
        let input = "1,79972.8,542,1,5,1778198400020,false\n2,80000.0,3,6,6,1778198400030,true\n";
        let mut out = Vec::new();
        aggregate_csv(input.as_bytes(), symbol, Interval::M1, options, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // 54200 / 79972.8 = 0.6777304283... → 0.67773043; + 0.00375000
        assert_eq!(column(&text, 7), "0.68148043");
        assert_eq!(column(&text, 10), "0.67773043");
        assert_eq!(column(&text, 5), "545");
    }

    #[test]
    fn stream_output_does_not_depend_on_chunk_boundaries() {
        let (whole, summary) = run(TRADES, Interval::M1, true).unwrap();
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let options = KlineCsvOptions {
            header: true,
            ..KlineCsvOptions::default()
        };
        for size in 1..TRADES.len() {
            let mut stream = KlineCsvStream::new(symbol, Interval::M1, options).unwrap();
            let mut out = Vec::new();
            for chunk in TRADES.as_bytes().chunks(size) {
                stream.push(chunk, &mut out).unwrap();
            }
            let streamed = stream.finish(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), whole, "chunk size {size}");
            assert_eq!(streamed, summary);
        }
    }

    #[test]
    fn stream_reads_a_last_line_without_newline_and_refuses_endless_lines() {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let mut stream = KlineCsvStream::new(symbol, Interval::M1, KlineCsvOptions::default()).unwrap();
        let mut out = Vec::new();
        stream
            .push(b"1,100.5,2.0,100,101,1778198400020,false", &mut out)
            .unwrap();
        assert!(out.is_empty());
        let summary = stream.finish(&mut out).unwrap();
        assert_eq!(summary.rows, 1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1778198400000,100.5,100.5,100.5,100.5,2.0,1778198459999,201.00,2,2.0,201.00,0\n"
        );

        let mut stream = KlineCsvStream::new(symbol, Interval::M1, KlineCsvOptions::default()).unwrap();
        let garbage = vec![b'7'; MAX_LINE_BYTES + 1];
        let err = stream.push(&garbage, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                AggregateCsvError::Csv(CsvError::Row {
                    line: 1,
                    reason: RowError::LineTooLong
                })
            ),
            "{err}"
        );
    }
}
