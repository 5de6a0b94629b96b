//! Hub topics: which deltas and which part of the book each subscription stream carries.
//!
//! A subscriber asks for a [`TopicFilter`] (symbols × entity kinds × kline intervals, each a list
//! or everything). The hub gives every distinct filter one stream id with its own sequence, and
//! subscribers with the same filter share the stream, so a turn's deltas are encoded once per
//! stream, not once per subscriber. [`TopicSet`] keeps the streams and their sequence numbers and
//! turns one turn's deltas into one Delta frame per stream that has something to say.
//!
//! Balances and the ban list are account-wide: the symbol list does not restrict them, only the
//! kind list does. The interval list restricts klines only.

use crate::delta::{Delta, Snapshot, SourceId};
use crate::frame::{
    snapshot_item_bytes, Chunk, ChunkPlanner, CompactTicks, FrameEncoder, FrameError, FrameHeader, FrameKind, Picked,
    WireVersion,
};
use crate::interval::Interval;
use crate::kline_bases::{KlineBases, RowSlot, TurnRows};
use crate::merge_book::MergeBook;
use crate::symbol::SymbolId;
use std::ops::Range;

/// Entity kinds a topic may select, as bits of [`TopicFilter::kinds`].
pub mod kinds {
    pub const KLINE: u8 = 1;
    pub const TICK: u8 = 2;
    pub const POSITION: u8 = 4;
    pub const BALANCE: u8 = 8;
    pub const BAN_LIST: u8 = 16;
    /// Mark price, index price and funding.
    pub const MARK: u8 = 32;
    /// Every kind.
    pub const ALL: u8 = 63;
}

/// Bits of every interval in [`TopicFilter::intervals`] (bit `Interval::code()`).
pub const ALL_INTERVALS: u16 = (1 << 15) - 1;

/// The kind bit of an entity kind name (`kline`, `tick`, `position`, `balance`, `banlist`).
pub fn kind_bit(name: &str) -> Option<u8> {
    Some(match name {
        "kline" => kinds::KLINE,
        "tick" => kinds::TICK,
        "position" => kinds::POSITION,
        "balance" => kinds::BALANCE,
        "banlist" => kinds::BAN_LIST,
        "mark" => kinds::MARK,
        _ => return None,
    })
}

/// What a subscription stream carries. Built normalised (sorted, deduplicated symbols; bit sets
/// for kinds and intervals), so two equal filters compare equal whatever order they were given in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TopicFilter {
    /// `None`: every symbol, including symbols registered later.
    symbols: Option<Vec<SymbolId>>,
    kinds: u8,
    intervals: u16,
}

impl TopicFilter {
    /// Everything the hub holds.
    pub fn all() -> TopicFilter {
        TopicFilter {
            symbols: None,
            kinds: kinds::ALL,
            intervals: ALL_INTERVALS,
        }
    }

    /// A filter; `None` means "every" for symbols and intervals. Unknown kind bits are dropped.
    pub fn new(symbols: Option<Vec<SymbolId>>, kind_bits: u8, intervals: Option<&[Interval]>) -> TopicFilter {
        let symbols = symbols.map(|mut ids| {
            ids.sort_unstable();
            ids.dedup();
            ids
        });
        let intervals = intervals.map_or(ALL_INTERVALS, |list| {
            list.iter().fold(0u16, |bits, interval| bits | (1 << interval.code()))
        });
        TopicFilter {
            symbols,
            kinds: kind_bits & kinds::ALL,
            intervals,
        }
    }

    /// The selected symbols, ascending; `None` for every symbol.
    pub fn symbols(&self) -> Option<&[SymbolId]> {
        self.symbols.as_deref()
    }

    /// The selected kinds as bits of [`kinds`].
    pub fn kinds(&self) -> u8 {
        self.kinds
    }

    /// The selected intervals as bits (bit `code`).
    pub fn intervals(&self) -> u16 {
        self.intervals
    }

