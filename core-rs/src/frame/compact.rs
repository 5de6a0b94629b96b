//! Wire-2 Delta frames: kline rows as varint differences from the version of the same bar the subscriber already holds (docs/protocol.md, "Compact Delta frames").
//!
//! The hub numbers its publications (turns). A compact frame says which turn it is, as a step
//! from its stream's previous frame or snapshot, and each kline row names the earlier turn that
//! published the version its differences are taken from (its base). A reader holding that version
//! applies the row; a reader that does not must not guess (a base mismatch: it asks for a
//! snapshot). A row without a base carries the bar whole, relative to fixed references, and
//! applies anywhere. A bar's `as_of` is never taken from the base: the hub advances it without a
//! delta (docs/protocol.md, Semantics), so readers' copies of it may differ.
//!
//! Every value is exact: mantissas at their group's scale as in a TRB1 `KlineRow`, differences in
//! wrapping 64-bit arithmetic (so any pair of values has one), zigzag-mapped to unsigned varints.
//! Entities other than klines ride in a TRB1 Delta frame appended as the frame's tail; a wire-3
//! frame (marker `0xD3`) also carries its ticks as compact rows before that tail, each one whole
//! (no base): top-of-book quotes change on nearly every update, and a row of plain varints is
//! under a third of a TRB1 `TickRow`.

use super::{
    check_scale, kline_from_row, kline_row, tick_from_row, wire, FrameError, KLINE_FLAGS, KLINE_HAS_FIRST_TRADE_ID,
    TICK_HAS_LAST, TICK_HAS_UPDATE_ID,
};
use crate::delta::Delta;
use crate::interval::Interval;
use crate::market::{Kline, Tick};
use crate::symbol::SymbolId;

/// First byte of every wire-2 compact frame. A TRB1 frame never starts with it: its first four
/// bytes are the little-endian offset of its root table, which is a multiple of 4.
pub const COMPACT_MARKER: u8 = 0xD2;

/// First byte of every wire-3 compact frame (a wire-2 frame with compact tick rows); not a
/// multiple of 4 either.
pub const COMPACT_TICKS_MARKER: u8 = 0xD3;

// A tick row's head: its `TickFlag` bits (2), then the price scale (5 bits), then the quantity
// scale (5 bits); bits from `TICK_HEAD_BITS` up are refused.
const TICK_FLAG_MASK: u64 = 3;
const PRICE_SCALE_SHIFT: u32 = 2;
const QTY_SCALE_SHIFT: u32 = 7;
const SCALE_MASK: u64 = 31;
const TICK_HEAD_BITS: u32 = 12;
/// The fewest bytes a tick row takes: key, head, time, bid, ask, bid and ask quantities.
const TICK_ROW_MIN_BYTES: usize = 7;

/// Bars open on whole minutes (every Binance interval), so open times travel in minutes.
const MINUTE: i64 = 60_000;

// Bits of a row's mask. Bits 1–17 each announce one written value, in this order after the open
// time; the most frequent come first, so a typical update's mask fits one or two varint bytes.
/// The row is relative to a base version (its distance in turns follows the mask).
const HAS_BASE: u32 = 1;
/// `as_of` is known (value: `as_of − sent_at`); clear: `as_of` is 0.
const AS_OF: u32 = 1 << 1;
const TRADES: u32 = 1 << 2;
const CLOSE: u32 = 1 << 3;
const VOLUME: u32 = 1 << 4;
const QUOTE_VOLUME: u32 = 1 << 5;
const TAKER_BUY_VOLUME: u32 = 1 << 6;
const TAKER_BUY_QUOTE_VOLUME: u32 = 1 << 7;
const HIGH: u32 = 1 << 8;
const LOW: u32 = 1 << 9;
const LAST_TRADE_ID: u32 = 1 << 10;
/// The row's `KlineFlag` bits, written plainly.
const FLAGS: u32 = 1 << 11;
const FIRST_TRADE_ID: u32 = 1 << 12;
const OPEN: u32 = 1 << 13;
const CLOSE_TIME: u32 = 1 << 14;
/// Scales, written plainly.
const PRICE_SCALE: u32 = 1 << 15;
const VOLUME_SCALE: u32 = 1 << 16;
const QUOTE_SCALE: u32 = 1 << 17;
/// The open time travels in milliseconds (it is not on a whole minute); no value of its own.
const OPEN_TIME_MS: u32 = 1 << 18;
const KNOWN_BITS: u32 = (1 << 19) - 1;
/// The value-carrying bits in the order their values are written.
const VALUE_BITS: std::ops::RangeInclusive<u32> = 1..=17;
/// The mask's value-carrying bits (`VALUE_BITS`) as one mask.
const VALUE_MASK: u32 = ((1 << 18) - 1) & !HAS_BASE;

const PRICE_BITS: [u32; 4] = [OPEN, HIGH, LOW, CLOSE];
const VOLUME_BITS: [u32; 2] = [VOLUME, TAKER_BUY_VOLUME];
const QUOTE_BITS: [u32; 2] = [QUOTE_VOLUME, TAKER_BUY_QUOTE_VOLUME];
const SCALE_BITS: [u32; 3] = [PRICE_SCALE, VOLUME_SCALE, QUOTE_SCALE];
const SCALE_FIELDS: [&str; 3] = ["kline.price_scale", "kline.volume_scale", "kline.quote_scale"];

