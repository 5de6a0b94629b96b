//! Property: whatever records arrive — adversarial values included — the hub's merge never reaches a
//! state the frame codec cannot encode, a refused record never changes the book, and a trader fed
//! the hub's frames holds exactly the hub's state (issue 10).
//!
//! Records are drawn with 1e-18 prices, 30-digit mantissas, scales up to 30, timestamps in µs and
//! ns, far-future and far-past times, and symbol ids beyond the registry. Each is merged the way
//! a collector inside the hub's process does (no frame, so values no frame could carry reach the
//! merge too) or, when it encodes, through an Ingest frame. After every record: the hub's topic
//! frames encode and apply on a trader; at the end a fresh trader rebuilt from the snapshot
//! chunks equals the hub too.

use proptest::prelude::*;
use tributary_core::account::{Balance, Position, PositionSide};
use tributary_core::delta::{BanList, Delta, Provenance, SourceId};
use tributary_core::frame::{Chunk, FrameEncoder, FrameHeader, FrameKind};
use tributary_core::hub_book::{HubBook, HubBookConfig, Turn};
use tributary_core::ingest::IngestBatch;
use tributary_core::interval::Interval;
use tributary_core::topic::TopicFilter;
use tributary_core::trader_book::{ApplyOutcome, TraderBook};
use tributary_core::{Decimal, Kline, Name, SymbolId, Tick};

/// 2026-01-01T00:00:00Z, a minute boundary: the hub's clock.
const NOW: i64 = 1_767_225_600_000;
const MIN: i64 = 60_000;
const REGISTERED: u32 = 4;
const STREAM: u32 = 2;

/// Decimals from ordinary prices to values no i64 mantissa holds at a shared scale.
fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        // Ordinary prices and sizes.
        4 => (1i128..100_000_000, 0u8..=8).prop_map(|(m, s)| Decimal::new(m, s).unwrap()),
        // 1e-18 and other tiny values.
        2 => (1i128..10, 12u8..=30).prop_map(|(m, s)| Decimal::new(m, s).unwrap()),
        // 30-digit mantissas.
        2 => (10i128.pow(28)..10i128.pow(29), 0u8..=30).prop_map(|(m, s)| Decimal::new(m, s).unwrap()),
        // Around the i64 limit.
        1 => (i128::from(i64::MAX) - 5..i128::from(i64::MAX) + 5, 0u8..=4).prop_map(|(m, s)| Decimal::new(m, s).unwrap()),
        1 => Just(Decimal::ZERO),
    ]
}

/// Times near the hub's clock, and the mistakes that freeze values: µs, ns, seconds, extremes.
fn time() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => (-10 * MIN..MIN).prop_map(|d| NOW + d),
        1 => (0i64..1_000).prop_map(|d| NOW * 1_000 + d),
        1 => Just(NOW * 1_000_000),
        1 => Just(NOW / 1_000),
        1 => prop_oneof![Just(0), Just(1), Just(i64::MIN), Just(i64::MAX), Just(NOW + 3_600_000)],
    ]
}

fn symbol() -> impl Strategy<Value = SymbolId> {
    prop_oneof![
        8 => (0..REGISTERED).prop_map(SymbolId),
        1 => Just(SymbolId(REGISTERED)),
        1 => prop_oneof![Just(SymbolId(65_535)), Just(SymbolId(u32::MAX))],
    ]
}

fn kline() -> impl Strategy<Value = (SymbolId, Kline)> {
    (
        symbol(),
        -3i64..=0,
        [decimal(), decimal(), decimal(), decimal()],
        (decimal(), 0u64..50, any::<bool>(), time()),
    )
        .prop_map(|(symbol, minute, prices, (volume, trades, closed, as_of))| {
            // Sorted prices make most bars valid (low ≤ open, close ≤ high), so they reach the
            // merge; the validator still refuses the rest.
            let mut p = prices;
            p.sort();
            let open_time = Interval::M1.open_time(NOW) + minute * MIN;
            (
                symbol,
                Kline {
                    open_time,
                    close_time: open_time + MIN - 1,
                    open: p[1],
                    high: p[3],
                    low: p[0],
                    close: p[2],
                    volume,
                    quote_volume: volume,
                    trades,
                    taker_buy_volume: Decimal::ZERO,
                    taker_buy_quote_volume: Decimal::ZERO,
                    first_trade_id: None,
                    last_trade_id: None,
                    closed,
                    as_of: if as_of > NOW * 100 {
                        as_of
                    } else {
                        as_of.clamp(open_time, open_time + MIN - 1)
                    },
                },
            )
        })
}

