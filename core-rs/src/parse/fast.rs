//! The hot websocket events (`aggTrade`, `kline`, `bookTicker`) and the REST klines array read by
//! a hand-written scan that either yields the records serde would give or declines, so serde
//! stays the reference.
//!
//! The scan walks the event object (inside a combined-stream envelope when there is one), reads
//! the fields it needs as integers, booleans and escape-free strings, and checks and skips every
//! other value, whatever its type, so fields Binance adds later are tolerated in any order and
//! with any whitespace. It returns `None` ("not sure") on anything unusual: a needed string with
//! an escape, a needed field missing, repeated or of another type, a float where an integer is
//! expected, nesting deeper than [`MAX_SKIP_DEPTH`], bytes after the message, a payload that is
//! not UTF-8, an envelope with an object or array before `data`, and every record the shared
//! checks of `market.rs` reject. The caller then runs the serde path, which gives the typed
//! error (or, for the unusual but valid layouts, the record), so errors never depend on this
//! module. Where it returns `Some`, the record is the one serde gives: the raw fields go through
//! the same `check_*` / `build_*` functions as serde's.
//!
//! The REST klines rows (`[openTime, "o", ..., "Q", "ignore"]`) are read positionally with the
//! same primitives: integers as serde reads `i64` / `u64`, escape-free strings, and any later
//! elements skipped; a row the shared `build_kline` rejects, or any other surprise, declines the
//! whole body.

use super::error::FieldText;
use super::market::{
    build_kline, check_agg_trade, check_book_ticker, check_kline_event, kline_relation_defect, KlineFields, KlineMeta,
    MarketEvent, RawAggTrade, RawBookTicker, RawKline, RawKlineEvent,
};
use super::rest::REST_KLINES;
use super::rest_memory::PolledBody;
use crate::decimal::{Decimal, DecimalError};
use crate::market::{AggTrade, Kline, KlineEvent, SymbolTick};
use crate::swar::{first_lane, lane_byte, leading_digits, non_digits, string_stops, word_at, POW10};
use crate::symbol::Symbol;
use std::borrow::Cow;

/// Deepest nesting of arrays and objects inside one skipped value; deeper values decline.
const MAX_SKIP_DEPTH: u32 = 64;

/// Any supported event the scan can read, dispatched on its `"e"`.
pub(super) fn market_event(bytes: &[u8]) -> Option<MarketEvent> {
    let text = std::str::from_utf8(bytes).ok()?;
    match event_type(text)? {
        "aggTrade" => agg_trade_in(text).map(MarketEvent::AggTrade),
        "kline" => kline_event_in(text).map(MarketEvent::Kline),
        "bookTicker" => book_ticker_in(text).map(MarketEvent::BookTicker),
        _ => None,
    }
}

/// An `aggTrade` event, or `None` when the serde path must decide.
pub(super) fn agg_trade(bytes: &[u8]) -> Option<AggTrade> {
    if let Some(trade) = compact_agg_trade(bytes) {
        return Some(trade);
    }
    agg_trade_in(std::str::from_utf8(bytes).ok()?)
}

/// An `aggTrade` event in Binance's own layout, read straight through without a key lookup, a
/// UTF-8 pass over the whole message or a second parse of its decimals:
/// `{"e":"aggTrade","E":…,"a":…,"s":"…","p":"…","q":"…","f":…,"l":…,"T":…,"m":…}`, bare or as
/// the `data` of `{"stream":"…","data":…}`, no whitespace inside, decimals of the common
/// unsigned shape. `None` for anything else (another order, an added field, a negative id or a
/// zero price, …), which [`agg_trade_in`] then reads. Every byte is checked: the keys and the
/// envelope are literals, numbers are digits, and the two texts taken (the stream name, ignored,
/// and the symbol) must be ASCII and valid names, so the record is the one serde gives.
#[inline(never)]
fn compact_agg_trade(bytes: &[u8]) -> Option<AggTrade> {
    let mut scanner = Scanner::over_bytes(bytes)?;
    let enveloped = bytes.starts_with(b"{\"stream\":");
    if enveloped {
        scanner.stream_prefix()?;
        // The stream name ends 10 bytes in (`{"stream":"`) and 9 before the cursor (`","data":`).
        if !bytes.get(11..scanner.pos - 9)?.is_ascii() {
            return None;
        }
    }
    scanner.literal(b"{\"e\":\"aggTrade\",\"E\":")?;
    let event_time = scanner.int()?;
    scanner.literal(b",\"a\":")?;
    let id = u64::try_from(scanner.int()?).ok()?;
    scanner.literal(b",\"s\":")?;
    let symbol = scanner.string()?;
    let symbol = Symbol::from_plain_ascii(bytes.get((symbol >> 32) as usize..(symbol as u32) as usize)?)?;
    scanner.literal(b",\"p\":")?;
    let price = positive_value(scanner.compact_last_decimal()?)?;
    scanner.literal(b",\"q\":")?;
    let quantity = positive_value(scanner.compact_last_decimal()?)?;
    scanner.literal(b",\"f\":")?;
    let first_trade_id = u64::try_from(scanner.int()?).ok()?;
    scanner.literal(b",\"l\":")?;
    let last_trade_id = u64::try_from(scanner.int()?).ok()?;
    scanner.literal(b",\"T\":")?;
    let trade_time = scanner.int()?;
    scanner.literal(b",\"m\":")?;
    let buyer_is_maker = scanner.boolean()?;
    scanner.expect(b'}')?;
    if enveloped {
        scanner.expect(b'}')?;
    }
    scanner.at_end()?;
    if last_trade_id < first_trade_id {
        return None;
    }
    Some(AggTrade {
        symbol,
        id,
        price,
        quantity,
        first_trade_id,
        last_trade_id,
        trade_time,
        event_time,
        buyer_is_maker,
    })
}

/// A `kline` event, or `None` when the serde path must decide.
pub(super) fn kline_event(bytes: &[u8]) -> Option<KlineEvent> {
    kline_event_in(std::str::from_utf8(bytes).ok()?)
}

/// A `bookTicker` event, or `None` when the serde path must decide.
pub(super) fn book_ticker(bytes: &[u8]) -> Option<SymbolTick> {
    book_ticker_in(std::str::from_utf8(bytes).ok()?)
}

// Serde accepts invalid UTF-8 inside ignored strings; declining such payloads (by taking `&str`
// from here on) is merely stricter, and makes every slice of the text a `&str` without a second
// check.

const AGG_TRADE_FIELDS: Layout<10> = Layout::new([
    (b'e', Kind::Str),
    (b'E', Kind::Int),
    (b's', Kind::Str),
    (b'a', Kind::Int),
    (b'p', Kind::Str),
    (b'q', Kind::Str),
    (b'f', Kind::Int),
    (b'l', Kind::Int),
    (b'T', Kind::Int),
    (b'm', Kind::Bool),
]);

fn agg_trade_in(text: &str) -> Option<AggTrade> {
    let mut values = [0; 10];
    read_event(text, |scanner| {
        scanner.object(&AGG_TRADE_FIELDS, &mut values, no_object)
    })?;
    let [e, event_time, s, a, p, q, f, l, trade_time, m] = values;
    let raw = RawAggTrade {
        e: Cow::Borrowed(text_at(text, e)?),
        event_time: event_time as i64,
        s: text_at(text, s)?,
        a: a as i64,
        p: text_at(text, p)?,
        q: text_at(text, q)?,
        f: f as i64,
        l: l as i64,
        trade_time: trade_time as i64,
        m: m != 0,
    };
    check_agg_trade(&raw).ok()
}

const KLINE_EVENT_FIELDS: Layout<4> = Layout::new([
    (b'e', Kind::Str),
    (b'E', Kind::Int),
    (b's', Kind::Str),
    (b'k', Kind::Object),
]);

const KLINE_FIELDS: Layout<16> = Layout::new([
    (b't', Kind::Int),
    (b'T', Kind::Int),
    (b's', Kind::Str),
    (b'i', Kind::Str),
    (b'f', Kind::Int),
    (b'L', Kind::Int),
    (b'o', Kind::Str),
    (b'c', Kind::Str),
    (b'h', Kind::Str),
    (b'l', Kind::Str),
    (b'v', Kind::Str),
    (b'n', Kind::UInt),
    (b'x', Kind::Bool),
    (b'q', Kind::Str),
    (b'V', Kind::Str),
    (b'Q', Kind::Str),
]);

fn kline_event_in(text: &str) -> Option<KlineEvent> {
    let mut event = [0; 4];
    let mut kline = [0; 16];
    read_event(text, |scanner| {
        scanner.object(&KLINE_EVENT_FIELDS, &mut event, |scanner| {
            scanner.object(&KLINE_FIELDS, &mut kline, no_object)
        })
    })?;
    let [e, event_time, s, _] = event;
    let [open_time, close_time, ks, i, first, last, o, c, h, l, v, n, x, q, taker_volume, taker_quote_volume] = kline;
    let raw = RawKlineEvent {
        e: Cow::Borrowed(text_at(text, e)?),
        event_time: event_time as i64,
        s: text_at(text, s)?,
        k: RawKline {
            open_time: open_time as i64,
            close_time: close_time as i64,
            s: text_at(text, ks)?,
            i: text_at(text, i)?,
            first_trade_id: first as i64,
            last_trade_id: last as i64,
            o: text_at(text, o)?,
            c: text_at(text, c)?,
            h: text_at(text, h)?,
            l: text_at(text, l)?,
            v: text_at(text, v)?,
            n,
            x: x != 0,
            q: text_at(text, q)?,
            taker_buy_volume: text_at(text, taker_volume)?,
            taker_buy_quote_volume: text_at(text, taker_quote_volume)?,
        },
    };
    check_kline_event(&raw).ok()
}

const BOOK_TICKER_FIELDS: Layout<8> = Layout::new([
    (b'e', Kind::Str),
    (b'u', Kind::UInt),
    (b'T', Kind::Int),
    (b's', Kind::Str),
    (b'b', Kind::Str),
    (b'B', Kind::Str),
    (b'a', Kind::Str),
    (b'A', Kind::Str),
]);

fn book_ticker_in(text: &str) -> Option<SymbolTick> {
    let mut values = [0; 8];
    read_event(text, |scanner| {
        scanner.object(&BOOK_TICKER_FIELDS, &mut values, no_object)
    })?;
    let [e, u, time, s, b, bid_qty, a, ask_qty] = values;
    let raw = RawBookTicker {
        e: Cow::Borrowed(text_at(text, e)?),
        u,
        transaction_time: time as i64,
        s: text_at(text, s)?,
        b: text_at(text, b)?,
        bid_qty: text_at(text, bid_qty)?,
        a: text_at(text, a)?,
        ask_qty: text_at(text, ask_qty)?,
    };
    check_book_ticker(&raw).ok()
}

