//! The collector's ingest encoder and the hub's merge book as JS classes.

use crate::error::fail;
use crate::interval::parse_interval;
use crate::parse::ParseFailure;
use crate::records::{name, position_side, BalanceObject, BanListObject, KlineObject, PositionObject, TickObject};
use crate::registry::intern_names;
use napi::bindgen_prelude::{Buffer, BufferSlice, Uint32Array};
use napi::{Env, Result};
use napi_derive::napi;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tributary_core::frame::{FrameEncoder, FrameError, FrameHeader, FrameKind};
use tributary_core::ingest::{
    merge_ingest_bytes, merge_ingest_bytes_from, merge_records, merge_rest_klines, IngestBatch, IngestCounts,
    IngestError, RestKlinesPoll,
};
use tributary_core::merge_book::{KindStats, MergeBook as CoreMergeBook, MergeBookConfig};
use tributary_core::topic::{kind_bit, TopicFilter, TopicSet};
use tributary_core::{Delta, Kline, Provenance, SourceId, SymbolId, SymbolRegistry};

fn ingest_failed(env: &Env, error: IngestError) -> napi::Error {
    fail(env, error.reason(), error)
}

/// The number of records a push added, or its error as a JS error.
fn added(env: &Env, result: std::result::Result<usize, IngestError>) -> Result<u32> {
    result.map(|n| n as u32).map_err(|e| ingest_failed(env, e))
}

fn frame_failed(env: &Env, error: FrameError) -> napi::Error {
    fail(env, error.reason(), error)
}

fn seq(env: &Env, seq: i64) -> Result<u64> {
    u64::try_from(seq).map_err(|_| fail(env, "invalid_value", format!("seq {seq} is negative")))
}

/// Builds Ingest frames on a collector from exchange payloads, resolving symbols to the hub's ids.
#[napi]
pub struct IngestEncoder {
    registry: SymbolRegistry,
    batch: IngestBatch,
    encoder: FrameEncoder,
    next_seq: u64,
}

/// Records added by a batch call, and the messages that could not be used.
#[napi(object)]
pub struct IngestPushResult {
    pub added: u32,
    pub failures: Vec<ParseFailure>,
}

#[napi]
impl IngestEncoder {
    /// An encoder whose symbol ids are the positions of `symbols` (the hub's registry order).
    #[napi(constructor)]
    pub fn new(env: Env, symbols: Vec<String>) -> Result<Self> {
        let mut encoder = IngestEncoder {
            registry: SymbolRegistry::new(),
            batch: IngestBatch::new(),
            encoder: FrameEncoder::new(),
            next_seq: 1,
        };
        encoder.add_symbols(env, symbols)?;
        Ok(encoder)
    }

    /// Appends symbols to the registry (ids continue; known names keep theirs).
    #[napi]
    pub fn add_symbols(&mut self, env: Env, symbols: Vec<String>) -> Result<()> {
        intern_names(&env, &mut self.registry, &symbols)
    }

    /// The id of `symbol`, or null when the registry does not know it.
    #[napi]
    pub fn symbol_id(&self, env: Env, symbol: String) -> Result<Option<u32>> {
        Ok(self.registry.id(&name(&env, "symbol", &symbol)?).map(|id| id.0))
    }

