// The event engine of a trader: market event → strategy → signal → target planner → risk → order → executor → fill, on one queue.
import { Decimal } from '../../ts/exact/decimal.js';
import { LogThrottle } from '../../ts/log/log-throttle.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { OrderExecutor } from '../execution/order-executor.js';
import type { OrderJournal } from '../execution/order-journal.js';
import type { SymbolRules } from '../execution/symbol-rules.js';
import type { TradeRecorder } from '../execution/trade-recorder.js';
import type { Venue } from '../execution/venue.js';
import type { VolumeProfile } from '../execution/volume-profile.js';
import {
  notionalQuantity,
  type Strategy,
  type StrategyContext,
  type StrategyState,
  type TargetOptions,
} from '../strategies/strategy-api.js';
import type { EngineClock } from './engine-clock.js';
import { EventQueue } from './event-queue.js';
import type {
  BarEvent,
  EngineEvent,
  ExecutionStyle,
  FillEvent,
  MarketEvent,
  OrderIntent,
  SignalEvent,
  TickEvent,
} from './events.js';
import { checkExchangeTime } from './exchange-time.js';
import { ExposureTracker } from './exposure-tracker.js';
import type { AccountView, MarketData } from './market-data.js';
import { quoteMid } from './quote-price.js';
import { PassThroughRisk, type RiskGate } from './risk-gate.js';
import { TargetPlanner } from './target-planner.js';

/** Where a strategy's state survives restarts. */
export interface StrategyStateStore {
  load(name: string): StrategyState | undefined;
  save(name: string, state: StrategyState): void;
}

/** Everything one engine runs on; the mode decides which implementations are passed. */
export interface TradingEngineOptions {
  /** Instance name: part of every signal key and client order id (keep it stable across restarts). */
  readonly name: string;
  readonly strategy: Strategy;
  readonly market: MarketData;
  readonly account: AccountView;
  readonly venue: Venue;
  readonly rules: SymbolRules;
  readonly clock: EngineClock;
  readonly journal: OrderJournal;
  readonly logger: Logger;
  readonly risk?: RiskGate;
  readonly recorder?: TradeRecorder;
  readonly stateStore?: StrategyStateStore;
  /** Applied to the account when the venue reports an ACCOUNT_UPDATE (paper and backtest accounts). */
  readonly onAccountUpdate?: (update: NonNullable<UserEventObject['accountUpdate']>) => void;
  readonly volumeProfile?: (symbol: string) => VolumeProfile | undefined;
  /** Wall-time waits (rate-limit back-off); absent in backtests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Counters of one engine. */
export interface TradingEngineStats {
  marketEvents: number;
  signals: number;
  repeatedSignals: number;
  orders: number;
  refusedByRisk: number;
  fills: number;
  /** Fills of orders not sent for an intent of this process (sent before a restart, ladder stops, liquidations, manual trades). */
  fillsElsewhere: number;
  /** Fills whose trade time was implausible (µs, seconds, far future): another exchange time, or none, used. */
  implausibleFillTimes: number;
  /** Signals of a symbol with no usable price (no last trade, no sane quote): only reduce-only legs planned. */
  unpricedSignals: number;
  /** Signals that asked for a change of which nothing could be sent (unlisted symbol, every leg skipped). */
  unsentSignals: number;
}

/** A signal of which nothing could be sent, and why (see {@link TradingEngine.onUnsent}). */
export type UnsentListener = (signal: SignalEvent, reason: string) => void;

/** At most one "no price" warning a symbol per this long (engine clock); the counters keep the tally. */
const UNPRICED_WARN_INTERVAL_MS = 60_000;

const MARKET: ExecutionStyle = { kind: 'market' };

function signedQuantity(intent: OrderIntent): Decimal {
  return intent.side === 'BUY' ? intent.quantity : intent.quantity.neg();
}

/**
 * One trader's engine (seed 003's shape). Data sources push market events; the strategy is called
 * on the queue; its targets become legs (`TargetPlanner`), each judged by the `RiskGate`, executed
 * by the `OrderExecutor` on the `Venue`; the venue's user events come back as fills. The same class
 * runs live, testnet, paper, dry-run and backtest: only the market data, account, venue and clock
 * passed in differ.
 */
export class TradingEngine {
  readonly queue: EventQueue;
  readonly executor: OrderExecutor;
  readonly planner: TargetPlanner;
  readonly tracker = new ExposureTracker();
  readonly stats: TradingEngineStats = {
    marketEvents: 0,
    signals: 0,
    repeatedSignals: 0,
    orders: 0,
    refusedByRisk: 0,
    fills: 0,
    fillsElsewhere: 0,
    implausibleFillTimes: 0,
    unpricedSignals: 0,
    unsentSignals: 0,
  };
  readonly #o: TradingEngineOptions;
  readonly #risk: RiskGate;
  readonly #ctx: StrategyContext;
  readonly #log: Logger;
  readonly #signalled = new Set<string>();
  /** Last decision time given to each `source|symbol` of `submitTarget`. */
  readonly #submitted = new Map<string, number>();
  readonly #warm = new Map<string, boolean>();
  readonly #symbols: ReadonlySet<string> | undefined;
  /** Intents approved by risk whose order event is still on the queue (counted in the tracker). */
  readonly #approved = new WeakSet<OrderIntent>();
  readonly #unsentListeners = new Set<UnsentListener>();
  readonly #unpricedWarn = new LogThrottle(UNPRICED_WARN_INTERVAL_MS);
  #decisionTime = 0;
  #offUser: (() => void) | undefined;
  #started = false;

