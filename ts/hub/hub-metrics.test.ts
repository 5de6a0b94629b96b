// The hub's latency histogram: every recorded latency counted, whether folded in a batch or at the read.
import { describe, expect, it } from 'vitest';
import { HubMetrics } from './hub-metrics.js';

describe('HubMetrics latency', () => {
  it('summarises latencies recorded since the last fold, before a batch fills', () => {
    const metrics = new HubMetrics();
    for (const us of [10, 20, 30]) metrics.recordLatencyUs(us);
    const summary = metrics.latency();
    expect(summary.count).toBe(3);
    expect(summary.p50).toBe(20);
    expect(summary.max).toBe(30);
  });

  it('counts every latency across several batches and reads in between', () => {
    const metrics = new HubMetrics();
    // 1,000 values: three whole batches of 256 folded as they fill, the rest at the read.
    for (let us = 1; us <= 1000; us++) metrics.recordLatencyUs(us);
    const first = metrics.latency();
    expect(first.count).toBe(1000);
    expect(first.p50).toBe(500);
    expect(first.p99).toBe(990);
    expect(first.max).toBe(1000);
    // A read folds what was pending and leaves nothing to fold twice.
    expect(metrics.latency().count).toBe(1000);
    for (let i = 0; i < 300; i++) metrics.recordLatencyUs(5000);
    const second = metrics.latency();
    expect(second.count).toBe(1300);
    expect(second.max).toBeGreaterThanOrEqual(5000);
    expect(second.max).toBeLessThan(5010);
  });

  it('clamps latencies to the histogram: under 1 µs is 1 µs, past a minute is a minute', () => {
    const metrics = new HubMetrics();
    metrics.recordLatencyUs(0.2);
    metrics.recordLatencyUs(-5);
    metrics.recordLatencyUs(3_600_000_000);
    const summary = metrics.latency();
    expect(summary.count).toBe(3);
    expect(summary.p50).toBe(1);
    expect(summary.max).toBeGreaterThanOrEqual(60_000_000);
    expect(summary.max).toBeLessThan(60_100_000);
  });
});
