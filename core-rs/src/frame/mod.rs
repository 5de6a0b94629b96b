//! Hub frame codec over the FlatBuffers schema in core-rs/schema/hub.fbs (DESIGN.md 3.3).
//!
//! A frame is one `Frame` table: header fields (kind, stream, seq, source, received_at) and the
//! entities it carries. Klines travel as `(symbol, interval, rows)` groups of fixed-size structs;
//! ticks and positions as struct rows; balances as small tables with the asset name; the ban list
//! as a table. Decimals are an `i64` mantissa with one scale byte per field group, so a one-kline
//! delta is 216 bytes (Binance's own JSON event for it: about 270). The code in `generated/` comes
//! from `scripts/gen-flatbuffers.sh`. Wire-2 streams get their Delta frames in the compact form of
//! [`compact`] instead (not FlatBuffers; a few dozen bytes a kline update); their snapshots are
//! these frames with `turn` set.
//!
//! Order: a decoded delta list holds the klines first, grouped by `(symbol, interval)` in
//! ascending order with each group's rows in their original order, then ticks, positions and
//! balances in their original order, then the ban list. Entities are independent, so only the
//! order within one entity matters, and that is kept. Of several ban lists in one delta list
//! only the last is sent (last writer wins).

pub mod compact;
mod reader;

#[allow(
    unknown_lints,
    mismatched_lifetime_syntaxes,
    elided_lifetimes_in_paths,
    missing_docs,
    unused_imports,
    dead_code,
    deprecated,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]
#[rustfmt::skip]
#[path = "generated/hub_generated.rs"]
mod hub_generated;

use crate::account::{Balance, Position, PositionSide};
use crate::decimal::Decimal;
use crate::delta::{BanList, Delta, Snapshot, SnapshotItem, SourceId};
use crate::market::{Kline, Mark, Tick};
use crate::symbol::{Name, SymbolId};
use compact::{CompactDelta, CompactRow, COMPACT_MARKER, COMPACT_TICKS_MARKER};
use flatbuffers::{FlatBufferBuilder, WIPOffset};
use hub_generated::tributary::hub as wire;

/// Largest frame the codec writes or reads, in bytes.
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// The FlatBuffers file identifier every frame carries at bytes 4..8.
pub const FRAME_IDENTIFIER: &str = "TRB1";

/// Most chunks one snapshot may be split into: far above any real universe (800 symbols × 15
/// intervals × 45 bars is about 65 chunks of 1 MiB), low enough that a corrupt count cannot make
/// a reader wait for millions of frames.
pub const MAX_SNAPSHOT_CHUNKS: u32 = 1 << 16;

/// Which part of a snapshot a frame is: chunk `index` of `count`. Every frame that is not a
/// chunked snapshot (Ingest, Delta, a snapshot in one frame) is [`Chunk::WHOLE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chunk {
    pub index: u32,
    pub count: u32,
}

impl Chunk {
    /// A frame that is complete on its own.
    pub const WHOLE: Chunk = Chunk { index: 0, count: 1 };

    /// True for the last chunk of a snapshot (and for a whole frame).
    pub fn is_last(&self) -> bool {
        self.index.saturating_add(1) == self.count
    }
}

/// What a frame is for. Control kinds the hub adds later take the next wire codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Collector → hub: data for the merge book.
    Ingest,
    /// Hub → trader: what changed in one stream since the previous seq.
    Delta,
    /// Hub → trader: the full state of one stream as of seq.
    Snapshot,
}

impl FrameKind {
    /// The wire code (`FrameKind` enum of the schema).
    pub const fn code(self) -> u8 {
        match self {
            FrameKind::Ingest => 0,
            FrameKind::Delta => 1,
            FrameKind::Snapshot => 2,
        }
    }

    /// The kind with this wire code, if it is one this codec knows.
    pub fn from_code(code: u8) -> Option<FrameKind> {
        match code {
            0 => Some(FrameKind::Ingest),
            1 => Some(FrameKind::Delta),
            2 => Some(FrameKind::Snapshot),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            FrameKind::Ingest => "ingest",
            FrameKind::Delta => "delta",
            FrameKind::Snapshot => "snapshot",
        }
    }
}

/// The Delta frame encoding a stream speaks, as its subscribers stated at `subscribe`: TRB1
/// frames (wire 1), compact frames whose kline rows are relative to the subscriber's previous
/// version of each bar (wire 2, [`compact`]), or compact frames that also carry their ticks as
/// compact rows (wire 3). Snapshots are TRB1 frames on all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum WireVersion {
    #[default]
    V1,
    V2,
    V3,
}

impl WireVersion {
    /// The version of its number (1, 2 or 3).
    pub fn from_number(number: u32) -> Option<WireVersion> {
        match number {
            1 => Some(WireVersion::V1),
            2 => Some(WireVersion::V2),
            3 => Some(WireVersion::V3),
            _ => None,
        }
    }

    pub const fn number(self) -> u32 {
        match self {
            WireVersion::V1 => 1,
            WireVersion::V2 => 2,
            WireVersion::V3 => 3,
        }
    }

    /// Whether Delta frames are compact (kline rows against bases, turns numbered).
    pub const fn is_compact(self) -> bool {
        !matches!(self, WireVersion::V1)
    }
}

/// The envelope fields of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub kind: FrameKind,
    /// Topic / stream id; `seq` counts per stream.
    pub stream: u32,
    pub seq: u64,
    /// The peer that supplied the data.
    pub source: SourceId,
    /// When the sender received the data, local Unix ms.
    pub received_at: i64,
    /// The part of a snapshot this frame carries; [`Chunk::WHOLE`] for every other frame.
    pub chunk: Chunk,
    /// The hub turn a wire-2 stream's Snapshot is as of (see [`compact`]); 0 on every other
    /// frame (and on a compact Delta frame, whose turn counts from its stream's previous one).
    pub turn: u64,
}

/// What a decoded frame carries: entity changes (Ingest, Delta) or a full state (Snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramePayload {
    Deltas(Vec<Delta>),
    Snapshot(Snapshot),
    /// A wire-2 compact Delta frame: kline rows relative to versions the reader holds, which
    /// only a book can resolve ([`compact`]), and the other entities whole.
    Compact(CompactDelta),
}

/// A decoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub payload: FramePayload,
}

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A decimal's mantissa does not fit in `i64` at its group's scale, even normalized.
    #[error("{field} does not fit an i64 mantissa at its group's scale")]
    DecimalOutOfRange { field: &'static str },
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("not a hub frame: file identifier is not {FRAME_IDENTIFIER}")]
    BadIdentifier,
    /// The buffer is not a well-formed TRB1 frame (truncated, out-of-bounds or unaligned offsets,
    /// a missing required field, ...): what the FlatBuffers verifier refuses.
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("unknown frame kind code {code}")]
    UnknownKind { code: u8 },
    /// `encode_deltas` got a Snapshot header, or `encode_snapshot` a non-Snapshot one.
    #[error("a {kind} header does not fit this payload", kind = kind.as_str())]
    KindMismatch { kind: FrameKind },
    #[error("unknown interval code {code}")]
    UnknownInterval { code: u8 },
    #[error("unknown position side code {code}")]
    UnknownPositionSide { code: u8 },
    #[error("{field} has scale {scale}, above the largest decimal scale")]
    ScaleTooLarge { field: &'static str, scale: u8 },
    #[error("{field} has unknown bits set: {flags:#04x}")]
    UnknownFlags { field: &'static str, flags: u8 },
    /// Bits outside a compact row's mask or flags (a value wider than the byte of `UnknownFlags`).
    #[error("{field} has unknown bits set: {bits:#x}")]
    UnknownBits { field: &'static str, bits: u64 },
    #[error("invalid asset name {name:?}")]
    InvalidAssetName { name: String },
    /// A chunk number outside its count, a count above [`MAX_SNAPSHOT_CHUNKS`], or chunk fields
    /// on a frame that is not a snapshot.
    #[error("a {kind} frame cannot be chunk {index} of {count}", kind = kind.as_str())]
    BadChunk { kind: FrameKind, index: u32, count: u32 },
}

impl FrameError {
    /// A stable short label for counters and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::DecimalOutOfRange { .. } => "decimal_out_of_range",
            FrameError::TooLarge { .. } => "too_large",
            FrameError::BadIdentifier => "bad_identifier",
            FrameError::Malformed(_) => "malformed",
            FrameError::UnknownKind { .. } => "unknown_kind",
            FrameError::KindMismatch { .. } => "kind_mismatch",
            FrameError::UnknownInterval { .. } => "unknown_interval",
            FrameError::UnknownPositionSide { .. } => "unknown_position_side",
            FrameError::ScaleTooLarge { .. } => "scale_too_large",
            FrameError::UnknownFlags { .. } | FrameError::UnknownBits { .. } => "unknown_flags",
            FrameError::InvalidAssetName { .. } => "invalid_asset_name",
            FrameError::BadChunk { .. } => "bad_chunk",
        }
    }
}

