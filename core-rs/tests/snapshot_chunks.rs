//! The whole USD-M universe through one subscription: the hub's snapshot of 800 symbols × 15
//! intervals × 45 bars (about 65 MB, four times the frame limit) goes out in chunks, and a trader
//! that applies them holds exactly the hub's state (issue 10, defect 3).

use tributary_core::account::{Balance, Position, PositionSide};
use tributary_core::delta::{BanList, Delta, Provenance, SourceId};
use tributary_core::frame::{decode_frame, FrameError, FrameKind, DEFAULT_SNAPSHOT_CHUNK_BYTES, MAX_FRAME_BYTES};
use tributary_core::hub_book::{HubBook, HubBookConfig};
use tributary_core::interval::ALL as ALL_INTERVALS;
use tributary_core::topic::{TopicFilter, TopicSnapshotError};
use tributary_core::trader_book::{ApplyOutcome, TraderBook};
use tributary_core::{Decimal, Kline, Name, SymbolId, Tick};

/// 2026-03-18T09:30:00Z: the hub's clock.
const NOW: i64 = 1_773_826_200_000;
const SYMBOLS: u32 = 800;
const BARS: usize = 45;
const STREAM: u32 = 11;

fn price(symbol: u32, bar: usize, offset: i64) -> Decimal {
    // Prices of different magnitudes and scales, like the real universe (0.0001234 to 98765.4).
    let scale = (symbol % 8) as u8;
    let mantissa = 1_000 + i128::from(symbol) * 37 + (bar as i128) * 11 + i128::from(offset);
    Decimal::new(mantissa, scale).unwrap()
}

/// `BARS` consecutive bars of `interval` ending with the one open at `NOW`.
fn bars(symbol: u32, interval: tributary_core::Interval) -> Vec<Kline> {
    let mut opens = vec![interval.open_time(NOW)];
    while opens.len() < BARS {
        let last = *opens.last().unwrap();
        opens.push(interval.open_time(last - 1));
    }
    opens.reverse();
    opens
        .into_iter()
        .enumerate()
        .map(|(i, open_time)| {
            let open = price(symbol, i, 0);
            let high = price(symbol, i, 40);
            let low = price(symbol, i, -40);
            let close = price(symbol, i, 5);
            let closed = i + 1 < BARS;
            Kline {
                open_time,
                close_time: interval.close_time(open_time),
                open,
                high,
                low,
                close,
                volume: Decimal::new(12_345 + i as i128, 3).unwrap(),
                quote_volume: Decimal::new(9_876_543 + i as i128, 4).unwrap(),
                trades: 100 + i as u64,
                taker_buy_volume: Decimal::new(6_000, 3).unwrap(),
                taker_buy_quote_volume: Decimal::new(4_000_000, 4).unwrap(),
                first_trade_id: Some(1_000 * i as u64),
                last_trade_id: Some(1_000 * i as u64 + 99),
                closed,
                as_of: if closed { 0 } else { NOW - 500 },
            }
        })
        .collect()
}

fn universe_records() -> Vec<Delta> {
    let mut records = Vec::new();
    for s in 0..SYMBOLS {
        let symbol = SymbolId(s);
        for interval in ALL_INTERVALS {
            records.extend(bars(s, interval).into_iter().map(|kline| Delta::Kline {
                symbol,
                interval,
                kline,
            }));
        }
        records.push(Delta::Tick {
            symbol,
            tick: Tick {
                bid: price(s, 44, 4),
                bid_qty: Decimal::from_int(3),
                ask: price(s, 44, 6),
                ask_qty: Decimal::from_int(4),
                last: None,
                time: NOW - 100,
                update_id: Some(u64::from(s)),
            },
        });
        if s % 50 == 0 {
            records.push(Delta::Position {
                symbol,
                position: Position {
                    side: PositionSide::Long,
                    amount: Decimal::new(15, 1).unwrap(),
                    entry_price: Some(price(s, 0, 0)),
                    break_even_price: None,
                    unrealized_pnl: Some(Decimal::new(-1234, 2).unwrap()),
                    mark_price: Some(price(s, 44, 5)),
                    isolated_wallet: None,
                    update_time: NOW - 2_000,
                },
            });
        }
    }
    for asset in ["USDT", "BNB", "USDC"] {
        records.push(Delta::Balance {
            balance: Balance {
                asset: Name::new(asset).unwrap(),
                wallet_balance: Decimal::new(1_000_123_456, 6).unwrap(),
                cross_wallet_balance: None,
                available_balance: Some(Decimal::new(900, 0).unwrap()),
                unrealized_pnl: None,
                update_time: NOW - 3_000,
            },
        });
    }
    records.push(Delta::BanList(BanList::new(false, vec![SymbolId(3), SymbolId(799)])));
    records
}