    /// Parses websocket `kline` / `bookTicker` messages in one call; failures are returned, not thrown.
    #[napi]
    pub fn push_market_events(&mut self, messages: Vec<BufferSlice>) -> IngestPushResult {
        let mut result = IngestPushResult {
            added: 0,
            failures: Vec::new(),
        };
        for (index, message) in messages.iter().enumerate() {
            match self.batch.push_market_event(&self.registry, message) {
                Ok(n) => result.added += n as u32,
                Err(e) => result.failures.push(ParseFailure {
                    index: index as u32,
                    code: e.reason().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
        result
    }

    /// Adds the bars of a `GET /fapi/v1/klines` body.
    #[napi]
    pub fn push_rest_klines(
        &mut self,
        env: Env,
        symbol_id: u32,
        interval: String,
        body: &[u8],
        server_time_ms: i64,
    ) -> Result<u32> {
        let interval = parse_interval(&env, &interval)?;
        added(
            &env,
            self.batch
                .push_rest_klines(SymbolId(symbol_id), interval, body, server_time_ms),
        )
    }

    /// Adds the ticks of a `GET /fapi/v1/ticker/bookTicker` body (known symbols only).
    #[napi]
    pub fn push_rest_book_tickers(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.batch.push_rest_book_tickers(&self.registry, body))
    }

    /// Adds the positions and balances of a `GET /fapi/v3/account` (or v2) body.
    #[napi]
    pub fn push_account(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.batch.push_account(&self.registry, body))
    }

    /// Adds the positions of a `GET /fapi/v3/positionRisk` (or v2) body.
    #[napi]
    pub fn push_position_risk(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.batch.push_position_risk(&self.registry, body))
    }

    /// Adds the positions and balances of an `ACCOUNT_UPDATE`; other user events add nothing.
    #[napi]
    pub fn push_user_event(&mut self, env: Env, message: &[u8]) -> Result<u32> {
        added(&env, self.batch.push_user_event(&self.registry, message))
    }

    /// Adds bars (for example from the aggregator).
    #[napi]
    pub fn push_klines(&mut self, env: Env, symbol_id: u32, interval: String, klines: Vec<KlineObject>) -> Result<()> {
        let interval = parse_interval(&env, &interval)?;
        let klines = klines.iter().map(|k| k.to_core(&env)).collect::<Result<Vec<_>>>()?;
        self.batch.push_klines(SymbolId(symbol_id), interval, &klines);
        Ok(())
    }

    #[napi]
    pub fn push_tick(&mut self, env: Env, symbol_id: u32, tick: TickObject) -> Result<()> {
        self.batch.push_tick(SymbolId(symbol_id), tick.to_core(&env)?);
        Ok(())
    }

    #[napi]
    pub fn push_position(&mut self, env: Env, symbol_id: u32, position: PositionObject) -> Result<()> {
        self.batch.push_position(SymbolId(symbol_id), position.to_core(&env)?);
        Ok(())
    }

    #[napi]
    pub fn push_balance(&mut self, env: Env, balance: BalanceObject) -> Result<()> {
        self.batch.push_balance(balance.to_core(&env)?);
        Ok(())
    }

    #[napi]
    pub fn set_ban_list(&mut self, list: BanListObject) {
        self.batch.set_ban_list(list.to_core());
    }

    /// Records waiting to be sent.
    #[napi(getter)]
    pub fn pending(&self) -> u32 {
        self.batch.len() as u32
    }

    /// Records skipped so far because the registry did not know their symbol.
    #[napi(getter)]
    pub fn unknown_symbols(&self) -> i64 {
        self.batch.unknown_symbols() as i64
    }

    /// Encodes the waiting records as one Ingest frame from `source` and clears them; null when
    /// there is nothing to send. Frames are numbered 1, 2, ... per encoder.
    #[napi]
    pub fn take_frame(&mut self, env: Env, source: u16, sent_at: i64) -> Result<Option<Buffer>> {
        if self.batch.is_empty() {
            return Ok(None);
        }
        let header = FrameHeader {
            kind: FrameKind::Ingest,
            stream: 0,
            seq: self.next_seq,
            source: SourceId(source),
            received_at: sent_at,
        };
        let bytes = self
            .batch
            .encode(&mut self.encoder, &header)
            .map_err(|e| frame_failed(&env, e))?;
        let buffer = Buffer::from(bytes);
        self.batch.clear();
        self.next_seq += 1;
        Ok(Some(buffer))
    }
}

/// Options of a {@link MergeBook}.
#[napi(object)]
pub struct MergeBookOptions {
    /// Bars kept per (symbol, interval); default 45.
    pub kline_window: Option<u32>,
    /// Symbol ids must be below this; default 65,536.
    pub max_symbols: Option<u32>,
    /// The registry for merging raw exchange payloads in this process (`mergeMarketEvents`, ...):
    /// a symbol's id is its position. Not needed for Ingest frames, which carry ids.
    pub symbols: Option<Vec<String>>,
}

/// A record the merge book refused, with its reason.
#[napi(object)]
pub struct RejectedRecord {
    pub code: String,
    pub message: String,
}

/// What one Ingest frame did.
#[napi(object)]
pub struct IngestResult {
    pub changed: u32,
    pub unchanged: u32,
    pub dropped: u32,
    pub rejected: Vec<RejectedRecord>,
}

impl From<IngestCounts> for IngestResult {
    fn from(c: IngestCounts) -> Self {
        IngestResult {
            changed: c.changed as u32,
            unchanged: c.unchanged as u32,
            dropped: c.dropped as u32,
            rejected: c
                .rejected
                .iter()
                .map(|e| RejectedRecord {
                    code: "invalid_record".into(),
                    message: e.to_string(),
                })
                .collect(),
        }
    }
}

/// What a batch of Ingest frames or raw messages did; inputs that could not be decoded are
/// listed, not thrown.
#[napi(object)]
#[derive(Default)]
pub struct IngestManyResult {
    pub changed: u32,
    pub unchanged: u32,
    pub dropped: u32,
    pub rejected: Vec<RejectedRecord>,
    pub failures: Vec<ParseFailure>,
}

/// Who supplied a value and when the hub received it.
#[napi(object)]
pub struct ProvenanceObject {
    pub source: u16,
    pub received_at: i64,
}

impl From<Provenance> for ProvenanceObject {
    fn from(p: Provenance) -> Self {
        ProvenanceObject {
            source: p.source.0,
            received_at: p.received_at,
        }
    }
}

#[napi(object)]
pub struct KlineEntry {
    pub kline: KlineObject,
    pub from: ProvenanceObject,
}

#[napi(object)]
pub struct TickEntry {
    pub tick: TickObject,
    pub from: ProvenanceObject,
}

#[napi(object)]
pub struct PositionEntry {
    pub position: PositionObject,
    pub from: ProvenanceObject,
}

#[napi(object)]
pub struct BalanceEntry {
    pub balance: BalanceObject,
    pub from: ProvenanceObject,
}

/// Counters for one entity kind.
#[napi(object)]
pub struct KindStatsObject {
    pub applied: i64,
    pub unchanged: i64,
    pub dropped_older: i64,
    pub ignored_closed: i64,
    pub ignored_not_more_trades: i64,
    pub outside_window: i64,
    pub rejected_invalid: i64,
    pub tick_corrections: i64,
}

impl From<KindStats> for KindStatsObject {
    fn from(s: KindStats) -> Self {
        KindStatsObject {
            applied: s.applied as i64,
            unchanged: s.unchanged as i64,
            dropped_older: s.dropped_older as i64,
            ignored_closed: s.ignored_closed as i64,
            ignored_not_more_trades: s.ignored_not_more_trades as i64,
            outside_window: s.outside_window as i64,
            rejected_invalid: s.rejected_invalid as i64,
            tick_corrections: s.tick_corrections as i64,
        }
    }
}

#[napi(object)]
pub struct MergeStatsObject {
    pub klines: KindStatsObject,
    pub ticks: KindStatsObject,
    pub positions: KindStatsObject,
    pub balances: KindStatsObject,
    pub ban_list: KindStatsObject,
}

/// What a subscription stream carries; an absent list means "every" (symbols registered later
/// included). Kinds: `kline`, `tick`, `position`, `balance`, `banlist`.
#[napi(object)]
pub struct TopicFilterObject {
    pub symbols: Option<Vec<u32>>,
    pub kinds: Option<Vec<String>>,
    pub intervals: Option<Vec<String>>,
}

impl TopicFilterObject {
    fn to_core(&self, env: &Env) -> Result<TopicFilter> {
        let kinds = match &self.kinds {
            None => tributary_core::topic::kinds::ALL,
            Some(names) => names.iter().try_fold(0u8, |bits, name| {
                kind_bit(name)
                    .map(|bit| bits | bit)
                    .ok_or_else(|| fail(env, "invalid_value", format!("unknown entity kind {name:?}")))
            })?,
        };
        let intervals = self
            .intervals
            .as_ref()
            .map(|names| names.iter().map(|n| parse_interval(env, n)).collect::<Result<Vec<_>>>())
            .transpose()?;
        Ok(TopicFilter::new(
            self.symbols
                .as_ref()
                .map(|ids| ids.iter().map(|&id| SymbolId(id)).collect()),
            kinds,
            intervals.as_deref(),
        ))
    }
}

/// One stream's Delta frame of a turn.
#[napi(object)]
pub struct TopicFrame {
    pub stream: u32,
    pub seq: i64,
    pub frame: Buffer,
}

/// A stream whose frame could not be encoded; its seq was consumed, so its subscribers see a gap.
#[napi(object)]
pub struct TopicFailureObject {
    pub stream: u32,
    pub seq: i64,
    pub code: String,
    pub message: String,
}

/// The Delta frames of one turn, one per stream that had a matching delta.
#[napi(object)]
pub struct TopicFramesResult {
    /// Deltas the turn produced (before filtering).
    pub deltas: u32,
    pub frames: Vec<TopicFrame>,
    pub failures: Vec<TopicFailureObject>,
}

/// The hub's merge book: Ingest frames (or, for collectors running inside the hub's process, raw
/// exchange payloads) in; Delta and Snapshot frames out.
#[napi]
pub struct MergeBook {
    book: CoreMergeBook,
    pending: Vec<Delta>,
    encoder: FrameEncoder,
    registry: SymbolRegistry,
    /// Records parsed from raw payloads, merged and cleared within each call.
    scratch: IngestBatch,
    /// The bars of a REST klines body, kept between calls so a poll allocates nothing.
    rest_rows: Vec<Kline>,
    /// The bars the last `merge_rest_klines` refused.
    rejected: Vec<RejectedRecord>,
    /// Changed, unchanged, dropped and refused bars of the last `merge_rest_klines`, read by JS
    /// through the array `rest_counts` exports (once).
    rest_counts: Arc<[AtomicU32; 4]>,
    rest_counts_exported: bool,
    topics: TopicSet,
}

impl MergeBook {
    /// Merges and clears the scratch batch, adding its counts to `result`.
    fn merge_scratch(&mut self, from: Provenance, result: &mut IngestManyResult) {
        let counts = IngestResult::from(merge_records(
            &mut self.book,
            self.scratch.records(),
            from,
            &mut self.pending,
        ));
        self.scratch.clear();
        result.changed += counts.changed;
        result.unchanged += counts.unchanged;
        result.dropped += counts.dropped;
        result.rejected.extend(counts.rejected);
    }

