// Keeps a stop-loss ladder on every position (seed 000's makerStopLoss): placed when a position opens, replaced make-before-break when it changes, cancelled when it closes, rebuilt from the exchange after a restart.
import type { StopLossSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { EngineClock, ScheduledTask } from '../engine/engine-clock.js';
import type { OrderSide } from '../engine/events.js';
import type { AccountView } from '../engine/market-data.js';
import type { SymbolRules } from '../execution/symbol-rules.js';
import type { OrderRateMeter } from '../risk/order-rate.js';
import type { RiskEventSink } from '../risk/risk-events.js';
import type { RiskState } from '../risk/risk-state.js';
import { CoverageWatch } from './coverage-watch.js';
import { KnownStops } from './known-stops.js';
import { decideLadder, type LadderDecision } from './ladder-decision.js';
import { GenerationClock, parseLadderStopId } from './ladder-ids.js';
import { LadderPlacer } from './ladder-placer.js';
import {
  CappedLadder,
  type LadderLot,
  type LadderRung,
  type LadderShape,
  MAX_LADDER_ORDERS,
  planLadder,
  stopMaxQty,
} from './ladder-plan.js';
import { LadderRequests } from './ladder-requests.js';
import type { StopOrder, StopOrderVenue } from './stop-orders.js';

/** What the ladders work with. */
export interface StopLossDeps {
  readonly venue: StopOrderVenue;
  readonly rules: SymbolRules;
  readonly account: AccountView;
  readonly state: RiskState;
  readonly settings: StopLossSettings;
  readonly clock: EngineClock;
  readonly events: RiskEventSink;
  readonly logger: Logger;
  /** Whether the engine has orders for `symbol` on their way (absent: never). */
  readonly busy?: ((symbol: string) => boolean) | undefined;
  /** Closes `quantity` of `symbol` at market (a stop that would trigger at once: its price is passed). */
  readonly closePassed?:
    | ((symbol: string, side: OrderSide, quantity: Decimal, reason: string) => void)
    | undefined;
  /**
   * The order-rate budget: how many orders were sent, and whether orders wait their turn in the
   * limiter now, which the coverage watch does not count against the grace.
   */
  readonly orderRate?: OrderRateMeter | undefined;
}

/** Counters of the ladders. */
export interface StopLossStats {
  reconciles: number;
  laddersPlaced: number;
  stopsPlaced: number;
  stopsCancelled: number;
  passedRungs: number;
  notConfirmed: number;
  failures: number;
  /** Positions too large for a full ladder, given the largest the symbol may hold (once per size). */
  capped: number;
}

const TICK_MS = 250;
const MAX_BACKOFF_MS = 30_000;

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * One reconcile loop per symbol, never two at once: read the symbol's waiting stops from the
 * exchange, decide ({@link decideLadder}), act. A new ladder is placed under a new generation,
 * confirmed by reading the exchange's list back, and only then are the older stops cancelled; a
 * ladder that cannot be confirmed leaves the old one in place and is retried with back-off. A stop
 * refused because its price is already passed (-2021) has its quantity closed at market instead.
 * Reconciles run when a position changes, when an ALGO_UPDATE of a ladder stop arrives, at least
 * every `resyncMs` per symbol, and `start` (and every `fullResyncMs`) reads every open algo
 * order of the account, so orphans and a restart are handled from the exchange's own list. Nothing
 * is placed or cancelled while HALTED; leaving HALTED reconciles everything.
 *
 * A rung over the lot's maxQty goes out as several stops at its trigger; a position needing more
 * stops than the symbol may hold gets the largest ladder it may hold (every stop at maxQty), reported
 * once per size, and the coverage watch alerts for the unprotected rest. A ladder
 * whose requests wait their turn in the order-rate limiter is not failing: the coverage watch's
 * grace runs from when they leave it, within the longer `queuedGraceMs` for the whole wait.
 */
export class StopLossLadders {
  readonly stats: StopLossStats = {
    reconciles: 0,
    laddersPlaced: 0,
    stopsPlaced: 0,
    stopsCancelled: 0,
    passedRungs: 0,
    notConfirmed: 0,
    failures: 0,
    capped: 0,
  };
  readonly known = new KnownStops();
  readonly watch: CoverageWatch;
  readonly #d: StopLossDeps;
  readonly #shape: LadderShape;
  readonly #min: Decimal;
  readonly #max: Decimal;
  readonly #reprice: Decimal;
  readonly #gens = new GenerationClock();
  readonly #placer: LadderPlacer;
  readonly #running = new Map<string, Promise<void>>();
  readonly #dirty = new Set<string>();
  readonly #seen = new Map<string, string>();
  readonly #lastCheck = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #retries = new Map<string, ScheduledTask>();
  readonly #kept = new Map<string, string>();
  readonly #waitingSince = new Map<string, number>();
  readonly #requests: LadderRequests;
  /** The venue, every per-symbol request counted by {@link LadderRequests} while it is out. */
  readonly #venue: StopOrderVenue;
  /** The position size each symbol's ladder was last capped for, so it is reported once per size. */
  readonly #capped = new Map<string, string>();
  #timer: ScheduledTask | undefined;
  #lastFull = 0;
  #full: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  #offState: (() => void) | undefined;

  constructor(deps: StopLossDeps) {
    this.#d = deps;
    const s = deps.settings;
    this.#shape = {
      rungs: s.rungs,
      firstPercent: Decimal.parse(s.firstPercent),
      stepPercent: Decimal.parse(s.stepPercent),
    };
    this.#min = Decimal.parse(s.minCoverage);
    this.#max = Decimal.parse(s.maxCoverage);
    this.#reprice = Decimal.parse(s.repricePercent);
    this.#requests = new LadderRequests(deps.clock, deps.orderRate, s.coverageGraceMs);
    this.#venue = this.#requests.counted(deps.venue);
    this.watch = new CoverageWatch(deps.events, this.#min, s.coverageGraceMs, {
      queuedGraceMs: s.queuedGraceMs,
      logger: deps.logger,
    });
    this.#placer = new LadderPlacer({
      venue: this.#venue,
      settings: s,
      clock: deps.clock,
      events: deps.events,
      logger: deps.logger,
      known: this.known,
      gens: this.#gens,
      stats: this.stats,
      fail: (symbol, detail) => this.#fail(symbol, detail),
      closePassed: deps.closePassed,
      orderRate: deps.orderRate,
    });
  }

  /** Reads every open algo order of the account, adopts the ladders found, and reconciles every position. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#offState = this.#d.state.onChange((state) => {
      if (state !== 'HALTED') for (const symbol of this.#tracked()) this.#kick(symbol);
    });
    await this.#fullResync();
    this.#schedule();
  }

  /**
   * Stops scheduling and waits for running reconciles. A caller that fails their waiting requests
   * (the trader closes its weight budget) shortens the wait; what they leave undone is not a
   * stop-loss failure, the next start's full resync finishes it.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    for (const task of this.#retries.values()) task.cancel();
    this.#offState?.();
    await this.idle();
  }

  /** Resolves when no reconcile is running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#full !== undefined)
      await Promise.all([...this.#running.values(), this.#full]);
  }

  /** A user-data event from the venue: ladder stops' ALGO_UPDATEs and positions' ACCOUNT_UPDATEs. */
  onUserEvent(event: UserEventObject): void {
    const a = event.algoUpdate;
    if (a !== undefined && parseLadderStopId(a.clientAlgoId) !== undefined) {
      this.known.update(
        {
          symbol: a.symbol,
          clientAlgoId: a.clientAlgoId,
          side: a.side === 'SELL' ? 'SELL' : 'BUY',
          quantity: Decimal.parse(a.quantity),
          triggerPrice:
            a.triggerPrice === undefined || a.triggerPrice === '' ? null : Decimal.parse(a.triggerPrice),
          status: a.status,
          reduceOnly: a.reduceOnly,
          updateTime: a.transactionTime,
        },
        this.#d.clock.now(),
      );
      this.#kick(a.symbol);
    }
    if (event.accountUpdate !== undefined) this.positionsMaybeChanged();
  }

  /** Looks for positions that changed since the last look and reconciles their symbols. */
  positionsMaybeChanged(): void {
    const account = this.#d.account;
    const symbols = new Set([...account.openPositions(), ...this.#seen.keys(), ...this.known.symbols()]);
    for (const symbol of symbols) {
      const p = account.position(symbol);
      const key = `${p.amount.toString()}|${p.entryPrice.toString()}`;
      if (this.#seen.get(symbol) === key) continue;
      if (p.amount.isZero() && this.known.of(symbol).length === 0) this.#seen.delete(symbol);
      else this.#seen.set(symbol, key);
      this.#kick(symbol);
    }
  }

  /** The ladder kept for each symbol and how much of the position the known stops cover. */
  status(): Array<{
    symbol: string;
    position: string;
    covered: string;
    generation: string | null;
    stops: number;
  }> {
    return [...this.#tracked()].map((symbol) => {
      const amount = this.#d.account.position(symbol).amount;
      return {
        symbol,
        position: amount.toString(),
        covered: this.known.covered(symbol, amount).toString(),
        generation: this.#kept.get(symbol) ?? null,
        stops: this.known.of(symbol).length,
      };
    });
  }

  #tracked(): Set<string> {
    return new Set([...this.#d.account.openPositions(), ...this.known.symbols(), ...this.#seen.keys()]);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#d.clock.schedule(this.#d.clock.now() + TICK_MS, () => {
      this.#tick();
      this.#schedule();
    });
  }

  #tick(): void {
    const now = this.#d.clock.now();
    const s = this.#d.settings;
    if (now - this.#lastFull >= s.fullResyncMs && this.#full === undefined) void this.#fullResync();
    const tracked = this.#tracked();
    const holding = this.#requests.limiterHolding(now);
    for (const symbol of tracked) {
      const amount = this.#d.account.position(symbol).amount;
      const queued = holding && this.#requests.hasOut(symbol);
      this.watch.observe(symbol, amount, this.known.covered(symbol, amount), now, { queued });
      if (now - (this.#lastCheck.get(symbol) ?? 0) >= s.resyncMs) this.#kick(symbol);
    }
    this.watch.retain(tracked);
  }

  async #fullResync(): Promise<void> {
    const run = (async () => {
      this.#lastFull = this.#d.clock.now();
      let listed: StopOrder[];
      try {
        listed = await this.#venue.openStops();
      } catch (error) {
        this.#fail(null, `reading the account's open algo orders failed: ${message(error)}`);
        return;
      }
      const bySymbol = new Map<string, StopOrder[]>();
      for (const stop of listed) {
        const slot = parseLadderStopId(stop.clientAlgoId);
        if (slot === undefined) continue;
        this.#gens.observe(slot.generation);
        bySymbol.set(stop.symbol, [...(bySymbol.get(stop.symbol) ?? []), stop]);
      }
      for (const symbol of new Set([...bySymbol.keys(), ...this.known.symbols()])) {
        // A reconcile running now reads the list itself; do not overwrite its newer view.
        if (!this.#running.has(symbol)) this.known.replace(symbol, bySymbol.get(symbol) ?? []);
      }
      for (const symbol of this.#tracked()) this.#kick(symbol);
    })();
    this.#full = run;
    await run;
    this.#full = undefined;
  }

  /** Runs the symbol's reconcile now, or again right after the one running. */
  #kick(symbol: string): void {
    if (this.#stopped || !this.#started) return;
    this.#dirty.add(symbol);
    if (this.#running.has(symbol)) return;
    const run = (async () => {
      while (this.#dirty.has(symbol) && !this.#stopped) {
        this.#dirty.delete(symbol);
        try {
          await this.#reconcile(symbol);
        } catch (error) {
          this.#fail(symbol, `reconcile failed: ${message(error)}`);
          this.#retryLater(symbol);
        }
      }
    })();
    this.#running.set(symbol, run);
    void run.finally(() => this.#running.delete(symbol));
  }

  async #reconcile(symbol: string): Promise<void> {
    if (!this.#d.state.allowsReducing()) return;
    this.stats.reconciles += 1;
    const now = this.#d.clock.now();
    this.#lastCheck.set(symbol, now);
    const listed = this.known.replace(symbol, await this.#venue.openStops(symbol));
    const position = this.#d.account.position(symbol);
    const planned = position.amount.isZero()
      ? []
      : planLadder(
          position.amount,
          position.entryPrice,
          this.#d.rules.filters(symbol),
          this.#shape,
          this.#lot(symbol),
        );
    const amount = position.amount;
    this.watch.observe(symbol, amount, this.known.covered(symbol, amount), now, { quiet: true });
    let plan: readonly LadderRung[];
    let target: Decimal | undefined;
    if (planned instanceof CappedLadder) {
      this.#reportCapped(symbol, planned);
      plan = planned.rungs;
      target = planned.covered;
    } else {
      this.#capped.delete(symbol);
      plan = planned;
    }
    const decision = decideLadder({
      amount,
      entry: position.entryPrice,
      plan,
      target,
      stops: listed,
      minCoverage: this.#min,
      maxCoverage: this.#max,
      repricePercent: this.#reprice,
      now,
      lastTriggerAt: this.known.lastTriggerAt(symbol),
      settleMs: this.#d.settings.settleMs,
      busy: this.#d.busy?.(symbol) ?? false,
      underCoveredSince: this.watch.state(symbol)?.underSince,
      waitingSince: this.#waitingSince.get(symbol),
      graceMs: this.#d.settings.coverageGraceMs,
    });
    if (decision.kind === 'wait') {
      if (!this.#waitingSince.has(symbol)) this.#waitingSince.set(symbol, now);
    } else this.#waitingSince.delete(symbol);
    await this.#act(symbol, decision, plan);
  }

  async #act(symbol: string, decision: LadderDecision, plan: readonly LadderRung[]): Promise<void> {
    switch (decision.kind) {
      case 'wait':
        this.#retryAt(symbol, decision.retryAt);
        return;
      case 'keep': {
        if (decision.generation === null) this.#kept.delete(symbol);
        else this.#kept.set(symbol, decision.generation);
        const ok = await this.#placer.cancel(symbol, decision.cancel);
        if (ok) this.#failures.delete(symbol);
        else this.#retryLater(symbol);
        return;
      }
      case 'replace': {
        const placed = await this.#placer.replace(symbol, plan, decision.reason, decision.old);
        if (placed.generation !== null) this.#kept.set(symbol, placed.generation);
        if (placed.ok) this.#failures.delete(symbol);
        else this.#retryLater(symbol);
        return;
      }
    }
  }

  /**
   * The lot limits of `symbol`'s ladders: stops of at most its market maxQty, and no more orders
   * than the exchange lets the symbol hold open (nor than {@link MAX_LADDER_ORDERS}).
   */
  #lot(symbol: string): LadderLot {
    return {
      maxQty: stopMaxQty(this.#d.rules.fields(symbol)),
      maxOrders: Math.min(this.#d.settings.maxOpenStops, MAX_LADDER_ORDERS),
    };
  }

  /**
   * A position too large for a full ladder: the capped one goes out like any other (the most the
   * exchange lets stops protect), and the shortfall is a stop-loss failure, reported once per
   * position size; the coverage watch alerts for the unprotected rest as for any under-coverage.
   */
  #reportCapped(symbol: string, capped: CappedLadder): void {
    const key = capped.quantity.toString();
    if (this.#capped.get(symbol) === key) return;
    this.#capped.set(symbol, key);
    this.stats.capped += 1;
    this.#fail(symbol, `${capped.message}; the rest has no stop: reduce the position`);
  }

  #fail(symbol: string | null, detail: string): void {
    if (this.#stopped) {
      // The process is stopping and its requests are failed unsent: no alert; the next start
      // reads the exchange's stops and finishes the ladder.
      this.#d.logger.info('stop-loss work left to the next start', { symbol, detail });
      return;
    }
    this.stats.failures += 1;
    this.#d.events.emit({
      kind: 'stop-loss-failure',
      symbol: symbol ?? '*',
      positionSide: 'BOTH',
      detail,
      at: this.#d.clock.now(),
    });
  }

  /** Tries again after a failure: back-off doubling from 250 ms, never longer than half the grace. */
  #retryLater(symbol: string): void {
    const failures = (this.#failures.get(symbol) ?? 0) + 1;
    this.#failures.set(symbol, failures);
    const cap = Math.min(MAX_BACKOFF_MS, this.#d.settings.coverageGraceMs / 2);
    this.#retryAt(symbol, this.#d.clock.now() + Math.min(cap, 250 * 2 ** Math.min(failures, 10)));
  }

  #retryAt(symbol: string, at: number): void {
    if (this.#stopped) return;
    this.#retries.get(symbol)?.cancel();
    this.#retries.set(
      symbol,
      this.#d.clock.schedule(at, () => {
        this.#retries.delete(symbol);
        this.#kick(symbol);
      }),
    );
  }
}
