// Spaces requests to a host evenly: at most N a second, whoever asks.

/** Waits between request starts so that no more than `perSecond` begin in any second. */
export class RequestPacer {
  readonly #gapMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #next = 0;

  constructor(
    perSecond: number,
    now: () => number = Date.now,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond))
      throw new RangeError(`requests per second must be a positive number, got ${perSecond}`);
    this.#gapMs = 1000 / perSecond;
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Resolves when the caller may start its request (slots are handed out in call order). */
  async turn(): Promise<void> {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.#gapMs;
    if (at > now) await this.#sleep(at - now);
  }

  /** Nothing may start before `time` (a server asked to wait: 429 / 418 Retry-After). */
  holdUntil(time: number): void {
    this.#next = Math.max(this.#next, time);
  }
}