  constructor(options: TradingEngineOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#risk = options.risk ?? new PassThroughRisk();
    this.queue = new EventQueue(options.logger.child('queue'));
    this.planner = new TargetPlanner(options.rules, options.logger.child('planner'), () =>
      options.clock.now(),
    );
    this.executor = new OrderExecutor({
      venue: options.venue,
      rules: options.rules,
      clock: options.clock,
      journal: options.journal,
      tracker: this.tracker,
      market: options.market,
      logger: options.logger.child('executor'),
      recorder: options.recorder,
      volumeProfile: options.volumeProfile,
      sleep: options.sleep,
    });
    const wanted = options.strategy.requirements.symbols;
    this.#symbols = wanted === 'all' ? undefined : new Set(wanted);
    this.#ctx = this.#context();
    this.queue.on('bar', (e) => this.#onBar(e));
    this.queue.on('tick', (e) => this.#onTick(e));
    this.queue.on('signal', (e) => this.#onSignal(e));
    this.queue.on('order', (e) => {
      this.stats.orders += 1;
      // The executor counts it as submitted from here; until now the approval counted it.
      if (this.#approved.delete(e.intent)) this.tracker.handedOver(e.intent.symbol, signedQuantity(e.intent));
      void this.executor.submit(e.intent);
    });
    this.queue.on('fill', (e) => this.#onFill(e));
  }

  /** The strategy's context (for tests and tools). */
  get context(): StrategyContext {
    return this.#ctx;
  }

  /** Subscribes to the venue, restores the strategy's state and starts it. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#offUser = this.#o.venue.onUserEvent((e) => this.#onUserEvent(e));
    const saved = this.#o.stateStore?.load(this.#o.name);
    if (saved !== undefined) this.#o.strategy.restoreState?.(saved);
    await this.#o.strategy.start?.(this.#ctx);
  }

  async stop(): Promise<void> {
    await this.idle();
    await this.#o.strategy.stop?.(this.#ctx);
    this.#offUser?.();
  }

  /** Whether the strategy follows `symbol`. */
  follows(symbol: string): boolean {
    return this.#symbols === undefined || this.#symbols.has(symbol);
  }

  /** Queues a market event and handles the queue; returns a promise only when something async is running. */
  push(event: MarketEvent): Promise<void> | undefined {
    this.stats.marketEvents += 1;
    this.queue.push(event);
    const pending = this.queue.drainSync();
    if (pending !== undefined || this.executor.busy) return this.idle();
    return undefined;
  }

  /**
   * Asks for a target position outside a strategy (issue 14's force-close and close-all use it):
   * keyed by `source` and the engine time, it goes through the same planner, risk and executor.
   */
  submitTarget(source: string, symbol: string, quantity: Decimal, reason: string, execution = MARKET): void {
    // Two targets of one source and symbol in the same millisecond would share client ids (the
    // second would be taken for a repeat of the first and not sent): each gets its own time.
    const key = `${source}|${symbol}`;
    const time = Math.max(this.#o.clock.now(), (this.#submitted.get(key) ?? 0) + 1);
    this.#submitted.set(key, time);
    if (this.#submitted.size > 10_000) this.#submitted.clear();
    this.queue.push({
      type: 'signal',
      key: { strategy: source, symbol, time },
      target: quantity,
      execution,
      reason,
    });
    void this.queue.drain();
  }

  /**
   * Calls `listener` for every signal that asked for a change of which nothing could be sent (a
   * symbol the exchange does not list, every leg skipped by the planner); risk refusals are not
   * included (the gate reports those). Returns the unsubscribe function. Risk alerts on its own
   * closes through it: a force-close that cannot be sent must not go unnoticed.
   */
  onUnsent(listener: UnsentListener): () => void {
    this.#unsentListeners.add(listener);
    return () => this.#unsentListeners.delete(listener);
  }

  /** Resolves when the queue is empty and no order is being executed. */
  async idle(): Promise<void> {
    while (this.queue.size > 0 || this.executor.busy) {
      await this.queue.drain();
      await this.executor.idle();
    }
  }

  #context(): StrategyContext {
    const o = this.#o;
    return {
      name: o.name,
      market: o.market,
      account: o.account,
      log: o.logger.child('strategy'),
      now: () => o.clock.now(),
      setTarget: (symbol: string, quantity: Decimal, options: TargetOptions) =>
        this.#setTarget(symbol, quantity, options),
      quantityFor: (symbol: string, notional: Decimal) => {
        const price = o.market.lastPriceExact(symbol);
        return price === undefined || price.sign() <= 0 ? undefined : notionalQuantity(notional, price);
      },
    };
  }

  #setTarget(symbol: string, quantity: Decimal, options: TargetOptions): void {
    const key = { strategy: this.#o.name, symbol, time: this.#decisionTime };
    const id = `${symbol}|${key.time}`;
    if (this.#signalled.has(id)) {
      this.stats.repeatedSignals += 1;
      return;
    }
    this.#signalled.add(id);
    if (this.#signalled.size > 100_000) this.#signalled.clear();
    this.stats.signals += 1;
    this.queue.push({
      type: 'signal',
      key,
      target: quantity,
      execution: options.execution ?? MARKET,
      reason: options.reason,
    });
  }

  #onBar(bar: BarEvent): void | Promise<void> {
    const strategy = this.#o.strategy;
    if (strategy.onBar === undefined || !this.follows(bar.symbol)) return;
    if (!this.#isWarm(bar)) return;
    this.#decisionTime = bar.closeTime;
    const result = strategy.onBar(this.#ctx, bar);
    if (result instanceof Promise) return result.then(() => this.#saveState());
    this.#saveState();
  }

  #isWarm(bar: BarEvent): boolean {
    const key = `${bar.symbol}|${bar.interval}`;
    if (this.#warm.get(key) === true) return true;
    const need = this.#o.strategy.requirements.warmupBars;
    const held = this.#o.market.series(bar.symbol, bar.interval)?.length ?? 0;
    const warm = held >= need;
    if (warm) this.#warm.set(key, true);
    return warm;
  }

  #onTick(tick: TickEvent): void {
    const strategy = this.#o.strategy;
    if (strategy.onTick === undefined || !this.follows(tick.symbol)) return;
    this.#decisionTime = tick.time;
    strategy.onTick(this.#ctx, tick);
    this.#saveState();
  }

  #onSignal(signal: SignalEvent): void {
    const symbol = signal.key.symbol;
    if (!this.#o.rules.has(symbol)) {
      this.#log.warn('signal for a symbol the exchange does not list', { symbol });
      this.#unsent(signal, `the exchange does not list ${symbol}`);
      return;
    }
    const reference = this.#referencePrice(symbol);
    const expected = this.tracker.expected(symbol, this.#o.account.position(symbol));
    if (reference === undefined && !signal.target.eq(expected)) {
      this.stats.unpricedSignals += 1;
      const suppressed = this.#unpricedWarn.allow(symbol, this.#o.clock.now());
      if (suppressed !== undefined)
        this.#log.warn('signal without a price: only reduce-only legs are sent', {
          symbol,
          reason: signal.reason,
          suppressed,
        });
    }
    const skipped = this.planner.skippedCount;
    const intents = this.planner.plan(signal, expected, reference);
    if (this.planner.skippedCount > skipped && intents.length === 0)
      this.#unsent(signal, this.planner.recentSkipped.at(-1)?.reason ?? 'every leg was skipped');
    for (const intent of intents) {
      const decision = this.#risk.check(intent, {
        market: this.#o.market,
        account: this.#o.account,
        now: this.#o.clock.now(),
        expectedPosition: (s) => this.tracker.expected(s, this.#o.account.position(s)),
        exposedSymbols: () => this.tracker.symbols(),
      });
      if (!decision.allowed) {
        this.stats.refusedByRisk += 1;
        // The gate reported it (the risk event log writes one line per symbol and rule a minute):
        // a line here for every refusal turned a strategy that signals on every tick into a flood.
        this.#log.debug('order refused by risk', { symbol, rule: decision.rule, reason: decision.reason });
        continue;
      }
      // Counted from the approval, not from when the order event reaches the executor: the next
      // leg, and the next symbol of the same decision, are judged with it (the notional limits
      // would otherwise judge every leg of a bar against a flat book).
      this.tracker.approved(symbol, signedQuantity(intent));
      this.#approved.add(intent);
      this.queue.push({ type: 'order', intent });
    }
  }

  /**
   * What a signal of `symbol` is sized and checked at: the last trade, else the mid of the book's
   * bid and ask when the quote is sane (`quoteMid`: a book with a bid and ask but no trade yet),
   * else undefined (only reduce-only legs are planned then: a close never needs a price).
   */
  #referencePrice(symbol: string): Decimal | undefined {
    const market = this.#o.market;
    const last = market.lastPriceExact(symbol);
    if (last !== undefined && last.sign() > 0) return last;
    const quote = market.quote(symbol);
    if (quote === undefined) return undefined;
    const tick = this.#o.rules.fields(symbol)?.tickSize;
    const mid = quoteMid(quote, { tickSize: tick === undefined ? undefined : Decimal.parse(tick) });
    if ('mid' in mid) return mid.mid;
    const suppressed = this.#unpricedWarn.allow(`${symbol}|quote`, this.#o.clock.now());
    if (suppressed !== undefined)
      this.#log.warn('quote refused as a reference price', { symbol, reason: mid.refused, suppressed });
    return undefined;
  }

  /** Counts and reports a signal of which nothing could be sent. */
  #unsent(signal: SignalEvent, reason: string): void {
    this.stats.unsentSignals += 1;
    for (const listener of this.#unsentListeners) {
      try {
        listener(signal, reason);
      } catch (error) {
        this.#log.error('unsent-signal listener failed', {
          symbol: signal.key.symbol,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  #onFill(fill: FillEvent): void {
    this.stats.fills += 1;
    this.#o.recorder?.fill(fill);
    this.#o.strategy.onFill?.(this.#ctx, fill);
  }

  #onUserEvent(event: UserEventObject): void {
    if (event.accountUpdate !== undefined) this.#o.onAccountUpdate?.(event.accountUpdate);
    const u = event.orderUpdate;
    if (u === undefined) return;
    if (u.executionType === 'TRADE') {
      const qty = Decimal.parse(u.lastFilledQuantity);
      const side = u.side === 'SELL' ? 'SELL' : 'BUY';
      const signedQty = side === 'BUY' ? qty : qty.neg();
      const time = this.#fillTime(u);
      // Without a time to trust, the fill is taken as reflected by the account already: a time
      // kept too late would add the fill to the expected position for good, one too early leaves
      // it out only until the account reports the position (the same moment, usually).
      const trackedTime = time ?? 0;
      if (this.executor.sentHere(u.clientOrderId))
        this.tracker.filled(u.symbol, signedQty, trackedTime, u.clientOrderId);
      else {
        this.stats.fillsElsewhere += 1;
        this.tracker.filledElsewhere(u.symbol, signedQty, trackedTime);
      }
      const fill: EngineEvent = {
        type: 'fill',
        symbol: u.symbol,
        clientOrderId: u.clientOrderId,
        side,
        price: Decimal.parse(u.lastFilledPrice),
        quantity: qty,
        commission: Decimal.parse(u.commission ?? '0'),
        commissionAsset: u.commissionAsset ?? 'USDT',
        realizedPnl: Decimal.parse(u.realizedProfit),
        maker: u.isMaker,
        time: time ?? this.#o.clock.now(),
        tradeId: u.tradeId ?? '',
      };
      this.queue.push(fill);
      // Handled now, not with the next market event (a quiet market may not bring one for a
      // minute); after the current call stack, so a drain in progress is never re-entered.
      queueMicrotask(() => void this.queue.drain());
    }
    this.executor.onOrderUpdate(u);
  }

  /**
   * The fill's exchange time: the trade time, else the transaction or event time when the trade
   * time is implausible, else undefined (counted and logged; the fill itself is kept).
   */
  #fillTime(u: NonNullable<UserEventObject['orderUpdate']>): number | undefined {
    const now = this.#o.clock.now();
    const tradeTime = checkExchangeTime('tradeTime', u.tradeTime, now);
    if (tradeTime === undefined) return u.tradeTime;
    this.stats.implausibleFillTimes += 1;
    for (const [field, time] of [
      ['transactionTime', u.transactionTime],
      ['eventTime', u.eventTime],
    ] as const) {
      if (checkExchangeTime(field, time, now) === undefined) {
        this.#log.warn('fill with an implausible trade time; its transaction or event time used', {
          clientOrderId: u.clientOrderId,
          error: tradeTime.message,
          used: field,
        });
        return time;
      }
    }
    this.#log.warn('fill with implausible exchange times; taken as reflected by the account', {
      clientOrderId: u.clientOrderId,
      symbol: u.symbol,
      error: tradeTime.message,
    });
    return undefined;
  }

  #saveState(): void {
    const store = this.#o.stateStore;
    const save = this.#o.strategy.saveState;
    if (store === undefined || save === undefined) return;
    store.save(this.#o.name, save.call(this.#o.strategy));
  }
}
