// A backtest's risk side: the trader's own TraderRisk (pre-trade gate, ban list, loss guard, stop-loss ladders, order timeouts) on the replay's clock, market and simulator.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ScheduledTask } from '../../trader/engine/engine-clock.js';
import type { AccountView, MarketData } from '../../trader/engine/market-data.js';
import type { RiskGate } from '../../trader/engine/risk-gate.js';
import type { TradingEngine } from '../../trader/engine/trading-engine.js';
import type { SymbolRules } from '../../trader/execution/symbol-rules.js';
import type { ContractSettings, SymbolSettings, Venue, VenueOrder } from '../../trader/execution/venue.js';
import { LocalOrderRate } from '../../trader/risk/order-rate.js';
import type { RiskEvent } from '../../trader/risk/risk-events.js';
import type { TradingState } from '../../trader/risk/risk-state.js';
import { MemoryRiskStateStore } from '../../trader/risk/risk-state-store.js';
import { TraderRisk } from '../../trader/risk/trader-risk.js';
import type { StopLossStats } from '../../trader/stop-loss/stop-loss-ladders.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from '../../trader/stop-loss/stop-orders.js';
import type { RiskSettings } from '../../ts/config/risk-config.js';
import { BINANCE_LIMITS, DEFAULT_BUDGET_FRACTION } from '../../ts/exchange/rest-config.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { BacktestBanList, type IncomeReader } from './backtest-ban-list.js';
import type { ReplayClock } from './replay-clock.js';

/** Turns of the event loop the risk side gets to finish its work when the run ends. */
const MAX_STOP_TURNS = 10_000;

/** One macrotask turn: every promise the in-process simulator can settle has settled. */

/** Order counts a backtest paces openings to (a trader's default: 80 % of Binance's, `exchange.weightShare`). */
export interface OrderLimits {
  readonly ordersPer10s: number | null;
  readonly ordersPerMinute: number | null;
}

/** Binance's order limits at `share` (a trader's `exchange.weightShare`, default 0.8), as a paper trader counts them. */
export function orderLimits(share = DEFAULT_BUDGET_FRACTION): OrderLimits {
  const of = (limit: number) => Math.max(1, Math.floor(limit * share));
  return {
    ordersPer10s: of(BINANCE_LIMITS.ordersPer10s),
    ordersPerMinute: of(BINANCE_LIMITS.ordersPerMinute),
  };
}

/** The simulator's venue: orders and stop (algo) orders. */
export type SimulatorVenue = Venue & StopOrderVenue;

/** What the risk side of a backtest is wired to. */
export interface BacktestRiskOptions {
  readonly settings: RiskSettings;
  readonly venue: SimulatorVenue;
  readonly account: AccountView;
  readonly market: MarketData;
  readonly rules: SymbolRules;
  readonly clock: ReplayClock;
  readonly logger: Logger;
  readonly orderLimits: OrderLimits;
  /** The run's income as the exchange books it (the simulator's `GET /fapi/v1/income`): the ban list's input. */
  readonly income: IncomeReader;
  /** How often the ban list is decided, replay ms (the income collector's `collectors.income.intervalMs`). */
  readonly incomePollMs: number;
}

/** One thing risk did or failed at, for the report. */
export interface BacktestRiskAction {
  readonly time: number;
  /**
   * `refuse`, `force-close`, `close-all`, `state`, `stop-passed`, `order-timeout`,
   * `stop-loss-failure`, or `ban` / `unban` (the ban list changed; `symbol` null: everything, `ALL`).
   */
  readonly action: string;
  readonly symbol: string | null;
  readonly reason: string;
}

/** What the risk side did in a run (the report's `risk`). */
export interface BacktestRiskReport {
  /** The trading state at the end (close-all switches to REDUCING, and a backtest has no owner to switch back). */
  readonly state: TradingState;
  /** Orders the pre-trade gate refused, by rule. */
  readonly refusals: Readonly<Record<string, number>>;
  /** Risk events by kind (`risk-action:<action>`, `stop-loss-failure`). */
  readonly events: Readonly<Record<string, number>>;
  readonly stopLoss: StopLossStats | null;
  readonly orderTimeouts: { readonly cancelled: number; readonly resent: number } | null;
  /** Every event, in order (a refusal repeated within a minute only counted, as a trader logs it). */
  readonly actions: readonly BacktestRiskAction[];
}

/** The risk side could not finish its work when the run ended. */
export class BacktestRiskError extends Error {
  override readonly name = 'BacktestRiskError';
}

/**
 * The simulator's venue, noting every request: the runner lets the event loop turn while the risk
 * side has sent something (a ladder's reconcile is a chain of awaits on the in-process simulator,
 * which one turn finishes), and not otherwise (a turn per replay step would cost more than the
 * replay itself).
 */
class NotedVenue implements Venue, StopOrderVenue {
  readonly name: string;
  readonly #inner: SimulatorVenue;
  readonly #note: () => void;

  constructor(inner: SimulatorVenue, note: () => void) {
    this.name = inner.name;
    this.#inner = inner;
    this.#note = note;
  }

  place(order: VenueOrder): Promise<OrderRecord> {
    this.#note();
    return this.#inner.place(order);
  }

  cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    this.#note();
    return this.#inner.cancel(symbol, clientOrderId);
  }

  query(symbol: string, clientOrderId: string): Promise<OrderRecord | null> {
    this.#note();
    return this.#inner.query(symbol, clientOrderId);
  }

  openOrders(symbol?: string): Promise<OrderRecord[]> {
    this.#note();
    return this.#inner.openOrders(symbol);
  }

  applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]> {
    this.#note();
    return this.#inner.applySettings(settings, symbols);
  }

  positionMode(): Promise<boolean> {
    this.#note();
    return this.#inner.positionMode();
  }

  onUserEvent(listener: (event: UserEventObject) => void): () => void {
    return this.#inner.onUserEvent(listener);
  }

  placeStop(request: StopOrderRequest): Promise<StopOrder> {
    this.#note();
    return this.#inner.placeStop(request);
  }

  cancelStop(symbol: string, clientAlgoId: string): Promise<void> {
    this.#note();
    return this.#inner.cancelStop(symbol, clientAlgoId);
  }

  openStops(symbol?: string): Promise<StopOrder[]> {
    this.#note();
    return this.#inner.openStops(symbol);
  }
}

/**
 * The trader's {@link TraderRisk} as a paper trader runs it, in a backtest: its state in memory
 * (there is no owner to send commands), its timers on the replay's {@link ReplayClock} (once per
 * replay step), the replay's market data and account, ladder stops on the simulator (which
 * triggers them from the replayed trades or the kline walk), and the order-rate budget counted
 * locally on replay time, and the ban list decided from the run's own income as the income
 * collector decides it from the account's ({@link BacktestBanList}, every `incomePollMs` of replay
 * time). Not judged, for want of inputs: the book's freshness (recorded data has no feed to go
 * stale). `venue` goes to the engine (sends checked against the trading state), `gate` is its risk gate.
 */
export class BacktestRisk {
  readonly risk: TraderRisk;
  /** The engine's venue: the simulator's, behind the trading state. */
  readonly venue: Venue;
  readonly #clock: ReplayClock;
  readonly #actions: BacktestRiskAction[] = [];
  readonly #off: () => void;
  readonly #bans: BacktestBanList;
  readonly #incomePollMs: number;
  readonly #logger: Logger;
  #banPoll: ScheduledTask | undefined;
  #active = false;

  constructor(o: BacktestRiskOptions) {
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#incomePollMs = o.incomePollMs;
    this.#bans = new BacktestBanList(o.settings.banList, o.income);
    const noted = new NotedVenue(o.venue, () => {
      this.#active = true;
    });
    this.risk = new TraderRisk({
      settings: o.settings,
      store: new MemoryRiskStateStore(),
      account: o.account,
      market: o.market,
      rules: o.rules,
      clock: o.clock.steps,
      logger: o.logger,
      orderRate: new LocalOrderRate(o.orderLimits),
      banList: this.#bans,
      stopOrders: noted,
    });
    this.venue = this.risk.guardVenue(noted);
    // What the simulator tells (a fill, a stop that fired) starts ladder work: the runner lets it
    // finish. A fill or a funding payment is also income: the ban list's next poll reads it.
    this.#off = o.venue.onUserEvent(() => {
      this.#active = true;
      this.#bans.noteIncome();
    });
    this.risk.events.onEvent((event) => this.#actions.push(action(event)));
  }

  get gate(): RiskGate {
    return this.risk.gate;
  }

  /** Gives the loss guard, the ladders and the timeouts the engine to close through. */
  attach(engine: TradingEngine): void {
    this.risk.attach(engine, this.venue);
  }

  /** Starts the ladders (from the simulator's empty list) and the timers; before the engine starts, as in a trader. */
  async start(): Promise<void> {
    await this.risk.start();
    this.#pollBans();
  }

  /** Whether the risk side sent something or heard from the simulator since {@link takeActivity}. */
  get active(): boolean {
    return this.#active;
  }

  /** {@link active}, cleared. */
  takeActivity(): boolean {
    const was = this.#active;
    this.#active = false;
    return was;
  }

  /**
   * Stops the timers and waits for the ladders' work. A ladder pausing on the risk clock (a stop
   * read back missing, tried again 100 ms later) would wait for a replay step that never comes:
   * such pauses run now, within a bound.
   */
  async stop(): Promise<void> {
    this.#banPoll?.cancel();
    let done = false;
    const stopping = this.risk.stop().then(() => {
      done = true;
    });
    for (let turns = 0; !done; turns++) {
      if (turns >= MAX_STOP_TURNS)
        throw new BacktestRiskError(
          `the stop-loss ladders were still working ${MAX_STOP_TURNS} turns after the data ended`,
        );
      await nextTurn();
      if (!done) this.#clock.steps.runNext();
    }
    await stopping;
    this.#off();
  }

  /** One poll of the ban list at the replay's time, its changes in the actions; then the next, `incomePollMs` later. */
  #pollBans(): void {
    const steps = this.#clock.steps;
    const now = steps.now();
    for (const change of this.#bans.poll(now)) {
      this.#actions.push(change);
      this.#logger.warn('ban list changed', {
        action: change.action,
        symbol: change.symbol ?? 'ALL',
        reason: change.reason,
      });
    }
    this.#banPoll = steps.schedule(now + this.#incomePollMs, () => this.#pollBans());
  }

  report(): BacktestRiskReport {
    const status = this.risk.status();
    const timeouts = this.risk.timeouts;
    return {
      state: status.state,
      refusals: Object.fromEntries(Object.entries(status.refusals).filter(([, n]) => n > 0)),
      events: status.events,
      stopLoss: this.risk.ladders === undefined ? null : { ...this.risk.ladders.stats },
      orderTimeouts:
        timeouts === undefined
          ? null
          : { cancelled: timeouts.stats.cancelled, resent: timeouts.stats.resent },
      actions: [...this.#actions],
    };
  }
}

function action(event: RiskEvent): BacktestRiskAction {
  return event.kind === 'risk-action'
    ? { time: event.at, action: event.action, symbol: event.symbol, reason: event.reason }
    : { time: event.at, action: event.kind, symbol: event.symbol, reason: event.detail };
}