// Row flag bits, as the schema's *Flag enums define them.
const KLINE_CLOSED: u8 = 1;
const KLINE_HAS_FIRST_TRADE_ID: u8 = 2;
const KLINE_HAS_LAST_TRADE_ID: u8 = 4;
const KLINE_FLAGS: u8 = 7;
const TICK_HAS_LAST: u8 = 1;
const TICK_HAS_UPDATE_ID: u8 = 2;
const TICK_FLAGS: u8 = 3;
const POSITION_HAS_ENTRY_PRICE: u8 = 1;
const POSITION_HAS_BREAK_EVEN_PRICE: u8 = 2;
const POSITION_HAS_MARK_PRICE: u8 = 4;
const POSITION_HAS_UNREALIZED_PNL: u8 = 8;
const POSITION_HAS_ISOLATED_WALLET: u8 = 16;
const POSITION_FLAGS: u8 = 31;
const BALANCE_HAS_CROSS_WALLET: u8 = 1;
const BALANCE_HAS_AVAILABLE: u8 = 2;
const BALANCE_HAS_UNREALIZED_PNL: u8 = 4;
const BALANCE_FLAGS: u8 = 7;

// Wire sizes used to refuse an oversize frame before building it (the builder itself panics
// beyond 2 GiB). Per-item overheads are generous upper bounds.
const KLINE_ROW_BYTES: usize = 120;
const TICK_ROW_BYTES: usize = 64;
const POSITION_ROW_BYTES: usize = 72;
const MARK_ROW_BYTES: usize = 56;
const GROUP_OVERHEAD_BYTES: usize = 48;
const BALANCE_OVERHEAD_BYTES: usize = 128;
const FRAME_OVERHEAD_BYTES: usize = 256;

/// Chunk size the hub aims at for snapshots: a sixteenth of the frame limit, so a chunk never
/// comes near it, and small enough that a subscriber's queue grows in steps it can drain.
pub const DEFAULT_SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// An upper bound of the bytes `item` adds to a Snapshot frame (what the encoder's size check
/// uses, so a chunk planned within a budget encodes within it).
pub fn snapshot_item_bytes(item: &SnapshotItem<'_>) -> usize {
    match item {
        SnapshotItem::Window { klines, .. } => {
            GROUP_OVERHEAD_BYTES.saturating_add(klines.len().saturating_mul(KLINE_ROW_BYTES))
        }
        SnapshotItem::Tick(..) => TICK_ROW_BYTES,
        SnapshotItem::Position(..) => POSITION_ROW_BYTES,
        SnapshotItem::Balance(_) => BALANCE_OVERHEAD_BYTES,
        SnapshotItem::BanList(list) => 32usize.saturating_add(list.symbols.len().saturating_mul(4)),
        SnapshotItem::Mark(..) => MARK_ROW_BYTES,
    }
}

/// Splits a sequence of snapshot items into chunks of at most `budget` estimated bytes, in
/// order: a kline window is never split, and an item larger than the budget gets a chunk of its
/// own. Feeding the same items to two planners gives the same boundaries, which lets the hub count
/// the chunks in one pass and encode them in a second without holding the whole snapshot.
#[derive(Clone, Copy, Debug)]
pub struct ChunkPlanner {
    budget: usize,
    /// Estimated bytes of the chunk being filled (frame overhead included).
    used: usize,
    /// Items in the chunk being filled.
    items: usize,
    /// Chunks started so far (at least one: an empty snapshot is one empty chunk).
    chunks: u32,
}

impl ChunkPlanner {
    pub fn new(budget: usize) -> ChunkPlanner {
        ChunkPlanner {
            budget,
            used: FRAME_OVERHEAD_BYTES,
            items: 0,
            chunks: 1,
        }
    }

    /// Places an item of `bytes`; true when it starts a new chunk (the previous one is complete).
    pub fn place(&mut self, bytes: usize) -> bool {
        let starts_new = self.items > 0 && self.used.saturating_add(bytes) > self.budget;
        if starts_new {
            self.chunks = self.chunks.saturating_add(1);
            self.used = FRAME_OVERHEAD_BYTES;
            self.items = 0;
        }
        self.used = self.used.saturating_add(bytes);
        self.items += 1;
        starts_new
    }

    /// Chunks needed for the items placed so far.
    pub fn chunks(&self) -> u32 {
        self.chunks
    }
}

/// The `bit` of `flags` when `present`.
fn flag(present: bool, bit: u8) -> u8 {
    if present {
        bit
    } else {
        0
    }
}

/// The mantissas of one scale group at a common scale, or the first field that does not fit.
fn at_common_scale<const N: usize>(
    values: &[Option<Decimal>; N],
    fields: &[&'static str; N],
    normalize: bool,
) -> Result<([i64; N], u8), &'static str> {
    let pick = |d: &Decimal| if normalize { d.normalized() } else { *d };
    let scale = values.iter().flatten().map(|d| pick(d).scale()).max().unwrap_or(0);
    let mut mantissas = [0i64; N];
    for ((slot, value), field) in mantissas.iter_mut().zip(values).zip(fields) {
        if let Some(d) = value {
            *slot = pick(d)
                .with_scale(scale)
                .and_then(|d| i64::try_from(d.mantissa()).ok())
                .ok_or(*field)?;
        }
    }
    Ok((mantissas, scale))
}

/// A group whose present values already share one scale and fit `i64`: what [`at_common_scale`]
/// returns for it, without raising any value. Values decoded from a row, as every bar the hub
/// publishes, are such a group; `None` sends the rest the general way.
fn at_shared_scale<const N: usize>(values: &[Option<Decimal>; N]) -> Option<([i64; N], u8)> {
    let scale = values.iter().flatten().next().map_or(0, Decimal::scale);
    let mut mantissas = [0i64; N];
    for (slot, value) in mantissas.iter_mut().zip(values) {
        if let Some(d) = value {
            if d.scale() != scale {
                return None;
            }
            *slot = i64::try_from(d.mantissa()).ok()?;
        }
    }
    Some((mantissas, scale))
}

