//! A hub at the universe's size and the traders that follow its streams, for the wire tests.

use tributary_core::delta::{Delta, Provenance, SourceId};
use tributary_core::hub_book::{HubBook, HubBookConfig, Turn};
use tributary_core::trader_book::{ApplyOutcome, TraderBook};
use tributary_core::Name;

/// 2026-03-18T09:30:00Z, the start of the simulated clock.
pub const T0: i64 = 1_773_826_200_000;
/// Symbols registered, as many as the USD-M universe has.
pub const SYMBOLS: u32 = 600;

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A hub with [`SYMBOLS`] symbols registered (`SYM0USDT`, `SYM1USDT`, …).
pub fn hub() -> HubBook {
    let mut hub = HubBook::new(HubBookConfig::default()).unwrap();
    hub.add_symbols((0..SYMBOLS).map(|s| Name::new(&format!("SYM{s}USDT")).unwrap()));
    hub
}

/// Merges `records` as collector 1's at `now`; none may be refused.
pub fn merge(hub: &mut HubBook, records: &[Delta], now: i64) {
    let report = hub.merge_records(
        records,
        Provenance {
            source: SourceId(1),
            received_at: now,
        },
    );
    assert!(report.refused.is_empty(), "{:?}", report.refused.first());
}

/// A trader that subscribed to `stream` now: the stream's snapshot chunks applied.
pub fn subscribe(hub: &mut HubBook, stream: u32) -> TraderBook {
    let mut trader = TraderBook::new();
    snapshot_into(hub, stream, &mut trader);
    trader
}

/// Applies `stream`'s snapshot chunks to `trader`, which is then in sync with it.
pub fn snapshot_into(hub: &mut HubBook, stream: u32, trader: &mut TraderBook) {
    let mut chunks = Vec::new();
    hub.topic_snapshot_chunks(stream, T0, |_, bytes| chunks.push(bytes.to_vec()))
        .unwrap();
    for chunk in chunks {
        trader.apply_bytes(&chunk).unwrap();
    }
    assert!(!trader.is_stale(stream));
}

/// The frame a turn published on `stream`, if any.
pub fn frame_of(turn: &Turn, stream: u32) -> Option<&[u8]> {
    turn.frames
        .iter()
        .find(|f| f.stream == stream)
        .map(|f| f.bytes.as_slice())
}

/// Applies one Delta frame, which must apply.
pub fn apply(trader: &mut TraderBook, bytes: &[u8]) -> ApplyOutcome {
    let outcome = trader.apply_bytes(bytes).unwrap();
    assert!(matches!(outcome, ApplyOutcome::Applied { .. }), "{outcome:?}");
    outcome
}
