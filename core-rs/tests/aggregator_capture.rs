//! Proof on a real capture: the aggregator's 1m bars equal Binance's own `kline_1m` updates.
//!
//! The capture (`usdm-ws-capture-2021-07-22.txt`) interleaves `aggTrade` and `kline_1m` messages
//! of four symbols. It is read here with `serde_json::Value`, independently of the crate's parsers.
//! Every kline update whose last trade id `L` is the `l` of an aggTrade describes exactly the
//! trades up to and including that aggTrade, so it is compared with the aggregator's bar right
//! after that trade (kline messages can arrive before the aggTrade they include, so bars are
//! recorded per trade first and compared afterwards).

mod common;

use std::collections::HashMap;

use serde_json::Value;
use tributary_core::aggregator::{Aggregator, Bar, ClosedBar, PushOutcome};
use tributary_core::{AggTrade, Decimal, Interval, Kline, Symbol};

/// One `kline_1m` update with the exchange's strings.
struct KlineUpdate {
    line: usize,
    symbol: String,
    k: Value,
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

fn dec(v: &Value, key: &str) -> Decimal {
    Decimal::parse(text(v, key)).unwrap()
}

/// Field-by-field comparison of a bar with a kline payload, as strings where the exchange sends
/// strings (so value and scale both match). Returns the mismatches.
fn mismatches(bar: &Bar, k: &Value) -> Vec<String> {
    let b = &bar.kline;
    let mut out = Vec::new();
    let mut check = |name: &str, ours: String, theirs: String| {
        if ours != theirs {
            out.push(format!("{name}: ours {ours} exchange {theirs}"));
        }
    };
    check("t", b.open_time.to_string(), int(k, "t").to_string());
    check("T", b.close_time.to_string(), int(k, "T").to_string());
    check("o", b.open.to_string(), text(k, "o").to_owned());
    check("h", b.high.to_string(), text(k, "h").to_owned());
    check("l", b.low.to_string(), text(k, "l").to_owned());
    check("c", b.close.to_string(), text(k, "c").to_owned());
    check("v", b.volume.to_string(), text(k, "v").to_owned());
    check("q", b.quote_volume.to_string(), text(k, "q").to_owned());
    check("n", b.trades.to_string(), int(k, "n").to_string());
    check("V", b.taker_buy_volume.to_string(), text(k, "V").to_owned());
    check("Q", b.taker_buy_quote_volume.to_string(), text(k, "Q").to_owned());
    check(
        "f",
        format!("{:?}", b.first_trade_id),
        format!("{:?}", Some(int(k, "f"))),
    );
    check(
        "L",
        format!("{:?}", b.last_trade_id),
        format!("{:?}", Some(int(k, "L"))),
    );
    out
}

/// Per symbol: the aggregator, the bar after every trade keyed by the trade's `l`, the first
/// trade seen, and the closed bars.
struct SymbolRun {
    aggregator: Aggregator,
    bar_after_last_id: HashMap<u64, Bar>,
    first_trade: AggTrade,
    closed: Vec<ClosedBar>,
    trades: usize,
    /// `(f, l)` of every captured aggTrade.
    ranges: Vec<(u64, u64)>,
}

#[test]
fn one_minute_bars_equal_the_exchange_klines() {
    let Some(path) = common::shared_data_file("aggregator_capture", common::CAPTURE) else {
        return;
    };
    let capture = std::fs::read_to_string(path).unwrap();
    let mut runs: HashMap<String, SymbolRun> = HashMap::new();
    let mut updates: Vec<KlineUpdate> = Vec::new();
    let mut messages = 0;
    for (index, line) in capture.lines().enumerate().skip(1) {
        let (_, json) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("line {}: no ': '", index + 1));
        let message: Value = serde_json::from_str(json).unwrap();
        let data = &message["data"];
        match data["e"].as_str() {
            Some("aggTrade") => {
                messages += 1;
                let name = text(data, "s").to_owned();
                let trade = AggTrade {
                    symbol: Symbol::new(&name).unwrap(),
                    id: int(data, "a") as u64,
                    price: dec(data, "p"),
                    quantity: dec(data, "q"),
                    first_trade_id: int(data, "f") as u64,
                    last_trade_id: int(data, "l") as u64,
                    trade_time: int(data, "T"),
                    event_time: int(data, "E"),
                    buyer_is_maker: data["m"].as_bool().unwrap(),
                };
                let run = runs.entry(name).or_insert_with(|| SymbolRun {
                    aggregator: Aggregator::new(trade.symbol, &[Interval::M1]).unwrap(),
                    bar_after_last_id: HashMap::new(),
                    first_trade: trade,
                    closed: Vec::new(),
                    trades: 0,
                    ranges: Vec::new(),
                });
                let outcome = run.aggregator.push(&trade, &mut run.closed).unwrap();
                assert_eq!(
                    outcome,
                    PushOutcome::Accepted,
                    "line {}: ids are consecutive in the capture",
                    index + 1
                );
                run.trades += 1;
                run.ranges.push((trade.first_trade_id, trade.last_trade_id));
                let bar = *run.aggregator.open_bar(Interval::M1).unwrap();
                run.bar_after_last_id.insert(trade.last_trade_id, bar);
            }
            Some("kline") => {
                messages += 1;
                assert_eq!(text(&data["k"], "i"), "1m");
                updates.push(KlineUpdate {
                    line: index + 1,
                    symbol: text(data, "s").to_owned(),
                    k: data["k"].clone(),
                });
            }
            _ => {}
        }
    }
    assert_eq!(messages, 91 + 67, "the README counts 91 aggTrade and 67 kline messages");
    for run in runs.values_mut() {
        run.aggregator.finish(&mut run.closed);
    }

