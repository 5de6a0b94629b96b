//! The hub's book: merge book, symbol registry, subscription topics, pending deltas and frame encoder, with one ingest call per hub turn.
//!
//! Each event-loop turn the hub hands [`HubBook::ingest_turn`] every Ingest frame it received in
//! the turn, each with the id of the peer that sent it. The call decodes each frame, checks every
//! record ([`Admission`]: registered symbol, exchange time within the window around the hub's
//! clock, values the wire can carry), merges what passes, and encodes one Delta frame per topic
//! that has a matching change. Everything the hub needs to count, log and answer comes back in one
//! [`Turn`]: the counts, each refused record with its frame and reason, each undecodable frame,
//! and the per-topic frames. Snapshots of any size come out as chunks
//! ([`HubBook::topic_snapshot_chunks`]). Topics speak wire 1 (TRB1 Delta frames) or wire 2
//! (compact frames whose kline rows are relative to each bar's last published version): the
//! topic set numbers the turns and keeps those versions (`crate::kline_bases`); this book forgets
//! a bar's version whenever its change goes unpublished (deltas discarded, a snapshot taken while
//! deltas wait), so no row is ever written against a version a subscriber does not hold.
//!
//! The same book also merges raw exchange payloads for a collector running inside the hub's
//! process (no frame in between) with the same checks.

use crate::admission::{Admission, AdmissionRules, REFUSAL_REASONS};
use crate::coalesce::Coalescer;
use crate::delta::{Delta, Provenance, SourceId};
use crate::frame::{
    decode_frame_with, Chunk, DecodeBuffers, FrameEncoder, FrameError, FrameHeader, FrameKind, WireVersion,
    DEFAULT_SNAPSHOT_CHUNK_BYTES,
};
use crate::ingest::{
    merge_ingest, merge_records, merge_rest_klines, IngestBatch, IngestError, IngestReport, RestKlinesPoll,
};
use crate::merge_book::{MergeBook, MergeBookConfig, MergeError};
use crate::parse::{RestPollMemory, RestPollMemoryStats};
use crate::symbol::{Symbol, SymbolId, SymbolRegistry};
use crate::topic::{TopicError, TopicFailure, TopicFilter, TopicSet, TopicSnapshotError};

/// How a [`HubBook`] is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HubBookConfig {
    pub merge: MergeBookConfig,
    pub admission: AdmissionRules,
    /// Budget of one snapshot chunk frame, bytes (at least 4 KiB).
    pub snapshot_chunk_bytes: usize,
}

impl Default for HubBookConfig {
    fn default() -> Self {
        HubBookConfig {
            merge: MergeBookConfig::default(),
            admission: AdmissionRules::default(),
            snapshot_chunk_bytes: DEFAULT_SNAPSHOT_CHUNK_BYTES,
        }
    }
}

/// Smallest snapshot chunk budget: a kline window of 45 bars is about 5.5 KB.
pub const MIN_SNAPSHOT_CHUNK_BYTES: usize = 4 << 10;

/// Why a hub book could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubBookError {
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error("snapshot chunks of {0} bytes are below the {MIN_SNAPSHOT_CHUNK_BYTES}-byte minimum")]
    ChunkTooSmall(usize),
}

/// One topic's Delta frame of a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFrame {
    pub stream: u32,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

/// What one turn did: the merge of every frame (counts, refused records, undecodable frames; the
/// `input` of each is the frame's index in the turn) and the frames it produced.
#[derive(Debug, Default)]
pub struct Turn {
    pub ingest: IngestReport,
    /// Deltas the merge produced, one per changed entity (before topic filtering).
    pub deltas: usize,
    /// Deltas dropped because a newer version of the same entity came later in the turn.
    pub superseded: usize,
    /// One Delta frame per topic with a matching delta, numbered with the topic's next seq.
    pub frames: Vec<TopicFrame>,
    /// Topics whose frame could not be encoded; their seq was consumed, so subscribers see a gap.
    pub encode_failures: Vec<TopicFailure>,
}

