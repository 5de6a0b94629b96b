//! Websocket market events (`aggTrade`, `kline`, `bookTicker`, `markPriceUpdate`): the hot path,
//! parsed from borrowed bytes without heap allocation.

use super::envelope::{deserialize_event, event_type, locate, Located};
use super::error::{check_len, id, invalid, name, non_negative, positive, FieldText, ParseError};
use super::fast;
use super::MAX_EVENT_BYTES;
use crate::decimal::Decimal;
use crate::interval::Interval;
use crate::market::{AggTrade, Kline, KlineEvent, MarkPrice, SymbolTick, Tick};
use crate::symbol::Symbol;
use serde::Deserialize;
use std::borrow::Cow;

/// Latest time the parsers accept where they do calendar arithmetic (9999-12-31T23:59:59.999Z).
pub(crate) const MAX_TIME_MS: i64 = 253_402_300_799_999;

const AGG_TRADE: &str = "aggTrade";
const KLINE: &str = "kline";
const BOOK_TICKER: &str = "bookTicker";
const MARK_PRICE: &str = "markPriceUpdate";

/// One market-stream event.
// The variants are moved once, right after parsing; boxing the kline would cost an allocation per
// message on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    AggTrade(AggTrade),
    Kline(KlineEvent),
    BookTicker(SymbolTick),
    MarkPrice(MarkPrice),
}

/// Parses any supported market event, raw or in a combined-stream envelope, dispatching on `"e"`.
/// Other event types (`depthUpdate`, `forceOrder`, ...) give [`ParseError::UnsupportedEvent`].
pub fn parse_market_event(bytes: &[u8]) -> Result<MarketEvent, ParseError> {
    market_event::<true>(bytes)
}

/// Parses an `aggTrade` event (raw or enveloped).
pub fn parse_agg_trade(bytes: &[u8]) -> Result<AggTrade, ParseError> {
    agg_trade::<true>(bytes)
}

/// Parses a `kline` event (raw or enveloped).
pub fn parse_kline_event(bytes: &[u8]) -> Result<KlineEvent, ParseError> {
    kline_event::<true>(bytes)
}

/// Parses a `bookTicker` event (raw or enveloped) into a tick timed by its transaction time `T`.
pub fn parse_book_ticker(bytes: &[u8]) -> Result<SymbolTick, ParseError> {
    book_ticker::<true>(bytes)
}

/// Parses a `markPriceUpdate` event (raw or enveloped).
pub fn parse_mark_price(bytes: &[u8]) -> Result<MarkPrice, ParseError> {
    check_len(bytes, MAX_EVENT_BYTES)?;
    let located = locate(bytes);
    precheck(MARK_PRICE, located)?;
    mark_price_at(bytes, located)
}

// The public parsers are these with `FAST = true`: the hand-written scan (`fast.rs`) first, and
// serde when it declines. With `FAST = false` only serde runs: the reference the scan's tests
// compare against.

pub(super) fn market_event<const FAST: bool>(bytes: &[u8]) -> Result<MarketEvent, ParseError> {
    check_len(bytes, MAX_EVENT_BYTES)?;
    if FAST {
        if let Some(event) = fast::market_event(bytes) {
            return Ok(event);
        }
    }
    let located = locate(bytes);
    let event = event_type("market event", bytes, located)?;
    match event.as_ref() {
        AGG_TRADE => agg_trade_at(bytes, located).map(MarketEvent::AggTrade),
        KLINE => kline_at(bytes, located).map(MarketEvent::Kline),
        BOOK_TICKER => book_ticker_at(bytes, located).map(MarketEvent::BookTicker),
        MARK_PRICE => mark_price_at(bytes, located).map(MarketEvent::MarkPrice),
        other => Err(ParseError::UnsupportedEvent {
            event: super::error::excerpt(other),
        }),
    }
}

pub(super) fn agg_trade<const FAST: bool>(bytes: &[u8]) -> Result<AggTrade, ParseError> {
    check_len(bytes, MAX_EVENT_BYTES)?;
    if FAST {
        if let Some(trade) = fast::agg_trade(bytes) {
            return Ok(trade);
        }
    }
    let located = locate(bytes);
    precheck(AGG_TRADE, located)?;
    agg_trade_at(bytes, located)
}

pub(super) fn kline_event<const FAST: bool>(bytes: &[u8]) -> Result<KlineEvent, ParseError> {
    check_len(bytes, MAX_EVENT_BYTES)?;
    if FAST {
        if let Some(event) = fast::kline_event(bytes) {
            return Ok(event);
        }
    }
    let located = locate(bytes);
    precheck(KLINE, located)?;
    kline_at(bytes, located)
}

