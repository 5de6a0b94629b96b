// `npm run bench`: per-stage figures of the native path against pure-TypeScript baselines in one process.
import { cpus } from 'node:os';
import { scriptArgs } from '../app/cli/usage-error.js';
import type { Case } from './case.js';
import { compare, FULL, measured, QUICK, type Result } from './harness.js';
import { table, writeJson } from './report.js';
import { aggregateCases } from './stages/aggregate.js';
import { backtestMeasures } from './stages/backtest.js';
import { deltaCases } from './stages/delta.js';
import { endToEndStage, universeStage, uwsUnavailable } from './stages/end-to-end.js';
import { coalescingMeasures, fixedCostCases } from './stages/fixed-costs.js';
import { parseMergeCases } from './stages/parse-merge.js';
import { storageMeasures } from './stages/storage.js';
import { strategyEventCases } from './stages/strategy-events.js';
import { wireBytes } from './stages/wire-bytes.js';

const USAGE = `usage: npm run bench -- [--quick] [--json <file>] [--filter <text>]
  --quick          a run under a minute (indicative only)
  --json <file>    also write the figures as JSON
  --filter <text>  only the cases whose name contains <text>
`;

const values = scriptArgs('bench', USAGE, {
  options: {
    quick: { type: 'boolean' },
    json: { type: 'string' },
    filter: { type: 'string' },
  },
});

const quick = values.quick === true;
const budget = quick ? QUICK : FULL;
const scale = quick ? 0.25 : 1;
const started = Date.now();

const cases: Case[] = [
  ...parseMergeCases(scale),
  ...deltaCases(scale),
  ...fixedCostCases(scale),
  ...strategyEventCases(),
  ...aggregateCases(),
].filter((c) => values.filter === undefined || c.name.includes(values.filter));
const results: Result[] = [];
for (const c of cases) {
  process.stderr.write(`bench: ${c.name} ...\n`);
  const result = compare(c, budget);
  results.push(result);
  if (c.name.startsWith('parse+aggregate/aggTrade')) {
    // The same measurement as a rate: aggTrades per second into all 11 intervals.
    const perSecond = (ns: number): number => 1e9 / ns;
    results.push(
      measured({
        name: 'aggregate/aggTrades per second (11 intervals)',
        unit: 'msg/s',
        ours: perSecond(result.median),
        baseline: perSecond(result.baseline),
      }),
    );
  }
}
if (values.filter === undefined || values.filter.startsWith('backtest')) {
  process.stderr.write('bench: backtest/full day ...\n');
  results.push(...(await backtestMeasures(quick)).map(measured));
}
if (values.filter === undefined || values.filter.startsWith('storage')) {
  process.stderr.write('bench: storage ...\n');
  results.push(...(await storageMeasures(quick)).map(measured));
}
if (values.filter === undefined || 'wire'.includes(values.filter) || values.filter.startsWith('wire')) {
  results.push(...wireBytes().map(measured));
}
if (values.filter === undefined || values.filter.startsWith('hub/')) {
  results.push(...coalescingMeasures().map(measured));
}
// Stage 4 runs peer processes (dist/benchmarks/e2e/peer.js): `--filter e2e` runs it alone.
let endToEndTable: string | undefined;
let endToEndSeconds = 0;
// `--filter e2e/universe` runs only the real-universe case of stage 4.
if (values.filter === undefined || values.filter.startsWith('e2e')) {
  const stageStarted = Date.now();
  const tables: string[] = [];
  if (values.filter === undefined || !values.filter.startsWith('e2e/universe')) {
    const stage = await endToEndStage(quick);
    results.push(
      ...stage.results.filter((r) => values.filter === undefined || r.name.includes(values.filter)),
    );
    tables.push(stage.table);
  }
  if (values.filter === undefined || values.filter === 'e2e' || values.filter.startsWith('e2e/universe')) {
    const universe = await universeStage(quick);
    results.push(...universe.results);
    tables.push(universe.table);
  }
  endToEndTable = tables.join('\n\n');
  endToEndSeconds = (Date.now() - stageStarted) / 1000;
}

const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(
  `tributary bench (${quick ? 'quick' : 'full'}) on ${cpu} ×${cpus().length}, node ${process.version}`,
);
console.log('ours = native core; base = pure TypeScript doing the same work; ratio > 1: ours is better\n');
const noUws = uwsUnavailable();
if (noUws !== undefined && endToEndTable !== undefined) {
  console.log(
    `${noUws}\nThe hub runs on ws here: the e2e/ws rows are what this Node gives; what uWS would add is the\n"e2e/fallback to ws" rows of a run on Node 20 (docs/benchmarks.md).\n`,
  );
}
console.log(table(results));
if (endToEndTable !== undefined) {
  console.log(
    `\nstage 4 phases (${endToEndSeconds.toFixed(1)} s): latency from the collector's send to the subscriber's apply; CPU in % of one core, memory in MiB, subscribers as the mean of 4\n`,
  );
  console.log(endToEndTable);
}
console.log(`\n${results.length} figures in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (values.json !== undefined) {
  writeJson(values.json, results, {
    quick,
    node: process.version,
    cpu,
    cpus: cpus().length,
    date: new Date().toISOString(),
  });
  console.log(`wrote ${values.json}`);
}
