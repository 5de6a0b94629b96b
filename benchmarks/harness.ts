// Runs a Case's native path and baseline in alternating rounds and summarises both with HDR histograms.
import * as hdr from 'hdr-histogram-js';
import { Bench } from 'tinybench';
import type { Case, Measure, Unit } from './case.js';

/** One row of the report: `ratio` > 1 means ours is better (baseline / ours for times and sizes, ours / baseline for rates). */
export interface Result {
  name: string;
  unit: Unit;
  median: number;
  p99: number;
  baseline: number;
  baselineP99: number;
  ratio: number;
  /** End-to-end latency rows also carry the 99.9th percentiles. */
  p999?: number;
  baselineP999?: number;
}

/** How long to measure each side: `rounds` alternating rounds of `roundMs` each. */
export interface Budget {
  rounds: number;
  roundMs: number;
  warmupMs: number;
}

export const FULL: Budget = { rounds: 6, roundMs: 500, warmupMs: 200 };
export const QUICK: Budget = { rounds: 2, roundMs: 150, warmupMs: 50 };

/** Units where a larger figure is better. */
const HIGHER_IS_BETTER: ReadonlySet<Unit> = new Set<Unit>(['msg/s']);

/** A row's ratio: above 1 means ours is better. */
export function ratio(unit: Unit, ours: number, baseline: number): number {
  return HIGHER_IS_BETTER.has(unit) ? ours / baseline : baseline / ours;
}

/** ns per message of one timed call (tinybench samples are milliseconds per call). */
function perMessage(sampleMs: number, batch: number, unit: Unit): number {
  const ns = (sampleMs * 1e6) / batch;
  return unit === 'us/msg' ? ns / 1000 : ns;
}

/** Times `fn` for one round and records every call's per-message time into `histogram`. */
function round(fn: () => void, c: Case, budget: Budget, warm: boolean, histogram: hdr.Histogram): void {
  c.setup?.();
  const bench = new Bench({
    time: budget.roundMs,
    warmup: warm,
    warmupTime: budget.warmupMs,
    // tinybench's defaults (64 iterations, 16 warm-up) are minimums that would let a 0.2 s call
    // (the full-day baseline) take 15 s a round: the round's time governs instead.
    iterations: 1,
    warmupIterations: 1,
    retainSamples: true,
    throws: true,
  });
  bench.add(c.name, fn);
  const [task] = bench.runSync();
  const result = task?.result;
  if (result === undefined || !('latency' in result) || result.latency.samples === undefined) {
    throw new Error(`${c.name}: the benchmark produced no samples`);
  }
  for (const sample of result.latency.samples) {
    // HDR histograms hold integers: record hundredths of the unit.
    histogram.recordValue(Math.max(1, Math.round(perMessage(sample, c.batch, c.unit) * 100)));
  }
}

/**
 * Verifies the case, then alternates native and baseline rounds (the order flips every round so
 * neither side always runs on a warmer or noisier machine) and reports medians and p99s.
 */
export function compare(c: Case, budget: Budget): Result {
  c.verify?.();
  const ours = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  const theirs = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  for (let r = 0; r < budget.rounds; r++) {
    const warm = r < 2;
    if (r % 2 === 0) {
      round(c.native, c, budget, warm, ours);
      round(c.baseline, c, budget, warm, theirs);
    } else {
      round(c.baseline, c, budget, warm, theirs);
      round(c.native, c, budget, warm, ours);
    }
  }
  const value = (h: hdr.Histogram, q: number): number => h.getValueAtPercentile(q) / 100;
  const result: Result = {
    name: c.name,
    unit: c.unit,
    median: value(ours, 50),
    p99: value(ours, 99),
    baseline: value(theirs, 50),
    baselineP99: value(theirs, 99),
    ratio: 0,
  };
  result.ratio = ratio(c.unit, result.median, result.baseline);
  ours.destroy();
  theirs.destroy();
  return result;
}

/** A measured (not timed) figure as a report row. */
export function measured(m: Measure): Result {
  return {
    name: m.name,
    unit: m.unit,
    median: m.ours,
    p99: m.ours,
    baseline: m.baseline,
    baselineP99: m.baseline,
    ratio: ratio(m.unit, m.ours, m.baseline),
  };
}
