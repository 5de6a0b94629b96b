//! Interval names and boundaries for JS callers.

use crate::error::fail;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::Interval;

/// Parses a Binance interval name; the JS error's code is `invalid_interval`.
pub fn parse_interval(env: &Env, name: &str) -> Result<Interval> {
    name.parse::<Interval>().map_err(|e| fail(env, "invalid_interval", e))
}

/// Open time (Unix ms, UTC boundary) of the `interval` bar that contains `timeMs`.
#[napi]
pub fn interval_open_time(env: Env, interval: String, time_ms: i64) -> Result<i64> {
    Ok(parse_interval(&env, &interval)?.open_time(time_ms))
}
