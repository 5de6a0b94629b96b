import { describe, expect, it } from 'vitest';
import type { PhaseRun, Side } from './coordinator.js';
import {
  endToEndResults,
  fallbackCost,
  maxSustained,
  phaseTable,
  rateLabel,
  roundLines,
  subscriberMean,
} from './e2e-report.js';
import type { PhaseSummary } from './phase-summary.js';
import type { ProcessUsage } from './protocol.js';

const usage = (cpu: number, rss = 70): ProcessUsage => ({
  cpuPercent: cpu,
  rssMiB: rss,
  heapUsedMiB: 10,
  maxRssMiB: rss + 5,
});

function run(side: Side, rate: number, p50: number, p99: number, sustained = true, cpu = 10): PhaseRun {
  const summary: PhaseSummary = {
    rate,
    sentRate: rate,
    deliveredRate: rate,
    p50Us: p50,
    p99Us: p99,
    p999Us: p99 * 2,
    maxUs: p99 * 3,
    earlyP50Us: p50,
    lateP50Us: p50,
    lost: 0,
    collectorLagP99Ms: 1,
    gaps: 0,
    sustained,
    verdict: sustained ? 'ok' : 'latency growing',
  };
  return {
    side,
    transport: 'uws',
    rate,
    summary,
    usage: {
      server: usage(cpu),
      collector: usage(5),
      subscribers: [usage(cpu), usage(cpu + 2), usage(cpu), usage(cpu + 2)],
    },
    notes: { server: {}, collector: {} },
  };
}

describe('end-to-end report', () => {
  const runs = {
    transport: 'uws',
    fixed: [
      run('relay', 1_000, 300, 900),
      run('hub', 1_000, 400, 1_000),
      run('hub', 20_000, 500, 1_100, true, 20),
      run('relay', 20_000, 400, 1_000),
    ],
    search: [
      run('relay', 40_000, 300, 900),
      run('hub', 40_000, 600, 2_000),
      run('hub', 60_000, 700, 3_000),
      run('relay', 60_000, 300, 900),
      run('relay', 80_000, 300, 90_000, false),
      run('hub', 80_000, 900, 60_000, false),
    ],
  };

  it('finds the highest sustained rate per side', () => {
    expect(maxSustained(runs.search, 'hub')?.rate).toBe(60_000);
    expect(maxSustained(runs.search, 'relay')?.rate).toBe(60_000);
    expect(maxSustained([run('hub', 40_000, 1, 1, false)], 'hub')).toBeUndefined();
  });

  it('pairs hub and relay per rate, with ratios above 1 meaning the hub is better', () => {
    const rows = endToEndResults(runs, 20_000);
    expect(rows.map((r) => r.name)).toEqual([
      'e2e/uws latency @1k msg/s',
      'e2e/uws latency @20k msg/s',
      'e2e/uws p99 @20k msg/s (target: ratio >= 0.83)',
      'e2e/uws max sustained ingest (4 subscribers)',
      'e2e/uws server CPU @20k msg/s',
      'e2e/uws subscriber CPU @20k msg/s (mean of 4)',
      'e2e/uws server RSS @20k msg/s',
      'e2e/uws subscriber RSS @20k msg/s (mean of 4)',
    ]);
    const [at1k, at20k, target, max, cpu, subCpu] = rows;
    expect(at1k).toMatchObject({
      unit: 'us',
      median: 400,
      p99: 1_000,
      baseline: 300,
      baselineP99: 900,
      p999: 2_000,
      baselineP999: 1_800,
    });
    expect(at1k?.ratio).toBeCloseTo(0.75, 9);
    expect(at20k?.ratio).toBeCloseTo(0.8, 9);
    expect(target).toMatchObject({ median: 1_100, baseline: 1_000 });
    expect(target?.ratio).toBeCloseTo(1_000 / 1_100, 9);
    expect(max).toMatchObject({ unit: 'msg/s', median: 60_000, baseline: 60_000, ratio: 1 });
    expect(cpu).toMatchObject({ unit: '%core', median: 20, baseline: 10, ratio: 0.5 });
    expect(subCpu).toMatchObject({ median: 21, baseline: 11 });
  });

  it('reports a max of 0 for a side that sustained nothing', () => {
    const rows = endToEndResults(
      { ...runs, search: [run('hub', 40_000, 1, 1, false), run('relay', 40_000, 1, 1)] },
      20_000,
    );
    expect(rows.find((r) => r.unit === 'msg/s')).toMatchObject({ median: 0, baseline: 40_000, ratio: 0 });
  });

  it('averages subscribers and prints one table line per phase', () => {
    expect(subscriberMean([usage(10, 60), usage(20, 80)])).toEqual({
      cpuPercent: 15,
      rssMiB: 70,
      heapUsedMiB: 10,
      maxRssMiB: 75,
    });
    expect(rateLabel(20_000)).toBe('20k');
    expect(rateLabel(1_500)).toBe('1500');
    const lines = phaseTable([...runs.fixed, ...runs.search]).split('\n');
    expect(lines).toHaveLength(2 + 10);
    expect(lines[2]).toMatch(/^uws\s+relay\s+1k\s.*ok$/);
    expect(lines.at(-1)).toMatch(/latency growing$/);
  });

  it('says what the ws fallback costs when both transports ran, and nothing when one did', () => {
    const ws = {
      transport: 'ws',
      fixed: [run('hub', 20_000, 800, 2_200, true, 30)],
      search: [run('hub', 40_000, 1, 1), run('hub', 60_000, 1, 1, false)],
    };
    const rows = fallbackCost([runs, ws], 20_000);
    expect(rows.map((r) => [r.name, r.median, r.baseline])).toEqual([
      ['e2e/fallback to ws: hub p99 @20k msg/s (uWS vs ws)', 1_100, 2_200],
      ['e2e/fallback to ws: hub server CPU @20k msg/s (uWS vs ws)', 20, 30],
      ['e2e/fallback to ws: hub max sustained ingest (uWS vs ws)', 60_000, 40_000],
    ]);
    expect(rows[0]?.ratio).toBeCloseTo(2, 9);
    expect(fallbackCost([ws], 20_000)).toEqual([]);
  });

  it("takes each side's median over the rounds, and lists each round's ratio", () => {
    // Three rounds at 20k: the hub's second round is an outlier, the relay's third.
    const rounds = {
      transport: 'uws',
      fixed: [
        run('relay', 20_000, 100, 400),
        run('hub', 20_000, 120, 500),
        run('hub', 20_000, 300, 3_000),
        run('relay', 20_000, 110, 420),
        run('relay', 20_000, 400, 5_000),
        run('hub', 20_000, 125, 480),
      ],
      search: [],
    };
    const [latency, p99] = endToEndResults(rounds, 20_000);
    expect(latency).toMatchObject({ median: 125, baseline: 110, p99: 500, baselineP99: 420 });
    expect(latency?.ratio).toBeCloseTo(110 / 125, 9);
    expect(p99).toMatchObject({ median: 500, baseline: 420 });
    expect(endToEndResults(rounds, 20_000, false)[1]?.name).toBe('e2e/uws p99 @20k msg/s');
    // Rounds in the order they ran: 120/100, 300/110, 125/400.
    expect(roundLines([rounds])).toBe(
      'uws 20000 msg/s: relay p50 110 µs (1.00×) p99 420 µs [1.00 1.00 1.00] | hub p50 125 µs (1.14×) p99 500 µs [1.20 2.73 0.31]',
    );
  });
});
