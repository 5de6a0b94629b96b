//! The trader's local book as a JS class, with live typed-array views over native memory.
//!
//! Views are external ArrayBuffers over the book's `Arc<[AtomicU64]>` blocks: no copy, and they
//! see every later apply. Each block is exported at most once (V8 refuses two ArrayBuffers over
//! the same memory), so the TypeScript facade caches the views it gets; the ArrayBuffer's
//! finalizer holds an `Arc` clone, so a view stays valid even after the book is gone.

use crate::book_changes::{all_changes, changed_assets, ChangeArea};
use crate::counts::LiveCounts;
use crate::error::fail;
use crate::hot_call;
use crate::interval::parse_interval;
use crate::records::{
    name, position_side, BalanceObject, BanListObject, KlineObject, MarkObject, PositionObject, TickObject,
};
use napi::bindgen_prelude::{BufferSlice, Float64Array, Uint32Array};
use napi::{Env, Result};
use napi_derive::napi;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use tributary_core::frame::FrameError;
use tributary_core::trader_book::{ApplyOutcome, ApplyReport, F64Block, TraderBook as CoreTraderBook};
use tributary_core::SymbolId;

/// A position of the book with its symbol id.
#[napi(object)]
pub struct BookPositionObject {
    pub symbol_id: u32,
    pub position: PositionObject,
}

/// What applying one frame did.
#[napi(object)]
pub struct ApplyOutcomeObject {
    #[napi(
        ts_type = "'applied' | 'snapshot' | 'chunk' | 'duplicate' | 'gap' | 'stale' | 'chunkDropped' | 'wrongKind' | 'invalid' | 'baseMismatch'"
    )]
    pub kind: String,
    pub stream: Option<u32>,
    pub seq: Option<i64>,
    /// Entity changes applied (`applied`).
    pub deltas: Option<u32>,
    /// The seq the book waited for, absent when the stream had no snapshot yet (`gap`).
    pub expected: Option<i64>,
    /// The seq that arrived instead (`gap`).
    pub got: Option<i64>,
    /// Kline rows not applied because the book does not hold their base version (`baseMismatch`).
    pub rows: Option<u32>,
    /// True when the caller must ask the hub for a snapshot of `stream`.
    pub needs_snapshot: bool,
    /// Reason label and message of an undecodable frame (`invalid`) or the frame kind (`wrongKind`).
    pub code: Option<String>,
    pub message: Option<String>,
}

impl ApplyOutcomeObject {
    fn empty(kind: &str) -> Self {
        ApplyOutcomeObject {
            kind: kind.to_owned(),
            stream: None,
            seq: None,
            deltas: None,
            expected: None,
            got: None,
            rows: None,
            needs_snapshot: false,
            code: None,
            message: None,
        }
    }
}

impl From<ApplyOutcome> for ApplyOutcomeObject {
    fn from(o: ApplyOutcome) -> Self {
        let needs_snapshot = o.needs_snapshot();
        let mut out = match o {
            ApplyOutcome::Applied { stream, seq, deltas } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                deltas: Some(deltas as u32),
                ..Self::empty("applied")
            },
            ApplyOutcome::SnapshotApplied { stream, seq } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                ..Self::empty("snapshot")
            },
            ApplyOutcome::Duplicate { stream, seq } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                ..Self::empty("duplicate")
            },
            ApplyOutcome::Gap { stream, expected, got } => ApplyOutcomeObject {
                stream: Some(stream),
                expected: expected.map(|e| e as i64),
                got: Some(got as i64),
                ..Self::empty("gap")
            },
            ApplyOutcome::IgnoredStale { stream, seq } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                ..Self::empty("stale")
            },
            ApplyOutcome::SnapshotChunk { stream, seq, .. } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                ..Self::empty("chunk")
            },
            ApplyOutcome::ChunkDropped { stream, seq, chunk, .. } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                code: Some("chunk_dropped".into()),
                message: Some(format!(
                    "chunk {} of {} continues no snapshot in progress",
                    chunk.index, chunk.count
                )),
                ..Self::empty("chunkDropped")
            },
            ApplyOutcome::BaseMismatch { stream, seq, rows } => ApplyOutcomeObject {
                stream: Some(stream),
                seq: Some(seq as i64),
                rows: Some(rows as u32),
                code: Some("base_mismatch".into()),
                message: Some(format!(
                    "{rows} kline rows are relative to versions this book does not hold; the stream needs a snapshot"
                )),
                ..Self::empty("baseMismatch")
            },
            ApplyOutcome::WrongKind { kind } => ApplyOutcomeObject {
                code: Some("wrong_kind".into()),
                message: Some(format!("a trader book does not apply {} frames", kind.as_str())),
                ..Self::empty("wrongKind")
            },
        };
        out.needs_snapshot = needs_snapshot;
        out
    }
}

