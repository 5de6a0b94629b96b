// Prints benchmark results as a table and writes them as JSON.
import { writeFileSync } from 'node:fs';
import type { Result } from './harness.js';

function figure(value: number): string {
  if (value >= 1000) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A fixed-width table of the results, one row per case. */
export function table(results: Result[]): string {
  const header = ['case', 'unit', 'ours p50', 'ours p99', 'base p50', 'base p99', 'ratio'];
  const rows = results.map((r) => [
    r.name,
    r.unit,
    figure(r.median),
    figure(r.p99),
    figure(r.baseline),
    figure(r.baselineP99),
    `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Writes `{ name, unit, median, p99, baseline, ratio }` per case (plus the baseline's p99). */
export function writeJson(
  path: string,
  results: Result[],
  meta: Record<string, string | number | boolean>,
): void {
  writeFileSync(path, `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
}
