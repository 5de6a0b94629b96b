//! REST market bodies: `GET /fapi/v1/klines`, `/fapi/v1/aggTrades`, `/fapi/v1/ticker/bookTicker`
//! and `/fapi/v1/ticker/price` (v2 answers the same rows).

use super::error::{check_len, from_serde, name, non_negative, positive, ParseError};
use super::market::{build_agg_trade, build_kline, build_tick, AggTradeFields, KlineFields, KlineMeta, TickFields};
use super::{fast, MAX_REST_BYTES};
use crate::market::{AggTrade, Kline, MarkPrice, SymbolTick, Tick};
use crate::symbol::Symbol;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

pub(super) const REST_KLINES: &str = "REST klines";
const REST_AGG_TRADES: &str = "REST aggTrades";
const REST_BOOK_TICKER: &str = "REST bookTicker";
const REST_PRICE_TICKER: &str = "REST ticker/price";
const REST_PREMIUM_INDEX: &str = "REST premiumIndex";

/// Parses a `GET /fapi/v1/klines` body: an array of rows `[openTime, "o", "h", "l", "c", "v",
/// closeTime, "q", n, "V", "Q", "ignore"]`. A row is `closed` when its close time is before
/// `server_time_ms`; `as_of` is 0 and trade ids are `None` (the REST rows carry neither).
pub fn parse_rest_klines(bytes: &[u8], server_time_ms: i64) -> Result<Vec<Kline>, ParseError> {
    let mut rows = Vec::new();
    parse_rest_klines_into(bytes, server_time_ms, &mut rows)?;
    Ok(rows)
}

/// [`parse_rest_klines`] appending the rows to `out`, so a caller that polls can reuse one
/// buffer; returns how many rows were added. On an error `out` is left as it was.
pub fn parse_rest_klines_into(bytes: &[u8], server_time_ms: i64, out: &mut Vec<Kline>) -> Result<usize, ParseError> {
    rest_klines_into::<true>(bytes, server_time_ms, out)
}

// With `FAST = true` the byte scan (`fast.rs`) runs first and serde only when it declines; with
// `FAST = false` only serde runs: the reference the scan's tests compare against.
pub(super) fn rest_klines_into<const FAST: bool>(
    bytes: &[u8],
    server_time_ms: i64,
    out: &mut Vec<Kline>,
) -> Result<usize, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let before = out.len();
    if FAST {
        if fast::rest_klines(bytes, server_time_ms, out).is_some() {
            return Ok(out.len() - before);
        }
        out.truncate(before);
    }
    let rows: Vec<RestKlineRow<'_>> = serde_json::from_slice(bytes).map_err(|e| from_serde(REST_KLINES, bytes, e))?;
    out.reserve(rows.len());
    for row in rows {
        let kline = build_kline(
            REST_KLINES,
            KlineFields {
                open_time: row.open_time,
                close_time: row.close_time,
                open: row.open,
                high: row.high,
                low: row.low,
                close: row.close,
                volume: row.volume,
                quote_volume: row.quote_volume,
                trades: row.trades,
                taker_buy_volume: row.taker_buy_volume,
                taker_buy_quote_volume: row.taker_buy_quote_volume,
            },
            KlineMeta {
                first_trade_id: None,
                last_trade_id: None,
                closed: row.close_time < server_time_ms,
                as_of: 0,
            },
        );
        match kline {
            Ok(kline) => out.push(kline),
            Err(error) => {
                out.truncate(before);
                return Err(error);
            }
        }
    }
    Ok(out.len() - before)
}

/// One row of the klines array, read positionally; elements after the eleventh are ignored.
struct RestKlineRow<'a> {
    open_time: i64,
    open: &'a str,
    high: &'a str,
    low: &'a str,
    close: &'a str,
    volume: &'a str,
    close_time: i64,
    quote_volume: &'a str,
    trades: u64,
    taker_buy_volume: &'a str,
    taker_buy_quote_volume: &'a str,
}

impl<'de: 'a, 'a> Deserialize<'de> for RestKlineRow<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(RowVisitor(PhantomData))
    }
}

