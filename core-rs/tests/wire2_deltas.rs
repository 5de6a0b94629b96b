//! Wire-2 (compact) Delta frames end to end at the universe's size: a hub publishing to wire-1
//! and wire-2 streams, traders following each, and the cases where a base is missing (a lost
//! version, a snapshot taken while deltas wait, overlapping streams, a short window); mutated
//! wire-2 and wire-3 frames fed to a following trader.

mod common;

use common::hub_turns::{apply, frame_of, hub, merge, snapshot_into, subscribe, Rng, SYMBOLS, T0};
use tributary_core::book_changes::Change;
use tributary_core::delta::Delta;
use tributary_core::frame::compact::{CompactDelta, COMPACT_MARKER, COMPACT_TICKS_MARKER};
use tributary_core::frame::{decode_frame, FrameEncoder, FramePayload, WireVersion};
use tributary_core::topic::{kinds, TopicFilter};
use tributary_core::trader_book::{ApplyOutcome, KlineColumn, TraderBook};
use tributary_core::{Balance, Decimal, Interval, Kline, Name, SymbolId, Tick};

const INTERVALS: [Interval; 2] = [Interval::M1, Interval::M15];
const V1: u32 = 10;
const V2: u32 = 20;
/// Wire 2, the first 100 symbols' 1m klines only.
const V2_SOME: u32 = 30;

/// The open bar of one series as an exchange would report it, changed a little at a time.
#[derive(Clone, Copy)]
struct OpenBar {
    kline: Kline,
    /// Price mantissa and its scale (symbols differ: 0.0001234 to 98765.4).
    price: i128,
    scale: u8,
}

struct Market {
    rng: Rng,
    bars: Vec<Option<OpenBar>>,
    now: i64,
    next_trade_id: u64,
}

impl Market {
    fn new() -> Market {
        Market {
            rng: Rng(0x9e37_79b9_7f4a_7c15),
            bars: vec![None; SYMBOLS as usize * INTERVALS.len()],
            now: T0,
            next_trade_id: 1_000_000_000,
        }
    }

    /// The next update of a random series.
    fn update(&mut self, records: &mut Vec<Delta>) {
        let slot = self.rng.below(self.bars.len() as u64) as usize;
        self.update_slot(slot, records);
    }

    /// A new trade or two in the open bar of series `slot` (the bar before it closed first
    /// when the clock crossed its end).
    fn update_slot(&mut self, slot: usize, records: &mut Vec<Delta>) {
        let symbol = (slot / INTERVALS.len()) as u32;
        let interval = INTERVALS[slot % INTERVALS.len()];
        let open_time = interval.open_time(self.now);
        let scale = (symbol % 8) as u8;
        let mut bar = match self.bars[slot] {
            Some(bar) if bar.kline.open_time == open_time => bar,
            previous => {
                if let Some(mut old) = previous {
                    old.kline.closed = true;
                    records.push(Delta::Kline {
                        symbol: SymbolId(symbol),
                        interval,
                        kline: old.kline,
                    });
                }
                let price = previous.map_or(1_000 + i128::from(symbol) * 37, |p| p.price);
                let p = Decimal::new(price, scale).unwrap();
                OpenBar {
                    kline: Kline {
                        open_time,
                        close_time: interval.close_time(open_time),
                        open: p,
                        high: p,
                        low: p,
                        close: p,
                        volume: Decimal::ZERO,
                        quote_volume: Decimal::ZERO,
                        trades: 0,
                        taker_buy_volume: Decimal::ZERO,
                        taker_buy_quote_volume: Decimal::ZERO,
                        first_trade_id: Some(self.next_trade_id),
                        last_trade_id: None,
                        closed: false,
                        as_of: self.now,
                    },
                    price,
                    scale,
                }
            }
        };
        bar.price = (bar.price + self.rng.below(9) as i128 - 4).max(1);
        let trades = 1 + self.rng.below(3);
        let qty = Decimal::new(1 + self.rng.below(500) as i128, 3).unwrap();
        // Now and then a price with one more decimal than the symbol's usual: the group's scale
        // changes for a row (and back).
        let close = if self.rng.below(50) == 0 {
            Decimal::new(bar.price * 10 + 5, bar.scale + 1).unwrap()
        } else {
            Decimal::new(bar.price, bar.scale).unwrap()
        };
        let k = &mut bar.kline;
        k.close = close;
        k.high = k.high.max(close);
        k.low = k.low.min(close);
        k.trades += trades;
        self.next_trade_id += trades;
        k.last_trade_id = Some(self.next_trade_id - 1);
        let quote = qty.checked_mul(&close).unwrap();
        k.volume = k.volume.checked_add(&qty).unwrap();
        k.quote_volume = k.quote_volume.checked_add(&quote).unwrap();
        if self.rng.below(2) == 0 {
            k.taker_buy_volume = k.taker_buy_volume.checked_add(&qty).unwrap();
            k.taker_buy_quote_volume = k.taker_buy_quote_volume.checked_add(&quote).unwrap();
        }
        k.as_of = self.now - self.rng.below(40) as i64;
        self.bars[slot] = Some(bar);
        records.push(Delta::Kline {
            symbol: SymbolId(symbol),
            interval,
            kline: bar.kline,
        });
    }

