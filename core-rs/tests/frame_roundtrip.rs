//! Hub frame codec: encode → decode round trips, limits, garbage, and bytes per update.

mod common;

use proptest::prelude::*;
use std::path::PathBuf;
use tributary_core::frame::{
    decode_frame, Chunk, Frame, FrameEncoder, FrameError, FrameHeader, FrameKind, FramePayload, MAX_FRAME_BYTES,
};
use tributary_core::{
    Balance, BanList, Decimal, Delta, Interval, Kline, KlineWindow, Mark, Name, Position, PositionSide, Snapshot,
    SourceId, SymbolId, Tick,
};

fn d(text: &str) -> Decimal {
    Decimal::parse(text).unwrap()
}

fn header(kind: FrameKind, seq: u64) -> FrameHeader {
    FrameHeader {
        kind,
        stream: 7,
        seq,
        source: SourceId(3),
        received_at: 1_626_992_742_289,
        chunk: Chunk::WHOLE,
        turn: 0,
    }
}

/// A real `kline_1m` update of the 2021-07-22 capture (CTKUSDT), as our record.
fn ctk_kline() -> Kline {
    Kline {
        open_time: 1_626_992_700_000,
        close_time: 1_626_992_759_999,
        open: d("1.01000"),
        high: d("1.01100"),
        low: d("1.01000"),
        close: d("1.01100"),
        volume: d("3917"),
        quote_volume: d("3957.89900"),
        trades: 48,
        taker_buy_volume: d("1729"),
        taker_buy_quote_volume: d("1748.01900"),
        first_trade_id: Some(23_961_275),
        last_trade_id: Some(23_961_322),
        closed: false,
        as_of: 1_626_992_741_424,
    }
}

fn rest_kline(open_time: i64) -> Kline {
    Kline {
        open_time,
        close_time: open_time + 59_999,
        open: d("79972.8"),
        high: d("80011.0"),
        low: d("79950.1"),
        close: d("80000.5"),
        volume: d("542.123"),
        quote_volume: d("43345257.6123"),
        trades: 1234,
        taker_buy_volume: d("300.001"),
        taker_buy_quote_volume: d("24000000.0001"),
        first_trade_id: None,
        last_trade_id: None,
        closed: true,
        as_of: 0,
    }
}

fn tick(last: Option<&str>, update_id: Option<u64>) -> Tick {
    Tick {
        bid: d("1.01000"),
        bid_qty: d("120"),
        ask: d("1.01100"),
        ask_qty: d("7.5"),
        last: last.map(d),
        time: 1_626_992_741_400,
        update_id,
    }
}

fn position(amount: &str, side: PositionSide, full: bool) -> Position {
    Position {
        side,
        amount: d(amount),
        entry_price: full.then(|| d("37912.10")),
        break_even_price: full.then(|| d("37930.12345678")),
        unrealized_pnl: Some(d("-12.34567890")),
        mark_price: full.then(|| d("37800.00000000")),
        isolated_wallet: full.then(|| d("0")),
        update_time: 1_626_992_741_000,
    }
}

fn balance(asset: &str, full: bool) -> Balance {
    Balance {
        asset: Name::new(asset).unwrap(),
        wallet_balance: d("1000.12345678"),
        cross_wallet_balance: full.then(|| d("990.5")),
        available_balance: full.then(|| d("-3.25")),
        unrealized_pnl: Some(d("-12.34567890")),
        update_time: 1_626_992_741_000,
    }
}

fn round_trip_deltas(kind: FrameKind, deltas: &[Delta]) -> Vec<Delta> {
    let mut encoder = FrameEncoder::new();
    let bytes = encoder.encode_deltas(&header(kind, 42), deltas).unwrap().to_vec();
    let frame = decode_frame(&bytes).unwrap();
    assert_eq!(frame.header, header(kind, 42));
    match frame.payload {
        FramePayload::Deltas(decoded) => decoded,
        other => panic!("expected deltas, got {other:?}"),
    }
}

/// Field-by-field equality that also checks scales (Decimal's `==` compares values only).
fn assert_same_text(a: &Decimal, b: &Decimal) {
    assert_eq!(a.to_string(), b.to_string());
}

