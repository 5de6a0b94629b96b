//! The collector's ingest encoder and the hub's book as JS classes: conversions over `tributary_core::ingest` and `tributary_core::hub_book`.

use crate::counts::{buffer_copy, LiveCounts};
use crate::error::fail;
use crate::gathered::gathered;
use crate::hot_call;
use crate::interval::parse_interval;
use crate::parse::ParseFailure;
use crate::records::{
    name, position_side, BalanceObject, BanListObject, KlineObject, MarkObject, PositionObject, TickObject,
};
use crate::scratch::{FrameScratch, TurnScratch};
use napi::bindgen_prelude::{Array, Buffer, BufferSlice, Float64Array, Uint32Array, Uint8Array};
use napi::{Env, Result};
use napi_derive::napi;
use std::collections::HashMap;
use tributary_core::admission::AdmissionRules;
use tributary_core::frame::{FrameError, WireVersion};
use tributary_core::gathered::GatheredMessages;
use tributary_core::hub_book::{HubBook as CoreHubBook, HubBookConfig, TopicFrame, Turn};
use tributary_core::ingest::{
    IngestBatch, IngestEncoder as CoreIngestEncoder, IngestError, IngestReport, PushReport, RestKlinesPoll,
};
use tributary_core::merge_book::{KindStats, MergeBookConfig};
use tributary_core::topic::{kind_bit, TopicFailure, TopicFilter};
use tributary_core::{Name, Provenance, SourceId, SymbolId};

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

fn source(env: &Env, source: u32) -> Result<SourceId> {
    u16::try_from(source)
        .map(SourceId)
        .map_err(|_| fail(env, "invalid_value", format!("source {source} is not a u16")))
}

fn names(env: &Env, symbols: &[String]) -> Result<Vec<Name>> {
    symbols.iter().map(|s| name(env, "symbol", s)).collect()
}

/// Builds Ingest frames on a collector from exchange payloads, resolving symbols to the hub's ids.
#[napi]
pub struct IngestEncoder {
    pub(crate) inner: CoreIngestEncoder,
    /// Messages of the last push (`pushGatheredMarketEvents`, `pushMarketEvent`, ...) that could not
    /// be used (taken by `takeFailures`).
    failures: Vec<ParseFailure>,
    /// `[records added, messages failed]` of the last push.
    push_counts: LiveCounts<2>,
    /// Where `takeFrameToScratch` writes the frame.
    scratch: FrameScratch,
}

impl IngestEncoder {
    /// Keeps the counts and failures of one push of market events.
    fn record_push(&mut self, report: PushReport) -> u32 {
        self.failures = report
            .failures
            .iter()
            .map(|f| ParseFailure::new(f.input, f.error.reason(), &f.error))
            .collect();
        self.push_counts.set([report.added, self.failures.len()]);
        report.added as u32
    }
}

#[napi]
impl IngestEncoder {
    /// An encoder whose symbol ids are the positions of `symbols` (the hub's registry order).
    #[napi(constructor)]
    pub fn new(env: Env, symbols: Vec<String>) -> Result<Self> {
        Ok(IngestEncoder {
            inner: CoreIngestEncoder::new(names(&env, &symbols)?),
            failures: Vec::new(),
            push_counts: LiveCounts::default(),
            scratch: FrameScratch::default(),
        })
    }

    /// Appends symbols to the registry (ids continue; known names keep theirs).
    #[napi]
    pub fn add_symbols(&mut self, env: Env, symbols: Vec<String>) -> Result<()> {
        self.inner.add_symbols(names(&env, &symbols)?);
        Ok(())
    }

    /// The id of `symbol`, or null when the registry does not know it.
    #[napi]
    pub fn symbol_id(&self, env: Env, symbol: String) -> Result<Option<u32>> {
        Ok(self.inner.registry().id(&name(&env, "symbol", &symbol)?).map(|id| id.0))
    }

    /// Parses websocket `kline` / `bookTicker` messages in one call and returns the records added:
    /// the first `count` messages gathered back to back in `bytes`, message `i` ending at
    /// `ends[i]` (ends that do not describe `bytes` throw `invalid_batch` before any is parsed).
    /// Failures are not thrown: their number goes to `pushCounts()[1]` and the failures themselves
    /// come from `takeFailures` (a healthy call builds no JS value).
    #[napi]
    pub fn push_gathered_market_events(&mut self, env: Env, bytes: &[u8], ends: &[u32], count: u32) -> Result<u32> {
        let messages = gathered(&env, bytes, ends, count)?;
        let report = self.inner.push_market_events(messages.iter());
        Ok(self.record_push(report))
    }

