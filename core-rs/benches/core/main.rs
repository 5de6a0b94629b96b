//! Criterion microbenchmarks of the core's hot paths, one group per stage: parse, merge, frame, aggregate.
//!
//! `cargo bench -p tributary-core` runs them all (about two minutes on a 2-core machine); a filter
//! runs a subset: `cargo bench -p tributary-core -- merge/`. Inputs are the real capture's messages
//! when `shared/data` is beside the repository, deterministic synthetic payloads otherwise.

mod aggregate;
mod frame;
mod inputs;
mod merge;
mod parse;

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

/// Short runs: the operations take nanoseconds to microseconds, and the whole suite must stay quick.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = stages;
    config = config();
    targets = parse::bench, merge::bench, frame::bench, aggregate::bench
}
criterion_main!(stages);
