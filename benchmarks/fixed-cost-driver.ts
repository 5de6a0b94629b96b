// Instruction-count driver: `calls` one-update calls of one path, inputs identical whatever `calls` is (run under callgrind twice and subtract).
//
//   valgrind --tool=callgrind node dist/benchmarks/fixed-cost-driver.js encode 500
//   valgrind --tool=callgrind node dist/benchmarks/fixed-cost-driver.js encode 3500
//
// (the difference of the two totals, per function, divided by 3,000 is the cost of one call;
// docs/benchmarks.md, issue 18). Paths: encode, hubturn, apply1.
import { HubBook, IngestEncoder, TraderBook } from '../ts/native/index.js';
import { HUB_CLOCK, klineStream, SYMBOLS } from './fixtures.js';

const [path, callsText] = process.argv.slice(2);
const calls = Number(callsText);
const INPUTS = 4_000;
if (!Number.isInteger(calls) || calls < 0 || calls > INPUTS) {
  throw new Error(`usage: fixed-cost-driver <encode|hubturn|apply1> <calls, at most ${INPUTS}>`);
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
const hub = new HubBook({ symbols: SYMBOLS });
hub.addTopic(7, {});
const snapshot = hub.topicSnapshotFrames(7, HUB_CLOCK);
const deltas = frames.map((frame) => {
  const delta = hub.ingestTurn([frame], [1], HUB_CLOCK).frames[0];
  if (delta === undefined) throw new Error('no delta');
  return delta.frame;
});
const timedHub = new HubBook({ symbols: SYMBOLS });
timedHub.addTopic(7, {});
const trader = new TraderBook();
for (const chunk of snapshot) trader.apply(chunk);
const encoder = new IngestEncoder(SYMBOLS);

const paths: Record<string, (i: number) => void> = {
  encode: (i) => {
    encoder.pushMarketEvents([messages[i] as Buffer]);
    encoder.takeFrame(1, HUB_CLOCK);
  },
  hubturn: (i) => {
    timedHub.ingestTurn([frames[i] as Buffer], [1], HUB_CLOCK);
  },
  apply1: (i) => {
    trader.applyMany([deltas[i] as Buffer]);
  },
};
const call = paths[path ?? ''];
if (call === undefined) throw new Error(`unknown path ${path}; one of ${Object.keys(paths).join(', ')}`);
for (let i = 0; i < calls; i++) call(i);
