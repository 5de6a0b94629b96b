// One trader's risk side put together: the risk state, the pre-trade gate, the loss guard, the stop-loss ladders and the order timeouts, wired to its engine.
import type { RiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { EngineClock, ScheduledTask } from '../engine/engine-clock.js';
import type { OrderSide } from '../engine/events.js';
import type { AccountView, MarketData } from '../engine/market-data.js';
import type { TradingEngine } from '../engine/trading-engine.js';
import type { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue } from '../execution/venue.js';
import { OrderTimeouts } from '../order-timeouts/order-timeouts.js';
import { StopLossLadders } from '../stop-loss/stop-loss-ladders.js';
import type { StopOrderVenue } from '../stop-loss/stop-orders.js';
import { LossGuard } from './loss-guard.js';
import type { BanListView, MarketFreshness } from './market-inputs.js';
import type { OrderRateMeter } from './order-rate.js';
import { PreTradeRisk } from './pre-trade-risk.js';
import { RiskEventLog } from './risk-events.js';
import { RiskState, type TradingState } from './risk-state.js';
import type { RiskStateStore } from './risk-state-store.js';
import { GuardedStopOrders, GuardedVenue } from './send-guard.js';

/** Where each part's inputs come from; the mode decides which are given. */
export interface TraderRiskOptions {
  readonly settings: RiskSettings;
  readonly store: RiskStateStore;
  readonly account: AccountView;
  readonly market: MarketData;
  readonly rules: SymbolRules;
  readonly clock: EngineClock;
  readonly logger: Logger;
  readonly banList?: BanListView | undefined;
  readonly freshness?: MarketFreshness | undefined;
  readonly orderRate?: OrderRateMeter | undefined;
  readonly positionsKnown?: (() => boolean) | undefined;
  /** Where ladder stops go; absent: no ladders (dry-run, where nothing would exist to confirm). */
  readonly stopOrders?: StopOrderVenue | undefined;
  /** How often the owner's command file is looked at, ms (default 500). */
  readonly ownerPollMs?: number;
}

/** The trading side's state as the trader reports it (the hub's /status shows it). */
export interface TradingStatusReport {
  readonly state: TradingState;
  readonly stateSince: number;
  readonly stateReason: string;
  readonly closeAll: boolean;
  readonly forceClosing: readonly string[];
  readonly unrealizedPnl: string;
  /** Open positions without a price or entry: while any, close-all is not judged. */
  readonly unpriced: readonly string[];
  /** Quotes the loss guard refused as a price (a side under one tick, crossed, too wide, far from the last trade). */
  readonly refusedQuotes: number;
  /** Force-closes and close-all closes sent again because the position stayed open. */
  readonly resentCloses: number;
  readonly refusals: Readonly<Record<string, number>>;
  readonly ladders: ReturnType<StopLossLadders['status']>;
  readonly underCovered: readonly string[];
  /** Of those, past the grace but waiting their turn in the order-rate limiter: not failures yet. */
  readonly queuedLadders: number;
  readonly events: Readonly<Record<string, number>>;
}

const POSITION_CHECK_MS = 50;

/** `submitTarget` sources whose targets are risk's own closes (force-close and close-all, passed stops). */
const CLOSING_SOURCES: ReadonlySet<string> = new Set(['risk', 'stop-loss']);

/** The target that closes `quantity` of a position expected at `expected` by an order on `side`, never past flat. */
export function shrunkTarget(expected: Decimal, side: OrderSide, quantity: Decimal): Decimal {
  // The close was decided for a position on the other side (a passed stop, a cancelled reduce-only
  // order); if the position flipped since, the same side would grow it: leave it as it is.
  if (expected.sign() !== (side === 'BUY' ? -1 : 1)) return expected;
  const target = expected.add(side === 'BUY' ? quantity : quantity.neg());
  return target.sign() !== 0 && target.sign() !== expected.sign() ? Decimal.ZERO : target;
}

/**
 * Builds the parts from the `risk` settings. `gate` goes to the engine; `attach(engine)` gives the
 * loss guard and the ladders their way to close (the engine's `submitTarget`, so closes pass the
 * same planner, gate, journal and executor) and their view of orders in flight; `start` loads
 * nothing new (the state is loaded at construction) but rebuilds the ladders from the exchange and
 * starts the timers; `onUserEvent` and `onMarketUpdate` feed the ladders and the timeouts.
 */
export class TraderRisk {
  readonly events: RiskEventLog;
  readonly state: RiskState;
  readonly gate: PreTradeRisk;
  guard: LossGuard | undefined;
  ladders: StopLossLadders | undefined;
  timeouts: OrderTimeouts | undefined;
  readonly #o: TraderRiskOptions;
  readonly #timers = new Map<string, ScheduledTask>();
  #venueOff: (() => void) | undefined;
  #unsentOff: (() => void) | undefined;
  #venue: Venue | undefined;
  #positionCheck: ScheduledTask | undefined;
  #stopped = false;

  constructor(options: TraderRiskOptions) {
    this.#o = options;
    this.events = new RiskEventLog(options.logger.child('events'));
    this.state = new RiskState(options.store, this.events, options.logger.child('state'), () =>
      options.clock.now(),
    );
    this.gate = new PreTradeRisk({
      state: this.state,
      settings: options.settings.preTrade,
      events: this.events,
      banList: options.banList,
      freshness: options.freshness,
      orderRate: options.orderRate,
      positionsKnown: options.positionsKnown,
    });
  }

  /** `venue` behind the trading state at the moment of sending: give the engine this, not the venue itself. */
  guardVenue(venue: Venue): GuardedVenue {
    return new GuardedVenue(venue, this.state);
  }

  /** Gives the guard, the ladders and the timeouts the engine to act through. */
  attach(engine: TradingEngine, venue: Venue): void {
    const o = this.#o;
    const s = o.settings;
    this.#venue = venue;
    const guarded = venue instanceof GuardedVenue ? venue : this.guardVenue(venue);
    const busy = (symbol: string): boolean => !engine.tracker.pending(symbol).isZero();
    this.guard = new LossGuard({
      state: this.state,
      settings: s.lossGuard,
      account: o.account,
      market: o.market,
      events: this.events,
      logger: o.logger.child('loss-guard'),
      closer: {
        close: (symbol, reason) => engine.submitTarget('risk', symbol, Decimal.ZERO, reason),
        busy,
      },
      tickSize: (symbol) => {
        const tick = o.rules.fields(symbol)?.tickSize;
        return tick === undefined ? undefined : Decimal.parse(tick);
      },
    });
    // A close of risk's own that the engine could not send (every leg skipped, an unlisted symbol)
    // leaves the position open: reported as a risk event, which alerts.
    this.#unsentOff?.();
    this.#unsentOff = engine.onUnsent((signal, why) => {
      if (!CLOSING_SOURCES.has(signal.key.strategy)) return;
      this.events.emit({
        kind: 'risk-action',
        action: 'close-unsent',
        symbol: signal.key.symbol,
        reason: `${signal.key.strategy}: ${why} (target ${signal.target.toString()}; ${signal.reason})`,
        at: o.clock.now(),
      });
    });
    if (s.stopLoss.enabled && o.stopOrders !== undefined) {
      this.ladders = new StopLossLadders({
        venue: new GuardedStopOrders(o.stopOrders, this.state),
        rules: o.rules,
        account: o.account,
        state: this.state,
        settings: s.stopLoss,
        clock: o.clock,
        events: this.events,
        logger: o.logger.child('stop-loss'),
        busy,
        closePassed: (symbol, side, quantity, reason) =>
          engine.submitTarget('stop-loss', symbol, this.#shrunk(engine, symbol, side, quantity), reason),
        orderRate: o.orderRate,
      });
    }
    if (s.orderTimeouts.enabled) {
      this.timeouts = new OrderTimeouts({
        venue: guarded,
        rules: o.rules,
        settings: s.orderTimeouts,
        state: this.state,
        clock: o.clock,
        events: this.events,
        logger: o.logger.child('timeouts'),
        isWorking: (id) => engine.executor.isWorking(id),
        resend: (symbol, side, quantity, reduceOnly, reason) => {
          const expected = engine.tracker.expected(symbol, o.account.position(symbol));
          const target = reduceOnly
            ? this.#shrunk(engine, symbol, side, quantity)
            : expected.add(side === 'BUY' ? quantity : quantity.neg());
          engine.submitTarget('timeout', symbol, target, reason);
        },
      });
    }
  }

  /** Rebuilds the ladders from the exchange, reads resting orders, and starts the guard's and the owner's timers. */
  async start(): Promise<void> {
    const o = this.#o;
    this.state.pollOwnerCommand();
    this.#venueOff = this.#venue?.onUserEvent((event) => this.onUserEvent(event));
    await this.ladders?.start();
    await this.timeouts?.start();
    this.#every('loss-guard', o.settings.lossGuard.checkMs, () => this.guard?.check(o.clock.now()));
    this.#every('owner', o.ownerPollMs ?? 500, () => this.state.pollOwnerCommand());
    this.guard?.check(o.clock.now());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#positionCheck?.cancel();
    this.#venueOff?.();
    this.#unsentOff?.();
    this.timeouts?.stop();
    await this.ladders?.stop();
  }

  onUserEvent(event: UserEventObject): void {
    this.ladders?.onUserEvent(event);
    this.timeouts?.onUserEvent(event);
  }

  /** The book changed (a feed update): positions are compared at most every 50 ms. */
  onMarketUpdate(): void {
    if (this.#positionCheck !== undefined || this.#stopped || this.ladders === undefined) return;
    const clock = this.#o.clock;
    this.#positionCheck = clock.schedule(clock.now() + POSITION_CHECK_MS, () => {
      this.#positionCheck = undefined;
      this.ladders?.positionsMaybeChanged();
    });
  }

  status(): TradingStatusReport {
    const detail = this.state.detail;
    return {
      state: detail.state,
      stateSince: detail.since,
      stateReason: detail.reason,
      closeAll: this.state.closeAll !== null,
      forceClosing: [...this.state.forceClosing().keys()],
      unrealizedPnl: this.guard?.unrealizedPnl.toString() ?? '0',
      unpriced: this.guard?.unpriced ?? [],
      refusedQuotes: this.guard?.refusedQuotes ?? 0,
      resentCloses: this.guard?.resentCloses ?? 0,
      refusals: { ...this.gate.refusals },
      ladders: this.ladders?.status() ?? [],
      underCovered: this.ladders?.watch.underCovered() ?? [],
      queuedLadders: this.ladders?.watch.queued().length ?? 0,
      events: this.events.stats().byKind,
    };
  }

  /** The target that closes `quantity` of `symbol` on `side`, never past flat. */
  #shrunk(engine: TradingEngine, symbol: string, side: OrderSide, quantity: Decimal): Decimal {
    return shrunkTarget(engine.tracker.expected(symbol, this.#o.account.position(symbol)), side, quantity);
  }

  #every(name: string, ms: number, run: () => void): void {
    const clock = this.#o.clock;
    const loop = (): void => {
      if (this.#stopped) return;
      try {
        run();
      } catch (error) {
        this.#o.logger.error('risk timer failed', {
          timer: name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      this.#timers.set(name, clock.schedule(clock.now() + ms, loop));
    };
    this.#timers.set(name, clock.schedule(clock.now() + ms, loop));
  }
}
