// Stage 2: delta encode at the hub and decode + apply at the trader, FlatBuffers frames against JSON.
import { HubBook, TraderBook } from '../../ts/native/index.js';
import { encodeJsonDelta, encodeJsonSnapshot, JsTraderBook } from '../baseline/json-delta.js';
import { JsMergeBook } from '../baseline/merge-book.js';
import type { JsDelta } from '../baseline/records.js';
import type { Case } from '../case.js';
import { Feed } from '../feed.js';
import { HUB_CLOCK, klineStream, SYMBOLS } from '../fixtures.js';

const STREAM = 1;
/** Messages merged per hub turn before one delta frame is encoded. */
const HUB_BATCH = 16;
/** Frames a trader applies per timed call. */
const TRADER_BATCH = 64;

/** The same kline updates as native Delta frames and as JSON deltas, one per exchange message, seq 1.. */
export function deltaFrames(messages: Buffer[]): {
  frames: Buffer[];
  json: Buffer[];
  snapshot: Buffer;
  jsonSnapshot: Buffer;
} {
  const hub = new HubBook({ symbols: SYMBOLS });
  const out: JsDelta[] = [];
  const jsHub = new JsMergeBook(out);
  const frames: Buffer[] = [];
  const json: Buffer[] = [];
  const snapshot = hub.snapshotFrame(STREAM, 0, 0);
  const jsonSnapshot = Buffer.from(encodeJsonSnapshot(STREAM, 0, jsHub.snapshot()));
  messages.forEach((message, i) => {
    hub.mergeMarketEvents([message], 1, HUB_CLOCK);
    const frame = hub.takeDeltaFrame(STREAM, i + 1, 0);
    if (frame === null) throw new Error(`message ${i} changed nothing`);
    frames.push(frame);
    jsHub.mergeKlineMessage(message.toString());
    json.push(Buffer.from(encodeJsonDelta(STREAM, i + 1, out)));
    out.length = 0;
  });
  return { frames, json, snapshot, jsonSnapshot };
}

/** Stage 2 cases; `scale` multiplies the stream lengths (smaller for --quick). */
export function deltaCases(scale: number): Case[] {
  const messages = klineStream(Math.max(TRADER_BATCH * 4, Math.round(20_000 * scale)));

  // Hub: merge a turn's messages, then encode what changed as one frame.
  let seq = 0;
  let jsSeq = 0;
  const hubFeed = new Feed(messages, HUB_BATCH, () => new HubBook({ symbols: SYMBOLS }));
  const jsHubFeed = new Feed(messages, HUB_BATCH, () => {
    const out: JsDelta[] = [];
    return { book: new JsMergeBook(out), out };
  });

  // Trader: apply the hub's frames in order, starting from its snapshot.
  const { frames, json, snapshot, jsonSnapshot } = deltaFrames(messages);
  const traderFeed = new Feed(frames, TRADER_BATCH, () => {
    const book = new TraderBook();
    book.apply(snapshot);
    return book;
  });
  const jsTraderFeed = new Feed(json, TRADER_BATCH, () => {
    const book = new JsTraderBook();
    book.applyJson(jsonSnapshot.toString());
    return book;
  });

  return [
    {
      name: 'hub/merge+encode delta (kline)',
      unit: 'ns/msg',
      batch: HUB_BATCH,
      setup: () => {
        hubFeed.reset();
        jsHubFeed.reset();
      },
      native: () => {
        const { state, items } = hubFeed.next();
        state.mergeMarketEvents(items as Buffer[], 1, HUB_CLOCK);
        state.takeDeltaFrame(STREAM, ++seq, 0);
      },
      baseline: () => {
        const { state, items } = jsHubFeed.next();
        for (const message of items) state.book.mergeKlineMessage(message.toString());
        encodeJsonDelta(STREAM, ++jsSeq, state.out);
        state.out.length = 0;
      },
    },
    {
      name: 'trader/decode+apply delta (kline)',
      unit: 'ns/msg',
      batch: TRADER_BATCH,
      setup: () => {
        traderFeed.reset();
        jsTraderFeed.reset();
      },
      native: () => {
        const { state, items } = traderFeed.next();
        state.applyMany(items as Buffer[]);
      },
      baseline: () => {
        const { state, items } = jsTraderFeed.next();
        for (const text of items) state.applyJson(text.toString());
      },
      verify: () => {
        // Both traders, fed the whole stream, hold the same closes for every symbol.
        const native = new TraderBook();
        native.apply(snapshot);
        const applied = native.applyMany(frames);
        const js = new JsTraderBook();
        js.applyJson(jsonSnapshot.toString());
        for (const text of json) js.applyJson(text.toString());
        if (applied.applied !== frames.length || applied.issues.length > 0) {
          throw new Error('native trader did not apply every frame');
        }
        SYMBOLS.forEach((symbol, id) => {
          const ours = Array.from(native.klineSeries(id, '1m')?.values('close') ?? []);
          const theirs = Array.from(js.klineSeries(symbol, '1m')?.values('close') ?? []);
          if (ours.length === 0 || ours.join() !== theirs.join()) {
            throw new Error(`${symbol}: traders disagree: ${ours.slice(-3)} vs ${theirs.slice(-3)}`);
          }
        });
      },
    },
  ];
}
