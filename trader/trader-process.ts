// The trading process's data side: a hub connection, the live local book and the relayed order events.
import type { LoadedConfig } from '../ts/config/load-config.js';
import { HubClient } from '../ts/hub/hub-client.js';
import { hubKey, hubTlsOption, hubUrl } from '../ts/hub/hub-link.js';
import type { HubKeyCredentials } from '../ts/hub/peer-keys.js';
import { StandingSubscription, type StandingSubscriptionStats } from '../ts/hub/standing-subscription.js';
import { TraderFeed } from '../ts/hub/trader-feed.js';
import type { Logger } from '../ts/log/logger.js';
import type { TraderBook } from '../ts/native/trader-book.js';

/** Order events kept in memory for inspection (recorders store all of them). */
const RECENT_EVENTS = 1000;

/** One line of the trader's periodic status. */
export interface TraderStatus {
  readonly synced: boolean;
  readonly hubState: string;
  readonly symbols: number;
  readonly staleStreams: number;
  readonly framesApplied: number;
  readonly gaps: number;
  /** Compact Delta frames with rows against versions the book did not hold (a snapshot each). */
  readonly baseMismatches: number;
  readonly snapshotRequests: number;
  /** Subscriptions the hub refuses now (retried with backoff while the reason may clear). */
  readonly refusedSubscriptions: ReadonlyArray<{ code: string; attempts: number; since: number }>;
  readonly orderEvents: number;
  /** Relayed events a subscriber refused (malformed for the parser, or failing its handler); each logged. */
  readonly refusedEvents: number;
  /** The order-event subscription: connections it was granted on, failed requests, dropped connections. */
  readonly eventSubscription: StandingSubscriptionStats;
  /** USDT wallet balance as the hub last merged it, or null before any account data. */
  readonly usdtWallet: string | null;
  /** Open positions as `SYMBOL:amount`. */
  readonly positions: readonly string[];
  /** The trading side's state (risk state, ladders), when a strategy runs. */
  readonly trading: object | null;
}

/**
 * Follows every symbol's klines (the configured intervals), ticks, positions, balances and the ban
 * list through one hub stream, keeps them in a native `TraderBook` (strategies read it without
 * parsing), and receives the order events user-stream collectors relay. Recovers from gaps and hub
 * restarts by snapshot (the `TraderFeed`'s job).
 */
export class TraderProcess {
  readonly client: HubClient;
  readonly feed: TraderFeed;
  readonly #log: Logger;
  readonly #events: string[] = [];
  readonly #eventListeners = new Set<(json: string) => void>();
  #eventCount = 0;
  #refusedEvents = 0;
  #lastEventSeq = 0;
  readonly #eventSubscription: StandingSubscription;
  #off: (() => void) | undefined;
  #reporter: NodeJS.Timeout | undefined;
  #tradingStatus: (() => object | null) | undefined;

