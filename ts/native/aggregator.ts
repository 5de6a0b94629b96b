// Typed facade over the native aggTrades-CSV → kline-CSV stream.
import type { KlineCsvSummary } from '../../bindings/index.cjs';
import { binding } from './binding.js';
import { callNative } from './native-error.js';

export type { KlineCsvSummary };

/** Options of a {@link KlineCsvAggregator}. */
export interface KlineCsvAggregatorOptions {
  symbol: string;
  /** A Binance interval name; the core rejects `1M` (no fixed length) with code `invalid_interval`. */
  interval: string;
  /** Start the output with the dump's column header row. */
  header: boolean;
  /**
   * Contract size of an inverse (COIN-M) contract, a positive decimal string: quote columns are
   * then base asset volumes, `qty × contractSize ÷ price` at 8 decimals. Omit for USD-M and spot.
   */
  contractSize?: string;
}

/**
 * Converts an aggTrades CSV dump, pushed in chunks split anywhere, into kline CSV rows. Bad rows
 * throw a `NativeError` whose code is `bad_csv_row`, `bad_trade` or `out_of_order` and whose message
 * names the line.
 */
export class KlineCsvAggregator {
  readonly #native: InstanceType<typeof binding.KlineCsvAggregator>;

  constructor(options: KlineCsvAggregatorOptions) {
    this.#native = callNative(
      () =>
        new binding.KlineCsvAggregator(
          options.symbol,
          options.interval,
          options.header,
          options.contractSize,
        ),
    );
  }

  /** Feeds the next chunk; returns the rows it completed (possibly empty). */
  push(chunk: Uint8Array): Buffer {
    return callNative(() => this.#native.push(chunk));
  }

  /** Ends the input; returns the last rows. */
  finish(): Buffer {
    return callNative(() => this.#native.finish());
  }

  /** Counters so far. */
  summary(): KlineCsvSummary {
    return this.#native.summary();
  }
}
