// Hands out consecutive batches of a message stream, starting over with fresh state when it runs out.

/**
 * A cursor over a pre-built stream. Each `next()` returns the next `batch` messages and the state
 * they apply to; at the end of the stream the state is rebuilt with `fresh()` and the stream
 * restarts, so every timed call does real (never duplicate) work.
 */
export class Feed<T, S> {
  #cursor = 0;
  #state: S;

  constructor(
    private readonly items: readonly T[],
    private readonly batch: number,
    private readonly fresh: () => S,
  ) {
    if (items.length < batch)
      throw new Error(`feed of ${items.length} items cannot serve batches of ${batch}`);
    this.#state = fresh();
  }

  /** The state and the next batch of items. */
  next(): { state: S; items: readonly T[] } {
    if (this.#cursor + this.batch > this.items.length) {
      this.#cursor = 0;
      this.#state = this.fresh();
    }
    const items = this.items.slice(this.#cursor, this.#cursor + this.batch);
    this.#cursor += this.batch;
    return { state: this.#state, items };
  }

  /** Starts over with fresh state. */
  reset(): void {
    this.#cursor = 0;
    this.#state = this.fresh();
  }
}
