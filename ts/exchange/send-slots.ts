// Requests in flight, at most one per socket: a request takes a slot before it is signed, so its timestamp is not spent queued in the HTTP agent.

/** The client closed while a request waited for a slot. */
export class SlotsClosedError extends Error {
  override readonly name = 'SlotsClosedError';
}

interface Waiter {
  readonly resolve: (release: () => void) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A counting gate of `size` slots, handed out in arrival order. The REST client sizes it to its
 * agent's sockets: a signed request waiting behind others would otherwise be stamped when it was
 * made and sent seconds later, and Binance refuses a timestamp older than `recvWindow` (-1021).
 */
export class SendSlots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: Waiter[] = [];
  #closed: Error | undefined;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`send slots must be a positive integer, got ${size}`);
    this.#size = size;
  }

  /** Slots taken now. */
  get inFlight(): number {
    return this.#busy;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves with the function that gives the slot back (idempotent) once one is free. */
  acquire(): Promise<() => void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (this.#busy < this.#size) {
      this.#busy += 1;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Fails every waiting and later `acquire` with `error`; slots taken are still given back. */
  close(error: Error = new SlotsClosedError('the client is closed')): void {
    this.#closed = error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter; only when none waits is it free again.
      const next = this.#waiting.shift();
      if (next === undefined) this.#busy -= 1;
      else next.resolve(this.#releaser());
    };
  }
}