/// The hub's book. See the module documentation.
pub struct HubBook {
    config: HubBookConfig,
    book: MergeBook,
    registry: SymbolRegistry,
    topics: TopicSet,
    /// Deltas merged and not yet encoded into topic frames.
    pending: Vec<Delta>,
    /// Leaves the newest delta per entity before the pending deltas are encoded.
    coalescer: Coalescer,
    /// Deltas superseded within their turn since the book was built.
    superseded: u64,
    encoder: FrameEncoder,
    /// Records parsed from raw payloads, merged and cleared within each call.
    scratch: IngestBatch,
    /// The vectors Ingest frames are decoded into, kept between frames.
    buffers: DecodeBuffers,
    /// Each series' last REST klines body, so a poll parses only the rows that changed.
    rest_memory: RestPollMemory,
    /// Records refused since the book was built, by reason (indexed like [`REFUSAL_REASONS`]).
    refused: [u64; REFUSAL_REASONS.len()],
}

impl HubBook {
    pub fn new(config: HubBookConfig) -> Result<HubBook, HubBookError> {
        if config.snapshot_chunk_bytes < MIN_SNAPSHOT_CHUNK_BYTES {
            return Err(HubBookError::ChunkTooSmall(config.snapshot_chunk_bytes));
        }
        Ok(HubBook {
            book: MergeBook::new(config.merge)?,
            config,
            registry: SymbolRegistry::new(),
            topics: TopicSet::new(),
            pending: Vec::new(),
            coalescer: Coalescer::new(),
            superseded: 0,
            encoder: FrameEncoder::new(),
            scratch: IngestBatch::new(),
            buffers: DecodeBuffers::default(),
            rest_memory: RestPollMemory::new(),
            refused: [0; REFUSAL_REASONS.len()],
        })
    }

    /// Records refused since the book was built, by reason label (every label, zeros included).
    pub fn refusals(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        REFUSAL_REASONS.iter().copied().zip(self.refused.iter().copied())
    }

    /// Adds a report's refusals to the counters.
    fn count_refusals(&mut self, report: &IngestReport) {
        for refused in &report.refused {
            let reason = refused.refusal.reason();
            if let Some(i) = REFUSAL_REASONS.iter().position(|r| *r == reason) {
                self.refused[i] += 1;
            }
        }
    }

    pub fn config(&self) -> HubBookConfig {
        self.config
    }

    /// Appends symbols to the registry: ids continue, known names keep theirs (a symbol's id is
    /// its position; ids are append-only for the book's lifetime).
    pub fn add_symbols(&mut self, symbols: impl IntoIterator<Item = Symbol>) {
        for symbol in symbols {
            self.registry.intern(symbol);
        }
    }

    pub fn registry(&self) -> &SymbolRegistry {
        &self.registry
    }

    /// The merged state, for reads (klines, ticks, positions, balances, counters).
    pub fn book(&self) -> &MergeBook {
        &self.book
    }

    /// What a record must satisfy at `now` (hub clock, ms).
    pub fn admission(&self, now: i64) -> Admission {
        // Only registered ids enter: the registry is the universe (a record of any other id would
        // grow the book's tables for a symbol nobody can name).
        Admission {
            symbols: self.registry.len() as u32,
            now,
            rules: self.config.admission,
        }
    }