    let mut compared = 0;
    let mut compared_closed = 0;
    let mut started_mid_minute = Vec::new();
    let mut mid_aggtrade = Vec::new();
    let mut failures = Vec::new();
    let mut final_mid_minute = 0;
    let mut compared_by_symbol: HashMap<String, usize> = HashMap::new();
    let mut first_minute_offsets: HashMap<String, [Decimal; 5]> = HashMap::new();
    for update in &updates {
        let k = &update.k;
        let run = &runs[&update.symbol];
        let last_id = int(k, "L") as u64;
        let Some(bar) = run.bar_after_last_id.get(&last_id) else {
            // The kline was cut inside an aggTrade: its L lies strictly within some aggTrade's
            // [f, l) range (the kline stream is built from trades, not aggTrades), or before the
            // capture's first trade of the symbol.
            let inside = run.ranges.iter().find(|(f, l)| *f <= last_id && last_id < *l);
            assert!(
                inside.is_some() || last_id < run.first_trade.first_trade_id,
                "{} line {}: L={} is neither inside an aggTrade nor before the capture",
                update.symbol,
                update.line,
                last_id
            );
            mid_aggtrade.push(match inside {
                Some((f, l)) => format!(
                    "{} line {} L={} inside aggTrade f={f} l={l}",
                    update.symbol, update.line, last_id
                ),
                None => format!(
                    "{} line {} L={} before the first captured trade",
                    update.symbol, update.line, last_id
                ),
            });
            continue;
        };
        let kline_first = int(k, "f") as u64;
        if bar.kline.first_trade_id != Some(kline_first) {
            // The aggregator missed the start of this minute: it must be the symbol's first
            // minute, which the capture joined after trades the exchange counted.
            assert_eq!(bar.kline.open_time, Interval::M1.open_time(run.first_trade.trade_time));
            assert!(kline_first < run.first_trade.first_trade_id);
            // Still, the part the aggregator did see must match: the close is the same, the
            // extremes contain ours, and every sum differs from ours by the same amount in every
            // update of the minute (the trades before the capture), with n off by exactly the
            // underlying trades before the first captured one.
            let b = &bar.kline;
            let offset = [
                dec(k, "v").checked_sub(&b.volume).unwrap(),
                dec(k, "q").checked_sub(&b.quote_volume).unwrap(),
                dec(k, "V").checked_sub(&b.taker_buy_volume).unwrap(),
                dec(k, "Q").checked_sub(&b.taker_buy_quote_volume).unwrap(),
                Decimal::from_int(int(k, "n") - b.trades as i64),
            ];
            let first_offset = *first_minute_offsets.entry(update.symbol.clone()).or_insert(offset);
            let ok = dec(k, "c") == b.close
                && dec(k, "h") >= b.high
                && dec(k, "l") <= b.low
                && offset == first_offset
                && offset[4] == Decimal::from_int((run.first_trade.first_trade_id - kline_first) as i64)
                && b.last_trade_id == Some(last_id)
                && offset.iter().all(|o| !o.is_negative());
            if !ok {
                failures.push(format!(
                    "{} line {}: first-minute remainder disagrees",
                    update.symbol, update.line
                ));
            }
            if k["x"].as_bool() == Some(true) {
                // The final update: the bar the aggregator closed for this minute is the one seen.
                final_mid_minute += 1;
                let closed = run.closed.iter().find(|c| c.bar.kline.open_time == b.open_time);
                let expected = Kline { closed: true, ..*b };
                assert_eq!(
                    closed.map(|c| c.bar.kline),
                    Some(expected),
                    "{} line {}",
                    update.symbol,
                    update.line
                );
            }
            started_mid_minute.push(format!(
                "{} line {} minute {} f={} (first captured trade f={}); seen part agrees, pre-capture part \
                 v={} q={} V={} Q={} n={}",
                update.symbol,
                update.line,
                int(k, "t"),
                kline_first,
                run.first_trade.first_trade_id,
                offset[0],
                offset[1],
                offset[2],
                offset[3],
                offset[4]
            ));
            continue;
        }
        compared += 1;
        *compared_by_symbol.entry(update.symbol.clone()).or_default() += 1;
        for problem in mismatches(bar, k) {
            failures.push(format!("{} line {}: {problem}", update.symbol, update.line));
        }
        if k["x"].as_bool() == Some(true) {
            // A final kline: the bar the aggregator closed for that minute must be the same.
            compared_closed += 1;
            let closed = run
                .closed
                .iter()
                .find(|c| c.bar.kline.open_time == int(k, "t"))
                .expect("the aggregator closed this minute");
            assert!(closed.bar.kline.closed);
            for problem in mismatches(&closed.bar, k) {
                failures.push(format!("{} line {} (closed): {problem}", update.symbol, update.line));
            }
        }
    }
    let trades: usize = runs.values().map(|r| r.trades).sum();
    eprintln!(
        "capture: {trades} aggTrades over {} symbols, {} kline_1m updates: {compared} compared field for field \
         ({compared_closed} of them final; by symbol {compared_by_symbol:?}), {} excluded because the capture \
         began mid-minute ({final_mid_minute} of them final; their seen part checked), {} excluded because L is \
         not the l of any captured aggTrade",
        runs.len(),
        updates.len(),
        started_mid_minute.len(),
        mid_aggtrade.len()
    );
    for excluded in &started_mid_minute {
        eprintln!("  began mid-minute: {excluded}");
    }
    for excluded in &mid_aggtrade {
        eprintln!("  L inside an aggTrade: {excluded}");
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
    assert!(compared > 0, "no kline update was comparable");
    assert_eq!(compared + started_mid_minute.len() + mid_aggtrade.len(), updates.len());
    // Every symbol reached a second minute whose kline updates were compared.
    for (symbol, run) in &runs {
        let seen_second_minute = run
            .bar_after_last_id
            .values()
            .any(|b| b.kline.open_time > Interval::M1.open_time(run.first_trade.trade_time));
        assert!(seen_second_minute, "{symbol} never left its first minute");
    }
}
