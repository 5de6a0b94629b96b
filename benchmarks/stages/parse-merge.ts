// Stage 1: parse + merge of exchange messages, native HubBook / BarAggregator against JSON.parse + a JS merge.
import { BarAggregator, HubBook } from '../../ts/native/index.js';
import { JsBarAggregator } from '../baseline/aggregator.js';
import { JsMergeBook } from '../baseline/merge-book.js';
import type { JsDelta } from '../baseline/records.js';
import type { Case } from '../case.js';
import { Feed } from '../feed.js';
import {
  accountUpdateStream,
  aggTradeStream,
  bookTickerStream,
  HUB_CLOCK,
  klineStream,
  restKlinesBodies,
  SYMBOLS,
} from '../fixtures.js';

/** Messages handled per timed call: about what one event-loop turn brings in under load. */
const BATCH = 64;

/** A native merge book with the registry, and a JS one with its delta sink. */
function nativeBook(): HubBook {
  return new HubBook({ symbols: SYMBOLS });
}

function jsBook(): { book: JsMergeBook; out: JsDelta[] } {
  const out: JsDelta[] = [];
  return { book: new JsMergeBook(out), out };
}

/** A parse+merge case over a websocket message stream. */
function streamCase(
  name: string,
  messages: Buffer[],
  native: (book: HubBook, batch: Buffer[]) => void,
  baseline: (book: JsMergeBook, text: string) => void,
): Case {
  const ours = new Feed(messages, BATCH, nativeBook);
  const theirs = new Feed(messages, BATCH, jsBook);
  return {
    name,
    unit: 'ns/msg',
    batch: BATCH,
    setup: () => {
      ours.reset();
      theirs.reset();
    },
    native: () => {
      const { state, items } = ours.next();
      native(state, items as Buffer[]);
      state.discardDeltas();
    },
    baseline: () => {
      const { state, items } = theirs.next();
      for (const message of items) baseline(state.book, message.toString());
      state.out.length = 0;
    },
  };
}

/** Stage 1 cases; `scale` multiplies the stream lengths (smaller for --quick). */
export function parseMergeCases(scale: number): Case[] {
  const n = Math.max(BATCH * 4, Math.round(40_000 * scale));
  const trades = aggTradeStream(n);
  const tradeFeed = new Feed(trades, BATCH, () => new BarAggregator('BTCUSDT'));
  const jsTradeFeed = new Feed(trades, BATCH, () => new JsBarAggregator('BTCUSDT'));
  const rest = restKlinesBodies(Math.max(8, Math.round(2_000 * scale)));
  const restItems = rest.bodies.map((body, i) => ({ body, serverTime: rest.serverTimes[i] ?? 0 }));
  const restFeed = new Feed(restItems, 1, nativeBook);
  const jsRestFeed = new Feed(restItems, 1, jsBook);
  return [
    {
      name: 'parse+aggregate/aggTrade (11 intervals)',
      unit: 'ns/msg',
      batch: BATCH,
      setup: () => {
        tradeFeed.reset();
        jsTradeFeed.reset();
      },
      native: () => {
        const { state, items } = tradeFeed.next();
        state.pushMessages(items as Buffer[]);
      },
      baseline: () => {
        const { state, items } = jsTradeFeed.next();
        for (const message of items) state.pushMessage(message.toString());
      },
    },
    streamCase(
      'parse+merge/kline',
      klineStream(n),
      (book, batch) => book.mergeMarketEvents(batch, 1, HUB_CLOCK),
      (book, text) => book.mergeKlineMessage(text),
    ),
    streamCase(
      'parse+merge/bookTicker',
      bookTickerStream(n),
      (book, batch) => book.mergeMarketEvents(batch, 1, HUB_CLOCK),
      (book, text) => book.mergeBookTickerMessage(text),
    ),
    streamCase(
      'parse+merge/ACCOUNT_UPDATE',
      accountUpdateStream(Math.max(BATCH * 4, Math.round(n / 4))),
      (book, batch) => book.mergeUserEvents(batch, 1, HUB_CLOCK),
      (book, text) => book.mergeAccountUpdate(text),
    ),
    {
      name: 'parse+merge/REST klines (45 rows)',
      unit: 'us/msg',
      batch: 1,
      setup: () => {
        restFeed.reset();
        jsRestFeed.reset();
      },
      native: () => {
        const { state, items } = restFeed.next();
        const [item] = items;
        if (item === undefined) return;
        state.mergeRestKlines(0, '1m', item.body, item.serverTime, 2, HUB_CLOCK);
        state.discardDeltas();
      },
      baseline: () => {
        const { state, items } = jsRestFeed.next();
        const [item] = items;
        if (item === undefined) return;
        state.book.mergeRestKlines(item.body.toString(), SYMBOLS[0] ?? '', '1m', item.serverTime);
        state.out.length = 0;
      },
    },
  ];
}