    /// A tick and a balance now and then, so frames carry a tail.
    fn other(&mut self, records: &mut Vec<Delta>) {
        let symbol = self.rng.below(u64::from(SYMBOLS)) as u32;
        let p = Decimal::new(1_000 + i128::from(self.rng.below(100)), 1).unwrap();
        records.push(Delta::Tick {
            symbol: SymbolId(symbol),
            tick: Tick {
                bid: p,
                bid_qty: Decimal::from_int(2),
                ask: p,
                ask_qty: Decimal::from_int(3),
                last: None,
                time: self.now - 3,
                update_id: Some(self.rng.next() >> 20),
            },
        });
        if self.rng.below(20) == 0 {
            records.push(Delta::Balance {
                balance: Balance {
                    asset: Name::new("USDT").unwrap(),
                    wallet_balance: Decimal::new(i128::from(self.rng.below(1 << 40)), 8).unwrap(),
                    cross_wallet_balance: None,
                    available_balance: None,
                    unrealized_pnl: None,
                    update_time: self.now - 5,
                },
            });
        }
    }
}

/// The klines of two books, field by field with each decimal's mantissa and scale (`==` on
/// `Decimal` compares values only).
fn exact_klines(book: &TraderBook) -> Vec<String> {
    let mut out: Vec<String> = book
        .all_kline_series()
        .map(|(s, i, series)| format!("{s:?} {i:?} {:?}", series.klines()))
        .collect();
    out.sort();
    out
}