    /// `pushGatheredMarketEvents` of one message, without gathering it; a failure is reported the
    /// same way, at index 0.
    #[napi]
    pub fn push_market_event(&mut self, message: &[u8]) -> u32 {
        let report = self.inner.push_market_events(std::iter::once(message));
        self.record_push(report)
    }

    /// `[records added, messages failed]` of the last push, as a live Uint32Array over native
    /// memory; can be taken once (keep it).
    #[napi]
    pub fn push_counts(&mut self, env: Env) -> Result<Uint32Array> {
        self.push_counts.export(&env)
    }

    /// The messages the last push could not use (taken: a second call returns none).
    #[napi]
    pub fn take_failures(&mut self) -> Vec<ParseFailure> {
        std::mem::take(&mut self.failures)
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
            self.inner
                .batch_mut()
                .push_rest_klines(SymbolId(symbol_id), interval, body, server_time_ms),
        )
    }

    /// Adds the ticks of a `GET /fapi/v1/ticker/bookTicker` body (known symbols only).
    #[napi]
    pub fn push_rest_book_tickers(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_rest_book_tickers(body))
    }

    /// Adds the marks of a `!markPrice@arr@1s` message (plain or enveloped; known symbols only).
    #[napi]
    pub fn push_mark_prices(&mut self, env: Env, message: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_mark_prices(message))
    }

    /// Adds the marks of a `GET /fapi/v1/premiumIndex` body (known symbols only).
    #[napi]
    pub fn push_premium_index(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_premium_index(body))
    }

    /// Adds the traded-price ticks of a `GET /fapi/v1/ticker/price` body (known symbols only).
    #[napi]
    pub fn push_rest_price_tickers(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_rest_price_tickers(body))
    }

    /// Adds the positions and balances of a `GET /fapi/v3/account` (or v2) body.
    #[napi]
    pub fn push_account(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_account(body))
    }

    /// Adds the positions of a `GET /fapi/v3/positionRisk` (or v2) body.
    #[napi]
    pub fn push_position_risk(&mut self, env: Env, body: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_position_risk(body))
    }

    /// Adds the positions and balances of an `ACCOUNT_UPDATE`; other user events add nothing.
    #[napi]
    pub fn push_user_event(&mut self, env: Env, message: &[u8]) -> Result<u32> {
        added(&env, self.inner.push_user_event(message))
    }

    /// Adds bars given as objects with exact decimal strings.
    #[napi]
    pub fn push_klines(&mut self, env: Env, symbol_id: u32, interval: String, klines: Vec<KlineObject>) -> Result<()> {
        let interval = parse_interval(&env, &interval)?;
        let klines = klines.iter().map(|k| k.to_core(&env)).collect::<Result<Vec<_>>>()?;
        self.inner
            .batch_mut()
            .push_klines(SymbolId(symbol_id), interval, &klines);
        Ok(())
    }

    #[napi]
    pub fn push_mark(&mut self, env: Env, symbol_id: u32, mark: MarkObject) -> Result<()> {
        let mark = mark.to_core(&env)?;
        self.inner.batch_mut().push_mark(SymbolId(symbol_id), mark);
        Ok(())
    }

    #[napi]
    pub fn push_tick(&mut self, env: Env, symbol_id: u32, tick: TickObject) -> Result<()> {
        let tick = tick.to_core(&env)?;
        self.inner.batch_mut().push_tick(SymbolId(symbol_id), tick);
        Ok(())
    }

    #[napi]
    pub fn push_position(&mut self, env: Env, symbol_id: u32, position: PositionObject) -> Result<()> {
        let position = position.to_core(&env)?;
        self.inner.batch_mut().push_position(SymbolId(symbol_id), position);
        Ok(())
    }

    #[napi]
    pub fn push_balance(&mut self, env: Env, balance: BalanceObject) -> Result<()> {
        let balance = balance.to_core(&env)?;
        self.inner.batch_mut().push_balance(balance);
        Ok(())
    }

    /// Says that the positions pushed with it (a full `GET /fapi/v3/account` or `/fapi/v3/positionRisk`
    /// list, pushed just before into this batch) are every non-flat position as of `as_of`
    /// (exchange ms): the hub sets any older position it holds that they leave out to flat.
    #[napi]
    pub fn mark_positions_complete(&mut self, as_of: i64) {
        self.inner.batch_mut().mark_positions_complete(as_of);
    }

    #[napi]
    pub fn set_ban_list(&mut self, list: BanListObject) {
        self.inner.batch_mut().set_ban_list(list.to_core());
    }

    /// Records waiting to be sent.
    #[napi(getter)]
    pub fn pending(&self) -> u32 {
        self.inner.batch().len() as u32
    }

    /// Records skipped so far because the registry did not know their symbol.
    #[napi(getter)]
    pub fn unknown_symbols(&self) -> i64 {
        self.inner.batch().unknown_symbols() as i64
    }

    /// Encodes the waiting records as one Ingest frame from `source` and clears them, writing it
    /// into the scratch (`frameScratch`) instead of building a Buffer; returns its length, 0 when
    /// there is nothing to send. A length above the scratch's size means the frame did not fit:
    /// `takeHeldFrame` hands it out. Frames are numbered 1, 2, ... per encoder.
    #[napi]
    pub fn take_frame_to_scratch(&mut self, env: Env, source: u16, sent_at: i64) -> Result<u32> {
        let bytes = self
            .inner
            .take_frame(SourceId(source), sent_at)
            .map_err(|e| frame_failed(&env, e))?;
        Ok(bytes.map_or(0, |b| self.scratch.put(b)))
    }

    /// `pushMarketEvent(message)` then `takeFrameToScratch(source, sentAt)` in one call (each
    /// call of a class method costs about as much as parsing the message): a lone websocket
    /// message, with whatever was pending, straight to its frame. The push's counts and failures
    /// are kept before the frame is encoded, so an encode error loses neither.
    #[napi]
    pub fn push_market_event_and_take_frame(
        &mut self,
        env: Env,
        message: &[u8],
        source: u16,
        sent_at: i64,
    ) -> Result<u32> {
        let report = self.inner.push_market_events(std::iter::once(message));
        self.record_push(report);
        self.take_frame_to_scratch(env, source, sent_at)
    }

    /// The scratch `takeFrameToScratch` writes into, as a live Uint8Array over native memory;
    /// can be taken once (keep it).
    #[napi]
    pub fn frame_scratch(&mut self, env: Env) -> Result<Uint8Array> {
        self.scratch.export(&env)
    }

    /// The last frame `takeFrameToScratch` could not fit in the scratch (taken once).
    #[napi]
    pub fn take_held_frame<'env>(&mut self, env: &'env Env) -> Result<Option<BufferSlice<'env>>> {
        self.scratch.take_held(env)
    }
}

