// Names the benchmark messages a trader's book just applied, from the book's own list of what changed.
import type { IntervalName } from '../../ts/native/interval.js';
import { type KlineSeriesView, TICK_SLOTS, type TraderBook } from '../../ts/native/trader-book.js';
import type { E2eUniverse } from './market-stream.js';

/** Slot of a quote's update id in a tick block. */
const UPDATE_ID_SLOT = TICK_SLOTS.indexOf('updateId');

/**
 * A hub-side subscriber's reading of what arrived, the counterpart of the relay side's decoding
 * of each frame: after each apply, the book's `changes` name the bars and quotes written, the
 * bar's trade count (read at the change's row) and the quote's update id name the message. It
 * reads the book's columns, not the frame: it costs a few cached-array reads a change, less
 * than decoding, since it shares the two cores with what it measures.
 */
export class AppliedUpdates {
  readonly #book: TraderBook;
  readonly #width: number;
  readonly #slots: Map<IntervalName, number>;
  /** Series views by `symbol × intervals + slot`, looked up once. */
  readonly #views: (KlineSeriesView | undefined)[] = [];
  readonly #ticks: (Float64Array | undefined)[] = [];

  constructor(book: TraderBook, universe: E2eUniverse) {
    this.#book = book;
    this.#width = universe.intervals.length + 1;
    this.#slots = new Map(universe.intervals.map((interval, slot) => [interval, slot]));
  }

  /** Calls `visit(series, j)` for each bar and quote the last apply wrote that the run carries. */
  visit(visit: (series: number, j: number) => void): void {
    const changes = this.#book.changes;
    for (let i = 0, n = changes.length; i < n; i++) {
      const kind = changes.kind(i);
      const symbol = changes.symbolId(i);
      if (symbol === undefined) continue;
      if (kind === 'kline') {
        const interval = changes.interval(i);
        const slot = interval === undefined ? undefined : this.#slots.get(interval);
        const row = changes.row(i);
        if (interval === undefined || slot === undefined || row === undefined) continue;
        const series = symbol * this.#width + slot;
        let view = this.#views[series];
        if (view === undefined) {
          view = this.#book.klineSeries(symbol, interval);
          this.#views[series] = view;
        }
        const trades = view?.column('trades')[row];
        if (trades !== undefined && trades > 0) visit(series, trades - 1);
      } else if (kind === 'tick') {
        let values = this.#ticks[symbol];
        if (values === undefined) {
          values = this.#book.tickValues(symbol);
          this.#ticks[symbol] = values;
        }
        const updateId = values?.[UPDATE_ID_SLOT];
        if (updateId !== undefined && updateId > 0)
          visit(symbol * this.#width + this.#width - 1, updateId - 1);
      }
    }
  }
}