impl ApplyOutcomeObject {
    fn invalid(error: &FrameError) -> Self {
        ApplyOutcomeObject {
            code: Some(error.reason().to_owned()),
            message: Some(error.to_string()),
            ..ApplyOutcomeObject::empty("invalid")
        }
    }
}

/// A frame of a batch that needs attention, with its position in the batch.
#[napi(object)]
pub struct ApplyIssue {
    pub index: u32,
    pub outcome: ApplyOutcomeObject,
}

/// Numbers per frame in `ApplyManyResult.frames`: kind code (0 ingest, 1 delta, 2 snapshot, -1
/// undecodable), stream, seq, result code (`FrameResult`: 0 applied, 1 snapshot, 2 chunk,
/// 3 duplicate, 4 gap, 5 stale, 6 chunkDropped, 7 wrongKind, 8 invalid, 9 baseMismatch).
const FRAME_FIELDS: usize = 4;

/// Slots of `applyCounts()`: applied, snapshots completed (whole Snapshot frames, or the last
/// chunk of a chunked one), snapshot chunks held, duplicates, ignored while stale, issues.
const APPLY_COUNTS: usize = 6;

/// The frames of a batch that need attention (`gap`, `baseMismatch`, or `chunkDropped` of a
/// stream out of sync: ask the hub for a snapshot; `wrongKind`; `invalid`).
fn issues(report: &ApplyReport) -> Vec<ApplyIssue> {
    report
        .issues
        .iter()
        .map(|issue| ApplyIssue {
            index: issue.index as u32,
            outcome: match &issue.outcome {
                Ok(outcome) => (*outcome).into(),
                Err(error) => ApplyOutcomeObject::invalid(error),
            },
        })
        .collect()
}

#[napi(object)]
pub struct TraderBookStatsObject {
    pub frames_applied: i64,
    pub deltas_applied: i64,
    pub duplicates: i64,
    pub gaps: i64,
    pub ignored_while_stale: i64,
    pub snapshots: i64,
    pub wrong_kind: i64,
    pub snapshot_chunks: i64,
    pub snapshots_dropped: i64,
    pub old_klines_dropped: i64,
    pub base_mismatches: i64,
    pub rows_already_held: i64,
    /// Klines of a hand-built frame no wire frame can carry, dropped (never from a decoded frame).
    pub unrepresentable_klines: i64,
}

/// The trader's book: applies hub frames in sequence per stream and exposes copy-free views.
#[napi]
pub struct TraderBook {
    book: CoreTraderBook,
    /// The last `apply_many`'s report, kept so its per-frame part is built only when asked for
    /// (`frame_reports`) and its allocations are reused.
    report: ApplyReport,
    /// Addresses of blocks currently exported to JS (removed by each view's finalizer).
    exported: Rc<RefCell<HashSet<usize>>>,
    /// The counts of the last `apply_many`, read by JS through the array `apply_counts` exports.
    counts: LiveCounts<APPLY_COUNTS>,
    /// This book's handle for the raw hot calls, once JavaScript asked for it.
    pub(crate) hot: Option<u32>,
    /// What the last apply changed, read by JS through the array `change_area` exports.
    changes: ChangeArea,
    /// The last apply's change count, whether it applied a snapshot (1 or 0), and the entities
    /// the book holds, read by JS through the array `change_counts` exports.
    change_counts: LiveCounts<3>,
}