/// Options of a {@link HubBook}.
#[napi(object)]
pub struct HubBookOptions {
    /// Bars kept per (symbol, interval); default 45.
    pub kline_window: Option<u32>,
    /// Hard limit of the merge book's symbol table: ids must be below it; default 65,536.
    pub max_symbols: Option<u32>,
    /// The registry in id order (a symbol's id is its position). Records of ids beyond it are
    /// refused (`unknown_symbol`); `addSymbols` extends it.
    pub symbols: Option<Vec<String>>,
    /// How far an exchange time may be ahead of the hub's clock, ms; default 30,000.
    pub max_future_ms: Option<i64>,
    /// How far an exchange time may be behind the hub's clock, ms; default ten years.
    pub max_age_ms: Option<i64>,
    /// Budget of one snapshot chunk frame, bytes; default 1 MiB, at least 4 KiB.
    pub snapshot_chunk_bytes: Option<u32>,
}

impl HubBookOptions {
    fn to_core(&self) -> HubBookConfig {
        let defaults = HubBookConfig::default();
        HubBookConfig {
            merge: MergeBookConfig {
                kline_window: self.kline_window.map_or(defaults.merge.kline_window, |w| w as usize),
                max_symbols: self.max_symbols.unwrap_or(defaults.merge.max_symbols),
            },
            admission: AdmissionRules {
                max_future_ms: self.max_future_ms.unwrap_or(defaults.admission.max_future_ms),
                max_age_ms: self.max_age_ms.unwrap_or(defaults.admission.max_age_ms),
            },
            snapshot_chunk_bytes: self
                .snapshot_chunk_bytes
                .map_or(defaults.snapshot_chunk_bytes, |b| b as usize),
        }
    }
}

/// A record the hub refused, with its reason.
#[napi(object)]
pub struct RejectedRecord {
    /// Index of the frame (or message) of the call the record came from.
    pub index: u32,
    /// `kline`, `tick`, `position`, `balance` or `banlist`.
    pub entity: String,
    /// Stable reason label: `unknown_symbol`, `time_in_future`, `time_too_old`, `invalid_kline`,
    /// `invalid_tick`, `unrepresentable`, `symbol_out_of_range`.
    pub code: String,
    pub message: String,
}