pub(super) fn book_ticker<const FAST: bool>(bytes: &[u8]) -> Result<SymbolTick, ParseError> {
    check_len(bytes, MAX_EVENT_BYTES)?;
    if FAST {
        if let Some(tick) = fast::book_ticker(bytes) {
            return Ok(tick);
        }
    }
    let located = locate(bytes);
    precheck(BOOK_TICKER, located)?;
    book_ticker_at(bytes, located)
}

/// Rejects early, before a full parse, a message whose scanned `"e"` is another event type.
fn precheck(kind: &'static str, located: Located<'_>) -> Result<(), ParseError> {
    match located.event_type {
        Some(found) => expect_event(kind, found),
        None => Ok(()),
    }
}

/// Rejects an event whose `"e"` is not the one the caller asked for.
fn expect_event(kind: &'static str, found: &str) -> Result<(), ParseError> {
    if found == kind {
        Ok(())
    } else {
        Err(invalid(kind, "e", found, "is not the expected event type"))
    }
}

/// An `aggTrade` event's fields as sent; filled by serde or by the fast scan (`fast.rs`).
#[derive(Deserialize)]
pub(super) struct RawAggTrade<'a> {
    #[serde(borrow)]
    pub e: Cow<'a, str>,
    #[serde(rename = "E")]
    pub event_time: i64,
    pub s: &'a str,
    pub a: i64,
    pub p: &'a str,
    pub q: &'a str,
    pub f: i64,
    pub l: i64,
    #[serde(rename = "T")]
    pub trade_time: i64,
    pub m: bool,
}

fn agg_trade_at(bytes: &[u8], located: Located<'_>) -> Result<AggTrade, ParseError> {
    let raw: RawAggTrade<'_> = deserialize_event(AGG_TRADE, bytes, located.enveloped)?;
    check_agg_trade(&raw)
}

/// Checks and converts a raw `aggTrade` event: the one set of rules for both scans.
pub(super) fn check_agg_trade(raw: &RawAggTrade<'_>) -> Result<AggTrade, ParseError> {
    expect_event(AGG_TRADE, &raw.e)?;
    let symbol = name(AGG_TRADE, "s", raw.s)?;
    build_agg_trade(
        AGG_TRADE,
        symbol,
        AggTradeFields {
            id: raw.a,
            price: raw.p,
            quantity: raw.q,
            first_trade_id: raw.f,
            last_trade_id: raw.l,
            trade_time: raw.trade_time,
            event_time: raw.event_time,
            buyer_is_maker: raw.m,
        },
    )
}

/// The raw fields of an aggregate trade, shared by the websocket event and the REST rows.
pub(crate) struct AggTradeFields<'a> {
    pub id: i64,
    pub price: &'a str,
    pub quantity: &'a str,
    pub first_trade_id: i64,
    pub last_trade_id: i64,
    pub trade_time: i64,
    pub event_time: i64,
    pub buyer_is_maker: bool,
}

/// Checks and converts an aggregate trade: positive price and quantity, non-negative ids, `l >= f`.
pub(crate) fn build_agg_trade(
    kind: &'static str,
    symbol: Symbol,
    raw: AggTradeFields<'_>,
) -> Result<AggTrade, ParseError> {
    let first_trade_id = id(kind, "f", raw.first_trade_id)?;
    let last_trade_id = id(kind, "l", raw.last_trade_id)?;
    if last_trade_id < first_trade_id {
        return Err(ParseError::InvalidValue {
            kind,
            field: "l",
            value: raw.last_trade_id.to_string(),
            reason: "last trade id is below the first trade id",
        });
    }
    Ok(AggTrade {
        symbol,
        id: id(kind, "a", raw.id)?,
        price: positive(kind, "p", raw.price)?,
        quantity: positive(kind, "q", raw.quantity)?,
        first_trade_id,
        last_trade_id,
        trade_time: raw.trade_time,
        event_time: raw.event_time,
        buyer_is_maker: raw.buyer_is_maker,
    })
}

/// A `kline` event's fields as sent; filled by serde or by the fast scan (`fast.rs`).
#[derive(Deserialize)]
pub(super) struct RawKlineEvent<'a> {
    #[serde(borrow)]
    pub e: Cow<'a, str>,
    #[serde(rename = "E")]
    pub event_time: i64,
    pub s: &'a str,
    #[serde(borrow)]
    pub k: RawKline<'a>,
}

/// The `k` object of a `kline` event.
#[derive(Deserialize)]
pub(super) struct RawKline<'a> {
    #[serde(rename = "t")]
    pub open_time: i64,
    #[serde(rename = "T")]
    pub close_time: i64,
    pub s: &'a str,
    pub i: &'a str,
    #[serde(rename = "f")]
    pub first_trade_id: i64,
    #[serde(rename = "L")]
    pub last_trade_id: i64,
    pub o: &'a str,
    pub c: &'a str,
    pub h: &'a str,
    pub l: &'a str,
    pub v: &'a str,
    pub n: u64,
    pub x: bool,
    pub q: &'a str,
    #[serde(rename = "V")]
    pub taker_buy_volume: &'a str,
    #[serde(rename = "Q")]
    pub taker_buy_quote_volume: &'a str,
}