    pub fn has_kind(&self, bit: u8) -> bool {
        self.kinds & bit != 0
    }

    pub fn has_symbol(&self, symbol: SymbolId) -> bool {
        self.symbols
            .as_ref()
            .is_none_or(|ids| ids.binary_search(&symbol).is_ok())
    }

    pub fn has_interval(&self, interval: Interval) -> bool {
        self.intervals & (1 << interval.code()) != 0
    }

    /// Whether a delta belongs to this topic.
    pub fn matches(&self, delta: &Delta) -> bool {
        match delta {
            Delta::Kline { symbol, interval, .. } => {
                self.has_kind(kinds::KLINE) && self.has_interval(*interval) && self.has_symbol(*symbol)
            }
            Delta::Tick { symbol, .. } => self.has_kind(kinds::TICK) && self.has_symbol(*symbol),
            Delta::Position { symbol, .. } => self.has_kind(kinds::POSITION) && self.has_symbol(*symbol),
            Delta::Balance { .. } => self.has_kind(kinds::BALANCE),
            Delta::BanList(_) => self.has_kind(kinds::BAN_LIST),
            Delta::Mark { symbol, .. } => self.has_kind(kinds::MARK) && self.has_symbol(*symbol),
            // Collector → hub only: traders get the positions it set flat.
            Delta::PositionsComplete { .. } => false,
        }
    }
}

/// One subscription stream: its id, filter, the seq of the last Delta frame it was given (0
/// before the first), the Delta encoding its subscribers speak, and the hub turn of its last
/// Delta frame (or of its creation), which its next compact frame counts from and its snapshots
/// are as of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub stream: u32,
    pub filter: TopicFilter,
    pub seq: u64,
    pub wire: WireVersion,
    pub turn: u64,
}

impl Topic {
    /// The turn a snapshot of this topic carries: its turn on a compact (wire-2 or wire-3)
    /// stream, 0 (none) on wire 1.
    fn snapshot_turn(&self) -> u64 {
        if self.wire.is_compact() {
            self.turn
        } else {
            0
        }
    }
}

/// Why a topic operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("stream {stream} already exists")]
    DuplicateStream { stream: u32 },
    #[error("stream {stream} does not exist")]
    UnknownStream { stream: u32 },
    #[error("stream {stream} is the hub's reserved id")]
    ReservedStream { stream: u32 },
}

impl TopicError {
    /// A stable short label for counters and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            TopicError::DuplicateStream { .. } => "duplicate_stream",
            TopicError::UnknownStream { .. } => "unknown_stream",
            TopicError::ReservedStream { .. } => "reserved_stream",
        }
    }
}

/// A stream whose Delta frame could not be encoded this turn. Its seq was still consumed, so
/// subscribers see a gap and ask for a snapshot instead of silently missing the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFailure {
    pub stream: u32,
    pub seq: u64,
    pub error: FrameError,
}

/// The hub's subscription streams, and the publication state compact streams need: the turn
/// counter (every [`TopicSet::encode_deltas`] with deltas is one turn) and the base each recent
/// bar's next row is written against ([`KlineBases`]).
#[derive(Debug)]
pub struct TopicSet {
    topics: Vec<Topic>,
    /// Positions in the turn's deltas of the stream being encoded (not copies: see [`Picked`]),
    /// reused across streams and turns.
    picked: Vec<usize>,
    /// The turn of the last publication; turns start at 1 (0 means "no turn" on the wire).
    turn: u64,
    bases: KlineBases,
    /// This turn's compact rows, written once for every wire-2 and wire-3 stream.
    rows: TurnRows,
    /// The kline rows of the compact stream being encoded.
    row_ranges: Vec<Range<usize>>,
    /// The tick rows of the wire-3 stream being encoded.
    tick_ranges: Vec<Range<usize>>,
}

