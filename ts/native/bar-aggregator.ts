// Typed facade over the native bar aggregator used by stream collectors.
import type { AggregatorBatchResult, AggregatorStatsObject, BarObject } from '../../bindings/index.cjs';
import { binding } from './binding.js';
import type { IntervalName } from './interval.js';
import { callNative } from './native-error.js';

export type { AggregatorBatchResult, AggregatorStatsObject, BarObject };

/**
 * Builds bars of one symbol for several intervals from raw `aggTrade` websocket messages, equal
 * field for field to the exchange's own klines. Duplicate and late trades are dropped and counted;
 * an id gap is reported so the collector can backfill the affected bars through REST klines.
 */
export class BarAggregator {
  readonly #native: InstanceType<typeof binding.Aggregator>;

  /** `intervals` defaults to 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d. */
  constructor(symbol: string, intervals?: IntervalName[]) {
    this.#native = callNative(() => new binding.Aggregator(symbol, intervals));
  }

  /** Applies a batch of raw messages in order in one native call; bad ones are listed, not thrown. */
  pushMessages(messages: Buffer[]): AggregatorBatchResult {
    return this.#native.pushMessages(messages);
  }

  /** Closes bars whose window ended at or before `nowMs` (empty bars included). */
  advanceTo(nowMs: number): BarObject[] {
    return callNative(() => this.#native.advanceTo(nowMs));
  }

  openBar(interval: IntervalName): BarObject | null {
    return callNative(() => this.#native.openBar(interval));
  }

  stats(): AggregatorStatsObject {
    return this.#native.stats();
  }
}