/// Encodes a scale group: every value raised to the group's largest scale (exact); when that
/// overflows `i64`, the normalized values are tried before giving up, so the error means a value
/// cannot travel in this group at all. Absent values encode as 0.
fn encode_group<const N: usize>(
    values: [Option<Decimal>; N],
    fields: [&'static str; N],
) -> Result<([i64; N], u8), FrameError> {
    if let Some(encoded) = at_shared_scale(&values) {
        return Ok(encoded);
    }
    at_common_scale(&values, &fields, false)
        .or_else(|_| at_common_scale(&values, &fields, true))
        .map_err(|field| FrameError::DecimalOutOfRange { field })
}

/// Checks a group's scale byte.
fn check_scale(scale: u8, field: &'static str) -> Result<u8, FrameError> {
    if scale > crate::decimal::MAX_SCALE {
        return Err(FrameError::ScaleTooLarge { field, scale });
    }
    Ok(scale)
}

/// A decimal from a mantissa and a scale already checked by [`check_scale`].
fn decimal(mantissa: i64, scale: u8, field: &'static str) -> Result<Decimal, FrameError> {
    Decimal::new(i128::from(mantissa), scale).map_err(|_| FrameError::ScaleTooLarge { field, scale })
}

fn optional_decimal(
    present: bool,
    mantissa: i64,
    scale: u8,
    field: &'static str,
) -> Result<Option<Decimal>, FrameError> {
    if present {
        decimal(mantissa, scale, field).map(Some)
    } else {
        Ok(None)
    }
}

fn check_flags(flags: u8, known: u8, field: &'static str) -> Result<u8, FrameError> {
    if flags & !known != 0 {
        return Err(FrameError::UnknownFlags { field, flags });
    }
    Ok(flags)
}

/// Whether a kline travels on the wire: every decimal group fits an i64 mantissa at its group's
/// scale. The merge book refuses any change that would store a kline failing this, so every state
/// it reaches can be encoded.
pub fn check_kline(kline: &Kline) -> Result<(), FrameError> {
    let fits = plainly_fits(&[
        Some(&kline.open),
        Some(&kline.high),
        Some(&kline.low),
        Some(&kline.close),
    ]) && plainly_fits(&[Some(&kline.volume), Some(&kline.taker_buy_volume)])
        && plainly_fits(&[Some(&kline.quote_volume), Some(&kline.taker_buy_quote_volume)]);
    if fits {
        return Ok(());
    }
    kline_row(kline).map(|_| ())
}

/// Whether a tick travels on the wire (see [`check_kline`]).
pub fn check_tick(tick: &Tick) -> Result<(), FrameError> {
    if plainly_fits(&[Some(&tick.bid), Some(&tick.ask), tick.last.as_ref()])
        && plainly_fits(&[Some(&tick.bid_qty), Some(&tick.ask_qty)])
    {
        return Ok(());
    }
    tick_row(SymbolId(0), tick).map(|_| ())
}

/// The common case of a group that fits the wire, decided without arithmetic: every present value
/// has the same scale and an i64 mantissa (how exchange payloads write a group). False means
/// "ask the encoder", not "does not fit".
pub(crate) fn plainly_fits(values: &[Option<&Decimal>]) -> bool {
    let mut scale = None;
    values.iter().flatten().all(|d| {
        let same_scale = *scale.get_or_insert(d.scale()) == d.scale();
        same_scale && i64::try_from(d.mantissa()).is_ok()
    })
}

/// Whether a position travels on the wire (see [`check_kline`]).
pub fn check_position(position: &Position) -> Result<(), FrameError> {
    position_row(SymbolId(0), position).map(|_| ())
}

/// Whether a balance travels on the wire (see [`check_kline`]).
pub fn check_balance(balance: &Balance) -> Result<(), FrameError> {
    balance_group(balance).map(|_| ())
}

fn kline_row(kline: &Kline) -> Result<wire::KlineRow, FrameError> {
    let ([open, high, low, close], price_scale) = encode_group(
        [Some(kline.open), Some(kline.high), Some(kline.low), Some(kline.close)],
        ["kline.open", "kline.high", "kline.low", "kline.close"],
    )?;
    let ([volume, taker_buy_volume], volume_scale) = encode_group(
        [Some(kline.volume), Some(kline.taker_buy_volume)],
        ["kline.volume", "kline.taker_buy_volume"],
    )?;
    let ([quote_volume, taker_buy_quote_volume], quote_scale) = encode_group(
        [Some(kline.quote_volume), Some(kline.taker_buy_quote_volume)],
        ["kline.quote_volume", "kline.taker_buy_quote_volume"],
    )?;
    let flags = flag(kline.closed, KLINE_CLOSED)
        | flag(kline.first_trade_id.is_some(), KLINE_HAS_FIRST_TRADE_ID)
        | flag(kline.last_trade_id.is_some(), KLINE_HAS_LAST_TRADE_ID);
    Ok(wire::KlineRow::new(
        kline.open_time,
        kline.close_time,
        kline.as_of,
        kline.trades,
        kline.first_trade_id.unwrap_or(0),
        kline.last_trade_id.unwrap_or(0),
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
        flags,
    ))
}

fn kline_from_row(row: &wire::KlineRow) -> Result<Kline, FrameError> {
    let flags = check_flags(row.flags(), KLINE_FLAGS, "kline.flags")?;
    let ps = check_scale(row.price_scale(), "kline.price_scale")?;
    let vs = check_scale(row.volume_scale(), "kline.volume_scale")?;
    let qs = check_scale(row.quote_scale(), "kline.quote_scale")?;
    Ok(Kline {
        open_time: row.open_time(),
        close_time: row.close_time(),
        open: decimal(row.open(), ps, "kline.open")?,
        high: decimal(row.high(), ps, "kline.high")?,
        low: decimal(row.low(), ps, "kline.low")?,
        close: decimal(row.close(), ps, "kline.close")?,
        volume: decimal(row.volume(), vs, "kline.volume")?,
        quote_volume: decimal(row.quote_volume(), qs, "kline.quote_volume")?,
        trades: row.trades(),
        taker_buy_volume: decimal(row.taker_buy_volume(), vs, "kline.taker_buy_volume")?,
        taker_buy_quote_volume: decimal(row.taker_buy_quote_volume(), qs, "kline.taker_buy_quote_volume")?,
        first_trade_id: (flags & KLINE_HAS_FIRST_TRADE_ID != 0).then(|| row.first_trade_id()),
        last_trade_id: (flags & KLINE_HAS_LAST_TRADE_ID != 0).then(|| row.last_trade_id()),
        closed: flags & KLINE_CLOSED != 0,
        as_of: row.as_of(),
    })
}

fn tick_row(symbol: SymbolId, tick: &Tick) -> Result<wire::TickRow, FrameError> {
    let ([bid, ask, last], price_scale) = encode_group(
        [Some(tick.bid), Some(tick.ask), tick.last],
        ["tick.bid", "tick.ask", "tick.last"],
    )?;
    let ([bid_qty, ask_qty], qty_scale) = encode_group(
        [Some(tick.bid_qty), Some(tick.ask_qty)],
        ["tick.bid_qty", "tick.ask_qty"],
    )?;
    let flags = flag(tick.last.is_some(), TICK_HAS_LAST) | flag(tick.update_id.is_some(), TICK_HAS_UPDATE_ID);
    Ok(wire::TickRow::new(
        tick.time,
        tick.update_id.unwrap_or(0),
        bid,
        ask,
        last,
        bid_qty,
        ask_qty,
        symbol.0,
        price_scale,
        qty_scale,
        flags,
    ))
}

fn tick_from_row(row: &wire::TickRow) -> Result<(SymbolId, Tick), FrameError> {
    let flags = check_flags(row.flags(), TICK_FLAGS, "tick.flags")?;
    let ps = check_scale(row.price_scale(), "tick.price_scale")?;
    let qs = check_scale(row.qty_scale(), "tick.qty_scale")?;
    let tick = Tick {
        bid: decimal(row.bid(), ps, "tick.bid")?,
        bid_qty: decimal(row.bid_qty(), qs, "tick.bid_qty")?,
        ask: decimal(row.ask(), ps, "tick.ask")?,
        ask_qty: decimal(row.ask_qty(), qs, "tick.ask_qty")?,
        last: optional_decimal(flags & TICK_HAS_LAST != 0, row.last(), ps, "tick.last")?,
        time: row.time(),
        update_id: (flags & TICK_HAS_UPDATE_ID != 0).then(|| row.update_id()),
    };
    Ok((SymbolId(row.symbol()), tick))
}

fn mark_row(symbol: SymbolId, mark: &Mark) -> Result<wire::MarkRow, FrameError> {
    let ([mark_price, index_price, settle], price_scale) = encode_group(
        [
            Some(mark.mark_price),
            Some(mark.index_price),
            Some(mark.estimated_settle_price),
        ],
        ["mark.mark_price", "mark.index_price", "mark.estimated_settle_price"],
    )?;
    let ([funding_rate], rate_scale) = encode_group([Some(mark.funding_rate)], ["mark.funding_rate"])?;
    Ok(wire::MarkRow::new(
        mark.time,
        mark.next_funding_time,
        mark_price,
        index_price,
        settle,
        funding_rate,
        symbol.0,
        price_scale,
        rate_scale,
    ))
}

fn mark_from_row(row: &wire::MarkRow) -> Result<(SymbolId, Mark), FrameError> {
    let ps = check_scale(row.price_scale(), "mark.price_scale")?;
    let rs = check_scale(row.rate_scale(), "mark.rate_scale")?;
    let mark = Mark {
        time: row.time(),
        mark_price: decimal(row.mark_price(), ps, "mark.mark_price")?,
        index_price: decimal(row.index_price(), ps, "mark.index_price")?,
        estimated_settle_price: decimal(row.estimated_settle_price(), ps, "mark.estimated_settle_price")?,
        funding_rate: decimal(row.funding_rate(), rs, "mark.funding_rate")?,
        next_funding_time: row.next_funding_time(),
    };
    Ok((SymbolId(row.symbol()), mark))
}

/// Whether a mark travels on the wire (see [`check_kline`]).
pub fn check_mark(mark: &Mark) -> Result<(), FrameError> {
    mark_row(SymbolId(0), mark).map(|_| ())
}

fn position_row(symbol: SymbolId, position: &Position) -> Result<wire::PositionRow, FrameError> {
    let ([amount], amount_scale) = encode_group([Some(position.amount)], ["position.amount"])?;
    let ([entry_price, break_even_price, mark_price], price_scale) = encode_group(
        [position.entry_price, position.break_even_price, position.mark_price],
        [
            "position.entry_price",
            "position.break_even_price",
            "position.mark_price",
        ],
    )?;
    let ([unrealized_pnl, isolated_wallet], money_scale) = encode_group(
        [position.unrealized_pnl, position.isolated_wallet],
        ["position.unrealized_pnl", "position.isolated_wallet"],
    )?;
    let flags = flag(position.entry_price.is_some(), POSITION_HAS_ENTRY_PRICE)
        | flag(position.break_even_price.is_some(), POSITION_HAS_BREAK_EVEN_PRICE)
        | flag(position.mark_price.is_some(), POSITION_HAS_MARK_PRICE)
        | flag(position.unrealized_pnl.is_some(), POSITION_HAS_UNREALIZED_PNL)
        | flag(position.isolated_wallet.is_some(), POSITION_HAS_ISOLATED_WALLET);
    Ok(wire::PositionRow::new(
        position.update_time,
        amount,
        entry_price,
        break_even_price,
        mark_price,
        unrealized_pnl,
        isolated_wallet,
        symbol.0,
        wire::PositionSide(position.side as u8),
        amount_scale,
        price_scale,
        money_scale,
        flags,
    ))
}

fn position_from_row(row: &wire::PositionRow) -> Result<(SymbolId, Position), FrameError> {
    let flags = check_flags(row.flags(), POSITION_FLAGS, "position.flags")?;
    let code = row.side().0;
    let side = PositionSide::from_code(code).ok_or(FrameError::UnknownPositionSide { code })?;
    let amount_scale = check_scale(row.amount_scale(), "position.amount_scale")?;
    let ps = check_scale(row.price_scale(), "position.price_scale")?;
    let ms = check_scale(row.money_scale(), "position.money_scale")?;
    let has = |bit: u8| flags & bit != 0;
    let position = Position {
        side,
        amount: decimal(row.amount(), amount_scale, "position.amount")?,
        entry_price: optional_decimal(
            has(POSITION_HAS_ENTRY_PRICE),
            row.entry_price(),
            ps,
            "position.entry_price",
        )?,
        break_even_price: optional_decimal(
            has(POSITION_HAS_BREAK_EVEN_PRICE),
            row.break_even_price(),
            ps,
            "position.break_even_price",
        )?,
        unrealized_pnl: optional_decimal(
            has(POSITION_HAS_UNREALIZED_PNL),
            row.unrealized_pnl(),
            ms,
            "position.unrealized_pnl",
        )?,
        mark_price: optional_decimal(
            has(POSITION_HAS_MARK_PRICE),
            row.mark_price(),
            ps,
            "position.mark_price",
        )?,
        isolated_wallet: optional_decimal(
            has(POSITION_HAS_ISOLATED_WALLET),
            row.isolated_wallet(),
            ms,
            "position.isolated_wallet",
        )?,
        update_time: row.update_time(),
    };
    Ok((SymbolId(row.symbol()), position))
}

/// A balance from its wire fields: `values` are update_time, wallet_balance, cross_wallet_balance,
/// available_balance and unrealized_pnl, as the schema orders them.
fn balance_from_fields(name: &str, values: [i64; 5], scale: u8, flags: u8) -> Result<Balance, FrameError> {
    let [update_time, wallet, cross, available, pnl] = values;
    let flags = check_flags(flags, BALANCE_FLAGS, "balance.flags")?;
    let scale = check_scale(scale, "balance.scale")?;
    let asset = Name::new(name).map_err(|_| FrameError::InvalidAssetName { name: name.to_owned() })?;
    let has = |bit: u8| flags & bit != 0;
    Ok(Balance {
        asset,
        wallet_balance: decimal(wallet, scale, "balance.wallet_balance")?,
        cross_wallet_balance: optional_decimal(
            has(BALANCE_HAS_CROSS_WALLET),
            cross,
            scale,
            "balance.cross_wallet_balance",
        )?,
        available_balance: optional_decimal(
            has(BALANCE_HAS_AVAILABLE),
            available,
            scale,
            "balance.available_balance",
        )?,
        unrealized_pnl: optional_decimal(has(BALANCE_HAS_UNREALIZED_PNL), pnl, scale, "balance.unrealized_pnl")?,
        update_time,
    })
}

/// A ban list from its wire fields (`all` is 0 or 1).
fn ban_list_from(all: u8, symbols: impl Iterator<Item = u32>) -> Result<BanList, FrameError> {
    let all = match all {
        0 => false,
        1 => true,
        other => {
            return Err(FrameError::UnknownFlags {
                field: "ban_list.all",
                flags: other,
            })
        }
    };
    Ok(BanList::new(all, symbols.map(SymbolId).collect()))
}

/// Builds frames into one reused buffer: after warm-up, encoding allocates nothing.
pub struct FrameEncoder {
    builder: FlatBufferBuilder<'static>,
    /// The bytes of the last compact frame.
    compact: Vec<u8>,
    /// `(symbol, interval code, index into the delta list)` of every kline delta, sorted to group them.
    kline_order: Vec<(u32, u8, usize)>,
    groups: Vec<WIPOffset<wire::KlineGroup<'static>>>,
    balances: Vec<WIPOffset<wire::Balance<'static>>>,
}

impl Default for FrameEncoder {
    fn default() -> Self {
        FrameEncoder::new()
    }
}

/// Where the entity vectors of a frame under construction live.
#[derive(Default)]
struct FrameParts {
    klines: Option<WIPOffset<flatbuffers::Vector<'static, flatbuffers::ForwardsUOffset<wire::KlineGroup<'static>>>>>,
    ticks: Option<WIPOffset<flatbuffers::Vector<'static, wire::TickRow>>>,
    positions: Option<WIPOffset<flatbuffers::Vector<'static, wire::PositionRow>>>,
    balances: Option<WIPOffset<flatbuffers::Vector<'static, flatbuffers::ForwardsUOffset<wire::Balance<'static>>>>>,
    ban_list: Option<WIPOffset<wire::BanList<'static>>>,
    marks: Option<WIPOffset<flatbuffers::Vector<'static, wire::MarkRow>>>,
    /// Ingest frames: the time of a full positions list (0: none).
    positions_complete_at: i64,
}

/// The deltas one frame carries: a whole slice, or the ones at given positions of it (a stream's
/// share of a hub turn, picked without copying the records: a `Delta` is over 200 bytes, and
/// each copy is cache lines a cold turn writes).
#[derive(Clone, Copy, Debug)]
pub struct Picked<'a> {
    deltas: &'a [Delta],
    /// Positions in `deltas`, in frame order; `None` for all of them.
    at: Option<&'a [usize]>,
}