/// What a batch of Ingest frames or raw messages did; inputs that could not be decoded are
/// listed, not thrown.
#[napi(object)]
pub struct IngestManyResult {
    pub changed: u32,
    pub unchanged: u32,
    pub dropped: u32,
    pub rejected: Vec<RejectedRecord>,
    pub failures: Vec<ParseFailure>,
}

fn rejected(report: &IngestReport) -> Vec<RejectedRecord> {
    report
        .refused
        .iter()
        .map(|r| RejectedRecord {
            index: r.input as u32,
            entity: r.entity.to_owned(),
            code: r.refusal.reason().to_owned(),
            message: r.refusal.to_string(),
        })
        .collect()
}

fn failures(report: &IngestReport) -> Vec<ParseFailure> {
    report
        .failures
        .iter()
        .map(|f| ParseFailure::new(f.input, f.error.reason(), &f.error))
        .collect()
}

impl From<IngestReport> for IngestManyResult {
    fn from(report: IngestReport) -> Self {
        IngestManyResult {
            changed: report.changed as u32,
            unchanged: report.unchanged as u32,
            dropped: report.dropped as u32,
            rejected: rejected(&report),
            failures: failures(&report),
        }
    }
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
pub struct MarkEntry {
    pub mark: MarkObject,
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
    pub marks: KindStatsObject,
    /// Records refused before or by the merge since the book was built, by reason label (every
    /// label present, zeros included).
    pub refused: HashMap<String, i64>,
}

/// What a subscription stream carries; an absent list means "every" (symbols registered later
/// included). Kinds: `kline`, `tick`, `position`, `balance`, `banlist`, `mark`.
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
pub struct TopicFailureObject {
    pub stream: u32,
    pub seq: i64,
    pub code: String,
    pub message: String,
}

/// What a turn refused or could not do, taken by `takeTurnIssues` only when the counts say
/// there is something (a healthy turn builds no object for it).
#[napi(object)]
pub struct TurnIssues {
    pub refused: Vec<RejectedRecord>,
    pub undecodable: Vec<ParseFailure>,
    pub encode_failures: Vec<TopicFailureObject>,
}

/// Slots of `turnCounts()`.
const TURN_COUNTS: usize = 9;

/// Spilled frames as one flat array `[stream, seq, frame, stream, seq, frame, ...]`, each frame
/// a JS-owned copy: one array and one small Buffer per frame instead of an object per frame.
fn flat_frames<'env>(env: &'env Env, frames: &[TopicFrame]) -> Result<Array<'env>> {
    let mut out = env.create_array((frames.len() * 3) as u32)?;
    for (i, frame) in frames.iter().enumerate() {
        let at = (i * 3) as u32;
        out.set(at, frame.stream)?;
        out.set(at + 1, frame.seq as f64)?;
        out.set(at + 2, buffer_copy(env, &frame.bytes)?)?;
    }
    Ok(out)
}

fn encode_failures(turn: &Turn) -> Vec<TopicFailureObject> {
    turn.encode_failures
        .iter()
        .map(|f: &TopicFailure| TopicFailureObject {
            stream: f.stream,
            seq: f.seq as i64,
            code: f.error.reason().to_owned(),
            message: f.error.to_string(),
        })
        .collect()
}

#[napi]
pub struct HubBook {
    inner: CoreHubBook,
    /// `[changed, unchanged, dropped, deltas, refused, undecodable, encode failures, superseded,
    /// spilled]` of the last turn call.
    turn_counts: LiveCounts<TURN_COUNTS>,
    /// Where a turn call puts its Delta frames for JavaScript to copy out.
    turn_scratch: TurnScratch,
    /// The details behind the last turn's non-zero refusal and failure counts.
    issues: TurnIssues,
    /// The bars the last `merge_rest_klines` refused.
    rejected: Vec<RejectedRecord>,
    /// Changed, unchanged, dropped and refused bars of the last `merge_rest_klines`, read by JS
    /// through the array `rest_counts` exports (once).
    rest_counts: LiveCounts<4>,
    /// This book's handle for the raw hot calls, once JavaScript asked for it.
    pub(crate) hot: Option<u32>,
}

impl Drop for HubBook {
    fn drop(&mut self) {
        if let Some(handle) = self.hot {
            hot_call::unregister::<HubBook>(handle);
        }
    }
}

