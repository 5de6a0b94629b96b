// Stage 5: bytes on the wire per kline and quote update, hub frames against the equivalent JSON and each other.
import type { Measure } from '../case.js';
import { bookTickerStream, klineStream } from '../fixtures.js';
import { deltaFrames } from './delta.js';
import { BATCH_ROWS, hubFrames, jsonFrames } from './fixed-costs.js';

const mean = (xs: Buffer[]): number => xs.reduce((sum, x) => sum + x.length, 0) / xs.length;

/**
 * Mean bytes per kline update: our Delta frame, the same delta as JSON, and Binance's own event;
 * one update a frame (about 1k updates/s) and 26 a frame (about 20k updates/s: what one hub turn
 * carries then). The first three rows are wire-1 (TRB1) frames; the `wire 2 vs wire 1` rows put
 * compact frames against TRB1 frames of the same hub turns (a topic following everything). The
 * bookTicker rows put wire 3's compact tick rows against wire 2, whose frames carry quotes as TRB1
 * rows in their tail.
 */
export function wireBytes(): Measure[] {
  const messages = klineStream(2_000);
  const { frames, json } = deltaFrames(messages);
  const ours = mean(frames);
  const batched = hubFrames(messages, BATCH_ROWS);
  const batchedJson = jsonFrames(messages, BATCH_ROWS);
  const perUpdate = (xs: Buffer[], updates: number): number =>
    xs.reduce((sum, x) => sum + x.length, 0) / updates;
  const updates = batched.deltas.length * BATCH_ROWS;
  const single = hubFrames(messages, 1);
  const compactSingle = hubFrames(messages, 1, 2);
  const compactBatched = hubFrames(messages, BATCH_ROWS, 2);
  const quotes = bookTickerStream(2_000);
  const quoteUpdates = Math.floor(quotes.length / BATCH_ROWS) * BATCH_ROWS;
  return [
    {
      name: 'wire/bookTicker update, wire 3 vs wire 2',
      unit: 'bytes',
      ours: mean(hubFrames(quotes, 1, 3).deltas),
      baseline: mean(hubFrames(quotes, 1, 2).deltas),
    },
    {
      name: `wire/bookTicker update in ${BATCH_ROWS}-update frames, wire 3 vs wire 2`,
      unit: 'bytes',
      ours: perUpdate(hubFrames(quotes, BATCH_ROWS, 3).deltas, quoteUpdates),
      baseline: perUpdate(hubFrames(quotes, BATCH_ROWS, 2).deltas, quoteUpdates),
    },
    {
      name: 'wire/kline update, wire 2 vs wire 1',
      unit: 'bytes',
      ours: mean(compactSingle.deltas),
      baseline: mean(single.deltas),
    },
    {
      name: `wire/kline update in ${BATCH_ROWS}-update frames, wire 2 vs wire 1`,
      unit: 'bytes',
      ours: perUpdate(compactBatched.deltas, updates),
      baseline: perUpdate(batched.deltas, updates),
    },
    { name: 'wire/kline update vs JSON delta', unit: 'bytes', ours, baseline: mean(json) },
    { name: 'wire/kline update vs Binance event', unit: 'bytes', ours, baseline: mean(messages) },
    {
      name: `wire/kline update in ${BATCH_ROWS}-update frames vs JSON delta`,
      unit: 'bytes',
      ours: perUpdate(batched.deltas, updates),
      baseline: perUpdate(batchedJson.deltas, updates),
    },
  ];
}
