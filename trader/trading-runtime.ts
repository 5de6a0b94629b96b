// Runs a strategy on a live trader: the hub-fed book becomes market events for the engine, on every feed update and on a timer.
import type { RiskSettings } from '../ts/config/risk-config.js';
import type { Logger } from '../ts/log/logger.js';
import { BookBarWatcher, BookMarketData, type SymbolDirectory } from './engine/book-market-data.js';
import { WallClock } from './engine/engine-clock.js';
import type { AccountView } from './engine/market-data.js';
import { MarketEventScan } from './engine/market-event-scan.js';
import type { RiskGate } from './engine/risk-gate.js';
import { type StrategyStateStore, TradingEngine } from './engine/trading-engine.js';
import type { OrderJournal } from './execution/order-journal.js';
import type { SymbolRules } from './execution/symbol-rules.js';
import type { TradeRecorder } from './execution/trade-recorder.js';
import type { ContractSettings, Venue } from './execution/venue.js';
import { BookBanList, BookFreshness } from './risk/market-inputs.js';
import type { OrderRateMeter } from './risk/order-rate.js';
import type { RiskStateStore } from './risk/risk-state-store.js';
import { TraderRisk } from './risk/trader-risk.js';
import type { StopOrderVenue } from './stop-loss/stop-orders.js';
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
  readonly onAccountUpdate?: TradingEngineAccountHook;
  readonly settings?: ContractSettings;
  readonly risk?: RiskGate;
  readonly recorder?: TradeRecorder;
  readonly stateStore?: StrategyStateStore;
  /** How often quiet markets are checked for closed bars (default 1 s). */
  readonly pollMs?: number;
  /** The risk engine, stop-loss ladders and order timeouts (issue 14); replaces `risk` when given. */
  readonly protection?: RuntimeProtection;
}

/** What the risk side needs from the mode: its settings, where its state lives, stops and order counts. */
export interface RuntimeProtection {
  readonly settings: RiskSettings;
  readonly store: RiskStateStore;
  /** Where ladder stops go (absent: no ladders). */
  readonly stopOrders?: StopOrderVenue;
  readonly orderRate?: OrderRateMeter;
}

/** Receives the venue's ACCOUNT_UPDATEs (the paper account keeps itself from them). */
export type TradingEngineAccountHook = NonNullable<
  ConstructorParameters<typeof TradingEngine>[0]['onAccountUpdate']
>;

/**
 * The live side of a trader: market data and account from the native book (`BookMarketData`,
 * `BookAccount` or the paper account), closed bars found by `BookBarWatcher` and ticks when the
 * strategy asks (`MarketEventScan`: after every feed update for the symbols it touched, every
 * `pollMs` for all), all pushed into one `TradingEngine`.
 */
export class TradingRuntime {
  readonly engine: TradingEngine;
  readonly market: BookMarketData;
  /** The risk side, when `protection` was given. */
  readonly risk: TraderRisk | undefined;
  readonly #trader: TraderProcess;
  readonly #o: TradingRuntimeOptions;
  readonly #dir: SymbolDirectory;
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
    const clock = new WallClock();
    const p = options.protection;
    this.risk =
      p === undefined || !p.settings.enabled
        ? undefined
        : new TraderRisk({
            settings: p.settings,
            store: p.store,
            account,
            market: this.market,
            rules: options.rules,
            clock,
            logger: options.logger.child('risk'),
            banList: new BookBanList(trader.book, this.#dir),
            freshness: new BookFreshness(trader.book, this.#dir),
            orderRate: p.orderRate,
            positionsKnown: () => account.positionsKnown(),
            stopOrders: p.stopOrders,
          });
    const risk = this.risk?.gate ?? options.risk;
    const venue = this.risk?.guardVenue(options.venue) ?? options.venue;
    this.engine = new TradingEngine({
      name: options.name,
      strategy: options.strategy,
      market: this.market,
      account,
      venue,
      rules: options.rules,
      clock,
      journal: options.journal,
      logger: options.logger,
      ...(risk === undefined ? {} : { risk }),
      ...(options.recorder === undefined ? {} : { recorder: options.recorder }),
      ...(options.stateStore === undefined ? {} : { stateStore: options.stateStore }),
      ...(options.onAccountUpdate === undefined ? {} : { onAccountUpdate: options.onAccountUpdate }),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    this.risk?.attach(this.engine, venue);
  }

  /** Symbols the strategy follows that the exchange lists. */
  tradedSymbols(): string[] {
    return this.#dir.symbols().filter((s) => this.engine.follows(s) && this.#o.rules.has(s));
  }

  /** Applies and verifies contract settings, resolves unknown orders, starts the strategy and the event flow. */
  async start(): Promise<void> {
    if (this.#o.settings !== undefined)
      await this.#o.venue.applySettings(this.#o.settings, this.tradedSymbols());
    // Orders a restart left working are cancelled before the strategy decides anew (it re-places
    // what it still wants), so they cannot fill beside its new orders.
    const { cancelled, open } = await this.engine.executor.cancelLeftOpen();
    if (cancelled > 0 || open > 0)
      this.#o.logger.warn('orders from before the restart', { cancelled, stillOpen: open });
    // Ladders are rebuilt from the exchange before the strategy may trade.
    await this.risk?.start();
    const risk = this.risk;
    if (risk !== undefined) {
      // The hub's /status shows the trading state; a change is reported at once.
      this.#trader.setTradingStatus(() => risk.status());
      risk.state.onChange(() => this.#trader.reportStatus());
    }
    await this.engine.start();
    const scan = new MarketEventScan({
      directory: this.#dir,
      market: this.market,
      watcher: new BookBarWatcher(this.#trader.book, this.#dir),
      requirements: this.#o.strategy.requirements,
      follows: (symbol) => this.engine.follows(symbol),
      push: (event) => void this.engine.push(event),
    });
    scan.all(Date.now());
    this.#off = this.#trader.feed.onUpdate((result) => {
      this.risk?.onMarketUpdate();
      scan.changed(result.changes, Date.now());
    });
    this.#timer = setInterval(() => scan.all(Date.now()), this.#o.pollMs ?? 1_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#off?.();
    await this.risk?.stop();
    await this.engine.stop();
  }
}