#[test]
fn every_delta_kind_round_trips() {
    let btc = SymbolId(0);
    let ctk = SymbolId(41);
    let deltas = vec![
        Delta::Kline {
            symbol: btc,
            interval: Interval::M1,
            kline: rest_kline(1_626_992_640_000),
        },
        Delta::Kline {
            symbol: btc,
            interval: Interval::M1,
            kline: rest_kline(1_626_992_700_000),
        },
        Delta::Kline {
            symbol: ctk,
            interval: Interval::Mo1,
            kline: ctk_kline(),
        },
        Delta::Tick {
            symbol: ctk,
            tick: tick(Some("1.01050"), Some(u64::MAX)),
        },
        Delta::Tick {
            symbol: btc,
            tick: tick(None, None),
        },
        Delta::Position {
            symbol: btc,
            position: position("-0.250", PositionSide::Both, true),
        },
        Delta::Position {
            symbol: ctk,
            position: position("12", PositionSide::Short, false),
        },
        Delta::Balance {
            balance: balance("USDT", true),
        },
        Delta::Balance {
            balance: balance("币安人生USDT", false),
        },
        Delta::BanList(BanList::new(false, vec![SymbolId(9), SymbolId(3)])),
    ];
    for kind in [FrameKind::Delta, FrameKind::Ingest] {
        let decoded = round_trip_deltas(kind, &deltas);
        assert_eq!(decoded, deltas);
        // Scales travel too: the exchange's own strings come back.
        if let (Delta::Kline { kline: a, .. }, Delta::Kline { kline: b, .. }) = (&decoded[2], &deltas[2]) {
            for (x, y) in [(a.open, b.open), (a.quote_volume, b.quote_volume), (a.volume, b.volume)] {
                assert_same_text(&x, &y);
            }
        }
    }
}

#[test]
fn optional_fields_and_trade_ids_keep_presence() {
    let mut kline = ctk_kline();
    for (first, last) in [
        (None, None),
        (Some(0), None),
        (None, Some(u64::MAX)),
        (Some(5), Some(9)),
    ] {
        kline.first_trade_id = first;
        kline.last_trade_id = last;
        kline.closed = first.is_some();
        let deltas = vec![Delta::Kline {
            symbol: SymbolId(1),
            interval: Interval::H4,
            kline,
        }];
        assert_eq!(round_trip_deltas(FrameKind::Delta, &deltas), deltas);
    }
    let deltas = vec![
        Delta::Tick {
            symbol: SymbolId(1),
            tick: tick(Some("0"), Some(0)),
        },
        Delta::Position {
            symbol: SymbolId(1),
            position: Position {
                entry_price: None,
                unrealized_pnl: None,
                ..position("0", PositionSide::Long, true)
            },
        },
        Delta::Balance {
            balance: Balance {
                unrealized_pnl: None,
                ..balance("BNB", true)
            },
        },
    ];
    assert_eq!(round_trip_deltas(FrameKind::Delta, &deltas), deltas);
}

#[test]
fn scales_zero_to_eighteen_and_i64_limits_round_trip() {
    for scale in 0..=18u8 {
        for mantissa in [i64::MAX, i64::MIN, 0, 1, -1, 123_456_789] {
            let v = Decimal::new(i128::from(mantissa), scale).unwrap();
            let kline = Kline {
                open: v,
                high: v,
                low: v,
                close: v,
                volume: v,
                taker_buy_volume: v,
                quote_volume: v,
                taker_buy_quote_volume: v,
                trades: u64::MAX,
                open_time: i64::MIN,
                close_time: i64::MAX,
                as_of: i64::MIN,
                ..ctk_kline()
            };
            let deltas = vec![
                Delta::Kline {
                    symbol: SymbolId(u32::MAX),
                    interval: Interval::W1,
                    kline,
                },
                Delta::Position {
                    symbol: SymbolId(2),
                    position: Position {
                        amount: v,
                        entry_price: Some(v),
                        break_even_price: Some(v),
                        mark_price: None,
                        unrealized_pnl: Some(v),
                        isolated_wallet: Some(v),
                        ..position("1", PositionSide::Both, true)
                    },
                },
            ];
            let decoded = round_trip_deltas(FrameKind::Delta, &deltas);
            assert_eq!(decoded, deltas, "mantissa {mantissa} scale {scale}");
            if let Delta::Kline { kline: k, .. } = &decoded[0] {
                assert_eq!(k.close.scale(), scale);
                assert_eq!(k.close.mantissa(), i128::from(mantissa));
            }
        }
    }
}

