// The account as the hub holds it (positions and balances the account collectors merge), followed through a viewer subscription.
import { Decimal } from '../ts/exact/decimal.js';
import type { HubClient } from '../ts/hub/hub-client.js';
import { TraderFeed } from '../ts/hub/trader-feed.js';
import type { Logger } from '../ts/log/logger.js';
import type { AccountObject } from '../ts/native/parse.js';

/**
 * Follows the hub's `position`, `balance` and `mark` topics of every symbol into a local book, so the
 * recorder reads the account's state without spending request weight: the user-stream, account
 * and position-risk collectors already keep it current at the hub. `account()` is undefined while
 * the book is not in sync (no snapshot yet, a gap not yet repaired, the hub away): the caller then
 * reads the account by REST.
 */
export class HubAccount {
  readonly feed: TraderFeed;
  readonly #log: Logger;

  constructor(client: HubClient, logger: Logger) {
    this.#log = logger;
    this.feed = new TraderFeed({
      client,
      subscriptions: [{ symbols: '*', kinds: ['position', 'balance', 'mark'], intervals: '*' }],
      logger,
    });
  }

  /** Subscribes (now if the client is ready, else at its first `ready`); never waits for the first snapshot. */
  start(): void {
    this.feed.start().catch((error: unknown) => {
      this.#log.warn('account subscription did not start; the next hub connection retries', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  stop(): void {
    this.feed.stop();
  }

  get synced(): boolean {
    return this.feed.synced;
  }

  /** Positions (zero amounts included) and balances as the hub has them, or undefined while not in sync. */
  account(): AccountObject | undefined {
    if (!this.feed.synced) return undefined;
    const book = this.feed.book;
    const positions = book.positions().flatMap(({ symbolId, position }) => {
      const symbol = this.feed.symbolName(symbolId);
      return symbol === undefined ? [] : [{ symbol, position }];
    });
    return { positions, balances: book.balances() };
  }

  /**
   * A symbol's latest mark price at the hub and its exchange time (what values a position between
   * its changes), or undefined while not in sync or never marked.
   */
  mark(symbol: string): { price: string; time: number } | undefined {
    if (!this.feed.synced) return undefined;
    const id = this.feed.symbolId(symbol);
    const mark = id === undefined ? null : this.feed.book.mark(id);
    return mark === null ? undefined : { price: mark.markPrice, time: mark.time };
  }

  /** Symbols with a non-zero position, or undefined while not in sync. */
  openPositionSymbols(): string[] | undefined {
    const account = this.account();
    if (account === undefined) return undefined;
    const open = new Set<string>();
    for (const p of account.positions) if (!Decimal.parse(p.position.amount).isZero()) open.add(p.symbol);
    return [...open].sort();
  }
}