impl<'a> Picked<'a> {
    /// Every delta of `deltas`, in order.
    pub fn all(deltas: &'a [Delta]) -> Picked<'a> {
        Picked { deltas, at: None }
    }

    /// The deltas at positions `at` of `deltas`, in that order (positions past the end are
    /// skipped).
    pub fn at(deltas: &'a [Delta], at: &'a [usize]) -> Picked<'a> {
        Picked { deltas, at: Some(at) }
    }

    /// How many positions are picked.
    fn len(&self) -> usize {
        self.at.map_or(self.deltas.len(), <[usize]>::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th picked delta.
    fn get(&self, k: usize) -> Option<&'a Delta> {
        match self.at {
            None => self.deltas.get(k),
            Some(at) => at.get(k).and_then(|&index| self.deltas.get(index)),
        }
    }

    /// The picked deltas, in order.
    fn iter(self) -> impl DoubleEndedIterator<Item = &'a Delta> + Clone {
        (0..self.len()).filter_map(move |k| self.get(k))
    }
}

/// The tick section of a wire-3 compact frame: how many rows, and what appends them.
#[derive(Clone, Copy)]
pub struct CompactTicks<'a> {
    pub count: usize,
    pub write: &'a dyn Fn(&mut Vec<u8>),
}

impl FrameEncoder {
    pub fn new() -> FrameEncoder {
        FrameEncoder {
            builder: FlatBufferBuilder::with_capacity(1024),
            compact: Vec::new(),
            kline_order: Vec::new(),
            groups: Vec::new(),
            balances: Vec::new(),
        }
    }

    /// Encodes an Ingest or Delta frame. The returned bytes live until the next call.
    pub fn encode_deltas(&mut self, header: &FrameHeader, deltas: &[Delta]) -> Result<&[u8], FrameError> {
        self.encode_picked(header, Picked::all(deltas))
    }