fn kline_at(bytes: &[u8], located: Located<'_>) -> Result<KlineEvent, ParseError> {
    let raw: RawKlineEvent<'_> = deserialize_event(KLINE, bytes, located.enveloped)?;
    check_kline_event(&raw)
}

/// Checks and converts a raw `kline` event: the one set of rules for both scans.
pub(super) fn check_kline_event(raw: &RawKlineEvent<'_>) -> Result<KlineEvent, ParseError> {
    expect_event(KLINE, &raw.e)?;
    let symbol = name(KLINE, "s", raw.s)?;
    let k = &raw.k;
    if k.s != raw.s {
        return Err(invalid(KLINE, "k.s", k.s, "differs from the event symbol"));
    }
    let interval: Interval =
        k.i.parse()
            .map_err(|_| invalid(KLINE, "k.i", k.i, "unknown kline interval"))?;
    if !(0..=MAX_TIME_MS).contains(&k.open_time) {
        return Err(ParseError::InvalidValue {
            kind: KLINE,
            field: "k.t",
            value: k.open_time.to_string(),
            reason: "open time out of range",
        });
    }
    if interval.open_time(k.open_time) != k.open_time || interval.close_time(k.open_time) != k.close_time {
        return Err(ParseError::InvalidValue {
            kind: KLINE,
            field: "k.T",
            value: k.close_time.to_string(),
            reason: "open/close time do not bound one bar of the interval",
        });
    }
    let (first_trade_id, last_trade_id) = kline_trade_ids(KLINE, k.first_trade_id, k.last_trade_id)?;
    let kline = build_kline(
        KLINE,
        KlineFields {
            open_time: k.open_time,
            close_time: k.close_time,
            open: k.o,
            high: k.h,
            low: k.l,
            close: k.c,
            volume: k.v,
            quote_volume: k.q,
            trades: k.n,
            taker_buy_volume: k.taker_buy_volume,
            taker_buy_quote_volume: k.taker_buy_quote_volume,
        },
        KlineMeta {
            first_trade_id,
            last_trade_id,
            closed: k.x,
            as_of: raw.event_time,
        },
    )?;
    Ok(KlineEvent {
        symbol,
        interval,
        event_time: raw.event_time,
        kline,
    })
}

/// `f`/`L` of a kline: both -1 means the bar has no trades yet.
fn kline_trade_ids(kind: &'static str, first: i64, last: i64) -> Result<(Option<u64>, Option<u64>), ParseError> {
    if first == -1 && last == -1 {
        return Ok((None, None));
    }
    let f = id(kind, "k.f", first)?;
    let l = id(kind, "k.L", last)?;
    if l < f {
        return Err(ParseError::InvalidValue {
            kind,
            field: "k.L",
            value: last.to_string(),
            reason: "last trade id is below the first trade id",
        });
    }
    Ok((Some(f), Some(l)))
}

/// The price and volume fields of a kline as text (`&str`, or bytes from the REST byte scan),
/// shared by the websocket event and REST rows.
pub(crate) struct KlineFields<T> {
    pub open_time: i64,
    pub close_time: i64,
    pub open: T,
    pub high: T,
    pub low: T,
    pub close: T,
    pub volume: T,
    pub quote_volume: T,
    pub trades: u64,
    pub taker_buy_volume: T,
    pub taker_buy_quote_volume: T,
}

/// What the source knows about a kline beyond its numbers.
pub(crate) struct KlineMeta {
    pub first_trade_id: Option<u64>,
    pub last_trade_id: Option<u64>,
    pub closed: bool,
    pub as_of: i64,
}