#[test]
fn decimals_beyond_i64_are_refused_with_the_field() {
    let mut encoder = FrameEncoder::new();
    let too_big = Decimal::new(i128::from(i64::MAX) + 1, 0).unwrap();
    let kline = Kline {
        high: too_big,
        ..ctk_kline()
    };
    let deltas = [Delta::Kline {
        symbol: SymbolId(1),
        interval: Interval::M1,
        kline,
    }];
    let err = encoder
        .encode_deltas(&header(FrameKind::Delta, 1), &deltas)
        .unwrap_err();
    assert_eq!(err, FrameError::DecimalOutOfRange { field: "kline.high" });
    assert_eq!(err.reason(), "decimal_out_of_range");

    let too_small = Decimal::new(i128::from(i64::MIN) - 1, 4).unwrap();
    let deltas = [Delta::Balance {
        balance: Balance {
            available_balance: Some(too_small),
            ..balance("USDT", true)
        },
    }];
    assert_eq!(
        encoder
            .encode_deltas(&header(FrameKind::Delta, 1), &deltas)
            .unwrap_err(),
        FrameError::DecimalOutOfRange {
            field: "balance.available_balance"
        }
    );

    // A mantissa past i64 whose normalized form fits travels (at the normalized scale).
    let padded = Decimal::new(i128::from(i64::MAX) * 10, 1).unwrap();
    let deltas = vec![Delta::Tick {
        symbol: SymbolId(1),
        tick: Tick {
            bid: padded,
            ask: padded,
            last: Some(padded),
            ..tick(None, None)
        },
    }];
    let decoded = round_trip_deltas(FrameKind::Delta, &deltas);
    assert_eq!(decoded, deltas);

    // One group shares one scale: a huge integer beside an 8-decimal price cannot travel.
    let deltas = [Delta::Kline {
        symbol: SymbolId(1),
        interval: Interval::M1,
        kline: Kline {
            open: Decimal::new(1_000_000_000_000, 0).unwrap(),
            low: d("0.00000001"),
            ..ctk_kline()
        },
    }];
    assert_eq!(
        encoder
            .encode_deltas(&header(FrameKind::Delta, 1), &deltas)
            .unwrap_err(),
        FrameError::DecimalOutOfRange { field: "kline.open" }
    );

    // The encoder is usable again after a failed frame.
    let ok = [Delta::Tick {
        symbol: SymbolId(1),
        tick: tick(None, None),
    }];
    let bytes = encoder
        .encode_deltas(&header(FrameKind::Delta, 2), &ok)
        .unwrap()
        .to_vec();
    assert_eq!(decode_frame(&bytes).unwrap().payload, FramePayload::Deltas(ok.to_vec()));
}

#[test]
fn mixed_scales_in_a_group_keep_values_at_the_larger_scale() {
    let kline = Kline {
        open: d("7.6110"),
        high: d("7.62"),
        low: d("7"),
        close: d("7.6115"),
        ..ctk_kline()
    };
    let deltas = vec![Delta::Kline {
        symbol: SymbolId(1),
        interval: Interval::M1,
        kline,
    }];
    let decoded = round_trip_deltas(FrameKind::Delta, &deltas);
    assert_eq!(decoded, deltas);
    let Delta::Kline { kline: k, .. } = &decoded[0] else {
        panic!("not a kline");
    };
    assert_eq!(k.open.to_string(), "7.6110");
    assert_eq!(k.high.to_string(), "7.6200");
    assert_eq!(k.low.to_string(), "7.0000");
}

#[test]
fn deltas_come_back_grouped_in_a_documented_order() {
    let k = |symbol: u32, interval: Interval, open_time: i64| Delta::Kline {
        symbol: SymbolId(symbol),
        interval,
        kline: rest_kline(open_time),
    };
    let t = Delta::Tick {
        symbol: SymbolId(5),
        tick: tick(None, None),
    };
    let input = vec![
        Delta::BanList(BanList::new(true, vec![])),
        k(9, Interval::M1, 60_000),
        t.clone(),
        k(2, Interval::M5, 0),
        k(9, Interval::M1, 0),
        Delta::BanList(BanList::new(false, vec![SymbolId(4)])),
        k(2, Interval::M1, 0),
    ];
    let decoded = round_trip_deltas(FrameKind::Delta, &input);
    // Klines by (symbol, interval) ascending, rows in input order; then ticks; the last ban list.
    let expected = vec![
        k(2, Interval::M1, 0),
        k(2, Interval::M5, 0),
        k(9, Interval::M1, 60_000),
        k(9, Interval::M1, 0),
        t,
        Delta::BanList(BanList::new(false, vec![SymbolId(4)])),
    ];
    assert_eq!(decoded, expected);
}

fn sample_snapshot() -> Snapshot {
    Snapshot {
        klines: vec![
            KlineWindow {
                symbol: SymbolId(3),
                interval: Interval::M15,
                klines: (0..45).map(|i| rest_kline(i * 900_000)).collect(),
            },
            KlineWindow {
                symbol: SymbolId(1),
                interval: Interval::M1,
                klines: vec![],
            },
            KlineWindow {
                symbol: SymbolId(41),
                interval: Interval::M1,
                klines: vec![ctk_kline()],
            },
        ],
        ticks: vec![
            (SymbolId(41), tick(Some("1.011"), Some(77))),
            (SymbolId(3), tick(None, None)),
        ],
        positions: vec![
            (SymbolId(3), position("1.5", PositionSide::Long, true)),
            (SymbolId(3), position("-1.5", PositionSide::Short, false)),
        ],
        balances: vec![balance("USDT", true), balance("BNB", false)],
        ban_list: Some(BanList::new(true, vec![SymbolId(1), SymbolId(2)])),
        marks: vec![],
    }
}

