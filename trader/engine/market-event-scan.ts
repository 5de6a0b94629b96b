// Turns the trader's book into the strategy's tick and closed-bar events: after a frame for the symbols it touched, on a timer for every followed one.
import type { BookChanges } from '../../ts/native/book-changes.js';
import type { StrategyRequirements } from '../strategies/strategy-api.js';
import type { BookBarWatcher, BookMarketData, SymbolDirectory } from './book-market-data.js';
import type { MarketEvent } from './events.js';

/** What a {@link MarketEventScan} reads and where its events go. */
export interface MarketEventScanOptions {
  /** The hub's symbols; a symbol's id is its position. */
  directory: SymbolDirectory;
  market: BookMarketData;
  watcher: BookBarWatcher;
  requirements: Pick<StrategyRequirements, 'ticks' | 'intervals'>;
  /** Whether the strategy follows a symbol. */
  follows: (symbol: string) => boolean;
  push: (event: MarketEvent) => void;
}

/**
 * A followed symbol gets a tick event when its last price changed (with `requirements.ticks`)
 * and a bar event for each closed bar of a required interval, as `BookBarWatcher` finds them.
 * Both depend only on the symbol's own bars, quote and mark, so after a frame only the symbols
 * the apply touched are looked at (`changed`): at the universe's 600 symbols a scan of every one
 * on every frame cost the trader more than the frame. `all` looks at every followed symbol: at
 * start, after a snapshot (which replaces what it carries) and on the runtime's timer, which
 * finds the bars that close by this machine's clock (a symbol with neither a quote nor a mark).
 */
export class MarketEventScan {
  readonly #o: MarketEventScanOptions;
  readonly #lastTick = new Map<string, number>();
  /** The symbol ids of one frame's changes (reused). */
  readonly #touched: number[] = [];
  readonly #seen = new Set<number>();

  constructor(options: MarketEventScanOptions) {
    this.#o = options;
  }

  /** Every followed symbol, in the directory's order. */
  all(now: number): void {
    for (const symbol of this.#o.directory.symbols()) this.#symbol(symbol, now);
  }

  /** The followed symbols whose bars, quote or mark the last apply wrote, in the directory's order. */
  changed(changes: BookChanges, now: number): void {
    if (changes.hadSnapshot) {
      this.all(now);
      return;
    }
    const touched = this.#touched;
    const seen = this.#seen;
    touched.length = 0;
    seen.clear();
    for (let i = 0, n = changes.length; i < n; i++) {
      const kind = changes.kind(i);
      if (kind !== 'kline' && kind !== 'tick' && kind !== 'mark') continue;
      const id = changes.symbolId(i);
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      touched.push(id);
    }
    touched.sort((a, b) => a - b);
    const names = this.#o.directory.symbols();
    for (const id of touched) {
      const symbol = names[id];
      if (symbol !== undefined) this.#symbol(symbol, now);
    }
  }

  #symbol(symbol: string, now: number): void {
    const { follows, requirements, market, watcher, push } = this.#o;
    if (!follows(symbol)) return;
    if (requirements.ticks) {
      const price = market.lastPrice(symbol);
      if (Number.isFinite(price) && this.#lastTick.get(symbol) !== price) {
        this.#lastTick.set(symbol, price);
        push({ type: 'tick', symbol, price, time: now });
      }
    }
    for (const interval of requirements.intervals) {
      for (const bar of watcher.closed(symbol, interval, now)) push(bar);
    }
  }
}
