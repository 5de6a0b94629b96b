//! The trader book's last changes as numbers JavaScript reads without a call: five a change in a live native Float64Array.
//!
//! Each apply writes what it changed here (the first [`CHANGE_CAPACITY`]; a larger batch, a big
//! snapshot, is read whole with `changes()`), so a trader learns which series and quotes a frame
//! touched without decoding the frame again or scanning its book.

use crate::counts::claim_export;
use napi::bindgen_prelude::Float64Array;
use napi::{Env, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tributary_core::book_changes::Change;
use tributary_core::trader_book::TraderBook as CoreTraderBook;

/// Numbers per change: kind code, id (symbol id, or the index among the apply's balance changes),
/// slot (interval code, position side code), the bar's open time, the bar's row now. NaN where
/// the kind has no such field, and as the row of a bar the series no longer holds.
pub const CHANGE_FIELDS: usize = 5;

/// Changes the live area holds: a turn of the whole USD-M universe at one row per series.
pub const CHANGE_CAPACITY: usize = 4096;

/// The five numbers of `change`; `balances` counts the balance changes before it.
fn fields(book: &CoreTraderBook, change: &Change, balances: &mut usize) -> [f64; CHANGE_FIELDS] {
    let code = f64::from(change.code());
    match *change {
        Change::Kline {
            symbol,
            interval,
            open_time,
        } => {
            let row = book
                .kline_row(symbol, interval, open_time)
                .map_or(f64::NAN, |row| row as f64);
            [
                code,
                f64::from(symbol.0),
                f64::from(interval.code()),
                open_time as f64,
                row,
            ]
        }
        Change::Tick(symbol) | Change::Mark(symbol) => [code, f64::from(symbol.0), f64::NAN, f64::NAN, f64::NAN],
        Change::Position { symbol, side } => [code, f64::from(symbol.0), f64::from(side as u8), f64::NAN, f64::NAN],
        Change::Balance(_) => {
            let index = *balances as f64;
            *balances += 1;
            [code, index, f64::NAN, f64::NAN, f64::NAN]
        }
        Change::BanList => [code, f64::NAN, f64::NAN, f64::NAN, f64::NAN],
    }
}

/// Every change of the book's last apply, [`CHANGE_FIELDS`] numbers each.
pub fn all_changes(book: &CoreTraderBook) -> Vec<f64> {
    let mut balances = 0;
    let changes = book.changes().as_slice();
    let mut values = Vec::with_capacity(changes.len() * CHANGE_FIELDS);
    for change in changes {
        values.extend(fields(book, change, &mut balances));
    }
    values
}

/// The assets of the last apply's balance changes, in order (a balance change's id indexes it).
pub fn changed_assets(book: &CoreTraderBook) -> Vec<String> {
    book.changes()
        .as_slice()
        .iter()
        .filter_map(|change| match change {
            Change::Balance(asset) => Some(asset.as_str().to_string()),
            _ => None,
        })
        .collect()
}

/// The live area: room for [`CHANGE_CAPACITY`] changes, exported once.
pub struct ChangeArea {
    values: Arc<[AtomicU64]>,
    exported: bool,
}

impl Default for ChangeArea {
    fn default() -> Self {
        ChangeArea {
            values: (0..CHANGE_CAPACITY * CHANGE_FIELDS)
                .map(|_| AtomicU64::new(f64::NAN.to_bits()))
                .collect(),
            exported: false,
        }
    }
}

impl ChangeArea {
    /// Writes the book's last changes (the first [`CHANGE_CAPACITY`]) and returns how many there are.
    pub fn write(&self, book: &CoreTraderBook) -> usize {
        let changes = book.changes().as_slice();
        let mut balances = 0;
        for (change, cells) in changes.iter().zip(self.values.chunks_exact(CHANGE_FIELDS)) {
            for (cell, value) in cells.iter().zip(fields(book, change, &mut balances)) {
                cell.store(value.to_bits(), Ordering::Relaxed);
            }
        }
        changes.len()
    }

    /// The area as a Float64Array over native memory that sees every later write; refuses a
    /// second export (keep the first array).
    pub fn export(&mut self, env: &Env) -> Result<Float64Array> {
        claim_export(env, &mut self.exported, "the change area was")?;
        let keep_alive = Arc::clone(&self.values);
        // AtomicU64 has the size and alignment of u64, and so of f64.
        let (data, len) = (keep_alive.as_ptr() as *mut f64, keep_alive.len());
        // SAFETY: the area is allocated once and never moves; `keep_alive` holds it until V8
        // finalizes the ArrayBuffer, and it is exported once. Native code writes it only inside a
        // call from JavaScript on this thread, so no JS access runs concurrently.
        Ok(unsafe { Float64Array::with_external_data(data, len, move |_, _| drop(keep_alive)) })
    }
}