    /// One hub turn: merges every Ingest frame received in the turn, crediting frame `i` to the
    /// peer that sent it (whatever the frame claims) and the receive time `now` (hub clock, ms,
    /// also the clock the records' times are checked against), then encodes one Delta frame per
    /// topic with a matching change (sent at `now`). Deltas merged earlier and not yet taken go
    /// out with this turn's.
    pub fn ingest_turn<'f>(&mut self, frames: impl IntoIterator<Item = (&'f [u8], SourceId)>, now: i64) -> Turn {
        let mut turn = Turn::default();
        self.ingest_frames(frames, now, &mut turn.ingest);
        self.take_topic_frames_into(now, &mut turn);
        turn
    }

    /// Merges Ingest frames as [`HubBook::ingest_turn`] does, leaving their deltas pending.
    pub fn ingest_frames<'f>(
        &mut self,
        frames: impl IntoIterator<Item = (&'f [u8], SourceId)>,
        now: i64,
        report: &mut IngestReport,
    ) {
        let admission = self.admission(now);
        for (input, (bytes, source)) in frames.into_iter().enumerate() {
            let from = Provenance {
                source,
                received_at: now,
            };
            // As `merge_ingest_bytes`, into vectors kept between frames.
            let merged = match decode_frame_with(bytes, &mut self.buffers) {
                Ok(frame) => {
                    let merged = merge_ingest(
                        &mut self.book,
                        &frame,
                        from,
                        &admission,
                        &mut self.pending,
                        input,
                        report,
                    );
                    self.buffers.recycle(frame.payload);
                    merged
                }
                Err(error) => Err(IngestError::from(error)),
            };
            if let Err(error) = merged {
                report.fail(input, error);
            }
        }
        self.count_refusals(report);
    }

    /// Parses raw messages with `push` (the registry resolves their symbol names) and merges the
    /// records, for a collector running inside the hub's process; a message that does not parse
    /// is a failure of its index, the others still merge.
    pub fn merge_messages<'m>(
        &mut self,
        messages: impl IntoIterator<Item = &'m [u8]>,
        from: Provenance,
        push: fn(&mut IngestBatch, &SymbolRegistry, &[u8]) -> Result<usize, IngestError>,
    ) -> IngestReport {
        let mut report = IngestReport::default();
        self.scratch.clear();
        for (input, message) in messages.into_iter().enumerate() {
            if let Err(error) = push(&mut self.scratch, &self.registry, message) {
                report.fail(input, error);
            }
        }
        let admission = self.admission(from.received_at);
        // Records are not tied to the message they came from: refusals name input 0.
        merge_records(
            &mut self.book,
            self.scratch.records(),
            from,
            &admission,
            &mut self.pending,
            0,
            &mut report,
        );
        self.scratch.clear();
        self.count_refusals(&report);
        report
    }

    /// Checks and merges records already keyed by id (a collector running inside the hub's
    /// process); their deltas wait. Refusals name input 0.
    pub fn merge_records(&mut self, records: &[Delta], from: Provenance) -> IngestReport {
        let admission = self.admission(from.received_at);
        let mut report = IngestReport::default();
        merge_records(
            &mut self.book,
            records,
            from,
            &admission,
            &mut self.pending,
            0,
            &mut report,
        );
        self.count_refusals(&report);
        report
    }

    /// Parses and merges a `GET /fapi/v1/klines` body of one series; its deltas wait. A body that
    /// does not parse merges nothing and is the error.
    pub fn merge_rest_klines(
        &mut self,
        poll: RestKlinesPoll<'_>,
        from: Provenance,
    ) -> Result<IngestReport, IngestError> {
        let admission = self.admission(from.received_at);
        let mut report = IngestReport::default();
        merge_rest_klines(
            &mut self.book,
            poll,
            from,
            &admission,
            &mut self.rest_memory,
            &mut self.pending,
            &mut report,
        )?;
        self.count_refusals(&report);
        Ok(report)
    }

    /// What the memory of REST klines bodies did (rows reused, rows parsed, times forgotten).
    pub fn rest_poll_memory(&self) -> RestPollMemoryStats {
        self.rest_memory.stats()
    }

    /// Deltas merged and not yet encoded.
    pub fn pending_deltas(&self) -> usize {
        self.pending.len()
    }

    /// Drops the pending deltas without encoding them; returns how many.
    pub fn discard_deltas(&mut self) -> usize {
        let count = self.pending.len();
        // Those bars changed without a publication: their next wire-2 rows travel whole.
        self.topics.forget_bases(&self.pending);
        self.pending.clear();
        count
    }

    /// Encodes the pending deltas as one Delta frame per topic with a matching delta and clears
    /// them (the second half of [`HubBook::ingest_turn`]). Only the newest delta of each entity
    /// is encoded ([`Coalescer`]).
    pub fn take_topic_frames(&mut self, sent_at: i64) -> Turn {
        let mut turn = Turn::default();
        self.take_topic_frames_into(sent_at, &mut turn);
        turn
    }

    /// Deltas superseded within their turn (a newer version of the entity came later in the
    /// same turn, so only that one was encoded) since the book was built.
    pub fn superseded_deltas(&self) -> u64 {
        self.superseded
    }

    /// Drops every pending delta that a later one of the same entity supersedes.
    fn coalesce_pending(&mut self) -> usize {
        let removed = self.coalescer.coalesce(&mut self.pending);
        self.superseded += removed as u64;
        removed
    }

    fn take_topic_frames_into(&mut self, sent_at: i64, turn: &mut Turn) {
        turn.superseded = self.coalesce_pending();
        turn.deltas = self.pending.len();
        let frames = &mut turn.frames;
        turn.encode_failures =
            self.topics
                .encode_deltas(&self.pending, &mut self.encoder, sent_at, |stream, seq, bytes| {
                    frames.push(TopicFrame {
                        stream,
                        seq,
                        bytes: bytes.to_vec(),
                    });
                });
        self.pending.clear();
    }

    /// Encodes the pending deltas (the newest of each entity) as one Delta frame of `stream`
    /// numbered `seq` and clears them; `None` when nothing is pending. For a hub without topics.
    pub fn take_delta_frame(&mut self, stream: u32, seq: u64, sent_at: i64) -> Result<Option<&[u8]>, FrameError> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        self.coalesce_pending();
        // Published outside the topics: their subscribers never see these versions.
        self.topics.forget_bases(&self.pending);
        let header = FrameHeader {
            kind: FrameKind::Delta,
            stream,
            seq,
            source: SourceId(0),
            received_at: sent_at,
            chunk: Chunk::WHOLE,
            turn: 0,
        };
        let bytes = self.encoder.encode_deltas(&header, &self.pending)?;
        self.pending.clear();
        Ok(Some(bytes))
    }

    /// A Snapshot frame of everything (or of `symbols` only, plus balances and the ban list) in
    /// one frame, numbered as given. For a hub without topics.
    pub fn snapshot_frame(
        &mut self,
        stream: u32,
        seq: u64,
        sent_at: i64,
        symbols: Option<&[SymbolId]>,
    ) -> Result<&[u8], FrameError> {
        let snapshot = match symbols {
            Some(ids) => self.book.snapshot_of(ids),
            None => self.book.snapshot(),
        };
        let header = FrameHeader {
            kind: FrameKind::Snapshot,
            stream,
            seq,
            source: SourceId(0),
            received_at: sent_at,
            chunk: Chunk::WHOLE,
            turn: 0,
        };
        self.encoder.encode_snapshot(&header, &snapshot)
    }

    /// Adds subscription topic `stream` (not 0) with its filter and wire-1 Delta frames; its seq
    /// starts at 0.
    pub fn add_topic(&mut self, stream: u32, filter: TopicFilter) -> Result<(), TopicError> {
        self.topics.insert(stream, filter)
    }

    /// Adds a topic whose Delta frames use `wire` (see [`WireVersion`]).
    pub fn add_topic_with_wire(
        &mut self,
        stream: u32,
        filter: TopicFilter,
        wire: WireVersion,
    ) -> Result<(), TopicError> {
        self.topics.insert_with_wire(stream, filter, wire)
    }

    /// The turn of the last publication of topic frames (1 before the first; see [`TopicSet`]).
    pub fn turn(&self) -> u64 {
        self.topics.turn()
    }

    /// Bars whose last published version is kept as the base of their next wire-2 row.
    pub fn kline_bases(&self) -> usize {
        self.topics.bases()
    }

    /// Before a snapshot: a snapshot holds the pending changes, which the next turn publishes
    /// against bases the snapshot no longer has, so their rows must travel whole.
    fn before_snapshot(&mut self) {
        if !self.pending.is_empty() {
            self.topics.forget_bases(&self.pending);
        }
    }

    /// Removes a topic; false when it did not exist.
    pub fn remove_topic(&mut self, stream: u32) -> bool {
        self.topics.remove(stream)
    }

    /// The seq of the topic's last Delta frame (0 before the first); `None` for no such topic.
    pub fn topic_seq(&self, stream: u32) -> Option<u64> {
        self.topics.get(stream).map(|t| t.seq)
    }

    /// The topic's Snapshot as of its current seq, as chunk frames of at most the configured
    /// chunk budget each, handed to `emit` in order. Take the pending deltas first, or the
    /// snapshot already holds changes the topic's next Delta frame repeats (harmless: they are
    /// sent whole). Returns the number of chunks.
    pub fn topic_snapshot_chunks(
        &mut self,
        stream: u32,
        sent_at: i64,
        emit: impl FnMut(Chunk, &[u8]),
    ) -> Result<u32, TopicSnapshotError> {
        self.before_snapshot();
        self.topics.encode_snapshot_chunks(
            &self.book,
            stream,
            &mut self.encoder,
            sent_at,
            self.config.snapshot_chunk_bytes,
            emit,
        )
    }

    /// The topic's Snapshot as of its current seq in one frame (`too_large` past the frame
    /// limit; [`HubBook::topic_snapshot_chunks`] has none).
    pub fn topic_snapshot_frame(&mut self, stream: u32, sent_at: i64) -> Result<&[u8], TopicSnapshotError> {
        self.before_snapshot();
        self.topics
            .encode_snapshot(&self.book, stream, &mut self.encoder, sent_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Balance, Position, PositionSide};
    use crate::decimal::Decimal;
    use crate::delta::BanList;
    use crate::frame::{decode_frame, FramePayload};
    use crate::interval::Interval;
    use crate::market::Kline;
    use crate::market::Tick;
    use crate::symbol::Name;
    use crate::topic::kinds;
    use crate::trader_book::{ApplyOutcome, TraderBook};

    /// 2026-01-01T00:00:00Z, a minute boundary: the hub's clock in these tests.
    const NOW: i64 = 1_767_225_600_000;
    const MIN: i64 = 60_000;
    const ALL: u32 = 7;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn names(n: usize) -> Vec<Symbol> {
        (0..n).map(|i| Name::new(&format!("S{i}USDT")).unwrap()).collect()
    }

    /// A hub book with `n` registered symbols and one topic (stream 7) following everything.
    fn hub(n: usize) -> HubBook {
        let mut hub = HubBook::new(HubBookConfig::default()).unwrap();
        hub.add_symbols(names(n));
        hub.add_topic(ALL, TopicFilter::all()).unwrap();
        hub
    }

    fn bar(open_time: i64, [o, h, l, c]: [&str; 4], trades: u64) -> Kline {
        Kline {
            open_time,
            close_time: open_time + MIN - 1,
            open: d(o),
            high: d(h),
            low: d(l),
            close: d(c),
            volume: d("5"),
            quote_volume: d("50"),
            trades,
            taker_buy_volume: Decimal::ZERO,
            taker_buy_quote_volume: Decimal::ZERO,
            first_trade_id: None,
            last_trade_id: None,
            closed: false,
            as_of: open_time + 1_000,
        }
    }

    fn tick(price: &str, time: i64) -> Tick {
        Tick {
            bid: d(price),
            bid_qty: d("1"),
            ask: d(price),
            ask_qty: d("1"),
            last: Some(d(price)),
            time,
            update_id: None,
        }
    }

    fn balance(wallet: &str, update_time: i64) -> Balance {
        Balance {
            asset: Name::new("USDT").unwrap(),
            wallet_balance: d(wallet),
            cross_wallet_balance: None,
            available_balance: None,
            unrealized_pnl: None,
            update_time,
        }
    }

    fn position(amount: &str, update_time: i64) -> Position {
        Position {
            side: PositionSide::Both,
            amount: d(amount),
            entry_price: Some(d("100.5")),
            break_even_price: None,
            unrealized_pnl: None,
            mark_price: None,
            isolated_wallet: None,
            update_time,
        }
    }

    /// `records` as one Ingest frame, as a collector's encoder writes it.
    fn ingest_frame(records: &[Delta]) -> Vec<u8> {
        let mut batch = IngestBatch::new();
        for record in records {
            match record {
                Delta::Kline {
                    symbol,
                    interval,
                    kline,
                } => batch.push_klines(*symbol, *interval, &[*kline]),
                Delta::Tick { symbol, tick } => batch.push_tick(*symbol, *tick),
                Delta::Position { symbol, position } => batch.push_position(*symbol, *position),
                Delta::Balance { balance } => batch.push_balance(*balance),
                Delta::BanList(list) => batch.set_ban_list(list.clone()),
                Delta::Mark { symbol, mark } => batch.push_mark(*symbol, *mark),
                Delta::PositionsComplete { as_of } => batch.mark_positions_complete(*as_of),
            }
        }
        let header = FrameHeader {
            kind: FrameKind::Ingest,
            stream: 0,
            seq: 1,
            source: SourceId(99),
            received_at: 0,
            chunk: Chunk::WHOLE,
            turn: 0,
        };
        batch.encode(&mut FrameEncoder::new(), &header).unwrap().to_vec()
    }

    fn kline_record(symbol: u32, kline: Kline) -> Delta {
        Delta::Kline {
            symbol: SymbolId(symbol),
            interval: Interval::M1,
            kline,
        }
    }

    /// A trader that subscribed to the topic at the start (an empty snapshot).
    fn trader(hub: &mut HubBook) -> TraderBook {
        let mut trader = TraderBook::new();
        let mut frames = Vec::new();
        hub.topic_snapshot_chunks(ALL, NOW, |_, bytes| frames.push(bytes.to_vec()))
            .unwrap();
        for frame in &frames {
            trader.apply_bytes(frame).unwrap();
        }
        trader
    }

    fn apply(trader: &mut TraderBook, turn: &Turn) {
        for frame in turn.frames.iter().filter(|f| f.stream == ALL) {
            let outcome = trader.apply_bytes(&frame.bytes).unwrap();
            assert!(matches!(outcome, ApplyOutcome::Applied { .. }), "{outcome:?}");
        }
    }

    #[test]
    fn one_turn_merges_every_frame_and_yields_each_topics_frame() {
        let mut hub = hub(3);
        hub.add_topic(8, TopicFilter::new(Some(vec![SymbolId(1)]), kinds::TICK, None))
            .unwrap();
        let mut trader = trader(&mut hub);
        let a = ingest_frame(&[
            kline_record(0, bar(NOW - MIN, ["10", "12", "9", "11"], 5)),
            Delta::Tick {
                symbol: SymbolId(1),
                tick: tick("3.5", NOW - 10),
            },
        ]);
        let b = ingest_frame(&[
            kline_record(0, bar(NOW - MIN, ["10", "12", "9", "11"], 5)),
            kline_record(9, bar(NOW - MIN, ["10", "12", "9", "11"], 5)),
        ]);
        let turn = hub.ingest_turn(
            [
                (a.as_slice(), SourceId(4)),
                (b"garbage".as_slice(), SourceId(5)),
                (b.as_slice(), SourceId(6)),
            ],
            NOW,
        );
        let report = &turn.ingest;
        assert_eq!((report.changed, report.unchanged, report.dropped), (2, 1, 0));
        assert_eq!(report.refused.len(), 1);
        let refused = &report.refused[0];
        assert_eq!(
            (refused.input, refused.entity, refused.refusal.reason()),
            (2, "kline", "unknown_symbol")
        );
        assert_eq!(report.failures.len(), 1);
        assert_eq!(
            (report.failures[0].input, report.failures[0].error.reason()),
            (1, "bad_identifier")
        );
        assert_eq!(turn.deltas, 2);
        assert!(turn.encode_failures.is_empty());
        assert_eq!(
            turn.frames.iter().map(|f| (f.stream, f.seq)).collect::<Vec<_>>(),
            vec![(ALL, 1), (8, 1)]
        );
        // Provenance is the sending peer and the hub's clock, whatever the frame claimed.
        let (_, from) = hub.book().tick(SymbolId(1)).unwrap();
        assert_eq!((from.source, from.received_at), (SourceId(4), NOW));
        apply(&mut trader, &turn);
        assert_eq!(trader.snapshot(), hub.book().snapshot());
        // Nothing pending: the next turn with nothing new yields nothing.
        let quiet = hub.ingest_turn([(a.as_slice(), SourceId(4))], NOW + 1);
        assert_eq!((quiet.ingest.unchanged, quiet.deltas, quiet.frames.len()), (2, 0, 0));
        assert_eq!(hub.topic_seq(ALL), Some(1));
    }

    /// Defect 2 of issue 10: ids beyond the registry were accepted (a collector sending bars for
    /// ids up to 65,535 with 5 registered took the hub to 1.6 GB). They are refused.
    #[test]
    fn records_of_unregistered_symbol_ids_are_refused() {
        let mut hub = hub(5);
        let records: Vec<Delta> = (0..=65_535u32)
            .step_by(97)
            .chain([5, 65_535])
            .map(|id| kline_record(id, bar(NOW - MIN, ["10", "12", "9", "11"], 5)))
            .collect();
        let frame = ingest_frame(&records);
        let turn = hub.ingest_turn([(frame.as_slice(), SourceId(1))], NOW);
        // Ids 0 (0 × 97) is the only registered one in the list.
        assert_eq!(turn.ingest.changed, 1);
        assert_eq!(turn.ingest.refused.len(), records.len() - 1);
        assert!(turn
            .ingest
            .refused
            .iter()
            .all(|r| r.refusal.reason() == "unknown_symbol"));
        let snapshot = hub.book().snapshot();
        assert_eq!(snapshot.klines.len(), 1);
        assert!(hub.book().klines(SymbolId(65_535), Interval::M1).is_empty());
        let counted: Vec<_> = hub.refusals().filter(|(_, n)| *n > 0).collect();
        assert_eq!(counted, vec![("unknown_symbol", (records.len() - 1) as u64)]);
        // A ban list naming an unknown id is refused whole; registering the symbol admits it.
        let ban = ingest_frame(&[Delta::BanList(BanList::new(false, vec![SymbolId(2), SymbolId(5)]))]);
        let turn = hub.ingest_turn([(ban.as_slice(), SourceId(1))], NOW);
        assert_eq!(turn.ingest.refused[0].refusal.reason(), "unknown_symbol");
        hub.add_symbols([Name::new("NEWUSDT").unwrap()]);
        let turn = hub.ingest_turn([(ban.as_slice(), SourceId(1))], NOW);
        assert_eq!(turn.ingest.changed, 1);
    }

    /// Defect 4 of issue 10: a balance stamped in microseconds won every later merge (the wallet
    /// stayed at 1.00 while 20 correct updates were dropped as older). It is refused, and the
    /// correct updates apply.
    #[test]
    fn a_value_stamped_in_microseconds_is_refused_and_later_updates_apply() {
        let mut hub = hub(2);
        let mut trader = trader(&mut hub);
        let micro = ingest_frame(&[
            Delta::Balance {
                balance: balance("1.00", NOW * 1_000),
            },
            Delta::Position {
                symbol: SymbolId(1),
                position: position("9", NOW * 1_000),
            },
            Delta::Tick {
                symbol: SymbolId(1),
                tick: tick("9", NOW * 1_000_000),
            },
        ]);
        let turn = hub.ingest_turn([(micro.as_slice(), SourceId(1))], NOW);
        assert_eq!(
            turn.ingest
                .refused
                .iter()
                .map(|r| r.refusal.reason())
                .collect::<Vec<_>>(),
            vec!["time_in_future"; 3]
        );
        assert!(hub.book().balance(&Name::new("USDT").unwrap()).is_none());
        for i in 1..=20 {
            let t = NOW + i * 1_000;
            let update = ingest_frame(&[
                Delta::Balance {
                    balance: balance(&format!("{}.00", 100 + i), t),
                },
                Delta::Position {
                    symbol: SymbolId(1),
                    position: position(&i.to_string(), t),
                },
                Delta::Tick {
                    symbol: SymbolId(1),
                    tick: tick(&format!("{}", 50 + i), t),
                },
            ]);
            let turn = hub.ingest_turn([(update.as_slice(), SourceId(1))], t);
            assert_eq!(turn.ingest.changed, 3, "update {i}");
            apply(&mut trader, &turn);
        }
        let (wallet, _) = hub.book().balance(&Name::new("USDT").unwrap()).unwrap();
        assert_eq!(wallet.wallet_balance, d("120"));
        let (p, _) = hub.book().position(SymbolId(1), PositionSide::Both).unwrap();
        assert_eq!(p.amount, d("20"));
        assert_eq!(trader.snapshot(), hub.book().snapshot());
    }

    /// Defect 1 of issue 10 through the hub: the tick the open bar cannot carry is refused, every
    /// topic keeps encoding its deltas, and a new subscriber still syncs.
    #[test]
    fn a_tick_the_open_bar_cannot_carry_never_stops_the_topics() {
        let mut hub = hub(1);
        let mut trader = trader(&mut hub);
        let open = ingest_frame(&[kline_record(
            0,
            bar(NOW - MIN, ["50000.1", "50010.5", "49990.2", "50001.7"], 5),
        )]);
        apply(
            &mut trader,
            &hub.ingest_turn([(open.as_slice(), SourceId(1))], NOW - 1_000),
        );
        let tiny = ingest_frame(&[Delta::Tick {
            symbol: SymbolId(0),
            tick: tick("0.000000000000000001", NOW - 500),
        }]);
        let turn = hub.ingest_turn([(tiny.as_slice(), SourceId(1))], NOW);
        assert_eq!(turn.ingest.refused[0].refusal.reason(), "unrepresentable");
        assert!(turn.frames.is_empty() && turn.encode_failures.is_empty());
        let next = ingest_frame(&[kline_record(
            0,
            bar(NOW - MIN, ["50000.1", "50020.5", "49990.2", "50015.7"], 9),
        )]);
        let turn = hub.ingest_turn([(next.as_slice(), SourceId(1))], NOW);
        assert!(turn.encode_failures.is_empty());
        apply(&mut trader, &turn);
        let late = trader_after_subscribing(&mut hub);
        assert_eq!(late.snapshot(), hub.book().snapshot());
        assert_eq!(trader.snapshot(), hub.book().snapshot());
    }

    /// A trader subscribing now: the topic's chunks applied in order.
    fn trader_after_subscribing(hub: &mut HubBook) -> TraderBook {
        trader(hub)
    }

    #[test]
    fn raw_payloads_merge_with_the_same_checks() {
        let mut hub = hub(0);
        hub.add_symbols([Name::new("CTKUSDT").unwrap(), Name::new("SUSHIUSDT").unwrap()]);
        let from = Provenance {
            source: SourceId(2),
            received_at: 1_626_992_742_500,
        };
        let samples = [
            crate::parse::samples::KLINE.as_bytes(),
            b"{".as_slice(),
            crate::parse::samples::BOOK_TICKER.as_bytes(),
        ];
        let report = hub.merge_messages(samples, from, IngestBatch::push_market_event);
        assert_eq!(report.changed, 2, "{report:?}");
        assert_eq!((report.failures.len(), report.failures[0].input), (1, 1));
        // The same messages against a clock a day earlier are from the future.
        let mut early = self::hub(0);
        early.add_symbols([Name::new("CTKUSDT").unwrap(), Name::new("SUSHIUSDT").unwrap()]);
        let report = early.merge_messages(
            samples,
            Provenance {
                received_at: from.received_at - 86_400_000,
                ..from
            },
            IngestBatch::push_market_event,
        );
        assert_eq!(report.refused.len(), 2);
        assert!(report.refused.iter().all(|r| r.refusal.reason() == "time_in_future"));
        assert_eq!(hub.pending_deltas(), 2);
        assert_eq!(hub.discard_deltas(), 2);
    }

    #[test]
    fn only_registered_ids_enter_and_a_registration_admits_the_next() {
        let mut hub = HubBook::new(HubBookConfig::default()).unwrap();
        hub.add_symbols((0..10).map(|i| Name::new(&format!("S{i}USDT")).unwrap()));
        let records = [
            kline_record(9, bar(NOW - MIN, ["10", "12", "9", "11"], 5)),
            kline_record(10, bar(NOW - MIN, ["10", "12", "9", "11"], 5)),
        ];
        let frame = ingest_frame(&records);
        let mut report = IngestReport::default();
        hub.ingest_frames([(frame.as_slice(), SourceId(1))], NOW, &mut report);
        assert_eq!((report.changed, report.refused.len()), (1, 1));
        assert_eq!(report.refused[0].refusal.reason(), "unknown_symbol");
        let bytes = hub.take_delta_frame(3, 1, NOW).unwrap().unwrap().to_vec();
        let frame = decode_frame(&bytes).unwrap();
        assert!(matches!(frame.payload, FramePayload::Deltas(ref d) if d.len() == 1));
        assert!(hub.take_delta_frame(3, 2, NOW).unwrap().is_none());
        // Once the registry knows id 10, the same record enters.
        hub.add_symbols([Name::new("S10USDT").unwrap()]);
        let frame = ingest_frame(&records[1..]);
        let mut report = IngestReport::default();
        hub.ingest_frames([(frame.as_slice(), SourceId(1))], NOW, &mut report);
        assert_eq!((report.changed, report.refused.len()), (1, 0));
        assert!(HubBook::new(HubBookConfig {
            snapshot_chunk_bytes: 100,
            ..HubBookConfig::default()
        })
        .is_err());
    }
}