/// The rows of a `GET /fapi/v1/klines` body appended to `out`, or `None` when the serde path must
/// decide (`out` may then hold some of the rows: the caller truncates it).
///
/// Reads the bytes without a UTF-8 check of the whole body: the only text taken from it are the
/// decimal strings, which parse only when they are ASCII; serde does not check the strings it
/// ignores either (a row's elements after the eleventh).
pub(super) fn rest_klines(bytes: &[u8], server_time_ms: i64, out: &mut Vec<Kline>) -> Option<()> {
    rest_rows(bytes, |scanner| {
        out.push(scanner.rest_kline_row(server_time_ms)?);
        Some(())
    })
}

/// [`rest_klines`] that takes a row's kline from `last` (the series' last body) when the row's
/// text is byte for byte a row of it, setting only `closed` again; every other row, and the bytes
/// between rows, are scanned exactly as [`rest_klines`] scans them, so it accepts, declines and
/// returns the same. Appends each row's `(start, end)` in `bytes` to `spans` and counts the rows
/// taken from `last` in `reused`.
pub(super) fn rest_klines_reusing(
    bytes: &[u8],
    server_time_ms: i64,
    last: &PolledBody,
    out: &mut Vec<Kline>,
    spans: &mut Vec<(u32, u32)>,
    reused: &mut u64,
) -> Option<()> {
    let mut next = 0;
    rest_rows(bytes, |scanner| {
        let start = scanner.pos;
        // A remembered row's text ends at its `]`, so an equal span is that whole row.
        let remembered = scanner
            .row_open_time()
            .and_then(|open_time| last.row_at(bytes, start, open_time, &mut next));
        match remembered {
            Some((kline, length)) => {
                let mut kline = *kline;
                kline.closed = kline.close_time < server_time_ms;
                out.push(kline);
                scanner.pos = start + length;
                *reused += 1;
            }
            None => out.push(scanner.rest_kline_row(server_time_ms)?),
        }
        // `over_bytes` checked that every offset fits `u32`.
        spans.push((start as u32, scanner.pos as u32));
        Some(())
    })
}

/// The array of a klines body: `row` reads each row at the cursor (`None` declines the body),
/// this reads what is around and between them.
#[inline(always)]
fn rest_rows(bytes: &[u8], mut row: impl FnMut(&mut Scanner<'_>) -> Option<()>) -> Option<()> {
    let mut scanner = Scanner::over_bytes(bytes)?;
    scanner.skip_ws();
    scanner.expect(b'[')?;
    scanner.skip_ws();
    if scanner.peek()? == b']' {
        scanner.pos += 1;
        return scanner.at_end();
    }
    loop {
        row(&mut scanner)?;
        if scanner.item_separator()? == b']' {
            break;
        }
    }
    scanner.at_end()
}

/// A decimal string of a REST row: its bytes, and its value (`mantissa × 10^-scale`) when the
/// scan read it, which is what `Decimal::parse_bytes` gives; the shared checks parse the text
/// otherwise (`scale` is then [`NOT_READ`]).
#[derive(Clone, Copy)]
struct ScannedDecimal<'a> {
    text: &'a [u8],
    mantissa: u64,
    scale: u8,
}

/// The `scale` of a [`ScannedDecimal`] the scan did not read.
const NOT_READ: u8 = u8::MAX;

impl FieldText for ScannedDecimal<'_> {
    #[inline(always)]
    fn parse_decimal(self) -> Result<Decimal, DecimalError> {
        if self.scale == NOT_READ {
            return self.text.parse_decimal();
        }
        Decimal::new(i128::from(self.mantissa), self.scale)
    }

    fn excerpt(self) -> String {
        self.text.excerpt()
    }
}

/// The decimal an unsigned read gave (its scale is at most 15).
#[inline(always)]
fn value((mantissa, scale): (u64, u8)) -> Option<Decimal> {
    Decimal::new(i128::from(mantissa), scale).ok()
}

/// [`value`] for a field that must be positive (an unsigned read is never negative).
#[inline(always)]
fn positive_value(read: (u64, u8)) -> Option<Decimal> {
    if read.0 == 0 {
        return None;
    }
    value(read)
}

/// `digits[.digits]"` at `at`, the digits and the point of a JSON string up to its closing quote,
/// as `(mantissa, scale, length)`: the value `Decimal::parse_bytes` gives for the digits and the
/// point. `None` for any other bytes, and for more than 7 digits before the point, more than 15
/// after it or more than 19 in all (the mantissa then always fits a `u64`).
#[inline(always)]
fn unsigned_decimal(bytes: &[u8], at: usize) -> Option<(u64, u8, usize)> {
    let word = word_at(bytes, at);
    let int_len = first_lane(non_digits(word));
    if int_len == 0 || int_len == 8 {
        return None;
    }
    let int = leading_digits(word, int_len);
    match lane_byte(word, int_len) {
        b'"' => return Some((int, 0, int_len)),
        b'.' => {}
        _ => return None,
    }
    let fraction_at = at + int_len + 1;
    let word = word_at(bytes, fraction_at);
    let run = first_lane(non_digits(word));
    let (fraction, scale, end) = if run < 8 {
        if run == 0 {
            return None;
        }
        (leading_digits(word, run), run, lane_byte(word, run))
    } else {
        let next = word_at(bytes, fraction_at + 8);
        let more = first_lane(non_digits(next));
        if more == 8 {
            return None;
        }
        let low = if more == 0 { 0 } else { leading_digits(next, more) };
        (
            leading_digits(word, 8) * POW10[more] + low,
            8 + more,
            lane_byte(next, more),
        )
    };
    if end != b'"' || int_len + scale > 19 {
        return None;
    }
    Some((int * POW10[scale] + fraction, scale as u8, int_len + 1 + scale))
}

/// How a field's value is read, and stored in its `u64` slot.
#[derive(Clone, Copy)]
enum Kind {
    /// An escape-free string: its byte range, start in the high half, end in the low half.
    Str,
    /// A JSON integer that fits `i64`, stored as its two's-complement bits.
    Int,
    /// A non-negative JSON integer that fits `u64`.
    UInt,
    /// `true` (1) or `false` (0).
    Bool,
    /// An object read by the caller's reader; the slot stays 0.
    Object,
}

/// The `N` fields an object must have, each exactly once, listed as `(key, kind)` with the slot
/// of its value in the reader's array being its place in the list. Keys are one ASCII letter, as
/// all of Binance's are; other keys are skipped.
struct Layout<const N: usize> {
    /// Slot and kind by key byte.
    by_key: [Option<(u8, Kind)>; 128],
}

impl<const N: usize> Layout<N> {
    const fn new(fields: [(u8, Kind); N]) -> Self {
        assert!(N <= 32, "the seen-set is a u32");
        let mut by_key = [None; 128];
        let mut slot = 0;
        while slot < N {
            let (key, kind) = fields[slot];
            assert!(key.is_ascii_alphabetic() && by_key[key as usize].is_none());
            by_key[key as usize] = Some((slot as u8, kind));
            slot += 1;
        }
        Layout { by_key }
    }

    /// The slot and kind of a one-letter key.
    #[inline(always)]
    fn field(&self, letter: u8) -> Option<(u8, Kind)> {
        self.by_key.get(usize::from(letter)).copied().flatten()
    }

    /// The slot and kind of any key.
    fn field_named(&self, key: &[u8]) -> Option<(u8, Kind)> {
        match key {
            [letter] => self.field(*letter),
            _ => None,
        }
    }

    /// The seen-set when every field was read.
    const ALL: u32 = if N == 32 { u32::MAX } else { (1 << N) - 1 };
}

/// The reader for layouts without [`Kind::Object`] fields.
fn no_object(_: &mut Scanner<'_>) -> Option<()> {
    None
}

/// The text a [`Kind::Str`] slot points at.
fn text_at(text: &str, slot: u64) -> Option<&str> {
    text.get((slot >> 32) as usize..(slot as u32) as usize)
}

/// Runs `read` on the event object of the message, the message itself or the `data` member of a
/// combined-stream envelope, then checks that nothing but whitespace follows. `read` may run a
/// second time, from scratch, when the envelope turns out not to have Binance's exact layout.
///
/// Envelope members other than `data` are skipped, as serde ignores them, but an object or array
/// before `data` declines: the serde path dispatches on the first `"e"` key at the event's depth,
/// which such a value could hold, and only when none can is that key the event's own.
fn read_event<'a>(text: &'a str, mut read: impl FnMut(&mut Scanner<'a>) -> Option<()>) -> Option<()> {
    let mut scanner = Scanner::new(text)?;
    if scanner.stream_envelope(&mut read).is_some() {
        return Some(());
    }
    scanner.pos = 0;
    scanner.skip_ws();
    if scanner.is_envelope()? {
        let mut data_read = false;
        scanner.expect(b'{')?;
        scanner.skip_ws();
        loop {
            let key = scanner.key()?;
            if key == b"data" {
                // Serde rejects a second `data`.
                if data_read {
                    return None;
                }
                read(&mut scanner)?;
                data_read = true;
            } else {
                if !data_read && matches!(scanner.peek(), Some(b'{' | b'[')) {
                    return None;
                }
                scanner.skip_value()?;
            }
            if scanner.separator()? == b'}' {
                break;
            }
        }
        if !data_read {
            return None;
        }
    } else {
        read(&mut scanner)?;
    }
    scanner.at_end()
}

/// The event type, for dispatch: the `"e"` of the event object, found by skipping the members
/// before it (normally none). The typed read checks it again.
fn event_type(text: &str) -> Option<&str> {
    let mut scanner = Scanner::new(text)?;
    // Binance's layout: `"e"` first in the event, the envelope's `data` or the message itself.
    if scanner.stream_prefix().is_none() {
        scanner.pos = 0;
    }
    if scanner.compact_key(b'{') == Some(b'e') {
        return text_at(text, scanner.string()?);
    }
    scanner.pos = 0;
    scanner.skip_ws();
    if scanner.is_envelope()? {
        scanner.expect(b'{')?;
        scanner.skip_ws();
        while scanner.key()? != b"data" {
            scanner.skip_value()?;
            if scanner.separator()? != b',' {
                return None;
            }
        }
    }
    scanner.expect(b'{')?;
    scanner.skip_ws();
    while scanner.key()? != b"e" {
        scanner.skip_value()?;
        if scanner.separator()? != b',' {
            return None;
        }
    }
    text_at(text, scanner.string()?)
}