/// Checks and converts a kline: positive prices with `low <= open, close <= high`, non-negative
/// volumes, close time after open time.
#[inline(always)]
pub(crate) fn build_kline<T: FieldText>(
    kind: &'static str,
    raw: KlineFields<T>,
    meta: KlineMeta,
) -> Result<Kline, ParseError> {
    let open = positive(kind, "open", raw.open)?;
    let high = positive(kind, "high", raw.high)?;
    let low = positive(kind, "low", raw.low)?;
    let close = positive(kind, "close", raw.close)?;
    match kline_relation_defect([open, high, low, close], raw.open_time, raw.close_time) {
        None => {}
        Some(KlineRelation::LowAboveHigh) => return Err(invalid(kind, "low", raw.low, "low is above high")),
        Some(KlineRelation::OpenOutside) => {
            return Err(invalid(kind, "open", raw.open, "open is outside low..high"));
        }
        Some(KlineRelation::CloseOutside) => {
            return Err(invalid(kind, "close", raw.close, "close is outside low..high"));
        }
        Some(KlineRelation::CloseNotAfterOpen) => {
            return Err(ParseError::InvalidValue {
                kind,
                field: "close time",
                value: raw.close_time.to_string(),
                reason: "close time is not after open time",
            });
        }
    }
    Ok(Kline {
        open_time: raw.open_time,
        close_time: raw.close_time,
        open,
        high,
        low,
        close,
        volume: non_negative(kind, "volume", raw.volume)?,
        quote_volume: non_negative(kind, "quote volume", raw.quote_volume)?,
        trades: raw.trades,
        taker_buy_volume: non_negative(kind, "taker buy volume", raw.taker_buy_volume)?,
        taker_buy_quote_volume: non_negative(kind, "taker buy quote volume", raw.taker_buy_quote_volume)?,
        first_trade_id: meta.first_trade_id,
        last_trade_id: meta.last_trade_id,
        closed: meta.closed,
        as_of: meta.as_of,
    })
}

/// A relation between a kline's prices and times that does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KlineRelation {
    LowAboveHigh,
    OpenOutside,
    CloseOutside,
    CloseNotAfterOpen,
}

/// The first relation that fails, in the order [`build_kline`] reports them, between positive
/// `[open, high, low, close]` and the bar's times: `low <= open, close <= high`, close time
/// after open time. Shared with the REST byte scan, which checks the signs itself.
#[inline(always)]
pub(crate) fn kline_relation_defect(
    [open, high, low, close]: [Decimal; 4],
    open_time: i64,
    close_time: i64,
) -> Option<KlineRelation> {
    if low > high {
        return Some(KlineRelation::LowAboveHigh);
    }
    if !in_range(open, low, high) {
        return Some(KlineRelation::OpenOutside);
    }
    if !in_range(close, low, high) {
        return Some(KlineRelation::CloseOutside);
    }
    if close_time <= open_time {
        return Some(KlineRelation::CloseNotAfterOpen);
    }
    None
}

#[inline(always)]
fn in_range(value: Decimal, low: Decimal, high: Decimal) -> bool {
    low <= value && value <= high
}

/// A `bookTicker` event's fields as sent; filled by serde or by the fast scan (`fast.rs`).
#[derive(Deserialize)]
pub(super) struct RawBookTicker<'a> {
    #[serde(borrow)]
    pub e: Cow<'a, str>,
    pub u: u64,
    #[serde(rename = "T")]
    pub transaction_time: i64,
    pub s: &'a str,
    pub b: &'a str,
    #[serde(rename = "B")]
    pub bid_qty: &'a str,
    pub a: &'a str,
    #[serde(rename = "A")]
    pub ask_qty: &'a str,
}

fn book_ticker_at(bytes: &[u8], located: Located<'_>) -> Result<SymbolTick, ParseError> {
    let raw: RawBookTicker<'_> = deserialize_event(BOOK_TICKER, bytes, located.enveloped)?;
    check_book_ticker(&raw)
}

/// Checks and converts a raw `bookTicker` event: the one set of rules for both scans.
pub(super) fn check_book_ticker(raw: &RawBookTicker<'_>) -> Result<SymbolTick, ParseError> {
    expect_event(BOOK_TICKER, &raw.e)?;
    Ok(SymbolTick {
        symbol: name(BOOK_TICKER, "s", raw.s)?,
        tick: build_tick(
            BOOK_TICKER,
            TickFields {
                bid: raw.b,
                bid_qty: raw.bid_qty,
                ask: raw.a,
                ask_qty: raw.ask_qty,
                time: raw.transaction_time,
                update_id: raw.u,
            },
        )?,
    })
}

/// Top-of-book fields as text, shared by the websocket event and the REST rows.
pub(crate) struct TickFields<'a> {
    pub bid: &'a str,
    pub bid_qty: &'a str,
    pub ask: &'a str,
    pub ask_qty: &'a str,
    pub time: i64,
    pub update_id: u64,
}

/// Checks and converts a book tick. Prices and quantities must not be negative; zero is allowed
/// because an empty book side (a settling or new contract in an all-symbols poll) shows as 0.
pub(crate) fn build_tick(kind: &'static str, raw: TickFields<'_>) -> Result<Tick, ParseError> {
    Ok(Tick {
        bid: non_negative(kind, "bid price", raw.bid)?,
        bid_qty: non_negative(kind, "bid quantity", raw.bid_qty)?,
        ask: non_negative(kind, "ask price", raw.ask)?,
        ask_qty: non_negative(kind, "ask quantity", raw.ask_qty)?,
        last: None,
        time: raw.time,
        update_id: Some(raw.update_id),
    })
}

