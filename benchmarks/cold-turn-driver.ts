// Cold-cache driver: a stage 4 turn's native calls timed right after the caches were flushed, as a process that sleeps between 1 ms turns finds them.
//
//   node dist/benchmarks/cold-turn-driver.js [updates per frame] [MiB evicted] [calls] [wire]
//   node dist/benchmarks/cold-turn-driver.js 1 64 300      # one-update turns, caches flushed
//   node dist/benchmarks/cold-turn-driver.js 20 0 300      # 20-update turns, caches warm
//   valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=33554432,16,64 \
//     node dist/benchmarks/cold-turn-driver.js 1 40 100    # where the cold misses are, per function
//
// The frames are stage 4's (benchmarks/e2e/market-stream.ts: 200 symbols, kline_1m and quotes),
// merged by a hub book with one topic in `wire` (default 3, what TraderFeed asks for) and applied
// by a trader book that took its snapshot.
// Before each timed call the driver writes one word per cache line of an `evict`-MiB array (0:
// no flushing), which leaves the code and data of the call cold, as on the 2-core machine where
// six processes share the caches (docs/benchmarks-journal.md, "Where a cold turn's time goes"). It prints
// the median of each call in microseconds, and of two reference calls: a native getter (the
// cheapest crossing into the addon) and `Date.now()`.

import { HubBook, IngestEncoder, TraderBook, type WireVersion } from '../ts/native/index.js';
import { E2E_SYMBOLS, MarketStream } from './e2e/market-stream.js';

const [updatesText = '1', evictText = '64', callsText = '300', wireText = '3'] = process.argv.slice(2);
const updates = Number(updatesText);
const evictMiB = Number(evictText);
const calls = Number(callsText);
const wire = Number(wireText);
if (
  ![updates, evictMiB, calls].every((n) => Number.isInteger(n) && n >= 0) ||
  updates === 0 ||
  calls === 0 ||
  (wire !== 1 && wire !== 2 && wire !== 3)
) {
  throw new Error(
    'usage: cold-turn-driver [updates per frame ≥ 1] [MiB evicted ≥ 0] [calls ≥ 1] [wire 1, 2 or 3]',
  );
}
/** Untimed calls first, so the JIT has settled. */
const WARMUP = 100;
const NOW = 1778198400000 + 5_000;

const stream = new MarketStream();
const collector = new IngestEncoder(E2E_SYMBOLS);
const frames: Buffer[] = [];
for (let i = 0; i < WARMUP + calls; i++) {
  collector.pushMarketEvents(stream.take(updates));
  const frame = collector.takeFrame(1, NOW);
  if (frame === null) throw new Error('the collector encoded nothing');
  frames.push(frame);
}
const hub = new HubBook({ symbols: E2E_SYMBOLS });
hub.addTopic(8, {}, wire as WireVersion);
const trader = new TraderBook();
for (const chunk of hub.topicSnapshotFrames(8, NOW)) trader.apply(chunk);

const evicted = new Float64Array((evictMiB * 1024 * 1024) / 8);
/** Writes one word per 64-byte line of `evicted`. */
function evict(): void {
  for (let i = 0; i < evicted.length; i += 8) evicted[i] = (evicted[i] ?? 0) + 1;
}
/** µs of one call of `run` after the caches were flushed. */
function timed(run: () => void): number {
  evict();
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1000;
}

const samples = {
  getter: [] as number[],
  dateNow: [] as number[],
  ingestTurn: [] as number[],
  applyMany: [] as number[],
};
/** Frames the trader applied, every call counted: the run's own check that the turns carried something. */
let applied = 0;
for (let i = 0; i < WARMUP + calls; i++) {
  const getter = timed(() => {
    void hub.pendingDeltas;
  });
  const dateNow = timed(() => {
    void Date.now();
  });
  let deltas: Buffer[] = [];
  const ingestTurn = timed(() => {
    deltas = hub.ingestTurn([frames[i] as Buffer], [1], NOW).frames.map((f) => f.frame);
  });
  const applyMany = timed(() => {
    applied += trader.applyMany(deltas).applied;
  });
  if (i < WARMUP) continue;
  samples.getter.push(getter);
  samples.dateNow.push(dateNow);
  samples.ingestTurn.push(ingestTurn);
  samples.applyMany.push(applyMany);
}
const median = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[sorted.length >> 1] ?? Number.NaN).toFixed(1);
};
console.log(
  `${updates} update(s) a frame, wire ${wire}, ${evictMiB} MiB evicted, ${calls} calls (median µs): ` +
    Object.entries(samples)
      .map(([name, values]) => `${name} ${median(values)}`)
      .join(', ') +
    `; ${applied} frames applied`,
);
