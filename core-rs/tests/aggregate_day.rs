//! A full day of the official BTCUSD_PERP aggTrades dump through `aggregate_csv`: 1m, 1h and 1d
//! klines checked against sums computed here directly from the file's text. BTCUSD_PERP is an
//! inverse contract of 100 USD, so its quote columns are base asset volumes: Σ qty × 100 ÷ price,
//! each trade's at 8 decimals.

mod common;

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use tributary_core::aggregator::QuoteRule;
use tributary_core::kline_csv::{aggregate_csv, AggregateSummary, KlineCsvOptions, KLINE_CSV_HEADER};
use tributary_core::{Decimal, Interval, Symbol};

const FILE: &str = "BTCUSD_PERP-aggTrades-2026-05-08.csv";
/// 2026-05-08 00:00 UTC.
const DAY_OPEN: i64 = 1_778_198_400_000;

/// BTCUSD_PERP's contract size (exchangeInfo `contractSize`).
const CONTRACT_SIZE: i64 = 100;

fn options(header: bool) -> KlineCsvOptions {
    KlineCsvOptions {
        header,
        quote: QuoteRule::Inverse {
            contract_size: Decimal::from_int(CONTRACT_SIZE),
        },
    }
}

/// One dump row, read here with plain string splitting.
struct Row {
    price: Decimal,
    qty: Decimal,
    trades: u64,
    time: i64,
    taker_bought: bool,
}

fn read_rows(path: &PathBuf) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("agg_trade_id,"));
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            assert_eq!(cols.len(), 7, "{line}");
            let first: u64 = cols[3].parse().unwrap();
            let last: u64 = cols[4].parse().unwrap();
            Row {
                price: Decimal::parse(cols[1]).unwrap(),
                qty: Decimal::parse(cols[2]).unwrap(),
                trades: last - first + 1,
                time: cols[5].parse().unwrap(),
                taker_bought: cols[6] == "false",
            }
        })
        .collect()
}

/// The kline row the exchange would publish for the trades in `[open, open + len)`, formatted
/// like data.binance.vision (volumes at their natural scales).
fn expected_row(rows: &[Row], open: i64, len: i64) -> String {
    let inside: Vec<&Row> = rows.iter().filter(|r| r.time >= open && r.time < open + len).collect();
    assert!(!inside.is_empty());
    let add = |a: Decimal, b: Decimal| a.checked_add(&b).unwrap();
    let mut volume = Decimal::ZERO;
    let mut quote = Decimal::ZERO;
    let mut buy_volume = Decimal::ZERO;
    let mut buy_quote = Decimal::ZERO;
    for r in &inside {
        // Base asset volume of the trade, as Binance publishes `baseQty` (8 decimals).
        let notional = r
            .qty
            .checked_mul(&Decimal::from_int(CONTRACT_SIZE))
            .unwrap()
            .div_rounded(&r.price, 8)
            .unwrap();
        volume = add(volume, r.qty);
        quote = add(quote, notional);
        // Zero-padded to the column's scale, as the aggregator keeps taker-buy columns.
        let zero_qty = Decimal::new(0, r.qty.scale()).unwrap();
        let zero_notional = Decimal::new(0, notional.scale()).unwrap();
        buy_volume = add(buy_volume, if r.taker_bought { r.qty } else { zero_qty });
        buy_quote = add(buy_quote, if r.taker_bought { notional } else { zero_notional });
    }
    let high = inside.iter().map(|r| r.price).max().unwrap();
    let low = inside.iter().map(|r| r.price).min().unwrap();
    let trades: u64 = inside.iter().map(|r| r.trades).sum();
    format!(
        "{open},{},{high},{low},{},{volume},{},{quote},{trades},{buy_volume},{buy_quote},0",
        inside[0].price,
        inside[inside.len() - 1].price,
        open + len - 1
    )
}

fn aggregate(path: &PathBuf, interval: Interval) -> (Vec<String>, AggregateSummary, f64) {
    let input = BufReader::new(File::open(path).unwrap());
    let mut out = Vec::with_capacity(1 << 20);
    let symbol = Symbol::new("BTCUSD_PERP").unwrap();
    let started = Instant::now();
    let summary = aggregate_csv(input, symbol, interval, options(false), &mut out).unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let text = String::from_utf8(out).unwrap();
    (text.lines().map(str::to_owned).collect(), summary, elapsed)
}

