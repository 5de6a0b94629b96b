// Route-wide stall watch: a websocket route silent as a whole, while something shows the exchange pushes, is replaced whole with a doubling wait.
import type { Logger } from '../../ts/log/logger.js';

/** Longest wait between forced reconnects of a route that stays silent. */
export const ROUTE_STALL_RETRY_MAX_MS = 300_000;

/** What the watch needs of the route's client (`MarketStreamClient` has it). */
export interface WatchedRoute {
  /** Drops every live connection so each reconnects (gap reported); returns how many. */
  reconnectAll(reason: string): number;
}

export interface RouteStallWatchOptions {
  /** The route silent this long (with the evidence on) is stalled; 0 turns the watch off. */
  readonly stallMs: number;
  /** The route's name in log lines and reasons. */
  readonly route: 'market' | 'public';
  /** Why the silence is a stall, in the first warning of an episode ("though its heartbeat flowed before"). */
  readonly because: string;
  /** Longest wait between reconnects of one episode (default 5 min). */
  readonly maxRetryMs?: number;
  /** This machine's clock (tests inject one); `delivered` times must be on it. */
  readonly now?: () => number;
}

/** One stall episode: reconnects so far and when the next may be made. */
interface Episode {
  reconnects: number;
  nextAt: number;
}

/**
 * Watches one route as a whole. Once it has delivered (or was subscribed, {@link expectFrom}), a
 * silence of `stallMs` while the caller's
 * evidence says the exchange pushes (`check(true)`: the market route's heartbeat was seen; for
 * `/public`, the market route delivers) is a stall: logged once per episode, counted, and every
 * live connection of the route replaced (each reconnects with its own backoff and reports a
 * possible gap). While it stays silent it is replaced again after twice the previous wait, at most
 * every `maxRetryMs`. A frame ends the episode (logged).
 */
export class RouteStallWatch {
  readonly #route: WatchedRoute;
  readonly #log: Logger;
  readonly #options: RouteStallWatchOptions;
  readonly #maxRetryMs: number;
  readonly #now: () => number;
  readonly #counters = { stalls: 0, reconnects: 0 };
  #lastFrameAt: number | undefined;
  /** When the route was subscribed ({@link expectFrom}): its silence counts from then until its first frame. */
  #expectedFrom: number | undefined;
  #episode: Episode | undefined;

  constructor(route: WatchedRoute, logger: Logger, options: RouteStallWatchOptions) {
    if (!(Number.isInteger(options.stallMs) && options.stallMs >= 0)) {
      throw new RangeError(
        `${options.route} route stallMs must be a non-negative integer, got ${options.stallMs}`,
      );
    }
    this.#route = route;
    this.#log = logger;
    this.#options = options;
    this.#maxRetryMs = options.maxRetryMs ?? ROUTE_STALL_RETRY_MAX_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Episodes begun (`stalls`) and route reconnects made because of them (`reconnects`). */
  get counters(): { readonly stalls: number; readonly reconnects: number } {
    return { ...this.#counters };
  }

  /** When the route last delivered; undefined before its first frame. */
  get lastFrameAt(): number | undefined {
    return this.#lastFrameAt;
  }

  /** The silence that makes a stall, ms (0: the watch is off). */
  get stallMs(): number {
    return this.#options.stallMs;
  }

  /** Where the route's silence counts from: its last frame, else its subscription. */
  #silentSince(): number | undefined {
    return this.#lastFrameAt ?? this.#expectedFrom;
  }

  /** True while a stall episode is on (it ends with the route's next frame). */
  get stalled(): boolean {
    return this.#episode !== undefined;
  }

  /** How long the route has been silent (since its subscription, before its first frame); 0 before either. */
  silentMs(): number {
    const since = this.#silentSince();
    return since === undefined ? 0 : this.#now() - since;
  }

  /**
   * The route was asked to deliver from `at` (its streams subscribed): until its first frame, its
   * silence counts from then, so a route that never delivers is judged too. Later calls change
   * nothing.
   */
  expectFrom(at: number): void {
    this.#expectedFrom ??= at;
  }

  /** The route delivered at `at`: a stall episode, if any, is over. */
  delivered(at: number): void {
    this.#lastFrameAt = at;
    const episode = this.#episode;
    if (episode === undefined) return;
    this.#episode = undefined;
    this.#log.info(`${this.#options.route} stream delivering again after a stall`, {
      reconnects: episode.reconnects,
    });
  }

  /**
   * Looks at the route's silence (call it on a timer). `evidence`: something shows the exchange
   * pushes, so silence is not merely a quiet market. Returns whether the route counts as stalled
   * now (an episode on, or silent past `stallMs` with the evidence on).
   */
  check(evidence: boolean): boolean {
    const { stallMs, route } = this.#options;
    const last = this.#silentSince();
    if (stallMs === 0 || last === undefined) return false;
    if (!evidence) return this.#episode !== undefined;
    const now = this.#now();
    const silentMs = now - last;
    if (silentMs < stallMs) return this.#episode !== undefined;
    const first = this.#episode === undefined;
    const episode = this.#episode ?? { reconnects: 0, nextAt: now };
    this.#episode = episode;
    if (first) this.#counters.stalls += 1;
    if (now < episode.nextAt) return true;
    episode.reconnects += 1;
    episode.nextAt = now + Math.min(this.#maxRetryMs, stallMs * 2 ** episode.reconnects);
    this.#counters.reconnects += 1;
    const connections = this.#route.reconnectAll(`${route} stream silent for ${silentMs} ms`);
    const fields = { silentMs, connections, attempt: episode.reconnects, nextInMs: episode.nextAt - now };
    if (first) {
      this.#log.warn(`${route} stream silent ${this.#options.because}; reconnecting`, {
        ...fields,
        stallMs,
        stalls: this.#counters.stalls,
      });
    } else {
      this.#log.warn(`${route} stream still silent; reconnecting again`, fields);
    }
    return true;
  }
}
