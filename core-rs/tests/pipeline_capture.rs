//! The whole native data path on the real capture: collector batch → Ingest frame → hub merge book
//! → Delta frames → trader book, with a lost frame recovered by snapshot (shared/data, see its README).

mod common;

use tributary_core::admission::{Admission, AdmissionRules};
use tributary_core::frame::{Chunk, FrameEncoder, FrameHeader, FrameKind};
use tributary_core::ingest::{merge_ingest_bytes, IngestBatch, IngestReport};
use tributary_core::merge_book::{MergeBook, MergeBookConfig};
use tributary_core::trader_book::{ApplyOutcome, TraderBook};
use tributary_core::{Interval, Name, Provenance, SourceId, SymbolId, SymbolRegistry};

fn capture() -> Option<String> {
    let path = common::shared_data_file("pipeline_capture", common::CAPTURE)?;
    Some(std::fs::read_to_string(path).expect("readable capture"))
}

const SYMBOLS: [&str; 4] = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"];
const STREAM: u32 = 3;

#[test]
fn trader_book_converges_to_the_hub_through_frames_and_a_gap() {
    let Some(text) = capture() else { return };
    let mut registry = SymbolRegistry::new();
    for s in SYMBOLS {
        registry.intern(Name::new(s).unwrap());
    }
    let mut hub = MergeBook::new(MergeBookConfig::default()).unwrap();
    let mut trader = TraderBook::new();
    let mut collector_encoder = FrameEncoder::new();
    let mut hub_encoder = FrameEncoder::new();
    let mut deltas = Vec::new();
    let mut seq = 0u64;
    let mut outcomes = (0usize, 0usize, 0usize); // applied, gaps, ignored while stale

    // The trader starts from the hub's (empty) snapshot.
    let snapshot = hub.snapshot();
    let header = |kind, seq| FrameHeader {
        kind,
        stream: STREAM,
        seq,
        source: SourceId(1),
        received_at: 0,
        chunk: Chunk::WHOLE,
        turn: 0,
    };
    // The capture's symbols, at any time: this test is about the pipeline, not admission.
    let admission = Admission {
        symbols: registry.len() as u32,
        now: 0,
        rules: AdmissionRules {
            max_future_ms: i64::MAX,
            max_age_ms: i64::MAX,
        },
    };
    let bytes = hub_encoder
        .encode_snapshot(&header(FrameKind::Snapshot, seq), &snapshot)
        .unwrap()
        .to_vec();
    assert!(matches!(
        trader.apply_bytes(&bytes).unwrap(),
        ApplyOutcome::SnapshotApplied { .. }
    ));

    let mut ingested = 0;
    for (n, line) in text.lines().skip(1).enumerate() {
        let Some((_, json)) = line.split_once(": ") else {
            continue;
        };
        if !(json.contains("\"e\":\"kline\"") || json.contains("\"e\":\"bookTicker\"")) {
            continue;
        }
        // Collector side: one Ingest frame per exchange message.
        let mut batch = IngestBatch::new();
        assert_eq!(
            batch.push_market_event(&registry, json.as_bytes()).unwrap(),
            1,
            "line {}",
            n + 2
        );
        let frame = batch
            .encode(&mut collector_encoder, &header(FrameKind::Ingest, 0))
            .unwrap()
            .to_vec();
        ingested += 1;

        // Hub side: merge, and send what changed as the stream's next Delta frame.
        deltas.clear();
        let from = Provenance {
            source: SourceId(1),
            received_at: n as i64,
        };
        let mut report = IngestReport::default();
        merge_ingest_bytes(&mut hub, &frame, from, &admission, &mut deltas, 0, &mut report);
        assert!(report.failures.is_empty() && report.refused.is_empty(), "{report:?}");
        if deltas.is_empty() {
            continue;
        }
        seq += 1;
        let delta_frame = hub_encoder
            .encode_deltas(&header(FrameKind::Delta, seq), &deltas)
            .unwrap()
            .to_vec();

        // One frame is lost on the way (seq 40): the trader must notice and recover by snapshot.
        if seq == 40 {
            continue;
        }
        match trader.apply_bytes(&delta_frame).unwrap() {
            ApplyOutcome::Applied { .. } => outcomes.0 += 1,
            ApplyOutcome::Gap { expected, got, .. } => {
                assert_eq!((expected, got), (Some(40), 41));
                outcomes.1 += 1;
                assert!(trader.is_stale(STREAM));
                // The trader asks; the hub answers with a snapshot at its current seq.
                let snap = hub_encoder
                    .encode_snapshot(&header(FrameKind::Snapshot, seq), &hub.snapshot())
                    .unwrap()
                    .to_vec();
                assert!(matches!(
                    trader.apply_bytes(&snap).unwrap(),
                    ApplyOutcome::SnapshotApplied { .. }
                ));
                assert!(!trader.is_stale(STREAM));
            }
            ApplyOutcome::IgnoredStale { .. } => outcomes.2 += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert!(
        ingested > 600,
        "kline and bookTicker messages in the capture: {ingested}"
    );
    assert!(seq > 100, "the hub emitted {seq} delta frames");
    assert_eq!(outcomes.1, 1, "exactly one gap");
    assert_eq!(outcomes.2, 0, "the snapshot answered the gap at once");

    // The trader's book equals the hub's, value for value, exactly.
    for (i, _) in SYMBOLS.iter().enumerate() {
        let id = SymbolId(i as u32);
        let hub_klines = hub.klines(id, Interval::M1);
        assert!(!hub_klines.is_empty());
        let series = trader.kline_series(id, Interval::M1).expect("series");
        // `as_of` moves silently at the hub when a tick confirms the close without changing a
        // price (no delta for no visible change), so the trader's is the one of the last change.
        let market = |ks: &[tributary_core::Kline]| {
            ks.iter()
                .map(|k| tributary_core::Kline { as_of: 0, ..*k })
                .collect::<Vec<_>>()
        };
        assert_eq!(market(&series.klines()), market(hub_klines), "{}", SYMBOLS[i]);
        for (row, k) in hub_klines.iter().enumerate() {
            assert_eq!(
                series.value(tributary_core::trader_book::KlineColumn::Close, row),
                Some(k.close.to_f64())
            );
        }
        let (hub_tick, _) = hub.tick(id).expect("tick");
        assert_eq!(trader.tick(id).expect("tick").record(), hub_tick);
    }
}