impl Drop for TraderBook {
    fn drop(&mut self) {
        if let Some(handle) = self.hot {
            hot_call::unregister::<TraderBook>(handle);
        }
    }
}

impl TraderBook {
    /// Writes the last apply's counts to `counts` and returns how many frames need attention.
    fn record_apply(&self) -> u32 {
        self.record_changes();
        let r = &self.report;
        self.counts.set([
            r.applied,
            r.snapshots,
            r.chunks,
            r.duplicates,
            r.ignored_stale,
            r.issues.len(),
        ]);
        r.issues.len() as u32
    }

    /// Writes what the last apply changed to the change area and its counts.
    fn record_changes(&self) {
        let count = self.changes.write(&self.book);
        let snapshot = usize::from(self.book.changes().had_snapshot());
        self.change_counts.set([count, snapshot, self.book.entities()]);
    }
}

#[napi]
impl TraderBook {
    /// A book keeping `window` bars per (symbol, interval); default 45.
    #[napi(constructor)]
    pub fn new(env: Env, window: Option<u32>) -> Result<Self> {
        let book = match window {
            Some(0) => return Err(fail(&env, "invalid_config", "window must hold at least one bar")),
            Some(w) => CoreTraderBook::with_window(w as usize),
            None => CoreTraderBook::new(),
        };
        Ok(TraderBook {
            book,
            report: ApplyReport::default(),
            exported: Rc::default(),
            counts: LiveCounts::default(),
            hot: None,
            changes: ChangeArea::default(),
            change_counts: LiveCounts::default(),
        })
    }

    #[napi(getter)]
    pub fn window(&self) -> u32 {
        self.book.window() as u32
    }

    /// Applies one Delta or Snapshot frame. An undecodable frame throws a `NativeError`.
    #[napi]
    pub fn apply(&mut self, env: Env, frame: &[u8]) -> Result<ApplyOutcomeObject> {
        let outcome = self.book.apply_bytes(frame);
        self.record_changes();
        outcome.map(Into::into).map_err(|e| fail(&env, e.reason(), e))
    }

    /// Applies frames in order in one call and returns how many need attention. The counts go to
    /// `applyCounts()`, the frames needing attention come from `takeIssues`, what each frame was
    /// from `frameReports`: each is built only when asked for, so a healthy batch builds no JS
    /// value (a result object cost more than decoding and applying a one-row frame).
    #[napi]
    pub fn apply_many(&mut self, frames: Vec<BufferSlice>) -> u32 {
        self.book
            .apply_many_into(frames.iter().map(|f| &f[..]), &mut self.report);
        self.record_apply()
    }

    /// `applyMany` of one frame, without the array (converting it costs about as much as
    /// applying a one-row frame); reported the same way, at index 0.
    #[napi]
    pub fn apply_one(&mut self, frame: &[u8]) -> u32 {
        self.book.apply_many_into(std::iter::once(frame), &mut self.report);
        self.record_apply()
    }

    /// This book's handle for `traderApplyOne(handle, frame)`, the raw Node-API form of `applyOne`
    /// (the same handle on every call; valid while the book lives, on this thread).
    #[napi]
    pub fn hot_handle(&mut self) -> u32 {
        hot_call::handle(self)
    }

    /// The six counts of the last `applyMany` (applied, snapshots, chunks, duplicates, ignored
    /// stale, issues) as a live Uint32Array over native memory; can be taken once (keep it).
    #[napi]
    pub fn apply_counts(&mut self, env: Env) -> Result<Uint32Array> {
        self.counts.export(&env)
    }

    /// What the last apply changed, live: five numbers a change (kind code, id, slot, open
    /// time, row; see `book_changes.rs`), the first 4,096 changes; can be taken once (keep it).
    #[napi]
    pub fn change_area(&mut self, env: Env) -> Result<Float64Array> {
        self.changes.export(&env)
    }

