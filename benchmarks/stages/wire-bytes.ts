// Stage 5: bytes on the wire per kline update, hub frames against the equivalent JSON.
import type { Measure } from '../case.js';
import { klineStream } from '../fixtures.js';
import { deltaFrames } from './delta.js';

const mean = (xs: Buffer[]): number => xs.reduce((sum, x) => sum + x.length, 0) / xs.length;

/** Mean bytes per one-kline update: our Delta frame, the same delta as JSON, and Binance's own event. */
export function wireBytes(): Measure[] {
  const messages = klineStream(2_000);
  const { frames, json } = deltaFrames(messages);
  const ours = mean(frames);
  return [
    { name: 'wire/kline update vs JSON delta', unit: 'bytes', ours, baseline: mean(json) },
    { name: 'wire/kline update vs Binance event', unit: 'bytes', ours, baseline: mean(messages) },
  ];
}