impl Default for TopicSet {
    fn default() -> Self {
        TopicSet {
            topics: Vec::new(),
            picked: Vec::new(),
            turn: 1,
            bases: KlineBases::new(),
            rows: TurnRows::new(),
            row_ranges: Vec::new(),
            tick_ranges: Vec::new(),
        }
    }
}

impl TopicSet {
    pub fn new() -> TopicSet {
        TopicSet::default()
    }

    /// Adds a wire-1 stream (ids are the caller's; 0 is reserved for "no stream", as in Ingest
    /// frames).
    pub fn insert(&mut self, stream: u32, filter: TopicFilter) -> Result<(), TopicError> {
        self.insert_with_wire(stream, filter, WireVersion::V1)
    }

    /// Adds a stream whose Delta frames use `wire`.
    pub fn insert_with_wire(&mut self, stream: u32, filter: TopicFilter, wire: WireVersion) -> Result<(), TopicError> {
        if stream == 0 {
            return Err(TopicError::ReservedStream { stream });
        }
        if self.get(stream).is_some() {
            return Err(TopicError::DuplicateStream { stream });
        }
        self.topics.push(Topic {
            stream,
            filter,
            seq: 0,
            wire,
            turn: self.turn,
        });
        Ok(())
    }

    /// The turn of the last publication (1 before the first).
    pub fn turn(&self) -> u64 {
        self.turn
    }

    /// Forgets the bases of the bars among `deltas`: they changed without a publication every
    /// subscriber saw (the deltas were dropped, or a snapshot is taken before they go out), so
    /// their next rows travel whole.
    pub fn forget_bases(&mut self, deltas: &[Delta]) {
        self.bases.forget_deltas(deltas);
    }

    /// Forgets every base (deltas were published outside the topics).
    pub fn clear_bases(&mut self) {
        self.bases.clear();
    }

    /// Bars with a base kept.
    pub fn bases(&self) -> usize {
        self.bases.bars()
    }

    /// Removes a stream; false when it did not exist.
    pub fn remove(&mut self, stream: u32) -> bool {
        let before = self.topics.len();
        self.topics.retain(|t| t.stream != stream);
        self.topics.len() != before
    }

