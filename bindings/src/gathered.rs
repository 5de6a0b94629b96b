//! A gathered batch of messages taken from its two JavaScript arrays, or refused with `invalid_batch`.

use crate::error::fail;
use napi::{Env, Result};
use tributary_core::gathered::GatheredMessages;

/// The first `count` messages of `bytes` ending at `ends` (`GatheredMessages::new`); throws
/// `invalid_batch` naming the first offset that does not describe `bytes`.
pub fn gathered<'a>(env: &Env, bytes: &'a [u8], ends: &'a [u32], count: u32) -> Result<GatheredMessages<'a>> {
    GatheredMessages::new(bytes, ends, count as usize).map_err(|e| fail(env, "invalid_batch", e))
}