/// A kline as the wire carries it: each decimal group's mantissas at the group's scale, exactly
/// the fields of a TRB1 `KlineRow` (absent trade ids are 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct WireKline {
    pub open_time: i64,
    pub close_time: i64,
    pub as_of: i64,
    pub trades: u64,
    pub first_trade_id: u64,
    pub last_trade_id: u64,
    /// open, high, low, close (× 10^-scales[0])
    pub prices: [i64; 4],
    /// volume, taker buy volume (× 10^-scales[1])
    pub volumes: [i64; 2],
    /// quote volume, taker buy quote volume (× 10^-scales[2])
    pub quotes: [i64; 2],
    /// price, volume and quote scales
    pub scales: [u8; 3],
    /// `KlineFlag` bits
    pub flags: u8,
}

impl WireKline {
    /// The wire form of `kline` (what a TRB1 frame would carry), or why it cannot travel.
    pub fn of(kline: &Kline) -> Result<WireKline, FrameError> {
        let row = kline_row(kline)?;
        Ok(WireKline {
            open_time: row.open_time(),
            close_time: row.close_time(),
            as_of: row.as_of(),
            trades: row.trades(),
            first_trade_id: row.first_trade_id(),
            last_trade_id: row.last_trade_id(),
            prices: [row.open(), row.high(), row.low(), row.close()],
            volumes: [row.volume(), row.taker_buy_volume()],
            quotes: [row.quote_volume(), row.taker_buy_quote_volume()],
            scales: [row.price_scale(), row.volume_scale(), row.quote_scale()],
            flags: row.flags(),
        })
    }

    /// The kline a TRB1 reader would decode from the same row (scales and flags checked).
    pub fn to_kline(&self) -> Result<Kline, FrameError> {
        let [open, high, low, close] = self.prices;
        let [volume, taker_buy_volume] = self.volumes;
        let [quote_volume, taker_buy_quote_volume] = self.quotes;
        let [price_scale, volume_scale, quote_scale] = self.scales;
        kline_from_row(&wire::KlineRow::new(
            self.open_time,
            self.close_time,
            self.as_of,
            self.trades,
            self.first_trade_id,
            self.last_trade_id,
            open,
            high,
            low,
            close,
            volume,
            taker_buy_volume,
            quote_volume,
            taker_buy_quote_volume,
            price_scale,
            volume_scale,
            quote_scale,
            self.flags,
        ))
    }

    /// Whether `to_kline` accepts it: known flags, scales within a decimal's.
    pub fn check(&self) -> Result<(), FrameError> {
        super::check_flags(self.flags, KLINE_FLAGS, "kline.flags")?;
        for (scale, field) in self.scales.into_iter().zip(SCALE_FIELDS) {
            check_scale(scale, field)?;
        }
        Ok(())
    }

    /// The bar is final (its `KlineFlag` bit).
    pub fn is_closed(&self) -> bool {
        self.flags & super::KLINE_CLOSED != 0
    }

    fn has_first_trade_id(&self) -> bool {
        self.flags & KLINE_HAS_FIRST_TRADE_ID != 0
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// `value − reference` in wrapping arithmetic, zigzagged: exact for any two i64s.
fn difference(value: i64, reference: i64) -> u64 {
    zigzag(value.wrapping_sub(reference))
}

fn add_difference(reference: i64, written: u64) -> i64 {
    reference.wrapping_add(unzigzag(written))
}

/// Appends `value` as an LEB128 varint (7 bits a byte, low bits first).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn malformed(what: &str) -> FrameError {
    FrameError::Malformed(format!("compact frame: {what}"))
}

/// Why a varint could not be read; a `malformed` [`FrameError`] to the reader's caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarintError {
    Truncated,
    TooLong,
}

impl From<VarintError> for FrameError {
    fn from(error: VarintError) -> FrameError {
        match error {
            VarintError::Truncated => malformed("truncated"),
            VarintError::TooLong => malformed("varint beyond 64 bits"),
        }
    }
}

/// Reads varints from a byte slice; every read past the end is a `malformed` error.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// One varint. A one-byte varint (most differences of a row) is read here, inline in the
    /// caller; longer ones by `long_varint` (inlined or not as the compiler and the PGO profile
    /// decide). The error is one byte, so the result travels in registers (a `FrameError` result
    /// is returned through memory, at every one of a frame's 60–110 reads).
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, VarintError> {
        match self.bytes.get(self.at) {
            Some(&byte) if byte < 0x80 => {
                self.at += 1;
                Ok(u64::from(byte))
            }
            _ => self.long_varint(),
        }
    }

    fn long_varint(&mut self) -> Result<u64, VarintError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self.bytes.get(self.at).ok_or(VarintError::Truncated)?;
            self.at += 1;
            // The tenth byte holds bit 63 alone.
            if i == 9 && byte > 1 {
                return Err(VarintError::TooLong);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(VarintError::TooLong)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, FrameError> {
        let byte = *self.bytes.get(self.at).ok_or_else(|| malformed("truncated"))?;
        self.at += 1;
        Ok(byte)
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }
}