    pub fn get(&self, stream: u32) -> Option<&Topic> {
        self.topics.iter().find(|t| t.stream == stream)
    }

    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// One turn: encodes, for every stream with at least one matching delta, one Delta frame
    /// numbered with the stream's next seq in the stream's encoding, and hands it to
    /// `emit(stream, seq, bytes)` (the bytes live until `emit` returns). Streams with nothing to
    /// say keep their seq. `deltas` holds one delta per entity (coalesced). Returns the streams
    /// whose frame could not be encoded.
    pub fn encode_deltas(
        &mut self,
        deltas: &[Delta],
        encoder: &mut FrameEncoder,
        sent_at: i64,
        mut emit: impl FnMut(u32, u64, &[u8]),
    ) -> Vec<TopicFailure> {
        let mut failures = Vec::new();
        if deltas.is_empty() {
            return failures;
        }
        self.turn += 1;
        let turn = self.turn;
        // Bases must follow every published version, or be dropped: a compact stream added later
        // would otherwise get rows against versions its snapshot never held.
        if self.topics.iter().any(|t| t.wire.is_compact()) {
            let tick_rows = self.topics.iter().any(|t| t.wire == WireVersion::V3);
            self.rows.write(deltas, &mut self.bases, turn, sent_at, tick_rows);
        } else {
            self.rows.clear();
            self.bases.clear();
        }
        for topic in &mut self.topics {
            let header = FrameHeader {
                kind: FrameKind::Delta,
                stream: topic.stream,
                seq: topic.seq + 1,
                source: SourceId(0),
                received_at: sent_at,
                chunk: Chunk::WHOLE,
                turn: 0,
            };
            self.picked.clear();
            let encoded = match topic.wire {
                WireVersion::V1 => {
                    self.picked.extend(
                        deltas
                            .iter()
                            .enumerate()
                            .filter(|(_, d)| topic.filter.matches(d))
                            .map(|(index, _)| index),
                    );
                    if self.picked.is_empty() {
                        continue;
                    }
                    encoder.encode_picked(&header, Picked::at(deltas, &self.picked))
                }
                WireVersion::V2 | WireVersion::V3 => {
                    let tick_rows = topic.wire == WireVersion::V3;
                    self.row_ranges.clear();
                    self.tick_ranges.clear();
                    let mut failed = None;
                    for (index, delta) in deltas.iter().enumerate() {
                        if !topic.filter.matches(delta) {
                            continue;
                        }
                        match self.rows.slot(index) {
                            Some(RowSlot::Row(range)) => self.row_ranges.push(range.clone()),
                            Some(RowSlot::Tick(range)) if tick_rows => self.tick_ranges.push(range.clone()),
                            Some(RowSlot::Failed(error)) => failed = Some(error.clone()),
                            Some(RowSlot::Tail | RowSlot::Tick(_)) | None => self.picked.push(index),
                        }
                    }
                    let empty = self.picked.is_empty() && self.row_ranges.is_empty() && self.tick_ranges.is_empty();
                    if empty && failed.is_none() {
                        continue;
                    }
                    match failed {
                        Some(error) => Err(error),
                        None => {
                            let (rows, ranges, tick_ranges) = (&self.rows, &self.row_ranges, &self.tick_ranges);
                            let write_ticks = |out: &mut Vec<u8>| {
                                for range in tick_ranges {
                                    out.extend_from_slice(rows.bytes(range));
                                }
                            };
                            encoder.encode_compact(
                                &header,
                                turn - topic.turn,
                                ranges.len(),
                                |out| {
                                    for range in ranges {
                                        out.extend_from_slice(rows.bytes(range));
                                    }
                                },
                                tick_rows.then_some(CompactTicks {
                                    count: tick_ranges.len(),
                                    write: &write_ticks,
                                }),
                                Picked::at(deltas, &self.picked),
                            )
                        }
                    }
                }
            };
            topic.seq += 1;
            topic.turn = turn;
            match encoded {
                Ok(bytes) => emit(topic.stream, topic.seq, bytes),
                Err(error) => failures.push(TopicFailure {
                    stream: topic.stream,
                    seq: topic.seq,
                    error,
                }),
            }
        }
        failures
    }

    /// The Snapshot of `stream` as of its current seq, as chunk frames of at most about
    /// `chunk_bytes` each (see [`ChunkPlanner`]), handed to `emit(chunk, bytes)` in order (the
    /// bytes live until `emit` returns). Applying every chunk, then the stream's next Delta
    /// frames, reproduces the book's view of the topic. Returns the number of chunks. The book is
    /// walked twice (count, then encode), so no copy of the whole snapshot is ever held.
    pub fn encode_snapshot_chunks(
        &self,
        book: &MergeBook,
        stream: u32,
        encoder: &mut FrameEncoder,
        sent_at: i64,
        chunk_bytes: usize,
        mut emit: impl FnMut(Chunk, &[u8]),
    ) -> Result<u32, TopicSnapshotError> {
        let topic = self.get(stream).ok_or(TopicError::UnknownStream { stream })?;
        let mut plan = ChunkPlanner::new(chunk_bytes);
        book.visit_matching(&topic.filter, |item| {
            plan.place(snapshot_item_bytes(&item));
        });
        let count = plan.chunks();
        let mut header = FrameHeader {
            kind: FrameKind::Snapshot,
            stream,
            seq: topic.seq,
            source: SourceId(0),
            received_at: sent_at,
            chunk: Chunk { index: 0, count },
            turn: topic.snapshot_turn(),
        };
        let mut placing = ChunkPlanner::new(chunk_bytes);
        let mut part = Snapshot::default();
        let mut failure = None;
        book.visit_matching(&topic.filter, |item| {
            if failure.is_some() {
                return;
            }
            if placing.place(snapshot_item_bytes(&item)) {
                match encoder.encode_snapshot(&header, &part) {
                    Ok(bytes) => emit(header.chunk, bytes),
                    Err(error) => failure = Some(error),
                }
                part = Snapshot::default();
                header.chunk.index += 1;
            }
            part.push(item);
        });
        if let Some(error) = failure {
            return Err(error.into());
        }
        let bytes = encoder.encode_snapshot(&header, &part)?;
        emit(header.chunk, bytes);
        Ok(count)
    }