impl HubBook {
    /// Writes a turn's counts to `turn_counts` and keeps its refusals and failures for
    /// `take_turn_issues` (built only when there are any).
    fn record_turn(&mut self, report: &IngestReport, turn: &Turn, spilled: bool) {
        self.turn_counts.set([
            report.changed,
            report.unchanged,
            report.dropped,
            turn.deltas,
            report.refused.len(),
            report.failures.len(),
            turn.encode_failures.len(),
            turn.superseded,
            usize::from(spilled),
        ]);
        self.issues.refused = if report.refused.is_empty() {
            Vec::new()
        } else {
            rejected(report)
        };
        self.issues.undecodable = if report.failures.is_empty() {
            Vec::new()
        } else {
            failures(report)
        };
        self.issues.encode_failures = encode_failures(turn);
    }

    /// Puts a turn's frames in the turn scratch, records its counts, and returns its frame count.
    fn finish_turn(&mut self, mut turn: Turn) -> u32 {
        let frames = std::mem::take(&mut turn.frames);
        let count = frames.len() as u32;
        let spilled = self.turn_scratch.put(frames);
        self.record_turn(&turn.ingest, &turn, spilled);
        count
    }

    fn merge_messages(
        &mut self,
        messages: GatheredMessages<'_>,
        source: u16,
        received_at: i64,
        push: fn(&mut IngestBatch, &tributary_core::SymbolRegistry, &[u8]) -> std::result::Result<usize, IngestError>,
    ) -> IngestManyResult {
        let from = Provenance {
            source: SourceId(source),
            received_at,
        };
        self.inner.merge_messages(messages.iter(), from, push).into()
    }
}