struct RowVisitor<'a>(PhantomData<&'a ()>);

const ROW_EXPECTED: &str = "a kline row array of 12 elements";

fn element<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A, index: usize) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(index, &ROW_EXPECTED))
}

impl<'de: 'a, 'a> Visitor<'de> for RowVisitor<'a> {
    type Value = RestKlineRow<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(ROW_EXPECTED)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let row = RestKlineRow {
            open_time: element(&mut seq, 0)?,
            open: element(&mut seq, 1)?,
            high: element(&mut seq, 2)?,
            low: element(&mut seq, 3)?,
            close: element(&mut seq, 4)?,
            volume: element(&mut seq, 5)?,
            close_time: element(&mut seq, 6)?,
            quote_volume: element(&mut seq, 7)?,
            trades: element(&mut seq, 8)?,
            taker_buy_volume: element(&mut seq, 9)?,
            taker_buy_quote_volume: element(&mut seq, 10)?,
        };
        // The twelfth element is documented as "ignore"; later additions are ignored too.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(row)
    }
}

#[derive(Deserialize)]
struct RawRestAggTrade<'a> {
    a: i64,
    p: &'a str,
    q: &'a str,
    f: i64,
    l: i64,
    #[serde(rename = "T")]
    trade_time: i64,
    m: bool,
}