#[test]
fn wire_2_traders_hold_exactly_what_wire_1_traders_hold_in_far_fewer_bytes() {
    let mut hub = hub();
    let mut market = Market::new();
    // Some history before anyone subscribes.
    let mut records = Vec::new();
    for _ in 0..3_000 {
        market.update(&mut records);
    }
    merge(&mut hub, &records, market.now);
    hub.take_topic_frames(market.now);
    hub.add_topic(V1, TopicFilter::all()).unwrap();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    let some: Vec<SymbolId> = (0..100).map(SymbolId).collect();
    let filter = TopicFilter::new(Some(some), kinds::KLINE, Some(&[Interval::M1]));
    hub.add_topic_with_wire(V2_SOME, filter.clone(), WireVersion::V2)
        .unwrap();
    let mut v1 = subscribe(&mut hub, V1);
    let mut v2 = subscribe(&mut hub, V2);
    let mut v2_some = subscribe(&mut hub, V2_SOME);
    let (mut v1_bytes, mut v2_bytes, mut kline_updates) = (0, 0, 0);
    // 1 update a turn, then 26 (the two rates), over 20 minutes of the clock so bars
    // close and open.
    for (turns, per_turn) in [(3_000, 1), (600, 26)] {
        for _ in 0..turns {
            market.now += 200;
            records.clear();
            for _ in 0..per_turn {
                market.update(&mut records);
            }
            if market.rng.below(10) == 0 {
                market.other(&mut records);
            }
            kline_updates += records.iter().filter(|d| matches!(d, Delta::Kline { .. })).count();
            merge(&mut hub, &records, market.now);
            let turn = hub.take_topic_frames(market.now);
            assert!(turn.encode_failures.is_empty());
            let (a, b) = (frame_of(&turn, V1).unwrap(), frame_of(&turn, V2).unwrap());
            v1_bytes += a.len();
            v2_bytes += b.len();
            apply(&mut v1, a);
            apply(&mut v2, b);
            if let Some(bytes) = frame_of(&turn, V2_SOME) {
                apply(&mut v2_some, bytes);
            }
        }
    }
    assert_eq!(v2.snapshot(), hub.book().snapshot());
    assert_eq!(exact_klines(&v2), exact_klines(&v1));
    assert_eq!(v2.stats().base_mismatches, 0);
    assert_eq!(v2_some.snapshot().klines, hub.book().snapshot_matching(&filter).klines);
    // A subscriber arriving now syncs too.
    assert_eq!(subscribe(&mut hub, V2).snapshot(), hub.book().snapshot());
    eprintln!(
        "{kline_updates} kline updates: wire 1 {v1_bytes} B, wire 2 {v2_bytes} B ({:.1} B an update)",
        v2_bytes as f64 / kline_updates as f64
    );
    assert!(v2_bytes * 3 < v1_bytes, "wire 2 {v2_bytes} B, wire 1 {v1_bytes} B");
    // Only the newest bars of each series keep a base.
    assert!(hub.kline_bases() <= SYMBOLS as usize * INTERVALS.len() * 4);
}

/// The compact frame of `bytes` with its seq and turn step replaced (a hub that lost a frame
/// without leaving a seq gap: what the per-row base check guards against).
fn renumbered(bytes: &[u8], seq: u64, turn_step: u64) -> Vec<u8> {
    let mut frame = decode_frame(bytes).unwrap();
    frame.header.seq = seq;
    let FramePayload::Compact(CompactDelta { turn_step: step, .. }) = &mut frame.payload else {
        panic!("a compact frame expected");
    };
    *step = turn_step;
    FrameEncoder::new().encode(&frame).unwrap().to_vec()
}

#[test]
fn a_row_whose_base_the_trader_missed_is_refused_and_a_snapshot_repairs_the_stream() {
    let mut hub = hub();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    let mut market = Market::new();
    let mut trader = subscribe(&mut hub, V2);
    let mut frames = Vec::new();
    let mut records = Vec::new();
    // The same series changes in every turn (symbol 7, 1m), with a tick in the second.
    for i in 0..3 {
        market.now += 100;
        records.clear();
        market.update_slot(7 * INTERVALS.len(), &mut records);
        if i == 1 {
            market.other(&mut records);
        }
        merge(&mut hub, &records, market.now);
        let turn = hub.take_topic_frames(market.now);
        frames.push(frame_of(&turn, V2).unwrap().to_vec());
    }
    let steps: Vec<u64> = frames
        .iter()
        .map(|f| match decode_frame(f).unwrap().payload {
            FramePayload::Compact(c) => c.turn_step,
            _ => panic!("compact expected"),
        })
        .collect();
    apply(&mut trader, &frames[0]);
    // Frame 2 lost, frame 3 renumbered as if it were the next: its row's base is the version
    // of frame 2, which the trader never saw.
    let forged = renumbered(&frames[2], 2, steps[1] + steps[2]);
    let outcome = trader.apply_bytes(&forged).unwrap();
    assert!(
        matches!(
            outcome,
            ApplyOutcome::BaseMismatch {
                stream: V2,
                seq: 2,
                rows: 1
            }
        ),
        "{outcome:?}"
    );
    assert!(outcome.needs_snapshot());
    assert!(trader.is_stale(V2));
    assert_eq!(trader.stats().base_mismatches, 1);
    // The stale stream ignores what follows until its snapshot.
    assert_eq!(
        trader.apply_bytes(&frames[2]).unwrap(),
        ApplyOutcome::IgnoredStale { stream: V2, seq: 3 }
    );
    snapshot_into(&mut hub, V2, &mut trader);
    assert_eq!(trader.snapshot(), hub.book().snapshot());
    // And it follows the next turns again.
    records.clear();
    market.now += 100;
    for _ in 0..50 {
        market.update(&mut records);
    }
    merge(&mut hub, &records, market.now);
    let turn = hub.take_topic_frames(market.now);
    apply(&mut trader, frame_of(&turn, V2).unwrap());
    assert_eq!(trader.snapshot(), hub.book().snapshot());
}