#[test]
fn a_trader_rebuilds_the_whole_universe_from_snapshot_chunks() {
    let mut hub = HubBook::new(HubBookConfig::default()).unwrap();
    hub.add_symbols((0..SYMBOLS).map(|s| Name::new(&format!("SYM{s}USDT")).unwrap()));
    let records = universe_records();
    let report = hub.merge_records(
        &records,
        Provenance {
            source: SourceId(1),
            received_at: NOW,
        },
    );
    assert!(report.refused.is_empty(), "{:?}", report.refused.first());
    assert_eq!(report.changed, records.len());
    hub.discard_deltas();
    hub.add_topic(STREAM, TopicFilter::all()).unwrap();

    // In one frame it cannot travel.
    let whole = hub.topic_snapshot_frame(STREAM, NOW).unwrap_err();
    assert!(
        matches!(whole, TopicSnapshotError::Frame(FrameError::TooLarge { .. })),
        "{whole:?}"
    );

    let mut chunks = Vec::new();
    let count = hub
        .topic_snapshot_chunks(STREAM, NOW, |chunk, bytes| chunks.push((chunk, bytes.to_vec())))
        .unwrap();
    let total: usize = chunks.iter().map(|(_, b)| b.len()).sum();
    assert!(
        total > 4 * (MAX_FRAME_BYTES / 1_000_000) * 1_000_000,
        "snapshot of {total} bytes"
    );
    assert_eq!(chunks.len(), count as usize);
    assert!(count > 60, "{count} chunks");
    for (index, (chunk, bytes)) in chunks.iter().enumerate() {
        assert_eq!((chunk.index as usize, chunk.count), (index, count));
        assert!(
            bytes.len() <= DEFAULT_SNAPSHOT_CHUNK_BYTES,
            "chunk {index}: {} bytes",
            bytes.len()
        );
        let header = decode_frame(bytes).unwrap().header;
        assert_eq!(
            (header.kind, header.stream, header.seq, header.chunk),
            (FrameKind::Snapshot, STREAM, 0, *chunk)
        );
    }

    let mut trader = TraderBook::new();
    let report = trader.apply_many(chunks.iter().map(|(_, b)| b.as_slice()));
    assert_eq!((report.chunks, report.snapshots), (count as usize - 1, 1));
    assert!(report.issues.is_empty());
    assert!(!trader.is_stale(STREAM));
    assert_eq!(trader.stream_state(STREAM).map(|s| s.expected_seq), Some(1));
    assert_eq!(trader.snapshot(), hub.book().snapshot());
}