fn column(row: &str, index: usize) -> &str {
    row.split(',').nth(index).unwrap()
}

#[test]
fn a_full_day_into_1m_1h_and_1d_klines() {
    let Some(path) = common::shared_data_file("aggregate_day", FILE) else {
        return;
    };
    let rows = read_rows(&path);
    assert_eq!(rows.len(), 105_280);
    let file_trades: u64 = rows.iter().map(|r| r.trades).sum();
    let file_volume = rows
        .iter()
        .fold(Decimal::ZERO, |acc, r| acc.checked_add(&r.qty).unwrap());

    for (interval, len, count) in [
        (Interval::M1, 60_000, 1440),
        (Interval::H1, 3_600_000, 24),
        (Interval::D1, 86_400_000, 1),
    ] {
        let (klines, summary, elapsed) = aggregate(&path, interval);
        eprintln!(
            "{interval}: {} rows ({} empty) from {} trades in {:.1} ms; duplicates {}, late {}, gaps {} ({} ids missing)",
            summary.rows,
            summary.empty_rows,
            summary.trades_read,
            elapsed * 1000.0,
            summary.stats.duplicates,
            summary.stats.late,
            summary.stats.gaps,
            summary.stats.missing_ids
        );
        assert_eq!(klines.len(), count);
        assert_eq!(summary.rows, count as u64);
        assert_eq!(summary.trades_read, rows.len() as u64);
        assert_eq!(
            summary.stats.accepted + summary.stats.duplicates + summary.stats.late,
            rows.len() as u64
        );
        assert_eq!(
            summary.stats.duplicates + summary.stats.late,
            0,
            "the official dump has no repeats"
        );
        for (i, kline) in klines.iter().enumerate() {
            let open = DAY_OPEN + i as i64 * len;
            assert_eq!(kline.split(',').count(), 12, "{kline}");
            assert_eq!(column(kline, 0), open.to_string(), "row {i} is not consecutive");
            assert_eq!(column(kline, 6), (open + len - 1).to_string());
            assert_eq!(column(kline, 11), "0");
        }
        let trades: u64 = klines.iter().map(|k| column(k, 8).parse::<u64>().unwrap()).sum();
        assert_eq!(trades, file_trades);
        let volume = klines.iter().fold(Decimal::ZERO, |acc, k| {
            acc.checked_add(&Decimal::parse(column(k, 5)).unwrap()).unwrap()
        });
        assert_eq!(volume.to_string(), file_volume.to_string());
        match interval {
            Interval::M1 => {
                // Spot checks: the first minute, 12:34, and the last minute.
                for index in [0usize, 754, 1439] {
                    let open = DAY_OPEN + index as i64 * len;
                    assert_eq!(klines[index], expected_row(&rows, open, len), "minute {index}");
                }
                // Minutes without trades repeat the previous close with zero volumes.
                let mut empty = 0;
                for pair in klines.windows(2) {
                    let (previous, kline) = (&pair[0], &pair[1]);
                    let open: i64 = column(kline, 0).parse().unwrap();
                    let traded = rows.iter().any(|r| r.time >= open && r.time < open + len);
                    assert_eq!(column(kline, 8) != "0", traded, "{kline}");
                    if !traded {
                        empty += 1;
                        let close = column(previous, 4);
                        assert_eq!([1, 2, 3, 4].map(|i| column(kline, i)), [close; 4], "{kline}");
                        assert_eq!(
                            [5, 7, 9, 10].map(|i| column(kline, i)),
                            ["0.0", "0.00000000", "0.0", "0.00000000"]
                        );
                    }
                }
                assert_eq!(empty, summary.empty_rows);
            }
            _ => {
                for (index, kline) in klines.iter().enumerate() {
                    assert_eq!(*kline, expected_row(&rows, DAY_OPEN + index as i64 * len, len));
                }
            }
        }
    }
    // The header option writes the dumps' header first.
    let input = BufReader::new(File::open(&path).unwrap());
    let mut out = Vec::new();
    let symbol = Symbol::new("BTCUSD_PERP").unwrap();
    aggregate_csv(input, symbol, Interval::D1, options(true), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().next(), Some(KLINE_CSV_HEADER));
    assert_eq!(text.lines().count(), 2);
}