fn record() -> impl Strategy<Value = Delta> {
    prop_oneof![
        4 => kline().prop_map(|(symbol, kline)| Delta::Kline { symbol, interval: Interval::M1, kline }),
        3 => (symbol(), decimal(), decimal(), proptest::option::of(decimal()), time()).prop_map(
            |(symbol, bid, ask, last, time)| {
                let (bid, ask) = if bid <= ask { (bid, ask) } else { (ask, bid) };
                Delta::Tick {
                    symbol,
                    tick: Tick { bid, bid_qty: Decimal::from_int(1), ask, ask_qty: Decimal::from_int(2), last, time, update_id: None },
                }
            }
        ),
        2 => (symbol(), decimal(), proptest::option::of(decimal()), proptest::option::of(decimal()), time()).prop_map(
            |(symbol, amount, entry, mark, update_time)| Delta::Position {
                symbol,
                position: Position {
                    side: PositionSide::Both,
                    amount,
                    entry_price: entry,
                    break_even_price: None,
                    unrealized_pnl: None,
                    mark_price: mark,
                    isolated_wallet: None,
                    update_time,
                },
            }
        ),
        2 => (decimal(), proptest::option::of(decimal()), time()).prop_map(|(wallet, available, update_time)| {
            Delta::Balance {
                balance: Balance {
                    asset: Name::new("USDT").unwrap(),
                    wallet_balance: wallet,
                    cross_wallet_balance: None,
                    available_balance: available,
                    unrealized_pnl: None,
                    update_time,
                },
            }
        }),
        1 => proptest::collection::vec(symbol(), 0..3).prop_map(|ids| Delta::BanList(BanList::new(false, ids))),
    ]
}

/// `record` as an Ingest frame, when its values can travel in one.
fn as_frame(record: &Delta) -> Option<Vec<u8>> {
    let mut batch = IngestBatch::new();
    match record {
        Delta::Kline {
            symbol,
            interval,
            kline,
        } => batch.push_klines(*symbol, *interval, &[*kline]),
        Delta::Tick { symbol, tick } => batch.push_tick(*symbol, *tick),
        Delta::Position { symbol, position } => batch.push_position(*symbol, *position),
        Delta::Balance { balance } => batch.push_balance(*balance),
        Delta::BanList(list) => batch.set_ban_list(list.clone()),
        Delta::Mark { symbol, mark } => batch.push_mark(*symbol, *mark),
        Delta::PositionsComplete { as_of } => batch.mark_positions_complete(*as_of),
    }
    let header = FrameHeader {
        kind: FrameKind::Ingest,
        stream: 0,
        seq: 1,
        source: SourceId(9),
        received_at: 0,
        chunk: Chunk::WHOLE,
        turn: 0,
    };
    batch.encode(&mut FrameEncoder::new(), &header).ok().map(<[u8]>::to_vec)
}

fn new_hub() -> HubBook {
    let mut hub = HubBook::new(HubBookConfig {
        snapshot_chunk_bytes: 8 << 10,
        ..HubBookConfig::default()
    })
    .unwrap();
    hub.add_symbols((0..REGISTERED).map(|s| Name::new(&format!("S{s}USDT")).unwrap()));
    hub.add_topic(STREAM, TopicFilter::all()).unwrap();
    hub
}

fn snapshot_chunks(hub: &mut HubBook) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    hub.topic_snapshot_chunks(STREAM, NOW, |_, bytes| chunks.push(bytes.to_vec()))
        .expect("every state the hub reaches encodes");
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_merge_never_reaches_a_state_the_codec_cannot_encode(
        steps in proptest::collection::vec((record(), any::<bool>()), 1..40),
    ) {
        let mut hub = new_hub();
        let mut trader = TraderBook::new();
        for chunk in snapshot_chunks(&mut hub) {
            trader.apply_bytes(&chunk).unwrap();
        }
        for (step, (record, through_frame)) in steps.iter().enumerate() {
            let before = hub.book().snapshot();
            let now = NOW + step as i64;
            let from = Provenance { source: SourceId(1), received_at: now };
            let (report, turn) = match as_frame(record).filter(|_| *through_frame) {
                Some(frame) => {
                    let Turn { ingest, frames, encode_failures, .. } =
                        hub.ingest_turn([(frame.as_slice(), SourceId(1))], now);
                    (ingest, (frames, encode_failures))
                }
                None => {
                    let report = hub.merge_records(std::slice::from_ref(record), from);
                    let Turn { frames, encode_failures, .. } = hub.take_topic_frames(now);
                    (report, (frames, encode_failures))
                }
            };
            prop_assert!(report.failures.is_empty(), "{:?}", report.failures);
            prop_assert_eq!(report.records(), 1);
            if !report.refused.is_empty() {
                prop_assert_eq!(hub.book().snapshot(), before, "refused {:?} changed the book", report.refused);
            }
            let (frames, encode_failures) = turn;
            prop_assert!(encode_failures.is_empty(), "{:?} after {:?}", encode_failures, record);
            for frame in &frames {
                let outcome = trader.apply_bytes(&frame.bytes).unwrap();
                prop_assert!(matches!(outcome, ApplyOutcome::Applied { .. }), "{:?}", outcome);
            }
            prop_assert_eq!(trader.snapshot(), hub.book().snapshot());
        }
        // A subscriber arriving now rebuilds the same state from the snapshot chunks.
        let mut fresh = TraderBook::new();
        for chunk in snapshot_chunks(&mut hub) {
            fresh.apply_bytes(&chunk).unwrap();
        }
        prop_assert_eq!(fresh.snapshot(), hub.book().snapshot());
        // Nothing the book holds has a time the admission window would refuse.
        let snapshot = hub.book().snapshot();
        let horizon = NOW + steps.len() as i64 + 30_000;
        prop_assert!(snapshot.ticks.iter().all(|(_, t)| t.time <= horizon));
        prop_assert!(snapshot.positions.iter().all(|(_, p)| p.update_time <= horizon));
        prop_assert!(snapshot.balances.iter().all(|b| b.update_time <= horizon));
        prop_assert!(snapshot.klines.iter().all(|w| w.symbol.0 < REGISTERED));
    }
}
