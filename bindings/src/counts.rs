//! Counters a native call writes and JavaScript reads through one live Uint32Array, so a hot call returns no object.
//!
//! Building a result object costs far more than the work of a one-update call: measured with
//! callgrind, `napi_define_properties` for a 5–8 field object is 5,000–20,000 instructions, an
//! external Buffer 5,700, while decoding and merging a one-row frame is about 4,000. A call that
//! writes its counts here and returns a plain number builds no JS value at all.

use crate::error::fail;
use napi::bindgen_prelude::{BufferSlice, Uint32Array};
use napi::{Env, Result};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// `N` counters in native memory, exported once as a live Uint32Array.
pub struct LiveCounts<const N: usize> {
    slots: Arc<[AtomicU32; N]>,
    exported: bool,
}

impl<const N: usize> Default for LiveCounts<N> {
    fn default() -> Self {
        LiveCounts {
            slots: Arc::new(std::array::from_fn(|_| AtomicU32::new(0))),
            exported: false,
        }
    }
}

impl<const N: usize> LiveCounts<N> {
    /// Writes the counters (values past u32 saturate).
    pub fn set(&self, values: [usize; N]) {
        for (slot, value) in self.slots.iter().zip(values) {
            slot.store(u32::try_from(value).unwrap_or(u32::MAX), Ordering::Relaxed);
        }
    }

    /// The counters as a Uint32Array over native memory that sees every later `set`; refuses a
    /// second export (keep the first array).
    pub fn export(&mut self, env: &Env) -> Result<Uint32Array> {
        claim_export(env, &mut self.exported, "the counts were")?;
        let keep_alive = Arc::clone(&self.slots);
        // AtomicU32 has the size and alignment of u32.
        let data = keep_alive.as_ptr() as *mut u32;
        // SAFETY: the counters are allocated once and never move; `keep_alive` holds them until V8
        // finalizes the ArrayBuffer, and they are exported once. Native code writes them only
        // inside a call from JavaScript on this thread, so no JS access runs concurrently.
        Ok(unsafe { Uint32Array::with_external_data(data, N, move |_, _| drop(keep_alive)) })
    }
}

/// Marks a view over native memory as handed out, or refuses a second export: V8 refuses two
/// ArrayBuffers over the same memory, and the first view stays live anyway.
pub fn claim_export(env: &Env, exported: &mut bool, what: &str) -> Result<()> {
    if *exported {
        return Err(fail(
            env,
            "view_exported",
            format!("{what} already handed out; keep and reuse the first array"),
        ));
    }
    *exported = true;
    Ok(())
}

/// A JS Buffer holding a copy of `bytes`. For frames of a few hundred bytes a copy into a
/// JS-owned Buffer costs a fraction of an external Buffer over a `Vec` (no finalizer, no
/// external-memory accounting, no free on a later GC).
pub fn buffer_copy<'env>(env: &'env Env, bytes: &[u8]) -> Result<BufferSlice<'env>> {
    BufferSlice::copy_from(env, bytes)
}
