//! A fixed native byte area a call writes its output frame into and JavaScript copies out of, so a hot call returns a length instead of a new Buffer.
//!
//! Handing a frame of a few hundred bytes to JavaScript as a new Buffer (`napi_create_buffer_copy`)
//! costs about 3,400 instructions (node allocates a BackingStore per Buffer); writing it here and
//! copying it out in JavaScript into a pooled `Buffer.allocUnsafe` costs a few hundred
//! (docs/benchmarks.md). Output larger than the area is kept aside and handed out as a Buffer.

use crate::counts::{buffer_copy, claim_export};
use napi::bindgen_prelude::{BufferSlice, Uint8Array};
use napi::{Env, Result};
use std::sync::atomic::AtomicU8;
use std::sync::Arc;

/// Bytes of the area: Ingest frames of up to about 300 records fit; larger ones take the held path.
pub const SCRATCH_BYTES: usize = 64 * 1024;

/// The area, exported once as a live Uint8Array, and the one output too large for it.
pub struct FrameScratch {
    area: Arc<[AtomicU8]>,
    exported: bool,
    held: Option<Vec<u8>>,
}

impl Default for FrameScratch {
    fn default() -> Self {
        FrameScratch {
            area: (0..SCRATCH_BYTES).map(|_| AtomicU8::new(0)).collect(),
            exported: false,
            held: None,
        }
    }
}

impl FrameScratch {
    /// Puts `bytes` where JavaScript reads it and returns its length: in the area when it fits,
    /// otherwise held for [`FrameScratch::take_held`] (a length above the area's size says which).
    pub fn put(&mut self, bytes: &[u8]) -> u32 {
        self.held = None;
        if bytes.len() <= self.area.len() {
            // SAFETY: the area never moves or changes size, `bytes` is native memory that cannot
            // overlap it, and JavaScript reads it only between native calls on this same thread.
            // AtomicU8 is an UnsafeCell over a u8, so writing through a shared pointer is allowed.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.area.as_ptr() as *mut u8, bytes.len()) };
        } else {
            self.held = Some(bytes.to_vec());
        }
        u32::try_from(bytes.len()).unwrap_or(u32::MAX)
    }

    /// The output [`FrameScratch::put`] held because it did not fit, as a Buffer (once).
    pub fn take_held<'env>(&mut self, env: &'env Env) -> Result<Option<BufferSlice<'env>>> {
        self.held.take().map(|bytes| buffer_copy(env, &bytes)).transpose()
    }

    /// The area as a Uint8Array over native memory that sees every later `put`; refuses a second
    /// export (keep the first array).
    pub fn export(&mut self, env: &Env) -> Result<Uint8Array> {
        claim_export(env, &mut self.exported, "the frame scratch was")?;
        let keep_alive = Arc::clone(&self.area);
        let data = keep_alive.as_ptr() as *mut u8;
        // SAFETY: the area is allocated once and never moves; `keep_alive` holds it until V8
        // finalizes the ArrayBuffer. Native code writes it only inside a call from JavaScript on
        // this thread, so no JS access runs concurrently.
        Ok(unsafe { Uint8Array::with_external_data(data, SCRATCH_BYTES, move |_, _| drop(keep_alive)) })
    }
}
