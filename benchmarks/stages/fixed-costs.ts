// Per-frame fixed costs: a one-update frame through the collector's encoder, the hub's turn and the trader's apply, and a batch's cost per row.
import { HubBook, IngestEncoder, TraderBook, type WireVersion } from '../../ts/native/index.js';
import { parseKlineMessage } from '../baseline/binance-json.js';
import { encodeJsonDelta, encodeJsonSnapshot, JsTraderBook } from '../baseline/json-delta.js';
import { JsMergeBook } from '../baseline/merge-book.js';
import type { JsDelta } from '../baseline/records.js';
import type { Case, Measure } from '../case.js';
import { Feed } from '../feed.js';
import { HUB_CLOCK, klineStream, SYMBOLS } from '../fixtures.js';

/** One-update frames handled per timed call: each is its own frame, so this is per frame. */
const FRAMES_PER_CALL = 16;
/** Rows of a batch frame: what a trader gets per turn at about 20k updates/s. */
export const BATCH_ROWS = 26;
const STREAM = 7;

/**
 * The hub's frames for `messages`, `perFrame` updates to an Ingest frame and a turn, from a hub
 * with one topic following everything in Delta frame encoding `wire`.
 */
export function hubFrames(
  messages: Buffer[],
  perFrame: number,
  wire: WireVersion = 1,
): { ingest: Buffer[]; deltas: Buffer[]; snapshot: Buffer[]; rows: number } {
  const encoder = new IngestEncoder(SYMBOLS);
  const hub = new HubBook({ symbols: SYMBOLS });
  hub.addTopic(STREAM, {}, wire);
  const snapshot = hub.topicSnapshotFrames(STREAM, HUB_CLOCK);
  const ingest: Buffer[] = [];
  const deltas: Buffer[] = [];
  let rows = 0;
  for (let i = 0; i + perFrame <= messages.length; i += perFrame) {
    encoder.pushMarketEvents(messages.slice(i, i + perFrame));
    const frame = encoder.takeFrame(1, HUB_CLOCK);
    if (frame === null) throw new Error(`messages ${i}.. made no frame`);
    ingest.push(frame);
    const turn = hub.ingestTurn([frame], [1], HUB_CLOCK);
    const [delta] = turn.frames;
    if (delta === undefined) throw new Error(`messages ${i}.. changed nothing`);
    deltas.push(delta.frame);
    rows += turn.deltas;
  }
  return { ingest, deltas, snapshot, rows };
}

/** The same updates as JSON delta frames (one per `perFrame` messages) and the JSON snapshot they start from. */
export function jsonFrames(messages: Buffer[], perFrame: number): { deltas: Buffer[]; snapshot: string } {
  const out: JsDelta[] = [];
  const book = new JsMergeBook(out);
  const snapshot = encodeJsonSnapshot(STREAM, 0, book.snapshot());
  const deltas: Buffer[] = [];
  let seq = 0;
  for (let i = 0; i + perFrame <= messages.length; i += perFrame) {
    for (const message of messages.slice(i, i + perFrame)) book.mergeKlineMessage(message.toString());
    deltas.push(Buffer.from(encodeJsonDelta(STREAM, ++seq, out)));
    out.length = 0;
  }
  return { deltas, snapshot };
}

