//! Interval boundaries for JS callers.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tributary_core::Interval;

/// Parses a Binance interval name, as a JS error naming the bad value.
pub fn parse_interval(name: &str) -> Result<Interval> {
    name.parse::<Interval>()
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}

/// Open time (Unix ms, UTC boundary) of the `interval` bar that contains `timeMs`.
#[napi]
pub fn interval_open_time(interval: String, time_ms: i64) -> Result<i64> {
    Ok(parse_interval(&interval)?.open_time(time_ms))
}
