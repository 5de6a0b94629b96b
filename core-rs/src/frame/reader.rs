//! Reads a TRB1 frame in one pass, checking each offset, length and alignment as it reads it, with the acceptance of the FlatBuffers verifier and without its generic code.
//!
//! Why not `root_as_frame_with_opts` and the generated accessors: a hub turn and a trader's
//! compact frame with a tail each run the verifier cold (its monomorphized field visits were
//! about a quarter of the instruction lines a cold hub turn fetches, docs/benchmarks-journal.md), then
//! walk the same offsets again through the accessors. Here every position is checked once, right
//! where its value is read, by the few routines below.
//!
//! Acceptance is the verifier's (flatbuffers 2.1.2 `Verifier` with the options the hub used:
//! depth 8, a million tables, 2 × `MAX_FRAME_BYTES` reached): a scalar is aligned to its size and
//! inside the buffer; a table's soffset leads inside the buffer to a vtable of even length that
//! fits; a field is present when its vtable slot is inside the vtable and non-zero; a vector's
//! length word is aligned and its elements fit; a string is UTF-8 with a 0 byte after it; required
//! fields are present. The verifier's two budgets are kept as it keeps them: the bytes looked at (shared parts counted
//! each time they are reached) at most `2 × MAX_FRAME_BYTES`, and at most a million tables. Its
//! depth limit (8) cannot be reached: the schema nests tables two deep. The differential property
//! test below holds this reader to the verifier's decisions.
//!
//! Where a frame has several faults, which one is reported may differ from the verifier's order;
//! that a frame is refused never does.

use super::{
    balance_from_fields, ban_list_from, check_chunk, kline_from_row, mark_from_row, position_from_row, tick_from_row,
    wire, Chunk, Frame, FrameError, FrameHeader, FrameKind, FramePayload, KLINE_ROW_BYTES, MARK_ROW_BYTES,
    MAX_FRAME_BYTES, POSITION_ROW_BYTES, TICK_ROW_BYTES,
};
use crate::delta::{Delta, KlineWindow, Snapshot, SourceId};
use crate::interval::Interval;
use crate::symbol::SymbolId;
// The vtable slots are the generated code's (`VT_*`), so they cannot drift from the schema.
use wire::{Balance as BalanceTable, BanList as BanTable, Frame as FrameTable, KlineGroup as GroupTable};

/// The verifier's budget of bytes looked at.
const MAX_APPARENT_BYTES: usize = 2 * MAX_FRAME_BYTES;
/// The verifier's budget of tables visited.
const MAX_TABLES: usize = 1_000_000;

/// update_time, wallet_balance, cross_wallet_balance, available_balance, unrealized_pnl.
const BALANCE_VALUES: [u16; 5] = [
    BalanceTable::VT_UPDATE_TIME,
    BalanceTable::VT_WALLET_BALANCE,
    BalanceTable::VT_CROSS_WALLET_BALANCE,
    BalanceTable::VT_AVAILABLE_BALANCE,
    BalanceTable::VT_UNREALIZED_PNL,
];

/// A table found and checked: its position, its vtable and the vtable's length in bytes.
#[derive(Clone, Copy)]
struct Table {
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

/// The buffer and the verifier's two counters.
struct Reader<'a> {
    bytes: &'a [u8],
    apparent: usize,
    tables: usize,
}

// The errors are built out of line, so the checks that pass (nearly all of them) stay a compare
// and a branch in the code a cold turn fetches.
#[cold]
#[inline(never)]
fn malformed(what: &str, pos: usize, why: &str) -> FrameError {
    FrameError::Malformed(format!("{what} at byte {pos} {why}"))
}

#[cold]
#[inline(never)]
fn past_end(what: &str, pos: usize, size: usize) -> FrameError {
    malformed(what, pos, &format!("(+{size}) runs past the frame's end"))
}

#[cold]
#[inline(never)]
fn unaligned(what: &str, pos: usize, align: usize) -> FrameError {
    malformed(what, pos, &format!("is not aligned to {align}"))
}

#[cold]
#[inline(never)]
fn reaches_too_much() -> FrameError {
    FrameError::Malformed(format!(
        "frame reaches more than {MAX_APPARENT_BYTES} bytes through its offsets"
    ))
}