/** Per-frame fixed-cost cases; `scale` multiplies the stream lengths (smaller for --quick). */
export function fixedCostCases(scale: number): Case[] {
  const messages = klineStream(Math.max(FRAMES_PER_CALL * BATCH_ROWS * 4, Math.round(20_000 * scale)));
  const single = hubFrames(messages, 1);
  const singleJson = jsonFrames(messages, 1);
  const batched = hubFrames(messages, BATCH_ROWS);
  const batchedJson = jsonFrames(messages, BATCH_ROWS);
  const batchRows = batched.rows / batched.deltas.length;
  const compactSingle = hubFrames(messages, 1, 2);
  const compactBatched = hubFrames(messages, BATCH_ROWS, 2);

  let encoder = new IngestEncoder(SYMBOLS);
  let cursor = 0;
  let jsSeq = 0;
  const nextMessage = (): Buffer => {
    const message = messages[cursor] as Buffer;
    cursor = (cursor + 1) % messages.length;
    return message;
  };

  const freshHub = (wire: WireVersion) => (): HubBook => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(STREAM, {}, wire);
    return hub;
  };
  const hubFeed = new Feed(single.ingest, FRAMES_PER_CALL, freshHub(1));
  const compactHubFeed = new Feed(single.ingest, FRAMES_PER_CALL, freshHub(2));
  const jsHubFeed = new Feed(messages, FRAMES_PER_CALL, () => {
    const out: JsDelta[] = [];
    return { book: new JsMergeBook(out), out };
  });
  let jsHubSeq = 0;

  const trader = (snapshot: Buffer[]) => (): TraderBook => {
    const book = new TraderBook();
    for (const chunk of snapshot) book.apply(chunk);
    return book;
  };
  const jsTrader = (snapshot: string) => (): JsTraderBook => {
    const book = new JsTraderBook();
    book.applyJson(snapshot);
    return book;
  };
  const applyFeed = new Feed(single.deltas, FRAMES_PER_CALL, trader(single.snapshot));
  const jsApplyFeed = new Feed(singleJson.deltas, FRAMES_PER_CALL, jsTrader(singleJson.snapshot));
  const batchFeed = new Feed(batched.deltas, 1, trader(batched.snapshot));
  const jsBatchFeed = new Feed(batchedJson.deltas, 1, jsTrader(batchedJson.snapshot));
  // Wire 2 against wire 1: the same updates, the baseline being today's TRB1 path.
  const compactApplyFeed = new Feed(compactSingle.deltas, FRAMES_PER_CALL, trader(compactSingle.snapshot));
  const compactBatchFeed = new Feed(compactBatched.deltas, 1, trader(compactBatched.snapshot));

  const jsEncode = (): void => {
    for (let i = 0; i < FRAMES_PER_CALL; i++) {
      const event = parseKlineMessage(nextMessage().toString());
      const delta: JsDelta = {
        kind: 'kline',
        symbol: event.symbol,
        interval: event.interval,
        kline: event.kline,
      };
      Buffer.from(encodeJsonDelta(0, ++jsSeq, [delta], HUB_CLOCK));
    }
  };
  const freshEncoder = (): void => {
    encoder = new IngestEncoder(SYMBOLS);
    cursor = 0;
  };

  return [
    {
      // What a stream collector does with a one-message batch (IngestLink.sendMarketEvent).
      name: 'fixed/collector encode, 1-update frame',
      unit: 'ns/msg',
      batch: FRAMES_PER_CALL,
      setup: freshEncoder,
      native: () => {
        for (let i = 0; i < FRAMES_PER_CALL; i++) encoder.pushAndTakeFrame(nextMessage(), 1, HUB_CLOCK);
      },
      baseline: jsEncode,
    },
    {
      // A push then a flush: the path of batches and of every other source.
      name: 'fixed/collector encode, 1-update frame, push + take',
      unit: 'ns/msg',
      batch: FRAMES_PER_CALL,
      setup: freshEncoder,
      native: () => {
        for (let i = 0; i < FRAMES_PER_CALL; i++) {
          encoder.pushMarketEvents([nextMessage()]);
          encoder.takeFrame(1, HUB_CLOCK);
        }
      },
      baseline: jsEncode,
    },
    {
      name: 'fixed/hub ingest→publish, 1-update turn',
      unit: 'ns/msg',
      batch: FRAMES_PER_CALL,
      setup: () => {
        hubFeed.reset();
        jsHubFeed.reset();
      },
      native: () => {
        const { state, items } = hubFeed.next();
        for (const frame of items) state.ingestTurn([frame], [1], HUB_CLOCK);
      },
      baseline: () => {
        const { state, items } = jsHubFeed.next();
        for (const message of items) {
          state.book.mergeKlineMessage(message.toString());
          Buffer.from(encodeJsonDelta(STREAM, ++jsHubSeq, state.out, HUB_CLOCK));
          state.out.length = 0;
        }
      },
    },
    {
      name: 'fixed/trader apply, 1-row frame',
      unit: 'ns/msg',
      batch: FRAMES_PER_CALL,
      setup: () => {
        applyFeed.reset();
        jsApplyFeed.reset();
      },
      native: () => {
        const { state, items } = applyFeed.next();
        for (const frame of items) state.applyMany([frame]);
      },
      baseline: () => {
        const { state, items } = jsApplyFeed.next();
        for (const text of items) state.applyJson(text.toString());
      },
    },
    {
      name: 'fixed/hub ingest→publish, 1-update turn, wire 2 vs wire 1',
      unit: 'ns/msg',
      batch: FRAMES_PER_CALL,
      setup: () => {
        compactHubFeed.reset();
        hubFeed.reset();
      },
      native: () => {
        const { state, items } = compactHubFeed.next();
        for (const frame of items) state.ingestTurn([frame], [1], HUB_CLOCK);
      },
      baseline: () => {
        const { state, items } = hubFeed.next();
        for (const frame of items) state.ingestTurn([frame], [1], HUB_CLOCK);
      },
    },
    {
      name: 'fixed/trader apply, 1-row frame, wire 2 vs wire 1',
      unit: 'ns/msg',
      batch: FRAMES_PER_CALL,
      setup: () => {
        compactApplyFeed.reset();
        applyFeed.reset();
      },
      native: () => {
        const { state, items } = compactApplyFeed.next();
        for (const frame of items) state.applyMany([frame]);
      },
      baseline: () => {
        const { state, items } = applyFeed.next();
        for (const frame of items) state.applyMany([frame]);
      },
    },
    {
      name: `fixed/trader apply, ${BATCH_ROWS}-update frame (per row), wire 2 vs wire 1`,
      unit: 'ns/msg',
      batch: batchRows,
      setup: () => {
        compactBatchFeed.reset();
        batchFeed.reset();
      },
      native: () => {
        const { state, items } = compactBatchFeed.next();
        state.applyMany(items as Buffer[]);
      },
      baseline: () => {
        const { state, items } = batchFeed.next();
        state.applyMany(items as Buffer[]);
      },
    },
    {
      name: `fixed/trader apply, ${BATCH_ROWS}-update frame (per row)`,
      unit: 'ns/msg',
      batch: batchRows,
      setup: () => {
        batchFeed.reset();
        jsBatchFeed.reset();
      },
      native: () => {
        const { state, items } = batchFeed.next();
        state.applyMany(items as Buffer[]);
      },
      baseline: () => {
        const { state, items } = jsBatchFeed.next();
        for (const text of items) state.applyJson(text.toString());
      },
    },
  ];
}