    /// Encodes an Ingest or Delta frame of the `picked` deltas, in their order. The returned
    /// bytes live until the next call.
    pub fn encode_picked(&mut self, header: &FrameHeader, deltas: Picked<'_>) -> Result<&[u8], FrameError> {
        if header.kind == FrameKind::Snapshot {
            return Err(FrameError::KindMismatch { kind: header.kind });
        }
        check_chunk(header.kind, header.chunk)?;
        let estimate = deltas.iter().fold(FRAME_OVERHEAD_BYTES, |sum, delta| {
            sum.saturating_add(match delta {
                Delta::Kline { .. } => KLINE_ROW_BYTES + GROUP_OVERHEAD_BYTES,
                Delta::Tick { .. } => TICK_ROW_BYTES,
                Delta::Position { .. } => POSITION_ROW_BYTES,
                Delta::Balance { .. } => BALANCE_OVERHEAD_BYTES,
                Delta::BanList(list) => list.symbols.len().saturating_mul(4).saturating_add(32),
                Delta::Mark { .. } => MARK_ROW_BYTES,
                Delta::PositionsComplete { .. } => 0,
            })
        });
        check_size(estimate)?;
        self.builder.reset();
        self.groups.clear();
        self.balances.clear();
        self.kline_order.clear();

        let mut parts = FrameParts::default();

        // Klines: group by (symbol, interval); the index keeps each group's rows in order.
        for index in 0..deltas.len() {
            if let Some(Delta::Kline { symbol, interval, .. }) = deltas.get(index) {
                self.kline_order.push((symbol.0, interval.code(), index));
            }
        }
        self.kline_order.sort_unstable();
        let mut start = 0;
        while start < self.kline_order.len() {
            let (symbol, code, _) = self.kline_order[start];
            let end = self.kline_order[start..]
                .iter()
                .position(|&(s, c, _)| (s, c) != (symbol, code))
                .map_or(self.kline_order.len(), |n| start + n);
            begin_struct_vector(&mut self.builder, end - start, KLINE_ROW_BYTES);
            for &(_, _, index) in self.kline_order[start..end].iter().rev() {
                if let Some(Delta::Kline { kline, .. }) = deltas.get(index) {
                    self.builder.push(kline_row(kline)?);
                }
            }
            let rows = self.builder.end_vector::<wire::KlineRow>(end - start);
            let group = wire::KlineGroup::create(
                &mut self.builder,
                &wire::KlineGroupArgs {
                    symbol,
                    interval: wire::Interval(code),
                    rows: Some(rows),
                },
            );
            self.groups.push(group);
            start = end;
        }
        if !self.groups.is_empty() {
            parts.klines = Some(self.builder.create_vector(&self.groups));
        }

        let tick_count = deltas.iter().filter(|d| matches!(d, Delta::Tick { .. })).count();
        if tick_count > 0 {
            begin_struct_vector(&mut self.builder, tick_count, TICK_ROW_BYTES);
            for delta in deltas.iter().rev() {
                if let Delta::Tick { symbol, tick } = delta {
                    self.builder.push(tick_row(*symbol, tick)?);
                }
            }
            parts.ticks = Some(self.builder.end_vector(tick_count));
        }

        let position_count = deltas.iter().filter(|d| matches!(d, Delta::Position { .. })).count();
        if position_count > 0 {
            begin_struct_vector(&mut self.builder, position_count, POSITION_ROW_BYTES);
            for delta in deltas.iter().rev() {
                if let Delta::Position { symbol, position } = delta {
                    self.builder.push(position_row(*symbol, position)?);
                }
            }
            parts.positions = Some(self.builder.end_vector(position_count));
        }

        for delta in deltas.iter() {
            if let Delta::Balance { balance } = delta {
                let offset = build_balance(&mut self.builder, balance)?;
                self.balances.push(offset);
            }
        }
        if !self.balances.is_empty() {
            parts.balances = Some(self.builder.create_vector(&self.balances));
        }

        let mark_count = deltas.iter().filter(|d| matches!(d, Delta::Mark { .. })).count();
        if mark_count > 0 {
            begin_struct_vector(&mut self.builder, mark_count, MARK_ROW_BYTES);
            for delta in deltas.iter().rev() {
                if let Delta::Mark { symbol, mark } = delta {
                    self.builder.push(mark_row(*symbol, mark)?);
                }
            }
            parts.marks = Some(self.builder.end_vector(mark_count));
        }

        // Last writer wins: only the newest ban list matters.
        if let Some(list) = deltas.iter().rev().find_map(|d| match d {
            Delta::BanList(list) => Some(list),
            _ => None,
        }) {
            parts.ban_list = Some(build_ban_list(&mut self.builder, list));
        }

        // Two full lists in one frame make one list of their union as of the newer time: a
        // position either listed stays as merged, which never sets a held position flat wrongly.
        parts.positions_complete_at = deltas
            .iter()
            .filter_map(|d| match d {
                Delta::PositionsComplete { as_of } => Some(*as_of),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        if parts.positions_complete_at != 0 && header.kind != FrameKind::Ingest {
            return Err(FrameError::KindMismatch { kind: header.kind });
        }

        self.finish(header, parts)
    }

    /// Encodes a Snapshot frame (`header.kind` must be `Snapshot`). Windows, ticks, positions and
    /// balances keep their order. The returned bytes live until the next call.
    pub fn encode_snapshot(&mut self, header: &FrameHeader, snapshot: &Snapshot) -> Result<&[u8], FrameError> {
        if header.kind != FrameKind::Snapshot {
            return Err(FrameError::KindMismatch { kind: header.kind });
        }
        check_chunk(header.kind, header.chunk)?;
        let rows: usize = snapshot.klines.iter().map(|w| w.klines.len()).sum();
        let estimate = FRAME_OVERHEAD_BYTES
            .saturating_add(rows.saturating_mul(KLINE_ROW_BYTES))
            .saturating_add(snapshot.klines.len().saturating_mul(GROUP_OVERHEAD_BYTES))
            .saturating_add(snapshot.ticks.len().saturating_mul(TICK_ROW_BYTES))
            .saturating_add(snapshot.positions.len().saturating_mul(POSITION_ROW_BYTES))
            .saturating_add(snapshot.marks.len().saturating_mul(MARK_ROW_BYTES))
            .saturating_add(snapshot.balances.len().saturating_mul(BALANCE_OVERHEAD_BYTES))
            .saturating_add(
                snapshot
                    .ban_list
                    .as_ref()
                    .map_or(0, |l| l.symbols.len().saturating_mul(4)),
            );
        check_size(estimate)?;
        self.builder.reset();
        self.groups.clear();
        self.balances.clear();

        let mut parts = FrameParts::default();

        for window in &snapshot.klines {
            begin_struct_vector(&mut self.builder, window.klines.len(), KLINE_ROW_BYTES);
            for kline in window.klines.iter().rev() {
                self.builder.push(kline_row(kline)?);
            }
            let rows = self.builder.end_vector::<wire::KlineRow>(window.klines.len());
            let group = wire::KlineGroup::create(
                &mut self.builder,
                &wire::KlineGroupArgs {
                    symbol: window.symbol.0,
                    interval: wire::Interval(window.interval.code()),
                    rows: Some(rows),
                },
            );
            self.groups.push(group);
        }
        if !self.groups.is_empty() {
            parts.klines = Some(self.builder.create_vector(&self.groups));
        }

        if !snapshot.ticks.is_empty() {
            begin_struct_vector(&mut self.builder, snapshot.ticks.len(), TICK_ROW_BYTES);
            for (symbol, tick) in snapshot.ticks.iter().rev() {
                self.builder.push(tick_row(*symbol, tick)?);
            }
            parts.ticks = Some(self.builder.end_vector(snapshot.ticks.len()));
        }

        if !snapshot.positions.is_empty() {
            begin_struct_vector(&mut self.builder, snapshot.positions.len(), POSITION_ROW_BYTES);
            for (symbol, position) in snapshot.positions.iter().rev() {
                self.builder.push(position_row(*symbol, position)?);
            }
            parts.positions = Some(self.builder.end_vector(snapshot.positions.len()));
        }

        for balance in &snapshot.balances {
            let offset = build_balance(&mut self.builder, balance)?;
            self.balances.push(offset);
        }
        if !self.balances.is_empty() {
            parts.balances = Some(self.builder.create_vector(&self.balances));
        }

        if let Some(list) = &snapshot.ban_list {
            parts.ban_list = Some(build_ban_list(&mut self.builder, list));
        }

        if !snapshot.marks.is_empty() {
            begin_struct_vector(&mut self.builder, snapshot.marks.len(), MARK_ROW_BYTES);
            for (symbol, mark) in snapshot.marks.iter().rev() {
                self.builder.push(mark_row(*symbol, mark)?);
            }
            parts.marks = Some(self.builder.end_vector(snapshot.marks.len()));
        }

        self.finish(header, parts)
    }

    /// Encodes a decoded frame again (Deltas payload → Ingest/Delta frame, Snapshot → Snapshot,
    /// Compact → compact Delta frame).
    pub fn encode(&mut self, frame: &Frame) -> Result<&[u8], FrameError> {
        match &frame.payload {
            FramePayload::Deltas(deltas) => self.encode_deltas(&frame.header, deltas),
            FramePayload::Snapshot(snapshot) => self.encode_snapshot(&frame.header, snapshot),
            FramePayload::Compact(compact) => {
                let sent_at = frame.header.received_at;
                // Written first, so a tick that cannot travel is an error before the frame starts.
                let mut tick_bytes = Vec::new();
                for (symbol, tick) in &compact.ticks {
                    compact::write_tick(&mut tick_bytes, *symbol, tick, sent_at)?;
                }
                let write_ticks = |out: &mut Vec<u8>| out.extend_from_slice(&tick_bytes);
                let ticks = compact.tick_rows.then_some(CompactTicks {
                    count: compact.ticks.len(),
                    write: &write_ticks,
                });
                self.encode_compact(
                    &frame.header,
                    compact.turn_step,
                    compact.rows.len(),
                    |out| {
                        for row in &compact.rows {
                            row.write(out, sent_at);
                        }
                    },
                    ticks,
                    Picked::all(&compact.tail),
                )
            }
        }
    }

    /// Encodes a compact Delta frame: the header (`header.received_at` is its send time, which
    /// rows are written against), `rows` kline rows appended by `write_rows`, on wire 3 (`ticks`
    /// given) the tick count and the tick rows its `write` appends, and the `tail` deltas (no
    /// klines; no ticks on wire 3) as a TRB1 Delta frame after them when there are any. The
    /// returned bytes live until the next call.
    pub fn encode_compact(
        &mut self,
        header: &FrameHeader,
        turn_step: u64,
        rows: usize,
        write_rows: impl FnOnce(&mut Vec<u8>),
        ticks: Option<CompactTicks<'_>>,
        tail: Picked<'_>,
    ) -> Result<&[u8], FrameError> {
        if header.kind != FrameKind::Delta {
            return Err(FrameError::KindMismatch { kind: header.kind });
        }
        check_chunk(header.kind, header.chunk)?;
        let mut out = std::mem::take(&mut self.compact);
        out.clear();
        let marker = if ticks.is_some() {
            COMPACT_TICKS_MARKER
        } else {
            COMPACT_MARKER
        };
        compact::write_header(
            &mut out,
            marker,
            header.stream,
            header.seq,
            turn_step,
            header.received_at,
            rows,
        );
        write_rows(&mut out);
        if let Some(ticks) = ticks {
            compact::put_varint(&mut out, ticks.count as u64);
            (ticks.write)(&mut out);
        }
        if !tail.is_empty() {
            let tail_header = FrameHeader {
                source: SourceId(0),
                turn: 0,
                ..*header
            };
            match self.encode_picked(&tail_header, tail) {
                Ok(bytes) => out.extend_from_slice(bytes),
                Err(error) => {
                    self.compact = out;
                    return Err(error);
                }
            }
        }
        self.compact = out;
        check_size(self.compact.len())?;
        Ok(&self.compact)
    }

    fn finish(&mut self, header: &FrameHeader, parts: FrameParts) -> Result<&[u8], FrameError> {
        let root = wire::Frame::create(
            &mut self.builder,
            &wire::FrameArgs {
                kind: wire::FrameKind(header.kind.code()),
                stream: header.stream,
                seq: header.seq,
                source: header.source.0,
                received_at: header.received_at,
                klines: parts.klines,
                ticks: parts.ticks,
                positions: parts.positions,
                balances: parts.balances,
                ban_list: parts.ban_list,
                marks: parts.marks,
                positions_complete_at: parts.positions_complete_at,
                // A frame complete on its own writes neither field (both default to 0), so it is
                // byte for byte what readers before chunking knew.
                chunk: header.chunk.index,
                chunks: if header.chunk == Chunk::WHOLE {
                    0
                } else {
                    header.chunk.count
                },
                // 0 (every frame but a wire-2 snapshot) is the default and not written.
                turn: header.turn,
            },
        );
        wire::finish_frame_buffer(&mut self.builder, root);
        let bytes = self.builder.finished_data();
        check_size(bytes.len())?;
        Ok(bytes)
    }
}

/// Checks a header's chunk: whole for Ingest and Delta frames, `index < count ≤ MAX_SNAPSHOT_CHUNKS`
/// for snapshots.
fn check_chunk(kind: FrameKind, chunk: Chunk) -> Result<(), FrameError> {
    let valid = match kind {
        FrameKind::Snapshot => chunk.index < chunk.count && chunk.count <= MAX_SNAPSHOT_CHUNKS,
        FrameKind::Ingest | FrameKind::Delta => chunk == Chunk::WHOLE,
    };
    if valid {
        Ok(())
    } else {
        Err(FrameError::BadChunk {
            kind,
            index: chunk.index,
            count: chunk.count,
        })
    }
}

fn check_size(len: usize) -> Result<(), FrameError> {
    if len > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_FRAME_BYTES,
        });
    }
    Ok(())
}