#[derive(Deserialize)]
struct RawMarkPrice<'a> {
    #[serde(borrow)]
    e: Cow<'a, str>,
    #[serde(rename = "E")]
    event_time: i64,
    s: &'a str,
    p: &'a str,
    i: &'a str,
    #[serde(rename = "P")]
    estimated_settle_price: &'a str,
    r: &'a str,
    #[serde(rename = "T")]
    next_funding_time: i64,
}

fn mark_price_at(bytes: &[u8], located: Located<'_>) -> Result<MarkPrice, ParseError> {
    let raw: RawMarkPrice<'_> = deserialize_event(MARK_PRICE, bytes, located.enveloped)?;
    build_mark_price(MARK_PRICE, raw)
}

/// Checks and converts one `markPriceUpdate` (alone or an element of the `@arr` stream).
fn build_mark_price(kind: &'static str, raw: RawMarkPrice<'_>) -> Result<MarkPrice, ParseError> {
    expect_event(kind, &raw.e)?;
    Ok(MarkPrice {
        symbol: name(kind, "s", raw.s)?,
        event_time: raw.event_time,
        mark_price: non_negative(kind, "p", raw.p)?,
        index_price: non_negative(kind, "i", raw.i)?,
        estimated_settle_price: non_negative(kind, "P", raw.estimated_settle_price)?,
        // Funding rates are signed.
        funding_rate: super::error::decimal(kind, "r", raw.r)?,
        next_funding_time: raw.next_funding_time,
    })
}

#[derive(Deserialize)]
struct RawMarkPriceArrayEnvelope<'a> {
    #[serde(borrow)]
    data: Vec<RawMarkPrice<'a>>,
}

/// Longest `!markPrice@arr@1s` message accepted: every USD-M symbol's update (~250 bytes each).
pub const MAX_MARK_ARRAY_BYTES: usize = 4 << 20;