    /// The Snapshot frame of `stream` as of its current seq in one frame (refused with
    /// `too_large` beyond the frame limit; [`TopicSet::encode_snapshot_chunks`] has no limit):
    /// applying it and then the stream's next Delta frames reproduces the book's view of the topic.
    pub fn encode_snapshot<'e>(
        &self,
        book: &MergeBook,
        stream: u32,
        encoder: &'e mut FrameEncoder,
        sent_at: i64,
    ) -> Result<&'e [u8], TopicSnapshotError> {
        let topic = self.get(stream).ok_or(TopicError::UnknownStream { stream })?;
        let snapshot = book.snapshot_matching(&topic.filter);
        let header = FrameHeader {
            kind: FrameKind::Snapshot,
            stream,
            seq: topic.seq,
            source: SourceId(0),
            received_at: sent_at,
            chunk: Chunk::WHOLE,
            turn: topic.snapshot_turn(),
        };
        Ok(encoder.encode_snapshot(&header, &snapshot)?)
    }
}

/// Why a stream's snapshot could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicSnapshotError {
    #[error(transparent)]
    Topic(#[from] TopicError),
    #[error(transparent)]
    Frame(#[from] FrameError),
}

impl TopicSnapshotError {
    pub fn reason(&self) -> &'static str {
        match self {
            TopicSnapshotError::Topic(e) => e.reason(),
            TopicSnapshotError::Frame(e) => e.reason(),
        }
    }
}

