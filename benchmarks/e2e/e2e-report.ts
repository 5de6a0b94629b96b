// Assembles the end-to-end phases into report rows (hub against relay) and a per-process table.
import { type Result, ratio } from '../harness.js';
import { summariseRate } from './ab-plan.js';
import type { PhaseRun } from './coordinator.js';
import { median, type PhaseSummary } from './phase-summary.js';
import type { ProcessUsage } from './protocol.js';

/** What one transport produced: fixed-rate phases of both sides and each side's max search. */
export interface TransportRuns {
  transport: string;
  /** Fixed-rate phases, both sides, every round. */
  fixed: PhaseRun[];
  /** The max search, every step of both sides in order. */
  search: PhaseRun[];
}

/** The highest rate a side sustained in the search (0 when none), and the phase that showed it. */
export function maxSustained(search: readonly PhaseRun[], side: PhaseRun['side']): PhaseRun | undefined {
  let best: PhaseRun | undefined;
  for (const run of search) {
    if (run.side === side && run.summary.sustained && (best === undefined || run.rate > best.rate))
      best = run;
  }
  return best;
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean CPU, RSS and heap of the subscribers. */
export function subscriberMean(usage: readonly ProcessUsage[]): ProcessUsage {
  return {
    cpuPercent: mean(usage.map((u) => u.cpuPercent)),
    rssMiB: mean(usage.map((u) => u.rssMiB)),
    heapUsedMiB: mean(usage.map((u) => u.heapUsedMiB)),
    maxRssMiB: mean(usage.map((u) => u.maxRssMiB)),
  };
}

function row(
  name: string,
  unit: Result['unit'],
  ours: number,
  base: number,
  oursP99 = ours,
  baseP99 = base,
): Result {
  return {
    name,
    unit,
    median: ours,
    p99: oursP99,
    baseline: base,
    baselineP99: baseP99,
    ratio: ratio(unit, ours, base),
  };
}

/** A compact label for a rate: 1000 → `1k`, 20000 → `20k`. */
export function rateLabel(rate: number): string {
  return rate % 1000 === 0 ? `${rate / 1000}k` : String(rate);
}

/** A side's latency at one rate over its rounds: the median of each percentile. */
type Latency = Pick<PhaseSummary, 'p50Us' | 'p99Us' | 'p999Us'>;

function latencyOver(runs: readonly PhaseRun[]): Latency | undefined {
  if (runs.length === 0) return undefined;
  const of = (pick: (s: PhaseSummary) => number): number => median(runs.map((r) => pick(r.summary)));
  return { p50Us: of((s) => s.p50Us), p99Us: of((s) => s.p99Us), p999Us: of((s) => s.p999Us) };
}

/**
 * One line per transport and fixed rate, in the rotating A/B's form (`summariseRate`): each side's
 * median p50 and p99 over the rounds, the hub's ratio to the relay, and each round's ratio.
 */
export function roundLines(runs: readonly TransportRuns[]): string {
  const lines: string[] = [];
  for (const r of runs) {
    const rates = [...new Set(r.fixed.map((p) => p.rate))].sort((a, b) => a - b);
    for (const rate of rates) {
      const sides = (['relay', 'hub'] as const).map((side) =>
        r.fixed.filter((p) => p.rate === rate && p.side === side),
      );
      const pick = (of: (p: PhaseRun) => number) => sides.map((phases) => phases.map(of));
      lines.push(
        `${r.transport} ${summariseRate(
          rate,
          ['relay', 'hub'],
          pick((p) => p.summary.p50Us),
          pick((p) => p.summary.p99Us),
        )}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Report rows of one transport: per fixed rate the latency (the median over the rounds of each
 * side's p50, p99 and p999; the ratio on the p50s) and, at `p99Rate`, p99 against p99 (labelled
 * with issue 18's 1.2× when `p99Target`: the universe stage reports it without a target); the max
 * sustained rate; CPU and memory of the server and the subscribers at the highest fixed rate (its
 * first round).
 */
export function endToEndResults(runs: TransportRuns, p99Rate: number, p99Target = true): Result[] {
  const t = runs.transport;
  const out: Result[] = [];
  const rates = [...new Set(runs.fixed.map((r) => r.rate))].sort((a, b) => a - b);
  for (const rate of rates) {
    const h = latencyOver(runs.fixed.filter((r) => r.rate === rate && r.side === 'hub'));
    const b = latencyOver(runs.fixed.filter((r) => r.rate === rate && r.side === 'relay'));
    if (h === undefined || b === undefined) continue;
    out.push({
      ...row(`e2e/${t} latency @${rateLabel(rate)} msg/s`, 'us', h.p50Us, b.p50Us, h.p99Us, b.p99Us),
      p999: h.p999Us,
      baselineP999: b.p999Us,
    });
    if (rate === p99Rate)
      out.push(
        row(
          `e2e/${t} p99 @${rateLabel(rate)} msg/s${p99Target ? ' (target: ratio >= 0.83)' : ''}`,
          'us',
          h.p99Us,
          b.p99Us,
          h.p999Us,
          b.p999Us,
        ),
      );
  }
  const hubMax = maxSustained(runs.search, 'hub');
  const relayMax = maxSustained(runs.search, 'relay');
  out.push(
    row(`e2e/${t} max sustained ingest (4 subscribers)`, 'msg/s', hubMax?.rate ?? 0, relayMax?.rate ?? 0),
  );
  const top = rates.at(-1);
  const hub = runs.fixed.find((r) => r.rate === top && r.side === 'hub');
  const relay = runs.fixed.find((r) => r.rate === top && r.side === 'relay');
  if (top !== undefined && hub !== undefined && relay !== undefined) {
    const at = `@${rateLabel(top)} msg/s`;
    const hs = subscriberMean(hub.usage.subscribers);
    const bs = subscriberMean(relay.usage.subscribers);
    out.push(
      row(`e2e/${t} server CPU ${at}`, '%core', hub.usage.server.cpuPercent, relay.usage.server.cpuPercent),
      row(`e2e/${t} subscriber CPU ${at} (mean of 4)`, '%core', hs.cpuPercent, bs.cpuPercent),
      row(`e2e/${t} server RSS ${at}`, 'MiB', hub.usage.server.rssMiB, relay.usage.server.rssMiB),
      row(`e2e/${t} subscriber RSS ${at} (mean of 4)`, 'MiB', hs.rssMiB, bs.rssMiB),
    );
  }
  return out;
}

const f0 = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');

/** One line per phase: rates, latency, loss, CPU and memory of every process, verdict. */
export function phaseTable(runs: readonly PhaseRun[]): string {
  const header = [
    'transport',
    'side',
    'target',
    'sent/s',
    'deliv/s',
    'p50 µs',
    'p99 µs',
    'p999 µs',
    'max µs',
    'lost',
    'lag99 ms',
    'srv cpu%',
    'col cpu%',
    'sub cpu%',
    'srv rss',
    'srv heap',
    'sub rss',
    'sub heap',
    'col rss',
    'verdict',
  ];
  const rows = runs.map((r) => {
    const s = r.summary;
    const sub = subscriberMean(r.usage.subscribers);
    return [
      r.transport,
      r.side,
      rateLabel(r.rate),
      f0(s.sentRate),
      f0(s.deliveredRate),
      f0(s.p50Us),
      f0(s.p99Us),
      f0(s.p999Us),
      f0(s.maxUs),
      String(s.lost),
      f1(s.collectorLagP99Ms),
      f1(r.usage.server.cpuPercent),
      f1(r.usage.collector.cpuPercent),
      f1(sub.cpuPercent),
      f1(r.usage.server.rssMiB),
      f1(r.usage.server.heapUsedMiB),
      f1(sub.rssMiB),
      f1(sub.heapUsedMiB),
      f1(r.usage.collector.rssMiB),
      s.verdict,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) =>
        i < 3 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * What a user loses where uWebSockets.js does not load and the hub falls back to `ws` (Node 22 and
 * 24 with the uWS build we can install, or mutual TLS): the hub's own figures on uWS ("ours")
 * against the same on ws ("base"), so a ratio above 1 is what the fallback costs.
 */
export function fallbackCost(runs: readonly TransportRuns[], targetRate: number): Result[] {
  const uws = runs.find((r) => r.transport === 'uws');
  const ws = runs.find((r) => r.transport === 'ws');
  if (uws === undefined || ws === undefined) return [];
  const out: Result[] = [];
  const hubAt = (r: TransportRuns) => r.fixed.filter((p) => p.rate === targetRate && p.side === 'hub');
  const u = hubAt(uws);
  const w = hubAt(ws);
  const uLatency = latencyOver(u);
  const wLatency = latencyOver(w);
  const at = `@${rateLabel(targetRate)} msg/s`;
  if (uLatency !== undefined && wLatency !== undefined) {
    const cpu = (runs: PhaseRun[]) => median(runs.map((p) => p.usage.server.cpuPercent));
    out.push(
      row(`e2e/fallback to ws: hub p99 ${at} (uWS vs ws)`, 'us', uLatency.p99Us, wLatency.p99Us),
      row(`e2e/fallback to ws: hub server CPU ${at} (uWS vs ws)`, '%core', cpu(u), cpu(w)),
    );
  }
  out.push(
    row(
      'e2e/fallback to ws: hub max sustained ingest (uWS vs ws)',
      'msg/s',
      maxSustained(uws.search, 'hub')?.rate ?? 0,
      maxSustained(ws.search, 'hub')?.rate ?? 0,
    ),
  );
  return out;
}