/// One kline row of a compact frame as written: which bar, the base it is relative to, and the
/// written values. [`CompactRow::resolve`] turns it into the bar's new wire form given the base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactRow {
    pub symbol: SymbolId,
    pub interval: Interval,
    pub open_time: i64,
    /// Turns from the base version's publication to this frame's turn (at least 1); 0 for a row
    /// without a base.
    pub base_back: u64,
    mask: u32,
    /// Written values by mask bit (zigzagged differences; flags and scales plain); 0 if unwritten.
    values: [u64; 18],
}

/// The price references of a row: the base's mantissas when the base has the same scale,
/// otherwise the open for high, low and close (the open itself against 0).
fn price_references(base: Option<&WireKline>, scale: u8, open: i64) -> [i64; 4] {
    match base {
        Some(b) if b.scales[0] == scale => b.prices,
        _ => [0, open, open, open],
    }
}

/// The references of a two-value group: the base's mantissas at the same scale, otherwise 0.
fn pair_references(base: Option<&WireKline>, group: usize, scale: u8) -> [i64; 2] {
    match base {
        Some(b) if b.scales[group] == scale => {
            if group == 1 {
                b.volumes
            } else {
                b.quotes
            }
        }
        _ => [0, 0],
    }
}

/// The reference of the last trade id: `first_trade_id + trades − 1` (0 for an absent first id),
/// which is what an exchange bar carries, so it is rarely written.
fn last_trade_id_reference(first_trade_id: u64, trades: u64) -> u64 {
    first_trade_id.wrapping_add(trades).wrapping_sub(1)
}

impl CompactRow {
    /// The row that turns `base` (its distance in turns, and its wire form) into `new`, or a row
    /// without a base. `sent_at` is the frame's: open time and `as_of` are written from it.
    pub fn diff(
        symbol: SymbolId,
        interval: Interval,
        new: &WireKline,
        base: Option<(u64, &WireKline)>,
        sent_at: i64,
    ) -> CompactRow {
        let mut row = CompactRow {
            symbol,
            interval,
            open_time: new.open_time,
            base_back: 0,
            mask: 0,
            values: [0; 18],
        };
        let b = base.map(|(_, b)| b);
        if let Some((back, _)) = base {
            row.mask |= HAS_BASE;
            row.base_back = back;
        }
        if new.open_time.rem_euclid(MINUTE) != 0 {
            row.mask |= OPEN_TIME_MS;
        }
        if new.flags != b.map_or(0, |b| b.flags) {
            row.put(FLAGS, u64::from(new.flags));
        }
        for (group, bit) in SCALE_BITS.into_iter().enumerate() {
            if new.scales[group] != b.map_or(0, |b| b.scales[group]) {
                row.put(bit, u64::from(new.scales[group]));
            }
        }
        if new.as_of != 0 {
            row.put(AS_OF, difference(new.as_of, sent_at));
        }
        row.put_difference(CLOSE_TIME, new.close_time, b.map_or(new.open_time, |b| b.close_time));
        row.put_difference(TRADES, new.trades as i64, b.map_or(0, |b| b.trades) as i64);
        if new.has_first_trade_id() {
            let reference = b.filter(|b| b.has_first_trade_id()).map_or(0, |b| b.first_trade_id);
            row.put_difference(FIRST_TRADE_ID, new.first_trade_id as i64, reference as i64);
        }
        if new.flags & super::KLINE_HAS_LAST_TRADE_ID != 0 {
            let first = if new.has_first_trade_id() {
                new.first_trade_id
            } else {
                0
            };
            let reference = last_trade_id_reference(first, new.trades);
            row.put_difference(LAST_TRADE_ID, new.last_trade_id as i64, reference as i64);
        }
        let prices = price_references(b, new.scales[0], new.prices[0]);
        for ((bit, value), reference) in PRICE_BITS.into_iter().zip(new.prices).zip(prices) {
            row.put_difference(bit, value, reference);
        }
        let volumes = pair_references(b, 1, new.scales[1]);
        for ((bit, value), reference) in VOLUME_BITS.into_iter().zip(new.volumes).zip(volumes) {
            row.put_difference(bit, value, reference);
        }
        let quotes = pair_references(b, 2, new.scales[2]);
        for ((bit, value), reference) in QUOTE_BITS.into_iter().zip(new.quotes).zip(quotes) {
            row.put_difference(bit, value, reference);
        }
        row
    }

    fn put(&mut self, bit: u32, value: u64) {
        self.mask |= bit;
        self.values[bit.trailing_zeros() as usize] = value;
    }

    /// Writes `value − reference` when they differ.
    fn put_difference(&mut self, bit: u32, value: i64, reference: i64) {
        if value != reference {
            self.put(bit, difference(value, reference));
        }
    }

    fn written(&self, bit: u32) -> Option<u64> {
        (self.mask & bit != 0).then(|| self.values[bit.trailing_zeros() as usize])
    }

    /// `reference` plus the written difference, or `reference` when nothing was written.
    fn with_difference(&self, bit: u32, reference: i64) -> i64 {
        self.written(bit).map_or(reference, |w| add_difference(reference, w))
    }

    /// True when the row is relative to a base version.
    pub fn has_base(&self) -> bool {
        self.mask & HAS_BASE != 0
    }