/// Starts a vector of `count` structs of `row_bytes` each (a multiple of 8), aligned to 8 bytes
/// as the schema's structs require. flatc 2.0.8's Rust structs are byte arrays that report an
/// alignment of 1, so aligning through `start_vector::<u64>` over the same byte count keeps the
/// buffer valid for every FlatBuffers reader, not only the forgiving ones.
fn begin_struct_vector(builder: &mut FlatBufferBuilder<'static>, count: usize, row_bytes: usize) {
    builder.start_vector::<u64>(count * row_bytes / 8);
}

fn build_balance(
    builder: &mut FlatBufferBuilder<'static>,
    balance: &Balance,
) -> Result<WIPOffset<wire::Balance<'static>>, FrameError> {
    let ([wallet_balance, cross_wallet_balance, available_balance, unrealized_pnl], scale) = balance_group(balance)?;
    let flags = flag(balance.cross_wallet_balance.is_some(), BALANCE_HAS_CROSS_WALLET)
        | flag(balance.available_balance.is_some(), BALANCE_HAS_AVAILABLE)
        | flag(balance.unrealized_pnl.is_some(), BALANCE_HAS_UNREALIZED_PNL);
    let asset = builder.create_string(balance.asset.as_str());
    Ok(wire::Balance::create(
        builder,
        &wire::BalanceArgs {
            asset: Some(asset),
            update_time: balance.update_time,
            wallet_balance,
            cross_wallet_balance,
            available_balance,
            unrealized_pnl,
            scale,
            flags,
        },
    ))
}

/// A balance's four amounts at their common scale.
fn balance_group(balance: &Balance) -> Result<([i64; 4], u8), FrameError> {
    encode_group(
        [
            Some(balance.wallet_balance),
            balance.cross_wallet_balance,
            balance.available_balance,
            balance.unrealized_pnl,
        ],
        [
            "balance.wallet_balance",
            "balance.cross_wallet_balance",
            "balance.available_balance",
            "balance.unrealized_pnl",
        ],
    )
}

fn build_ban_list(builder: &mut FlatBufferBuilder<'static>, list: &BanList) -> WIPOffset<wire::BanList<'static>> {
    builder.start_vector::<u32>(list.symbols.len());
    for symbol in list.symbols.iter().rev() {
        builder.push(symbol.0);
    }
    let symbols = builder.end_vector::<u32>(list.symbols.len());
    wire::BanList::create(
        builder,
        &wire::BanListArgs {
            all: u8::from(list.all),
            symbols: Some(symbols),
        },
    )
}

/// Decodes one frame. The buffer is checked (size, identifier, then every offset, length and
/// alignment as the frame reader reads it, with the FlatBuffers verifier's acceptance) and every value
/// is validated (kinds, intervals, sides, scales, flag bits), so garbage is a typed error, never
/// a panic.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame, FrameError> {
    decode_frame_with(bytes, &mut DecodeBuffers::default())
}

/// Vectors a Delta frame is decoded into, taken back after the frame was applied
/// ([`DecodeBuffers::recycle`]): a reader that decodes a frame every millisecond then allocates
/// nothing for it, and glibc's allocator, cold in a process that sleeps between frames, stays out
/// of the path (docs/benchmarks-journal.md).
#[derive(Debug, Default)]
pub struct DecodeBuffers {
    rows: Vec<CompactRow>,
    ticks: Vec<(SymbolId, Tick)>,
    deltas: Vec<Delta>,
}

/// Elements a recycled vector may keep room for: a large frame's room is given back.
const RECYCLED_CAPACITY: usize = 1024;

impl DecodeBuffers {
    /// Takes back the vectors of a decoded Delta payload (a snapshot's are left to drop).
    pub fn recycle(&mut self, payload: FramePayload) {
        match payload {
            FramePayload::Deltas(deltas) => self.keep_deltas(deltas),
            FramePayload::Compact(compact) => {
                self.keep_deltas(compact.tail);
                let mut rows = compact.rows;
                if rows.capacity() <= RECYCLED_CAPACITY && rows.capacity() > self.rows.capacity() {
                    rows.clear();
                    self.rows = rows;
                }
                let mut ticks = compact.ticks;
                if ticks.capacity() <= RECYCLED_CAPACITY && ticks.capacity() > self.ticks.capacity() {
                    ticks.clear();
                    self.ticks = ticks;
                }
            }
            FramePayload::Snapshot(_) => {}
        }
    }

    fn keep_deltas(&mut self, mut deltas: Vec<Delta>) {
        if deltas.capacity() <= RECYCLED_CAPACITY && deltas.capacity() > self.deltas.capacity() {
            deltas.clear();
            self.deltas = deltas;
        }
    }

    /// An empty vector for a frame's deltas, with the room kept from earlier frames.
    fn deltas(&mut self) -> Vec<Delta> {
        std::mem::take(&mut self.deltas)
    }

    fn rows(&mut self) -> Vec<CompactRow> {
        std::mem::take(&mut self.rows)
    }

    fn ticks(&mut self) -> Vec<(SymbolId, Tick)> {
        std::mem::take(&mut self.ticks)
    }
}

/// [`decode_frame`] into vectors kept from earlier frames.
pub fn decode_frame_with(bytes: &[u8], buffers: &mut DecodeBuffers) -> Result<Frame, FrameError> {
    check_size(bytes.len())?;
    if matches!(bytes.first(), Some(&(COMPACT_MARKER | COMPACT_TICKS_MARKER))) {
        return decode_compact(bytes, buffers);
    }
    if bytes.get(4..8) != Some(FRAME_IDENTIFIER.as_bytes()) {
        return Err(FrameError::BadIdentifier);
    }
    reader::read_frame(bytes, buffers.deltas())
}

