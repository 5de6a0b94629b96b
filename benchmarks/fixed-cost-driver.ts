// Instruction-count driver: `calls` one-update calls of one path, inputs identical whatever `calls` is (run under callgrind twice and subtract).
//
//   valgrind --tool=callgrind node dist/benchmarks/fixed-cost-driver.js encode 500
//   valgrind --tool=callgrind node dist/benchmarks/fixed-cost-driver.js encode 3500
//
// (the difference of the two totals, per function, divided by 3,000 is the cost of one call;
// docs/benchmarks-journal.md, issue 18). Paths: encode (push + take), encode1 (both in one call), hubturn, apply1; hubturn2 and apply2 are the same
// turns and applies with a wire-2 (compact frame) topic; hubturn26 and apply26 are a turn of a 26-update Ingest frame and the
// trader's apply of its 26-row compact frame (about what a turn carries at 20k updates/s); rest is one 45-row REST klines poll parsed
// and merged (a poll every 5 s of one series, as the bench case `parse+merge/REST klines`); agg is
// 64 aggTrade messages into the 11-interval BarAggregator (the case `parse+aggregate/aggTrade`).
import { BarAggregator, HubBook, IngestEncoder, TraderBook, type WireVersion } from '../ts/native/index.js';
import { aggTradeStream, HUB_CLOCK, klineStream, restKlinesBodies, SYMBOLS } from './fixtures.js';
import { BATCH_ROWS, hubFrames } from './stages/fixed-costs.js';

const [path, callsText] = process.argv.slice(2);
const calls = Number(callsText);
const INPUTS = 4_000;
if (!Number.isInteger(calls) || calls < 0 || calls > INPUTS) {
  throw new Error(
    `usage: fixed-cost-driver <encode|encode1|hubturn|hubturn2|hubturn26|apply1|apply2|apply26|rest|agg> <calls, at most ${INPUTS}>`,
  );
}
const messages = klineStream(INPUTS);
const frames: Buffer[] = [];
const collector = new IngestEncoder(SYMBOLS);
for (const message of messages) {
  collector.pushMarketEvents([message]);
  const frame = collector.takeFrame(1, HUB_CLOCK);
  if (frame === null) throw new Error('no frame');
  frames.push(frame);
}
/** The Delta frames of every turn in `wire` (stream 7 for wire 1, 8 for wire 2), and the snapshot they follow. */
function published(wire: WireVersion): { snapshot: Buffer[]; deltas: Buffer[] } {
  const stream = 6 + wire;
  const hub = new HubBook({ symbols: SYMBOLS });
  hub.addTopic(stream, {}, wire);
  const snapshot = hub.topicSnapshotFrames(stream, HUB_CLOCK);
  const deltas = frames.map((frame) => {
    const delta = hub.ingestTurn([frame], [1], HUB_CLOCK).frames[0];
    if (delta === undefined) throw new Error('no delta');
    return delta.frame;
  });
  return { snapshot, deltas };
}
const wire1 = published(1);
const wire2 = published(2);
const timedHub = new HubBook({ symbols: SYMBOLS });
timedHub.addTopic(7, {});
const timedHub2 = new HubBook({ symbols: SYMBOLS });
timedHub2.addTopic(8, {}, 2);
const trader = new TraderBook();
for (const chunk of wire1.snapshot) trader.apply(chunk);
const trader2 = new TraderBook();
for (const chunk of wire2.snapshot) trader2.apply(chunk);
const batched = hubFrames(klineStream(INPUTS * BATCH_ROWS), BATCH_ROWS, 2);
const timedHub26 = new HubBook({ symbols: SYMBOLS });
timedHub26.addTopic(8, {}, 2);
const trader26 = new TraderBook();
for (const chunk of batched.snapshot) trader26.apply(chunk);
const encoder = new IngestEncoder(SYMBOLS);
const polls = restKlinesBodies(INPUTS);
const restHub = new HubBook({ symbols: SYMBOLS });
const AGG_BATCH = 64;
const trades = aggTradeStream(INPUTS * AGG_BATCH);
const aggregator = new BarAggregator('BTCUSDT');

const paths: Record<string, (i: number) => void> = {
  encode: (i) => {
    encoder.pushMarketEvents([messages[i] as Buffer]);
    encoder.takeFrame(1, HUB_CLOCK);
  },
  encode1: (i) => {
    encoder.pushAndTakeFrame(messages[i] as Buffer, 1, HUB_CLOCK);
  },
  hubturn: (i) => {
    timedHub.ingestTurn([frames[i] as Buffer], [1], HUB_CLOCK);
  },
  hubturn2: (i) => {
    timedHub2.ingestTurn([frames[i] as Buffer], [1], HUB_CLOCK);
  },
  hubturn26: (i) => {
    timedHub26.ingestTurn([batched.ingest[i] as Buffer], [1], HUB_CLOCK);
  },
  apply26: (i) => {
    trader26.applyMany([batched.deltas[i] as Buffer]);
  },
  apply1: (i) => {
    trader.applyMany([wire1.deltas[i] as Buffer]);
  },
  apply2: (i) => {
    trader2.applyMany([wire2.deltas[i] as Buffer]);
  },
  agg: (i) => {
    aggregator.pushMessages(trades.slice(i * AGG_BATCH, (i + 1) * AGG_BATCH));
  },
  rest: (i) => {
    restHub.mergeRestKlines(0, '1m', polls.bodies[i] as Buffer, polls.serverTimes[i] ?? 0, 2, HUB_CLOCK);
    restHub.discardDeltas();
  },
};
const call = paths[path ?? ''];
if (call === undefined) throw new Error(`unknown path ${path}; one of ${Object.keys(paths).join(', ')}`);
for (let i = 0; i < calls; i++) call(i);
