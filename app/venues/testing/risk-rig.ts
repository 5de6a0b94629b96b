// Test rig: a trader's engine and risk side over the simulator's exchange engine in process, on a virtual clock, with faults, crashes and restarts — no network.
import { ExchangeEngine } from '../../../sim/engine/exchange-engine.js';
import { DEFAULT_SYMBOLS } from '../../../sim/symbols.js';
import { VirtualClock } from '../../../trader/engine/engine-clock.js';
import type { AccountView, PositionState } from '../../../trader/engine/market-data.js';
import { TradingEngine } from '../../../trader/engine/trading-engine.js';
import { MemoryOrderJournal } from '../../../trader/execution/order-journal.js';
import { OrderOutcomeUnknownError } from '../../../trader/execution/order-sender.js';
import { SymbolRules } from '../../../trader/execution/symbol-rules.js';
import type { ContractSettings, SymbolSettings, Venue, VenueOrder } from '../../../trader/execution/venue.js';
import { LocalOrderRate } from '../../../trader/risk/order-rate.js';
import type { TradingState } from '../../../trader/risk/risk-state.js';
import { MemoryRiskStateStore } from '../../../trader/risk/risk-state-store.js';
import { TraderRisk } from '../../../trader/risk/trader-risk.js';
import { parseLadderStopId } from '../../../trader/stop-loss/ladder-ids.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from '../../../trader/stop-loss/stop-orders.js';
import type { Strategy } from '../../../trader/strategies/strategy-api.js';
import { defaultRiskSettings, type RiskSettings } from '../../../ts/config/risk-config.js';
import { Decimal } from '../../../ts/exact/decimal.js';
import { RateLimitedError } from '../../../ts/exchange/exchange-errors.js';
import type { OrderRecord } from '../../../ts/exchange/usdm-decoders.js';
import { silentLogger } from '../../../ts/log/logger.js';
import type { UserEventObject } from '../../../ts/native/parse.js';
import { BacktestMarketData } from '../../backtest/backtest-market-data.js';
import { DrivenMarket } from '../driven-market.js';
import { EngineVenue } from '../engine-venue.js';
import { ruleFields } from '../symbol-specs.js';

export const RIG_SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;
const T0 = Date.UTC(2026, 4, 8, 12);

/** Faults the venue injects, each for the next N calls of its kind (or until a time). */
export class FaultPlan {
  /** placeStop runs on the exchange, then its answer is lost for good (a 503 nobody could resolve). */
  unknownAfterPlace = 0;
  /** placeStop's outcome is unknown and it never reached the exchange. */
  unknownBeforePlace = 0;
  /** Every exchange call answers 429 until this engine time. */
  rateLimitedUntil = 0;
  /** cancelStop runs, then its answer is lost. */
  unknownAfterCancel = 0;
  /** User-data events are lost until this engine time (a dropped stream). */
  dropEventsUntil = 0;
  /** The process is killed (SIGKILL) as it is about to make its `after`+1-th next call of `kind`. */
  dieAt: { kind: SentCall['kind']; after: number } | undefined;
  /** Set when `dieAt` fired; the rig restarts the trader. */
  died = false;

  clear(): void {
    this.dieAt = undefined;
    this.unknownAfterPlace = 0;
    this.unknownBeforePlace = 0;
    this.rateLimitedUntil = 0;
    this.unknownAfterCancel = 0;
    this.dropEventsUntil = 0;
  }
}

/** One call to the exchange (a send, or a read of the open stops), with the trading state when it was made. */
export interface SentCall {
  readonly kind: 'place' | 'cancel' | 'placeStop' | 'cancelStop' | 'openStops';
  readonly state: TradingState;
  readonly reduceOnly: boolean;
  /** The client id it names, if any. */
  readonly id?: string;
  readonly time: number;
}

/** Calls that send something (an order, a cancel). */
export function isSend(call: SentCall): boolean {
  return call.kind !== 'openStops';
}

/**
 * The in-process exchange as the trader sees it, with faults: every call goes to the simulator's
 * engine handlers (`EngineVenue`) unless a fault answers instead, and every sending call is
 * recorded with the trading state in force.
 */
class FaultyVenue implements Venue, StopOrderVenue {
  readonly name = 'faulty simulator engine';
  readonly #inner: EngineVenue;
  readonly #faults: FaultPlan;
  readonly #clock: VirtualClock;
  readonly #record: (call: Omit<SentCall, 'state' | 'time'>) => void;
  /** False once the process this venue belongs to has crashed: nothing it does reaches the exchange. */
  alive = true;

