// Distributed poll cursors: next(kind) hands out symbol positions in turn, wrapping at the count.

/** Too many distinct cursor kinds (a peer inventing names). */
export class CursorLimitError extends Error {
  override readonly name = 'CursorLimitError';
}

/**
 * One counter per collector kind (the seed's counters F and G): every poller of a kind asks
 * before each fetch and gets the next position, so N pollers split the symbols without overlap
 * and each symbol is polled once per round.
 */
export class PollCursor {
  readonly #positions = new Map<string, number>();
  readonly #maxKinds: number;

  constructor(maxKinds = 64) {
    this.#maxKinds = maxKinds;
  }

  /** The next position in `[0, count)` for `kind` (`count` ≥ 1). */
  next(kind: string, count: number): number {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`cursor count must be ≥ 1, got ${count}`);
    const current = this.#positions.get(kind);
    if (current === undefined && this.#positions.size >= this.#maxKinds) {
      throw new CursorLimitError(`more than ${this.#maxKinds} cursor kinds`);
    }
    // The universe may have shrunk since the last call: wrap what was stored too.
    const position = (current ?? 0) % count;
    this.#positions.set(kind, (position + 1) % count);
    return position;
  }

  /** Positions by kind (for status). */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#positions);
  }
}
