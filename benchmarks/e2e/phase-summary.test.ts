import { describe, expect, it } from 'vitest';
import { percentile99, SUSTAIN, summarisePhase } from './phase-summary.js';

/** `n` messages sent 1 ms apart from t=1000, arriving `latencyMs(i)` later at each of `subs`. */
function phase(n: number, subs: number, latencyMs: (i: number) => number) {
  const sendTimes = Float64Array.from({ length: n }, (_, i) => 1_000 + i);
  const arrivals = Array.from({ length: subs }, () => sendTimes.map((t, i) => t + latencyMs(i)));
  return { sendTimes, arrivals };
}

describe('summarisePhase', () => {
  it('reads latency from the send to each arrival over the window only, merged across subscribers', () => {
    const { sendTimes, arrivals } = phase(200, 4, (i) => (i < 100 ? 50 : 0.5));
    const s = summarisePhase({
      rate: 1_000,
      windowFirst: 100,
      windowCount: 100,
      sendTimes,
      arrivals,
      collectorLagP99Ms: 0.2,
      gaps: 0,
    });
    expect(s.p50Us).toBe(500);
    expect(s.p99Us).toBe(500);
    expect(s.lost).toBe(0);
    expect(s.sentRate).toBeCloseTo(1_000, 6);
    expect(s.deliveredRate).toBeCloseTo(1_000, 6);
    expect(s.verdict).toBe('ok');
    expect(s.sustained).toBe(true);
  });

  it('counts messages that never reached a subscriber and fails the phase', () => {
    const { sendTimes, arrivals } = phase(100, 2, () => 1);
    const second = arrivals[1];
    if (second === undefined) throw new Error('no second subscriber');
    second[10] = Number.NaN;
    second[11] = Number.NaN;
    const s = summarisePhase({
      rate: 1_000,
      windowFirst: 0,
      windowCount: 100,
      sendTimes,
      arrivals,
      collectorLagP99Ms: 0,
      gaps: 0,
    });
    expect(s.lost).toBe(2);
    expect(s.deliveredRate).toBeCloseTo((s.sentRate * 98) / 100, 6);
    expect(s.sustained).toBe(false);
    expect(s.verdict).toBe('2 deliveries missing');
  });

  it('calls a growing latency a backlog', () => {
    const { sendTimes, arrivals } = phase(1_000, 1, (i) => 1 + i / 50);
    const s = summarisePhase({
      rate: 1_000,
      windowFirst: 0,
      windowCount: 1_000,
      sendTimes,
      arrivals,
      collectorLagP99Ms: 0,
      gaps: 0,
    });
    expect(s.lateP50Us).toBeGreaterThan(s.earlyP50Us * SUSTAIN.growthFactor);
    expect(s.verdict).toMatch(/^latency growing/);
  });

  it('blames the collector when it could not send at the rate', () => {
    const { sendTimes, arrivals } = phase(100, 1, () => 1);
    const s = summarisePhase({
      rate: 2_000,
      windowFirst: 0,
      windowCount: 100,
      sendTimes,
      arrivals,
      collectorLagP99Ms: 40,
      gaps: 0,
    });
    expect(s.verdict).toMatch(/^collector behind/);
  });

  it('fails on gaps and on a p99 past the bound', () => {
    const { sendTimes, arrivals } = phase(100, 1, () => 60);
    const base = { rate: 1_000, windowFirst: 0, windowCount: 100, sendTimes, arrivals, collectorLagP99Ms: 0 };
    expect(summarisePhase({ ...base, gaps: 1 }).verdict).toBe('1 gaps or snapshot-mode switches');
    expect(summarisePhase({ ...base, gaps: 0 }).verdict).toMatch(/^p99 60\.\d ms over 50 ms/);
  });

  it('refuses a window outside the phase', () => {
    const { sendTimes, arrivals } = phase(10, 1, () => 1);
    expect(() =>
      summarisePhase({
        rate: 1_000,
        windowFirst: 5,
        windowCount: 10,
        sendTimes,
        arrivals,
        collectorLagP99Ms: 0,
        gaps: 0,
      }),
    ).toThrow(RangeError);
  });
});

describe('percentile99', () => {
  it('takes the nearest rank', () => {
    expect(percentile99(Array.from({ length: 100 }, (_, i) => 100 - i))).toBe(99);
    expect(percentile99([7])).toBe(7);
    expect(Number.isNaN(percentile99([]))).toBe(true);
  });
});
