// Assembles the end-to-end phases into report rows (hub against relay) and a per-process table.
import { type Result, ratio } from '../harness.js';
import type { PhaseRun } from './coordinator.js';
import type { ProcessUsage } from './protocol.js';

/** What one transport produced: fixed-rate phases of both sides and each side's max search. */
export interface TransportRuns {
  transport: string;
  /** Fixed-rate phases, both sides. */
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

/**
 * Report rows of one transport: per fixed rate the latency (p50 with p99 and p999; ratio on the
 * medians) and, at the rate the target names, p99 against p99; the max sustained rate; CPU and
 * memory of the server and the subscribers at the highest fixed rate.
 */
export function endToEndResults(runs: TransportRuns, targetRate: number): Result[] {
  const t = runs.transport;
  const out: Result[] = [];
  const rates = [...new Set(runs.fixed.map((r) => r.rate))].sort((a, b) => a - b);
  for (const rate of rates) {
    const hub = runs.fixed.find((r) => r.rate === rate && r.side === 'hub');
    const relay = runs.fixed.find((r) => r.rate === rate && r.side === 'relay');
    if (hub === undefined || relay === undefined) continue;
    const h = hub.summary;
    const b = relay.summary;
    out.push({
      ...row(`e2e/${t} latency @${rateLabel(rate)} msg/s`, 'us', h.p50Us, b.p50Us, h.p99Us, b.p99Us),
      p999: h.p999Us,
      baselineP999: b.p999Us,
    });
    if (rate === targetRate)
      out.push(
        row(
          `e2e/${t} p99 @${rateLabel(rate)} msg/s (target: ratio >= 0.91)`,
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
  const hubAt = (r: TransportRuns) => r.fixed.find((p) => p.rate === targetRate && p.side === 'hub');
  const u = hubAt(uws);
  const w = hubAt(ws);
  const at = `@${rateLabel(targetRate)} msg/s`;
  if (u !== undefined && w !== undefined) {
    out.push(
      row(`e2e/fallback to ws: hub p99 ${at} (uWS vs ws)`, 'us', u.summary.p99Us, w.summary.p99Us),
      row(
        `e2e/fallback to ws: hub server CPU ${at} (uWS vs ws)`,
        '%core',
        u.usage.server.cpuPercent,
        w.usage.server.cpuPercent,
      ),
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