#[test]
fn a_snapshot_taken_while_deltas_wait_is_followed_by_whole_rows() {
    let mut hub = hub();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    let mut market = Market::new();
    let mut early = subscribe(&mut hub, V2);
    let mut records = Vec::new();
    for _ in 0..2_000 {
        market.update(&mut records);
    }
    merge(&mut hub, &records, market.now);
    apply(&mut early, frame_of(&hub.take_topic_frames(market.now), V2).unwrap());
    // The same bars change again; a trader subscribes before the turn goes out.
    market.now += 1_000;
    records.clear();
    for _ in 0..2_000 {
        market.update(&mut records);
    }
    merge(&mut hub, &records, market.now);
    let mut late = subscribe(&mut hub, V2);
    let turn = hub.take_topic_frames(market.now);
    let bytes = frame_of(&turn, V2).unwrap();
    apply(&mut early, bytes);
    apply(&mut late, bytes);
    assert_eq!(late.stats().base_mismatches, 0);
    assert_eq!(early.snapshot(), hub.book().snapshot());
    assert_eq!(late.snapshot(), hub.book().snapshot());
    assert_eq!(exact_klines(&late), exact_klines(&early));
}

#[test]
fn overlapping_wire_2_streams_share_one_book() {
    let mut hub = hub();
    let btc_only = TopicFilter::new(Some(vec![SymbolId(0), SymbolId(1)]), kinds::KLINE, None);
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    hub.add_topic_with_wire(V2_SOME, btc_only, WireVersion::V2).unwrap();
    let mut trader = subscribe(&mut hub, V2);
    snapshot_into(&mut hub, V2_SOME, &mut trader);
    let mut market = Market::new();
    let mut records = Vec::new();
    for _ in 0..400 {
        market.now += 150;
        records.clear();
        for _ in 0..30 {
            market.update(&mut records);
        }
        merge(&mut hub, &records, market.now);
        let turn = hub.take_topic_frames(market.now);
        // Both streams' frames of the turn, in the order the hub publishes them.
        for frame in &turn.frames {
            apply(&mut trader, &frame.bytes);
        }
    }
    assert!(trader.stats().rows_already_held > 0);
    assert_eq!(trader.stats().base_mismatches, 0);
    assert_eq!(trader.snapshot(), hub.book().snapshot());
}

#[test]
fn discarded_deltas_and_a_short_window_never_leave_a_wrong_base() {
    let mut hub = hub();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    let mut market = Market::new();
    let mut records = Vec::new();
    for _ in 0..500 {
        market.update(&mut records);
    }
    merge(&mut hub, &records, market.now);
    hub.take_topic_frames(market.now);
    // A change the topics never see: the hub drops it, and the next rows of those bars are whole.
    let mut trader = TraderBook::with_window(2);
    snapshot_into(&mut hub, V2, &mut trader);
    records.clear();
    market.now += 100;
    for _ in 0..500 {
        market.update(&mut records);
    }
    merge(&mut hub, &records, market.now);
    hub.discard_deltas();
    snapshot_into(&mut hub, V2, &mut trader);
    // Then 30 minutes of updates: 1m bars roll past the trader's two-bar window.
    for _ in 0..1_800 {
        market.now += 1_000;
        records.clear();
        for _ in 0..20 {
            market.update(&mut records);
        }
        merge(&mut hub, &records, market.now);
        let turn = hub.take_topic_frames(market.now);
        apply(&mut trader, frame_of(&turn, V2).unwrap());
    }
    assert_eq!(trader.stats().base_mismatches, 0);
    for (symbol, interval, series) in trader.all_kline_series() {
        let hub_bars = hub.book().klines(symbol, interval);
        assert_eq!(series.klines(), &hub_bars[hub_bars.len() - series.len()..]);
    }
}