impl<'a> Reader<'a> {
    /// `size` bytes at `pos`, counted against the budget of bytes looked at.
    #[inline]
    fn range(&mut self, pos: usize, size: usize, what: &str) -> Result<&'a [u8], FrameError> {
        let Some(bytes) = self.bytes.get(pos..pos.saturating_add(size)) else {
            return Err(past_end(what, pos, size));
        };
        self.apparent += size;
        if self.apparent > MAX_APPARENT_BYTES {
            return Err(reaches_too_much());
        }
        Ok(bytes)
    }

    /// A little-endian scalar of `N` bytes, aligned to `N`.
    #[inline]
    fn scalar<const N: usize>(&mut self, pos: usize, what: &str) -> Result<[u8; N], FrameError> {
        if !pos.is_multiple_of(N) {
            return Err(unaligned(what, pos, N));
        }
        let mut out = [0u8; N];
        out.copy_from_slice(self.range(pos, N, what)?);
        Ok(out)
    }

    fn u32_at(&mut self, pos: usize, what: &str) -> Result<u32, FrameError> {
        self.scalar::<4>(pos, what).map(u32::from_le_bytes)
    }

    /// Where the uoffset at `pos` leads.
    fn follow(&mut self, pos: usize, what: &str) -> Result<usize, FrameError> {
        let offset = self.u32_at(pos, what)?;
        Ok(pos.saturating_add(offset as usize))
    }

    /// The table at `pos`: its soffset leads inside the buffer to a vtable of even length that fits.
    fn table(&mut self, pos: usize, what: &str) -> Result<Table, FrameError> {
        let soffset = i32::from_le_bytes(self.scalar::<4>(pos, what)?);
        let vtable = if soffset > 0 {
            pos.checked_sub(soffset.unsigned_abs() as usize)
        } else {
            pos.checked_add(soffset.unsigned_abs() as usize)
        }
        .filter(|&at| at < self.bytes.len())
        .ok_or_else(|| malformed(what, pos, &format!("has a vtable offset {soffset} outside the frame")))?;
        let vtable_len = u16::from_le_bytes(self.scalar::<2>(vtable, what)?) as usize;
        if !vtable_len.is_multiple_of(2) {
            return Err(malformed(
                what,
                vtable,
                &format!("has a vtable of odd length {vtable_len}"),
            ));
        }
        self.range(vtable, vtable_len, what)?;
        self.tables += 1;
        if self.tables > MAX_TABLES {
            return Err(FrameError::Malformed(format!(
                "frame has more than {MAX_TABLES} tables"
            )));
        }
        Ok(Table {
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Where field `slot` of `table` is, or `None` when the table leaves it out.
    fn field(&mut self, table: Table, slot: u16, what: &str) -> Result<Option<usize>, FrameError> {
        let slot = usize::from(slot);
        if slot >= table.vtable_len {
            return Ok(None);
        }
        let offset = u16::from_le_bytes(self.scalar::<2>(table.vtable.saturating_add(slot), what)?);
        Ok((offset > 0).then(|| table.pos.saturating_add(offset as usize)))
    }

    /// A scalar field, or 0 (every default of the schema) when it is left out.
    fn scalar_field<const N: usize>(&mut self, table: Table, slot: u16, what: &str) -> Result<[u8; N], FrameError> {
        match self.field(table, slot, what)? {
            Some(pos) => self.scalar::<N>(pos, what),
            None => Ok([0; N]),
        }
    }

    /// Where a vector field's elements start, and their count. The verifier also asks the first
    /// element's position to be aligned to the element (4 at most here); it always is, being 4
    /// past the aligned length word.
    fn vector(
        &mut self,
        table: Table,
        slot: u16,
        element_size: usize,
        what: &str,
    ) -> Result<Option<(usize, usize)>, FrameError> {
        let Some(field) = self.field(table, slot, what)? else {
            return Ok(None);
        };
        let at = self.follow(field, what)?;
        let len = self.u32_at(at, what)? as usize;
        let start = at.saturating_add(4);
        self.range(start, len.saturating_mul(element_size), what)?;
        Ok(Some((start, len)))
    }

    /// The bytes of a vector of fixed-size elements (the schema's structs, `uint`s), or `None`
    /// when the table leaves it out.
    fn elements(&mut self, table: Table, slot: u16, size: usize, what: &str) -> Result<Option<&'a [u8]>, FrameError> {
        Ok(match self.vector(table, slot, size, what)? {
            // The range was checked by `vector`; `get` cannot fail here.
            Some((start, len)) => Some(self.bytes.get(start..start + len * size).unwrap_or_default()),
            None => None,
        })
    }

    /// The table an element of a vector of tables leads to (its uoffset is checked again, as
    /// the verifier checks it again).
    fn element_table(&mut self, start: usize, index: usize, what: &str) -> Result<Table, FrameError> {
        let at = self.follow(start + 4 * index, what)?;
        self.table(at, what)
    }

    /// A string field: UTF-8 with a 0 byte after it.
    fn string(&mut self, table: Table, slot: u16, what: &str) -> Result<Option<&'a str>, FrameError> {
        let Some((start, len)) = self.vector(table, slot, 1, what)? else {
            return Ok(None);
        };
        let bytes = self.bytes.get(start..start + len).unwrap_or_default();
        let text = std::str::from_utf8(bytes).map_err(|_| malformed(what, start, "is not UTF-8"))?;
        if self.bytes.get(start + len) != Some(&0) {
            return Err(malformed(what, start, "has no 0 byte after it"));
        }
        Ok(Some(text))
    }
}

