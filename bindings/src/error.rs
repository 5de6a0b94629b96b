//! Core errors as JS errors whose `code` is the core's stable reason label.

use napi::{Env, Error, Status};
use std::fmt::Display;

/// Throws a JS `Error` with `code` (the label a caller switches on, e.g. `"truncated"`) and the core
/// error's message, and returns the napi error that tells the runtime an exception is pending.
pub fn fail(env: &Env, code: &str, error: impl Display) -> Error {
    let message = error.to_string();
    match env.throw_error(&message, Some(code)) {
        Ok(()) => Error::new(Status::PendingException, message),
        // Throwing failed (the env is tearing down): hand the runtime a plain error instead.
        Err(_) => Error::new(Status::GenericFailure, format!("{code}: {message}")),
    }
}
