// The engine's one event queue: handlers registered per event type, events handled strictly in order.
import type { Logger } from '../../ts/log/logger.js';
import type { EngineEvent, EngineEventType } from './events.js';

/** A handler of one event type; it may push further events and may be async. */
export type EventHandler<E extends EngineEvent> = (event: E) => void | Promise<void>;

type AnyHandler = (event: EngineEvent) => void | Promise<void>;

/**
 * One FIFO queue (seed 003's event engine): `push` appends, `drain` takes events in order and
 * calls every handler registered for the type, in registration order, awaiting a handler that
 * returns a promise before the next one runs. Events a handler pushes go to the back of the queue.
 * A handler that throws is logged and counted; the queue goes on (one bad strategy call must not
 * stop the fills of another).
 */
export class EventQueue {
  readonly #handlers = new Map<EngineEventType, AnyHandler[]>();
  readonly #queue: EngineEvent[] = [];
  readonly #log: Logger;
  #head = 0;
  #draining: Promise<void> | undefined;
  #failures = 0;
  #handled = 0;

  constructor(logger: Logger) {
    this.#log = logger;
  }

  /** Registers `handler` for events of `type`; returns the function that removes it. */
  on<T extends EngineEventType>(
    type: T,
    handler: EventHandler<Extract<EngineEvent, { type: T }>>,
  ): () => void {
    const list = this.#handlers.get(type) ?? [];
    list.push(handler as AnyHandler);
    this.#handlers.set(type, list);
    return () => {
      const at = list.indexOf(handler as AnyHandler);
      if (at >= 0) list.splice(at, 1);
    };
  }

  push(event: EngineEvent): void {
    this.#queue.push(event);
  }

  /** Events waiting. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  get failures(): number {
    return this.#failures;
  }

  get handled(): number {
    return this.#handled;
  }

  /**
   * Handles queued events until none is left (including those pushed meanwhile). Concurrent calls
   * share one drain, so events are never handled out of order.
   */
  drain(): Promise<void> {
    this.#draining ??= this.#run().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /**
   * Handles queued events synchronously while no handler returns a promise; returns the promise of
   * the rest otherwise (the backtest's hot path: bar closes without async work cost no promise).
   */
  drainSync(): Promise<void> | undefined {
    if (this.#draining !== undefined) return this.#draining;
    while (this.#head < this.#queue.length) {
      const event = this.#take();
      const pending = this.#dispatch(event, 0);
      if (pending !== undefined) {
        this.#draining = pending
          .then(() => this.#run())
          .finally(() => {
            this.#draining = undefined;
          });
        return this.#draining;
      }
    }
    return undefined;
  }

  #take(): EngineEvent {
    const event = this.#queue[this.#head] as EngineEvent;
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    return event;
  }

  async #run(): Promise<void> {
    while (this.#head < this.#queue.length) {
      const event = this.#take();
      const pending = this.#dispatch(event, 0);
      if (pending !== undefined) await pending;
    }
  }

  /** Calls handlers from index `from`; returns a promise when one of them is async. */
  #dispatch(event: EngineEvent, from: number): Promise<void> | undefined {
    const list = this.#handlers.get(event.type);
    if (list === undefined) return undefined;
    for (let i = from; i < list.length; i++) {
      const handler = list[i] as AnyHandler;
      let result: void | Promise<void>;
      try {
        result = handler(event);
      } catch (error) {
        this.#fail(event, error);
        continue;
      }
      if (result instanceof Promise) {
        return result.then(
          () => this.#dispatch(event, i + 1),
          (error: unknown) => {
            this.#fail(event, error);
            return this.#dispatch(event, i + 1);
          },
        );
      }
    }
    this.#handled += 1;
    return undefined;
  }

  #fail(event: EngineEvent, error: unknown): void {
    this.#failures += 1;
    this.#log.error('event handler failed', {
      event: event.type,
      failures: this.#failures,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}
