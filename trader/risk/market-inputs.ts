// What pre-trade checks read besides the order: the hub's ban list and how fresh the book's prices are (interfaces, and their implementations over the trader's native book).
import { TICK_SLOTS, type TraderBook } from '../../ts/native/trader-book.js';
import type { SymbolDirectory } from '../engine/book-market-data.js';

/** Where a quote's exchange time sits in the book's tick block. */
const TICK_TIME = TICK_SLOTS.indexOf('time');

/** Why a symbol is banned: the whole account (`ALL`) or the symbol itself. */
export type BanReason = 'ALL' | 'SYMBOL';

/** The ban list the income collector computes and the hub distributes (last writer wins). */
export interface BanListView {
  /** Why `symbol` may not get new exposure, or `undefined` when it may. */
  banned(symbol: string): BanReason | undefined;
  /** Everything banned (`ALL`) and the banned symbols, for the status. */
  summary(): { readonly all: boolean; readonly symbols: readonly string[] };
}

/** How fresh the market data behind an order is. */
export interface MarketFreshness {
  /** Milliseconds since the symbol's last price, or `undefined` when it has none. */
  priceAgeMs(symbol: string, now: number): number | undefined;
  /** Why the whole book is stale (a gap waiting for a snapshot), or `undefined` when it is not. */
  bookStale(): string | undefined;
}

/** The ban list as the trader's book holds it (the hub's, by symbol id). */
export class BookBanList implements BanListView {
  readonly #book: TraderBook;
  readonly #dir: SymbolDirectory;

  constructor(book: TraderBook, directory: SymbolDirectory) {
    this.#book = book;
    this.#dir = directory;
  }

  banned(symbol: string): BanReason | undefined {
    const list = this.#book.banList();
    if (list.all) return 'ALL';
    if (list.symbols.length === 0) return undefined;
    const id = this.#dir.symbolId(symbol);
    return id !== undefined && list.symbols.includes(id) ? 'SYMBOL' : undefined;
  }

  summary(): { all: boolean; symbols: string[] } {
    const list = this.#book.banList();
    const names = new Map<number, string>();
    for (const name of this.#dir.symbols()) {
      const id = this.#dir.symbolId(name);
      if (id !== undefined) names.set(id, name);
    }
    return { all: list.all, symbols: list.symbols.map((id) => names.get(id) ?? `#${id}`) };
  }
}

/** Freshness from the book: the tick's exchange time per symbol, stale streams for the whole book. */
export class BookFreshness implements MarketFreshness {
  readonly #book: TraderBook;
  readonly #dir: SymbolDirectory;

  constructor(book: TraderBook, directory: SymbolDirectory) {
    this.#book = book;
    this.#dir = directory;
  }

  priceAgeMs(symbol: string, now: number): number | undefined {
    const id = this.#dir.symbolId(symbol);
    if (id === undefined) return undefined;
    const time = this.#book.tickValues(id)?.[TICK_TIME];
    return time === undefined || !Number.isFinite(time) ? undefined : Math.max(0, now - time);
  }

  bookStale(): string | undefined {
    const stale = this.#book.staleStreams();
    return stale.length === 0 ? undefined : `hub stream ${stale.join(', ')} waits for a snapshot after a gap`;
  }
}
