//! Aggregate stage: aggTrades into bars, per trade and over a whole day of a CSV dump.

use std::fs::File;
use std::hint::black_box;
use std::io::{self, BufReader};

use criterion::{Criterion, SamplingMode, Throughput};
use tributary_core::aggregator::Aggregator;
use tributary_core::interval::AGGREGATED;
use tributary_core::kline_csv::{aggregate_csv, KlineCsvOptions};
use tributary_core::{Interval, Name};

use crate::inputs;

pub fn bench(c: &mut Criterion) {
    let day = inputs::synthetic_day();
    let mut group = c.benchmark_group("aggregate");

    // One trade at a time into the 11 intervals of the design, the generated day replayed as long
    // as the measurement runs (a 1m bar closes about every 70 trades).
    let mut aggregator = Aggregator::new(inputs::btcusdt(), &AGGREGATED).expect("fixed intervals");
    let mut closed = Vec::new();
    let mut pushed = 0u64;
    group.throughput(Throughput::Elements(1));
    group.bench_function("push/11_intervals", |b| {
        b.iter(|| {
            let n = (pushed % day.len() as u64) as usize;
            let trade = day.get(n).map(|t| inputs::replayed(t, pushed / day.len() as u64));
            pushed += 1;
            closed.clear();
            trade.map(|t| aggregator.push(black_box(&t), &mut closed))
        })
    });
    let stats = aggregator.stats();
    assert_eq!(
        (stats.accepted, stats.gaps, stats.late),
        (pushed, 0, 0),
        "every trade applied in order"
    );

    // A day's CSV dump into 1m klines; a few iterations of tens of milliseconds each.
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let csv = inputs::agg_trades_csv(&day);
    let options = KlineCsvOptions {
        header: true,
        ..KlineCsvOptions::default()
    };
    let summary = aggregate_csv(csv.as_slice(), inputs::btcusdt(), Interval::M1, options, io::sink()).expect("valid");
    assert_eq!(summary.trades_read, day.len() as u64);
    group.throughput(Throughput::Elements(summary.trades_read));
    group.bench_function("aggregate_csv_1m/synthetic_day", |b| {
        b.iter(|| {
            aggregate_csv(
                black_box(csv.as_slice()),
                inputs::btcusdt(),
                Interval::M1,
                options,
                io::sink(),
            )
        })
    });

    // The official dump of a real day, read from disk each time, when shared/data is present.
    let real = inputs::shared_data_dir().map(|dir| dir.join(inputs::AGG_TRADES_DAY));
    match real.filter(|path| path.is_file()) {
        Some(path) => {
            let symbol = Name::new("BTCUSD_PERP").expect("a valid symbol");
            let run = || {
                let file = File::open(&path).expect("readable dump");
                aggregate_csv(BufReader::new(file), symbol, Interval::M1, options, io::sink()).expect("valid dump")
            };
            group.throughput(Throughput::Elements(run().trades_read));
            group.bench_function("aggregate_csv_1m/real_day", |b| b.iter(run));
        }
        None => eprintln!(
            "SKIP: aggregate_csv_1m/real_day: shared/data/{} not found",
            inputs::AGG_TRADES_DAY
        ),
    }
    group.finish();
}