/// A struct row's bytes as the generated type, whose accessors read them.
fn row<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

/// Decodes a TRB1 frame whose size and identifier were checked (see [`super::decode_frame`]):
/// the same frames are refused, and the same [`Frame`] given, as by the FlatBuffers verifier
/// followed by the generated accessors. A Delta or Ingest frame's deltas go into `deltas`,
/// whose room is reused (see [`super::DecodeBuffers`]).
pub(super) fn read_frame(bytes: &[u8], mut deltas: Vec<Delta>) -> Result<Frame, FrameError> {
    let mut r = Reader {
        bytes,
        apparent: 0,
        tables: 0,
    };
    let root = r.follow(0, "root offset")?;
    let frame = r.table(root, "frame")?;
    let [code] = r.scalar_field::<1>(frame, FrameTable::VT_KIND, "frame.kind")?;
    let kind = FrameKind::from_code(code).ok_or(FrameError::UnknownKind { code })?;
    let stream = u32::from_le_bytes(r.scalar_field(frame, FrameTable::VT_STREAM, "frame.stream")?);
    let seq = u64::from_le_bytes(r.scalar_field(frame, FrameTable::VT_SEQ, "frame.seq")?);
    let source = u16::from_le_bytes(r.scalar_field(frame, FrameTable::VT_SOURCE, "frame.source")?);
    let received_at = i64::from_le_bytes(r.scalar_field(frame, FrameTable::VT_RECEIVED_AT, "frame.received_at")?);
    let index = u32::from_le_bytes(r.scalar_field(frame, FrameTable::VT_CHUNK, "frame.chunk")?);
    // `chunks` = 0 is the encoding of a whole frame.
    let count = u32::from_le_bytes(r.scalar_field(frame, FrameTable::VT_CHUNKS, "frame.chunks")?).max(1);
    let chunk = Chunk { index, count };
    check_chunk(kind, chunk)?;
    let turn = u64::from_le_bytes(r.scalar_field(frame, FrameTable::VT_TURN, "frame.turn")?);
    let complete_at = i64::from_le_bytes(r.scalar_field(
        frame,
        FrameTable::VT_POSITIONS_COMPLETE_AT,
        "frame.positions_complete_at",
    )?);
    // A whole positions list is for the hub's merge: only an Ingest frame may carry one.
    if complete_at != 0 && kind != FrameKind::Ingest {
        return Err(FrameError::KindMismatch { kind });
    }
    let header = FrameHeader {
        kind,
        stream,
        seq,
        source: SourceId(source),
        received_at,
        chunk,
        turn,
    };

    let groups = r.vector(frame, FrameTable::VT_KLINES, 4, "frame.klines")?;
    let ticks = r
        .elements(frame, FrameTable::VT_TICKS, TICK_ROW_BYTES, "frame.ticks")?
        .unwrap_or_default();
    let positions = r
        .elements(frame, FrameTable::VT_POSITIONS, POSITION_ROW_BYTES, "frame.positions")?
        .unwrap_or_default();
    let balances = r.vector(frame, FrameTable::VT_BALANCES, 4, "frame.balances")?;
    let ban_list = match r.field(frame, FrameTable::VT_BAN_LIST, "frame.ban_list")? {
        Some(field) => {
            let at = r.follow(field, "frame.ban_list")?;
            Some(r.table(at, "ban_list")?)
        }
        None => None,
    };
    let marks = r
        .elements(frame, FrameTable::VT_MARKS, MARK_ROW_BYTES, "frame.marks")?
        .unwrap_or_default();

    let mut windows = Vec::new();
    deltas.clear();
    if kind == FrameKind::Snapshot {
        windows.reserve(groups.map_or(0, |(_, len)| len));
    } else {
        // One delta per group and per record of each other kind (a group of several rows reserves
        // the rest when it is read); every count comes from a checked vector, so the frame's
        // size bounds the reservation.
        let others = (ticks.len() / TICK_ROW_BYTES)
            + (positions.len() / POSITION_ROW_BYTES)
            + (marks.len() / MARK_ROW_BYTES)
            + balances.map_or(0, |(_, len)| len)
            + 2;
        deltas.reserve(others + groups.map_or(0, |(_, len)| len));
    }
    if let Some((start, len)) = groups {
        for index in 0..len {
            let group = r.element_table(start, index, "kline_group")?;
            let symbol = SymbolId(u32::from_le_bytes(r.scalar_field(
                group,
                GroupTable::VT_SYMBOL,
                "kline_group.symbol",
            )?));
            let [code] = r.scalar_field::<1>(group, GroupTable::VT_INTERVAL, "kline_group.interval")?;
            let rows = r
                .elements(group, GroupTable::VT_ROWS, KLINE_ROW_BYTES, "kline_group.rows")?
                .ok_or_else(|| malformed("kline_group.rows", group.pos, "is missing (required)"))?;
            let interval = Interval::from_code(code).ok_or(FrameError::UnknownInterval { code })?;
            let rows = rows
                .chunks_exact(KLINE_ROW_BYTES)
                .map(|bytes| kline_from_row(&wire::KlineRow(row(bytes))));
            if kind == FrameKind::Snapshot {
                windows.push(KlineWindow {
                    symbol,
                    interval,
                    klines: rows.collect::<Result<Vec<_>, _>>()?,
                });
            } else {
                deltas.reserve(rows.len());
                for kline in rows {
                    deltas.push(Delta::Kline {
                        symbol,
                        interval,
                        kline: kline?,
                    });
                }
            }
        }
    }
    let mut balance_list = Vec::with_capacity(balances.map_or(0, |(_, len)| len));
    if let Some((start, len)) = balances {
        for index in 0..len {
            let table = r.element_table(start, index, "balance")?;
            let asset = r.string(table, BalanceTable::VT_ASSET, "balance.asset")?;
            let mut values = [0i64; 5];
            for (value, slot) in values.iter_mut().zip(BALANCE_VALUES) {
                *value = i64::from_le_bytes(r.scalar_field(table, slot, "balance")?);
            }
            let [scale] = r.scalar_field::<1>(table, BalanceTable::VT_SCALE, "balance.scale")?;
            let [flags] = r.scalar_field::<1>(table, BalanceTable::VT_FLAGS, "balance.flags")?;
            let asset = asset.ok_or_else(|| malformed("balance.asset", table.pos, "is missing (required)"))?;
            balance_list.push(balance_from_fields(asset, values, scale, flags)?);
        }
    }
    let ban_list = match ban_list {
        Some(table) => {
            let [all] = r.scalar_field::<1>(table, BanTable::VT_ALL, "ban_list.all")?;
            let symbols = r
                .elements(table, BanTable::VT_SYMBOLS, 4, "ban_list.symbols")?
                .unwrap_or_default();
            let symbols = symbols.chunks_exact(4).map(|word| u32::from_le_bytes(row(word)));
            Some(ban_list_from(all, symbols)?)
        }
        None => None,
    };

    let tick_rows = ticks
        .chunks_exact(TICK_ROW_BYTES)
        .map(|b| tick_from_row(&wire::TickRow(row(b))));
    let position_rows = positions
        .chunks_exact(POSITION_ROW_BYTES)
        .map(|b| position_from_row(&wire::PositionRow(row(b))));
    let mark_rows = marks
        .chunks_exact(MARK_ROW_BYTES)
        .map(|b| mark_from_row(&wire::MarkRow(row(b))));
    let payload = if kind == FrameKind::Snapshot {
        FramePayload::Snapshot(Snapshot {
            klines: windows,
            ticks: tick_rows.collect::<Result<_, _>>()?,
            positions: position_rows.collect::<Result<_, _>>()?,
            balances: balance_list,
            ban_list,
            marks: mark_rows.collect::<Result<_, _>>()?,
        })
    } else {
        for tick in tick_rows {
            let (symbol, tick) = tick?;
            deltas.push(Delta::Tick { symbol, tick });
        }
        for position in position_rows {
            let (symbol, position) = position?;
            deltas.push(Delta::Position { symbol, position });
        }
        deltas.extend(balance_list.into_iter().map(|balance| Delta::Balance { balance }));
        deltas.extend(ban_list.map(Delta::BanList));
        for mark in mark_rows {
            let (symbol, mark) = mark?;
            deltas.push(Delta::Mark { symbol, mark });
        }
        if complete_at != 0 {
            deltas.push(Delta::PositionsComplete { as_of: complete_at });
        }
        FramePayload::Deltas(deltas)
    };
    Ok(Frame { header, payload })
}

