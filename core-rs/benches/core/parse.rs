//! Parse stage: Binance payload bytes as received into typed records.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use tributary_core::parse::{
    parse_agg_trade, parse_book_ticker, parse_kline_event, parse_market_event, parse_rest_klines,
    parse_rest_klines_into, parse_user_event, ParseError,
};
use tributary_core::Decimal;

use crate::inputs::{self, raw_event};

pub fn bench(c: &mut Criterion) {
    let messages = inputs::messages();
    let (_, newest) = messages.kline_bar();
    let (rest_body, server_time) = inputs::rest_klines_body(&newest);
    let mut group = c.benchmark_group("parse");

    for (name, payload) in [
        ("agg_trade/raw", raw_event(&messages.agg_trade)),
        ("agg_trade/combined", &messages.agg_trade),
    ] {
        payload_case(&mut group, name, payload, parse_agg_trade);
    }
    for (name, payload) in [
        ("kline/raw", raw_event(&messages.kline)),
        ("kline/combined", &messages.kline),
    ] {
        payload_case(&mut group, name, payload, parse_kline_event);
    }
    // Off Binance's compact layout the fast path takes its general reader: a field Binance added
    // (`nq`, as in the current docs) and an unknown nested one, and whitespace everywhere.
    let extended = raw_event(&messages.agg_trade).replacen("\"m\":", "\"nq\":\"10\",\"x\":{\"y\":[1,null]},\"m\":", 1);
    payload_case(&mut group, "agg_trade/unknown_fields", &extended, parse_agg_trade);
    let kline: serde_json::Value = serde_json::from_str(&messages.kline).expect("the kline message is JSON");
    let pretty = serde_json::to_string_pretty(&kline).expect("a JSON value prints");
    payload_case(&mut group, "kline/pretty", &pretty, parse_kline_event);
    for (name, payload) in [
        ("book_ticker/raw", raw_event(&messages.book_ticker)),
        ("book_ticker/combined", &messages.book_ticker),
    ] {
        payload_case(&mut group, name, payload, parse_book_ticker);
    }
    payload_case(&mut group, "account_update", inputs::ACCOUNT_UPDATE, parse_user_event);
    let rows = parse_rest_klines(rest_body.as_bytes(), server_time).map_or(0, |rows| rows.len());
    assert_eq!(rows, inputs::REST_WINDOW, "the generated REST body has a full window");
    payload_case(&mut group, "rest_klines_45", &rest_body, |bytes| {
        parse_rest_klines(bytes, server_time)
    });
    // The same body into a buffer kept between polls (what the hub's mergeRestKlines does), and
    // pretty-printed, which the byte scan's general row reader takes.
    let mut rows = Vec::with_capacity(inputs::REST_WINDOW);
    payload_case(&mut group, "rest_klines_45/into", &rest_body, |bytes| {
        rows.clear();
        parse_rest_klines_into(bytes, server_time, &mut rows)
    });
    let spaced = rest_body.replace(',', ", ");
    payload_case(&mut group, "rest_klines_45/spaced", &spaced, |bytes| {
        parse_rest_klines(bytes, server_time)
    });

    for (name, payload) in [
        ("market_event/agg_trade", &messages.agg_trade),
        ("market_event/kline", &messages.kline),
        ("market_event/book_ticker", &messages.book_ticker),
    ] {
        payload_case(&mut group, name, payload, parse_market_event);
    }
    // The capture's mix in arrival order: dispatch as the collector sees it, per message.
    let stream = &messages.stream;
    assert!(stream.iter().all(|m| parse_market_event(m.as_bytes()).is_ok()));
    group.throughput(Throughput::Elements(stream.len() as u64));
    group.bench_function("market_event/stream", |b| {
        b.iter(|| {
            for message in stream {
                let _ = black_box(parse_market_event(black_box(message.as_bytes())));
            }
        })
    });
    group.finish();

    // Decimal texts as Binance sends them: a price, an 8-decimal quantity, a long quote volume
    // (past the one-word reader), and the general path's input (more than 15 digits in a run).
    let mut group = c.benchmark_group("decimal");
    for (name, text) in [
        ("parse/price", "50003.7"),
        ("parse/quantity_8dp", "0.01634790"),
        ("parse/quote_volume", "17928899.62484339"),
        ("parse/long_run", "1234567890123456789.5"),
    ] {
        group.bench_function(name, |b| b.iter(|| Decimal::parse(black_box(text))));
    }
    group.finish();
}

/// Benchmarks `parse` on `payload` after checking that it accepts it; throughput in bytes.
fn payload_case<T>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    payload: &str,
    mut parse: impl FnMut(&[u8]) -> Result<T, ParseError>,
) {
    let bytes = payload.as_bytes();
    if let Err(error) = parse(bytes) {
        panic!("{name}: the bench payload does not parse: {error}");
    }
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(name, |b| b.iter(|| parse(black_box(bytes))));
}
