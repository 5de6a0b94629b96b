// Stage 5: bytes on the wire per kline update, hub frames against the equivalent JSON.
import type { Measure } from '../case.js';
import { klineStream } from '../fixtures.js';
import { deltaFrames } from './delta.js';
import { BATCH_ROWS, hubFrames, jsonFrames } from './fixed-costs.js';

const mean = (xs: Buffer[]): number => xs.reduce((sum, x) => sum + x.length, 0) / xs.length;

/**
 * Mean bytes per kline update: our Delta frame, the same delta as JSON, and Binance's own event;
 * one update a frame (about 1k updates/s) and 26 a frame (about 20k updates/s: what one hub turn
 * carries then).
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
  return [
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
