// Per-connection stall watch of the market route: one connection silent while the others deliver is replaced alone, with a doubling wait.
import type { MarketSlotActivity } from '../../ts/exchange/market-stream.js';
import type { Logger } from '../../ts/log/logger.js';

/** Longest wait between forced reconnects of a connection that stays silent. */
export const CONNECTION_STALL_RETRY_MAX_MS = 300_000;

/** What the watch needs of the market route's client (`MarketStreamClient` has both). */
export interface WatchedConnections {
  slotActivity(): MarketSlotActivity[];
  /** Drops the slot's live connection so it reconnects (gap reported); false when it is not live. */
  reconnectSlot(slot: number, reason: string): boolean;
}

/** The route as a whole, as the collector's route-wide stall rule sees it. */
export interface RouteState {
  /** When any connection of the route last delivered (this watch's clock). */
  readonly lastFrameAt: number;
  /** True while the route-wide stall is on (silent as a whole, or its episode not over). */
  readonly stalled: boolean;
}

export interface ConnectionStallWatchOptions {
  /** A connection silent this long while the route delivers is stalled; 0 turns the watch off. */
  readonly stallMs: number;
  /** Longest wait between reconnects of one episode (default 5 min). */
  readonly maxRetryMs?: number;
  /** This machine's clock (tests inject one); the slots' `lastFrameAt` must be on it. */
  readonly now?: () => number;
  /** The route's name in log lines and reasons (default `market`). */
  readonly route?: 'market' | 'public';
}

/** One connection's stall episode: its last frame when it began, reconnects so far, the next allowed. */
interface Episode {
  readonly lastFrameAt: number;
  reconnects: number;
  nextAt: number;
}

/**
 * Watches each connection of a route that, as a whole, delivers (the route-wide stall is not on).
 * A connection that has delivered before and has then been silent for `stallMs`, while the route
 * delivered on other connections after that silence reached `stallMs`, is stalled: logged once
 * per episode (slot, streams, silence), counted, and only that connection replaced; while it stays
 * silent it is replaced again after twice the previous wait, at most every `maxRetryMs`. A frame
 * from it ends the episode (logged). A connection that never delivered proves nothing and is left
 * alone, as is one not live now (its own reconnects are under way).
 */
export class ConnectionStallWatch {
  readonly #connections: WatchedConnections;
  readonly #log: Logger;
  readonly #stallMs: number;
  readonly #maxRetryMs: number;
  readonly #now: () => number;
  readonly #route: string;
  readonly #episodes = new Map<number, Episode>();
  readonly #counters = { stalls: 0, reconnects: 0 };

  constructor(connections: WatchedConnections, logger: Logger, options: ConnectionStallWatchOptions) {
    if (!(Number.isInteger(options.stallMs) && options.stallMs >= 0)) {
      throw new RangeError(`connection stallMs must be a non-negative integer, got ${options.stallMs}`);
    }
    this.#connections = connections;
    this.#log = logger;
    this.#stallMs = options.stallMs;
    this.#maxRetryMs = options.maxRetryMs ?? CONNECTION_STALL_RETRY_MAX_MS;
    this.#now = options.now ?? Date.now;
    this.#route = options.route ?? 'market';
  }

  /** Episodes begun (`stalls`) and connections replaced because of them (`reconnects`). */
  get counters(): { readonly stalls: number; readonly reconnects: number } {
    return { ...this.#counters };
  }

  /** Connections in a stall episode now. */
  get stalled(): number {
    return this.#episodes.size;
  }

  /** One look at every connection; called on the collector's stall timer. */
  check(route: RouteState): void {
    if (this.#stallMs === 0) return;
    const slots = this.#connections.slotActivity();
    if (this.#episodes.size > 0) {
      const present = new Set(slots.map((s) => s.slot));
      for (const slot of this.#episodes.keys()) if (!present.has(slot)) this.#episodes.delete(slot);
    }
    // The route-wide rule replaces every connection: nothing to add while it is on.
    if (route.stalled) return;
    const now = this.#now();
    for (const s of slots) {
      // A connection that never delivered proves nothing (it may carry only quiet streams).
      if (s.lastFrameAt === null) continue;
      const episode = this.#episodes.get(s.slot);
      if (episode !== undefined && s.lastFrameAt > episode.lastFrameAt) {
        this.#episodes.delete(s.slot);
        this.#log.info(`${this.#route} connection delivering again after a stall`, {
          slot: s.slot,
          reconnects: episode.reconnects,
          silentMs: s.lastFrameAt - episode.lastFrameAt,
        });
        continue;
      }
      // Not live: its own reconnect (backoff) is under way.
      if (s.state !== 'live') continue;
      const silentMs = now - s.lastFrameAt;
      if (silentMs < this.#stallMs) continue;
      // Evidence that the exchange pushes: other connections delivered after this one's silence
      // reached the bound (with the heartbeat on the route, within about a second of it).
      if (route.lastFrameAt - s.lastFrameAt < this.#stallMs) continue;
      this.#stalled(s, episode, now, silentMs);
    }
  }

  #stalled(s: MarketSlotActivity, current: Episode | undefined, now: number, silentMs: number): void {
    const lastFrameAt = s.lastFrameAt ?? now;
    const episode = current ?? { lastFrameAt, reconnects: 0, nextAt: now };
    if (current === undefined) {
      this.#episodes.set(s.slot, episode);
      this.#counters.stalls += 1;
    }
    if (now < episode.nextAt) return;
    const reason = `${this.#route} connection silent for ${silentMs} ms while the route delivers`;
    if (!this.#connections.reconnectSlot(s.slot, reason)) return;
    episode.reconnects += 1;
    episode.nextAt = now + Math.min(this.#maxRetryMs, this.#stallMs * 2 ** episode.reconnects);
    this.#counters.reconnects += 1;
    const fields = {
      slot: s.slot,
      streams: s.streams,
      silentMs,
      attempt: episode.reconnects,
      nextInMs: episode.nextAt - now,
    };
    if (episode.reconnects === 1) {
      this.#log.warn(`${this.#route} connection silent while the route delivers; reconnecting it`, {
        ...fields,
        stallMs: this.#stallMs,
        stalls: this.#counters.stalls,
      });
    } else {
      this.#log.warn(`${this.#route} connection still silent; reconnecting it again`, fields);
    }
  }
}