    /// The last apply's change count, whether it applied a snapshot (1 or 0), and the entities
    /// the book holds (series, ticks, marks, positions, balances; it only grows) as a live
    /// Uint32Array; can be taken once (keep it).
    #[napi]
    pub fn change_counts(&mut self, env: Env) -> Result<Uint32Array> {
        self.change_counts.export(&env)
    }

    /// Every change of the last apply (five numbers each), for a batch past the live area's room.
    #[napi]
    pub fn changes(&self) -> Float64Array {
        Float64Array::new(all_changes(&self.book))
    }

    /// The assets of the last apply's balance changes, in order: a balance change's id indexes it.
    #[napi]
    pub fn changed_assets(&self) -> Vec<String> {
        changed_assets(&self.book)
    }

    /// The frames of the last `applyMany` that need attention, with their index in the batch.
    #[napi]
    pub fn take_issues(&self) -> Vec<ApplyIssue> {
        issues(&self.report)
    }

    /// What each frame of the last `applyMany` was: four numbers per frame, in order: kind code
    /// (0 ingest, 1 delta, 2 snapshot, -1 when the frame did not decode), stream, seq (NaN when
    /// undecodable), and the result code (0 applied, 1 snapshot, 2 chunk, 3 duplicate, 4 gap,
    /// 5 stale, 6 chunkDropped, 7 wrongKind, 8 invalid, 9 baseMismatch).
    #[napi]
    pub fn frame_reports(&self) -> Float64Array {
        let mut values = Vec::with_capacity(self.report.frames.len() * FRAME_FIELDS);
        for frame in &self.report.frames {
            match frame.header {
                Some(h) => values.extend([f64::from(h.kind.code()), f64::from(h.stream), h.seq as f64]),
                None => values.extend([-1.0, f64::NAN, f64::NAN]),
            }
            values.push(f64::from(frame.result as u8));
        }
        Float64Array::new(values)
    }

    /// True while `stream` waits for a snapshot after a gap.
    #[napi]
    pub fn is_stale(&self, stream: u32) -> bool {
        self.book.is_stale(stream)
    }

    #[napi]
    pub fn stale_streams(&self) -> Vec<u32> {
        self.book.stale_streams()
    }

    /// Live columns of `(symbol, interval)`: 12 × window f64 values, column-major (see
    /// `KLINE_COLUMNS`); rows `[0, count)` oldest first, the rest NaN; then one value, the bar
    /// count. Null until the series exists. Each series can be exported once: keep the
    /// returned array.
    #[napi]
    pub fn kline_columns(&self, env: Env, symbol_id: u32, interval: String) -> Result<Option<Float64Array>> {
        let interval = parse_interval(&env, &interval)?;
        self.book
            .kline_series(SymbolId(symbol_id), interval)
            .map(|s| self.export(&env, s.columns()))
            .transpose()
    }

    /// The exact bars of `(symbol, interval)`, oldest first.
    #[napi]
    pub fn klines(&self, env: Env, symbol_id: u32, interval: String) -> Result<Vec<KlineObject>> {
        let interval = parse_interval(&env, &interval)?;
        Ok(self
            .book
            .kline_series(SymbolId(symbol_id), interval)
            .map_or_else(Vec::new, |s| s.klines().iter().map(Into::into).collect()))
    }

    /// Live `[bid, bidQty, ask, askQty, last, time, updateId]` of a symbol (`last` and `updateId`
    /// NaN when the source had none).
    #[napi]
    pub fn tick_values(&self, env: Env, symbol_id: u32) -> Result<Option<Float64Array>> {
        self.book
            .tick(SymbolId(symbol_id))
            .map(|v| self.export(&env, v.values()))
            .transpose()
    }

    #[napi]
    pub fn tick(&self, symbol_id: u32) -> Option<TickObject> {
        self.book.tick(SymbolId(symbol_id)).map(|v| v.record().into())
    }

    /// Live `[markPrice, indexPrice, estimatedSettlePrice, fundingRate, nextFundingTime, time]`
    /// of a symbol (`MARK_SLOTS` order).
    #[napi]
    pub fn mark_values(&self, env: Env, symbol_id: u32) -> Result<Option<Float64Array>> {
        self.book
            .mark(SymbolId(symbol_id))
            .map(|v| self.export(&env, v.values()))
            .transpose()
    }

