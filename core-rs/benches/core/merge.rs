//! Merge stage: records into the hub's merge book, and collector messages into it through ingest.
//!
//! Each case starts from the state the hub holds in production (a full 45-bar window, the previous
//! version of the bar, a stored position) and feeds it inputs that take the named path on every
//! iteration (one more trade, a newer time, the next bar), checked before and after the run.

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use tributary_core::admission::{Admission, AdmissionRules};
use tributary_core::frame::{Chunk, Frame, FrameEncoder, FrameHeader, FrameKind, FramePayload};
use tributary_core::ingest::{
    merge_ingest, merge_ingest_bytes, merge_rest_klines, IngestBatch, IngestError, IngestReport, RestKlinesPoll,
};
use tributary_core::merge_book::{DropReason, MergeBook, MergeBookConfig, MergeCounts, MergeError, MergeOutcome};
use tributary_core::parse::{parse_book_ticker, parse_user_event, RestPollMemory, UserEvent};
use tributary_core::{Decimal, Delta, Interval, Kline, Position, Provenance, SourceId, SymbolId, SymbolRegistry};

use crate::inputs;

pub fn bench(c: &mut Criterion) {
    let messages = inputs::messages();
    let (name, kline) = messages.kline_bar();
    let previous = messages.kline_previous_bar();
    let window = inputs::rest_window(&kline);
    let mut registry = SymbolRegistry::new();
    let symbol = registry.intern(name);
    let from = Provenance {
        source: SourceId(1),
        received_at: kline.as_of + 40,
    };
    let m1 = Interval::M1;
    let mut out = Vec::new();
    // What the hub checks every record against: its registry and clock.
    let admission = Admission {
        symbols: registry.len() as u32,
        now: from.received_at,
        rules: AdmissionRules::default(),
    };

    // The hub mid-minute: the REST seed's closed bars and the previous version of the open bar.
    let mut hub = MergeBook::new(MergeBookConfig::default()).expect("default config");
    let history = window.get(..window.len() - 1).expect("a non-empty window");
    hub.merge_klines(symbol, m1, history, from, &mut out)
        .expect("valid window");
    hub.merge_kline(symbol, m1, &previous, from, &mut out)
        .expect("valid bar");

    let mut group = c.benchmark_group("merge");

    // merge_kline: the open bar again with more trades (one more per iteration).
    expect_changes(1, |out| hub.clone().merge_kline(symbol, m1, &kline, from, out));
    let mut updating = hub.clone();
    let mut version = kline;
    let mut ran_update = false;
    group.bench_function("merge_kline/update_open_bar", |b| {
        ran_update = true;
        b.iter(|| {
            version.trades += 1;
            out.clear();
            updating.merge_kline(symbol, m1, black_box(&version), from, &mut out)
        })
    });
    // Only when the case ran (a filter may skip it).
    if ran_update {
        assert_eq!(
            updating.klines(symbol, m1).last(),
            Some(&version),
            "every version applied"
        );
    }

    // merge_kline: a new bar every iteration, evicting the oldest of the full window.
    let mut rolling = hub.clone();
    let mut next = kline;
    let mut ran_new_bar = false;
    group.bench_function("merge_kline/new_bar", |b| {
        ran_new_bar = true;
        b.iter(|| {
            next.open_time += 60_000;
            next.close_time += 60_000;
            next.as_of += 60_000;
            out.clear();
            rolling.merge_kline(symbol, m1, black_box(&next), from, &mut out)
        })
    });
    // Only when the case ran (a filter may skip it).
    if ran_new_bar {
        assert_eq!(rolling.klines(symbol, m1).last(), Some(&next), "every new bar applied");
        assert_eq!(rolling.klines(symbol, m1).len(), window.len(), "the window stays full");
    }

    // merge_kline: a stale version (fewer trades) of the bar the book holds; changes nothing.
    let mut current = hub.clone();
    current
        .merge_kline(symbol, m1, &kline, from, &mut out)
        .expect("valid bar");
    out.clear();
    assert_eq!(
        current.merge_kline(symbol, m1, &previous, from, &mut out),
        Ok(MergeOutcome::Dropped(DropReason::NotMoreTrades))
    );
    group.bench_function("merge_kline/stale_version", |b| {
        b.iter(|| current.merge_kline(symbol, m1, black_box(&previous), from, &mut out))
    });
    assert!(out.is_empty(), "a dropped version appends nothing");

    // merge_tick: the open bars of 1m, 5m and 15m hold the bar; a bookTicker that also carries a
    // traded price a step above the bar's high (bar corrections take traded prices only, never
    // the book's midpoint) moves their high and close: one tick delta and three kline corrections.
    // A traded price corrects only when it is newer than the last one the book took, so each
    // iteration starts from the same book (cloned outside the timing).
    let mut quoting = current.clone();
    for interval in [Interval::M5, Interval::M15] {
        let open_time = interval.open_time(kline.open_time);
        let bar = Kline {
            open_time,
            close_time: interval.close_time(open_time),
            ..kline
        };
        quoting
            .merge_kline(symbol, interval, &bar, from, &mut out)
            .expect("valid bar");
    }
    let step = Decimal::new(1, kline.high.scale()).expect("a price step");
    let mut quote = parse_book_ticker(messages.book_ticker.as_bytes())
        .expect("the bookTicker parses")
        .tick;
    quote.time = (kline.as_of + 1).min(kline.close_time);
    quote.update_id = Some(quote.update_id.unwrap_or(1) + 1);
    quote.last = Some(kline.high.checked_add(&step).expect("a price"));
    expect_changes(4, |out| quoting.clone().merge_tick(symbol, &quote, from, out));
    group.bench_function("merge_tick/correct_3_intervals", |b| {
        b.iter_batched_ref(
            || (quoting.clone(), Vec::with_capacity(4)),
            |(book, out)| book.merge_tick(symbol, black_box(&quote), from, out),
            BatchSize::SmallInput,
        )
    });

    // merge_position: an ACCOUNT_UPDATE newer than the positionRisk poll the book holds, same
    // amount: its fields are taken, the mark price it lacks is carried (the next update is one
    // millisecond newer each iteration).
    let Ok(UserEvent::AccountUpdate(update)) = parse_user_event(inputs::ACCOUNT_UPDATE.as_bytes()) else {
        panic!("the bench ACCOUNT_UPDATE parses");
    };
    let reported = update.positions.first().expect("one position");
    let position_symbol = registry.intern(reported.symbol);
    let mut update_position = reported.position;
    let polled = Position {
        unrealized_pnl: Some(Decimal::parse("2.91000000").expect("a decimal")),
        mark_price: Some(Decimal::parse("37115.92000000").expect("a decimal")),
        update_time: update_position.update_time - 2_750,
        ..update_position
    };
    let mut positioned = hub.clone();
    positioned
        .merge_position(position_symbol, &polled, from, &mut out)
        .expect("a known symbol");
    expect_changes(1, |out| {
        positioned
            .clone()
            .merge_position(position_symbol, &update_position, from, out)
    });
    let mut ran_position = false;
    group.bench_function("merge_position/newer_update", |b| {
        ran_position = true;
        b.iter(|| {
            update_position.update_time += 1;
            out.clear();
            positioned.merge_position(position_symbol, black_box(&update_position), from, &mut out)
        })
    });
    // Only when the case ran (a filter may skip it).
    if ran_position {
        let stored = positioned
            .position(position_symbol, update_position.side)
            .map(|(p, _)| *p);
        assert_eq!(stored.map(|p| p.update_time), Some(update_position.update_time));
        assert_eq!(
            stored.and_then(|p| p.mark_price),
            polled.mark_price,
            "the mark price is carried"
        );
    }

    // merge_klines: a 45-row REST window into an empty book (the seed: the merge allocates the
    // symbol's series), and a poll of the window the book holds whose newest bar has one more
    // trade each iteration (44 unchanged, 1 changed).
    let empty = MergeBook::new(MergeBookConfig::default()).expect("default config");
    expect_counts(empty.clone(), symbol, &window, 45, 0);
    group.bench_function("merge_klines/rest_45_seed", |b| {
        b.iter_batched_ref(
            || (empty.clone(), Vec::with_capacity(64)),
            |(book, out)| book.merge_klines(symbol, m1, black_box(&window), from, out),
            BatchSize::NumIterations(64),
        )
    });
    let mut polled_book = empty.clone();
    polled_book
        .merge_klines(symbol, m1, &window, from, &mut out)
        .expect("valid window");
    let mut poll = window.clone();
    if let Some(newest) = poll.last_mut() {
        newest.trades += 1;
    }
    expect_counts(polled_book.clone(), symbol, &poll, 1, 44);
    let mut ran_poll = false;
    group.bench_function("merge_klines/rest_45_poll", |b| {
        ran_poll = true;
        b.iter(|| {
            if let Some(newest) = poll.last_mut() {
                newest.trades += 1;
            }
            out.clear();
            polled_book.merge_klines(symbol, m1, black_box(&poll), from, &mut out)
        })
    });
    // Only when the case ran (a filter may skip it).
    if ran_poll {
        assert_eq!(polled_book.klines(symbol, m1), &poll[..], "every poll applied");
    }

    // merge_rest_klines: a poll's body parsed into a kept buffer and merged bar by bar (the hub's
    // mergeRestKlines), against the book holding the window: 44 unchanged, the newest changed.
    let (mut body, server_time) = inputs::rest_klines_body(&kline);
    // The newest row with one more trade.
    let newest_trades = window.last().map_or(0, |k| k.trades);
    let at = body
        .rfind(&format!(",{newest_trades},"))
        .expect("the newest row's trade count");
    body.replace_range(
        at..at + newest_trades.to_string().len() + 2,
        &format!(",{},", newest_trades + 1),
    );
    let mut rest_book = empty.clone();
    rest_book
        .merge_klines(symbol, m1, &window, from, &mut out)
        .expect("valid window");
    // The same body every poll: after the first, every row is taken from the series' last body
    // (`RestPollMemory`) and only merged.
    let mut rows = RestPollMemory::new();
    let poll = RestKlinesPoll {
        symbol,
        interval: m1,
        body: body.as_bytes(),
        server_time_ms: server_time,
    };
    let mut counts = IngestReport::default();
    merge_rest_klines(
        &mut rest_book.clone(),
        poll,
        from,
        &admission,
        &mut rows,
        &mut out,
        &mut counts,
    )
    .expect("valid body");
    assert_eq!(
        (counts.changed, counts.unchanged, counts.refused.len()),
        (1, 44, 0),
        "the poll changes the newest bar only"
    );
    group.bench_function("merge_rest_klines/rest_45_poll", |b| {
        b.iter_batched_ref(
            || (rest_book.clone(), Vec::with_capacity(4), IngestReport::default()),
            |(book, out, report)| merge_rest_klines(book, black_box(poll), from, &admission, &mut rows, out, report),
            BatchSize::NumIterations(64),
        )
    });

    // Ingest: one kline message parsed into a collector batch; then merged by the hub, directly
    // and through the Ingest frame's bytes. A message merges once, so the merging cases run on a
    // fresh copy of a small book holding the bar's previous version (copies made untimed, 64 at a
    // time so they stay in cache).
    let message = messages.kline.as_bytes();
    let header = FrameHeader {
        kind: FrameKind::Ingest,
        stream: 0,
        seq: 0,
        source: SourceId(1),
        received_at: from.received_at - 2,
        chunk: Chunk::WHOLE,
        turn: 0,
    };
    let mut batch = IngestBatch::new();
    assert_eq!(batch.push_market_event(&registry, message).ok(), Some(1));
    group.bench_function("ingest/push_market_event_kline", |b| {
        b.iter(|| {
            batch.clear();
            batch.push_market_event(&registry, black_box(message))
        })
    });
    let mut hub_before = MergeBook::new(MergeBookConfig::default()).expect("default config");
    hub_before
        .merge_kline(symbol, m1, &previous, from, &mut out)
        .expect("valid bar");
    let push_and_merge = |book: &mut MergeBook, batch: &mut IngestBatch, out: &mut Vec<Delta>| {
        batch.push_market_event(&registry, black_box(message))?;
        let frame = Frame {
            header,
            payload: FramePayload::Deltas(batch.records().to_vec()),
        };
        let mut report = IngestReport::default();
        merge_ingest(book, &frame, from, &admission, out, 0, &mut report)?;
        Ok::<_, IngestError>(report)
    };
    let counts = push_and_merge(&mut hub_before.clone(), &mut IngestBatch::new(), &mut Vec::new()).expect("ingested");
    assert_eq!((counts.changed, counts.refused.len()), (1, 0));
    group.bench_function("ingest/push_and_merge_ingest_kline", |b| {
        b.iter_batched_ref(
            || (hub_before.clone(), IngestBatch::new(), Vec::with_capacity(8)),
            |(book, batch, out)| push_and_merge(book, batch, out),
            BatchSize::NumIterations(64),
        )
    });
    let mut encoder = FrameEncoder::new();
    let mut via_frame = |book: &mut MergeBook, batch: &mut IngestBatch, out: &mut Vec<Delta>| {
        batch.push_market_event(&registry, black_box(message))?;
        let bytes = batch.encode(&mut encoder, &header)?;
        let mut report = IngestReport::default();
        merge_ingest_bytes(book, bytes, from, &admission, out, 0, &mut report);
        Ok::<_, IngestError>(report)
    };
    let counts = via_frame(&mut hub_before.clone(), &mut IngestBatch::new(), &mut Vec::new()).expect("ingested");
    assert_eq!((counts.changed, counts.refused.len(), counts.failures.len()), (1, 0, 0));
    group.bench_function("ingest/push_encode_merge_ingest_bytes_kline", |b| {
        b.iter_batched_ref(
            || (hub_before.clone(), IngestBatch::new(), Vec::with_capacity(8)),
            |(book, batch, out)| via_frame(book, batch, out),
            BatchSize::NumIterations(64),
        )
    });
    group.finish();
}

/// Fails the run unless `merge` changes the book and appends `deltas` deltas, so each case
/// measures the path its name says.
fn expect_changes(deltas: usize, merge: impl FnOnce(&mut Vec<Delta>) -> Result<MergeOutcome, MergeError>) {
    let mut out = Vec::new();
    assert_eq!(merge(&mut out), Ok(MergeOutcome::Changed));
    assert_eq!(out.len(), deltas);
}

/// Fails the run unless merging `window` gives `changed` and `unchanged` bars.
fn expect_counts(mut book: MergeBook, symbol: SymbolId, window: &[Kline], changed: usize, unchanged: usize) {
    let mut out = Vec::new();
    let counts = book.merge_klines(symbol, Interval::M1, window, Provenance::default(), &mut out);
    assert_eq!(
        counts.ok(),
        Some(MergeCounts {
            changed,
            unchanged,
            dropped: 0
        })
    );
    assert_eq!(out.len(), changed);
}