fn mark(rate: &str) -> Mark {
    Mark {
        time: 1_562_305_380_000,
        mark_price: Decimal::parse("11794.15000000").unwrap(),
        index_price: Decimal::parse("11784.62659091").unwrap(),
        estimated_settle_price: Decimal::parse("11784.25641265").unwrap(),
        funding_rate: Decimal::parse(rate).unwrap(),
        next_funding_time: 1_562_306_400_000,
    }
}

/// Marks (protocol 2) travel in Delta and Snapshot frames beside the other kinds, exactly.
#[test]
fn marks_round_trip_in_deltas_and_snapshots() {
    let mut encoder = FrameEncoder::new();
    let deltas = vec![
        Delta::Tick {
            symbol: SymbolId(3),
            tick: tick(Some("1.011"), Some(77)),
        },
        Delta::Mark {
            symbol: SymbolId(3),
            mark: mark("-0.00038167"),
        },
        Delta::Mark {
            symbol: SymbolId(41),
            mark: mark("0.0001"),
        },
    ];
    let header = FrameHeader {
        kind: FrameKind::Delta,
        stream: 2,
        seq: 9,
        source: SourceId(1),
        received_at: 5,
        chunk: Chunk::WHOLE,
        turn: 0,
    };
    let bytes = encoder.encode_deltas(&header, &deltas).unwrap().to_vec();
    match decode_frame(&bytes).unwrap().payload {
        FramePayload::Deltas(decoded) => assert_eq!(decoded, deltas),
        other => panic!("expected deltas, got {other:?}"),
    }
    let snapshot = Snapshot {
        marks: vec![(SymbolId(3), mark("-0.00038167")), (SymbolId(41), mark("0"))],
        ..sample_snapshot()
    };
    let header = FrameHeader {
        kind: FrameKind::Snapshot,
        ..header
    };
    let bytes = encoder.encode_snapshot(&header, &snapshot).unwrap().to_vec();
    match decode_frame(&bytes).unwrap().payload {
        FramePayload::Snapshot(decoded) => assert_eq!(decoded, snapshot),
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[test]
fn snapshots_round_trip() {
    let mut encoder = FrameEncoder::new();
    for snapshot in [
        sample_snapshot(),
        Snapshot::default(),
        Snapshot {
            ban_list: None,
            ..sample_snapshot()
        },
    ] {
        let h = header(FrameKind::Snapshot, u64::MAX);
        let bytes = encoder.encode_snapshot(&h, &snapshot).unwrap().to_vec();
        let frame = decode_frame(&bytes).unwrap();
        assert_eq!(
            frame,
            Frame {
                header: h,
                payload: FramePayload::Snapshot(snapshot.clone())
            }
        );
        // Re-encoding the decoded frame gives the same bytes.
        assert_eq!(encoder.encode(&frame).unwrap(), &bytes[..]);
    }
}

#[test]
fn headers_must_fit_the_payload() {
    let mut encoder = FrameEncoder::new();
    assert_eq!(
        encoder.encode_deltas(&header(FrameKind::Snapshot, 1), &[]).unwrap_err(),
        FrameError::KindMismatch {
            kind: FrameKind::Snapshot
        }
    );
    assert_eq!(
        encoder
            .encode_snapshot(&header(FrameKind::Delta, 1), &Snapshot::default())
            .unwrap_err()
            .reason(),
        "kind_mismatch"
    );
    // An empty delta frame is legal (it only moves the sequence).
    let bytes = encoder
        .encode_deltas(&header(FrameKind::Delta, 9), &[])
        .unwrap()
        .to_vec();
    assert_eq!(decode_frame(&bytes).unwrap().payload, FramePayload::Deltas(vec![]));
}

#[test]
fn oversize_frames_are_refused_both_ways() {
    let err = decode_frame(&vec![0u8; MAX_FRAME_BYTES + 1]).unwrap_err();
    assert_eq!(err.reason(), "too_large");
    let huge = Snapshot {
        ban_list: Some(BanList {
            all: false,
            symbols: (0..(MAX_FRAME_BYTES / 4) as u32).map(SymbolId).collect(),
        }),
        ..Snapshot::default()
    };
    let mut encoder = FrameEncoder::new();
    let err = encoder
        .encode_snapshot(&header(FrameKind::Snapshot, 1), &huge)
        .unwrap_err();
    assert!(
        matches!(err, FrameError::TooLarge { max, .. } if max == MAX_FRAME_BYTES),
        "{err:?}"
    );
}

fn valid_frames() -> Vec<Vec<u8>> {
    let mut encoder = FrameEncoder::new();
    let deltas = vec![
        Delta::Kline {
            symbol: SymbolId(41),
            interval: Interval::M1,
            kline: ctk_kline(),
        },
        Delta::Tick {
            symbol: SymbolId(41),
            tick: tick(Some("1.01"), Some(3)),
        },
        Delta::Position {
            symbol: SymbolId(41),
            position: position("-3", PositionSide::Both, true),
        },
        Delta::Balance {
            balance: balance("USDT", true),
        },
        Delta::BanList(BanList::new(false, vec![SymbolId(2)])),
    ];
    vec![
        encoder
            .encode_deltas(&header(FrameKind::Delta, 5), &deltas)
            .unwrap()
            .to_vec(),
        encoder
            .encode_snapshot(&header(FrameKind::Snapshot, 5), &sample_snapshot())
            .unwrap()
            .to_vec(),
    ]
}

#[test]
fn every_truncation_is_rejected() {
    for bytes in valid_frames() {
        assert!(decode_frame(&bytes).is_ok());
        for len in 0..bytes.len() {
            let err = decode_frame(&bytes[..len]).expect_err("a truncated frame decoded");
            assert!(
                matches!(err, FrameError::Malformed(_) | FrameError::BadIdentifier),
                "len {len}: {err:?}"
            );
        }
    }
}

#[test]
fn garbage_is_a_typed_error() {
    assert_eq!(decode_frame(b"").unwrap_err(), FrameError::BadIdentifier);
    assert_eq!(
        decode_frame(b"{\"e\":\"kline\"}").unwrap_err(),
        FrameError::BadIdentifier
    );
    let mut fake = vec![0xffu8; 64];
    fake[4..8].copy_from_slice(b"TRB1");
    assert_eq!(decode_frame(&fake).unwrap_err().reason(), "malformed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_frame(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_the_identifier_never_panic(bytes in proptest::collection::vec(any::<u8>(), 8..512)) {
        let mut bytes = bytes;
        bytes[4..8].copy_from_slice(b"TRB1");
        let _ = decode_frame(&bytes);
    }

    #[test]
    fn corrupted_frames_never_panic(
        which in 0usize..2,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = valid_frames().swap_remove(which);
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        if let Ok(frame) = decode_frame(&bytes) {
            // Whatever decodes is a well-formed frame again.
            let mut encoder = FrameEncoder::new();
            let again = encoder.encode(&frame).map(|b| b.to_vec());
            if let Ok(again) = again {
                prop_assert_eq!(decode_frame(&again).unwrap(), frame);
            }
        }
    }
}

/// Binance's own websocket kline event for the same kline, as the exchange formats it.
fn binance_kline_json(symbol: &str, k: &Kline) -> String {
    let id = |v: Option<u64>| v.map_or("-1".to_owned(), |v| v.to_string());
    format!(
        concat!(
            r#"{{"e":"kline","E":{},"s":"{}","k":{{"t":{},"T":{},"s":"{}","i":"1m","f":{},"L":{},"#,
            r#""o":"{}","c":"{}","h":"{}","l":"{}","v":"{}","n":{},"x":{},"q":"{}","V":"{}","Q":"{}","B":"0"}}}}"#
        ),
        k.as_of,
        symbol,
        k.open_time,
        k.close_time,
        symbol,
        id(k.first_trade_id),
        id(k.last_trade_id),
        k.open,
        k.close,
        k.high,
        k.low,
        k.volume,
        k.trades,
        k.closed,
        k.quote_volume,
        k.taker_buy_volume,
        k.taker_buy_quote_volume,
    )
}

#[test]
fn bytes_per_update() {
    let mut encoder = FrameEncoder::new();
    let symbol = SymbolId(41);
    let closed = Kline {
        closed: true,
        ..ctk_kline()
    };
    let next = Kline {
        open_time: closed.open_time + 60_000,
        close_time: closed.close_time + 60_000,
        trades: 1,
        ..ctk_kline()
    };
    let one = [Delta::Kline {
        symbol,
        interval: Interval::M1,
        kline: next,
    }];
    let two = [
        Delta::Kline {
            symbol,
            interval: Interval::M1,
            kline: closed,
        },
        Delta::Kline {
            symbol,
            interval: Interval::M1,
            kline: next,
        },
    ];
    let one_bytes = encoder.encode_deltas(&header(FrameKind::Delta, 1), &one).unwrap().len();
    let two_bytes = encoder.encode_deltas(&header(FrameKind::Delta, 2), &two).unwrap().len();
    let tick_bytes = encoder
        .encode_deltas(
            &header(FrameKind::Delta, 3),
            &[Delta::Tick {
                symbol,
                tick: tick(Some("1.0105"), Some(1)),
            }],
        )
        .unwrap()
        .len();
    let snapshot = Snapshot {
        klines: vec![KlineWindow {
            symbol,
            interval: Interval::M1,
            klines: (0..45).map(|i| rest_kline(i * 60_000)).collect(),
        }],
        ..Snapshot::default()
    };
    let window_bytes = encoder
        .encode_snapshot(&header(FrameKind::Snapshot, 3), &snapshot)
        .unwrap()
        .len();
    let json_one = binance_kline_json("CTKUSDT", &next).len();
    let json_two = binance_kline_json("CTKUSDT", &closed).len() + json_one;
    eprintln!("frame bytes: 1 kline delta {one_bytes}, 2 kline delta {two_bytes}, 1 tick delta {tick_bytes}, 45-kline snapshot {window_bytes}");
    eprintln!("Binance kline event JSON: 1 kline {json_one}, 2 klines {json_two}");
    // Header ~60 bytes + group ~30 + 120 per row.
    assert!(one_bytes <= 220, "{one_bytes}");
    assert!(two_bytes - one_bytes == 120, "{two_bytes}");
    assert!(one_bytes < json_one, "{one_bytes} vs {json_one}");

    if let Some(path) = common::shared_data_file("frame_roundtrip bytes_per_update (capture sizes)", common::CAPTURE) {
        let text = std::fs::read_to_string(&path).unwrap();
        let events: Vec<usize> = text
            .lines()
            .filter(|line| line.contains("\"e\":\"kline\""))
            .filter_map(|line| line.split_once(": ").map(|(_, json)| json.len()))
            .collect();
        assert!(!events.is_empty());
        let mean = events.iter().sum::<usize>() as f64 / events.len() as f64;
        eprintln!(
            "capture: {} kline messages, mean {mean:.1} bytes as received (combined-stream wrapper included)",
            events.len()
        );
    }
}

/// Where the frames of the TypeScript cross-check live (committed, relative to this crate):
/// `ts/wire/rust-frames.test.ts` decodes them with the TypeScript readers generated from the same
/// schema and compares every field with `expected.json`.
const TYPESCRIPT_FIXTURES: &str = "../ts/wire/testing/rust-frames";

/// A 64-bit integer as JSON: a decimal string, since JSON numbers lose precision past 2^53.
fn int64(value: impl ToString) -> serde_json::Value {
    serde_json::Value::String(value.to_string())
}

fn opt_decimal(value: Option<Decimal>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, |d| d.to_string().into())
}

/// The known contents of a frame as JSON: header fields, and every entity with its decimals as
/// the exact strings they were built from.
fn frame_json(frame: &Frame) -> serde_json::Value {
    use serde_json::json;
    let header = &frame.header;
    let kline = |k: &Kline| {
        json!({
            "openTime": int64(k.open_time), "closeTime": int64(k.close_time), "asOf": int64(k.as_of),
            "trades": int64(k.trades),
            "firstTradeId": k.first_trade_id.map_or(serde_json::Value::Null, int64),
            "lastTradeId": k.last_trade_id.map_or(serde_json::Value::Null, int64),
            "open": k.open.to_string(), "high": k.high.to_string(), "low": k.low.to_string(),
            "close": k.close.to_string(), "volume": k.volume.to_string(),
            "takerBuyVolume": k.taker_buy_volume.to_string(), "quoteVolume": k.quote_volume.to_string(),
            "takerBuyQuoteVolume": k.taker_buy_quote_volume.to_string(), "closed": k.closed,
        })
    };
    let tick = |symbol: SymbolId, t: &Tick| {
        json!({
            "symbol": symbol.0, "time": int64(t.time),
            "updateId": t.update_id.map_or(serde_json::Value::Null, int64),
            "bid": t.bid.to_string(), "ask": t.ask.to_string(), "last": opt_decimal(t.last),
            "bidQty": t.bid_qty.to_string(), "askQty": t.ask_qty.to_string(),
        })
    };
    let position = |symbol: SymbolId, p: &Position| {
        json!({
            "symbol": symbol.0, "side": p.side as u8, "updateTime": int64(p.update_time),
            "amount": p.amount.to_string(), "entryPrice": opt_decimal(p.entry_price),
            "breakEvenPrice": opt_decimal(p.break_even_price), "markPrice": opt_decimal(p.mark_price),
            "unrealizedPnl": opt_decimal(p.unrealized_pnl), "isolatedWallet": opt_decimal(p.isolated_wallet),
        })
    };
    let balance = |b: &Balance| {
        json!({
            "asset": b.asset.as_str(), "updateTime": int64(b.update_time),
            "walletBalance": b.wallet_balance.to_string(),
            "crossWalletBalance": opt_decimal(b.cross_wallet_balance),
            "availableBalance": opt_decimal(b.available_balance),
            "unrealizedPnl": opt_decimal(b.unrealized_pnl),
        })
    };
    let ban_list = |l: &BanList| json!({ "all": l.all, "symbols": l.symbols.iter().map(|s| s.0).collect::<Vec<_>>() });
    let (groups, ticks, positions, balances, bans): (Vec<_>, Vec<_>, Vec<_>, Vec<_>, Option<_>) = match &frame.payload {
        FramePayload::Snapshot(snap) => (
            snap.klines
                .iter()
                .map(|w| json!({ "symbol": w.symbol.0, "interval": w.interval.code(), "rows": w.klines.iter().map(kline).collect::<Vec<_>>() }))
                .collect(),
            snap.ticks.iter().map(|(s, t)| tick(*s, t)).collect(),
            snap.positions.iter().map(|(s, p)| position(*s, p)).collect(),
            snap.balances.iter().map(balance).collect(),
            snap.ban_list.as_ref().map(ban_list),
        ),
        FramePayload::Deltas(deltas) => {
            // The fixtures list deltas in wire order: one group per consecutive (symbol, interval).
            let mut groups: Vec<(SymbolId, Interval, Vec<serde_json::Value>)> = Vec::new();
            let (mut ticks, mut positions, mut balances, mut bans) = (Vec::new(), Vec::new(), Vec::new(), None);
            for delta in deltas {
                match delta {
                    Delta::Kline { symbol, interval, kline: k } => match groups.last_mut() {
                        Some((s, i, rows)) if s == symbol && i == interval => rows.push(kline(k)),
                        _ => groups.push((*symbol, *interval, vec![kline(k)])),
                    },
                    Delta::Tick { symbol, tick: t } => ticks.push(tick(*symbol, t)),
                    Delta::Position { symbol, position: p } => positions.push(position(*symbol, p)),
                    Delta::Balance { balance: b } => balances.push(balance(b)),
                    Delta::BanList(l) => bans = Some(ban_list(l)),
                    Delta::Mark { .. } => unreachable!("the fixture frames carry no marks"),
                    Delta::PositionsComplete { .. } => unreachable!("the fixture frames carry no positions lists"),
                }
            }
            let groups = groups
                .into_iter()
                .map(|(s, i, rows)| json!({ "symbol": s.0, "interval": i.code(), "rows": rows }))
                .collect();
            (groups, ticks, positions, balances, bans)
        }
        FramePayload::Compact(_) => unreachable!("the fixture frames are TRB1 frames"),
    };
    json!({
        "kind": header.kind.code(), "stream": header.stream, "seq": int64(header.seq),
        "source": header.source.0, "receivedAt": int64(header.received_at),
        "chunk": header.chunk.index, "chunks": if header.chunk == Chunk::WHOLE { 0 } else { header.chunk.count },
        "klines": groups, "ticks": ticks, "positions": positions, "balances": balances, "banList": bans,
    })
}

/// Frames with known contents covering every field: every entity kind, optional values present
/// and absent, scales from 0 to 18, i64 and u64 limits, negative values, a non-ASCII asset, a
/// whole snapshot and one chunk of a chunked one. Deltas are listed in wire order.
fn typescript_fixtures() -> Vec<(&'static str, Frame)> {
    let extreme = Kline {
        open_time: i64::MIN + 1,
        close_time: i64::MAX,
        open: Decimal::new(i128::from(i64::MAX), 18).unwrap(),
        high: Decimal::new(i128::from(i64::MAX), 18).unwrap(),
        low: Decimal::new(1, 18).unwrap(),
        close: Decimal::new(-i128::from(i64::MAX), 18).unwrap(),
        volume: Decimal::new(i128::from(i64::MIN), 0).unwrap(),
        quote_volume: d("0.5"),
        trades: u64::MAX,
        taker_buy_volume: Decimal::ZERO,
        taker_buy_quote_volume: d("-0.25"),
        first_trade_id: Some(u64::MAX),
        last_trade_id: Some(0),
        closed: true,
        as_of: -1,
    };
    let deltas = vec![
        Delta::Kline {
            symbol: SymbolId(0),
            interval: Interval::M1,
            kline: rest_kline(1_626_992_640_000),
        },
        Delta::Kline {
            symbol: SymbolId(0),
            interval: Interval::M1,
            kline: rest_kline(1_626_992_700_000),
        },
        Delta::Kline {
            symbol: SymbolId(7),
            interval: Interval::W1,
            kline: extreme,
        },
        Delta::Kline {
            symbol: SymbolId(u32::MAX),
            interval: Interval::Mo1,
            kline: ctk_kline(),
        },
        Delta::Tick {
            symbol: SymbolId(41),
            tick: tick(Some("1.01050"), Some(u64::MAX)),
        },
        Delta::Tick {
            symbol: SymbolId(0),
            tick: tick(None, None),
        },
        Delta::Position {
            symbol: SymbolId(3),
            position: position("1.5", PositionSide::Long, true),
        },
        Delta::Position {
            symbol: SymbolId(41),
            position: position("-12", PositionSide::Short, false),
        },
        Delta::Position {
            symbol: SymbolId(0),
            position: position("-0.250", PositionSide::Both, true),
        },
        Delta::Balance {
            balance: balance("USDT", true),
        },
        Delta::Balance {
            balance: balance("币安人生USDT", false),
        },
        Delta::BanList(BanList::new(false, vec![SymbolId(9), SymbolId(3)])),
    ];
    let header = |kind, stream, seq, chunk| FrameHeader {
        kind,
        stream,
        seq,
        source: SourceId(u16::MAX),
        received_at: i64::MIN,
        chunk,
        turn: 0,
    };
    vec![
        (
            "delta",
            Frame {
                header: header(FrameKind::Delta, u32::MAX, u64::MAX, Chunk::WHOLE),
                payload: FramePayload::Deltas(deltas),
            },
        ),
        (
            "ingest",
            Frame {
                header: FrameHeader {
                    kind: FrameKind::Ingest,
                    stream: 0,
                    seq: 1,
                    source: SourceId(12),
                    received_at: 1_626_992_742_289,
                    chunk: Chunk::WHOLE,
                    turn: 0,
                },
                payload: FramePayload::Deltas(vec![
                    Delta::Kline {
                        symbol: SymbolId(2),
                        interval: Interval::M5,
                        kline: Kline {
                            open_time: 1_626_992_700_000,
                            close_time: 1_626_993_000_000 - 1,
                            ..ctk_kline()
                        },
                    },
                    Delta::Balance {
                        balance: balance("BNB", true),
                    },
                ]),
            },
        ),
        (
            "snapshot",
            Frame {
                header: header(FrameKind::Snapshot, 5, 77, Chunk::WHOLE),
                payload: FramePayload::Snapshot(sample_snapshot()),
            },
        ),
        (
            "snapshot-chunk",
            Frame {
                header: header(FrameKind::Snapshot, 5, 78, Chunk { index: 1, count: 3 }),
                payload: FramePayload::Snapshot(Snapshot {
                    ticks: vec![(SymbolId(2), tick(Some("0.000000000000000001"), Some(1)))],
                    ..Snapshot::default()
                }),
            },
        ),
    ]
}

/// The cross-language check, Rust side: frames with known contents are encoded, decoded back to
/// exactly those contents, and written with their expected contents where the TypeScript test
/// (`ts/wire/rust-frames.test.ts`) reads them. The committed files must be what this writes:
/// regenerate them with `TRIBUTARY_WRITE_FRAMES=1 cargo test -p tributary-core --test frame_roundtrip`.
#[test]
fn frames_for_the_typescript_readers_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(TYPESCRIPT_FIXTURES);
    let write = std::env::var_os("TRIBUTARY_WRITE_FRAMES").is_some();
    if write {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let stale = |path: &std::path::Path| {
        format!(
            "{} is not what the Rust encoder writes; regenerate with \
             TRIBUTARY_WRITE_FRAMES=1 cargo test -p tributary-core --test frame_roundtrip",
            path.display()
        )
    };
    let mut encoder = FrameEncoder::new();
    let mut expected = serde_json::Map::new();
    for (name, frame) in typescript_fixtures() {
        let bytes = encoder.encode(&frame).unwrap().to_vec();
        assert_eq!(
            decode_frame(&bytes).unwrap(),
            frame,
            "{name} decodes to what was written"
        );
        expected.insert(name.to_owned(), frame_json(&frame));
        let path = dir.join(format!("{name}.bin"));
        if write {
            std::fs::write(&path, &bytes).unwrap();
        }
        assert!(std::fs::read(&path).unwrap_or_default() == bytes, "{}", stale(&path));
    }
    let json = serde_json::to_string_pretty(&serde_json::Value::Object(expected)).unwrap() + "\n";
    let path = dir.join("expected.json");
    if write {
        std::fs::write(&path, &json).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == json,
        "{}",
        stale(&path)
    );
}