    /// The bar's new wire form, given the base the row is relative to (`None` for a row without
    /// one). Errors when the base does not fit the row (the row has a base and none is given, or
    /// the row writes a trade id the resolved flags say is absent): the caller holds another
    /// version than the row was written against.
    pub fn resolve(&self, sent_at: i64, base: Option<&WireKline>) -> Result<WireKline, FrameError> {
        if self.has_base() != base.is_some() {
            return Err(malformed("a row's base does not match the version given"));
        }
        let b = base;
        let flags = self.written(FLAGS).map_or(b.map_or(0, |b| b.flags), |w| w as u8);
        let mut scales = b.map_or([0; 3], |b| b.scales);
        for (group, bit) in SCALE_BITS.into_iter().enumerate() {
            if let Some(w) = self.written(bit) {
                scales[group] = w as u8;
            }
        }
        let mut new = WireKline {
            open_time: self.open_time,
            close_time: self.with_difference(CLOSE_TIME, b.map_or(self.open_time, |b| b.close_time)),
            as_of: self.written(AS_OF).map_or(0, |w| add_difference(sent_at, w)),
            trades: self.with_difference(TRADES, b.map_or(0, |b| b.trades) as i64) as u64,
            scales,
            flags,
            ..WireKline::default()
        };
        if new.has_first_trade_id() {
            let reference = b.filter(|b| b.has_first_trade_id()).map_or(0, |b| b.first_trade_id);
            new.first_trade_id = self.with_difference(FIRST_TRADE_ID, reference as i64) as u64;
        } else if self.mask & FIRST_TRADE_ID != 0 {
            return Err(malformed("a first trade id on a row without one"));
        }
        if new.flags & super::KLINE_HAS_LAST_TRADE_ID != 0 {
            let reference = last_trade_id_reference(new.first_trade_id, new.trades);
            new.last_trade_id = self.with_difference(LAST_TRADE_ID, reference as i64) as u64;
        } else if self.mask & LAST_TRADE_ID != 0 {
            return Err(malformed("a last trade id on a row without one"));
        }
        let open = self.with_difference(OPEN, price_references(b, scales[0], 0)[0]);
        let prices = price_references(b, scales[0], open);
        for ((slot, bit), reference) in new.prices.iter_mut().zip(PRICE_BITS).zip(prices) {
            *slot = self.with_difference(bit, reference);
        }
        let volumes = pair_references(b, 1, scales[1]);
        for ((slot, bit), reference) in new.volumes.iter_mut().zip(VOLUME_BITS).zip(volumes) {
            *slot = self.with_difference(bit, reference);
        }
        let quotes = pair_references(b, 2, scales[2]);
        for ((slot, bit), reference) in new.quotes.iter_mut().zip(QUOTE_BITS).zip(quotes) {
            *slot = self.with_difference(bit, reference);
        }
        Ok(new)
    }

    /// Appends the row in its wire form.
    pub fn write(&self, out: &mut Vec<u8>, sent_at: i64) {
        put_varint(out, (u64::from(self.symbol.0) << 4) | u64::from(self.interval.code()));
        put_varint(out, u64::from(self.mask));
        if self.has_base() {
            put_varint(out, self.base_back);
        }
        if self.mask & OPEN_TIME_MS != 0 {
            put_varint(out, difference(self.open_time, sent_at));
        } else {
            let minutes = self.open_time.div_euclid(MINUTE);
            put_varint(out, difference(minutes, sent_at.div_euclid(MINUTE)));
        }
        for bit in VALUE_BITS {
            if let Some(value) = self.written(1 << bit) {
                put_varint(out, value);
            }
        }
    }

    /// Reads one row, checking everything that can be checked without the base.
    pub(crate) fn read(reader: &mut Reader<'_>, sent_at: i64) -> Result<CompactRow, FrameError> {
        let key = reader.varint()?;
        let code = (key & 15) as u8;
        let interval = Interval::from_code(code).ok_or(FrameError::UnknownInterval { code })?;
        let symbol = u32::try_from(key >> 4).map_err(|_| malformed("symbol id beyond 32 bits"))?;
        let mask = reader.varint()?;
        if mask & !u64::from(KNOWN_BITS) != 0 {
            return Err(FrameError::UnknownBits {
                field: "compact.row_mask",
                bits: mask,
            });
        }
        let mask = mask as u32;
        let base_back = if mask & HAS_BASE != 0 {
            match reader.varint()? {
                0 => return Err(malformed("a base 0 turns back")),
                back => back,
            }
        } else {
            0
        };
        let written = unzigzag(reader.varint()?);
        // Differences wrap (the writer's did), so only the minutes' product can overflow.
        let open_time = if mask & OPEN_TIME_MS != 0 {
            Some(sent_at.wrapping_add(written))
        } else {
            sent_at.div_euclid(MINUTE).wrapping_add(written).checked_mul(MINUTE)
        }
        .ok_or_else(|| malformed("open time out of range"))?;
        let mut row = CompactRow {
            symbol: SymbolId(symbol),
            interval,
            open_time,
            base_back,
            mask,
            values: [0; 18],
        };
        // The written values follow in bit order: visit the set bits only.
        let mut unread = mask & VALUE_MASK;
        while unread != 0 {
            row.values[unread.trailing_zeros() as usize] = reader.varint()?;
            unread &= unread - 1;
        }
        if let Some(flags) = row.written(FLAGS) {
            if flags & !u64::from(KLINE_FLAGS) != 0 {
                return Err(FrameError::UnknownBits {
                    field: "kline.flags",
                    bits: flags,
                });
            }
        }
        for (bit, field) in SCALE_BITS.into_iter().zip(SCALE_FIELDS) {
            if let Some(scale) = row.written(bit) {
                check_scale(u8::try_from(scale).unwrap_or(u8::MAX), field)?;
            }
        }
        Ok(row)
    }
}