/// Parses a `!markPrice@arr@1s` message: an array of `markPriceUpdate` events, plain or inside a
/// combined-stream envelope (`{"stream":"!markPrice@arr@1s","data":[...]}`). One bad element
/// refuses the message (the next arrives within a second).
pub fn parse_mark_price_array(bytes: &[u8]) -> Result<Vec<MarkPrice>, ParseError> {
    check_len(bytes, MAX_MARK_ARRAY_BYTES)?;
    let is_array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let rows: Vec<RawMarkPrice<'_>> = if is_array {
        serde_json::from_slice(bytes)
    } else {
        serde_json::from_slice::<RawMarkPriceArrayEnvelope<'_>>(bytes).map(|e| e.data)
    }
    .map_err(|e| super::error::from_serde(MARK_PRICE, bytes, e))?;
    rows.into_iter().map(|raw| build_mark_price(MARK_PRICE, raw)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples::{self, assert_prefixes_truncated, reason_of, replaced};

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn mark_price_array_plain_and_enveloped() {
        let one = samples::MARK_PRICE;
        let other = replaced(one, "\"BTCUSDT\"", "\"ETHUSDT\"");
        let plain = format!("[{one},{other}]");
        let marks = parse_mark_price_array(plain.as_bytes()).unwrap();
        assert_eq!(marks.len(), 2);
        assert_eq!(marks[0], parse_mark_price(one.as_bytes()).unwrap());
        assert_eq!(marks[1].symbol.as_str(), "ETHUSDT");
        assert_eq!(marks[0].mark().funding_rate, d("-0.00038167"));
        let enveloped = format!("{{\"stream\":\"!markPrice@arr@1s\",\"data\":{plain}}}");
        assert_eq!(parse_mark_price_array(enveloped.as_bytes()).unwrap(), marks);
        assert!(parse_mark_price_array(b"[]").unwrap().is_empty());
        assert_prefixes_truncated(&plain, parse_mark_price_array);
        // One bad element refuses the message.
        let bad = format!("[{one},{}]", replaced(one, "\"p\":\"11794.15000000\"", "\"p\":\"-1\""));
        assert_eq!(reason_of(parse_mark_price_array(bad.as_bytes())), "invalid_value");
        let wrong = format!("[{}]", replaced(one, "markPriceUpdate", "kline"));
        assert!(parse_mark_price_array(wrong.as_bytes()).is_err());
    }

    #[test]
    fn agg_trade_from_capture_envelope() {
        let t = parse_agg_trade(samples::AGG_TRADE.as_bytes()).unwrap();
        assert_eq!(t.symbol.as_str(), "CTKUSDT");
        assert_eq!(t.id, 16599292);
        assert_eq!(t.price.to_string(), "1.01100");
        assert_eq!(t.quantity.to_string(), "10");
        assert_eq!((t.first_trade_id, t.last_trade_id), (23961322, 23961322));
        assert_eq!(t.trade_time, 1626992741421);
        assert_eq!(t.event_time, 1626992741575);
        assert!(!t.buyer_is_maker);
        assert_eq!(
            parse_market_event(samples::AGG_TRADE.as_bytes()),
            Ok(MarketEvent::AggTrade(t))
        );
    }

    #[test]
    fn agg_trade_raw_with_normal_quantity() {
        let t = parse_agg_trade(samples::AGG_TRADE_RAW.as_bytes()).unwrap();
        assert_eq!(t.symbol.as_str(), "BTCUSDT");
        assert_eq!(t.price.to_string(), "0.001");
        assert_eq!(t.quantity.to_string(), "100");
        assert_eq!(t.trade_count(), 6);
        assert!(t.buyer_is_maker);
        assert_eq!(t.event_time, 123456789);
        assert_eq!(t.trade_time, 123456785);
    }

    #[test]
    fn every_prefix_is_truncated() {
        for payload in [
            samples::AGG_TRADE,
            samples::AGG_TRADE_RAW,
            samples::KLINE,
            samples::KLINE_NO_TRADES,
            samples::BOOK_TICKER,
            samples::MARK_PRICE,
        ] {
            assert_prefixes_truncated(payload, parse_market_event);
        }
        assert_prefixes_truncated(samples::AGG_TRADE, parse_agg_trade);
        assert_prefixes_truncated(samples::KLINE, parse_kline_event);
        assert_prefixes_truncated(samples::BOOK_TICKER, parse_book_ticker);
        assert_prefixes_truncated(samples::MARK_PRICE, parse_mark_price);
    }

    #[test]
    fn malformed_and_oversize() {
        assert_eq!(reason_of(parse_market_event(br#"{"e":"aggTrade",,}"#)), "malformed");
        let trailing = format!("{} x", samples::AGG_TRADE);
        assert_eq!(reason_of(parse_agg_trade(trailing.as_bytes())), "malformed");
        assert_eq!(reason_of(parse_market_event(b"\xff\xfe")), "malformed");
        let mut big = vec![b' '; MAX_EVENT_BYTES + 1 - samples::AGG_TRADE.len()];
        big.extend_from_slice(samples::AGG_TRADE.as_bytes());
        assert_eq!(
            parse_market_event(&big),
            Err(ParseError::Oversize {
                len: MAX_EVENT_BYTES + 1,
                max: MAX_EVENT_BYTES
            })
        );
        // Leading whitespace alone is fine under the limit.
        assert!(parse_market_event(&big[1..]).is_ok());
    }

    #[test]
    fn wrong_types_are_schema_errors_naming_the_field() {
        let cases = [
            ("\"E\":1626992741575", "\"E\":\"1626992741575\"", "E"),
            ("\"p\":\"1.01100\"", "\"p\":1.011", "p"),
            ("\"m\":false", "\"m\":\"false\"", "m"),
            ("\"a\":16599292", "\"a\":16599292.5", "a"),
            ("\"f\":23961322", "\"f\":{}", "f"),
        ];
        for (from, to, field) in cases {
            let bad = replaced(samples::AGG_TRADE, from, to);
            match parse_market_event(bad.as_bytes()) {
                Err(ParseError::Schema { kind, detail }) => {
                    assert_eq!(kind, "aggTrade");
                    assert!(detail.contains(&format!("`{field}`")), "{detail}");
                }
                other => panic!("{to}: {other:?}"),
            }
        }
        let missing_comma = replaced(samples::AGG_TRADE, "\",\"data\":{", "\" \"data\":{");
        assert_eq!(reason_of(parse_agg_trade(missing_comma.as_bytes())), "malformed");
        let array_data = replaced(samples::AGG_TRADE, "\"data\":{", "\"data\":[{").replacen("}}", "}]}", 1);
        assert_eq!(reason_of(parse_agg_trade(array_data.as_bytes())), "schema");
        let data_array = r#"{"stream":"x","data":[1,2]}"#;
        assert_eq!(reason_of(parse_market_event(data_array.as_bytes())), "schema");
    }

    #[test]
    fn missing_fields_are_named() {
        for field in ["\"q\":\"10\",", "\"s\":\"CTKUSDT\",", "\"T\":1626992741421,"] {
            let bad = replaced(samples::AGG_TRADE, field, "");
            match parse_agg_trade(bad.as_bytes()) {
                Err(ParseError::Schema { detail, .. }) => {
                    let name = field.split('"').nth(1).unwrap();
                    assert!(detail.contains(&format!("missing field `{name}`")), "{detail}");
                }
                other => panic!("{field}: {other:?}"),
            }
        }
        let no_type = replaced(samples::AGG_TRADE, "\"e\":\"aggTrade\",", "");
        assert_eq!(reason_of(parse_market_event(no_type.as_bytes())), "schema");
        let no_data = r#"{"stream":"ctkusdt@aggTrade"}"#;
        assert_eq!(reason_of(parse_market_event(no_data.as_bytes())), "schema");
    }

    #[test]
    fn bad_decimals_name_field_and_value() {
        for bad in ["1e5", "", "abc", "1.", "+1", "0x10", "1,5"] {
            let payload = replaced(samples::AGG_TRADE, "\"p\":\"1.01100\"", &format!("\"p\":\"{bad}\""));
            match parse_agg_trade(payload.as_bytes()) {
                Err(ParseError::InvalidDecimal { kind, field, value, .. }) => {
                    assert_eq!((kind, field, value.as_str()), ("aggTrade", "p", bad));
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for (from, to) in [("\"p\":\"1.01100\"", "\"p\":\"0\""), ("\"q\":\"10\"", "\"q\":\"-10\"")] {
            let payload = replaced(samples::AGG_TRADE, from, to);
            assert_eq!(reason_of(parse_agg_trade(payload.as_bytes())), "invalid_value");
        }
    }

    #[test]
    fn trade_id_rules() {
        let negative = replaced(samples::AGG_TRADE, "\"f\":23961322", "\"f\":-1");
        assert!(matches!(
            parse_agg_trade(negative.as_bytes()),
            Err(ParseError::InvalidValue { field: "f", .. })
        ));
        let backwards = replaced(samples::AGG_TRADE, "\"l\":23961322", "\"l\":23961321");
        assert!(matches!(
            parse_agg_trade(backwards.as_bytes()),
            Err(ParseError::InvalidValue { field: "l", .. })
        ));
        let negative_agg = replaced(samples::AGG_TRADE, "\"a\":16599292", "\"a\":-5");
        assert_eq!(reason_of(parse_agg_trade(negative_agg.as_bytes())), "invalid_value");
    }

    #[test]
    fn names_are_validated() {
        for bad in ["", "CTK USDT", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"] {
            let payload = replaced(samples::AGG_TRADE, "\"s\":\"CTKUSDT\"", &format!("\"s\":\"{bad}\""));
            assert_eq!(reason_of(parse_agg_trade(payload.as_bytes())), "invalid_name", "{bad}");
        }
    }

    #[test]
    fn event_type_dispatch() {
        assert_eq!(
            parse_market_event(samples::DEPTH_UPDATE.as_bytes()),
            Err(ParseError::UnsupportedEvent {
                event: "depthUpdate".to_owned()
            })
        );
        assert!(matches!(
            parse_agg_trade(samples::KLINE.as_bytes()),
            Err(ParseError::InvalidValue { field: "e", .. })
        ));
        assert!(matches!(
            parse_book_ticker(samples::MARK_PRICE.as_bytes()),
            Err(ParseError::InvalidValue { field: "e", .. })
        ));
        // An escaped type is read by the serde fallback, and the event still parses.
        let escaped = replaced(samples::AGG_TRADE, "\"e\":\"aggTrade\"", "\"e\":\"agg\\u0054rade\"");
        assert_eq!(
            parse_market_event(escaped.as_bytes()),
            parse_market_event(samples::AGG_TRADE.as_bytes())
        );
        assert_eq!(
            parse_agg_trade(escaped.as_bytes()),
            parse_agg_trade(samples::AGG_TRADE.as_bytes())
        );
        let spaced = replaced(samples::AGG_TRADE_RAW, "\"e\":\"aggTrade\"", "\"e\" : \"aggTrade\"");
        assert!(matches!(
            parse_market_event(spaced.as_bytes()),
            Ok(MarketEvent::AggTrade(_))
        ));
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(samples::KLINE).unwrap()).unwrap();
        assert_eq!(
            parse_market_event(pretty.as_bytes()),
            parse_market_event(samples::KLINE.as_bytes())
        );
    }

    #[test]
    fn kline_from_capture() {
        let e = parse_kline_event(samples::KLINE.as_bytes()).unwrap();
        assert_eq!(e.symbol.as_str(), "CTKUSDT");
        assert_eq!(e.interval, Interval::M1);
        assert_eq!(e.event_time, 1626992741424);
        let k = e.kline;
        assert_eq!((k.open_time, k.close_time), (1626992700000, 1626992759999));
        assert_eq!(k.open.to_string(), "1.01000");
        assert_eq!(k.high.to_string(), "1.01100");
        assert_eq!(k.low.to_string(), "1.01000");
        assert_eq!(k.close.to_string(), "1.01100");
        assert_eq!(k.volume.to_string(), "3917");
        assert_eq!(k.quote_volume.to_string(), "3957.89900");
        assert_eq!(k.taker_buy_volume.to_string(), "1729");
        assert_eq!(k.taker_buy_quote_volume.to_string(), "1748.01900");
        assert_eq!(k.trades, 48);
        assert_eq!((k.first_trade_id, k.last_trade_id), (Some(23961275), Some(23961322)));
        assert!(!k.closed);
        assert_eq!(k.as_of, 1626992741424);
    }

    #[test]
    fn kline_without_trades() {
        let e = parse_kline_event(samples::KLINE_NO_TRADES.as_bytes()).unwrap();
        assert_eq!(e.interval, Interval::H1);
        assert_eq!((e.kline.first_trade_id, e.kline.last_trade_id), (None, None));
        assert!(e.kline.closed);
        assert_eq!(e.kline.volume, Decimal::ZERO);
        assert_eq!(e.kline.open, d("32100.5"));
    }

    #[test]
    fn kline_semantic_checks() {
        let k = samples::KLINE;
        let cases = [
            ("\"i\":\"1m\"", "\"i\":\"2m\"", "k.i"),
            ("\"T\":1626992759999", "\"T\":1626992760000", "k.T"),
            ("\"t\":1626992700000", "\"t\":1626992700001", "k.T"),
            ("\"t\":1626992700000", "\"t\":9223372036854775807", "k.t"),
            ("\"t\":1626992700000", "\"t\":-60000", "k.t"),
            ("\"f\":23961275", "\"f\":-1", "k.f"),
            ("\"L\":23961322", "\"L\":-1", "k.L"),
            ("\"L\":23961322", "\"L\":23961274", "k.L"),
            ("\"s\":\"CTKUSDT\",\"i\"", "\"s\":\"AKROUSDT\",\"i\"", "k.s"),
            ("\"h\":\"1.01100\"", "\"h\":\"1.00900\"", "low"),
            ("\"o\":\"1.01000\"", "\"o\":\"1.02000\"", "open"),
            ("\"c\":\"1.01100\"", "\"c\":\"0.90000\"", "close"),
            ("\"l\":\"1.01000\"", "\"l\":\"0\"", "low"),
            ("\"v\":\"3917\"", "\"v\":\"-1\"", "volume"),
        ];
        for (from, to, field) in cases {
            let bad = replaced(k, from, to);
            match parse_kline_event(bad.as_bytes()) {
                Err(ParseError::InvalidValue { field: f, .. }) => assert_eq!(f, field, "{to}"),
                other => panic!("{to}: {other:?}"),
            }
        }
        let bad_decimal = replaced(k, "\"Q\":\"1748.01900\"", "\"Q\":\"1748.019.00\"");
        assert!(matches!(
            parse_kline_event(bad_decimal.as_bytes()),
            Err(ParseError::InvalidDecimal {
                field: "taker buy quote volume",
                ..
            })
        ));
        let count_as_text = replaced(k, "\"n\":48", "\"n\":\"48\"");
        assert_eq!(reason_of(parse_kline_event(count_as_text.as_bytes())), "schema");
    }

    #[test]
    fn book_ticker_from_capture() {
        let t = parse_book_ticker(samples::BOOK_TICKER.as_bytes()).unwrap();
        assert_eq!(t.symbol.as_str(), "SUSHIUSDT");
        assert_eq!(t.tick.bid.to_string(), "7.6110");
        assert_eq!(t.tick.bid_qty.to_string(), "2");
        assert_eq!(t.tick.ask.to_string(), "7.6120");
        assert_eq!(t.tick.ask_qty.to_string(), "297");
        assert_eq!(t.tick.time, 1626992741012);
        assert_eq!(t.tick.update_id, Some(600859600576));
        assert_eq!(t.tick.last, None);
        assert_eq!(t.tick.midpoint(), Some(d("7.6115")));
        let negative = replaced(samples::BOOK_TICKER, "\"b\":\"7.6110\"", "\"b\":\"-7.6110\"");
        assert_eq!(reason_of(parse_book_ticker(negative.as_bytes())), "invalid_value");
        let untimed = replaced(samples::BOOK_TICKER, ",\"T\":1626992741012", "");
        assert_eq!(reason_of(parse_book_ticker(untimed.as_bytes())), "schema");
    }

    #[test]
    fn mark_price_fields() {
        let m = parse_mark_price(samples::MARK_PRICE.as_bytes()).unwrap();
        assert_eq!(m.symbol.as_str(), "BTCUSDT");
        assert_eq!(m.event_time, 1562305380000);
        assert_eq!(m.mark_price.to_string(), "11794.15000000");
        assert_eq!(m.index_price.to_string(), "11784.62659091");
        assert_eq!(m.estimated_settle_price.to_string(), "11784.25641265");
        assert_eq!(m.funding_rate.to_string(), "-0.00038167");
        assert_eq!(m.next_funding_time, 1562306400000);
        assert_eq!(
            parse_market_event(samples::MARK_PRICE.as_bytes()),
            Ok(MarketEvent::MarkPrice(m))
        );
    }
}