  /** Authenticates with `key` (a trader key from `TRIBUTARY_HUB_KEY` unless given). */
  constructor(loaded: LoadedConfig, instance: number, logger: Logger, key: HubKeyCredentials = hubKey()) {
    this.#log = logger;
    this.client = new HubClient({
      url: hubUrl(loaded),
      ...hubTlsOption(loaded),
      peer: `trader-${instance}`,
      key,
      logger: logger.child('hub'),
    });
    this.#eventSubscription = new StandingSubscription(this.client, {
      what: 'order events',
      subscribe: () => {
        // The hub numbers events across subscriptions: a new one starts a new sequence here.
        this.#lastEventSeq = 0;
        return this.client.subscribeEvents();
      },
      logger: logger.child('events'),
    });
    this.feed = new TraderFeed({
      client: this.client,
      subscriptions: [{ symbols: '*', kinds: '*', intervals: [...loaded.config.trader.intervals] }],
      logger: logger.child('feed'),
    });
  }

  /** The live book (symbol ids are the hub's: `feed.symbolId(name)`). */
  get book(): TraderBook {
    return this.feed.book;
  }

  /** Order events received so far, newest last (at most the last 1,000 kept). */
  get recentOrderEvents(): readonly string[] {
    return this.#events;
  }

  /** Calls `listener` with every relayed user-data event (the exchange's JSON), in order. */
  onUserEvent(listener: (json: string) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Adds the trading side's state to the status (and so to the hub's /status); reports it now. */
  setTradingStatus(provider: () => object | null): void {
    this.#tradingStatus = provider;
    this.reportStatus();
  }

  /** Sends the status to the hub now (on a trading state change, without waiting for the timer). */
  reportStatus(): void {
    this.client.report(this.status());
  }

  /** Connects, subscribes, and resolves once the first snapshot is in the book. */
  async start(): Promise<void> {
    this.#off = this.client.onMessage((message) => {
      if (message.op !== 'events') return;
      if (this.#lastEventSeq !== 0 && message.seq !== this.#lastEventSeq + 1) {
        this.#log.warn('order events missed while away from the hub; recorders reconcile by REST', {
          expected: this.#lastEventSeq + 1,
          got: message.seq,
        });
      }
      this.#lastEventSeq = message.seq;
      this.#eventCount += message.events.length;
      for (const json of message.events) this.#relay(json);
      this.#events.push(...message.events);
      if (this.#events.length > RECENT_EVENTS) this.#events.splice(0, this.#events.length - RECENT_EVENTS);
    });
    // The event subscription does not survive a reconnect: it is asked again on every connection.
    this.#eventSubscription.start();
    // The hub shows the trader's own status in /status.
    this.#reporter = setInterval(() => this.client.report(this.status()), 10_000);
    this.#reporter.unref();
    await this.feed.start();
    this.client.report(this.status());
  }

  /**
   * Gives one event to every subscriber. A subscriber that throws (the native parser refusing a
   * malformed payload, a handler failing on an absurd value) is logged and counted; the other
   * subscribers and the events after it are still served, so one bad record loses only itself.
   */
  #relay(json: string): void {
    let refused = false;
    for (const listener of this.#eventListeners) {
      try {
        listener(json);
      } catch (error) {
        if (!refused)
          this.#log.warn('relayed user event refused', {
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            event: json.length > 300 ? `${json.slice(0, 300)}…` : json,
          });
        refused = true;
      }
    }
    if (refused) this.#refusedEvents += 1;
  }

  async stop(): Promise<void> {
    clearInterval(this.#reporter);
    this.#off?.();
    this.#eventSubscription.stop();
    this.feed.stop();
    await this.client.close();
  }

  status(): TraderStatus {
    const book = this.feed.book;
    const stats = this.feed.stats;
    const positions: string[] = [];
    for (const name of this.client.symbols) {
      const id = this.feed.symbolId(name);
      if (id === undefined) continue;
      for (const side of ['BOTH', 'LONG', 'SHORT'] as const) {
        const p = book.position(id, side);
        if (p !== null && Number(p.amount) !== 0) positions.push(`${name}:${p.amount}`);
      }
    }
    return {
      synced: this.feed.synced,
      hubState: this.client.state,
      symbols: this.client.symbols.length,
      staleStreams: book.staleStreams().length,
      framesApplied: stats.framesApplied,
      gaps: stats.gaps,
      baseMismatches: stats.baseMismatches,
      snapshotRequests: stats.snapshotRequests,
      refusedSubscriptions: this.feed.refused.map(({ code, attempts, since }) => ({ code, attempts, since })),
      orderEvents: this.#eventCount,
      refusedEvents: this.#refusedEvents,
      eventSubscription: this.#eventSubscription.stats(),
      usdtWallet: book.balance('USDT')?.walletBalance ?? null,
      positions,
      trading: this.#tradingStatus?.() ?? null,
    };
  }
}
