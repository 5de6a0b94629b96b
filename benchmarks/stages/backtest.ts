// Stage 5: a full backtest day, aggTrades per second through aggregator, engine, demo strategy and matching; native bars against TypeScript bars.
import { existsSync, readFileSync } from 'node:fs';
import { runBacktest } from '../../app/backtest/backtest-runner.js';
import type { BarBuilderFactory } from '../../app/backtest/symbol-tape.js';
import { nativeBarBuilder } from '../../app/backtest/symbol-tape.js';
import { demoStrategy } from '../../trader/strategies/demo/demo-strategy.js';
import { jsBarBuilder } from '../baseline/backtest-bars.js';
import type { Measure } from '../case.js';
import { DAY_FILE } from './aggregate.js';

/** The demo with thresholds the shared day crosses (so orders are placed and matched). */
const DEMO = { openAbove: '0.002', closeBelow: '-0.001', notional: '1000' };

/** Rows of the day (lines but the header). */
function countTrades(): number {
  const bytes = readFileSync(DAY_FILE);
  let lines = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines += 1;
  return lines - 1;
}

async function once(builder: BarBuilderFactory): Promise<{ seconds: number; fills: number }> {
  const started = process.hrtime.bigint();
  const out = await runBacktest({
    strategyName: 'demo',
    strategy: demoStrategy.create(demoStrategy.config.parse(DEMO)),
    files: [DAY_FILE],
    barBuilder: builder,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, fills: out.recorder.fills.length };
}

async function median(builder: BarBuilderFactory, runs: number): Promise<{ seconds: number; fills: number }> {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once(builder));
  results.sort((a, b) => a.seconds - b.seconds);
  return results[Math.floor(results.length / 2)] as { seconds: number; fills: number };
}

/**
 * The backtest case: the whole shared day through `runBacktest` (data read in 1 MiB chunks, bars,
 * engine, demo strategy, simulator matching), timed end to end; the baseline runs the same engine
 * with bars built in TypeScript. Reported as aggTrades per second and seconds for the day.
 */
export async function backtestMeasures(quick: boolean): Promise<Measure[]> {
  if (!existsSync(DAY_FILE)) {
    console.warn(`SKIP: ${DAY_FILE} is absent; the backtest case does not run`);
    return [];
  }
  const runs = quick ? 3 : 7;
  await once(nativeBarBuilder); // warm-up
  const native = await median(nativeBarBuilder, runs);
  const base = await median(jsBarBuilder, runs);
  if (native.fills !== base.fills)
    throw new Error(`native and baseline backtests disagree: ${native.fills} vs ${base.fills} fills`);
  const trades = countTrades();
  return [
    {
      name: 'backtest/full day, demo: aggTrades per second',
      unit: 'msg/s',
      ours: trades / native.seconds,
      baseline: trades / base.seconds,
    },
    {
      name: 'backtest/full day, demo: engine time',
      unit: 'us',
      ours: native.seconds * 1e6,
      baseline: base.seconds * 1e6,
    },
  ];
}