/// What a compact frame carries besides its header: the turn step, the kline rows and the other
/// entities (from the tail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactDelta {
    /// This frame's turn minus the turn of the stream's previous frame (or snapshot); at least 1.
    pub turn_step: u64,
    pub rows: Vec<CompactRow>,
    /// Whether the frame has a tick section (wire 3), even an empty one.
    pub tick_rows: bool,
    /// The ticks of a wire-3 frame's tick rows, in order.
    pub ticks: Vec<(SymbolId, Tick)>,
    /// The tail's deltas (ticks on wire 2, marks, positions, balances, the ban list); never
    /// klines, and never ticks on wire 3.
    pub tail: Vec<Delta>,
}

/// Appends a compact frame's header: marker (`COMPACT_MARKER`, or `COMPACT_TICKS_MARKER` for a
/// frame with tick rows), stream, seq, turn step, send time and row count.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    marker: u8,
    stream: u32,
    seq: u64,
    turn_step: u64,
    sent_at: i64,
    rows: usize,
) {
    out.push(marker);
    put_varint(out, u64::from(stream));
    put_varint(out, seq);
    put_varint(out, turn_step);
    put_varint(out, zigzag(sent_at));
    put_varint(out, rows as u64);
}

/// A compact frame's header fields as read.
pub(crate) struct CompactHeader {
    /// A wire-3 frame: tick rows follow the kline rows.
    pub tick_rows: bool,
    pub stream: u32,
    pub seq: u64,
    pub turn_step: u64,
    pub sent_at: i64,
    pub rows: usize,
}

/// Reads the header after the marker.
pub(crate) fn read_header(reader: &mut Reader<'_>) -> Result<CompactHeader, FrameError> {
    let tick_rows = match reader.byte()? {
        COMPACT_MARKER => false,
        COMPACT_TICKS_MARKER => true,
        _ => return Err(FrameError::BadIdentifier),
    };
    let stream = u32::try_from(reader.varint()?).map_err(|_| malformed("stream id beyond 32 bits"))?;
    let seq = reader.varint()?;
    let turn_step = match reader.varint()? {
        0 => return Err(malformed("a turn step of 0")),
        step => step,
    };
    let sent_at = unzigzag(reader.varint()?);
    let rows = reader.varint()?;
    // A row takes at least three bytes (key, mask, open time): a count beyond that is a lie,
    // refused before anything is allocated for it.
    let rows = usize::try_from(rows)
        .ok()
        .filter(|&n| n <= reader.rest().len() / 3)
        .ok_or_else(|| malformed("more rows than bytes"))?;
    Ok(CompactHeader {
        tick_rows,
        stream,
        seq,
        turn_step,
        sent_at,
        rows,
    })
}

/// Reads a wire-3 frame's tick count (after its kline rows), refusing a count its bytes cannot hold.
pub(crate) fn read_tick_count(reader: &mut Reader<'_>) -> Result<usize, FrameError> {
    let count = reader.varint()?;
    usize::try_from(count)
        .ok()
        .filter(|&n| n <= reader.rest().len() / TICK_ROW_MIN_BYTES)
        .ok_or_else(|| malformed("more tick rows than bytes"))
}

/// Appends `tick` of `symbol` as a compact tick row, or says why it cannot travel (as a TRB1
/// frame would: its decimals do not fit a shared scale and a 64-bit mantissa).
pub fn write_tick(out: &mut Vec<u8>, symbol: SymbolId, tick: &Tick, sent_at: i64) -> Result<(), FrameError> {
    let row = super::tick_row(symbol, tick)?;
    write_tick_row(out, &row, sent_at);
    Ok(())
}

/// Appends one tick as a compact row, from its TRB1 row (so both wires carry the same mantissas
/// and scales): key, head, time, update id (when flagged), bid, ask, last (when flagged), bid and
/// ask quantities. docs/protocol.md, "Compact tick rows (wire 3)".
fn write_tick_row(out: &mut Vec<u8>, row: &wire::TickRow, sent_at: i64) {
    let flags = row.flags();
    put_varint(out, u64::from(row.symbol()));
    let head = u64::from(flags)
        | (u64::from(row.price_scale()) << PRICE_SCALE_SHIFT)
        | (u64::from(row.qty_scale()) << QTY_SCALE_SHIFT);
    put_varint(out, head);
    put_varint(out, difference(row.time(), sent_at));
    if flags & TICK_HAS_UPDATE_ID != 0 {
        put_varint(out, row.update_id());
    }
    let bid = row.bid();
    put_varint(out, zigzag(bid));
    put_varint(out, difference(row.ask(), bid));
    if flags & TICK_HAS_LAST != 0 {
        put_varint(out, difference(row.last(), bid));
    }
    put_varint(out, zigzag(row.bid_qty()));
    put_varint(out, zigzag(row.ask_qty()));
}

