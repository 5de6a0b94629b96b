// Turns one phase's send and arrival times into latency percentiles, rates and a sustained/behind verdict.
import * as hdr from 'hdr-histogram-js';

/** What one phase measured, joined from the collector and every subscriber. */
export interface PhaseInput {
  /** Target messages per second. */
  rate: number;
  /** The measured window as message indices of the phase: `[windowFirst, windowFirst + windowCount)`. */
  windowFirst: number;
  windowCount: number;
  /** Send time of each message of the phase (monotonic ms). */
  sendTimes: Float64Array;
  /** Per subscriber: arrival time of each message of the phase (NaN: never). */
  arrivals: readonly Float64Array[];
  /** 99th percentile of how late the collector sent its ticks, ms. */
  collectorLagP99Ms: number;
  /** Sequence gaps and snapshot-mode switches the subscribers saw. */
  gaps: number;
}

/** Bounds a phase must stay inside to count as sustained. */
export interface SustainRules {
  /** The collector must send at least this share of the target rate. */
  minSentShare: number;
  /** p99 latency bound, µs (a backlog shows here first). */
  maxP99Us: number;
  /** The median of the window's last fifth may exceed the first fifth's by this factor ... */
  growthFactor: number;
  /** ... plus this many µs (so sub-millisecond noise is not called growth). */
  growthSlackUs: number;
}

export const SUSTAIN: SustainRules = {
  minSentShare: 0.95,
  maxP99Us: 50_000,
  growthFactor: 2,
  growthSlackUs: 1_000,
};

/** Latency and rates of a phase, merged over all subscribers. */
export interface PhaseSummary {
  rate: number;
  /** Messages per second the collector sent in the window. */
  sentRate: number;
  /** Messages per second that reached every subscriber. */
  deliveredRate: number;
  /** Latency from the collector's send to the subscriber's apply, µs. */
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** Median latency of the window's first and last fifth, µs. */
  earlyP50Us: number;
  lateP50Us: number;
  /** (message, subscriber) pairs of the window that never arrived. */
  lost: number;
  collectorLagP99Ms: number;
  gaps: number;
  sustained: boolean;
  /** `ok`, or why the phase is not sustained. */
  verdict: string;
}

/** The lower median of `values` (NaN when empty). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** Summarises a phase; pure (no clock), so it is tested on made-up times. */
export function summarisePhase(input: PhaseInput, rules: SustainRules = SUSTAIN): PhaseSummary {
  const { windowFirst: first, windowCount: count, sendTimes } = input;
  if (first < 0 || count <= 0 || first + count > sendTimes.length)
    throw new RangeError(
      `window [${first}, ${first + count}) outside the phase's ${sendTimes.length} messages`,
    );
  const histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  const fifth = Math.max(1, Math.floor(count / 5));
  const early: number[] = [];
  const late: number[] = [];
  let lost = 0;
  let everywhere = 0;
  for (let i = first; i < first + count; i++) {
    const sent = sendTimes[i] ?? Number.NaN;
    let all = true;
    for (const arrivals of input.arrivals) {
      const arrived = arrivals[i] ?? Number.NaN;
      if (Number.isNaN(arrived) || Number.isNaN(sent)) {
        lost += 1;
        all = false;
        continue;
      }
      const us = Math.max(1, Math.round((arrived - sent) * 1000));
      histogram.recordValue(us);
      if (i < first + fifth) early.push(us);
      else if (i >= first + count - fifth) late.push(us);
    }
    if (all) everywhere += 1;
  }
  const firstSent = sendTimes[first] ?? Number.NaN;
  const lastSent = sendTimes[first + count - 1] ?? Number.NaN;
  const spanMs = lastSent - firstSent;
  const sentRate = count > 1 && spanMs > 0 ? ((count - 1) * 1000) / spanMs : input.rate;
  const summary: PhaseSummary = {
    rate: input.rate,
    sentRate,
    deliveredRate: (sentRate * everywhere) / count,
    p50Us: histogram.totalCount > 0 ? histogram.getValueAtPercentile(50) : Number.NaN,
    p99Us: histogram.totalCount > 0 ? histogram.getValueAtPercentile(99) : Number.NaN,
    p999Us: histogram.totalCount > 0 ? histogram.getValueAtPercentile(99.9) : Number.NaN,
    maxUs: histogram.totalCount > 0 ? histogram.maxValue : Number.NaN,
    earlyP50Us: median(early),
    lateP50Us: median(late),
    lost,
    collectorLagP99Ms: input.collectorLagP99Ms,
    gaps: input.gaps,
    sustained: false,
    verdict: 'ok',
  };
  histogram.destroy();
  summary.verdict = verdictOf(summary, rules);
  summary.sustained = summary.verdict === 'ok';
  return summary;
}

function verdictOf(s: PhaseSummary, rules: SustainRules): string {
  if (s.sentRate < rules.minSentShare * s.rate)
    return `collector behind (sent ${Math.round(s.sentRate)} of ${s.rate} msg/s)`;
  if (s.lost > 0) return `${s.lost} deliveries missing`;
  if (s.gaps > 0) return `${s.gaps} gaps or snapshot-mode switches`;
  if (!(s.p99Us <= rules.maxP99Us))
    return `p99 ${(s.p99Us / 1000).toFixed(1)} ms over ${rules.maxP99Us / 1000} ms`;
  if (s.lateP50Us > s.earlyP50Us * rules.growthFactor + rules.growthSlackUs)
    return `latency growing (median ${Math.round(s.earlyP50Us)} → ${Math.round(s.lateP50Us)} µs)`;
  return 'ok';
}

/** 99th percentile of a list of values (nearest rank); NaN when empty. */
export function percentile99(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}