#[test]
fn a_compact_frame_on_a_stream_without_a_turn_asks_for_a_snapshot() {
    let mut hub = hub();
    hub.add_topic(V1, TopicFilter::all()).unwrap();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    let mut market = Market::new();
    let mut records = Vec::new();
    market.update(&mut records);
    // A wire-1 snapshot (no turn) presented as the wire-2 stream's.
    let mut chunks = Vec::new();
    hub.topic_snapshot_chunks(V1, T0, |_, bytes| chunks.push(bytes.to_vec()))
        .unwrap();
    let mut frame = decode_frame(&chunks[0]).unwrap();
    frame.header.stream = V2;
    let mut trader = TraderBook::new();
    trader.apply_bytes(FrameEncoder::new().encode(&frame).unwrap()).unwrap();
    merge(&mut hub, &records, market.now);
    let turn = hub.take_topic_frames(market.now);
    let outcome = trader.apply_bytes(frame_of(&turn, V2).unwrap()).unwrap();
    assert!(matches!(outcome, ApplyOutcome::BaseMismatch { .. }), "{outcome:?}");
    assert!(outcome.needs_snapshot());
}

#[test]
fn mutated_compact_frames_are_typed_errors_or_apply_without_panicking() {
    follow_mutated_frames(WireVersion::V2);
}

/// Wire 3's tick rows too: every frame of the run carries a quote.
#[test]
fn mutated_wire_3_frames_are_typed_errors_or_apply_without_panicking() {
    follow_mutated_frames(WireVersion::V3);
}

/// 200 turns of a stream in `wire`, each frame mutated (a bit flipped, cut short, a byte
/// replaced, bytes appended) and fed to a trader that follows the stream, five times over.
fn follow_mutated_frames(wire: WireVersion) {
    let mut hub = hub();
    hub.add_topic_with_wire(V2, TopicFilter::all(), wire).unwrap();
    let mut start = Vec::new();
    hub.topic_snapshot_chunks(V2, T0, |_, bytes| start.push(bytes.to_vec()))
        .unwrap();
    let mut market = Market::new();
    let mut records = Vec::new();
    let mut frames = Vec::new();
    for _ in 0..200 {
        market.now += 250;
        records.clear();
        for _ in 0..(1 + market.rng.below(30)) {
            market.update(&mut records);
        }
        market.other(&mut records);
        merge(&mut hub, &records, market.now);
        frames.push(frame_of(&hub.take_topic_frames(market.now), V2).unwrap().to_vec());
    }
    let marker = if wire == WireVersion::V3 {
        COMPACT_TICKS_MARKER
    } else {
        COMPACT_MARKER
    };
    assert!(frames.iter().all(|frame| frame[0] == marker));
    // A book that followed the stream up to frame `k` (exclusive).
    let follower = |k: usize| {
        let mut trader = TraderBook::new();
        for bytes in start.iter().chain(&frames[..k]) {
            trader.apply_bytes(bytes).unwrap();
        }
        trader
    };
    let mut rng = Rng(77);
    let (mut decoded, mut applied) = (0, 0);
    for pass in 0..5 {
        let mut trader = follower(0);
        for (k, frame) in frames.iter().enumerate() {
            let mut bytes = frame.clone();
            match (rng.below(4), bytes.len() as u64) {
                (0, len) => {
                    let at = rng.below(len) as usize;
                    bytes[at] ^= 1 << rng.below(8);
                }
                (1, len) => bytes.truncate(rng.below(len) as usize),
                (2, len) => {
                    let at = 1 + rng.below(len - 1) as usize;
                    bytes[at] = rng.next() as u8;
                }
                _ => bytes.extend((0..1 + rng.below(16)).map(|_| rng.next() as u8)),
            }
            if let Ok(decoded_frame) = decode_frame(&bytes) {
                decoded += 1;
                // What decodes re-encodes to a frame that decodes the same.
                let again = FrameEncoder::new().encode(&decoded_frame).unwrap().to_vec();
                assert_eq!(decode_frame(&again).unwrap(), decoded_frame, "pass {pass} frame {k}");
            }
            // Fed in sequence, garbage is refused or applied, never a panic; the book then goes on.
            if matches!(trader.apply_bytes(&bytes), Ok(ApplyOutcome::Applied { .. })) {
                applied += 1;
            }
            let _ = trader.apply_bytes(frame);
            if trader.is_stale(V2) {
                trader = follower(k + 1);
            }
        }
    }
    assert!(decoded > 0 && applied > 0, "{decoded} decoded, {applied} applied");
}