  constructor(
    inner: EngineVenue,
    faults: FaultPlan,
    clock: VirtualClock,
    record: (call: Omit<SentCall, 'state' | 'time'>) => void,
  ) {
    this.#inner = inner;
    this.#faults = faults;
    this.#clock = clock;
    this.#record = (call) => {
      this.#living();
      const die = faults.dieAt;
      if (die !== undefined && die.kind === call.kind) {
        if (die.after > 0) die.after -= 1;
        else {
          faults.dieAt = undefined;
          faults.died = true;
          this.alive = false;
          throw new Error(`killed before ${call.kind} ${call.id ?? ''}`);
        }
      }
      record(call);
    };
  }

  #living(): void {
    if (!this.alive) throw new Error('the process is dead');
  }

  #limited(path: string): void {
    this.#living();
    if (this.#clock.now() < this.#faults.rateLimitedUntil) {
      const wait = this.#faults.rateLimitedUntil - this.#clock.now();
      throw new RateLimitedError(
        -1003,
        'Too many requests',
        'POST',
        path,
        wait,
        this.#faults.rateLimitedUntil,
      );
    }
  }

  async place(order: VenueOrder): Promise<OrderRecord> {
    this.#record({ kind: 'place', reduceOnly: order.reduceOnly, id: order.clientOrderId });
    this.#limited('/fapi/v1/order');
    return this.#inner.place(order);
  }

  async cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    this.#record({ kind: 'cancel', reduceOnly: true, id: clientOrderId });
    this.#limited('/fapi/v1/order');
    return this.#inner.cancel(symbol, clientOrderId);
  }

  async query(symbol: string, clientOrderId: string): Promise<OrderRecord | null> {
    this.#living();
    return this.#inner.query(symbol, clientOrderId);
  }

  async openOrders(symbol?: string): Promise<OrderRecord[]> {
    this.#limited('/fapi/v1/openOrders');
    return this.#inner.openOrders(symbol);
  }

  applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]> {
    return this.#inner.applySettings(settings, symbols);
  }

  positionMode(): Promise<boolean> {
    return this.#inner.positionMode();
  }

  onUserEvent(listener: (event: UserEventObject) => void): () => void {
    return this.#inner.onUserEvent((event) => {
      if (this.alive && this.#clock.now() >= this.#faults.dropEventsUntil) listener(event);
    });
  }

  async placeStop(request: StopOrderRequest): Promise<StopOrder> {
    this.#record({ kind: 'placeStop', reduceOnly: true, id: request.clientAlgoId });
    this.#limited('/fapi/v1/algoOrder');
    if (this.#faults.unknownBeforePlace > 0) {
      this.#faults.unknownBeforePlace -= 1;
      throw new OrderOutcomeUnknownError(
        'place',
        request.symbol,
        request.clientAlgoId,
        'injected: never arrived',
      );
    }
    const stop = await this.#inner.placeStop(request);
    if (this.#faults.unknownAfterPlace > 0) {
      this.#faults.unknownAfterPlace -= 1;
      throw new OrderOutcomeUnknownError(
        'place',
        request.symbol,
        request.clientAlgoId,
        'injected: answer lost',
      );
    }
    return stop;
  }

  async cancelStop(symbol: string, clientAlgoId: string): Promise<void> {
    this.#record({ kind: 'cancelStop', reduceOnly: true, id: clientAlgoId });
    this.#limited('/fapi/v1/algoOrder');
    await this.#inner.cancelStop(symbol, clientAlgoId);
    if (this.#faults.unknownAfterCancel > 0) {
      this.#faults.unknownAfterCancel -= 1;
      throw new OrderOutcomeUnknownError('cancel', symbol, clientAlgoId, 'injected: answer lost');
    }
  }

  async openStops(symbol?: string): Promise<StopOrder[]> {
    this.#record({ kind: 'openStops', reduceOnly: true });
    this.#limited('/fapi/v1/openAlgoOrders');
    return this.#inner.openStops(symbol);
  }
}

/**
 * The account as the hub would show it: positions and the wallet from ACCOUNT_UPDATE events, and
 * from a poll of the exchange every 200 ms (the account and position-risk collectors), so a lost
 * event is corrected a moment later.
 */
class PolledAccount implements AccountView {
  readonly #exchange: ExchangeEngine;
  #positions = new Map<string, PositionState>();
  #equity: Decimal | undefined;

  constructor(exchange: ExchangeEngine) {
    this.#exchange = exchange;
  }

