//! Frame stage: hub frames encoded and decoded, and a delta applied to the trader's book.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use tributary_core::frame::{decode_frame, Chunk, Frame, FrameEncoder, FrameHeader, FrameKind, FramePayload};
use tributary_core::symbol::Name;
use tributary_core::trader_book::{ApplyOutcome, TraderBook};
use tributary_core::{Delta, Interval, Kline, KlineWindow, Snapshot, SourceId, SymbolRegistry};

use crate::inputs;

const STREAM: u32 = 3;

fn header(kind: FrameKind, seq: u64) -> FrameHeader {
    FrameHeader {
        kind,
        stream: STREAM,
        seq,
        source: SourceId(1),
        received_at: 1_700_000_011_915,
        chunk: Chunk::WHOLE,
        turn: 0,
    }
}

pub fn bench(c: &mut Criterion) {
    let messages = inputs::messages();
    let (name, kline) = messages.kline_bar();
    let window = inputs::rest_window(&kline);
    let symbol = SymbolRegistry::new().intern(name);
    let kline_delta = |kline| Delta::Kline {
        symbol,
        interval: Interval::M1,
        kline,
    };
    // One kline message's change; and a bar roll: the closed previous minute and the open bar.
    let one = [kline_delta(kline)];
    let closed = window
        .len()
        .checked_sub(2)
        .and_then(|i| window.get(i))
        .copied()
        .expect("a full window");
    let two = [kline_delta(closed), kline_delta(kline)];
    let snapshot = Snapshot {
        klines: vec![KlineWindow {
            symbol,
            interval: Interval::M1,
            klines: window.clone(),
        }],
        ..Snapshot::default()
    };

    let mut encoder = FrameEncoder::new();
    let delta_header = header(FrameKind::Delta, 1);
    let snapshot_header = header(FrameKind::Snapshot, 0);
    let one_bytes = encoder.encode_deltas(&delta_header, &one).expect("encodes").to_vec();
    let two_bytes = encoder.encode_deltas(&delta_header, &two).expect("encodes").to_vec();
    let snapshot_bytes = encoder
        .encode_snapshot(&snapshot_header, &snapshot)
        .expect("encodes")
        .to_vec();
    eprintln!(
        "frame sizes: 1-kline delta {} B, 2-kline delta {} B, 45-kline snapshot {} B",
        one_bytes.len(),
        two_bytes.len(),
        snapshot_bytes.len()
    );

    let mut group = c.benchmark_group("frame");
    for (name, deltas, bytes) in [
        ("1_kline_delta", &one[..], &one_bytes),
        ("2_kline_delta", &two[..], &two_bytes),
    ] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| encoder.encode_deltas(&delta_header, black_box(deltas)).map(<[u8]>::len))
        });
        let decoded = decode_frame(bytes).expect("decodes");
        assert_eq!(
            decoded.payload,
            tributary_core::frame::FramePayload::Deltas(deltas.to_vec())
        );
        group.bench_function(format!("decode/{name}"), |b| b.iter(|| decode_frame(black_box(bytes))));
    }
    group.throughput(Throughput::Bytes(snapshot_bytes.len() as u64));
    group.bench_function("encode/snapshot_45_klines", |b| {
        b.iter(|| {
            encoder
                .encode_snapshot(&snapshot_header, black_box(&snapshot))
                .map(<[u8]>::len)
        })
    });
    group.bench_function("decode/snapshot_45_klines", |b| {
        b.iter(|| decode_frame(black_box(&snapshot_bytes)))
    });

    // The trader holds the stream's 45-bar window; every delta updates its newest bar in place.
    let mut trader = TraderBook::new();
    let snapshot_frame = decode_frame(&snapshot_bytes).expect("decodes");
    assert!(matches!(
        trader.apply(&snapshot_frame),
        ApplyOutcome::SnapshotApplied { .. }
    ));
    let mut delta = decode_frame(&one_bytes).expect("decodes");
    assert!(matches!(trader.apply(&delta), ApplyOutcome::Applied { deltas: 1, .. }));
    group.throughput(Throughput::Elements(1));
    group.bench_function("trader_book/apply_1_kline_delta", |b| {
        b.iter(|| {
            delta.header.seq += 1;
            trader.apply(black_box(&delta))
        })
    });
    assert_eq!(trader.stats().gaps, 0, "every delta was in sequence");

    // A minute boundary at the real universe: one frame opens the next bar of 600 full windows,
    // each shifting its window by a row.
    let (mut opens, universe) = opening_bars(&kline, &window);
    let mut trader = TraderBook::new();
    let universe_header = header(FrameKind::Snapshot, 0);
    assert!(matches!(
        trader.apply(&Frame {
            header: universe_header,
            payload: FramePayload::Snapshot(universe)
        }),
        ApplyOutcome::SnapshotApplied { .. }
    ));
    group.throughput(Throughput::Elements(UNIVERSE as u64));
    group.bench_function("trader_book/open_next_bar_600_series", |b| {
        b.iter_batched(
            &mut opens,
            |frame| {
                let outcome = trader.apply(black_box(&frame));
                assert!(matches!(outcome, ApplyOutcome::Applied { deltas: UNIVERSE, .. }));
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Symbols in the bar-opening case: the USD-M universe's size.
const UNIVERSE: usize = 600;

/// A snapshot of `UNIVERSE` symbols each holding `window`, and a maker of delta frames each
/// opening every symbol's next bar (a copy of `newest`, one more minute on per frame).
fn opening_bars(newest: &Kline, window: &[Kline]) -> (impl FnMut() -> Frame, Snapshot) {
    let mut registry = SymbolRegistry::new();
    let symbols: Vec<_> = (0..UNIVERSE)
        .map(|i| registry.intern(Name::new(&format!("S{i}USDT")).expect("a valid symbol")))
        .collect();
    let snapshot = Snapshot {
        klines: symbols
            .iter()
            .map(|&symbol| KlineWindow {
                symbol,
                interval: Interval::M1,
                klines: window.to_vec(),
            })
            .collect(),
        ..Snapshot::default()
    };
    let newest = *newest;
    let mut minutes = 0;
    let mut seq = 0;
    let opens = move || {
        minutes += 1;
        seq += 1;
        let shift = minutes * 60_000;
        let kline = Kline {
            open_time: newest.open_time + shift,
            close_time: newest.close_time + shift,
            ..newest
        };
        let deltas = symbols
            .iter()
            .map(|&symbol| Delta::Kline {
                symbol,
                interval: Interval::M1,
                kline,
            })
            .collect();
        Frame {
            header: header(FrameKind::Delta, seq),
            payload: FramePayload::Deltas(deltas),
        }
    };
    (opens, snapshot)
}
