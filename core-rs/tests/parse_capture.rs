//! The parsers and filters against real exchange data: the 2021-07-22 USD-M combined-stream
//! capture and the exchangeInfo of the same session (shared/data, see its README).

mod common;

use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;
use tributary_core::filters::SymbolFilters;
use tributary_core::parse::{
    parse_exchange_info, parse_market_event, ContractType, MarketEvent, ParseError, SymbolStatus,
};
use tributary_core::{Decimal, Side};

/// Counts heap allocations per thread, so a test can prove a call allocates nothing.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// The JSON of every capture line after the subscription URL (`<unix seconds>: <json>`).
fn capture_lines(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("usdm-ws-capture-2021-07-22.txt")).expect("capture file");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_once(": ").expect("`<ts>: <json>` line").1.to_owned())
        .collect()
}

/// The exchangeInfo JSON (first line, `URL -> <ts>: <json>`).
fn exchange_info_json(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("usdm-exchangeInfo-2021-07-22.txt")).expect("exchangeInfo file");
    let first = text.lines().next().expect("a first line");
    first.split_once(": ").expect("`URL -> <ts>: <json>`").1.to_owned()
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

fn same(parsed: Decimal, raw: &str) {
    assert_eq!(parsed.to_string(), raw, "decimal does not round-trip");
}