/// Decodes a compact (wire 2) Delta frame: its header, its rows as written (resolving them needs
/// the reader's book) and its tail, a TRB1 Delta frame of the same stream and seq without klines.
fn decode_compact(bytes: &[u8], buffers: &mut DecodeBuffers) -> Result<Frame, FrameError> {
    let mut reader = compact::Reader::new(bytes);
    let head = compact::read_header(&mut reader)?;
    let mut rows = buffers.rows();
    rows.reserve(head.rows);
    for _ in 0..head.rows {
        rows.push(CompactRow::read(&mut reader, head.sent_at)?);
    }
    let mut ticks = buffers.ticks();
    if head.tick_rows {
        let count = compact::read_tick_count(&mut reader)?;
        ticks.reserve(count);
        for _ in 0..count {
            ticks.push(compact::read_tick_row(&mut reader, head.sent_at)?);
        }
    }
    let rest = reader.rest();
    let tail = if rest.is_empty() {
        Vec::new()
    } else {
        let bad_tail = |what: &str| FrameError::Malformed(format!("compact frame: its tail {what}"));
        if matches!(rest.first(), Some(&(COMPACT_MARKER | COMPACT_TICKS_MARKER))) {
            return Err(bad_tail("is another compact frame"));
        }
        let frame = decode_frame_with(rest, buffers)?;
        let same = frame.header.stream == head.stream && frame.header.seq == head.seq;
        match (frame.header.kind, frame.payload) {
            (FrameKind::Delta, FramePayload::Deltas(deltas)) if same => {
                if deltas.iter().any(|d| matches!(d, Delta::Kline { .. })) {
                    return Err(bad_tail("carries klines"));
                }
                if head.tick_rows && deltas.iter().any(|d| matches!(d, Delta::Tick { .. })) {
                    return Err(bad_tail("carries ticks (a wire-3 frame's ticks are rows)"));
                }
                deltas
            }
            _ => return Err(bad_tail("is not a Delta frame of the same stream and seq")),
        }
    };
    Ok(Frame {
        header: FrameHeader {
            kind: FrameKind::Delta,
            stream: head.stream,
            seq: head.seq,
            source: SourceId(0),
            received_at: head.sent_at,
            chunk: Chunk::WHOLE,
            turn: 0,
        },
        payload: FramePayload::Compact(CompactDelta {
            turn_step: head.turn_step,
            rows,
            tick_rows: head.tick_rows,
            ticks,
            tail,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::Interval;

    fn header(kind: FrameKind) -> FrameHeader {
        FrameHeader {
            kind,
            stream: 1,
            seq: 1,
            source: SourceId(1),
            received_at: 0,
            chunk: Chunk::WHOLE,
            turn: 0,
        }
    }

    fn kline() -> Kline {
        let p = Decimal::parse("1.5").unwrap();
        Kline {
            open_time: 0,
            close_time: 59_999,
            open: p,
            high: p,
            low: p,
            close: p,
            volume: p,
            quote_volume: p,
            trades: 1,
            taker_buy_volume: p,
            taker_buy_quote_volume: p,
            first_trade_id: Some(1),
            last_trade_id: Some(1),
            closed: false,
            as_of: 1,
        }
    }

    /// Builds a frame by hand so fields the encoder never writes can be tested.
    fn hand_built(kind: u8, build: impl FnOnce(&mut FlatBufferBuilder<'static>) -> FrameParts) -> Vec<u8> {
        let mut builder = FlatBufferBuilder::new();
        let parts = build(&mut builder);
        let root = wire::Frame::create(
            &mut builder,
            &wire::FrameArgs {
                kind: wire::FrameKind(kind),
                stream: 1,
                seq: 1,
                source: 1,
                received_at: 0,
                klines: parts.klines,
                ticks: parts.ticks,
                positions: parts.positions,
                balances: parts.balances,
                ban_list: parts.ban_list,
                marks: parts.marks,
                positions_complete_at: parts.positions_complete_at,
                chunk: 0,
                turn: 0,
                chunks: 0,
            },
        );
        wire::finish_frame_buffer(&mut builder, root);
        builder.finished_data().to_vec()
    }

    fn with_kline_row(interval: u8, edit: impl FnOnce(&mut wire::KlineRow)) -> Vec<u8> {
        hand_built(1, |b| {
            let mut row = kline_row(&kline()).unwrap();
            edit(&mut row);
            let rows = b.create_vector(&[row]);
            let group = wire::KlineGroup::create(
                b,
                &wire::KlineGroupArgs {
                    symbol: 1,
                    interval: wire::Interval(interval),
                    rows: Some(rows),
                },
            );
            FrameParts {
                klines: Some(b.create_vector(&[group])),
                ..FrameParts::default()
            }
        })
    }

    #[test]
    fn recycled_vectors_decode_the_next_frame_alone_and_large_ones_are_given_back() {
        let mut encoder = FrameEncoder::new();
        let kline_delta = |minute: i64| {
            let mut k = kline();
            k.open_time = minute * 60_000;
            k.close_time = k.open_time + 59_999;
            Delta::Kline {
                symbol: SymbolId(1),
                interval: Interval::M1,
                kline: k,
            }
        };
        let many: Vec<Delta> = (0..3).map(kline_delta).collect();
        let one = vec![kline_delta(9)];
        let mut buffers = DecodeBuffers::default();
        for deltas in [&many, &one, &many] {
            let bytes = encoder
                .encode_deltas(&header(FrameKind::Delta), deltas)
                .unwrap()
                .to_vec();
            let frame = decode_frame_with(&bytes, &mut buffers).unwrap();
            // Nothing of the previous frame is left in the recycled vector.
            assert_eq!(frame, decode_frame(&bytes).unwrap());
            assert_eq!(frame.payload, FramePayload::Deltas(deltas.clone()));
            buffers.recycle(frame.payload);
            assert!(buffers.deltas.is_empty() && buffers.deltas.capacity() >= 3);
        }
        // Past the cap a vector's room is not kept.
        buffers.recycle(FramePayload::Deltas(Vec::with_capacity(RECYCLED_CAPACITY + 1)));
        assert!(buffers.deltas.capacity() <= RECYCLED_CAPACITY);
    }

    #[test]
    fn hand_built_valid_frame_decodes() {
        let frame = decode_frame(&with_kline_row(0, |_| {})).unwrap();
        assert_eq!(
            frame.payload,
            FramePayload::Deltas(vec![Delta::Kline {
                symbol: SymbolId(1),
                interval: Interval::M1,
                kline: kline(),
            }])
        );
    }

    #[test]
    fn invalid_values_are_typed_errors() {
        assert_eq!(
            decode_frame(&hand_built(9, |_| FrameParts::default())),
            Err(FrameError::UnknownKind { code: 9 })
        );
        // A full positions list is for the hub: a Delta frame carrying one is refused.
        let complete = |_: &mut FlatBufferBuilder<'static>| FrameParts {
            positions_complete_at: 7,
            ..FrameParts::default()
        };
        assert_eq!(
            decode_frame(&hand_built(1, complete)),
            Err(FrameError::KindMismatch { kind: FrameKind::Delta })
        );
        assert!(matches!(
            decode_frame(&hand_built(0, complete)).map(|f| f.payload),
            Ok(FramePayload::Deltas(d)) if d == vec![Delta::PositionsComplete { as_of: 7 }]
        ));
        assert_eq!(
            decode_frame(&with_kline_row(15, |_| {})),
            Err(FrameError::UnknownInterval { code: 15 })
        );
        assert_eq!(
            decode_frame(&with_kline_row(0, |r| r.set_price_scale(31))),
            Err(FrameError::ScaleTooLarge {
                field: "kline.price_scale",
                scale: 31
            })
        );
        assert_eq!(
            decode_frame(&with_kline_row(0, |r| r.set_flags(8))),
            Err(FrameError::UnknownFlags {
                field: "kline.flags",
                flags: 8
            })
        );
        let bad_side = hand_built(1, |b| {
            let position = Position {
                side: PositionSide::Long,
                amount: Decimal::from_int(1),
                entry_price: None,
                break_even_price: None,
                unrealized_pnl: None,
                mark_price: None,
                isolated_wallet: None,
                update_time: 0,
            };
            let mut row = position_row(SymbolId(1), &position).unwrap();
            row.set_side(wire::PositionSide(3));
            FrameParts {
                positions: Some(b.create_vector(&[row])),
                ..FrameParts::default()
            }
        });
        assert_eq!(
            decode_frame(&bad_side),
            Err(FrameError::UnknownPositionSide { code: 3 })
        );
        let bad_asset = hand_built(1, |b| {
            let asset = b.create_string("US DT");
            let balance = wire::Balance::create(
                b,
                &wire::BalanceArgs {
                    asset: Some(asset),
                    ..wire::BalanceArgs::default()
                },
            );
            FrameParts {
                balances: Some(b.create_vector(&[balance])),
                ..FrameParts::default()
            }
        });
        assert_eq!(decode_frame(&bad_asset).unwrap_err().reason(), "invalid_asset_name");
        let bad_all = hand_built(1, |b| {
            let list = wire::BanList::create(b, &wire::BanListArgs { all: 2, symbols: None });
            FrameParts {
                ban_list: Some(list),
                ..FrameParts::default()
            }
        });
        assert_eq!(
            decode_frame(&bad_all),
            Err(FrameError::UnknownFlags {
                field: "ban_list.all",
                flags: 2
            })
        );
        let missing_asset = hand_built(1, |b| {
            // The generated builder refuses a missing required field, so write an empty table.
            let start = b.start_table();
            let balance: WIPOffset<wire::Balance> = WIPOffset::new(b.end_table(start).value());
            FrameParts {
                balances: Some(b.create_vector(&[balance])),
                ..FrameParts::default()
            }
        });
        assert_eq!(decode_frame(&missing_asset).unwrap_err().reason(), "malformed");
    }

    #[test]
    fn struct_rows_are_eight_byte_aligned() {
        let mut encoder = FrameEncoder::new();
        let p = Decimal::from_int(1);
        let tick = Tick {
            bid: p,
            bid_qty: p,
            ask: p,
            ask_qty: p,
            last: None,
            time: 0,
            update_id: None,
        };
        // Odd-length strings and several groups shift offsets around.
        let deltas = vec![
            Delta::Kline {
                symbol: SymbolId(1),
                interval: Interval::M1,
                kline: kline(),
            },
            Delta::Kline {
                symbol: SymbolId(2),
                interval: Interval::M1,
                kline: kline(),
            },
            Delta::Tick {
                symbol: SymbolId(1),
                tick,
            },
            Delta::Balance {
                balance: Balance {
                    asset: Name::new("ABC").unwrap(),
                    wallet_balance: p,
                    cross_wallet_balance: None,
                    available_balance: None,
                    unrealized_pnl: None,
                    update_time: 0,
                },
            },
        ];
        let bytes = encoder
            .encode_deltas(&header(FrameKind::Delta), &deltas)
            .unwrap()
            .to_vec();
        assert_eq!(bytes.len() % 8, 0);
        let frame = wire::root_as_frame(&bytes).unwrap();
        let base = bytes.as_ptr() as usize;
        let groups = frame.klines().unwrap();
        assert_eq!(groups.len(), 2);
        for group in groups.iter() {
            assert_eq!((group.rows().as_ptr() as usize - base) % 8, 0);
        }
        assert_eq!((frame.ticks().unwrap().as_ptr() as usize - base) % 8, 0);
    }

    #[test]
    fn picked_positions_encode_as_the_copied_records_would() {
        let p = Decimal::parse("2.25").unwrap();
        let tick = |symbol: u32, time: i64| Delta::Tick {
            symbol: SymbolId(symbol),
            tick: Tick {
                bid: p,
                bid_qty: p,
                ask: p,
                ask_qty: p,
                last: Some(p),
                time,
                update_id: Some(7),
            },
        };
        let kline_of = |symbol: u32, open_time: i64| Delta::Kline {
            symbol: SymbolId(symbol),
            interval: Interval::M1,
            kline: Kline {
                open_time,
                close_time: open_time + 59_999,
                ..kline()
            },
        };
        let all = vec![
            kline_of(3, 60_000),
            tick(1, 5),
            kline_of(1, 0),
            tick(2, 6),
            kline_of(3, 0),
            tick(3, 7),
        ];
        let mut encoder = FrameEncoder::new();
        let delta = header(FrameKind::Delta);
        // Out of order, repeated and partial picks, across both kinds.
        for at in [
            vec![],
            vec![1],
            vec![4, 0, 2],
            vec![5, 3, 1, 0],
            vec![2, 2],
            vec![0, 1, 2, 3, 4, 5],
        ] {
            let copied: Vec<Delta> = at.iter().map(|&i| all[i].clone()).collect();
            let expected = encoder.encode_deltas(&delta, &copied).unwrap().to_vec();
            let picked = encoder.encode_picked(&delta, Picked::at(&all, &at)).unwrap().to_vec();
            assert_eq!(picked, expected, "positions {at:?}");
        }
        let whole = encoder.encode_deltas(&delta, &all).unwrap().to_vec();
        assert_eq!(encoder.encode_picked(&delta, Picked::all(&all)).unwrap(), &whole[..]);
        // A position past the end names nothing: it is skipped, never read.
        let beyond = encoder
            .encode_picked(&delta, Picked::at(&all, &[1, 99]))
            .unwrap()
            .to_vec();
        assert_eq!(beyond, encoder.encode_deltas(&delta, &all[1..2]).unwrap());
    }

    #[test]
    fn compact_frames_round_trip_and_refuse_a_tail_of_another_frame() {
        let mut encoder = FrameEncoder::new();
        let sent_at = 1_767_225_600_123;
        let delta = header(FrameKind::Delta);
        // A compact frame has no source field: the hub's own frames say 0.
        let header = FrameHeader {
            received_at: sent_at,
            source: SourceId(0),
            ..delta
        };
        let wire = compact::WireKline::of(&kline()).unwrap();
        let row = CompactRow::diff(SymbolId(4), Interval::H1, &wire, Some((2, &wire)), sent_at);
        let tick = Delta::Tick {
            symbol: SymbolId(4),
            tick: Tick {
                bid: Decimal::from_int(1),
                bid_qty: Decimal::from_int(2),
                ask: Decimal::from_int(3),
                ask_qty: Decimal::from_int(4),
                last: None,
                time: 5,
                update_id: None,
            },
        };
        let compact = CompactDelta {
            turn_step: 3,
            rows: vec![row],
            tick_rows: false,
            ticks: Vec::new(),
            tail: vec![tick],
        };
        let frame = Frame {
            header,
            payload: FramePayload::Compact(compact.clone()),
        };
        let bytes = encoder.encode(&frame).unwrap().to_vec();
        assert_eq!(bytes[0], COMPACT_MARKER);
        assert_eq!(decode_frame(&bytes).unwrap(), frame);
        // The same rows without a tail are a few bytes, not a TRB1 frame's hundreds.
        let rows_only = Frame {
            payload: FramePayload::Compact(CompactDelta {
                tail: Vec::new(),
                ..compact.clone()
            }),
            ..frame.clone()
        };
        assert!(encoder.encode(&rows_only).unwrap().len() < 40);
        // A tail of another seq, a compact tail, a lying row count, a turn step of 0.
        let head_len = {
            let mut out = Vec::new();
            compact::write_header(&mut out, COMPACT_MARKER, 1, 1, 3, sent_at, 1);
            row.write(&mut out, sent_at);
            out.len()
        };
        let mut other_seq = bytes[..head_len].to_vec();
        let tail_header = FrameHeader { seq: 9, ..header };
        other_seq.extend_from_slice(encoder.encode_deltas(&tail_header, &compact.tail).unwrap());
        assert_eq!(decode_frame(&other_seq).unwrap_err().reason(), "malformed");
        let mut nested = bytes[..head_len].to_vec();
        nested.extend_from_slice(&bytes);
        assert_eq!(decode_frame(&nested).unwrap_err().reason(), "malformed");
        let mut lying = Vec::new();
        compact::write_header(&mut lying, COMPACT_MARKER, 1, 1, 3, sent_at, 1_000);
        assert_eq!(decode_frame(&lying).unwrap_err().reason(), "malformed");
        let mut still = Vec::new();
        compact::write_header(&mut still, COMPACT_MARKER, 1, 1, 0, sent_at, 0);
        assert_eq!(decode_frame(&still).unwrap_err().reason(), "malformed");
        // A tail with klines is not a compact frame's.
        let mut with_klines = bytes[..head_len].to_vec();
        let kline_delta = [Delta::Kline {
            symbol: SymbolId(1),
            interval: Interval::M1,
            kline: kline(),
        }];
        with_klines.extend_from_slice(encoder.encode_deltas(&header, &kline_delta).unwrap());
        assert_eq!(decode_frame(&with_klines).unwrap_err().reason(), "malformed");
        // Only Delta headers encode compact frames.
        assert_eq!(
            encoder
                .encode_compact(&self::header(FrameKind::Ingest), 1, 0, |_| {}, None, Picked::all(&[]))
                .unwrap_err()
                .reason(),
            "kind_mismatch"
        );
    }

    #[test]
    fn encoder_reuses_its_buffer() {
        let mut encoder = FrameEncoder::new();
        let deltas = vec![Delta::Kline {
            symbol: SymbolId(1),
            interval: Interval::M1,
            kline: kline(),
        }];
        let first = encoder
            .encode_deltas(&header(FrameKind::Delta), &deltas)
            .unwrap()
            .to_vec();
        let capacity = encoder.builder.unfinished_data().len();
        for _ in 0..100 {
            assert_eq!(
                encoder.encode_deltas(&header(FrameKind::Delta), &deltas).unwrap(),
                &first[..]
            );
        }
        assert_eq!(encoder.builder.unfinished_data().len(), capacity);
    }

    proptest::proptest! {
        /// The shared-scale path returns what the general one does wherever it answers, and
        /// answers for every group of one scale whose mantissas fit (values decoded from a row).
        #[test]
        fn shared_scale_path_agrees_with_the_general_one(
            mantissas in proptest::collection::vec(proptest::prelude::any::<i64>(), 3),
            scales in proptest::collection::vec(0u8..=crate::decimal::MAX_SCALE, 3),
            wide in proptest::prelude::any::<bool>(),
            absent in 0usize..4,
        ) {
            let mut values = [None; 3];
            for (i, slot) in values.iter_mut().enumerate() {
                if i == absent {
                    continue;
                }
                let mantissa = if wide && i == 0 { i128::from(mantissas[i]) * 1_000 } else { i128::from(mantissas[i]) };
                *slot = Decimal::new(mantissa, scales[i]).ok();
            }
            let fields = ["a", "b", "c"];
            if let Some(shared) = at_shared_scale(&values) {
                proptest::prop_assert_eq!(Ok(shared), at_common_scale(&values, &fields, false));
            }
            let one_scale = values.map(|v| v.map(|d| Decimal::new(d.mantissa() / 1_000, scales[0]).unwrap()));
            proptest::prop_assert!(at_shared_scale(&one_scale).is_some());
            proptest::prop_assert_eq!(encode_group(one_scale, fields), at_common_scale(&one_scale, &fields, false).map_err(|field| FrameError::DecimalOutOfRange { field }));
        }
    }
}
