// Test data for the hub: Ingest frames from the real capture or synthetic klines, and book comparison.
import { expect } from 'vitest';
import { type HubBook, IngestEncoder } from '../../native/hub.js';
import type { IntervalName } from '../../native/interval.js';
import type { Kline } from '../../native/records.js';
import { captureMessages } from '../../native/testing/capture.js';
import type { TraderBook } from '../../native/trader-book.js';
import { comparableRecord as comparable } from './comparable.js';

export { comparableRecord as comparable } from './comparable.js';

/**
 * The capture's kline and bookTicker messages as Ingest frames of `perFrame` messages each,
 * symbol ids from `symbols`; undefined (with a visible SKIP) when the shared data is absent.
 */
export function captureIngestFrames(test: string, symbols: string[], perFrame = 8): Buffer[] | undefined {
  const messages = captureMessages(test);
  if (messages === undefined) return undefined;
  const encoder = new IngestEncoder(symbols);
  const frames: Buffer[] = [];
  for (let i = 0; i < messages.length; i += perFrame) {
    // aggTrade and depth messages are not merged: they come back as failures and are skipped.
    encoder.pushMarketEvents(messages.slice(i, i + perFrame).map((m) => Buffer.from(m)));
    const frame = encoder.takeFrame(0, Date.now());
    if (frame !== null) frames.push(frame);
  }
  return frames;
}

const T0 = 1_626_992_700_000;
const MINUTE = 60_000;

/** An open 1m bar at minute `i` whose trade count and volume grow with `round` (so it always merges). */
export function syntheticBar(i: number, round: number): Kline {
  const trades = 10 + round;
  return {
    openTime: T0 + i * MINUTE,
    closeTime: T0 + (i + 1) * MINUTE - 1,
    open: '100.00',
    high: `${101 + round}.50`,
    low: '99.25',
    close: `${100 + round}.75`,
    volume: `${trades}.000`,
    quoteVolume: `${trades * 100}.00000`,
    trades,
    takerBuyVolume: '1.000',
    takerBuyQuoteVolume: '100.00000',
    closed: false,
    asOf: T0 + i * MINUTE + round,
  };
}

/** One Ingest frame with `bars` synthetic bars for each of the first `symbolCount` symbols. */
export function syntheticFrame(
  encoder: IngestEncoder,
  symbolCount: number,
  bars: number,
  round: number,
): Buffer {
  for (let s = 0; s < symbolCount; s += 1) {
    encoder.pushKlines(
      s,
      '1m',
      Array.from({ length: bars }, (_, i) => syntheticBar(i, round)),
    );
  }
  const frame = encoder.takeFrame(0, Date.now());
  if (frame === null) throw new Error('synthetic frame is empty');
  return frame;
}

function sideBySide(hub: HubBook, trader: TraderBook, id: number, interval: IntervalName) {
  return {
    trader: { klines: trader.klines(id, interval).map(comparable), tick: comparable(trader.tick(id)) },
    hub: {
      klines: hub.klines(id, interval).map((e) => comparable(e.kline)),
      tick: comparable(hub.tick(id)?.tick),
    },
  };
}

/** Whether the trader book holds the hub's klines and ticks of `symbolIds`, value for exact value. */
export function booksEqual(
  hub: HubBook,
  trader: TraderBook,
  symbolIds: number[],
  intervals: IntervalName[] = ['1m'],
): boolean {
  return symbolIds.every((id) =>
    intervals.every((interval) => {
      const both = sideBySide(hub, trader, id, interval);
      return JSON.stringify(both.trader) === JSON.stringify(both.hub);
    }),
  );
}

/** Asserts {@link booksEqual} with a readable diff of the first difference. */
export function expectBooksEqual(hub: HubBook, trader: TraderBook, symbolIds: number[]): void {
  for (const id of symbolIds) {
    const both = sideBySide(hub, trader, id, '1m');
    expect(both.trader).toEqual(both.hub);
  }
}