/// Parses a `GET /fapi/v1/aggTrades` body for `symbol` (the rows do not name it). The event time
/// of each trade is its trade time `T`.
pub fn parse_rest_agg_trades(bytes: &[u8], symbol: Symbol) -> Result<Vec<AggTrade>, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let rows: Vec<RawRestAggTrade<'_>> =
        serde_json::from_slice(bytes).map_err(|e| from_serde(REST_AGG_TRADES, bytes, e))?;
    rows.into_iter()
        .map(|row| {
            build_agg_trade(
                REST_AGG_TRADES,
                symbol,
                AggTradeFields {
                    id: row.a,
                    price: row.p,
                    quantity: row.q,
                    first_trade_id: row.f,
                    last_trade_id: row.l,
                    trade_time: row.trade_time,
                    event_time: row.trade_time,
                    buyer_is_maker: row.m,
                },
            )
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRestBookTicker<'a> {
    symbol: &'a str,
    bid_price: &'a str,
    bid_qty: &'a str,
    ask_price: &'a str,
    ask_qty: &'a str,
    time: i64,
    last_update_id: u64,
}

/// Parses a `GET /fapi/v1/ticker/bookTicker` body: one object (with `symbol=`) or an array (all
/// symbols). Each tick is timed by `time` and carries `lastUpdateId`.
pub fn parse_rest_book_tickers(bytes: &[u8]) -> Result<Vec<SymbolTick>, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let is_array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let rows: Vec<RawRestBookTicker<'_>> = if is_array {
        serde_json::from_slice(bytes)
    } else {
        serde_json::from_slice(bytes).map(|one| vec![one])
    }
    .map_err(|e| from_serde(REST_BOOK_TICKER, bytes, e))?;
    rows.into_iter()
        .map(|row| {
            Ok(SymbolTick {
                symbol: name(REST_BOOK_TICKER, "symbol", row.symbol)?,
                tick: build_tick(
                    REST_BOOK_TICKER,
                    TickFields {
                        bid: row.bid_price,
                        bid_qty: row.bid_qty,
                        ask: row.ask_price,
                        ask_qty: row.ask_qty,
                        time: row.time,
                        update_id: row.last_update_id,
                    },
                )?,
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct RawRestPriceTicker<'a> {
    symbol: &'a str,
    price: &'a str,
    time: i64,
}

/// Parses a `GET /fapi/v1/ticker/price` (or v2) body: one object (with `symbol=`) or an array
/// (all symbols). Each row becomes a tick carrying only the latest traded price (see
/// [`Tick::traded`]), timed by `time`; the price must be positive, as a trade's.
pub fn parse_rest_price_tickers(bytes: &[u8]) -> Result<Vec<SymbolTick>, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let is_array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let rows: Vec<RawRestPriceTicker<'_>> = if is_array {
        serde_json::from_slice(bytes)
    } else {
        serde_json::from_slice(bytes).map(|one| vec![one])
    }
    .map_err(|e| from_serde(REST_PRICE_TICKER, bytes, e))?;
    rows.into_iter()
        .map(|row| {
            Ok(SymbolTick {
                symbol: name(REST_PRICE_TICKER, "symbol", row.symbol)?,
                tick: Tick::traded(positive(REST_PRICE_TICKER, "price", row.price)?, row.time),
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPremiumIndex<'a> {
    symbol: &'a str,
    mark_price: &'a str,
    index_price: &'a str,
    estimated_settle_price: &'a str,
    last_funding_rate: &'a str,
    next_funding_time: i64,
    time: i64,
}

/// Parses a `GET /fapi/v1/premiumIndex` body (one object with `symbol=`, or all symbols) into
/// mark price records timed by `time`, as a `markPriceUpdate` is by its event time. A contract
/// that has no funding (delivery) reports rate and next funding time as given (often 0).
pub fn parse_premium_index(bytes: &[u8]) -> Result<Vec<MarkPrice>, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let is_array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let rows: Vec<RawPremiumIndex<'_>> = if is_array {
        serde_json::from_slice(bytes)
    } else {
        serde_json::from_slice(bytes).map(|one| vec![one])
    }
    .map_err(|e| from_serde(REST_PREMIUM_INDEX, bytes, e))?;
    let k = REST_PREMIUM_INDEX;
    rows.into_iter()
        .map(|row| {
            Ok(MarkPrice {
                symbol: name(k, "symbol", row.symbol)?,
                event_time: row.time,
                mark_price: non_negative(k, "markPrice", row.mark_price)?,
                index_price: non_negative(k, "indexPrice", row.index_price)?,
                estimated_settle_price: non_negative(k, "estimatedSettlePrice", row.estimated_settle_price)?,
                funding_rate: super::error::decimal(k, "lastFundingRate", row.last_funding_rate)?,
                next_funding_time: row.next_funding_time,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::parse::samples::{self, assert_prefixes_truncated, reason_of, replaced};
    use crate::symbol::Name;

    #[test]
    fn klines_rows_and_closed_flag() {
        let server_time = 1626992759999;
        let k = parse_rest_klines(samples::REST_KLINES.as_bytes(), server_time).unwrap();
        assert_eq!(k.len(), 2);
        let first = &k[0];
        assert_eq!((first.open_time, first.close_time), (1499040000000, 1499644799999));
        assert_eq!(first.open.to_string(), "0.01634790");
        assert_eq!(first.high.to_string(), "0.80000000");
        assert_eq!(first.low.to_string(), "0.01575800");
        assert_eq!(first.close.to_string(), "0.01577100");
        assert_eq!(first.volume.to_string(), "148976.11427815");
        assert_eq!(first.quote_volume.to_string(), "2434.19055334");
        assert_eq!(first.trades, 308);
        assert_eq!(first.taker_buy_volume.to_string(), "1756.87402397");
        assert_eq!(first.taker_buy_quote_volume.to_string(), "28.46694368");
        assert_eq!(
            (first.first_trade_id, first.last_trade_id, first.as_of),
            (None, None, 0)
        );
        assert!(first.closed);
        // The second row closes exactly at the server time: still open.
        assert!(!k[1].closed);
        assert!(parse_rest_klines(samples::REST_KLINES.as_bytes(), server_time + 1).unwrap()[1].closed);
        assert_eq!(parse_rest_klines(b" [ ] ", 0), Ok(vec![]));
    }

    #[test]
    fn kline_rows_shape() {
        // Extra trailing elements are ignored; missing ones are a schema error.
        let longer = replaced(
            samples::REST_KLINES,
            "\"17928899.62484339\"]",
            "\"17928899.62484339\",7,\"x\"]",
        );
        assert_eq!(parse_rest_klines(longer.as_bytes(), 0).unwrap().len(), 2);
        let shorter = replaced(samples::REST_KLINES, ",\"28.46694368\",\"17928899.62484339\"]", "]");
        assert_eq!(reason_of(parse_rest_klines(shorter.as_bytes(), 0)), "schema");
        let cases = [
            ("[[1499040000000,", "[[\"1499040000000\",", "schema"),
            ("\"0.01634790\"", "0.0163479", "schema"),
            (",308,", ",\"308\",", "schema"),
            ("[[1499040000000", "[{\"t\":1499040000000}", "schema"),
            ("\"0.80000000\"", "\"8e-1\"", "invalid_decimal"),
            ("\"0.01575800\"", "\"\"", "invalid_decimal"),
            ("\"0.80000000\"", "\"0.01\"", "invalid_value"),
            (",1499644799999,", ",1499040000000,", "invalid_value"),
        ];
        for (from, to, reason) in cases {
            let bad = replaced(samples::REST_KLINES, from, to);
            assert_eq!(reason_of(parse_rest_klines(bad.as_bytes(), 0)), reason, "{to}");
        }
        assert_eq!(
            reason_of(parse_rest_klines(br#"{"code":-1121,"msg":"Invalid symbol."}"#, 0)),
            "schema"
        );
        assert_prefixes_truncated(samples::REST_KLINES, |b| parse_rest_klines(b, 0));
        let big = vec![b' '; MAX_REST_BYTES + 1];
        assert_eq!(reason_of(parse_rest_klines(&big, 0)), "oversize");
    }

    #[test]
    fn agg_trade_rows() {
        let sym = Name::new("BTCUSDT").unwrap();
        let t = parse_rest_agg_trades(samples::REST_AGG_TRADES.as_bytes(), sym).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].symbol, sym);
        assert_eq!(t[0].id, 26129);
        assert_eq!(t[0].price.to_string(), "0.01633102");
        assert_eq!(t[0].quantity.to_string(), "4.70443515");
        assert_eq!((t[0].first_trade_id, t[0].last_trade_id), (27781, 27781));
        assert_eq!((t[0].trade_time, t[0].event_time), (1498793709153, 1498793709153));
        assert!(t[0].buyer_is_maker);
        assert_eq!(t[1].trade_count(), 9);
        assert!(!t[1].buyer_is_maker);
        assert_prefixes_truncated(samples::REST_AGG_TRADES, |b| parse_rest_agg_trades(b, sym));
        let cases = [
            ("\"f\":27781", "\"f\":-1", "invalid_value"),
            ("\"l\":27781", "\"l\":27780", "invalid_value"),
            ("\"p\":\"0.01633102\"", "\"p\":\"abc\"", "invalid_decimal"),
            ("\"m\":true", "\"m\":1", "schema"),
            (",\"T\":1498793709153", "", "schema"),
        ];
        for (from, to, reason) in cases {
            let bad = replaced(samples::REST_AGG_TRADES, from, to);
            assert_eq!(reason_of(parse_rest_agg_trades(bad.as_bytes(), sym)), reason, "{to}");
        }
    }

    #[test]
    fn book_ticker_object_or_array() {
        let one = parse_rest_book_tickers(samples::REST_BOOK_TICKER.as_bytes()).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].symbol.as_str(), "BTCUSDT");
        assert_eq!(one[0].tick.bid.to_string(), "4.00000000");
        assert_eq!(one[0].tick.bid_qty.to_string(), "431.00000000");
        assert_eq!(one[0].tick.ask.to_string(), "4.00000200");
        assert_eq!(one[0].tick.ask_qty.to_string(), "9.00000000");
        assert_eq!(one[0].tick.time, 1589437530011);
        assert_eq!(one[0].tick.update_id, Some(1027024));
        assert_eq!(one[0].tick.last, None);
        let all = parse_rest_book_tickers(samples::REST_BOOK_TICKERS.as_bytes()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], one[0]);
        assert_eq!(all[1].symbol.as_str(), "SUSHIUSDT");
        assert_eq!(all[1].tick.update_id, Some(600859600576));
        assert_prefixes_truncated(samples::REST_BOOK_TICKER, parse_rest_book_tickers);
        assert_prefixes_truncated(samples::REST_BOOK_TICKERS, parse_rest_book_tickers);
        // An empty book side shows as zero and is kept.
        let empty_side = replaced(
            samples::REST_BOOK_TICKER,
            "\"bidPrice\":\"4.00000000\"",
            "\"bidPrice\":\"0.00000000\"",
        );
        assert!(parse_rest_book_tickers(empty_side.as_bytes()).unwrap()[0]
            .tick
            .bid
            .is_zero());
        let cases = [
            ("\"askQty\":\"9.00000000\"", "\"askQty\":\"-9\"", "invalid_value"),
            ("\"lastUpdateId\":1027024", "\"lastUpdateId\":-1", "schema"),
            ("\"symbol\":\"BTCUSDT\"", "\"symbol\":\"\"", "invalid_name"),
            ("\"time\":1589437530011", "\"time\":\"1589437530011\"", "schema"),
        ];
        for (from, to, reason) in cases {
            let bad = replaced(samples::REST_BOOK_TICKER, from, to);
            assert_eq!(reason_of(parse_rest_book_tickers(bad.as_bytes())), reason, "{to}");
        }
        assert_eq!(reason_of(parse_rest_book_tickers(b"7")), "schema");
    }

    #[test]
    fn premium_index_is_a_mark_price_record() {
        let body = r#"[{"symbol":"BTCUSDT","markPrice":"11793.63104562","indexPrice":"11781.80495970","estimatedSettlePrice":"11781.16138815","lastFundingRate":"-0.00038246","interestRate":"0.00010000","nextFundingTime":1597392000000,"time":1597370495002}]"#;
        let marks = parse_premium_index(body.as_bytes()).unwrap();
        assert_eq!(marks.len(), 1);
        let m = marks[0].mark();
        assert_eq!(marks[0].symbol.as_str(), "BTCUSDT");
        assert_eq!(m.time, 1597370495002);
        assert_eq!(m.mark_price.to_string(), "11793.63104562");
        assert_eq!(m.index_price.to_string(), "11781.80495970");
        assert_eq!(m.funding_rate.to_string(), "-0.00038246");
        assert_eq!(m.next_funding_time, 1597392000000);
        let one = &body[1..body.len() - 1];
        assert_eq!(parse_premium_index(one.as_bytes()).unwrap(), marks);
        assert_prefixes_truncated(body, parse_premium_index);
        let bad = replaced(body, "\"11781.80495970\"", "\"-1\"");
        assert_eq!(reason_of(parse_premium_index(bad.as_bytes())), "invalid_value");
        let bad = replaced(body, "1597370495002", "\"x\"");
        assert_eq!(reason_of(parse_premium_index(bad.as_bytes())), "schema");
    }

    #[test]
    fn price_tickers_are_traded_prices_without_a_book() {
        let all = parse_rest_price_tickers(samples::REST_PRICE_TICKERS.as_bytes()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].symbol.as_str(), "BTCUSDT");
        assert_eq!(
            all[0].tick,
            Tick::traded(Decimal::parse("6000.01").unwrap(), 1589437530011)
        );
        assert!(!all[0].tick.has_book());
        assert_eq!(all[1].tick.last.unwrap().to_string(), "7.6115");
        let one = parse_rest_price_tickers(br#"{"symbol":"BTCUSDT","price":"6000.01","time":1589437530011}"#).unwrap();
        assert_eq!(one, all[..1]);
        assert_prefixes_truncated(samples::REST_PRICE_TICKERS, parse_rest_price_tickers);
        for (from, to, reason) in [
            ("\"6000.01\"", "\"0\"", "invalid_value"),
            ("\"6000.01\"", "\"-1\"", "invalid_value"),
            ("\"6000.01\"", "\"x\"", "invalid_decimal"),
            ("1589437530011", "\"1589437530011\"", "schema"),
        ] {
            let bad = replaced(samples::REST_PRICE_TICKERS, from, to);
            assert_eq!(reason_of(parse_rest_price_tickers(bad.as_bytes())), reason, "{to}");
        }
    }
}