    /// Parses every message into the scratch batch with `push`, then merges the batch.
    fn merge_messages(
        &mut self,
        messages: &[BufferSlice],
        from: Provenance,
        push: fn(&mut IngestBatch, &SymbolRegistry, &[u8]) -> std::result::Result<usize, IngestError>,
    ) -> IngestManyResult {
        let mut result = IngestManyResult::default();
        for (index, message) in messages.iter().enumerate() {
            if let Err(e) = push(&mut self.scratch, &self.registry, message) {
                result.failures.push(ParseFailure {
                    index: index as u32,
                    code: e.reason().to_owned(),
                    message: e.to_string(),
                });
            }
        }
        self.merge_scratch(from, &mut result);
        result
    }
}

#[napi]
impl MergeBook {
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<MergeBookOptions>) -> Result<Self> {
        let defaults = MergeBookConfig::default();
        let config = MergeBookConfig {
            kline_window: options
                .as_ref()
                .and_then(|o| o.kline_window)
                .map_or(defaults.kline_window, |w| w as usize),
            max_symbols: options
                .as_ref()
                .and_then(|o| o.max_symbols)
                .unwrap_or(defaults.max_symbols),
        };
        let book = CoreMergeBook::new(config).map_err(|e| fail(&env, "invalid_config", e))?;
        let mut registry = SymbolRegistry::new();
        intern_names(
            &env,
            &mut registry,
            &options.and_then(|o| o.symbols).unwrap_or_default(),
        )?;
        Ok(MergeBook {
            book,
            pending: Vec::new(),
            encoder: FrameEncoder::new(),
            registry,
            scratch: IngestBatch::new(),
            rest_rows: Vec::new(),
            rejected: Vec::new(),
            rest_counts: Arc::default(),
            rest_counts_exported: false,
            topics: TopicSet::new(),
        })
    }