/**
 * One hub turn at 300k updates/s: the updates of one millisecond (300 kline updates over the 40
 * bench symbols, several versions of each open bar) in one Ingest frame. Ours: the rows the
 * turn's Delta frame carries (one per changed bar); baseline: the rows it carried before
 * coalescing (one per update).
 */
export function coalescingMeasures(): Measure[] {
  const perTurn = 300;
  const messages = klineStream(perTurn * 20);
  const encoder = new IngestEncoder(SYMBOLS);
  const hub = new HubBook({ symbols: SYMBOLS });
  hub.addTopic(STREAM, {});
  let rows = 0;
  let versions = 0;
  for (let i = 0; i < messages.length; i += perTurn) {
    encoder.pushMarketEvents(messages.slice(i, i + perTurn));
    const frame = encoder.takeFrame(1, HUB_CLOCK);
    if (frame === null) throw new Error('no ingest frame');
    const turn = hub.ingestTurn([frame], [1], HUB_CLOCK);
    rows += turn.deltas;
    versions += turn.deltas + turn.superseded;
  }
  const turns = messages.length / perTurn;
  return [
    {
      name: 'hub/Delta rows per turn @300k updates/s (vs every version)',
      unit: 'rows',
      ours: rows / turns,
      baseline: versions / turns,
    },
  ];
}
