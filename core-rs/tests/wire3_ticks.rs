//! Wire-3 Delta frames (compact tick rows) end to end at the universe's size: one hub publishing
//! the same turns to wire-1, wire-2 and wire-3 streams, a trader following each, and the ticks,
//! klines and other entities every trader ends with compared field by field.

mod common;

use common::hub_turns::{apply, frame_of, hub, merge, subscribe, Rng, SYMBOLS, T0};
use tributary_core::delta::Delta;
use tributary_core::frame::compact::COMPACT_TICKS_MARKER;
use tributary_core::frame::{decode_frame, FrameEncoder, FramePayload, WireVersion};
use tributary_core::topic::{kinds, TopicFilter};
use tributary_core::trader_book::TraderBook;
use tributary_core::{Balance, Decimal, Interval, Kline, Name, SymbolId, Tick};

const V1: u32 = 10;
const V2: u32 = 20;
const V3: u32 = 30;
/// Wire 3, the quotes of the first 50 symbols only.
const V3_SOME: u32 = 40;

fn decimal(mantissa: i128, scale: u8) -> Decimal {
    Decimal::new(mantissa, scale).unwrap()
}

/// A quote of `symbol` as bookTicker, REST or an aggTrade would give it: prices of every size
/// and scale, with or without a last price and an update id, now and then an empty book.
fn tick(rng: &mut Rng, symbol: u32, now: i64) -> Tick {
    let scale = (symbol % 9) as u8;
    let bid = 1 + i128::from(rng.below(1 << (10 + symbol % 40)));
    let ask = bid + i128::from(rng.below(50));
    let quantity = |rng: &mut Rng| decimal(i128::from(rng.below(1 << 30)), (symbol % 4) as u8);
    if rng.below(50) == 0 {
        return Tick::traded(decimal(bid, scale), now - 1);
    }
    Tick {
        bid: decimal(bid, scale),
        bid_qty: quantity(rng),
        ask: decimal(ask, scale),
        ask_qty: quantity(rng),
        last: (rng.below(3) == 0).then(|| decimal(bid + 1, scale)),
        time: now - i64::try_from(rng.below(30)).unwrap(),
        update_id: (rng.below(10) != 0).then(|| rng.next() >> 12),
    }
}

fn kline(rng: &mut Rng, symbol: u32, now: i64) -> Kline {
    let open_time = now - now % 60_000;
    let price = decimal(50_000 + i128::from(symbol), 1);
    Kline {
        open_time,
        close_time: open_time + 59_999,
        open: price,
        high: price,
        low: price,
        close: price,
        volume: decimal(i128::from(rng.below(1 << 20)), 3),
        quote_volume: decimal(i128::from(rng.below(1 << 30)), 4),
        trades: 1 + rng.below(1_000),
        taker_buy_volume: decimal(0, 3),
        taker_buy_quote_volume: decimal(0, 4),
        first_trade_id: Some(1),
        last_trade_id: None,
        closed: false,
        as_of: now,
    }
}

/// A book's ticks, klines and balances, each decimal with its mantissa and scale (`==` on
/// `Decimal` compares values only).
fn exact(book: &TraderBook) -> String {
    let snapshot = book.snapshot();
    format!("{:?}\n{:?}\n{:?}", snapshot.ticks, snapshot.klines, snapshot.balances)
}