#[test]
fn every_capture_line_parses_and_round_trips() {
    let Some(dir) = common::shared_data_dir("every_capture_line_parses_and_round_trips") else {
        return;
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for line in capture_lines(&dir) {
        let envelope: Value = serde_json::from_str(&line).expect("capture JSON");
        let data = &envelope["data"];
        let event = text(data, "e");
        match parse_market_event(line.as_bytes()) {
            Ok(MarketEvent::AggTrade(t)) => {
                assert_eq!(event, "aggTrade");
                *counts.entry("aggTrade").or_default() += 1;
                assert_eq!(t.symbol.as_str(), text(data, "s"));
                assert_eq!(t.id as i64, int(data, "a"));
                same(t.price, text(data, "p"));
                same(t.quantity, text(data, "q"));
                assert_eq!(t.first_trade_id as i64, int(data, "f"));
                assert_eq!(t.last_trade_id as i64, int(data, "l"));
                assert_eq!(t.trade_time, int(data, "T"));
                assert_eq!(t.event_time, int(data, "E"));
                assert_eq!(t.buyer_is_maker, data["m"].as_bool().unwrap());
            }
            Ok(MarketEvent::Kline(k)) => {
                assert_eq!(event, "kline");
                *counts.entry("kline").or_default() += 1;
                let raw = &data["k"];
                assert_eq!(k.symbol.as_str(), text(data, "s"));
                assert_eq!(k.interval.as_str(), text(raw, "i"));
                assert_eq!(k.event_time, int(data, "E"));
                let bar = k.kline;
                assert_eq!((bar.open_time, bar.close_time), (int(raw, "t"), int(raw, "T")));
                for (value, key) in [
                    (bar.open, "o"),
                    (bar.high, "h"),
                    (bar.low, "l"),
                    (bar.close, "c"),
                    (bar.volume, "v"),
                    (bar.quote_volume, "q"),
                    (bar.taker_buy_volume, "V"),
                    (bar.taker_buy_quote_volume, "Q"),
                ] {
                    same(value, text(raw, key));
                }
                assert_eq!(bar.trades as i64, int(raw, "n"));
                assert_eq!(bar.first_trade_id.map(|f| f as i64).unwrap_or(-1), int(raw, "f"));
                assert_eq!(bar.last_trade_id.map(|l| l as i64).unwrap_or(-1), int(raw, "L"));
                assert_eq!(bar.closed, raw["x"].as_bool().unwrap());
                assert_eq!(bar.as_of, int(data, "E"));
            }
            Ok(MarketEvent::BookTicker(t)) => {
                assert_eq!(event, "bookTicker");
                *counts.entry("bookTicker").or_default() += 1;
                assert_eq!(t.symbol.as_str(), text(data, "s"));
                same(t.tick.bid, text(data, "b"));
                same(t.tick.bid_qty, text(data, "B"));
                same(t.tick.ask, text(data, "a"));
                same(t.tick.ask_qty, text(data, "A"));
                assert_eq!(t.tick.time, int(data, "T"));
                assert_eq!(t.tick.update_id.map(|u| u as i64), Some(int(data, "u")));
            }
            Ok(MarketEvent::MarkPrice(m)) => panic!("no markPrice stream in this capture: {m:?}"),
            Err(ParseError::UnsupportedEvent { event: unsupported }) => {
                assert_eq!(unsupported, "depthUpdate");
                assert_eq!(event, "depthUpdate");
                *counts.entry("depthUpdate").or_default() += 1;
            }
            Err(err) => panic!("{err} in {line}"),
        }
    }
    // The README's counts, and the rest of the 1,535 messages.
    assert_eq!(counts.get("aggTrade"), Some(&91));
    assert_eq!(counts.get("kline"), Some(&67));
    assert_eq!(counts.get("bookTicker"), Some(&613));
    assert_eq!(counts.get("depthUpdate"), Some(&764));
}

#[test]
fn hot_path_parses_without_allocating() {
    let Some(dir) = common::shared_data_dir("hot_path_parses_without_allocating") else {
        return;
    };
    let lines = capture_lines(&dir);
    let mut parsed = 0;
    for line in &lines {
        let bytes = line.as_bytes();
        let before = allocations();
        let result = parse_market_event(bytes);
        let used = allocations() - before;
        if result.is_ok() {
            assert_eq!(used, 0, "parsing allocated {used} times: {line}");
            parsed += 1;
        }
    }
    assert_eq!(parsed, 91 + 67 + 613);
    // The counter works: an error message does allocate.
    let before = allocations();
    let depth = lines.iter().find(|l| l.contains("depthUpdate")).unwrap();
    assert!(parse_market_event(depth.as_bytes()).is_err());
    assert!(allocations() > before);
}

#[test]
fn exchange_info_file() {
    let Some(dir) = common::shared_data_dir("exchange_info_file") else {
        return;
    };
    let json = exchange_info_json(&dir);
    let info = parse_exchange_info(json.as_bytes()).unwrap();
    let raw: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(info.server_time, 1626858243909);
    assert_eq!(info.rate_limits.len(), 3);
    let weight = info.request_weight_limit().unwrap();
    assert_eq!((weight.limit, weight.window_ms()), (2400, Some(60_000)));
    assert_eq!(info.symbols.len(), 122);
    assert_eq!(info.tradable_usdt_perpetuals().count(), 115);
    for excluded in ["DEFIUSDT", "BTCDOMUSDT", "BTCBUSD", "BTCUSDT_210924", "BTCSTUSDT"] {
        assert!(
            !info.symbol(excluded).unwrap().is_tradable_usdt_perpetual(),
            "{excluded}"
        );
    }
    let pending = info.symbol("BTCSTUSDT").unwrap();
    assert_eq!(pending.contract_type, ContractType::Other(String::new()));
    assert_eq!(pending.status, SymbolStatus::PendingTrading);
    assert_eq!(
        info.symbol("BTCUSDT_210924").unwrap().contract_type,
        ContractType::CurrentQuarter
    );

    // Every filter value round-trips to the exchange's own text.
    for (symbol, raw_symbol) in info.symbols.iter().zip(raw["symbols"].as_array().unwrap()) {
        assert_eq!(symbol.symbol.as_str(), text(raw_symbol, "symbol"));
        assert_eq!(i64::from(symbol.price_precision), int(raw_symbol, "pricePrecision"));
        let f = symbol.filters;
        for filter in raw_symbol["filters"].as_array().unwrap() {
            match text(filter, "filterType") {
                "PRICE_FILTER" => {
                    let p = f.price.unwrap();
                    same(p.min_price, text(filter, "minPrice"));
                    same(p.max_price, text(filter, "maxPrice"));
                    same(p.tick_size, text(filter, "tickSize"));
                }
                "LOT_SIZE" => {
                    let l = f.lot_size.unwrap();
                    same(l.min_qty, text(filter, "minQty"));
                    same(l.max_qty, text(filter, "maxQty"));
                    same(l.step_size, text(filter, "stepSize"));
                }
                "MARKET_LOT_SIZE" => same(f.market_lot_size.unwrap().max_qty, text(filter, "maxQty")),
                "MIN_NOTIONAL" => same(f.min_notional.unwrap(), text(filter, "notional")),
                "MAX_NUM_ORDERS" => assert_eq!(i64::from(f.max_num_orders.unwrap()), int(filter, "limit")),
                "MAX_NUM_ALGO_ORDERS" => assert_eq!(i64::from(f.max_num_algo_orders.unwrap()), int(filter, "limit")),
                "PERCENT_PRICE" => {
                    let band = f.percent_price.unwrap();
                    same(band.multiplier_up, text(filter, "multiplierUp"));
                    same(band.multiplier_down, text(filter, "multiplierDown"));
                }
                other => panic!("unexpected filter {other}"),
            }
        }
    }
}

#[test]
fn real_filters_snap_and_check() {
    let Some(dir) = common::shared_data_dir("real_filters_snap_and_check") else {
        return;
    };
    let info = parse_exchange_info(exchange_info_json(&dir).as_bytes()).unwrap();
    let d = |s: &str| Decimal::parse(s).unwrap();
    let sushi: SymbolFilters = info.symbol("SUSHIUSDT").unwrap().filters;
    // SUSHIUSDT's tick is "0.0010": the captured bid/ask midpoint snaps to either side.
    let mid = d("7.6110").checked_add(&d("7.6120")).unwrap().half().unwrap();
    assert_eq!(mid.to_string(), "7.6115");
    assert_eq!(sushi.snap_price(mid, Side::Buy).to_string(), "7.6110");
    assert_eq!(sushi.snap_price(mid, Side::Sell).to_string(), "7.6120");
    assert_eq!(sushi.snap_quantity(d("0.6567"), false), d("0"));
    assert!(sushi.check_order(Some(d("7.6110")), d("1"), false).is_ok());
    assert!(sushi.check_order(Some(mid), d("1"), false).is_err());
    let btc = info.symbol("BTCUSDT").unwrap().filters;
    assert_eq!(btc.snap_price(d("31234.567"), Side::Buy).to_string(), "31234.56");
    assert_eq!(btc.snap_price(d("31234.561"), Side::Sell).to_string(), "31234.57");
    assert_eq!(btc.snap_quantity(d("0.0129"), true).to_string(), "0.012");
    // 0.001 BTC at 3,000 is below the 5 USDT minimum notional.
    assert!(btc.check_order(Some(d("3000")), d("0.001"), false).is_err());

    // Every captured trade and quote sits on its symbol's tick and step.
    for line in capture_lines(&dir) {
        let (symbol, prices, quantities) = match parse_market_event(line.as_bytes()) {
            Ok(MarketEvent::AggTrade(t)) => (t.symbol, vec![t.price], vec![t.quantity]),
            Ok(MarketEvent::BookTicker(t)) => (
                t.symbol,
                vec![t.tick.bid, t.tick.ask],
                vec![t.tick.bid_qty, t.tick.ask_qty],
            ),
            _ => continue,
        };
        let filters = info.symbol(symbol.as_str()).unwrap().filters;
        let tick = filters.price.unwrap().tick_size;
        let step = filters.lot_size.unwrap().step_size;
        for p in prices {
            assert!(p.is_multiple_of(&tick).unwrap(), "{symbol} price {p} off tick {tick}");
            assert_eq!(filters.snap_price(p, Side::Buy), p);
            assert_eq!(filters.snap_price(p, Side::Sell), p);
        }
        for q in quantities {
            assert!(
                q.is_multiple_of(&step).unwrap(),
                "{symbol} quantity {q} off step {step}"
            );
            assert_eq!(filters.snap_quantity(q, false), q);
        }
    }
}
