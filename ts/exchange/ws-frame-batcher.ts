// Collects raw websocket frames and hands them to consumers once per event-loop turn, as one batch.
import type { Logger } from '../log/logger.js';
import { describeError } from './ws-errors.js';

/**
 * Receives a batch of raw frames (bytes exactly as received) and the time the first of them arrived
 * (ms). The array is shared by every handler of the batch: do not mutate it.
 */
export type FramesHandler = (messages: Buffer[], receivedAt: number) => void;

/**
 * Frames pushed during one event-loop turn are delivered together from `setImmediate`, so a collector
 * makes one native call per batch. A throwing handler is counted and logged; the others still run.
 */
export class FrameBatcher {
  readonly #log: Logger;
  readonly #handlers = new Set<FramesHandler>();
  #frames: Buffer[] = [];
  #firstAt = 0;
  #scheduled: NodeJS.Immediate | undefined;
  #batches = 0;
  #frameCount = 0;
  #handlerErrors = 0;

  constructor(logger: Logger) {
    this.#log = logger;
  }

  /** Adds a handler; returns the function that removes it. */
  add(handler: FramesHandler): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  push(frame: Buffer): void {
    if (this.#scheduled === undefined) {
      this.#firstAt = Date.now();
      this.#scheduled = setImmediate(() => this.flush());
    }
    this.#frames.push(frame);
  }

  /** Delivers what is pending now (also called on close so nothing received is dropped). */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#frames.length === 0) return;
    const batch = this.#frames;
    this.#frames = [];
    this.#batches += 1;
    this.#frameCount += batch.length;
    for (const handler of this.#handlers) {
      try {
        handler(batch, this.#firstAt);
      } catch (error) {
        this.#handlerErrors += 1;
        this.#log.error('message handler threw', { error: describeError(error), batch: batch.length });
      }
    }
  }

  /** Batches and frames delivered, and handler exceptions caught. */
  counts(): { batches: number; frames: number; handlerErrors: number } {
    return { batches: this.#batches, frames: this.#frameCount, handlerErrors: this.#handlerErrors };
  }
}