/// The part of a snapshot a filter selects (used by [`MergeBook::snapshot_matching`]).
pub(crate) fn retain_matching(snapshot: &mut Snapshot, filter: &TopicFilter) {
    snapshot
        .klines
        .retain(|w| filter.has_kind(kinds::KLINE) && filter.has_interval(w.interval) && filter.has_symbol(w.symbol));
    snapshot
        .ticks
        .retain(|(s, _)| filter.has_kind(kinds::TICK) && filter.has_symbol(*s));
    snapshot
        .positions
        .retain(|(s, _)| filter.has_kind(kinds::POSITION) && filter.has_symbol(*s));
    snapshot
        .marks
        .retain(|(s, _)| filter.has_kind(kinds::MARK) && filter.has_symbol(*s));
    if !filter.has_kind(kinds::BALANCE) {
        snapshot.balances.clear();
    }
    if !filter.has_kind(kinds::BAN_LIST) {
        snapshot.ban_list = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Balance, Position, PositionSide};
    use crate::admission::{Admission, AdmissionRules};
    use crate::decimal::Decimal;
    use crate::delta::{BanList, Provenance};
    use crate::frame::{decode_frame, FramePayload};
    use crate::ingest::{merge_ingest_bytes, IngestBatch, IngestReport};
    use crate::market::{Kline, Tick};
    use crate::merge_book::MergeBookConfig;
    use crate::symbol::Name;
    use crate::trader_book::{ApplyOutcome, TraderBook};

    const T0: i64 = 1_626_992_700_000;
    const MIN: i64 = 60_000;
    const BTC: SymbolId = SymbolId(0);
    const ETH: SymbolId = SymbolId(1);

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn bar(open_time: i64, close: &str, trades: u64, minutes: i64) -> Kline {
        Kline {
            open_time,
            close_time: open_time + minutes * MIN - 1,
            open: d("10"),
            high: d("20"),
            low: d("5"),
            close: d(close),
            volume: d("3"),
            quote_volume: d("30"),
            trades,
            taker_buy_volume: Decimal::ZERO,
            taker_buy_quote_volume: Decimal::ZERO,
            first_trade_id: None,
            last_trade_id: None,
            closed: false,
            as_of: 0,
        }
    }

    fn tick(bid: &str, time: i64) -> Tick {
        Tick {
            bid: d(bid),
            bid_qty: d("1"),
            ask: d("11.5"),
            ask_qty: d("2"),
            last: None,
            time,
            update_id: None,
        }
    }

    fn position(amount: &str, time: i64) -> Position {
        Position {
            side: PositionSide::Both,
            amount: d(amount),
            entry_price: Some(d("10.1")),
            break_even_price: None,
            unrealized_pnl: None,
            mark_price: None,
            isolated_wallet: None,
            update_time: time,
        }
    }

    fn balance(wallet: &str, time: i64) -> Balance {
        Balance {
            asset: Name::new("USDT").unwrap(),
            wallet_balance: d(wallet),
            cross_wallet_balance: None,
            available_balance: None,
            unrealized_pnl: None,
            update_time: time,
        }
    }

    fn from(source: u16) -> Provenance {
        Provenance {
            source: SourceId(source),
            received_at: 1,
        }
    }

    /// A book with 1m and 5m bars of BTC and ETH, ticks, a position, a balance and a ban list.
    fn filled_book() -> (MergeBook, Vec<Delta>) {
        let mut book = MergeBook::new(MergeBookConfig::default()).unwrap();
        let mut out = Vec::new();
        for symbol in [BTC, ETH] {
            for i in 0..3 {
                book.merge_kline(symbol, Interval::M1, &bar(T0 + i * MIN, "11", 4, 1), from(1), &mut out)
                    .unwrap();
            }
            book.merge_kline(symbol, Interval::M5, &bar(T0, "12", 9, 5), from(1), &mut out)
                .unwrap();
        }
        book.merge_tick(ETH, &tick("11", T0 + 10), from(2), &mut out).unwrap();
        book.merge_position(BTC, &position("0.5", T0), from(3), &mut out)
            .unwrap();
        book.merge_balance(&balance("100", T0), from(3), &mut out).unwrap();
        book.set_ban_list(BanList::new(false, vec![ETH]), from(4), &mut out);
        (book, out)
    }

    fn kline_delta(symbol: SymbolId, interval: Interval) -> Delta {
        Delta::Kline {
            symbol,
            interval,
            kline: bar(T0, "11", 4, 1),
        }
    }

    #[test]
    fn filters_normalise_and_compare_equal() {
        let a = TopicFilter::new(
            Some(vec![ETH, BTC, ETH]),
            kinds::TICK | kinds::KLINE,
            Some(&[Interval::M5, Interval::M1]),
        );
        let b = TopicFilter::new(
            Some(vec![BTC, ETH]),
            kinds::KLINE | kinds::TICK | 0x80,
            Some(&[Interval::M1, Interval::M5, Interval::M1]),
        );
        assert_eq!(a, b);
        assert_eq!(a.symbols(), Some(&[BTC, ETH][..]));
        assert_eq!(a.kinds(), kinds::KLINE | kinds::TICK);
        assert_eq!(TopicFilter::new(None, kinds::ALL, None), TopicFilter::all());
        assert_eq!(kind_bit("banlist"), Some(kinds::BAN_LIST));
        assert_eq!(kind_bit("klines"), None);
    }

    #[test]
    fn filters_match_by_kind_symbol_and_interval() {
        let f = TopicFilter::new(Some(vec![BTC]), kinds::KLINE | kinds::BALANCE, Some(&[Interval::M1]));
        assert!(f.matches(&kline_delta(BTC, Interval::M1)));
        assert!(!f.matches(&kline_delta(BTC, Interval::M5)));
        assert!(!f.matches(&kline_delta(ETH, Interval::M1)));
        assert!(!f.matches(&Delta::Tick {
            symbol: BTC,
            tick: tick("1", 1)
        }));
        // Balances are account-wide: the symbol list does not restrict them.
        assert!(f.matches(&Delta::Balance {
            balance: balance("1", 1)
        }));
        assert!(!f.matches(&Delta::BanList(BanList::default())));
        let every = TopicFilter::all();
        assert!(every.matches(&Delta::BanList(BanList::default())));
        assert!(every.matches(&kline_delta(SymbolId(60_000), Interval::Mo1)));
    }

    #[test]
    fn one_frame_per_stream_with_something_to_say_and_seq_only_then() {
        let (_, deltas) = filled_book();
        let mut topics = TopicSet::new();
        topics.insert(1, TopicFilter::all()).unwrap();
        topics
            .insert(2, TopicFilter::new(Some(vec![ETH]), kinds::TICK, None))
            .unwrap();
        topics
            .insert(
                3,
                TopicFilter::new(
                    Some(vec![SymbolId(9)]),
                    kinds::ALL & !kinds::BALANCE & !kinds::BAN_LIST,
                    None,
                ),
            )
            .unwrap();
        assert_eq!(
            topics.insert(2, TopicFilter::all()),
            Err(TopicError::DuplicateStream { stream: 2 })
        );
        assert_eq!(
            topics.insert(0, TopicFilter::all()),
            Err(TopicError::ReservedStream { stream: 0 })
        );
        let mut encoder = FrameEncoder::new();
        let mut frames = Vec::new();
        let failures = topics.encode_deltas(&deltas, &mut encoder, 77, |stream, seq, bytes| {
            frames.push((stream, seq, decode_frame(bytes).unwrap()))
        });
        assert!(failures.is_empty());
        assert_eq!(frames.len(), 2, "stream 3 has nothing to say");
        let (stream, seq, all) = &frames[0];
        assert_eq!((*stream, *seq), (1, 1));
        assert_eq!(all.header.kind, FrameKind::Delta);
        assert_eq!(all.header.received_at, 77);
        let FramePayload::Deltas(all_deltas) = &all.payload else {
            panic!("delta payload expected")
        };
        assert_eq!(all_deltas.len(), deltas.len());
        let (stream, seq, ticks) = &frames[1];
        assert_eq!((*stream, *seq), (2, 1));
        assert_eq!(
            ticks.payload,
            FramePayload::Deltas(vec![Delta::Tick {
                symbol: ETH,
                tick: tick("11", T0 + 10)
            }])
        );
        assert_eq!(topics.get(3).map(|t| t.seq), Some(0));
        // Nothing this turn: no frames, no seq consumed.
        topics.encode_deltas(&[], &mut encoder, 78, |_, _, _| panic!("no frame expected"));
        assert_eq!(topics.get(1).map(|t| t.seq), Some(1));
        assert!(topics.remove(2));
        assert!(!topics.remove(2));
        assert_eq!(topics.len(), 2);
    }

    #[test]
    fn snapshots_carry_only_the_topic() {
        let (book, _) = filled_book();
        let f = TopicFilter::new(Some(vec![BTC]), kinds::KLINE | kinds::POSITION, Some(&[Interval::M5]));
        let s = book.snapshot_matching(&f);
        assert_eq!(s.klines.len(), 1);
        assert_eq!((s.klines[0].symbol, s.klines[0].interval), (BTC, Interval::M5));
        assert!(s.ticks.is_empty());
        assert_eq!(s.positions.len(), 1);
        assert!(s.balances.is_empty());
        assert_eq!(s.ban_list, None);
        let accounts = book.snapshot_matching(&TopicFilter::new(None, kinds::BALANCE | kinds::BAN_LIST, None));
        assert!(accounts.klines.is_empty() && accounts.ticks.is_empty() && accounts.positions.is_empty());
        assert_eq!(accounts.balances.len(), 1);
        assert_eq!(accounts.ban_list, Some(BanList::new(false, vec![ETH])));
        assert_eq!(book.snapshot_matching(&TopicFilter::all()), book.snapshot());
    }

    #[test]
    fn snapshot_then_deltas_reproduce_the_topic_and_a_gap_is_detected() {
        let (mut book, _) = filled_book();
        let filter = TopicFilter::new(Some(vec![BTC]), kinds::KLINE | kinds::TICK, Some(&[Interval::M1]));
        let mut topics = TopicSet::new();
        topics.insert(5, filter.clone()).unwrap();
        let mut encoder = FrameEncoder::new();
        let mut trader = TraderBook::new();
        let snapshot = topics.encode_snapshot(&book, 5, &mut encoder, 1).unwrap().to_vec();
        assert_eq!(
            trader.apply_bytes(&snapshot).unwrap(),
            ApplyOutcome::SnapshotApplied { stream: 5, seq: 0 }
        );
        let mut frames = Vec::new();
        for turn in 0..3i64 {
            let mut out = Vec::new();
            let t = T0 + 2 * MIN + 1_000 * (turn + 1);
            book.merge_tick(BTC, &tick(&format!("10.{turn}"), t), from(2), &mut out)
                .unwrap();
            book.merge_tick(ETH, &tick("11", t), from(2), &mut out).unwrap();
            topics.encode_deltas(&out, &mut encoder, 2, |_, _, bytes| frames.push(bytes.to_vec()));
        }
        assert_eq!(frames.len(), 3);
        assert!(matches!(
            trader.apply_bytes(&frames[0]).unwrap(),
            ApplyOutcome::Applied { seq: 1, .. }
        ));
        // Frame 2 lost: frame 3 is a gap.
        assert!(trader.apply_bytes(&frames[2]).unwrap().needs_snapshot());
        let snapshot = topics.encode_snapshot(&book, 5, &mut encoder, 3).unwrap().to_vec();
        assert_eq!(
            trader.apply_bytes(&snapshot).unwrap(),
            ApplyOutcome::SnapshotApplied { stream: 5, seq: 3 }
        );
        assert!(!trader.is_stale(5));
        let series = trader.kline_series(BTC, Interval::M1).unwrap();
        assert_eq!(series.klines(), book.klines(BTC, Interval::M1));
        assert_eq!(trader.tick(BTC).map(|v| *v.record()), book.tick(BTC).map(|(t, _)| *t));
        assert!(trader.tick(ETH).is_none(), "ETH is outside the topic");
        assert!(trader.kline_series(BTC, Interval::M5).is_none());
        assert_eq!(
            topics.encode_snapshot(&book, 6, &mut encoder, 3).map(|_| ()),
            Err(TopicSnapshotError::Topic(TopicError::UnknownStream { stream: 6 }))
        );
    }

    #[test]
    fn ingest_credits_the_peer_the_hub_assigned() {
        let mut batch = IngestBatch::new();
        batch.push_tick(BTC, tick("10", T0));
        let header = FrameHeader {
            kind: FrameKind::Ingest,
            stream: 0,
            seq: 1,
            source: SourceId(99),
            received_at: 5,
            chunk: Chunk::WHOLE,
            turn: 0,
        };
        let mut encoder = FrameEncoder::new();
        let bytes = batch.encode(&mut encoder, &header).unwrap().to_vec();
        let mut book = MergeBook::new(MergeBookConfig::default()).unwrap();
        let mut out = Vec::new();
        let from = Provenance {
            source: SourceId(4),
            received_at: 1_000,
        };
        let admission = Admission {
            symbols: 2,
            now: T0,
            rules: AdmissionRules::default(),
        };
        let mut counts = IngestReport::default();
        merge_ingest_bytes(&mut book, &bytes, from, &admission, &mut out, 0, &mut counts);
        assert_eq!(counts.changed, 1);
        assert_eq!(
            book.tick(BTC).map(|(_, p)| p),
            Some(Provenance {
                source: SourceId(4),
                received_at: 1_000
            })
        );
    }
}
