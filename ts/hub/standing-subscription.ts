// A hub subscription kept in place across reconnects: asked on every `ready`, retried when refused or unanswered, the connection dropped when it cannot be had.
import type { Logger } from '../log/logger.js';
import type { HubClientState, Welcome } from './hub-client.js';

/** What a standing subscription needs of the hub client. */
export interface SubscribingClient {
  readonly state: HubClientState;
  readonly welcome: Welcome | undefined;
  onState(listener: (state: HubClientState, welcome: Welcome | undefined) => void): () => void;
  dropConnection(reason: string): void;
}

/** Options of a {@link StandingSubscription}. */
export interface StandingSubscriptionOptions {
  /** What is subscribed, for the log (`order events`, `alerts`). */
  readonly what: string;
  /** Sends the subscription request on the current connection; rejects when it was not granted. */
  readonly subscribe: (welcome: Welcome | undefined) => Promise<void>;
  /** Called once per connection when the subscription was granted. */
  readonly onSubscribed?: () => void;
  /** Requests per connection before it is dropped (default 3). */
  readonly attempts?: number;
  /** Wait between two requests on one connection (default 1,000 ms). */
  readonly retryMs?: number;
  readonly logger: Logger;
}

/** Counters of a standing subscription, for the owner's status (a type, so a log line takes it). */
export type StandingSubscriptionStats = {
  /** Connections on which the subscription was granted. */
  readonly granted: number;
  /** Requests refused or unanswered (each logged). */
  readonly failures: number;
  /** Connections dropped because every request on them failed (each logged as an error). */
  readonly drops: number;
};

/**
 * A hub subscription (order events, alerts) lasts as long as one connection. A process that
 * asked once and logged a refusal would run on without what it subscribed to until some later
 * reconnect: a trader without its fills, a recorder without order events. This asks on every
 * `ready`; a refused or unanswered request is asked again (`attempts` in all, `retryMs` apart),
 * and when none was granted the connection is dropped, so the client's own bounded reconnect
 * backoff paces the next tries.
 */
export class StandingSubscription {
  readonly #client: SubscribingClient;
  readonly #o: StandingSubscriptionOptions;
  readonly #attempts: number;
  readonly #retryMs: number;
  #connection = 0;
  #off: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #s = { granted: 0, failures: 0, drops: 0 };

  constructor(client: SubscribingClient, options: StandingSubscriptionOptions) {
    this.#client = client;
    this.#o = options;
    this.#attempts = Math.max(1, options.attempts ?? 3);
    this.#retryMs = Math.max(0, options.retryMs ?? 1_000);
  }

  /** Subscribes on every `ready` from now on (and now, when the client is ready already). */
  start(): void {
    if (this.#off !== undefined) return;
    this.#off = this.#client.onState((state, w) => {
      this.#connection += 1;
      clearTimeout(this.#timer);
      if (state === 'ready') void this.#ask(this.#connection, w, 1);
    });
    if (this.#client.state === 'ready') void this.#ask(this.#connection, this.#client.welcome, 1);
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
    this.#connection += 1;
    clearTimeout(this.#timer);
  }

  stats(): StandingSubscriptionStats {
    return { ...this.#s };
  }

  async #ask(connection: number, welcome: Welcome | undefined, attempt: number): Promise<void> {
    const { what, logger } = this.#o;
    try {
      await this.#o.subscribe(welcome);
    } catch (error) {
      // The connection went away meanwhile: the next `ready` asks again.
      if (connection !== this.#connection) return;
      this.#s.failures += 1;
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= this.#attempts) {
        this.#s.drops += 1;
        logger.error(`${what} subscription refused on every try; reconnecting`, {
          attempts: attempt,
          error: message,
        });
        this.#client.dropConnection(`${what} subscription not granted`);
        return;
      }
      logger.warn(`${what} subscription failed; asking again`, {
        attempt,
        retryInMs: this.#retryMs,
        error: message,
      });
      this.#timer = setTimeout(() => void this.#ask(connection, welcome, attempt + 1), this.#retryMs);
      return;
    }
    if (connection !== this.#connection) return;
    this.#s.granted += 1;
    this.#o.onSubscribed?.();
  }
}
