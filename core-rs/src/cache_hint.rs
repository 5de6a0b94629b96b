//! Cache-line prefetch hints: a frame's lookups issued together before its work, so their misses overlap.
//!
//! A trader's apply and a hub's merge each touch a few cache lines per entity (a record, a turn, a
//! row of every column) in memory the other processes of the machine have evicted since the last
//! frame. Done one entity after another, each entity's misses wait for the previous entity's work;
//! hinted for every entity of the frame first, they are fetched in parallel (docs/benchmarks-journal.md,
//! "A frame's lines fetched together").

/// Asks the CPU to bring the cache line holding `at` into its caches. A hint: the address is never
/// dereferenced, so any address (dangling, past the end) is harmless.
#[inline(always)]
pub fn prefetch<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` never faults and reads nothing into the program; SSE is part of the
    // x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// The cache line size of the x86_64 and AArch64 cores the project runs on.
const LINE: usize = 64;

/// [`prefetch`] for every line the `T` at `at` lies on (a 208-byte `Kline` spans four or five).
#[inline(always)]
pub fn prefetch_value<T>(at: *const T) {
    let size = std::mem::size_of::<T>();
    let start = at.cast::<u8>();
    // One hint per line's worth of bytes, then the last byte's line (the value need not start
    // on a line boundary). The size is a constant: the loop unrolls.
    let mut offset = 0;
    while offset < size {
        prefetch(start.wrapping_add(offset));
        offset += LINE;
    }
    prefetch(start.wrapping_add(size.saturating_sub(1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_never_dereferences_its_address() {
        // A read of any of these would fault: the hints must only ever prefetch.
        prefetch(std::ptr::null::<u64>());
        prefetch(usize::MAX as *const u8);
        prefetch_value(std::ptr::NonNull::<[u64; 64]>::dangling().as_ptr());
        let gone = Box::into_raw(Box::new([0u8; 256]));
        // SAFETY: `gone` came from `Box::into_raw` just above and is freed once.
        drop(unsafe { Box::from_raw(gone) });
        prefetch_value(gone);
        prefetch_value(std::ptr::NonNull::<()>::dangling().as_ptr());
    }
}
