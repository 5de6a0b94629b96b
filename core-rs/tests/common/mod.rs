//! Shared by the integration tests: where the real exchange captures are (`../shared/data` beside
//! the repository, present in CI, absent in a bare clone), and a hub at the universe's size
//! ([`hub_turns`]).
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

pub mod hub_turns;

/// The capture of the USD-M combined stream (see shared/data/README.md).
pub const CAPTURE: &str = "usdm-ws-capture-2021-07-22.txt";

/// The shared data folder, or `None` after a visible SKIP line naming `test`.
pub fn shared_data_dir(test: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = [manifest.join("../../shared/data"), manifest.join("../shared/data")]
        .into_iter()
        .find(|dir| dir.is_dir());
    if found.is_none() {
        eprintln!("SKIP: {test}: shared/data not found next to the repository");
    }
    found
}

/// One file of the shared data folder, or `None` after a visible SKIP line naming `test`.
pub fn shared_data_file(test: &str, name: &str) -> Option<PathBuf> {
    let path = shared_data_dir(test)?.join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIP: {test}: shared/data/{name} not found");
        None
    }
}