/// The entities a frame of wire-1 deltas names, as a trader's changes name them.
fn changes_of(deltas: &[Delta]) -> Vec<Change> {
    deltas
        .iter()
        .filter_map(|delta| match delta {
            Delta::Kline {
                symbol,
                interval,
                kline,
            } => Some(Change::Kline {
                symbol: *symbol,
                interval: *interval,
                open_time: kline.open_time,
            }),
            Delta::Tick { symbol, .. } => Some(Change::Tick(*symbol)),
            Delta::Balance { balance } => Some(Change::Balance(balance.asset)),
            _ => None,
        })
        .collect()
}

/// Sorted by their debug form: a compact frame lists its rows before its tail.
fn sorted(changes: &[Change]) -> Vec<String> {
    let mut out: Vec<String> = changes.iter().map(|c| format!("{c:?}")).collect();
    out.sort();
    out
}

#[test]
fn wire_1_and_wire_2_traders_name_the_same_changes_each_turn_and_rows_lead_to_the_bars() {
    let mut hub = hub();
    let mut market = Market::new();
    hub.add_topic(V1, TopicFilter::all()).unwrap();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    let mut v1 = subscribe(&mut hub, V1);
    let mut v2 = subscribe(&mut hub, V2);
    let mut records = Vec::new();
    let mut named = 0;
    // Bars close and open over the run (the clock moves 20 minutes), so rows shift too.
    for (turns, per_turn) in [(2_000, 1), (400, 26), (40, 600)] {
        for _ in 0..turns {
            market.now += 200;
            records.clear();
            for _ in 0..per_turn {
                market.update(&mut records);
            }
            if market.rng.below(4) == 0 {
                market.other(&mut records);
            }
            merge(&mut hub, &records, market.now);
            let turn = hub.take_topic_frames(market.now);
            let (a, b) = (frame_of(&turn, V1).unwrap(), frame_of(&turn, V2).unwrap());
            let FramePayload::Deltas(deltas) = decode_frame(a).unwrap().payload else {
                panic!("a wire-1 topic publishes deltas");
            };
            apply(&mut v1, a);
            apply(&mut v2, b);
            let expected = changes_of(&deltas);
            assert_eq!(v1.changes().as_slice(), expected.as_slice());
            assert_eq!(sorted(v2.changes().as_slice()), sorted(&expected));
            assert!(!v2.changes().had_snapshot());
            named += expected.len();
            for (change, delta) in expected.iter().zip(&deltas) {
                let (
                    Change::Kline {
                        symbol,
                        interval,
                        open_time,
                    },
                    Delta::Kline { kline, .. },
                ) = (change, delta)
                else {
                    continue;
                };
                // The row leads to the bar, or the bar was shifted out by a newer one.
                let Some(row) = v2.kline_row(*symbol, *interval, *open_time) else {
                    assert!(v2.kline_series(*symbol, *interval).unwrap().len() == v2.window());
                    continue;
                };
                let series = v2.kline_series(*symbol, *interval).unwrap();
                assert_eq!(series.value(KlineColumn::OpenTime, row), Some(*open_time as f64));
                let trades = series.value(KlineColumn::Trades, row).unwrap();
                // A later delta of the turn may have written the bar again; never an older one.
                assert!(trades >= kline.trades as f64, "{trades} < {}", kline.trades);
            }
        }
    }
    assert_eq!(v2.snapshot(), hub.book().snapshot());
    assert!(named > 30_000, "{named} changes");
}