#[test]
fn a_snapshot_is_applied_only_once_complete_and_restarts_cleanly() {
    let mut hub = HubBook::new(HubBookConfig {
        snapshot_chunk_bytes: 64 << 10,
        ..HubBookConfig::default()
    })
    .unwrap();
    hub.add_symbols((0..40).map(|s| Name::new(&format!("SYM{s}USDT")).unwrap()));
    let records: Vec<Delta> = universe_records()
        .into_iter()
        .filter(|r| match r {
            Delta::Kline { symbol, .. }
            | Delta::Tick { symbol, .. }
            | Delta::Position { symbol, .. }
            | Delta::Mark { symbol, .. } => symbol.0 < 40,
            Delta::BanList(_) | Delta::PositionsComplete { .. } => false,
            Delta::Balance { .. } => true,
        })
        .collect();
    let from = Provenance {
        source: SourceId(1),
        received_at: NOW,
    };
    hub.merge_records(&records, from);
    hub.add_topic(STREAM, TopicFilter::all()).unwrap();
    hub.discard_deltas();
    let mut chunks = Vec::new();
    let count = hub
        .topic_snapshot_chunks(STREAM, NOW, |_, bytes| chunks.push(bytes.to_vec()))
        .unwrap() as usize;
    assert!(count >= 4, "{count} chunks");

    let mut trader = TraderBook::new();
    // Every chunk but the last: nothing applied, the stream is not in sync.
    for chunk in &chunks[..count - 1] {
        assert!(matches!(
            trader.apply_bytes(chunk).unwrap(),
            ApplyOutcome::SnapshotChunk { .. }
        ));
    }
    assert!(trader.stream_state(STREAM).is_none());
    assert!(trader.snapshot().klines.is_empty());
    // A new snapshot starts over: chunk 0 again, then a gap (chunk 2 without chunk 1).
    trader.apply_bytes(&chunks[0]).unwrap();
    let dropped = trader.apply_bytes(&chunks[2]).unwrap();
    assert!(
        matches!(dropped, ApplyOutcome::ChunkDropped { resync: true, .. }),
        "{dropped:?}"
    );
    assert!(dropped.needs_snapshot());
    // The rest of that snapshot continues nothing.
    assert!(matches!(
        trader.apply_bytes(&chunks[count - 1]).unwrap(),
        ApplyOutcome::ChunkDropped { .. }
    ));
    assert!(trader.snapshot().klines.is_empty());
    // A complete run syncs.
    let report = trader.apply_many(chunks.iter().map(Vec::as_slice));
    assert_eq!(report.snapshots, 1);
    assert_eq!(trader.snapshot(), hub.book().snapshot());

    // On a healthy stream, a change, then a periodic snapshot whose delivery a delta interrupts:
    // the partial snapshot is dropped, the stream stays in sync and applies the delta.
    let change = vec![Delta::Tick {
        symbol: SymbolId(1),
        tick: Tick {
            bid: Decimal::from_int(2),
            bid_qty: Decimal::from_int(1),
            ask: Decimal::from_int(3),
            ask_qty: Decimal::from_int(1),
            last: None,
            time: NOW,
            update_id: None,
        },
    }];
    hub.merge_records(&change, from);
    let turn = hub.take_topic_frames(NOW);
    let mut periodic = Vec::new();
    hub.topic_snapshot_chunks(STREAM, NOW, |_, bytes| periodic.push(bytes.to_vec()))
        .unwrap();
    trader.apply_bytes(&periodic[0]).unwrap();
    let delta = &turn.frames[0].bytes;
    assert!(matches!(
        trader.apply_bytes(delta).unwrap(),
        ApplyOutcome::Applied { seq: 1, .. }
    ));
    assert!(matches!(
        trader.apply_bytes(&periodic[1]).unwrap(),
        ApplyOutcome::ChunkDropped { resync: false, .. }
    ));
    assert_eq!(trader.snapshot(), hub.book().snapshot());
    // A complete periodic snapshot at the current seq applies on a healthy stream.
    let report = trader.apply_many(periodic.iter().map(Vec::as_slice));
    assert_eq!(report.snapshots, 1);
    assert!(!trader.is_stale(STREAM));
    // Dropped: the restarted run, the gap, the orphan last chunk, the interrupted periodic run and
    // its orphan second chunk.
    assert_eq!(trader.stats().snapshots_dropped, 5);
}