  poll(now: number): void {
    const truth = this.#exchange.accountTruth('account-1');
    const next = new Map<string, PositionState>();
    for (const p of truth.positions) {
      if (p.positionSide !== 'BOTH') continue;
      next.set(p.symbol, {
        amount: Decimal.parse(p.positionAmt),
        entryPrice: Decimal.parse(p.entryPrice),
        updateTime: now,
      });
    }
    this.#positions = next;
    this.#equity = Decimal.parse(truth.walletBalances.USDT ?? '0').add(
      Decimal.parse(truth.totalUnrealizedProfit),
    );
  }

  apply(event: UserEventObject, now: number): void {
    const update = event.accountUpdate;
    if (update === undefined) return;
    for (const { symbol, position } of update.positions) {
      if (position.side !== 'BOTH') continue;
      this.#positions.set(symbol, {
        amount: Decimal.parse(position.amount),
        entryPrice: Decimal.parse(position.entryPrice ?? '0'),
        updateTime: now,
      });
    }
  }

  position(symbol: string): PositionState {
    return this.#positions.get(symbol) ?? { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: 0 };
  }

  equity(): Decimal | undefined {
    return this.#equity;
  }

  available(): Decimal | undefined {
    return this.#equity;
  }

  openPositions(): string[] {
    return [...this.#positions.entries()].filter(([, p]) => !p.amount.isZero()).map(([s]) => s);
  }

  /** Known from the first poll, as the hub's book is from the account collectors' first report. */
  positionsKnown(): boolean {
    return this.#equity !== undefined;
  }
}

const IDLE: Strategy = {
  requirements: { symbols: [...RIG_SYMBOLS], intervals: [], warmupBars: 0, ticks: false },
};

/** One running trader (engine + risk) of the rig; a crash drops it without any clean-up. */
interface TraderInstance {
  readonly engine: TradingEngine;
  readonly risk: TraderRisk;
  readonly account: PolledAccount;
  readonly off: () => void;
}

/**
 * The simulator's engine (one account, BTCUSDT and ETHUSDT) driven by a virtual clock, and a
 * trader over it that can crash and restart: its order journal and risk state survive (as files
 * would), everything else is rebuilt, so the ladders must come back from the exchange's list.
 */
export class RiskRig {
  readonly clock = new VirtualClock(T0);
  readonly market = new DrivenMarket(DEFAULT_SYMBOLS, T0);
  readonly exchange: ExchangeEngine;
  readonly faults = new FaultPlan();
  readonly sent: SentCall[] = [];
  /** Every trading state change, as its risk event says it (`FROM → TO (source): why`). */
  readonly stateEvents: string[] = [];
  readonly store = new MemoryRiskStateStore();
  readonly journal = new MemoryOrderJournal();
  readonly rules = new SymbolRules(DEFAULT_SYMBOLS.map(ruleFields));
  readonly settings: RiskSettings;
  readonly #inner: EngineVenue;
  #trader: TraderInstance | undefined;
  restarts = 0;

  constructor(settings: RiskSettings = defaultRiskSettings()) {
    this.settings = settings;
    this.market.setLastTrade('BTCUSDT', '60000.00', false, T0);
    this.market.setLastTrade('ETHUSDT', '3000.00', false, T0);
    this.exchange = new ExchangeEngine({
      market: this.market,
      clock: this.clock,
      accounts: [{ apiKey: 'k', apiSecret: 's', balances: { USDT: '1000000' } }],
      logger: silentLogger('sim'),
    });
    this.#inner = new EngineVenue(this.exchange, 'account-1', () => this.clock.now());
  }