/// Reads one compact tick row, checked as a TRB1 `TickRow` is.
pub(crate) fn read_tick_row(reader: &mut Reader<'_>, sent_at: i64) -> Result<(SymbolId, Tick), FrameError> {
    let symbol = u32::try_from(reader.varint()?).map_err(|_| malformed("symbol id beyond 32 bits"))?;
    let head = reader.varint()?;
    if head >> TICK_HEAD_BITS != 0 {
        return Err(FrameError::UnknownBits {
            field: "compact.tick_head",
            bits: head,
        });
    }
    let flags = (head & TICK_FLAG_MASK) as u8;
    let price_scale = check_scale(((head >> PRICE_SCALE_SHIFT) & SCALE_MASK) as u8, "tick.price_scale")?;
    let qty_scale = check_scale(((head >> QTY_SCALE_SHIFT) & SCALE_MASK) as u8, "tick.qty_scale")?;
    let time = add_difference(sent_at, reader.varint()?);
    let update_id = if flags & TICK_HAS_UPDATE_ID != 0 {
        reader.varint()?
    } else {
        0
    };
    let bid = unzigzag(reader.varint()?);
    let ask = add_difference(bid, reader.varint()?);
    let last = if flags & TICK_HAS_LAST != 0 {
        add_difference(bid, reader.varint()?)
    } else {
        0
    };
    let bid_qty = unzigzag(reader.varint()?);
    let ask_qty = unzigzag(reader.varint()?);
    tick_from_row(&wire::TickRow::new(
        time,
        update_id,
        bid,
        ask,
        last,
        bid_qty,
        ask_qty,
        symbol,
        price_scale,
        qty_scale,
        flags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    const T: i64 = 1_767_225_600_000;

    fn bar() -> Kline {
        Kline {
            open_time: T,
            close_time: T + MINUTE - 1,
            open: d("50000.1"),
            high: d("50010.5"),
            low: d("49990.2"),
            close: d("50001.7"),
            volume: d("12.345"),
            quote_volume: d("617283.1234"),
            trades: 120,
            taker_buy_volume: d("6.001"),
            taker_buy_quote_volume: d("300050.0001"),
            first_trade_id: Some(9_000_000_001),
            last_trade_id: Some(9_000_000_120),
            closed: false,
            as_of: T + 20_000,
        }
    }

    /// Diff, write, read and resolve: the bar comes back exactly, mantissa and scale.
    fn round_trip(new: &Kline, base: Option<(u64, &Kline)>, sent_at: i64) -> (Kline, usize) {
        let wire_new = WireKline::of(new).unwrap();
        let wire_base = base.map(|(back, b)| (back, WireKline::of(b).unwrap()));
        let row = CompactRow::diff(
            SymbolId(3),
            Interval::M1,
            &wire_new,
            wire_base.as_ref().map(|(back, b)| (*back, b)),
            sent_at,
        );
        let mut bytes = Vec::new();
        row.write(&mut bytes, sent_at);
        let mut reader = Reader::new(&bytes);
        let read = CompactRow::read(&mut reader, sent_at).unwrap();
        assert!(reader.rest().is_empty());
        assert_eq!(read, row);
        let resolved = read.resolve(sent_at, wire_base.as_ref().map(|(_, b)| b)).unwrap();
        assert_eq!(resolved, wire_new);
        (resolved.to_kline().unwrap(), bytes.len())
    }

    /// Field by field, mantissa and scale: `Decimal`'s `==` compares values only.
    fn assert_exact(a: &Kline, b: &Kline) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn an_update_against_its_base_is_small_and_exact() {
        let base = bar();
        let mut next = base;
        next.close = d("50003.2");
        next.high = d("50010.5");
        next.trades = 123;
        next.last_trade_id = Some(9_000_000_123);
        next.volume = d("12.400");
        next.quote_volume = d("620033.1234");
        next.as_of = T + 20_250;
        let (back, len) = round_trip(&next, Some((40, &base)), T + 20_260);
        assert_exact(&back, &WireKline::of(&next).unwrap().to_kline().unwrap());
        // key 1, mask 1, base 1, open time 1, as_of 1, trades 1, close 2, volume 1, quote 3.
        assert!(len <= 14, "{len} bytes");
    }

    /// The example of docs/protocol.md ("Compact Delta frames", Example), byte for byte.
    #[test]
    fn the_documented_example_is_what_the_codec_writes() {
        let base = bar();
        let mut next = base;
        next.close = d("50003.2");
        next.trades = 123;
        next.last_trade_id = Some(9_000_000_123);
        next.volume = d("12.400");
        next.quote_volume = d("620033.1234");
        next.as_of = T + 20_250;
        let sent_at = T + 20_260;
        let base_wire = WireKline::of(&base).unwrap();
        let row = CompactRow::diff(
            SymbolId(3),
            Interval::M1,
            &WireKline::of(&next).unwrap(),
            Some((40, &base_wire)),
            sent_at,
        );
        let mut bytes = Vec::new();
        row.write(&mut bytes, sent_at);
        assert_eq!(
            bytes,
            [0x30, 0x3f, 0x28, 0x00, 0x13, 0x06, 0x1e, 0x6e, 0xc0, 0xf7, 0x9c, 0x1a]
        );
    }

    #[test]
    fn a_row_without_base_carries_the_whole_bar() {
        let (back, len) = round_trip(&bar(), None, T + 20_010);
        assert_eq!(back, bar());
        assert!(len < 60, "{len} bytes");
    }

    #[test]
    fn extreme_values_and_scales_travel_exactly() {
        let mut extreme = bar();
        extreme.open = Decimal::new(i128::from(i64::MAX), 30).unwrap();
        extreme.high = Decimal::new(i128::from(i64::MAX), 30).unwrap();
        extreme.low = Decimal::new(i128::from(i64::MIN), 30).unwrap();
        extreme.close = Decimal::new(-1, 30).unwrap();
        extreme.volume = Decimal::new(i128::from(i64::MAX), 0).unwrap();
        extreme.taker_buy_volume = Decimal::new(i128::from(i64::MIN), 0).unwrap();
        extreme.trades = u64::MAX;
        extreme.first_trade_id = Some(u64::MAX);
        extreme.last_trade_id = Some(0);
        extreme.open_time = i64::MIN + 7; // not on a minute: travels in ms
        extreme.close_time = i64::MAX;
        extreme.as_of = i64::MIN;
        for sent_at in [0, T, i64::MAX, i64::MIN] {
            let (back, _) = round_trip(&extreme, None, sent_at);
            assert_exact(&back, &WireKline::of(&extreme).unwrap().to_kline().unwrap());
            // Against a base on the far side of every range, and with other scales.
            let (back, _) = round_trip(&extreme, Some((u64::MAX, &bar())), sent_at);
            assert_exact(&back, &WireKline::of(&extreme).unwrap().to_kline().unwrap());
            let (back, _) = round_trip(&bar(), Some((1, &extreme)), sent_at);
            assert_exact(&back, &WireKline::of(&bar()).unwrap().to_kline().unwrap());
        }
    }

    #[test]
    fn a_scale_change_writes_the_group_against_fixed_references() {
        let base = bar();
        let mut next = base;
        next.close = d("50001.75"); // the price group goes to scale 2
        let (back, _) = round_trip(&next, Some((1, &base)), T);
        assert_exact(&back, &WireKline::of(&next).unwrap().to_kline().unwrap());
        assert_eq!(back.open.scale(), 2);
    }

    #[test]
    fn absent_trade_ids_and_closed_flags_follow_the_base() {
        let base = bar();
        let mut rest = base;
        rest.first_trade_id = None;
        rest.last_trade_id = None;
        rest.closed = true;
        rest.as_of = 0;
        let (back, _) = round_trip(&rest, Some((2, &base)), T);
        assert_eq!(
            (back.first_trade_id, back.last_trade_id, back.closed, back.as_of),
            (None, None, true, 0)
        );
        let (back, _) = round_trip(&base, Some((2, &rest)), T);
        assert_exact(&back, &base);
    }

    #[test]
    fn a_row_refuses_a_base_it_was_not_written_against() {
        let base = WireKline::of(&bar()).unwrap();
        let row = CompactRow::diff(SymbolId(1), Interval::M1, &base, Some((3, &base)), T);
        assert!(row.resolve(T, None).is_err());
        let whole = CompactRow::diff(SymbolId(1), Interval::M1, &base, None, T);
        assert!(whole.resolve(T, Some(&base)).is_err());
        // A base without trade ids under a row that changes the last one.
        let mut no_ids = bar();
        no_ids.first_trade_id = None;
        no_ids.last_trade_id = None;
        let mut next = bar();
        next.last_trade_id = Some(1);
        let row = CompactRow::diff(
            SymbolId(1),
            Interval::M1,
            &WireKline::of(&next).unwrap(),
            Some((1, &base)),
            T,
        );
        assert!(row.resolve(T, Some(&WireKline::of(&no_ids).unwrap())).is_err());
    }

    #[test]
    fn garbage_rows_are_typed_errors() {
        let read = |bytes: &[u8]| CompactRow::read(&mut Reader::new(bytes), T);
        assert_eq!(read(&[0x0f]), Err(FrameError::UnknownInterval { code: 15 }));
        assert_eq!(read(&[0x00, 0x80, 0x80, 0x20]).unwrap_err().reason(), "unknown_flags");
        assert_eq!(read(&[0x00, 0x01, 0x00, 0x00]).unwrap_err().reason(), "malformed");
        assert_eq!(read(&[0x00, 0x00]).unwrap_err().reason(), "malformed");
        assert_eq!(
            read(&[0x00, 0x80, 0x10, 0x00, 0x09]).unwrap_err().reason(),
            "unknown_flags"
        );
        assert_eq!(
            read(&[0x00, 0x80, 0x80, 0x02, 0x00, 31]).unwrap_err().reason(),
            "scale_too_large"
        );
        let mut reader = Reader::new(&[0xff; 11]);
        assert_eq!(reader.varint(), Err(VarintError::TooLong));
        assert_eq!(FrameError::from(VarintError::TooLong).reason(), "malformed");
        assert_eq!(Reader::new(&[0x80]).varint(), Err(VarintError::Truncated));
        assert_eq!(Reader::new(&[]).varint(), Err(VarintError::Truncated));
        assert_eq!(Reader::new(&[0x7f]).varint(), Ok(127));
        assert_eq!(Reader::new(&[0x80, 0x01]).varint(), Ok(128));
        let mut reader = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(reader.varint(), Ok(u64::MAX));
    }

    proptest::proptest! {
        #[test]
        fn varints_read_as_written_wherever_they_end(
            values in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..12),
            shifts in proptest::collection::vec(0u32..64, 12),
            padding in 0usize..9,
        ) {
            // Values of every width (shifted right), then a few bytes that are not a varint's end.
            let values: Vec<u64> = values.iter().zip(&shifts).map(|(v, s)| v >> s).collect();
            let mut bytes = Vec::new();
            for &v in &values {
                put_varint(&mut bytes, v);
            }
            bytes.extend(std::iter::repeat_n(0x80, padding));
            let mut reader = Reader::new(&bytes);
            for &v in &values {
                proptest::prop_assert_eq!(reader.varint(), Ok(v));
            }
            proptest::prop_assert_eq!(reader.rest().len(), padding);
            if padding > 0 {
                proptest::prop_assert_eq!(reader.varint(), Err(VarintError::Truncated));
            }
        }
    }

    fn quote(bid: i128, ask: i128, scale: u8) -> Tick {
        Tick {
            bid: Decimal::new(bid, scale).unwrap(),
            bid_qty: d("1.25"),
            ask: Decimal::new(ask, scale).unwrap(),
            ask_qty: d("0.5"),
            last: None,
            time: T + 20_000,
            update_id: Some(8_123_456_789_012),
        }
    }

    /// Write, read: the tick comes back with every mantissa and scale a TRB1 reader would decode
    /// (each group at its shared scale); returns the row's size.
    fn tick_round_trip(tick: &Tick, sent_at: i64) -> usize {
        let mut bytes = Vec::new();
        write_tick(&mut bytes, SymbolId(599), tick, sent_at).unwrap();
        let mut reader = Reader::new(&bytes);
        let (symbol, read) = read_tick_row(&mut reader, sent_at).unwrap();
        assert!(reader.rest().is_empty());
        assert_eq!(symbol, SymbolId(599));
        let (_, trb1) = tick_from_row(&super::super::tick_row(SymbolId(599), tick).unwrap()).unwrap();
        assert_eq!(format!("{read:?}"), format!("{trb1:?}"));
        assert_eq!(read, *tick);
        bytes.len()
    }

    #[test]
    fn tick_rows_carry_every_field_exactly_in_under_a_third_of_a_trb1_row() {
        let plain = quote(500_001, 500_002, 1);
        // 2 key, 2 head, 1 time, 7 update id, 3 bid, 1 ask, 2 + 1 quantities (TRB1: 64).
        assert_eq!(tick_round_trip(&plain, T + 20_010), 19);
        tick_round_trip(
            &Tick {
                last: Some(d("50000.3")),
                ..plain
            },
            T,
        );
        tick_round_trip(
            &Tick {
                update_id: None,
                ..plain
            },
            T,
        );
        tick_round_trip(&Tick::traded(d("0.00001234"), T - 5), T);
        // A crossed or negative book, extreme mantissas and scales, a time far from the send time.
        tick_round_trip(&quote(i128::from(i64::MAX), i128::from(i64::MIN), 30), i64::MIN);
        tick_round_trip(&quote(-5, 7, 0), T);
        tick_round_trip(
            &Tick {
                time: i64::MAX,
                update_id: Some(u64::MAX),
                ..plain
            },
            i64::MIN,
        );
    }

    #[test]
    fn the_documented_tick_row_is_what_the_codec_writes() {
        let sent_at = T + 20_010;
        let mut bytes = Vec::new();
        write_tick(&mut bytes, SymbolId(599), &quote(500_001, 500_002, 1), sent_at).unwrap();
        let expected = [
            0xd7, 0x04, 0x86, 0x02, 0x13, 0x94, 0xb4, 0x86, 0x9e, 0xb6, 0xec, 0x01, 0xc2, 0x84, 0x3d, 0x02, 0xfa, 0x01,
            0x64,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn a_tick_that_fits_no_wire_row_is_refused_at_writing() {
        let huge = Tick {
            bid: Decimal::new(i128::from(i64::MAX) + 1, 0).unwrap(),
            ..quote(1, 2, 0)
        };
        let mut bytes = Vec::new();
        assert!(write_tick(&mut bytes, SymbolId(1), &huge, T).is_err());
    }

    #[test]
    fn garbage_tick_rows_are_typed_errors() {
        let read = |bytes: &[u8]| read_tick_row(&mut Reader::new(bytes), T);
        // Head bits above the two scales.
        assert_eq!(
            read(&[0x01, 0x80, 0x40, 0, 0, 0, 0, 0]).unwrap_err().reason(),
            "unknown_flags"
        );
        // A price scale of 31, a quantity scale of 31.
        assert_eq!(
            read(&[0x01, 31 << 2, 0, 0, 0, 0, 0]).unwrap_err().reason(),
            "scale_too_large"
        );
        assert_eq!(
            read(&[0x01, 0x80, 0x1f, 0, 0, 0, 0, 0]).unwrap_err().reason(),
            "scale_too_large"
        );
        // Truncated before the ask quantity; a symbol id past 32 bits.
        assert_eq!(read(&[0x01, 0x00, 0, 0, 0, 0]).unwrap_err().reason(), "malformed");
        assert_eq!(
            read(&[0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 0, 0, 0])
                .unwrap_err()
                .reason(),
            "malformed"
        );
        assert_eq!(read(&[0x01, 0x00, 0, 0, 0, 0, 0]).map(|(s, _)| s), Ok(SymbolId(1)));
        // A count of more rows than the bytes could hold.
        let mut reader = Reader::new(&[3, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(read_tick_count(&mut reader).unwrap_err().reason(), "malformed");
        let mut reader = Reader::new(&[2, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(read_tick_count(&mut reader), Ok(2));
    }
}
