// A subscriber's record of when each message of a phase reached it (its book, or the relay's receiver).

/**
 * Arrival time per message of the current phase. A frame names, per series, the newest update it
 * carries; that update and every older one of the series not seen before count as arrived now
 * (the hub sends the newest value of an entity, so updates superseded within one hub turn arrive
 * with the one that replaced them: their information is in the book at that moment).
 */
export class DeliveryLog {
  readonly #series: number;
  /** Newest update seen per series (-1: none); kept across phases, like the book it mirrors. */
  readonly #newest: Int32Array;
  #first = 0;
  #arrivals = new Float64Array(0);
  #delivered = 0;

  constructor(series: number) {
    this.#series = series;
    this.#newest = new Int32Array(series).fill(-1);
  }

  /** Starts a phase of messages `[first, first + count)`; arrivals start unknown (NaN). */
  begin(first: number, count: number): void {
    this.#first = first;
    this.#arrivals = new Float64Array(count).fill(Number.NaN);
    this.#delivered = 0;
  }

  /** Update `j` of `series` (and all older ones) reached the subscriber at `time`. */
  deliver(series: number, j: number, time: number): void {
    const seen = this.#newest[series];
    if (seen === undefined || j <= seen) return;
    this.#newest[series] = j;
    const end = this.#first + this.#arrivals.length;
    for (let u = seen + 1; u <= j; u++) {
      const index = u * this.#series + series - this.#first;
      if (index < 0) continue;
      if (index + this.#first >= end) break;
      if (Number.isNaN(this.#arrivals[index] ?? 0)) {
        this.#arrivals[index] = time;
        this.#delivered += 1;
      }
    }
  }

  /** Messages of the phase that arrived. */
  get delivered(): number {
    return this.#delivered;
  }

  /** True when every message of the phase arrived. */
  get complete(): boolean {
    return this.#delivered === this.#arrivals.length;
  }

  /** Arrival time per message of the phase (NaN: not arrived). */
  get arrivals(): Float64Array {
    return this.#arrivals;
  }
}