    #[napi]
    pub fn mark(&self, symbol_id: u32) -> Option<MarkObject> {
        self.book.mark(SymbolId(symbol_id)).map(|v| v.record().into())
    }

    /// Live `[amount, entryPrice, unrealizedPnl, markPrice, updateTime]` (NaN where unknown).
    #[napi]
    pub fn position_values(&self, env: Env, symbol_id: u32, side: String) -> Result<Option<Float64Array>> {
        let side = position_side(&env, &side)?;
        self.book
            .position(SymbolId(symbol_id), side)
            .map(|v| self.export(&env, v.values()))
            .transpose()
    }

    #[napi]
    pub fn position(&self, env: Env, symbol_id: u32, side: String) -> Result<Option<PositionObject>> {
        let side = position_side(&env, &side)?;
        Ok(self.book.position(SymbolId(symbol_id), side).map(|v| v.record().into()))
    }

    /// Live `[wallet, crossWallet, available, unrealizedPnl, updateTime]` (NaN where unknown).
    #[napi]
    pub fn balance_values(&self, env: Env, asset: String) -> Result<Option<Float64Array>> {
        let asset = name(&env, "asset", &asset)?;
        self.book
            .balance(&asset)
            .map(|v| self.export(&env, v.values()))
            .transpose()
    }

    #[napi]
    pub fn balance(&self, env: Env, asset: String) -> Result<Option<BalanceObject>> {
        let asset = name(&env, "asset", &asset)?;
        Ok(self.book.balance(&asset).map(|v| v.record().into()))
    }

    /// Every position the book holds (zero amounts included), in no particular order.
    #[napi]
    pub fn positions(&self) -> Vec<BookPositionObject> {
        self.book
            .positions()
            .map(|(symbol, view)| BookPositionObject {
                symbol_id: symbol.0,
                position: view.record().into(),
            })
            .collect()
    }

    /// Every balance the book holds, in no particular order.
    #[napi]
    pub fn balances(&self) -> Vec<BalanceObject> {
        self.book.balances().map(|view| view.record().into()).collect()
    }

    #[napi]
    pub fn ban_list(&self) -> BanListObject {
        self.book.ban_list().into()
    }

    #[napi]
    pub fn stats(&self) -> TraderBookStatsObject {
        let s = self.book.stats();
        TraderBookStatsObject {
            frames_applied: s.frames_applied as i64,
            deltas_applied: s.deltas_applied as i64,
            duplicates: s.duplicates as i64,
            gaps: s.gaps as i64,
            ignored_while_stale: s.ignored_while_stale as i64,
            snapshots: s.snapshots as i64,
            wrong_kind: s.wrong_kind as i64,
            snapshot_chunks: s.snapshot_chunks as i64,
            snapshots_dropped: s.snapshots_dropped as i64,
            old_klines_dropped: s.old_klines_dropped as i64,
            base_mismatches: s.base_mismatches as i64,
            rows_already_held: s.rows_already_held as i64,
            unrepresentable_klines: s.unrepresentable_klines as i64,
        }
    }

    /// A Float64Array over `block` without copying; refuses a block already exported.
    fn export(&self, env: &Env, block: &F64Block) -> Result<Float64Array> {
        // AtomicU64 has the size and alignment of f64 and the book stores f64 bits in it.
        let data = block.as_ptr() as *mut f64;
        let address = data as usize;
        if !self.exported.borrow_mut().insert(address) {
            return Err(fail(
                env,
                "view_exported",
                "this view was already handed out; keep and reuse the first array",
            ));
        }
        let keep_alive = block.clone();
        let exported = Rc::clone(&self.exported);
        // SAFETY: the block is allocated once and never reallocated; `keep_alive` holds it until
        // V8 finalizes the ArrayBuffer, and the address is exported at most once at a time.
        let view = unsafe {
            Float64Array::with_external_data(data, block.len(), move |_, _| {
                exported.borrow_mut().remove(&address);
                drop(keep_alive);
            })
        };
        Ok(view)
    }
}