  get trader(): TraderInstance {
    if (this.#trader === undefined) throw new Error('no trader running');
    return this.#trader;
  }

  /** Starts a trader (first start, or after a crash). */
  async start(): Promise<void> {
    const venue = new FaultyVenue(this.#inner, this.faults, this.clock, (call) =>
      this.sent.push({ ...call, state: this.#trader?.risk.state.state ?? 'ACTIVE', time: this.clock.now() }),
    );
    const account = new PolledAccount(this.exchange);
    account.poll(this.clock.now());
    const marketData = new BacktestMarketData([...RIG_SYMBOLS], this.market, 8);
    const logger = silentLogger('trader');
    const risk = new TraderRisk({
      settings: this.settings,
      store: this.store,
      account,
      market: marketData,
      rules: this.rules,
      clock: this.clock,
      logger,
      orderRate: new LocalOrderRate({ ordersPer10s: 240, ordersPerMinute: 960 }),
      stopOrders: venue,
    });
    const guarded = risk.guardVenue(venue);
    const engine = new TradingEngine({
      name: 'rig',
      strategy: IDLE,
      market: marketData,
      account,
      venue: guarded,
      rules: this.rules,
      clock: this.clock,
      journal: this.journal,
      logger,
      risk: risk.gate,
      sleep: (ms) => new Promise((resolve) => this.clock.schedule(this.clock.now() + ms, resolve)),
    });
    risk.attach(engine, guarded);
    risk.events.onEvent((e) => {
      if (e.kind === 'risk-action' && e.action === 'state') this.stateEvents.push(e.reason);
    });
    const offEvents = venue.onUserEvent((event) => {
      account.apply(event, this.clock.now());
      risk.onMarketUpdate();
    });
    let polling = true;
    const poll = (): void => {
      if (!polling) return;
      account.poll(this.clock.now());
      risk.onMarketUpdate();
      this.clock.schedule(this.clock.now() + 200, poll);
    };
    this.clock.schedule(this.clock.now() + 200, poll);
    const trader: TraderInstance = {
      engine,
      risk,
      account,
      off: () => {
        polling = false;
        venue.alive = false;
        offEvents();
      },
    };
    this.#trader = trader;
    const starting = (async () => {
      await engine.executor.resolveUnknown();
      await risk.start();
      await engine.start();
    })();
    await this.settle(starting);
  }

  /** The process dies (SIGKILL): nothing is stopped cleanly; in-flight work is abandoned. */
  async crash(): Promise<void> {
    const t = this.#trader;
    if (t === undefined) return;
    this.#trader = undefined;
    t.off();
    // Its timers die with it: a stopped risk side schedules nothing more (what a dead process does).
    void t.risk.stop();
    this.restarts += 1;
  }

  /** Asks the trader for a position (through the engine: planner, gate, journal, executor). */
  target(symbol: string, quantity: Decimal): void {
    this.trader.engine.submitTarget('test', symbol, quantity, 'rig target');
  }

  /** The market trades at `price`: last and mark move there and conditional orders are checked. */
  movePrice(symbol: string, price: Decimal): void {
    const spec = DEFAULT_SYMBOLS.find((s) => s.symbol === symbol);
    const tick = spec?.tickSize ?? Decimal.parse('0.01');
    const snapped = Decimal.max(price.snap(tick, 'half-even'), tick);
    const now = this.clock.now();
    this.market.publishTrade(
      symbol,
      snapped.toString(),
      (spec?.minQty ?? Decimal.ONE).toString(),
      false,
      now,
    );
    this.exchange.advance(now);
  }

  lastPrice(symbol: string): Decimal {
    return this.market.lastPrice(symbol);
  }

  /** Advances engine time by `ms` in 50 ms steps, letting every promise run between steps. */
  async advance(ms: number, each?: (now: number) => void | Promise<void>): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advanceTo(Math.min(end, this.clock.now() + 50));
      this.exchange.advance(this.clock.now());
      await flush();
      await this.#restartIfKilled();
      await each?.(this.clock.now());
    }
  }

  /** A trader killed by `dieAt` is started again (its journal and risk state survive). */
  async #restartIfKilled(): Promise<void> {
    if (!this.faults.died) return;
    this.faults.died = false;
    await this.crash();
    await this.start();
  }

  /** Runs the clock until `work` settles. */
  async settle(work: Promise<unknown>): Promise<void> {
    let done = false;
    void work.finally(() => {
      done = true;
    });
    for (let i = 0; i < 10_000 && !done; i++) {
      await flush();
      if (!done) {
        this.clock.advanceTo(this.clock.now() + 50);
        this.exchange.advance(this.clock.now());
      }
    }
    await work;
  }

  /** The exchange's truth: each symbol's position and its waiting ladder stops. */
  truth(): Map<string, { amount: Decimal; entry: Decimal; stops: StopOrder[] }> {
    const out = new Map<string, { amount: Decimal; entry: Decimal; stops: StopOrder[] }>();
    for (const symbol of RIG_SYMBOLS)
      out.set(symbol, { amount: Decimal.ZERO, entry: Decimal.ZERO, stops: [] });
    for (const p of this.exchange.accountTruth('account-1').positions) {
      const row = out.get(p.symbol);
      if (row !== undefined && p.positionSide === 'BOTH') {
        row.amount = Decimal.parse(p.positionAmt);
        row.entry = Decimal.parse(p.entryPrice);
      }
    }
    return out;
  }

  /** Places an order on the account outside the trader (by hand, or left by a crashed run). */
  async placeByHand(order: VenueOrder): Promise<OrderRecord> {
    return this.#inner.place(order);
  }

  /** The account's open orders on the exchange. */
  openOrders(): Promise<OrderRecord[]> {
    return this.#inner.openOrders();
  }

  /** Cancels every waiting stop on the exchange (by hand, outside the trader). */
  async cancelAllStops(): Promise<void> {
    for (const s of await this.stops()) await this.#inner.cancelStop(s.symbol, s.clientAlgoId);
  }

  /** The waiting stops on the exchange (read without faults). */
  async stops(): Promise<StopOrder[]> {
    const all = await this.#inner.openStops();
    return all.filter((s) => parseLadderStopId(s.clientAlgoId) !== undefined);
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
}
