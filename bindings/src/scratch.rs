//! A fixed native byte area a call writes its output frame into and JavaScript copies out of, so a hot call returns a length instead of a new Buffer.
//!
//! Handing a frame of a few hundred bytes to JavaScript as a new Buffer (`napi_create_buffer_copy`)
//! costs about 3,400 instructions (node allocates a BackingStore per Buffer); writing it here and
//! copying it out in JavaScript into a pooled `Buffer.allocUnsafe` costs a few hundred
//! (docs/benchmarks-journal.md). Output larger than the area is kept aside and handed out as a Buffer.
//! [`FrameScratch`] holds one frame (a collector's Ingest frame); [`TurnScratch`] a hub turn's
//! Delta frames with an index of them.

use crate::counts::{buffer_copy, claim_export};
use napi::bindgen_prelude::{BufferSlice, Float64Array, Uint8Array};
use napi::{Env, Result};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use tributary_core::hub_book::TopicFrame;

/// A fixed byte area in native memory that JavaScript reads through one live Uint8Array.
struct ByteArea {
    bytes: Arc<[AtomicU8]>,
    exported: bool,
}

impl ByteArea {
    fn new(len: usize) -> ByteArea {
        ByteArea {
            bytes: (0..len).map(|_| AtomicU8::new(0)).collect(),
            exported: false,
        }
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Copies `bytes` in at offset `at`; false (nothing written) when they would not fit.
    fn write(&self, at: usize, bytes: &[u8]) -> bool {
        if at.checked_add(bytes.len()).is_none_or(|end| end > self.bytes.len()) {
            return false;
        }
        // SAFETY: the range was checked; the area never moves or changes size, `bytes` is native
        // memory that cannot overlap it, and JavaScript reads it only between native calls on this
        // same thread. AtomicU8 is an UnsafeCell over a u8, so writing through a shared pointer is
        // allowed.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), (self.bytes.as_ptr() as *mut u8).add(at), bytes.len()) };
        true
    }

    /// The area as a Uint8Array over native memory that sees every later write; refuses a second
    /// export (keep the first array).
    fn export(&mut self, env: &Env, what: &str) -> Result<Uint8Array> {
        claim_export(env, &mut self.exported, what)?;
        let keep_alive = Arc::clone(&self.bytes);
        let (data, len) = (keep_alive.as_ptr() as *mut u8, keep_alive.len());
        // SAFETY: the area is allocated once and never moves; `keep_alive` holds it until V8
        // finalizes the ArrayBuffer. Native code writes it only inside a call from JavaScript on
        // this thread, so no JS access runs concurrently.
        Ok(unsafe { Uint8Array::with_external_data(data, len, move |_, _| drop(keep_alive)) })
    }
}

/// Bytes of the area: Ingest frames of up to about 300 records fit; larger ones take the held path.
pub const SCRATCH_BYTES: usize = 64 * 1024;

/// The area, exported once as a live Uint8Array, and the one output too large for it.
pub struct FrameScratch {
    area: ByteArea,
    held: Option<Vec<u8>>,
}

impl Default for FrameScratch {
    fn default() -> Self {
        FrameScratch {
            area: ByteArea::new(SCRATCH_BYTES),
            held: None,
        }
    }
}

impl FrameScratch {
    /// Puts `bytes` where JavaScript reads it and returns its length: in the area when it fits,
    /// otherwise held for [`FrameScratch::take_held`] (a length above the area's size says which).
    pub fn put(&mut self, bytes: &[u8]) -> u32 {
        self.held = None;
        if !self.area.write(0, bytes) {
            self.held = Some(bytes.to_vec());
        }
        u32::try_from(bytes.len()).unwrap_or(u32::MAX)
    }

    /// The output [`FrameScratch::put`] held because it did not fit, as a Buffer (once).
    pub fn take_held<'env>(&mut self, env: &'env Env) -> Result<Option<BufferSlice<'env>>> {
        self.held.take().map(|bytes| buffer_copy(env, &bytes)).transpose()
    }

    /// The area as a Uint8Array over native memory that sees every later `put` (once).
    pub fn export(&mut self, env: &Env) -> Result<Uint8Array> {
        self.area.export(env, "the frame scratch was")
    }
}

/// Bytes of a turn's area: a turn's Delta frames, back to back (a 20-update compact frame is about
/// 500 bytes, so a few hundred subscription streams fit); a larger turn spills.
pub const TURN_SCRATCH_BYTES: usize = 256 * 1024;
/// Frames of a turn the index describes; a turn with more spills.
pub const TURN_SCRATCH_FRAMES: usize = 1024;
/// Numbers per frame in the index: stream, seq, length.
pub const TURN_INDEX_FIELDS: usize = 3;

/// A hub turn's Delta frames for JavaScript to copy out: the bytes back to back in one area and,
/// per frame, `[stream, seq, length]` in a Float64 index, both exported once. A turn that does not
/// fit (more bytes or frames than the area and index hold) spills: its frames are kept whole for
/// [`TurnScratch::take_spilled`].
pub struct TurnScratch {
    area: ByteArea,
    /// f64 bits (JS reads a Float64Array; seqs stay exact below 2^53).
    index: Arc<[AtomicU64]>,
    index_exported: bool,
    spilled: Vec<TopicFrame>,
}

impl Default for TurnScratch {
    fn default() -> Self {
        TurnScratch {
            area: ByteArea::new(TURN_SCRATCH_BYTES),
            index: (0..TURN_SCRATCH_FRAMES * TURN_INDEX_FIELDS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            index_exported: false,
            spilled: Vec::new(),
        }
    }
}

impl TurnScratch {
    /// Puts a turn's frames where JavaScript reads them and returns whether they spilled (then
    /// they wait whole for `take_spilled`, and the area and index are left as they were).
    pub fn put(&mut self, frames: Vec<TopicFrame>) -> bool {
        let bytes: usize = frames.iter().map(|f| f.bytes.len()).sum();
        if frames.len() > TURN_SCRATCH_FRAMES || bytes > self.area.len() {
            self.spilled = frames;
            return true;
        }
        self.spilled.clear();
        let mut at = 0;
        for (i, frame) in frames.iter().enumerate() {
            // Fits: the total was checked above.
            self.area.write(at, &frame.bytes);
            at += frame.bytes.len();
            let fields = [f64::from(frame.stream), frame.seq as f64, frame.bytes.len() as f64];
            for (cell, value) in self.index.iter().skip(i * TURN_INDEX_FIELDS).zip(fields) {
                cell.store(value.to_bits(), Ordering::Relaxed);
            }
        }
        false
    }

    /// The frames of a turn that spilled (taken once).
    pub fn take_spilled(&mut self) -> Vec<TopicFrame> {
        std::mem::take(&mut self.spilled)
    }

    /// The area as a Uint8Array over native memory that sees every later `put` (once).
    pub fn export_area(&mut self, env: &Env) -> Result<Uint8Array> {
        self.area.export(env, "the turn scratch was")
    }

    /// The index as a Float64Array over native memory that sees every later `put` (once).
    pub fn export_index(&mut self, env: &Env) -> Result<Float64Array> {
        claim_export(env, &mut self.index_exported, "the turn frame index was")?;
        let keep_alive = Arc::clone(&self.index);
        // AtomicU64 has the size and alignment of f64 (8 bytes) on every target napi builds for.
        let (data, len) = (keep_alive.as_ptr() as *mut f64, keep_alive.len());
        // SAFETY: as in `ByteArea::export`; the cells hold f64 bits.
        Ok(unsafe { Float64Array::with_external_data(data, len, move |_, _| drop(keep_alive)) })
    }
}
