// Per-peer flood guard: token buckets for messages and bytes.

/** Limits of one peer. */
export interface BudgetLimits {
  /** Sustained messages per second. */
  messagesPerSecond: number;
  /** Sustained bytes per second. */
  bytesPerSecond: number;
  /** Seconds of the sustained rate a peer may send at once (bucket depth). */
  burstSeconds: number;
}

/**
 * Two token buckets refilled continuously. A message that does not fit is refused (and takes
 * nothing), so a flooding peer is slowed to the sustained rate, not locked out.
 */
export class PeerBudget {
  readonly #limits: BudgetLimits;
  #messages: number;
  #bytes: number;
  #at: number;

  constructor(limits: BudgetLimits, nowMs: number) {
    this.#limits = limits;
    this.#messages = limits.messagesPerSecond * limits.burstSeconds;
    this.#bytes = limits.bytesPerSecond * limits.burstSeconds;
    this.#at = nowMs;
  }

  /** Takes one message of `bytes` if the budget allows it. */
  take(bytes: number, nowMs: number): boolean {
    const { messagesPerSecond, bytesPerSecond, burstSeconds } = this.#limits;
    const elapsed = Math.max(0, nowMs - this.#at) / 1000;
    this.#at = nowMs;
    this.#messages = Math.min(messagesPerSecond * burstSeconds, this.#messages + elapsed * messagesPerSecond);
    this.#bytes = Math.min(bytesPerSecond * burstSeconds, this.#bytes + elapsed * bytesPerSecond);
    if (this.#messages < 1 || this.#bytes < bytes) return false;
    this.#messages -= 1;
    this.#bytes -= bytes;
    return true;
  }
}