/// A cursor over the message text. Every reader returns `None` when the bytes at the cursor are
/// not what it reads, leaving the cursor anywhere: a `None` abandons the whole scan. Readers work
/// on a local index and store it once, which keeps the byte loops in registers.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`; `None` for texts whose offsets do not fit the `u32`
    /// halves of a [`Kind::Str`] slot (far beyond any event).
    fn new(text: &'a str) -> Option<Self> {
        Self::over_bytes(text.as_bytes())
    }

    /// A scanner over bytes that may not be UTF-8: for readers that take no text from the
    /// message but what they check further (decimal strings, which are ASCII when they parse).
    fn over_bytes(bytes: &'a [u8]) -> Option<Self> {
        u32::try_from(bytes.len()).ok()?;
        Some(Scanner { bytes, pos: 0 })
    }

    fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    /// Skips JSON whitespace (exactly the four bytes serde_json skips). Binance sends none, so
    /// the inlined part is one comparison.
    #[inline(always)]
    fn skip_ws(&mut self) {
        if self.bytes.get(self.pos).is_some_and(|&b| b > b' ') {
            return;
        }
        self.skip_ws_run();
    }

    fn skip_ws_run(&mut self) {
        let bytes = self.bytes();
        let mut i = self.pos;
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(i) {
            i += 1;
        }
        self.pos = i;
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.bump()? == byte).then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(word.len())?;
        if self.bytes().get(self.pos..end)? != word {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// Binance's combined-stream envelope exactly, `{"stream":"<name>","data":<event>}` then
    /// whitespace, with `read` run on the event: a shortcut past the general envelope walk. `None`
    /// for any other layout, leaving the cursor anywhere.
    fn stream_envelope(&mut self, read: &mut impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.stream_prefix()?;
        read(self)?;
        self.expect(b'}')?;
        self.at_end()
    }

    /// Moves from the start of the text past `{"stream":"<name>","data":`, Binance's envelope
    /// up to its event; `None` for any other start.
    fn stream_prefix(&mut self) -> Option<()> {
        const STREAM: &[u8] = b"{\"stream\":";
        const DATA: &[u8] = b",\"data\":";
        if !self.bytes().starts_with(STREAM) {
            return None;
        }
        self.pos = STREAM.len();
        self.string()?;
        if !self.bytes().get(self.pos..)?.starts_with(DATA) {
            return None;
        }
        self.pos += DATA.len();
        Some(())
    }

    /// Whether only whitespace is left.
    fn at_end(&mut self) -> Option<()> {
        self.skip_ws();
        (self.pos == self.bytes.len()).then_some(())
    }

    /// Whether the object at the cursor is a combined-stream envelope: its first key is `stream`
    /// or `data`, the rule the serde path's `locate` applies. Does not move the cursor.
    fn is_envelope(&self) -> Option<bool> {
        let mut probe = Scanner {
            bytes: self.bytes,
            pos: self.pos,
        };
        probe.expect(b'{')?;
        probe.skip_ws();
        if probe.peek()? != b'"' {
            return Some(false);
        }
        let key = probe.string()?;
        let key = self.bytes.get((key >> 32) as usize..(key as u32) as usize)?;
        Some(matches!(key, b"stream" | b"data"))
    }

    /// Reads the object at the cursor into `values` by `layout`, skipping unknown members, and
    /// calls `object` for [`Kind::Object`] fields. Declines unless every field of the layout was
    /// read exactly once (serde rejects missing and repeated fields).
    ///
    /// Keys with escapes decline: serde matches field names after unescaping, so such a key may
    /// be a needed field in disguise.
    fn object<const N: usize>(
        &mut self,
        layout: &Layout<N>,
        values: &mut [u64; N],
        mut object: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        let mut seen = 0u32;
        let mut field = match self.compact_key(b'{') {
            Some(letter) => layout.field(letter),
            None => {
                self.expect(b'{')?;
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return (seen == Layout::<N>::ALL).then_some(());
                }
                layout.field_named(self.key()?)
            }
        };
        loop {
            match field {
                None => self.skip_value()?,
                Some((slot, kind)) => {
                    let bit = 1u32 << slot;
                    if seen & bit != 0 {
                        return None;
                    }
                    seen |= bit;
                    let value = match kind {
                        Kind::Str => self.string()?,
                        Kind::Int => self.int()? as u64,
                        Kind::UInt => self.uint()?,
                        Kind::Bool => u64::from(self.boolean()?),
                        Kind::Object => {
                            object(self)?;
                            0
                        }
                    };
                    *values.get_mut(usize::from(slot))? = value;
                }
            }
            field = match self.compact_key(b',') {
                Some(letter) => layout.field(letter),
                None => {
                    if self.separator()? == b'}' {
                        break;
                    }
                    layout.field_named(self.key()?)
                }
            };
        }
        (seen == Layout::<N>::ALL).then_some(())
    }

    /// The common case of a member start, in one step: `lead` (`{` or `,`), a one-letter key,
    /// its colon and a value that does not start with whitespace, as Binance sends them. Moves
    /// to the value and returns the key; `None` (cursor unmoved) for anything else.
    #[inline(always)]
    fn compact_key(&mut self, lead: u8) -> Option<u8> {
        // Lanes 0, 1, 3 and 4 must hold the lead, a quote, a quote and a colon.
        const SHAPE: u64 = 0xff_ff00_ffff;
        let expected = u64::from(lead) | u64::from(b'"') << 8 | u64::from(b'"') << 24 | u64::from(b':') << 32;
        let word = word_at(self.bytes(), self.pos);
        let letter = lane_byte(word, 2);
        // `""":` would be an empty key and a stray quote, not the key `"`; anything from `#` up
        // but the backslash is a plain one-byte key (a byte from 0x80 cannot precede a quote in
        // UTF-8). A value starting with whitespace takes the general path.
        if word & SHAPE == expected && letter > b'"' && letter != b'\\' && lane_byte(word, 5) > b' ' {
            self.pos += 5;
            return Some(letter);
        }
        None
    }

    /// One row of a REST klines array, `[openTime, "o", "h", "l", "c", "v", closeTime, "q", n,
    /// "V", "Q", ...]`, read positionally and checked by the serde path's rules; elements after
    /// the eleventh are skipped, as serde ignores them.
    #[inline(always)]
    /// The open time of the REST row at the cursor when it starts `[<integer>`, without moving.
    fn row_open_time(&self) -> Option<i64> {
        let mut probe = Scanner {
            bytes: self.bytes,
            pos: self.pos,
        };
        probe.expect(b'[')?;
        probe.int()
    }

    fn rest_kline_row(&mut self, server_time_ms: i64) -> Option<Kline> {
        let start = self.pos;
        if let Some(kline) = self.compact_rest_row(server_time_ms) {
            return Some(kline);
        }
        self.pos = start;
        let fields = self.rest_row_fields()?;
        let close_time = fields.close_time;
        let kline = build_kline(
            REST_KLINES,
            fields,
            KlineMeta {
                first_trade_id: None,
                last_trade_id: None,
                closed: close_time < server_time_ms,
                as_of: 0,
            },
        );
        kline.ok()
    }

    /// A row as Binance lays it out, `[int,"d",...]` without whitespace and with every decimal
    /// of the common shape up to its eleventh element, as the kline `build_kline` gives: the
    /// decimals are read unsigned (never negative), prices must not be zero, and the relations
    /// are the shared `kline_relation_defect`. `None` (cursor anywhere) for anything else,
    /// which the general reader then takes.
    #[inline(always)]
    fn compact_rest_row(&mut self, server_time_ms: i64) -> Option<Kline> {
        self.expect(b'[')?;
        let open_time = self.int()?;
        self.compact_comma()?;
        let open = positive_value(self.compact_decimal()?)?;
        let high = positive_value(self.compact_decimal()?)?;
        let low = positive_value(self.compact_decimal()?)?;
        let close = positive_value(self.compact_decimal()?)?;
        let volume = self.compact_decimal()?;
        let close_time = self.int()?;
        self.compact_comma()?;
        let quote_volume = self.compact_decimal()?;
        let trades = self.uint()?;
        self.compact_comma()?;
        let taker_buy_volume = self.compact_decimal()?;
        let taker_buy_quote_volume = self.compact_last_decimal()?;
        // The twelfth element is documented as "ignore" and is always "0".
        if self.bytes.get(self.pos..self.pos + 5) == Some(b",\"0\"]") {
            self.pos += 5;
        } else {
            self.rest_row_end()?;
        }
        if kline_relation_defect([open, high, low, close], open_time, close_time).is_some() {
            return None;
        }
        Some(Kline {
            open_time,
            close_time,
            open,
            high,
            low,
            close,
            volume: value(volume)?,
            quote_volume: value(quote_volume)?,
            trades,
            taker_buy_volume: value(taker_buy_volume)?,
            taker_buy_quote_volume: value(taker_buy_quote_volume)?,
            first_trade_id: None,
            last_trade_id: None,
            closed: close_time < server_time_ms,
            as_of: 0,
        })
    }

    /// A `,` right at the cursor.
    #[inline(always)]
    fn compact_comma(&mut self) -> Option<()> {
        if self.bytes.get(self.pos) != Some(&b',') {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    /// A decimal string of the common shape and the `,` right after it, as `(mantissa, scale)`.
    #[inline(always)]
    fn compact_decimal(&mut self) -> Option<(u64, u8)> {
        let decimal = self.compact_last_decimal()?;
        self.compact_comma()?;
        Some(decimal)
    }

    /// A decimal string of the common shape, as `(mantissa, scale)`.
    #[inline(always)]
    fn compact_last_decimal(&mut self) -> Option<(u64, u8)> {
        let bytes = self.bytes;
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let (mantissa, scale, len) = unsigned_decimal(bytes, self.pos + 1)?;
        self.pos += len + 2;
        Some((mantissa, scale))
    }

    /// The fields of a row in any layout serde reads.
    fn rest_row_fields(&mut self) -> Option<KlineFields<ScannedDecimal<'a>>> {
        self.expect(b'[')?;
        self.skip_ws();
        let open_time = self.int()?;
        self.comma()?;
        let open = self.decimal_text()?;
        let high = self.decimal_text()?;
        let low = self.decimal_text()?;
        let close = self.decimal_text()?;
        let volume = self.decimal_text()?;
        let close_time = self.int()?;
        self.comma()?;
        let quote_volume = self.decimal_text()?;
        let trades = self.uint()?;
        self.comma()?;
        let taker_buy_volume = self.decimal_text()?;
        let taker_buy_quote_volume = self.decimal_string()?;
        self.rest_row_end()?;
        Some(KlineFields {
            open_time,
            close_time,
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
            trades,
            taker_buy_volume,
            taker_buy_quote_volume,
        })
    }

    /// The rest of a row after its eleventh element, which serde ignores, through its `]`.
    #[inline(always)]
    fn rest_row_end(&mut self) -> Option<()> {
        while self.item_separator()? == b',' {
            // The documented twelfth element, `"ignore"`, is a string: skipped directly.
            if self.peek() == Some(b'"') {
                self.skip_string()?;
            } else {
                self.skip_value()?;
            }
        }
        Some(())
    }

    /// An escape-free string and the comma after it, as a decimal field.
    #[inline(always)]
    fn decimal_text(&mut self) -> Option<ScannedDecimal<'a>> {
        let decimal = self.decimal_string()?;
        self.comma()?;
        Some(decimal)
    }

    /// An escape-free string as a decimal field. The common shape, `digits[.digits]` with at
    /// most 7 digits before the point and 19 in all, is read in a few word reads that both
    /// parse it and find its closing quote (digits and the point are plain text); other
    /// strings are scanned as any string and parsed when the shared checks ask for the value.
    #[inline(always)]
    fn decimal_string(&mut self) -> Option<ScannedDecimal<'a>> {
        let bytes = self.bytes;
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        if let Some((mantissa, scale, len)) = unsigned_decimal(bytes, start) {
            self.pos = start + len + 1;
            return Some(ScannedDecimal {
                text: bytes.get(start..start + len)?,
                mantissa,
                scale,
            });
        }
        let slot = self.string()?;
        Some(ScannedDecimal {
            text: self.slice(slot)?,
            mantissa: 0,
            scale: NOT_READ,
        })
    }

    /// The bytes a [`Kind::Str`] slot points at.
    #[inline(always)]
    fn slice(&self, slot: u64) -> Option<&'a [u8]> {
        self.bytes.get((slot >> 32) as usize..(slot as u32) as usize)
    }

    /// The comma between two array elements, with any whitespace around it.
    #[inline(always)]
    fn comma(&mut self) -> Option<()> {
        self.skip_ws();
        self.expect(b',')?;
        self.skip_ws();
        Some(())
    }

    /// The `,` or `]` after an array element (whitespace around it skipped), consumed.
    #[inline(always)]
    fn item_separator(&mut self) -> Option<u8> {
        self.skip_ws();
        let separator = self.bump()?;
        if separator == b',' {
            self.skip_ws();
        }
        matches!(separator, b',' | b']').then_some(separator)
    }

    /// The `,` or `}` after a member's value (whitespace around it skipped), consumed.
    fn separator(&mut self) -> Option<u8> {
        self.skip_ws();
        let separator = self.bump()?;
        if separator == b',' {
            self.skip_ws();
        }
        matches!(separator, b',' | b'}').then_some(separator)
    }

    /// A member key (an escape-free string) and its colon, leaving the cursor on the value.
    fn key(&mut self) -> Option<&'a [u8]> {
        let key = self.string()?;
        self.skip_ws();
        self.expect(b':')?;
        self.skip_ws();
        self.bytes().get((key >> 32) as usize..(key as u32) as usize)
    }

    /// An escape-free string, as a [`Kind::Str`] slot. Control characters, which JSON forbids
    /// raw, decline.
    #[inline(always)]
    fn string(&mut self) -> Option<u64> {
        let bytes = self.bytes();
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut at = start;
        let (word, lane) = loop {
            let word = word_at(bytes, at);
            let stops = string_stops(word);
            if stops != 0 {
                break (word, first_lane(stops));
            }
            at += 8;
        };
        if lane_byte(word, lane) != b'"' {
            return None;
        }
        let end = at + lane;
        self.pos = end + 1;
        // Both offsets are at most the text length, which `new` checked fits a u32.
        Some(((start as u64) << 32) | end as u64)
    }

    /// A JSON integer that fits `i64`, as serde_json reads one: no fraction, no exponent, no
    /// leading zeros, and no `-0` (serde_json reads that as a float).
    #[inline(always)]
    fn int(&mut self) -> Option<i64> {
        if self.peek()? == b'-' {
            self.pos += 1;
            let magnitude = self.uint()?;
            if magnitude == 0 || magnitude > 1u64 << 63 {
                return None;
            }
            // 2^63 wraps to i64::MIN, whose negation is itself: exactly -2^63.
            Some((magnitude as i64).wrapping_neg())
        } else {
            i64::try_from(self.uint()?).ok()
        }
    }

    /// A non-negative JSON integer that fits `u64`, refusing leading zeros as serde does. A
    /// fraction or exponent (which serde reads as a float) leaves the cursor on `.`, `e` or `E`,
    /// which no separator accepts. Up to 15 digits are read from two words without a loop.
    #[inline(always)]
    fn uint(&mut self) -> Option<u64> {
        let bytes = self.bytes();
        let start = self.pos;
        let high = word_at(bytes, start);
        let high_count = first_lane(non_digits(high));
        let (value, count) = if high_count < 8 {
            if high_count == 0 {
                return None;
            }
            (leading_digits(high, high_count), high_count)
        } else {
            let low = word_at(bytes, start + 8);
            let low_count = first_lane(non_digits(low));
            if low_count == 8 {
                return self.long_uint();
            }
            let low_value = if low_count == 0 {
                0
            } else {
                leading_digits(low, low_count)
            };
            let value = leading_digits(high, 8) * POW10.get(low_count)? + low_value;
            (value, 8 + low_count)
        };
        if count > 1 && lane_byte(high, 0) == b'0' {
            return None;
        }
        self.pos = start + count;
        Some(value)
    }

    /// [`Scanner::uint`] for runs of 16 digits or more, with checked arithmetic (a 20-digit run
    /// may still fit a `u64`).
    #[cold]
    fn long_uint(&mut self) -> Option<u64> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut i = start;
        let mut value = 0u64;
        while let Some(&digit @ b'0'..=b'9') = bytes.get(i) {
            value = value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
            i += 1;
        }
        // Longer than one digit, so a leading zero is invalid.
        if bytes.get(start) == Some(&b'0') {
            return None;
        }
        self.pos = i;
        Some(value)
    }

    #[inline(always)]
    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// Skips one JSON value of any type, checking it as strictly as serde_json does when it
    /// ignores a field. Nesting is tracked in a bit stack (1 = object), hence the depth limit.
    fn skip_value(&mut self) -> Option<()> {
        let mut objects: u64 = 0;
        let mut depth: u32 = 0;
        loop {
            // A value starts at the cursor.
            self.skip_ws();
            match self.peek()? {
                open @ (b'{' | b'[') => {
                    if depth == MAX_SKIP_DEPTH {
                        return None;
                    }
                    self.pos += 1;
                    let is_object = open == b'{';
                    self.skip_ws();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek()? != close {
                        objects = (objects << 1) | u64::from(is_object);
                        depth += 1;
                        if is_object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                    // An empty container is a complete value.
                    self.pos += 1;
                }
                b'"' => self.skip_string()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                _ => return None,
            }
            // A value ended: close containers until one goes on after a comma.
            loop {
                if depth == 0 {
                    return Some(());
                }
                self.skip_ws();
                let in_object = objects & 1 == 1;
                match self.bump()? {
                    b',' => {
                        if in_object {
                            self.skip_ws();
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return None,
                }
                objects >>= 1;
                depth -= 1;
            }
        }
    }

    /// Skips a member key (escapes allowed, as for any skipped string) and its colon.
    fn skip_key(&mut self) -> Option<()> {
        self.skip_string()?;
        self.skip_ws();
        self.expect(b':')
    }

    /// Skips a string, checking its escapes as serde_json does (`\uXXXX` with any four hex
    /// digits: serde does not pair surrogates in ignored strings either).
    fn skip_string(&mut self) -> Option<()> {
        let bytes = self.bytes();
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let mut i = self.pos + 1;
        loop {
            let stops = string_stops(word_at(bytes, i));
            if stops == 0 {
                i += 8;
                continue;
            }
            i += first_lane(stops);
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    let escape_end = match *bytes.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i + 2,
                        b'u' if bytes.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i + 6,
                        _ => return None,
                    };
                    i = escape_end;
                }
                _ => return None,
            }
        }
        self.pos = i + 1;
        Some(())
    }

    /// Skips a number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn skip_number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.bump()? {
            b'0' => {
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
        }
        Some(())
    }

    fn skip_digits(&mut self) {
        let bytes = self.bytes();
        loop {
            let count = first_lane(non_digits(word_at(bytes, self.pos)));
            self.pos += count;
            if count < 8 {
                return;
            }
        }
    }

    fn one_or_more_digits(&mut self) -> Option<()> {
        if !self.bump()?.is_ascii_digit() {
            return None;
        }
        self.skip_digits();
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::market as serde_path;
    use crate::parse::{
        parse_agg_trade, parse_book_ticker, parse_kline_event, parse_market_event, samples, ParseError,
    };
    use proptest::prelude::*;
    use std::fmt::Debug;
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    /// Which readers of the fast path took a payload.
    #[derive(Debug, Default, Clone, Copy)]
    struct Taken {
        typed: bool,
        market: bool,
    }

    /// `fast` is `None` or the serde path's record, with every decimal's scale (`Debug` shows the
    /// mantissa and scale, where `==` on decimals compares values only).
    fn same_as_serde<T: PartialEq + Debug, E: Debug>(fast: Option<T>, serde: &Result<T, E>, bytes: &[u8]) -> bool {
        let Some(fast) = fast else { return false };
        match serde {
            Ok(reference) => {
                assert_eq!(
                    format!("{fast:?}"),
                    format!("{reference:?}"),
                    "{}",
                    String::from_utf8_lossy(bytes)
                );
                true
            }
            Err(error) => panic!(
                "the fast path accepted what serde rejects ({error:?}): {}\n{fast:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    /// The public result equals the serde path's, whole (`Ok` record with its decimal scales, or
    /// the same error).
    fn same_result<T: PartialEq + Debug>(public: Result<T, ParseError>, serde: Result<T, ParseError>, bytes: &[u8]) {
        assert_eq!(
            format!("{public:?}"),
            format!("{serde:?}"),
            "{}",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(public, serde);
    }

    /// The differential property, for every reader the fast path has: each yields nothing or
    /// serde's record, and each public parser returns exactly what serde alone returns.
    fn assert_agrees(bytes: &[u8]) -> Taken {
        let agg = serde_path::agg_trade::<false>(bytes);
        let kline = serde_path::kline_event::<false>(bytes);
        let book = serde_path::book_ticker::<false>(bytes);
        let market = serde_path::market_event::<false>(bytes);
        let typed = [
            same_as_serde(agg_trade(bytes), &agg, bytes),
            same_as_serde(kline_event(bytes), &kline, bytes),
            same_as_serde(book_ticker(bytes), &book, bytes),
        ];
        let taken = Taken {
            typed: typed.iter().any(|&t| t),
            market: same_as_serde(market_event(bytes), &market, bytes),
        };
        same_result(parse_agg_trade(bytes), agg, bytes);
        same_result(parse_kline_event(bytes), kline, bytes);
        same_result(parse_book_ticker(bytes), book, bytes);
        same_result(parse_market_event(bytes), market, bytes);
        taken
    }

    /// The shared data folder beside the repository, located as the integration tests do.
    fn shared_data() -> Option<PathBuf> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        [manifest.join("../../shared/data"), manifest.join("../shared/data")]
            .into_iter()
            .find(|dir| dir.is_dir())
    }

    /// The JSON of every line of the 2021-07-22 combined-stream capture, when present.
    fn capture() -> &'static [String] {
        static LINES: OnceLock<Vec<String>> = OnceLock::new();
        LINES.get_or_init(|| {
            let Some(dir) = shared_data() else {
                eprintln!("SKIP: shared/data not found next to the repository; capture lines not tested");
                return Vec::new();
            };
            let text = std::fs::read_to_string(dir.join("usdm-ws-capture-2021-07-22.txt")).expect("capture file");
            text.lines()
                .skip(1)
                .filter(|line| !line.trim().is_empty())
                .map(|line| line.split_once(": ").expect("`<ts>: <json>` line").1.to_owned())
                .collect()
        })
    }

    /// The samples of the three hot events.
    const HOT_SAMPLES: [&str; 5] = [
        samples::AGG_TRADE,
        samples::AGG_TRADE_RAW,
        samples::KLINE,
        samples::KLINE_NO_TRADES,
        samples::BOOK_TICKER,
    ];

    const OTHER_SAMPLES: [&str; 17] = [
        samples::MARK_PRICE,
        samples::DEPTH_UPDATE,
        samples::REST_KLINES,
        samples::REST_AGG_TRADES,
        samples::REST_BOOK_TICKER,
        samples::REST_BOOK_TICKERS,
        samples::ACCOUNT_V3,
        samples::ACCOUNT_V2,
        samples::POSITION_RISK_V3,
        samples::POSITION_RISK_V2,
        samples::ACCOUNT_UPDATE,
        samples::ORDER_TRADE_UPDATE,
        samples::ORDER_FILL,
        samples::ALGO_UPDATE,
        samples::LISTEN_KEY_EXPIRED,
        samples::TRADE_LITE,
        samples::EXCHANGE_INFO,
    ];

    #[test]
    fn samples_agree_and_hot_ones_take_the_fast_path() {
        for sample in HOT_SAMPLES {
            let taken = assert_agrees(sample.as_bytes());
            assert!(taken.typed && taken.market, "declined: {sample}");
        }
        for sample in OTHER_SAMPLES {
            let taken = assert_agrees(sample.as_bytes());
            assert!(!taken.typed && !taken.market, "{sample}");
        }
        // The fast path's records are the ones the existing tests check field by field.
        let trade = agg_trade(samples::AGG_TRADE.as_bytes()).unwrap();
        assert_eq!(
            (trade.symbol.as_str(), trade.id, trade.price.to_string()),
            ("CTKUSDT", 16599292, "1.01100".into())
        );
        let kline = kline_event(samples::KLINE_NO_TRADES.as_bytes()).unwrap();
        assert_eq!((kline.kline.first_trade_id, kline.kline.closed), (None, true));
        let tick = book_ticker(samples::BOOK_TICKER.as_bytes()).unwrap();
        assert_eq!(
            (tick.tick.update_id, tick.tick.bid.to_string()),
            (Some(600859600576), "7.6110".into())
        );
    }

    #[test]
    fn every_capture_line_agrees_and_hot_lines_take_the_fast_path() {
        let lines = capture();
        if lines.is_empty() {
            return;
        }
        let mut hot = [0usize; 3];
        for line in lines {
            let taken = assert_agrees(line.as_bytes());
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let slot = match value["data"]["e"].as_str() {
                Some("aggTrade") => 0,
                Some("kline") => 1,
                Some("bookTicker") => 2,
                _ => {
                    assert!(!taken.typed && !taken.market, "{line}");
                    continue;
                }
            };
            hot[slot] += 1;
            assert!(
                taken.typed && taken.market,
                "the fast path declined a capture line: {line}"
            );
            // The same event without its envelope is taken too.
            let raw = value["data"].to_string();
            let taken = assert_agrees(raw.as_bytes());
            assert!(taken.typed && taken.market, "declined: {raw}");
        }
        // The counts the capture's README gives, and some bookTickers.
        assert_eq!(hot[0], 91);
        assert_eq!(hot[1], 67);
        assert!(hot[2] > 0);
    }

    #[test]
    fn binance_layout_aggtrades_take_the_compact_read_and_others_the_general_scan() {
        let general = |bytes: &[u8]| agg_trade_in(std::str::from_utf8(bytes).unwrap());
        let mut layouts = vec![samples::AGG_TRADE.as_bytes().to_vec()];
        // The event without its envelope, keys in Binance's order.
        let (_, data) = samples::AGG_TRADE.split_once(r#","data":"#).unwrap();
        layouts.push(data.strip_suffix('}').unwrap().as_bytes().to_vec());
        // Every aggTrade of the capture is in Binance's layout.
        for line in capture().iter().filter(|l| l.contains("@aggTrade")) {
            layouts.push(line.as_bytes().to_vec());
        }
        for bytes in &layouts {
            let compact = compact_agg_trade(bytes);
            assert!(compact.is_some(), "declined: {}", String::from_utf8_lossy(bytes));
            assert_eq!(compact, general(bytes));
            assert_agrees(bytes);
        }
        // Anything else declines here; the general scan or serde decides, with the same result.
        let sample = samples::AGG_TRADE;
        let others = [
            samples::AGG_TRADE_RAW.as_bytes().to_vec(),
            replaced(sample, r#""a":16599292,"s":"CTKUSDT""#, r#""s":"CTKUSDT","a":16599292"#),
            replaced(sample, r#""f":"#, r#" "f":"#),
            replaced(sample, r#""m":false}"#, r#""m":false,"x":1}"#),
            replaced(sample, r#""p":"1.01100""#, r#""p":"0.00000""#),
            replaced(sample, r#""p":"1.01100""#, r#""p":"-1.01100""#),
            replaced(sample, r#""f":23961322"#, r#""f":-1"#),
            replaced(sample, r#""l":23961322"#, r#""l":23961321"#),
            replaced(sample, r#""a":16599292"#, r#""a":99999999999999999999"#),
            replaced(sample, "CTKUSDT\"", "CTK\\u0055SDT\""),
            replaced(sample, "CTKUSDT\"", "CTK USDT\""),
            replaced(sample, "CTKUSDT\"", "币安人生USDT\""),
            replaced(sample, "ctkusdt@", "ctküsdt@"),
            replaced(sample, r#""e":"aggTrade""#, r#""e":"aggTrades""#),
            replaced(sample, "}}", "}} x"),
        ];
        for bytes in &others {
            assert_eq!(compact_agg_trade(bytes), None, "{}", String::from_utf8_lossy(bytes));
            assert_agrees(bytes);
        }
        // Trailing whitespace is Binance's layout still.
        let spaced = [samples::AGG_TRADE.as_bytes(), b" \n"].concat();
        assert!(compact_agg_trade(&spaced).is_some());
        assert_agrees(&spaced);
    }

    /// `sample` with its first `from` replaced by `to`.
    fn replaced(sample: &str, from: &str, to: &str) -> Vec<u8> {
        samples::replaced(sample, from, to).into_bytes()
    }

    /// Asserts the differential property and that the fast path declined (`taken == false`)
    /// or took (`true`) the payload, returning the public result's reason or "ok".
    fn check(bytes: &[u8], taken: bool) -> &'static str {
        let took = assert_agrees(bytes);
        assert_eq!(took.typed, taken, "{}", String::from_utf8_lossy(bytes));
        match parse_market_event(bytes) {
            Ok(_) => "ok",
            Err(error) => error.reason(),
        }
    }

    #[test]
    fn integers_as_serde_reads_them() {
        let raw = samples::AGG_TRADE_RAW;
        // Event time is not checked, so any i64 passes both paths.
        let min = replaced(raw, "\"E\":123456789", "\"E\":-9223372036854775808");
        assert_eq!(check(&min, true), "ok");
        assert_eq!(agg_trade(&min).unwrap().event_time, i64::MIN);
        let max = replaced(raw, "\"E\":123456789", "\"E\":9223372036854775807");
        assert_eq!(agg_trade(&max).unwrap().event_time, i64::MAX);
        for (bad, reason) in [
            ("9223372036854775808", "schema"),
            ("-9223372036854775809", "schema"),
            ("18446744073709551616", "schema"),
            ("-0", "schema"),
            ("1.0", "schema"),
            ("1e3", "schema"),
            ("1E3", "schema"),
            ("01", "malformed"),
            ("-", "malformed"),
            ("+1", "malformed"),
            ("\"1\"", "schema"),
            ("null", "schema"),
        ] {
            let payload = replaced(raw, "\"E\":123456789", &format!("\"E\":{bad}"));
            assert_eq!(check(&payload, false), reason, "{bad}");
        }
        // Unsigned fields take the whole u64 range and nothing negative.
        let book = samples::BOOK_TICKER;
        let top = replaced(book, "\"u\":600859600576", "\"u\":18446744073709551615");
        assert_eq!(check(&top, true), "ok");
        assert_eq!(book_ticker(&top).unwrap().tick.update_id, Some(u64::MAX));
        let long = replaced(book, "\"u\":600859600576", "\"u\":1234567890123456789");
        assert_eq!(
            book_ticker(&long).unwrap().tick.update_id,
            Some(1_234_567_890_123_456_789)
        );
        for bad in ["-1", "-0", "18446744073709551616", "00"] {
            let payload = replaced(book, "\"u\":600859600576", &format!("\"u\":{bad}"));
            assert_ne!(check(&payload, false), "ok", "{bad}");
        }
        // Digit runs of every length around the word boundaries parse exactly.
        for digits in 1..=19 {
            let value: u64 = "9876543210987654321"[..digits].parse().unwrap();
            let payload = replaced(book, "\"u\":600859600576", &format!("\"u\":{value}"));
            assert_eq!(
                book_ticker(&payload).unwrap().tick.update_id,
                Some(value),
                "{digits} digits"
            );
        }
    }

    #[test]
    fn strings_with_escapes_or_control_bytes() {
        // An escaped needed string declines, and serde reads it (the type) or rejects it.
        let escaped_type = replaced(samples::AGG_TRADE, "\"e\":\"aggTrade\"", "\"e\":\"agg\\u0054rade\"");
        assert_eq!(check(&escaped_type, false), "ok");
        let escaped_symbol = replaced(samples::AGG_TRADE, "\"s\":\"CTKUSDT\"", "\"s\":\"CTK\\u0055SDT\"");
        assert_eq!(check(&escaped_symbol, false), "schema");
        // Unknown members with escapes, controls as escapes, non-ASCII and nesting are skipped.
        let extra = replaced(
            samples::AGG_TRADE,
            "\"m\":false",
            r#""m":false,"x":"a\"b\\c\/\b\f\n\r\t\u00e9\uD83D\uDE00","y":[{"z":[1,-2.5e-3,true,null,{}]},[]],"é":"ü""#,
        );
        assert_eq!(check(&extra, true), "ok");
        // A raw control byte or a bad escape in a skipped string: serde rejects, so must we.
        for bad in ["\"a\u{1}b\"", "\"a\tb\"", r#""\x""#, r#""\u12G4""#, r#""\u12""#] {
            let payload = replaced(samples::AGG_TRADE, "\"m\":false", &format!("\"m\":false,\"x\":{bad}"));
            assert_eq!(check(&payload, false), "malformed", "{bad}");
        }
        // Invalid UTF-8 in a skipped string: serde accepts it; the fast path is stricter.
        let mut latin1 = replaced(samples::AGG_TRADE, "\"m\":false", "\"m\":false,\"x\":\"caf?\"");
        let at = latin1.iter().position(|&b| b == b'?').unwrap();
        latin1[at] = 0xe9;
        assert_eq!(check(&latin1, false), "ok");
        // `""":` is an empty key and a stray quote, not a one-letter key `"`.
        let stray = replaced(samples::AGG_TRADE_RAW, "\"nq\":\"100\"", "\"\"\":\"100\"");
        assert_eq!(check(&stray, false), "malformed");
        // An escaped key may be a needed one: serde reads `\u0070` as `p`, a duplicate here.
        let disguised = replaced(samples::AGG_TRADE_RAW, "\"nq\":", "\"\\u0070\":");
        assert_eq!(check(&disguised, false), "schema");
    }

    #[test]
    fn skipped_values_are_checked_like_serde() {
        for (value, reason) in [
            ("1.", "malformed"),
            ("1.e5", "malformed"),
            ("1e", "malformed"),
            ("1e+", "malformed"),
            ("-", "malformed"),
            ("-a", "malformed"),
            ("01", "malformed"),
            ("-01", "malformed"),
            (".5", "malformed"),
            ("+1", "malformed"),
            ("1.5.2", "malformed"),
            ("tru", "malformed"),
            ("nul", "malformed"),
            ("falsey", "malformed"),
            ("[1,]", "malformed"),
            ("[,1]", "malformed"),
            ("{\"a\":1,}", "malformed"),
            ("{\"a\" 1}", "malformed"),
            ("{1:2}", "malformed"),
            ("[1}", "malformed"),
            ("{\"a\":1]", "malformed"),
            ("[[]", "malformed"),
            ("", "malformed"),
            ("-0.0e-0", "ok"),
            ("1E+400", "ok"),
            ("[-0,0.5,{\"\":[]}]", "ok"),
        ] {
            let payload = replaced(samples::AGG_TRADE, "\"m\":false", &format!("\"m\":false,\"x\":{value}"));
            assert_eq!(check(&payload, reason == "ok"), reason, "{value}");
            let first = replaced(
                samples::AGG_TRADE,
                "\"e\":\"aggTrade\"",
                &format!("\"x\":{value},\"e\":\"aggTrade\""),
            );
            assert_eq!(check(&first, reason == "ok"), reason, "{value} first");
        }
    }

    #[test]
    fn layouts_and_nesting() {
        // Any whitespace, as serde_json pretty-prints it.
        for sample in HOT_SAMPLES {
            let value: serde_json::Value = serde_json::from_str(sample).unwrap();
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            assert_eq!(check(pretty.as_bytes(), true), "ok");
            let crlf = pretty.replace('\n', "\r\n\t");
            assert_eq!(check(crlf.as_bytes(), true), "ok");
        }
        // Form feed is not JSON whitespace, nor is anything after the message.
        let form_feed = format!("\u{c}{}", samples::AGG_TRADE);
        assert_eq!(check(form_feed.as_bytes(), false), "malformed");
        let trailing = format!("{} \n x", samples::AGG_TRADE);
        assert_eq!(check(trailing.as_bytes(), false), "malformed");
        let spaced = format!(" \r\n{}\t ", samples::KLINE);
        assert_eq!(check(spaced.as_bytes(), true), "ok");
        // Repeated needed fields: serde rejects them; repeated unknown ones are fine.
        let twice = replaced(samples::KLINE, "\"x\":false", "\"x\":false,\"x\":false");
        assert_eq!(check(&twice, false), "schema");
        let twice_k = replaced(
            samples::KLINE,
            "\"s\":\"CTKUSDT\",\"k\"",
            "\"s\":\"CTKUSDT\",\"k\":{},\"k\"",
        );
        assert_eq!(check(&twice_k, false), "schema");
        let event = &samples::AGG_TRADE[samples::AGG_TRADE.find("{\"e\"").unwrap()..samples::AGG_TRADE.len() - 1];
        let twice_data = format!("{{\"data\":{event},\"stream\":\"x\",\"data\":{event}}}");
        assert_eq!(check(twice_data.as_bytes(), false), "schema");
        let unknown_twice = replaced(samples::KLINE, "\"B\":\"0\"", "\"B\":\"0\",\"B\":[1]");
        assert_eq!(check(&unknown_twice, true), "ok");
        // Data first, extra envelope members, and containers after `data` are fine.
        let data_first = format!("{{\"data\":{event},\"stream\":\"x\",\"id\":[1,{{\"e\":\"kline\"}}]}}");
        assert_eq!(check(data_first.as_bytes(), true), "ok");
        // A container before `data` may hold the `"e"` serde dispatches on: decline.
        let shadowed = replaced(
            samples::AGG_TRADE,
            "\"stream\":\"ctkusdt@aggTrade\"",
            "\"stream\":{\"e\":\"kline\"}",
        );
        assert_eq!(check(&shadowed, false), "schema");
        assert!(matches!(
            parse_agg_trade(&shadowed),
            Err(ParseError::InvalidValue { field: "e", .. })
        ));
        let listed = replaced(
            samples::AGG_TRADE,
            "\"stream\":\"ctkusdt@aggTrade\"",
            "\"stream\":[\"e\"]",
        );
        assert_eq!(check(&listed, false), "ok");
        // Skipped values nest up to MAX_SKIP_DEPTH; serde has no limit there, so deeper declines.
        for (depth, taken) in [(MAX_SKIP_DEPTH as usize, true), (MAX_SKIP_DEPTH as usize + 1, false)] {
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let payload = replaced(
                samples::AGG_TRADE,
                "\"m\":false",
                &format!("\"m\":false,\"x\":{nested}"),
            );
            assert_eq!(check(&payload, taken), "ok", "depth {depth}");
        }
        // Records the shared checks reject decline, and serde gives the typed error.
        let backwards = replaced(samples::AGG_TRADE, "\"l\":23961322", "\"l\":23961321");
        assert_eq!(check(&backwards, false), "invalid_value");
        let wrong_type = replaced(samples::AGG_TRADE, "\"e\":\"aggTrade\"", "\"e\":\"kline\"");
        assert_eq!(check(&wrong_type, false), "schema");
        let wrong_bar = replaced(samples::KLINE, "\"i\":\"1m\"", "\"i\":\"5m\"");
        assert_eq!(check(&wrong_bar, false), "invalid_value");
    }

    // Generated variations of the hot events: reordered, re-spaced, extended with unknown members
    // of every JSON type, numbers near the integer limits, in and out of an envelope.

    /// A JSON object as its members' texts, so tests can reorder, extend and re-space it.
    #[derive(Clone, Debug)]
    struct Object(Vec<(String, Member)>);

    #[derive(Clone, Debug)]
    enum Member {
        Text(String),
        Object(Object),
    }

    impl Object {
        fn from_value(value: &serde_json::Value) -> Object {
            let map = value.as_object().expect("an object");
            Object(
                map.iter()
                    .map(|(key, value)| {
                        let member = match value {
                            serde_json::Value::Object(_) => Member::Object(Object::from_value(value)),
                            other => Member::Text(other.to_string()),
                        };
                        (serde_json::to_string(key).unwrap(), member)
                    })
                    .collect(),
            )
        }

        /// The decoded key names.
        fn names(&self) -> Vec<String> {
            self.0
                .iter()
                .filter_map(|(key, _)| serde_json::from_str(key).ok())
                .collect()
        }

        fn render(&self, spaces: &mut Spaces) -> String {
            let mut out = String::from("{");
            for (i, (key, member)) in self.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(spaces.next());
                out.push_str(key);
                out.push_str(spaces.next());
                out.push(':');
                out.push_str(spaces.next());
                match member {
                    Member::Text(text) => out.push_str(text),
                    Member::Object(object) => out.push_str(&object.render(spaces)),
                }
                out.push_str(spaces.next());
            }
            out.push('}');
            out
        }
    }

    /// A deterministic source of JSON whitespace runs (mostly empty when `density` is low).
    struct Spaces {
        state: u64,
        density: u64,
    }

    impl Spaces {
        fn next(&mut self) -> &'static str {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            const RUNS: [&str; 6] = [" ", "\n", "\t", "\r\n", "  \t", "\n    "];
            if self.state % 8 < self.density {
                RUNS[(self.state >> 8) as usize % RUNS.len()]
            } else {
                ""
            }
        }
    }

    /// A shuffle of `items` driven by `seed`.
    fn shuffle<T>(items: &mut [T], mut seed: u64) {
        for i in (1..items.len()).rev() {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            items.swap(i, (seed >> 33) as usize % (i + 1));
        }
    }

    /// Any JSON value, compact, with strings escaped where JSON requires and where it merely may.
    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| f.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::to_string(&f).unwrap()),
            proptest::sample::select(vec!["-0", "0.5e-3", "1E+2", "-12.0", "1e400", "18446744073709551616"])
                .prop_map(str::to_owned),
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            proptest::sample::select(vec![
                r#""\u00e9\n\t\"\\\/\b\f\r""#,
                r#""\ud83d\ude00""#,
                r#""\uD800""#,
                r#""plain""#,
                r#""""#,
            ])
            .prop_map(str::to_owned),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((member_key(), inner), 0..4).prop_map(|members| {
                    let members: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    /// An unknown member's key as JSON text: Binance-like, arbitrary (escaped when needed),
    /// escapes of needed keys, and names the events or the envelope use.
    fn member_key() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                r#""nq""#,
                r#""X""#,
                r#""zz""#,
                r#""é""#,
                r#""a b""#,
                r#""""#,
                r#""B""#,
                r#""e""#,
                r#""k""#,
                r#""stream""#,
                r#""data""#,
                r#""\u0065""#,
                r#""\u0070""#,
                r#""x\ny""#,
            ])
            .prop_map(str::to_owned),
            "[a-zA-Z]{1,3}".prop_map(|k| format!("\"{k}\"")),
            any::<String>().prop_map(|k| serde_json::to_string(&k).unwrap()),
        ]
    }

    /// Integer texts at and beyond the limits serde applies, for a needed integer field.
    const LIMITS: [&str; 16] = [
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
        "0",
        "-0",
        "-1",
        "1.0",
        "1e3",
        "01",
        "1234567890123456",
        "123456789012345",
        "12345678",
    ];

    /// How to vary a hot event.
    #[derive(Clone, Debug)]
    struct Variation {
        base: usize,
        seed: u64,
        density: u64,
        /// 0: raw; 1: `stream` before `data`; 2: `data` first.
        envelope: u8,
        event_extras: Vec<(String, String)>,
        kline_extras: Vec<(String, String)>,
        envelope_extras: Vec<(String, String)>,
        limit: Option<(usize, &'static str)>,
    }

    /// The base events: the hot samples and, when present, the capture's hot lines.
    fn bases() -> &'static [serde_json::Value] {
        static BASES: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
        BASES.get_or_init(|| {
            HOT_SAMPLES
                .iter()
                .map(|s| s.to_string())
                .chain(capture().iter().cloned())
                .filter_map(|text| {
                    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let event = if value.get("data").is_some() {
                        value["data"].clone()
                    } else {
                        value
                    };
                    matches!(event["e"].as_str(), Some("aggTrade" | "kline" | "bookTicker")).then_some(event)
                })
                .collect()
        })
    }

    fn extras() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec((member_key(), json_value()), 0..3)
    }

    fn variation() -> impl Strategy<Value = Variation> {
        (
            any::<usize>(),
            any::<u64>(),
            0u64..4,
            0u8..3,
            extras(),
            extras(),
            extras(),
            proptest::option::weighted(0.25, (any::<usize>(), proptest::sample::select(LIMITS.to_vec()))),
        )
            .prop_map(
                |(base, seed, density, envelope, event_extras, kline_extras, envelope_extras, limit)| Variation {
                    base,
                    seed,
                    density,
                    envelope,
                    event_extras,
                    kline_extras,
                    envelope_extras,
                    limit,
                },
            )
    }

    /// Adds `extras` to `object` at seeded places; false when one makes the payload unusual
    /// for the fast path (an escaped key, a repeated key, or `taboo` names).
    fn extend(object: &mut Object, extras: &[(String, String)], seed: u64, taboo: &[&str]) -> bool {
        let mut usual = true;
        for (i, (key, value)) in extras.iter().enumerate() {
            let name: String = serde_json::from_str(key).unwrap();
            if key.contains('\\') || object.names().contains(&name) || taboo.contains(&name.as_str()) {
                usual = false;
            }
            let at = (seed.rotate_left(7 * i as u32) as usize) % (object.0.len() + 1);
            object.0.insert(at, (key.clone(), Member::Text(value.clone())));
        }
        usual
    }

    /// The payload of a variation, and whether the fast path must take it when serde accepts it.
    fn render(v: &Variation) -> (String, bool) {
        let bases = bases();
        let mut event = Object::from_value(&bases[v.base % bases.len()]);
        let mut usual = extend(&mut event, &v.event_extras, v.seed, &["stream", "data"]);
        if let Some((_, Member::Object(kline))) = event.0.iter_mut().find(|(key, _)| key == "\"k\"") {
            usual &= extend(kline, &v.kline_extras, v.seed >> 11, &[]);
            shuffle(&mut kline.0, v.seed >> 3);
        }
        shuffle(&mut event.0, v.seed);
        if let Some((pick, text)) = v.limit {
            let integers: Vec<usize> = (0..event.0.len())
                .filter(|&i| matches!(&event.0[i].1, Member::Text(t) if t.parse::<i64>().is_ok()))
                .collect();
            if let Some(&at) = integers.get(pick % integers.len().max(1)) {
                event.0[at].1 = Member::Text(text.to_owned());
                usual = false;
            }
        }
        let mut spaces = Spaces {
            state: v.seed | 1,
            density: v.density,
        };
        if v.envelope == 0 {
            return (event.render(&mut spaces), usual);
        }
        let mut envelope = Object(vec![
            ("\"stream\"".to_owned(), Member::Text("\"btcusdt@x\"".to_owned())),
            ("\"data\"".to_owned(), Member::Object(event)),
        ]);
        if v.envelope == 2 {
            envelope.0.swap(0, 1);
        }
        let first = envelope.0[0].0.clone();
        let before = envelope.0.len();
        usual &= extend(&mut envelope, &v.envelope_extras, v.seed >> 17, &["data"]);
        // The first key decides raw or enveloped, as `locate` does.
        if envelope.0[0].0 != first && before != envelope.0.len() {
            usual = false;
        }
        let data_at = envelope.0.iter().position(|(key, _)| key == "\"data\"").unwrap();
        if envelope.0[..data_at]
            .iter()
            .any(|(_, m)| matches!(m, Member::Text(t) if t.starts_with('{') || t.starts_with('[')))
        {
            usual = false;
        }
        (envelope.render(&mut spaces), usual)
    }

    /// Random edits that keep payloads close to the grammar (as in `parse::tests`).
    fn edited(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
        const JSON_BYTES: &[u8] = b"{}[]\":,-.0123456789eE+ \\tfnu\xff\x01";
        for &(op, at, byte) in edits {
            let len = bytes.len().max(1);
            let byte = if byte % 2 == 0 {
                JSON_BYTES[byte as usize % JSON_BYTES.len()]
            } else {
                byte
            };
            match op % 4 {
                0 => {
                    if let Some(slot) = bytes.get_mut(at % len) {
                        *slot = byte;
                    }
                }
                1 => bytes.insert(at % (bytes.len() + 1), byte),
                2 => {
                    if !bytes.is_empty() {
                        bytes.remove(at % len);
                    }
                }
                _ => bytes.truncate(at % len),
            }
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn variations_agree_and_usual_ones_take_the_fast_path(v in variation()) {
            let (payload, usual) = render(&v);
            let taken = assert_agrees(payload.as_bytes());
            let accepted = serde_path::market_event::<false>(payload.as_bytes()).is_ok();
            if usual && accepted {
                prop_assert!(taken.typed && taken.market, "declined: {}", payload);
            }
        }

        #[test]
        fn edited_variations_agree(
            v in variation(),
            edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..5),
        ) {
            let (payload, _) = render(&v);
            assert_agrees(&edited(payload.into_bytes(), &edits));
        }

        #[test]
        fn truncations_agree(v in variation(), cut in any::<usize>()) {
            let (payload, _) = render(&v);
            let bytes = payload.as_bytes();
            assert_agrees(&bytes[..cut % (bytes.len() + 1)]);
        }

        #[test]
        fn arbitrary_bytes_agree(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            assert_agrees(&bytes);
        }
    }

    // The REST klines array: the sample, rows made from the capture's kline events, and generated
    // variations of them (re-spaced, extended, with values at and beyond the limits).

    use crate::market::Kline;
    use crate::parse::{parse_rest_klines, parse_rest_klines_into, rest as rest_path};

    /// The byte scan's rows, or `None` when it declined.
    fn fast_rest(bytes: &[u8], server_time: i64) -> Option<Vec<Kline>> {
        let mut rows = Vec::new();
        rest_klines(bytes, server_time, &mut rows).map(|()| rows)
    }

    /// The differential property of the REST reader: it yields nothing or serde's rows (with
    /// every decimal's scale), and the public parsers return exactly what serde alone returns,
    /// leaving a caller's buffer as it was on an error. Returns whether the scan took the body.
    fn assert_rest_agrees(bytes: &[u8], server_time: i64) -> bool {
        let mut reference = Vec::new();
        let serde = rest_path::rest_klines_into::<false>(bytes, server_time, &mut reference).map(|_| reference);
        let taken = same_as_serde(fast_rest(bytes, server_time), &serde, bytes);
        same_result(parse_rest_klines(bytes, server_time), serde.clone(), bytes);
        let prefill = parse_rest_klines(samples::REST_KLINES.as_bytes(), 0).unwrap();
        let mut buffer = prefill.clone();
        let added = parse_rest_klines_into(bytes, server_time, &mut buffer);
        let expected: Result<Vec<Kline>, ParseError> = serde.map(|rows| [prefill, rows].concat());
        same_result(added.map(|_| buffer), expected, bytes);
        taken
    }

    /// REST rows made from the capture's kline events: the same numbers in the REST layout.
    fn capture_rest_rows() -> &'static [Vec<String>] {
        static ROWS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
        ROWS.get_or_init(|| {
            capture()
                .iter()
                .filter_map(|line| {
                    let value: serde_json::Value = serde_json::from_str(line).unwrap();
                    let k = value["data"].get("k")?.clone();
                    Some(
                        ["t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q", "B"]
                            .iter()
                            .map(|key| k[*key].to_string())
                            .collect(),
                    )
                })
                .collect()
        })
    }

    /// Every row the variations start from, as element texts.
    fn rest_bases() -> Vec<Vec<String>> {
        let sample: Vec<Vec<serde_json::Value>> = serde_json::from_str(samples::REST_KLINES).unwrap();
        sample
            .iter()
            .map(|row| row.iter().map(|v| v.to_string()).collect())
            .chain(capture_rest_rows().iter().cloned())
            .collect()
    }

    fn render_array(items: &[String], spaces: &mut Spaces) -> String {
        let mut out = String::from("[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(spaces.next());
                out.push(',');
            }
            out.push_str(spaces.next());
            out.push_str(item);
        }
        out.push_str(spaces.next());
        out.push(']');
        out
    }

    #[test]
    fn rest_sample_and_capture_rows_take_the_fast_path() {
        let server_time = 1_626_992_759_999;
        assert!(assert_rest_agrees(samples::REST_KLINES.as_bytes(), server_time));
        let rows = fast_rest(samples::REST_KLINES.as_bytes(), server_time).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].taker_buy_quote_volume.to_string(), "28.46694368");
        assert!(rows[0].closed && !rows[1].closed);
        for body in ["[]", " [ ] ", "\n[\t]\r\n"] {
            assert!(assert_rest_agrees(body.as_bytes(), 0), "{body}");
        }
        // The other samples are not klines arrays: declined, and serde gives the error.
        for sample in HOT_SAMPLES.iter().chain(&OTHER_SAMPLES) {
            if *sample != samples::REST_KLINES {
                assert!(!assert_rest_agrees(sample.as_bytes(), 0), "{sample}");
            }
        }
        let rows = capture_rest_rows();
        if rows.is_empty() {
            return;
        }
        assert_eq!(rows.len(), 67);
        let mut spaces = Spaces { state: 1, density: 0 };
        let rendered: Vec<String> = rows.iter().map(|row| render_array(row, &mut spaces)).collect();
        for row in &rendered {
            let body = format!("[{row}]");
            assert!(assert_rest_agrees(body.as_bytes(), 1_626_992_760_000), "{body}");
        }
        let body = render_array(&rendered, &mut spaces);
        assert!(assert_rest_agrees(body.as_bytes(), 1_626_992_760_000));
        assert_eq!(fast_rest(body.as_bytes(), 0).map(|rows| rows.len()), Some(67));
    }

    #[test]
    fn unsigned_decimals_take_the_exchange_shapes() {
        for (text, read) in [
            ("50003.7\"", Some((500037, 1, 7))),
            ("0.01634790\"", Some((1634790, 8, 10))),
            ("3917\"", Some((3917, 0, 4))),
            ("1234567.123456789012\"", Some((1_234_567_123_456_789_012, 12, 20))),
            ("1.123456789012345\"", Some((1_123_456_789_012_345, 15, 17))),
            ("12345678.1\"", None),
            ("1.1234567890123456\"", None),
            ("1234567.1234567890123\"", None),
            ("1.\"", None),
            (".5\"", None),
            ("-1\"", None),
            ("1.5", None),
            ("1.5x\"", None),
        ] {
            assert_eq!(unsigned_decimal(text.as_bytes(), 0), read, "{text}");
        }
    }

    #[test]
    fn rest_rows_decline_what_serde_must_decide() {
        let sample = samples::REST_KLINES;
        for (from, to, taken) in [
            // Later elements of any type are skipped; whitespace anywhere.
            (
                "\"17928899.62484339\"]",
                "\"17928899.62484339\",[1,{\"a\":null}],-2.5e3,true]",
                true,
            ),
            ("[[1499040000000,", "[ [ 1499040000000 ,\n", true),
            ("\"0\"]]", "\"0\" ] ]\n", true),
            // An escaped or malformed needed string, a float or string where an integer goes.
            ("\"0.80000000\"", "\"0.8000000\\u0030\"", false),
            ("\"0.80000000\"", "\"8e-1\"", false),
            ("\"0.80000000\"", "0.8", false),
            (",308,", ",308.0,", false),
            (",308,", ",-308,", false),
            (",308,", ",\"308\",", false),
            ("[[1499040000000", "[[1499040000000.0", false),
            ("[[1499040000000", "[[01499040000000", false),
            ("[[1499040000000", "[[-0", false),
            // Rows the shared checks refuse, short rows, and bad array syntax.
            ("\"0.80000000\"", "\"0.01\"", false),
            (",1499644799999,", ",1499040000000,", false),
            (",\"28.46694368\",\"17928899.62484339\"]", "]", false),
            ("\"17928899.62484339\"]", "\"17928899.62484339\",]", false),
            ("]]", "],]", false),
            ("]]", "]]x", false),
            ("[[", "[{}, [", false),
        ] {
            let body = samples::replaced(sample, from, to);
            assert_eq!(assert_rest_agrees(body.as_bytes(), 0), taken, "{body}");
        }
        // Integers at the limits serde reads.
        for (text, taken) in [("-9223372036854775808", true), ("9223372036854775808", false)] {
            let body = samples::replaced(sample, "[[1499040000000", &format!("[[{text}"));
            // The open time then lies after the close time: both paths refuse the row.
            assert!(!assert_rest_agrees(body.as_bytes(), 0) || taken);
        }
        for (text, taken) in [("18446744073709551615", true), ("18446744073709551616", false)] {
            let body = samples::replaced(sample, ",308,", &format!(",{text},"));
            assert_eq!(assert_rest_agrees(body.as_bytes(), 0), taken, "{text}");
        }
        // Invalid UTF-8 in the ignored element: serde does not look, nor does the scan.
        let mut latin1 = samples::replaced(sample, "\"0\"]]", "\"caf?\"]]").into_bytes();
        let at = latin1.iter().position(|&b| b == b'?').unwrap();
        latin1[at] = 0xe9;
        assert!(assert_rest_agrees(&latin1, 0));
        // ... but in a needed string it is an error of both.
        let mut in_price = samples::replaced(sample, "\"0.80000000\"", "\"0.8?\"").into_bytes();
        let at = in_price.iter().position(|&b| b == b'?').unwrap();
        in_price[at] = 0xe9;
        assert!(!assert_rest_agrees(&in_price, 0));
        // Deep nesting in an ignored element declines past the scan's limit.
        for (depth, taken) in [(MAX_SKIP_DEPTH as usize, true), (MAX_SKIP_DEPTH as usize + 1, false)] {
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let body = samples::replaced(sample, "\"0\"]]", &format!("\"0\",{nested}]]"));
            assert_eq!(assert_rest_agrees(body.as_bytes(), 0), taken, "depth {depth}");
        }
    }

    /// How to vary one row of a REST body: which base row, elements added after its twelve, one
    /// needed element replaced, and how many of the twelve to keep.
    #[derive(Clone, Debug)]
    struct RowVariation {
        base: usize,
        extras: Vec<String>,
        replace: Option<(usize, String)>,
        keep: usize,
    }

    /// How to vary a REST body.
    #[derive(Clone, Debug)]
    struct RestVariation {
        rows: Vec<RowVariation>,
        seed: u64,
        density: u64,
        server_time: i64,
    }

    /// Texts for a needed element: decimals in and out of the parser's fast range, and values of
    /// other kinds.
    fn rest_element() -> impl Strategy<Value = String> {
        prop_oneof![
            "-?[0-9]{1,20}(\\.[0-9]{1,20})?".prop_map(|d| format!("\"{d}\"")),
            "[0-9]{1,9}\\.[0-9]{1,8}".prop_map(|d| format!("\"{d}\"")),
            proptest::sample::select(LIMITS.to_vec()).prop_map(str::to_owned),
            json_value(),
        ]
    }

    fn rest_variation() -> impl Strategy<Value = RestVariation> {
        let row = (
            any::<usize>(),
            proptest::collection::vec(json_value(), 0..3),
            proptest::option::weighted(0.3, (any::<usize>(), rest_element())),
            proptest::option::weighted(0.05, 0usize..12).prop_map(|cut| cut.unwrap_or(12)),
        )
            .prop_map(|(base, extras, replace, keep)| RowVariation {
                base,
                extras,
                replace,
                keep,
            });
        (
            proptest::collection::vec(row, 0..6),
            any::<u64>(),
            0u64..4,
            prop_oneof![Just(0i64), Just(i64::MAX), Just(1_626_992_760_000i64), any::<i64>()],
        )
            .prop_map(|(rows, seed, density, server_time)| RestVariation {
                rows,
                seed,
                density,
                server_time,
            })
    }

    /// The body of a variation.
    fn render_rest(v: &RestVariation) -> String {
        let bases = rest_bases();
        let mut spaces = Spaces {
            state: v.seed | 1,
            density: v.density,
        };
        let rows: Vec<String> = v
            .rows
            .iter()
            .map(|v| {
                let mut row = bases[v.base % bases.len()].clone();
                if let Some((at, text)) = &v.replace {
                    row[at % 11] = text.clone();
                }
                row.truncate(v.keep);
                row.extend(v.extras.iter().cloned());
                render_array(&row, &mut spaces)
            })
            .collect();
        render_array(&rows, &mut spaces)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn rest_variations_agree_and_valid_ones_take_the_fast_path(v in rest_variation()) {
            let body = render_rest(&v);
            let taken = assert_rest_agrees(body.as_bytes(), v.server_time);
            let accepted = rest_path::rest_klines_into::<false>(body.as_bytes(), v.server_time, &mut Vec::new()).is_ok();
            // Nothing generated nests deeper than the scan's limit or escapes a needed string
            // that serde could read, so whatever serde accepts, the scan takes.
            prop_assert_eq!(taken, accepted, "{}", body);
        }

        #[test]
        fn edited_rest_variations_agree(
            v in rest_variation(),
            edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..5),
        ) {
            let body = render_rest(&v);
            assert_rest_agrees(&edited(body.into_bytes(), &edits), v.server_time);
        }

        #[test]
        fn truncated_rest_variations_agree(v in rest_variation(), cut in any::<usize>()) {
            let body = render_rest(&v);
            let bytes = body.as_bytes();
            assert_rest_agrees(&bytes[..cut % (bytes.len() + 1)], v.server_time);
        }

        #[test]
        fn unsigned_decimals_read_as_the_decimal_parser_does(
            text in proptest::collection::vec(
                prop_oneof![4 => proptest::sample::select(b"0123456789".to_vec()), 1 => proptest::sample::select(b".\"-\\".to_vec()), 1 => any::<u8>()],
                0..30,
            ),
            at in 0usize..4,
        ) {
            if let Some((mantissa, scale, len)) = unsigned_decimal(&text, at) {
                // The text up to its closing quote parses to the same value and scale.
                prop_assert_eq!(text.get(at + len), Some(&b'"'));
                let parsed = Decimal::parse_bytes(&text[at..at + len]).unwrap();
                prop_assert_eq!((parsed.mantissa(), parsed.scale()), (i128::from(mantissa), scale));
            }
        }

        #[test]
        fn arbitrary_bytes_agree_as_rest_bodies(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            assert_rest_agrees(&bytes, 0);
        }
    }
}
