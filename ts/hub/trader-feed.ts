// A trader's (or viewer's) live book: HubClient subscriptions applied to a native TraderBook, with gap recovery.

import { Logger } from '../log/logger.js';
import type { WireVersion } from '../native/hub.js';
import type { ApplyManyResult } from '../native/trader-book.js';
import { TraderBook } from '../native/trader-book.js';
import type { SubscriptionRequest } from './control-messages.js';
import { type HubClient, HubRequestError, type Welcome } from './hub-client.js';

/** Options of a {@link TraderFeed}. */
export interface TraderFeedOptions {
  /** A client with role `trader` or `viewer`; the feed connects it if needed. */
  client: HubClient;
  /** What to follow; each becomes one hub stream. */
  subscriptions: SubscriptionRequest[];
  /** Klines kept per series in the book; default 45. */
  window?: number;
  logger?: Logger;
  /** A stream still stale this long after its snapshot request is asked again; default 2,000 ms. */
  staleRetryMs?: number;
  /** Backoff of refused subscriptions (e.g. `unknown_symbol` after a hub restart); default 500 ms doubling to 30 s. */
  subscribeRetry?: Partial<SubscribeRetry>;
  /**
   * The Delta frame encoding every subscription asks for: 3 (compact frames with compact tick
   * rows, the default; a hub before protocol 6 answers with wire 2, one before protocol 5 with
   * wire 1), 2 or 1. One for all: a book that took a bar from a wire-1 frame cannot check a
   * compact row of it against its base (a snapshot each time).
   */
  wire?: WireVersion;
}

/** Delays between attempts of a refused subscription: doubling from `initialMs` up to `maxMs`, with jitter. */
export interface SubscribeRetry {
  initialMs: number;
  maxMs: number;
}

/** A subscription the hub refused, as the feed reports it. */
export interface RefusedSubscription {
  request: SubscriptionRequest;
  /** The hub's error code (`unknown_symbol`, ...). */
  code: string;
  message: string;
  /** Attempts refused so far. */
  attempts: number;
  /** When it was first refused (Unix ms). */
  since: number;
  /** When it is tried again; null when retrying cannot help (a malformed request or a key without the right). */
  nextRetryAt: number | null;
}

/** Refusals that may clear by themselves (a symbol not registered yet, a hub under load). */
const RETRIED_CODES = new Set(['unknown_symbol', 'no_symbols', 'throttled', 'internal', 'timeout']);

/** Counters of the feed. */
export interface TraderFeedStats {
  framesApplied: number;
  gaps: number;
  /** Compact frames with kline rows against versions the book did not hold (each asks for a snapshot). */
  baseMismatches: number;
  snapshotRequests: number;
  resubscribes: number;
  invalidFrames: number;
  /** Subscription attempts the hub refused (each retry counts). */
  subscribeRefusals: number;
}

/** One followed subscription and its current stream. */
interface Followed {
  request: SubscriptionRequest;
  stream: number | undefined;
  /** True once the stream's first snapshot applied. */
  synced: boolean;
  /** Set while the hub refuses it; cleared when accepted. */
  refused: (RefusedSubscription & { timer: NodeJS.Timeout | undefined }) | undefined;
}

/**
 * Subscribes to the hub and keeps a {@link TraderBook} current: frames of each turn go to the book
 * in one `applyMany`; a gap (or a stream still stale after a while) gets a snapshot request; after
 * every reconnect the feed subscribes again and the new streams' snapshots rebuild the book.
 * Strategies read `feed.book` (live typed-array views; never parse).
 */
