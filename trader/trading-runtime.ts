// Runs a strategy on a live trader: the hub-fed book becomes market events for the engine, on every feed update and on a timer.
import type { Logger } from '../ts/log/logger.js';
import { BookBarWatcher, BookMarketData, type SymbolDirectory } from './engine/book-market-data.js';
import { WallClock } from './engine/engine-clock.js';
import type { AccountView } from './engine/market-data.js';
import type { RiskGate } from './engine/risk-gate.js';
import { type StrategyStateStore, TradingEngine } from './engine/trading-engine.js';
import type { OrderJournal } from './execution/order-journal.js';
import type { SymbolRules } from './execution/symbol-rules.js';
import type { TradeRecorder } from './execution/trade-recorder.js';
import type { ContractSettings, Venue } from './execution/venue.js';
import type { Strategy } from './strategies/strategy-api.js';
import type { TraderProcess } from './trader-process.js';

/** What a live runtime needs besides the trader's feed. */
export interface TradingRuntimeOptions {
  readonly name: string;
  readonly strategy: Strategy;
  readonly venue: Venue;
  readonly rules: SymbolRules;
  readonly journal: OrderJournal;
  readonly logger: Logger;
  /** Where positions come from: the book's (exchange account via the hub) unless given (the paper account). */
  readonly account?: AccountView;
  readonly onAccountUpdate?: TradingEngineAccountHook;
  readonly settings?: ContractSettings;
  readonly risk?: RiskGate;
  readonly recorder?: TradeRecorder;
  readonly stateStore?: StrategyStateStore;
  /** How often quiet markets are checked for closed bars (default 1 s). */
  readonly pollMs?: number;
}

/** Receives the venue's ACCOUNT_UPDATEs (the paper account keeps itself from them). */
export type TradingEngineAccountHook = NonNullable<
  ConstructorParameters<typeof TradingEngine>[0]['onAccountUpdate']
>;

/**
 * The live side of a trader: market data and account from the native book (`BookMarketData`,
 * `BookAccount` or the paper account), closed bars found by `BookBarWatcher` after every feed
 * update and every `pollMs`, ticks when the strategy asks, all pushed into one `TradingEngine`.
 */
export class TradingRuntime {
  readonly engine: TradingEngine;
  readonly market: BookMarketData;
  readonly #trader: TraderProcess;
  readonly #watcher: BookBarWatcher;
  readonly #o: TradingRuntimeOptions;
  readonly #dir: SymbolDirectory;
  readonly #lastTick = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #off: (() => void) | undefined;

  constructor(trader: TraderProcess, options: TradingRuntimeOptions, account: AccountView) {
    this.#trader = trader;
    this.#o = options;
    this.#dir = {
      symbolId: (name) => trader.feed.symbolId(name),
      symbols: () => trader.client.symbols,
    };
    this.market = new BookMarketData(trader.book, this.#dir);
    this.#watcher = new BookBarWatcher(trader.book, this.#dir);
    this.engine = new TradingEngine({
      name: options.name,
      strategy: options.strategy,
      market: this.market,
      account,
      venue: options.venue,
      rules: options.rules,
      clock: new WallClock(),
      journal: options.journal,
      logger: options.logger,
      ...(options.risk === undefined ? {} : { risk: options.risk }),
      ...(options.recorder === undefined ? {} : { recorder: options.recorder }),
      ...(options.stateStore === undefined ? {} : { stateStore: options.stateStore }),
      ...(options.onAccountUpdate === undefined ? {} : { onAccountUpdate: options.onAccountUpdate }),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
  }

  /** Symbols the strategy follows that the exchange lists. */
  tradedSymbols(): string[] {
    return this.#dir.symbols().filter((s) => this.engine.follows(s) && this.#o.rules.has(s));
  }

  /** Applies and verifies contract settings, resolves unknown orders, starts the strategy and the event flow. */
  async start(): Promise<void> {
    if (this.#o.settings !== undefined)
      await this.#o.venue.applySettings(this.#o.settings, this.tradedSymbols());
    const open = await this.engine.executor.resolveUnknown();
    if (open > 0) this.#o.logger.warn('orders from before the restart are still open', { open });
    await this.engine.start();
    this.#scan();
    this.#off = this.#trader.feed.onUpdate(() => this.#scan());
    this.#timer = setInterval(() => this.#scan(), this.#o.pollMs ?? 1_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#off?.();
    await this.engine.stop();
  }

  #scan(): void {
    const now = Date.now();
    const req = this.#o.strategy.requirements;
    for (const symbol of this.#dir.symbols()) {
      if (!this.engine.follows(symbol)) continue;
      if (req.ticks) {
        const price = this.market.lastPrice(symbol);
        if (Number.isFinite(price) && this.#lastTick.get(symbol) !== price) {
          this.#lastTick.set(symbol, price);
          void this.engine.push({ type: 'tick', symbol, price, time: now });
        }
      }
      for (const interval of req.intervals) {
        for (const bar of this.#watcher.closed(symbol, interval, now)) void this.engine.push(bar);
      }
    }
  }
}