#[cfg(test)]
mod tests {
    use super::super::{
        balance_from_fields, ban_list_from, check_chunk, kline_from_row, mark_from_row, position_from_row,
        tick_from_row, wire, Chunk, FrameEncoder, FrameError, FrameHeader, FrameKind, FramePayload, MAX_FRAME_BYTES,
    };
    use super::*;
    use crate::account::{Balance, Position, PositionSide};
    use crate::decimal::Decimal;
    use crate::delta::BanList;
    use crate::market::{Kline, Mark, Tick};
    use crate::symbol::Name;
    use flatbuffers::{FlatBufferBuilder, VerifierOptions};
    use proptest::prelude::*;

    /// The decoder this reader replaced: the FlatBuffers verifier with the hub's limits, then the
    /// generated accessors. It is the oracle of the differential tests.
    fn verified_read(bytes: &[u8]) -> Result<Frame, FrameError> {
        let options = VerifierOptions {
            max_depth: 8,
            max_tables: MAX_TABLES,
            max_apparent_size: MAX_APPARENT_BYTES,
            ignore_missing_null_terminator: false,
        };
        // flatbuffers 2.1.2 takes `i32::abs` of a vtable offset, which overflows on i32::MIN in
        // a debug build (a release build wraps and refuses the frame): a panic is a refusal.
        let verified = std::panic::catch_unwind(|| wire::root_as_frame_with_opts(&options, bytes).is_ok());
        if !matches!(verified, Ok(true)) {
            return Err(FrameError::Malformed("refused by the verifier".into()));
        }
        let frame = wire::root_as_frame(bytes).map_err(|e| FrameError::Malformed(e.to_string()))?;
        let code = frame.kind().0;
        let kind = FrameKind::from_code(code).ok_or(FrameError::UnknownKind { code })?;
        let chunk = Chunk {
            index: frame.chunk(),
            count: frame.chunks().max(1),
        };
        check_chunk(kind, chunk)?;
        let header = FrameHeader {
            kind,
            stream: frame.stream(),
            seq: frame.seq(),
            source: SourceId(frame.source()),
            received_at: frame.received_at(),
            chunk,
            turn: frame.turn(),
        };
        let mut windows = Vec::new();
        let mut deltas = Vec::new();
        for group in frame.klines().unwrap_or_default().iter() {
            let code = group.interval().0;
            let interval = Interval::from_code(code).ok_or(FrameError::UnknownInterval { code })?;
            let symbol = SymbolId(group.symbol());
            let klines = group.rows().iter().map(kline_from_row).collect::<Result<Vec<_>, _>>()?;
            if kind == FrameKind::Snapshot {
                windows.push(KlineWindow {
                    symbol,
                    interval,
                    klines,
                });
            } else {
                deltas.extend(klines.into_iter().map(|kline| Delta::Kline {
                    symbol,
                    interval,
                    kline,
                }));
            }
        }
        let ticks = frame.ticks().unwrap_or_default().iter().map(tick_from_row);
        let ticks = ticks.collect::<Result<Vec<_>, _>>()?;
        let positions = frame.positions().unwrap_or_default().iter().map(position_from_row);
        let positions = positions.collect::<Result<Vec<_>, _>>()?;
        let mut balances = Vec::new();
        for table in frame.balances().unwrap_or_default().iter() {
            let values = [
                table.update_time(),
                table.wallet_balance(),
                table.cross_wallet_balance(),
                table.available_balance(),
                table.unrealized_pnl(),
            ];
            balances.push(balance_from_fields(
                table.asset(),
                values,
                table.scale(),
                table.flags(),
            )?);
        }
        let ban_list = match frame.ban_list() {
            Some(table) => Some(ban_list_from(
                table.all(),
                table
                    .symbols()
                    .map(|v| v.iter().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .into_iter(),
            )?),
            None => None,
        };
        let marks = frame.marks().unwrap_or_default().iter().map(mark_from_row);
        let marks = marks.collect::<Result<Vec<_>, _>>()?;
        let complete_at = frame.positions_complete_at();
        if complete_at != 0 && kind != FrameKind::Ingest {
            return Err(FrameError::KindMismatch { kind });
        }
        let payload = if kind == FrameKind::Snapshot {
            FramePayload::Snapshot(Snapshot {
                klines: windows,
                ticks,
                positions,
                balances,
                ban_list,
                marks,
            })
        } else {
            deltas.extend(ticks.into_iter().map(|(symbol, tick)| Delta::Tick { symbol, tick }));
            deltas.extend(
                positions
                    .into_iter()
                    .map(|(symbol, position)| Delta::Position { symbol, position }),
            );
            deltas.extend(balances.into_iter().map(|balance| Delta::Balance { balance }));
            deltas.extend(ban_list.map(Delta::BanList));
            deltas.extend(marks.into_iter().map(|(symbol, mark)| Delta::Mark { symbol, mark }));
            if complete_at != 0 {
                deltas.push(Delta::PositionsComplete { as_of: complete_at });
            }
            FramePayload::Deltas(deltas)
        };
        Ok(Frame { header, payload })
    }

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn kline(open_time: i64, trades: u64) -> Kline {
        Kline {
            open_time,
            close_time: open_time + 59_999,
            open: d("101.25"),
            high: d("102.5"),
            low: d("100"),
            close: d("101.75"),
            volume: d("12.345"),
            quote_volume: d("1250.5"),
            trades,
            taker_buy_volume: d("6.1"),
            taker_buy_quote_volume: d("620.25"),
            first_trade_id: Some(7),
            last_trade_id: trades.is_multiple_of(2).then_some(9),
            closed: trades.is_multiple_of(3),
            as_of: open_time + 1_000,
        }
    }

    /// Every kind of record the schema carries, with odd-length asset names so that offsets move.
    fn deltas() -> Vec<Delta> {
        let mut deltas = Vec::new();
        for (symbol, interval) in [(3, Interval::M1), (3, Interval::H1), (11, Interval::M15)] {
            for bar in 0..2 {
                deltas.push(Delta::Kline {
                    symbol: SymbolId(symbol),
                    interval,
                    kline: kline(1_700_000_040_000 + bar * 60_000, 40 + bar as u64),
                });
            }
        }
        let tick = Tick {
            bid: d("101.5"),
            bid_qty: d("3.2"),
            ask: d("101.6"),
            ask_qty: d("1"),
            last: Some(d("101.55")),
            time: 1_700_000_000_123,
            update_id: Some(99),
        };
        deltas.push(Delta::Tick {
            symbol: SymbolId(3),
            tick,
        });
        deltas.push(Delta::Position {
            symbol: SymbolId(11),
            position: Position {
                side: PositionSide::Long,
                amount: d("0.5"),
                entry_price: Some(d("100.1")),
                break_even_price: None,
                unrealized_pnl: Some(d("-1.25")),
                mark_price: None,
                isolated_wallet: Some(d("20")),
                update_time: 1_700_000_000_500,
            },
        });
        for asset in ["USDT", "BNB", "FDUSD"] {
            deltas.push(Delta::Balance {
                balance: Balance {
                    asset: Name::new(asset).unwrap(),
                    wallet_balance: d("1000.5"),
                    cross_wallet_balance: Some(d("990")),
                    available_balance: None,
                    unrealized_pnl: Some(d("-3.5")),
                    update_time: 1_700_000_000_600,
                },
            });
        }
        deltas.push(Delta::BanList(BanList::new(false, vec![SymbolId(5), SymbolId(8)])));
        deltas.push(Delta::Mark {
            symbol: SymbolId(3),
            mark: Mark {
                time: 1_700_000_000_700,
                mark_price: d("101.52"),
                index_price: d("101.5"),
                estimated_settle_price: d("101.49"),
                funding_rate: d("0.0001"),
                next_funding_time: 1_700_028_800_000,
            },
        });
        deltas
    }

    fn header(kind: FrameKind, chunk: Chunk) -> FrameHeader {
        FrameHeader {
            kind,
            stream: 42,
            seq: 1_234_567,
            source: SourceId(7),
            received_at: 1_700_000_000_999,
            chunk,
            turn: 0,
        }
    }

    /// Valid frames of every kind, encoded by the hub's encoder.
    fn seeds() -> Vec<Vec<u8>> {
        let mut encoder = FrameEncoder::new();
        let all = deltas();
        let mut seeds = Vec::new();
        for kind in [FrameKind::Ingest, FrameKind::Delta] {
            seeds.push(
                encoder
                    .encode_deltas(&header(kind, Chunk::WHOLE), &all)
                    .unwrap()
                    .to_vec(),
            );
            seeds.push(
                encoder
                    .encode_deltas(&header(kind, Chunk::WHOLE), &all[..2])
                    .unwrap()
                    .to_vec(),
            );
        }
        let mut snapshot = Snapshot {
            klines: Vec::new(),
            ticks: Vec::new(),
            positions: Vec::new(),
            balances: Vec::new(),
            ban_list: Some(BanList::new(true, Vec::new())),
            marks: Vec::new(),
        };
        for delta in all {
            match delta {
                Delta::Kline {
                    symbol,
                    interval,
                    kline,
                } => match snapshot.klines.last_mut() {
                    Some(window) if window.symbol == symbol && window.interval == interval => window.klines.push(kline),
                    _ => snapshot.klines.push(KlineWindow {
                        symbol,
                        interval,
                        klines: vec![kline],
                    }),
                },
                Delta::Tick { symbol, tick } => snapshot.ticks.push((symbol, tick)),
                Delta::Position { symbol, position } => snapshot.positions.push((symbol, position)),
                Delta::Balance { balance } => snapshot.balances.push(balance),
                Delta::Mark { symbol, mark } => snapshot.marks.push((symbol, mark)),
                _ => {}
            }
        }
        let mut chunk = header(FrameKind::Snapshot, Chunk { index: 1, count: 3 });
        chunk.turn = 77;
        seeds.push(encoder.encode_snapshot(&chunk, &snapshot).unwrap().to_vec());
        seeds
    }

    #[test]
    fn valid_frames_read_as_the_verifier_and_accessors_read_them() {
        for seed in seeds() {
            let read = read_frame(&seed, Vec::new()).unwrap();
            assert_eq!(Ok(read), verified_read(&seed));
        }
    }

    /// A frame whose klines vector names the same group `copies` times.
    fn shared_group_frame(copies: usize, rows: usize) -> Vec<u8> {
        let mut builder = FlatBufferBuilder::new();
        let row = wire::KlineRow::new(0, 59_999, 1, 1, 0, 0, 15, 15, 15, 15, 1, 1, 1, 1, 1, 1, 1, 0);
        let rows = builder.create_vector(&vec![row; rows]);
        let group = wire::KlineGroup::create(
            &mut builder,
            &wire::KlineGroupArgs {
                symbol: 1,
                interval: wire::Interval(0),
                rows: Some(rows),
            },
        );
        let groups = builder.create_vector(&vec![group; copies]);
        let frame = wire::Frame::create(
            &mut builder,
            &wire::FrameArgs {
                kind: wire::FrameKind(0),
                klines: Some(groups),
                ..wire::FrameArgs::default()
            },
        );
        wire::finish_frame_buffer(&mut builder, frame);
        builder.finished_data().to_vec()
    }

    #[test]
    fn the_verifiers_budgets_refuse_the_same_frames() {
        // A million tables: one more is refused by both (in this schema the budget of bytes
        // looked at binds first, each visit of a group costing about 40 of them).
        let tables = shared_group_frame(MAX_TABLES + 1, 0);
        assert!(tables.len() <= MAX_FRAME_BYTES);
        assert!(read_frame(&tables, Vec::new()).is_err());
        assert!(verified_read(&tables).is_err());
        let many = shared_group_frame(500_000, 0);
        let read = read_frame(&many, Vec::new()).unwrap();
        assert_eq!(Ok(read), verified_read(&many));
        // Shared rows counted each time they are reached: 2,000 rows (240 kB) reached 140 times
        // pass 32 MiB; 130 times do not.
        let apparent = shared_group_frame(140, 2_000);
        assert!(
            matches!(read_frame(&apparent, Vec::new()), Err(FrameError::Malformed(m)) if m.contains("reaches more than"))
        );
        assert!(verified_read(&apparent).is_err());
        let within = shared_group_frame(130, 2_000);
        let read = read_frame(&within, Vec::new()).unwrap();
        assert_eq!(Ok(read), verified_read(&within));
    }

    #[test]
    fn a_vtable_offset_of_i32_min_is_refused() {
        let mut frame = seeds().remove(0);
        let root = u32::from_le_bytes(frame[0..4].try_into().unwrap()) as usize;
        frame[root..root + 4].copy_from_slice(&i32::MIN.to_le_bytes());
        assert!(matches!(read_frame(&frame, Vec::new()), Err(FrameError::Malformed(_))));
    }

    /// One edit of a frame's bytes.
    #[derive(Clone, Debug)]
    enum Edit {
        /// Sets the byte at (position mod length).
        Byte(usize, u8),
        /// Writes a small little-endian word at a 4-aligned position: offsets, lengths, vtable entries.
        Word(usize, u32),
        /// Writes a 16-bit value at a 2-aligned position (vtable slots and lengths).
        Half(usize, u16),
        /// Cuts the frame to (length mod frame length).
        Cut(usize),
        /// Inserts a byte, shifting everything after it.
        Insert(usize, u8),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(at, v)| Edit::Byte(at, v)),
            (
                any::<usize>(),
                prop_oneof![0u32..512, any::<u32>(), Just(u32::MAX), Just(0x8000_0000)]
            )
                .prop_map(|(at, v)| Edit::Word(at, v)),
            (any::<usize>(), prop_oneof![0u16..64, any::<u16>()]).prop_map(|(at, v)| Edit::Half(at, v)),
            any::<usize>().prop_map(Edit::Cut),
            (any::<usize>(), any::<u8>()).prop_map(|(at, v)| Edit::Insert(at, v)),
        ]
    }

    fn apply(frame: &mut Vec<u8>, edit: &Edit) {
        if frame.is_empty() {
            return;
        }
        let len = frame.len();
        match *edit {
            Edit::Byte(at, v) => frame[at % len] = v,
            Edit::Word(at, v) if len >= 4 => {
                let at = (at % (len / 4)) * 4;
                frame[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            Edit::Half(at, v) if len >= 2 => {
                let at = (at % (len / 2)) * 2;
                frame[at..at + 2].copy_from_slice(&v.to_le_bytes());
            }
            Edit::Cut(at) => frame.truncate(at % len),
            Edit::Insert(at, v) => frame.insert(at % (len + 1), v),
            _ => {}
        }
    }

    /// How many edited frames each run compares: `FRAME_READER_CASES=1000000 cargo test -p
    /// tributary-core --release frame::reader` for a long run (docs/operations.md).
    fn cases() -> u32 {
        std::env::var("FRAME_READER_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(3_000)
    }

    /// Both refuse `bytes`, or both read the same frame from it.
    fn agree(bytes: &[u8]) -> Result<(), TestCaseError> {
        let ours = read_frame(bytes, Vec::new());
        let oracle = verified_read(bytes);
        match (&ours, &oracle) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "reader {:?}, verifier {:?}", ours, oracle),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// Edited frames: this reader refuses exactly what the verifier (followed by the same
        /// value checks) refuses, and reads the same frame from everything else.
        #[test]
        fn edited_frames_are_read_as_the_verifier_reads_them(
            seed in 0usize..5,
            edits in proptest::collection::vec(edit(), 1..6),
        ) {
            let mut frame = seeds().swap_remove(seed);
            for edit in &edits {
                apply(&mut frame, edit);
            }
            agree(&frame)?;
        }

        /// Random bytes, small values weighted (offsets and lengths that lead somewhere).
        #[test]
        fn random_bytes_are_read_as_the_verifier_reads_them(
            bytes in proptest::collection::vec(prop_oneof![Just(0u8), 1u8..16, any::<u8>()], 8..400),
        ) {
            agree(&bytes)?;
        }
    }
}