#[test]
fn wire_3_traders_hold_exactly_what_wire_1_and_wire_2_traders_hold_in_fewer_bytes() {
    let mut hub = hub();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut now = T0;
    let mut records = Vec::new();
    for symbol in 0..SYMBOLS {
        records.push(Delta::Tick {
            symbol: SymbolId(symbol),
            tick: tick(&mut rng, symbol, now),
        });
    }
    merge(&mut hub, &records, now);
    hub.take_topic_frames(now);
    hub.add_topic(V1, TopicFilter::all()).unwrap();
    hub.add_topic_with_wire(V2, TopicFilter::all(), WireVersion::V2)
        .unwrap();
    hub.add_topic_with_wire(V3, TopicFilter::all(), WireVersion::V3)
        .unwrap();
    let some: Vec<SymbolId> = (0..50).map(SymbolId).collect();
    let ticks_only = TopicFilter::new(Some(some), kinds::TICK, None);
    hub.add_topic_with_wire(V3_SOME, ticks_only.clone(), WireVersion::V3)
        .unwrap();
    let mut traders: Vec<(u32, TraderBook, usize)> = [V1, V2, V3, V3_SOME]
        .into_iter()
        .map(|stream| (stream, subscribe(&mut hub, stream), 0))
        .collect();
    let mut tick_updates = 0;
    // 1 update a turn, then 26, as stage 4's two rates; klines and a balance among them.
    for (turns, per_turn) in [(2_000, 1), (400, 26)] {
        for _ in 0..turns {
            now += 50;
            records.clear();
            for _ in 0..per_turn {
                let symbol = rng.below(u64::from(SYMBOLS)) as u32;
                if rng.below(2) == 0 {
                    records.push(Delta::Tick {
                        symbol: SymbolId(symbol),
                        tick: tick(&mut rng, symbol, now),
                    });
                    tick_updates += 1;
                } else {
                    records.push(Delta::Kline {
                        symbol: SymbolId(symbol),
                        interval: Interval::M1,
                        kline: kline(&mut rng, symbol, now),
                    });
                }
            }
            if rng.below(40) == 0 {
                records.push(Delta::Balance {
                    balance: Balance {
                        asset: Name::new("USDT").unwrap(),
                        wallet_balance: decimal(i128::from(rng.below(1 << 40)), 8),
                        cross_wallet_balance: None,
                        available_balance: None,
                        unrealized_pnl: None,
                        update_time: now - 5,
                    },
                });
            }
            merge(&mut hub, &records, now);
            let turn = hub.take_topic_frames(now);
            assert!(turn.encode_failures.is_empty());
            for (stream, trader, bytes) in &mut traders {
                if let Some(frame) = frame_of(&turn, *stream) {
                    *bytes += frame.len();
                    apply(trader, frame);
                }
            }
        }
    }
    let [(_, v1, v1_bytes), (_, v2, v2_bytes), (_, v3, v3_bytes), (_, v3_some, _)] = &traders[..] else {
        unreachable!()
    };
    assert_eq!(v3.snapshot(), hub.book().snapshot());
    assert_eq!(exact(v3), exact(v1));
    assert_eq!(exact(v3), exact(v2));
    assert_eq!(v3.stats().base_mismatches, 0);
    assert_eq!(
        v3_some.snapshot().ticks,
        hub.book().snapshot_matching(&ticks_only).ticks
    );
    assert_eq!(subscribe(&mut hub, V3).snapshot(), hub.book().snapshot());
    eprintln!("{tick_updates} tick updates: wire 1 {v1_bytes} B, wire 2 {v2_bytes} B, wire 3 {v3_bytes} B");
    assert!(v3_bytes < v2_bytes, "wire 3 {v3_bytes} B, wire 2 {v2_bytes} B");
}

#[test]
fn a_wire_3_frame_reencodes_to_its_own_bytes_and_refuses_ticks_in_its_tail() {
    let mut hub = hub();
    hub.add_topic_with_wire(V3, TopicFilter::all(), WireVersion::V3)
        .unwrap();
    let mut rng = Rng(7);
    let now = T0 + 1_000;
    let records: Vec<Delta> = (0..40)
        .map(|symbol| Delta::Tick {
            symbol: SymbolId(symbol),
            tick: tick(&mut rng, symbol, now),
        })
        .chain([Delta::Balance {
            balance: Balance {
                asset: Name::new("USDT").unwrap(),
                wallet_balance: decimal(12_345, 2),
                cross_wallet_balance: None,
                available_balance: None,
                unrealized_pnl: None,
                update_time: now,
            },
        }])
        .collect();
    merge(&mut hub, &records, now);
    let turn = hub.take_topic_frames(now);
    let bytes = frame_of(&turn, V3).unwrap().to_vec();
    assert_eq!(bytes[0], COMPACT_TICKS_MARKER);
    let frame = decode_frame(&bytes).unwrap();
    let FramePayload::Compact(compact) = &frame.payload else {
        panic!("a compact frame expected");
    };
    assert!(compact.tick_rows);
    assert_eq!(compact.ticks.len(), 40);
    // The balance rides in the tail; the ticks do not.
    assert_eq!(compact.tail.len(), 1);
    assert_eq!(FrameEncoder::new().encode(&frame).unwrap(), &bytes[..]);

    // The same frame with one tick moved into its tail is refused whole.
    let mut moved = frame.clone();
    let FramePayload::Compact(compact) = &mut moved.payload else {
        unreachable!()
    };
    let (symbol, tick) = compact.ticks.pop().unwrap();
    compact.tail.push(Delta::Tick { symbol, tick });
    let bad = FrameEncoder::new().encode(&moved).unwrap().to_vec();
    let error = decode_frame(&bad).unwrap_err();
    assert_eq!(error.reason(), "malformed", "{error}");
}