    /// Appends symbols to the registry used for raw payloads (ids continue).
    #[napi]
    pub fn add_symbols(&mut self, env: Env, symbols: Vec<String>) -> Result<()> {
        intern_names(&env, &mut self.registry, &symbols)
    }

    /// Parses and merges raw websocket `kline` / `bookTicker` messages in one call, for a
    /// collector running inside the hub's process (no Ingest frame in between). Bad messages are
    /// listed in `failures`; unknown symbols are skipped.
    #[napi]
    pub fn merge_market_events(
        &mut self,
        messages: Vec<BufferSlice>,
        source: u16,
        received_at: i64,
    ) -> IngestManyResult {
        let from = Provenance {
            source: SourceId(source),
            received_at,
        };
        self.merge_messages(&messages, from, IngestBatch::push_market_event)
    }

    /// Parses and merges raw user-data messages (`ACCOUNT_UPDATE` positions and balances).
    #[napi]
    pub fn merge_user_events(&mut self, messages: Vec<BufferSlice>, source: u16, received_at: i64) -> IngestManyResult {
        let from = Provenance {
            source: SourceId(source),
            received_at,
        };
        self.merge_messages(&messages, from, IngestBatch::push_user_event)
    }

    /// Parses and merges a `GET /fapi/v1/klines` body for one series. Writes the bars changed,
    /// unchanged, dropped and refused to the array `restCounts` returned, in that order, and
    /// returns the number refused (their reasons come from `takeRejected`): a poll builds no
    /// JS value, each of which would cost about as much as merging a window of unchanged bars.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn merge_rest_klines(
        &mut self,
        env: Env,
        symbol_id: u32,
        interval: String,
        body: &[u8],
        server_time_ms: i64,
        source: u16,
        received_at: i64,
    ) -> Result<u32> {
        let interval = parse_interval(&env, &interval)?;
        let from = Provenance {
            source: SourceId(source),
            received_at,
        };
        let poll = RestKlinesPoll {
            symbol: SymbolId(symbol_id),
            interval,
            body,
            server_time_ms,
        };
        let merged = merge_rest_klines(&mut self.book, poll, from, &mut self.rest_rows, &mut self.pending)
            .map_err(|e| ingest_failed(&env, e))?;
        let counts = [merged.changed, merged.unchanged, merged.dropped, merged.rejected.len()];
        for (slot, count) in self.rest_counts.iter().zip(counts) {
            slot.store(count as u32, Ordering::Relaxed);
        }
        self.rejected = IngestResult::from(merged).rejected;
        Ok(self.rejected.len() as u32)
    }

    /// The four counts of the last `mergeRestKlines` (changed, unchanged, dropped, refused) as a
    /// live Uint32Array over native memory; can be taken once (keep it).
    #[napi]
    pub fn rest_counts(&mut self, env: Env) -> Result<Uint32Array> {
        if self.rest_counts_exported {
            return Err(fail(
                &env,
                "view_exported",
                "the counts were already handed out; keep and reuse the first array",
            ));
        }
        self.rest_counts_exported = true;
        let keep_alive = Arc::clone(&self.rest_counts);
        // AtomicU32 has the size and alignment of u32.
        let data = keep_alive.as_ptr() as *mut u32;
        // SAFETY: the four counters are allocated once and never move; `keep_alive` holds them
        // until V8 finalizes the ArrayBuffer, and they are exported once. Native code writes them
        // only inside a call from JavaScript on this thread, so no JS access runs concurrently.
        let view =
            unsafe { Uint32Array::with_external_data(data, self.rest_counts.len(), move |_, _| drop(keep_alive)) };
        Ok(view)
    }

    /// The bars the last `mergeRestKlines` refused, with their reasons (taken: a second call
    /// returns none).
    #[napi]
    pub fn take_rejected(&mut self) -> Vec<RejectedRecord> {
        std::mem::take(&mut self.rejected)
    }

    /// Merges one Ingest frame received at `receivedAt` (hub clock, ms); its deltas wait for
    /// `takeDeltaFrame`. An undecodable frame throws a `NativeError` with the frame's reason.
    #[napi]
    pub fn ingest(&mut self, env: Env, frame: &[u8], received_at: i64) -> Result<IngestResult> {
        merge_ingest_bytes(&mut self.book, frame, received_at, &mut self.pending)
            .map(Into::into)
            .map_err(|e| ingest_failed(&env, e))
    }

    /// Merges many Ingest frames in one call; undecodable frames are reported, not thrown.
    #[napi]
    pub fn ingest_many(&mut self, frames: Vec<BufferSlice>, received_at: i64) -> IngestManyResult {
        let mut result = IngestManyResult::default();
        for (index, frame) in frames.iter().enumerate() {
            match merge_ingest_bytes(&mut self.book, frame, received_at, &mut self.pending) {
                Ok(counts) => {
                    let counts = IngestResult::from(counts);
                    result.changed += counts.changed;
                    result.unchanged += counts.unchanged;
                    result.dropped += counts.dropped;
                    result.rejected.extend(counts.rejected);
                }
                Err(e) => result.failures.push(ParseFailure {
                    index: index as u32,
                    code: e.reason().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
        result
    }

    /// Deltas merged and not yet taken.
    #[napi(getter)]
    pub fn pending_deltas(&self) -> u32 {
        self.pending.len() as u32
    }

    /// Drops the pending deltas without encoding them (nobody subscribed); returns how many.
    #[napi]
    pub fn discard_deltas(&mut self) -> u32 {
        let count = self.pending.len() as u32;
        self.pending.clear();
        count
    }

    /// Encodes every pending delta as one Delta frame of `stream` numbered `seq`, and clears them;
    /// null when nothing changed since the last call.
    #[napi]
    pub fn take_delta_frame(&mut self, env: Env, stream: u32, seq_no: i64, sent_at: i64) -> Result<Option<Buffer>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let header = FrameHeader {
            kind: FrameKind::Delta,
            stream,
            seq: seq(&env, seq_no)?,
            source: SourceId(0),
            received_at: sent_at,
        };
        let bytes = self
            .encoder
            .encode_deltas(&header, &self.pending)
            .map_err(|e| frame_failed(&env, e))?;
        let buffer = Buffer::from(bytes);
        self.pending.clear();
        Ok(Some(buffer))
    }

    /// A Snapshot frame of everything (or of `symbols` only, plus balances and the ban list).
    #[napi]
    pub fn snapshot_frame(
        &mut self,
        env: Env,
        stream: u32,
        seq_no: i64,
        sent_at: i64,
        symbols: Option<Vec<u32>>,
    ) -> Result<Buffer> {
        let snapshot = match symbols {
            Some(ids) => self
                .book
                .snapshot_of(&ids.into_iter().map(SymbolId).collect::<Vec<_>>()),
            None => self.book.snapshot(),
        };
        let header = FrameHeader {
            kind: FrameKind::Snapshot,
            stream,
            seq: seq(&env, seq_no)?,
            source: SourceId(0),
            received_at: sent_at,
        };
        let bytes = self
            .encoder
            .encode_snapshot(&header, &snapshot)
            .map_err(|e| frame_failed(&env, e))?;
        Ok(Buffer::from(bytes))
    }

    /// Merges many Ingest frames in one call, crediting frame `i` to peer `sources[i]` (the id
    /// the hub assigned to its sender) whatever the frame says; undecodable frames are reported.
    #[napi]
    pub fn ingest_from(
        &mut self,
        env: Env,
        frames: Vec<BufferSlice>,
        sources: Vec<u32>,
        received_at: i64,
    ) -> Result<IngestManyResult> {
        if sources.len() != frames.len() {
            return Err(fail(
                &env,
                "invalid_value",
                format!("{} frames but {} sources", frames.len(), sources.len()),
            ));
        }
        let mut result = IngestManyResult::default();
        for (index, (frame, &source)) in frames.iter().zip(&sources).enumerate() {
            let source = u16::try_from(source)
                .map_err(|_| fail(&env, "invalid_value", format!("source {source} is not a u16")))?;
            match merge_ingest_bytes_from(&mut self.book, frame, SourceId(source), received_at, &mut self.pending) {
                Ok(counts) => {
                    let counts = IngestResult::from(counts);
                    result.changed += counts.changed;
                    result.unchanged += counts.unchanged;
                    result.dropped += counts.dropped;
                    result.rejected.extend(counts.rejected);
                }
                Err(e) => result.failures.push(ParseFailure {
                    index: index as u32,
                    code: e.reason().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
        Ok(result)
    }

    /// Adds subscription stream `stream` (not 0) with its filter; its seq starts at 0.
    #[napi]
    pub fn add_topic(&mut self, env: Env, stream: u32, filter: TopicFilterObject) -> Result<()> {
        let filter = filter.to_core(&env)?;
        self.topics
            .insert(stream, filter)
            .map_err(|e| fail(&env, e.reason(), e))
    }

    /// Removes a stream; false when it did not exist.
    #[napi]
    pub fn remove_topic(&mut self, stream: u32) -> bool {
        self.topics.remove(stream)
    }

    /// The seq of the last Delta frame of `stream` (0 before the first); null for no such stream.
    #[napi]
    pub fn topic_seq(&self, stream: u32) -> Option<i64> {
        self.topics.get(stream).map(|t| t.seq as i64)
    }

    /// Encodes the pending deltas as one Delta frame per stream with a matching delta (numbered
    /// with that stream's next seq) and clears them.
    #[napi]
    pub fn take_topic_frames(&mut self, sent_at: i64) -> TopicFramesResult {
        let mut frames = Vec::new();
        let failures = self
            .topics
            .encode_deltas(&self.pending, &mut self.encoder, sent_at, |stream, seq, bytes| {
                frames.push(TopicFrame {
                    stream,
                    seq: seq as i64,
                    frame: Buffer::from(bytes),
                })
            })
            .into_iter()
            .map(|f| TopicFailureObject {
                stream: f.stream,
                seq: f.seq as i64,
                code: f.error.reason().to_owned(),
                message: f.error.to_string(),
            })
            .collect();
        let deltas = self.pending.len() as u32;
        self.pending.clear();
        TopicFramesResult {
            deltas,
            frames,
            failures,
        }
    }

    /// The Snapshot frame of `stream` as of its current seq (take the pending deltas first, or
    /// the snapshot already contains changes its next Delta frame repeats).
    #[napi]
    pub fn topic_snapshot_frame(&mut self, env: Env, stream: u32, sent_at: i64) -> Result<Buffer> {
        let bytes = self
            .topics
            .encode_snapshot(&self.book, stream, &mut self.encoder, sent_at)
            .map_err(|e| fail(&env, e.reason(), e))?;
        Ok(Buffer::from(bytes))
    }

    /// The window of `(symbol, interval)`, oldest first, each bar with who supplied it.
    #[napi]
    pub fn klines(&self, env: Env, symbol_id: u32, interval: String) -> Result<Vec<KlineEntry>> {
        let interval = parse_interval(&env, &interval)?;
        let id = SymbolId(symbol_id);
        let klines = self.book.klines(id, interval);
        let from = self.book.kline_provenances(id, interval);
        Ok(klines
            .iter()
            .zip(from)
            .map(|(k, p)| KlineEntry {
                kline: k.into(),
                from: (*p).into(),
            })
            .collect())
    }

    #[napi]
    pub fn tick(&self, symbol_id: u32) -> Option<TickEntry> {
        self.book.tick(SymbolId(symbol_id)).map(|(t, p)| TickEntry {
            tick: t.into(),
            from: p.into(),
        })
    }

    /// The position of `(symbol, side)`; side is `BOTH`, `LONG` or `SHORT`.
    #[napi]
    pub fn position(&self, env: Env, symbol_id: u32, side: String) -> Result<Option<PositionEntry>> {
        let side = position_side(&env, &side)?;
        Ok(self
            .book
            .position(SymbolId(symbol_id), side)
            .map(|(pos, p)| PositionEntry {
                position: pos.into(),
                from: p.into(),
            }))
    }

    #[napi]
    pub fn balance(&self, env: Env, asset: String) -> Result<Option<BalanceEntry>> {
        let asset = name(&env, "asset", &asset)?;
        Ok(self.book.balance(&asset).map(|(b, p)| BalanceEntry {
            balance: b.into(),
            from: p.into(),
        }))
    }

    #[napi]
    pub fn ban_list(&self) -> BanListObject {
        self.book.ban_list().into()
    }

    #[napi]
    pub fn stats(&self) -> MergeStatsObject {
        let s = self.book.stats();
        MergeStatsObject {
            klines: s.klines.into(),
            ticks: s.ticks.into(),
            positions: s.positions.into(),
            balances: s.balances.into(),
            ban_list: s.ban_list.into(),
        }
    }
}