export class TraderFeed {
  readonly book: TraderBook;
  readonly #client: HubClient;
  /** Symbol ids by name, for the client's current symbol list. */
  #ids: { from: readonly string[]; size: number; ids: Map<string, number> } | undefined;
  readonly #log: Logger;
  readonly #followed: Followed[];
  readonly #staleRetryMs: number;
  readonly #asked = new Map<number, number>();
  readonly #listeners = new Set<(result: ApplyManyResult) => void>();
  readonly #syncWaiters = new Set<() => void>();
  readonly #unsubscribers: Array<() => void> = [];
  readonly #stats: TraderFeedStats = {
    framesApplied: 0,
    gaps: 0,
    baseMismatches: 0,
    snapshotRequests: 0,
    resubscribes: 0,
    invalidFrames: 0,
    subscribeRefusals: 0,
  };
  readonly #retry: SubscribeRetry;
  #timer: NodeJS.Timeout | undefined;
  #hub: string | undefined;

  constructor(options: TraderFeedOptions) {
    this.#client = options.client;
    this.#log = options.logger ?? new Logger('trader-feed');
    this.book = new TraderBook(options.window);
    const wire = options.wire ?? 3;
    this.#followed = options.subscriptions.map((request) => ({
      request: { ...request, wire },
      stream: undefined,
      synced: false,
      refused: undefined,
    }));
    this.#staleRetryMs = options.staleRetryMs ?? 2_000;
    this.#retry = {
      initialMs: options.subscribeRetry?.initialMs ?? 500,
      maxMs: options.subscribeRetry?.maxMs ?? 30_000,
    };
  }

  /** Connects (if needed), subscribes, and resolves once every stream's first snapshot applied. */
  async start(): Promise<void> {
    this.#unsubscribers.push(
      this.#client.onFrames((frames) => this.#onFrames(frames)),
      this.#client.onState((state, welcome) => {
        if (state === 'ready' && welcome !== undefined) void this.#subscribeAll(welcome);
      }),
      // A registry change may register what a refused subscription named: try those again now.
      this.#client.onMessage((message) => {
        if (message.op === 'symbols') this.#retryRefusedNow();
      }),
    );
    this.#timer = setInterval(() => this.#retryStale(), Math.max(50, Math.floor(this.#staleRetryMs / 2)));
    this.#timer.unref();
    const synced = this.whenSynced();
    if (this.#client.state === 'ready' && this.#client.welcome !== undefined) {
      await this.#subscribeAll(this.#client.welcome);
    } else {
      await this.#client.connect();
    }
    await synced;
  }

  /** Stops following (the client stays open; close it separately). */
  stop(): void {
    clearInterval(this.#timer);
    for (const followed of this.#followed) clearTimeout(followed.refused?.timer);
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers.length = 0;
  }

  /** Resolves when every followed stream has applied a snapshot. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.add(resolve));
  }

  /** True when every stream has applied a snapshot and none is stale. */
  get synced(): boolean {
    return this.#followed.every((f) => f.synced && f.stream !== undefined && !this.book.isStale(f.stream));
  }

  /** The current stream id of each subscription, in the order given. */
  streams(): Array<number | undefined> {
    return this.#followed.map((f) => f.stream);
  }

  /** The hub's symbol id of `name` (ids are valid for the hub instance the client is connected to). */
  symbolId(name: string): number | undefined {
    // Traders look symbols up on every frame: a search of the 600-name list each time cost more
    // than the frame. The map follows the client's list, which is replaced, never edited.
    const symbols = this.#client.symbols;
    if (this.#ids?.from !== symbols || this.#ids.size !== symbols.length) {
      this.#ids = {
        from: symbols,
        size: symbols.length,
        ids: new Map(symbols.map((name, id) => [name, id])),
      };
    }
    return this.#ids.ids.get(name);
  }

  symbolName(id: number): string | undefined {
    return this.#client.symbols[id];
  }

  get stats(): Readonly<TraderFeedStats> {
    return this.#stats;
  }

  /** Subscriptions the hub refuses now, with the reason and when they are tried again. */
  get refused(): RefusedSubscription[] {
    return this.#followed.flatMap((f) => {
      if (f.refused === undefined) return [];
      const { timer: _timer, ...refusal } = f.refused;
      return [refusal];
    });
  }

  /** Called after each turn's frames applied. */
  onUpdate(listener: (result: ApplyManyResult) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #subscribeAll(welcome: Welcome): Promise<void> {
    if (this.#hub !== undefined) {
      this.#stats.resubscribes += 1;
      this.#log.info('resubscribing after reconnect', {
        hub: welcome.hub,
        sameHub: welcome.hub === this.#hub,
      });
    }
    this.#hub = welcome.hub;
    this.#asked.clear();
    for (const followed of this.#followed) {
      followed.stream = undefined;
      followed.synced = false;
      clearTimeout(followed.refused?.timer);
    }
    for (const followed of this.#followed) await this.#subscribe(followed);
  }

  /** One attempt; a refusal is recorded and, when it may clear by itself, retried with backoff. */
  async #subscribe(followed: Followed): Promise<void> {
    try {
      const { stream } = await this.#client.subscribe(followed.request);
      followed.stream = stream;
      if (followed.refused !== undefined) {
        this.#log.info('subscription accepted after being refused', {
          attempts: followed.refused.attempts,
          code: followed.refused.code,
        });
        clearTimeout(followed.refused.timer);
        followed.refused = undefined;
      }
    } catch (error) {
      if (!(error instanceof HubRequestError)) throw error;
      // A lost connection is retried by the next `ready`.
      if (error.code === 'disconnected' || error.code === 'not_connected') return;
      this.#refused(followed, error);
    }
  }

  #refused(followed: Followed, error: HubRequestError): void {
    this.#stats.subscribeRefusals += 1;
    const now = Date.now();
    const attempts = (followed.refused?.attempts ?? 0) + 1;
    const retry = RETRIED_CODES.has(error.code);
    const ceiling = Math.min(this.#retry.maxMs, this.#retry.initialMs * 2 ** Math.min(attempts - 1, 20));
    const delay = Math.round(ceiling * (0.5 + Math.random() * 0.5));
    clearTimeout(followed.refused?.timer);
    followed.refused = {
      request: followed.request,
      code: error.code,
      message: error.message,
      attempts,
      since: followed.refused?.since ?? now,
      nextRetryAt: retry ? now + delay : null,
      timer: retry ? setTimeout(() => this.#retryRefused(followed), delay) : undefined,
    };
    followed.refused.timer?.unref();
    // Logged at the first refusal and then at 2, 4, 8, ... attempts: visible, not a flood.
    if ((attempts & (attempts - 1)) === 0) {
      this.#log[retry ? 'warn' : 'error'](retry ? 'subscription refused; retrying' : 'subscription refused', {
        code: error.code,
        error: error.message,
        attempts,
        retryInMs: retry ? delay : null,
      });
    }
  }

  #retryRefused(followed: Followed): void {
    if (followed.refused === undefined || this.#client.state !== 'ready') return;
    void this.#subscribe(followed);
  }

  #retryRefusedNow(): void {
    for (const followed of this.#followed) {
      if (followed.refused?.nextRetryAt === null || followed.refused === undefined) continue;
      clearTimeout(followed.refused.timer);
      this.#retryRefused(followed);
    }
  }

  #onFrames(frames: Buffer[]): void {
    const result = this.book.applyMany(frames);
    this.#stats.framesApplied += result.applied + result.snapshots;
    if (result.snapshots > 0 && this.#followed.some((f) => !f.synced)) {
      // A stream is synced once a whole snapshot applied (a chunked one: with its last chunk).
      const reports = result.frames;
      for (let i = 0; i < reports.length; i++) {
        if (reports.result(i) !== 'snapshot') continue;
        const stream = reports.stream(i);
        for (const followed of this.#followed) {
          if (followed.stream === stream) followed.synced = true;
        }
      }
    }
    for (const issue of result.issues) {
      const outcome = issue.outcome;
      if (outcome.kind === 'baseMismatch' && outcome.stream !== undefined) {
        // A version the hub numbered but this book never saw: never applied, never guessed.
        this.#stats.baseMismatches += 1;
        this.#log.warn('delta rows against versions the book does not hold, asking for a snapshot', {
          stream: outcome.stream,
          seq: outcome.seq ?? null,
          rows: outcome.rows ?? null,
        });
        this.#requestSnapshot(outcome.stream);
      } else if (outcome.needsSnapshot && outcome.stream !== undefined) {
        this.#stats.gaps += 1;
        const what = outcome.kind === 'gap' ? 'sequence gap' : 'snapshot chunk missing';
        this.#log.warn(`${what}, asking for a snapshot`, {
          stream: outcome.stream,
          expected: outcome.expected ?? null,
          got: outcome.got ?? outcome.seq ?? null,
        });
        this.#requestSnapshot(outcome.stream);
      } else if (outcome.kind === 'invalid' || outcome.kind === 'wrongKind') {
        this.#stats.invalidFrames += 1;
        this.#log.error('hub frame not applied', { kind: outcome.kind, code: outcome.code ?? null });
      }
    }
    // `synced` asks the book about every stream: only worth it while someone waits for it.
    if (this.#syncWaiters.size > 0 && this.synced) {
      for (const resolve of this.#syncWaiters) resolve();
      this.#syncWaiters.clear();
    }
    for (const listener of this.#listeners) listener(result);
  }

  #requestSnapshot(stream: number): void {
    if (!this.#followed.some((f) => f.stream === stream)) return;
    this.#asked.set(stream, Date.now());
    this.#stats.snapshotRequests += 1;
    this.#client.snapshot(stream).catch((error: unknown) => {
      this.#log.warn('snapshot request failed; will retry while the stream is stale', {
        stream,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  #retryStale(): void {
    if (this.#client.state !== 'ready') return;
    const now = Date.now();
    for (const followed of this.#followed) {
      const stream = followed.stream;
      if (stream === undefined || !this.book.isStale(stream)) continue;
      const askedAt = this.#asked.get(stream) ?? 0;
      if (now - askedAt >= this.#staleRetryMs) this.#requestSnapshot(stream);
    }
  }
}