#[napi]
impl HubBook {
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<HubBookOptions>) -> Result<Self> {
        let config = options
            .as_ref()
            .map_or_else(HubBookConfig::default, HubBookOptions::to_core);
        let mut inner = CoreHubBook::new(config).map_err(|e| fail(&env, "invalid_config", e))?;
        let symbols = options.and_then(|o| o.symbols).unwrap_or_default();
        inner.add_symbols(names(&env, &symbols)?);
        Ok(HubBook {
            inner,
            turn_counts: LiveCounts::default(),
            turn_scratch: TurnScratch::default(),
            issues: TurnIssues {
                refused: Vec::new(),
                undecodable: Vec::new(),
                encode_failures: Vec::new(),
            },
            rejected: Vec::new(),
            rest_counts: LiveCounts::default(),
            hot: None,
        })
    }

    /// Appends symbols to the registry (ids continue; known names keep theirs).
    #[napi]
    pub fn add_symbols(&mut self, env: Env, symbols: Vec<String>) -> Result<()> {
        self.inner.add_symbols(names(&env, &symbols)?);
        Ok(())
    }

    /// Symbols registered.
    #[napi(getter)]
    pub fn symbol_count(&self) -> u32 {
        self.inner.registry().len() as u32
    }

    /// One hub turn in one call: merges every Ingest frame of the turn (frame `i` credited to peer
    /// `sources[i]` whatever it claims, received at `now` by the hub's clock, against which
    /// records' times are checked), then encodes one Delta frame per topic with a matching change
    /// (sent at `now`). Returns the number of frames; they are in `turnScratch()` back to back,
    /// described by `turnFrameIndex()` (`[stream, seq, length]` each), unless `turnCounts()[8]`
    /// says they spilled (then `takeSpilledFrames`). The counts go to `turnCounts()`, refusals and
    /// failures (only when counted) to `takeTurnIssues`.
    #[napi]
    pub fn ingest_turn_to_scratch(
        &mut self,
        env: Env,
        frames: Vec<BufferSlice>,
        sources: Vec<u32>,
        now: i64,
    ) -> Result<u32> {
        let inputs = frame_sources(&env, &frames, &sources)?;
        let turn = self.inner.ingest_turn(inputs, now);
        Ok(self.finish_turn(turn))
    }

    /// `ingestTurnToScratch` of a turn of one frame, without the two arrays (converting them
    /// costs more than merging a one-update frame).
    #[napi]
    pub fn ingest_one_to_scratch(&mut self, env: Env, frame: &[u8], source: u32, now: i64) -> Result<u32> {
        let source = self::source(&env, source)?;
        let turn = self.inner.ingest_turn(std::iter::once((frame, source)), now);
        Ok(self.finish_turn(turn))
    }

    /// This book's handle for `hubIngestOne(handle, frame, source, now)`, the raw Node-API form of
    /// `ingestOneToScratch` (the same handle on every call; valid while the book lives, on this
    /// thread).
    #[napi]
    pub fn hot_handle(&mut self) -> u32 {
        hot_call::handle(self)
    }

    /// Where the turn calls put their frames: a Uint8Array over native memory, live; can be
    /// taken once (keep it).
    #[napi]
    pub fn turn_scratch(&mut self, env: Env) -> Result<Uint8Array> {
        self.turn_scratch.export_area(&env)
    }

    /// `[stream, seq, length]` of each frame of the last turn call, in order, as a live
    /// Float64Array over native memory; can be taken once (keep it).
    #[napi]
    pub fn turn_frame_index(&mut self, env: Env) -> Result<Float64Array> {
        self.turn_scratch.export_index(&env)
    }

    /// The frames of the last turn call when they spilled (`turnCounts()[8]` is 1), as
    /// `[stream, seq, frame, ...]` (taken once).
    #[napi]
    pub fn take_spilled_frames<'env>(&mut self, env: &'env Env) -> Result<Array<'env>> {
        flat_frames(env, &self.turn_scratch.take_spilled())
    }

    /// Merges a turn's Ingest frames as `ingestTurnToScratch` does, leaving their deltas pending; the
    /// counts go to `turnCounts()` (deltas and encode failures 0), the details to
    /// `takeTurnIssues`. Returns the number of records refused plus frames undecodable.
    #[napi]
    pub fn ingest_from(
        &mut self,
        env: Env,
        frames: Vec<BufferSlice>,
        sources: Vec<u32>,
        received_at: i64,
    ) -> Result<u32> {
        let inputs = frame_sources(&env, &frames, &sources)?;
        let mut report = IngestReport::default();
        self.inner.ingest_frames(inputs, received_at, &mut report);
        self.record_turn(&report, &Turn::default(), false);
        Ok((report.refused.len() + report.failures.len()) as u32)
    }

    /// The nine counts of the last turn call (`ingestTurnToScratch`, `ingestOneToScratch`,
    /// `ingestFrom`, `takeTopicFramesToScratch`): changed, unchanged, dropped, deltas, refused,
    /// undecodable, encode failures, deltas superseded within the turn, and 1 when its frames
    /// spilled (`takeSpilledFrames`), as a live Uint32Array over native memory; can be taken once
    /// (keep it).
    #[napi]
    pub fn turn_counts(&mut self, env: Env) -> Result<Uint32Array> {
        self.turn_counts.export(&env)
    }

    /// The refused records, undecodable frames and encode failures behind the last call's counts
    /// (taken: a second call returns empty lists).
    #[napi]
    pub fn take_turn_issues(&mut self) -> TurnIssues {
        TurnIssues {
            refused: std::mem::take(&mut self.issues.refused),
            undecodable: std::mem::take(&mut self.issues.undecodable),
            encode_failures: std::mem::take(&mut self.issues.encode_failures),
        }
    }

    /// Parses and merges raw websocket `kline` / `bookTicker` messages (a collector task inside
    /// the hub's process): the first `count` messages gathered back to back in `bytes`, message
    /// `i` ending at `ends[i]` (ends that do not describe `bytes` throw `invalid_batch`).
    #[napi]
    pub fn merge_gathered_market_events(
        &mut self,
        env: Env,
        bytes: &[u8],
        ends: &[u32],
        count: u32,
        source: u16,
        received_at: i64,
    ) -> Result<IngestManyResult> {
        let messages = gathered(&env, bytes, ends, count)?;
        Ok(self.merge_messages(messages, source, received_at, IngestBatch::push_market_event))
    }

    /// Parses and merges raw user-data messages (`ACCOUNT_UPDATE` positions and balances),
    /// gathered as for `mergeGatheredMarketEvents`.
    #[napi]
    pub fn merge_gathered_user_events(
        &mut self,
        env: Env,
        bytes: &[u8],
        ends: &[u32],
        count: u32,
        source: u16,
        received_at: i64,
    ) -> Result<IngestManyResult> {
        let messages = gathered(&env, bytes, ends, count)?;
        Ok(self.merge_messages(messages, source, received_at, IngestBatch::push_user_event))
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
        source: u32,
        received_at: i64,
    ) -> Result<u32> {
        self.merge_rest_poll(&env, symbol_id, &interval, body, server_time_ms, source, received_at)
    }

    /// `mergeRestKlines`, for it and for the raw `hubMergeRestKlines`: a source beyond u16 is
    /// refused with `invalid_value`, as `ingestOneToScratch` refuses it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn merge_rest_poll(
        &mut self,
        env: &Env,
        symbol_id: u32,
        interval: &str,
        body: &[u8],
        server_time_ms: i64,
        source: u32,
        received_at: i64,
    ) -> Result<u32> {
        let interval = parse_interval(env, interval)?;
        let poll = RestKlinesPoll {
            symbol: SymbolId(symbol_id),
            interval,
            body,
            server_time_ms,
        };
        let from = Provenance {
            source: self::source(env, source)?,
            received_at,
        };
        let report = self
            .inner
            .merge_rest_klines(poll, from)
            .map_err(|e| ingest_failed(env, e))?;
        self.rest_counts
            .set([report.changed, report.unchanged, report.dropped, report.refused.len()]);
        self.rejected = rejected(&report);
        Ok(self.rejected.len() as u32)
    }

    /// The four counts of the last `mergeRestKlines` (changed, unchanged, dropped, refused) as a
    /// live Uint32Array over native memory; can be taken once (keep it).
    #[napi]
    pub fn rest_counts(&mut self, env: Env) -> Result<Uint32Array> {
        self.rest_counts.export(&env)
    }

    /// The bars the last `mergeRestKlines` refused, with their reasons (taken: a second call
    /// returns none).
    #[napi]
    pub fn take_rejected(&mut self) -> Vec<RejectedRecord> {
        std::mem::take(&mut self.rejected)
    }

    /// Deltas merged and not yet taken.
    #[napi(getter)]
    pub fn pending_deltas(&self) -> u32 {
        self.inner.pending_deltas() as u32
    }

    /// Drops the pending deltas without encoding them (nobody subscribed); returns how many.
    #[napi]
    pub fn discard_deltas(&mut self) -> u32 {
        self.inner.discard_deltas() as u32
    }

    /// Encodes every pending delta as one Delta frame of `stream` numbered `seq`, and clears them;
    /// null when nothing changed since the last call.
    #[napi]
    pub fn take_delta_frame<'env>(
        &mut self,
        env: &'env Env,
        stream: u32,
        seq_no: i64,
        sent_at: i64,
    ) -> Result<Option<BufferSlice<'env>>> {
        let seq = seq(env, seq_no)?;
        let bytes = self
            .inner
            .take_delta_frame(stream, seq, sent_at)
            .map_err(|e| frame_failed(env, e))?;
        bytes.map(|b| buffer_copy(env, b)).transpose()
    }

    /// A Snapshot frame of everything (or of `symbols` only, plus balances and the ban list), in
    /// one frame.
    #[napi]
    pub fn snapshot_frame(
        &mut self,
        env: Env,
        stream: u32,
        seq_no: i64,
        sent_at: i64,
        symbols: Option<Vec<u32>>,
    ) -> Result<Buffer> {
        let seq = seq(&env, seq_no)?;
        let ids = symbols.map(|ids| ids.into_iter().map(SymbolId).collect::<Vec<_>>());
        let bytes = self
            .inner
            .snapshot_frame(stream, seq, sent_at, ids.as_deref())
            .map_err(|e| frame_failed(&env, e))?;
        Ok(Buffer::from(bytes))
    }

    /// Adds subscription stream `stream` (not 0) with its filter and the Delta encoding its
    /// subscribers speak (`wire` 1, the default, 2: compact frames, or 3: compact frames with
    /// tick rows); its seq starts at 0.
    #[napi]
    pub fn add_topic(&mut self, env: Env, stream: u32, filter: TopicFilterObject, wire: Option<u32>) -> Result<()> {
        let filter = filter.to_core(&env)?;
        let wire = match wire {
            None => WireVersion::V1,
            Some(number) => WireVersion::from_number(number).ok_or_else(|| {
                fail(
                    &env,
                    "invalid_value",
                    format!("unknown wire version {number} (1, 2 or 3)"),
                )
            })?,
        };
        self.inner
            .add_topic_with_wire(stream, filter, wire)
            .map_err(|e| fail(&env, e.reason(), e))
    }

    /// The turn of the last publication of stream frames (1 before the first).
    #[napi(getter)]
    pub fn turn(&self) -> i64 {
        self.inner.turn() as i64
    }

    /// Bars whose last published version is kept as the base of their next wire-2 row.
    #[napi(getter)]
    pub fn kline_bases(&self) -> u32 {
        self.inner.kline_bases() as u32
    }

    /// Removes a stream; false when it did not exist.
    #[napi]
    pub fn remove_topic(&mut self, stream: u32) -> bool {
        self.inner.remove_topic(stream)
    }

    /// The seq of the last Delta frame of `stream` (0 before the first); null for no such stream.
    #[napi]
    pub fn topic_seq(&self, stream: u32) -> Option<i64> {
        self.inner.topic_seq(stream).map(|s| s as i64)
    }

    /// Encodes the pending deltas as one Delta frame per stream with a matching delta (numbered
    /// with that stream's next seq) and clears them. Returns the number of frames, put where
    /// `ingestTurnToScratch` puts them; the number of deltas and of encode failures go to
    /// `turnCounts()`.
    #[napi]
    pub fn take_topic_frames_to_scratch(&mut self, sent_at: i64) -> u32 {
        let turn = self.inner.take_topic_frames(sent_at);
        self.finish_turn(turn)
    }

    /// The Snapshot of `stream` as of its current seq as chunk frames (each within the chunk
    /// budget), to send in order; the subscriber applies them once all arrived.
    #[napi]
    pub fn topic_snapshot_frames(&mut self, env: Env, stream: u32, sent_at: i64) -> Result<Vec<Buffer>> {
        let mut frames = Vec::new();
        self.inner
            .topic_snapshot_chunks(stream, sent_at, |_, bytes| frames.push(Buffer::from(bytes)))
            .map_err(|e| fail(&env, e.reason(), e))?;
        Ok(frames)
    }

    /// The Snapshot frame of `stream` as of its current seq in one frame (`too_large` past the
    /// 16 MiB frame limit: use `topicSnapshotFrames`).
    #[napi]
    pub fn topic_snapshot_frame(&mut self, env: Env, stream: u32, sent_at: i64) -> Result<Buffer> {
        let bytes = self
            .inner
            .topic_snapshot_frame(stream, sent_at)
            .map_err(|e| fail(&env, e.reason(), e))?;
        Ok(Buffer::from(bytes))
    }

    /// The window of `(symbol, interval)`, oldest first, each bar with who supplied it.
    #[napi]
    pub fn klines(&self, env: Env, symbol_id: u32, interval: String) -> Result<Vec<KlineEntry>> {
        let interval = parse_interval(&env, &interval)?;
        let id = SymbolId(symbol_id);
        let book = self.inner.book();
        Ok(book
            .klines(id, interval)
            .iter()
            .zip(book.kline_provenances(id, interval))
            .map(|(k, p)| KlineEntry {
                kline: k.into(),
                from: (*p).into(),
            })
            .collect())
    }

    #[napi]
    pub fn tick(&self, symbol_id: u32) -> Option<TickEntry> {
        self.inner.book().tick(SymbolId(symbol_id)).map(|(t, p)| TickEntry {
            tick: t.into(),
            from: p.into(),
        })
    }

    /// The mark price, index price and funding of a symbol, and who supplied them.
    #[napi]
    pub fn mark(&self, symbol_id: u32) -> Option<MarkEntry> {
        self.inner.book().mark(SymbolId(symbol_id)).map(|(m, p)| MarkEntry {
            mark: m.into(),
            from: p.into(),
        })
    }

    /// The position of `(symbol, side)`; side is `BOTH`, `LONG` or `SHORT`.
    #[napi]
    pub fn position(&self, env: Env, symbol_id: u32, side: String) -> Result<Option<PositionEntry>> {
        let side = position_side(&env, &side)?;
        Ok(self
            .inner
            .book()
            .position(SymbolId(symbol_id), side)
            .map(|(pos, p)| PositionEntry {
                position: pos.into(),
                from: p.into(),
            }))
    }

    #[napi]
    pub fn balance(&self, env: Env, asset: String) -> Result<Option<BalanceEntry>> {
        let asset = name(&env, "asset", &asset)?;
        Ok(self.inner.book().balance(&asset).map(|(b, p)| BalanceEntry {
            balance: b.into(),
            from: p.into(),
        }))
    }

    #[napi]
    pub fn ban_list(&self) -> BanListObject {
        self.inner.book().ban_list().into()
    }

    #[napi]
    pub fn stats(&self) -> MergeStatsObject {
        let s = self.inner.book().stats();
        MergeStatsObject {
            klines: s.klines.into(),
            ticks: s.ticks.into(),
            positions: s.positions.into(),
            balances: s.balances.into(),
            ban_list: s.ban_list.into(),
            marks: s.marks.into(),
            refused: self
                .inner
                .refusals()
                .map(|(reason, n)| (reason.to_owned(), n as i64))
                .collect(),
        }
    }
}

/// Pairs each frame with its sender's id; the lists must be equally long.
fn frame_sources<'f>(env: &Env, frames: &'f [BufferSlice], sources: &[u32]) -> Result<Vec<(&'f [u8], SourceId)>> {
    if sources.len() != frames.len() {
        return Err(fail(
            env,
            "invalid_value",
            format!("{} frames but {} sources", frames.len(), sources.len()),
        ));
    }
    frames
        .iter()
        .zip(sources)
        .map(|(frame, &id)| Ok((&frame[..], source(env, id)?)))
        .collect()
}
