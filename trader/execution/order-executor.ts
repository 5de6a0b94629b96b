// Executes order intents on a venue: market, post-only (GTX), TWAP and VWAP, with write-ahead journaling and unknown outcomes resolved first.
import { Decimal } from '../../ts/exact/decimal.js';
import {
  BinanceApiError,
  IpBannedError,
  isUnknownSymbol,
  RateLimitedError,
} from '../../ts/exchange/exchange-errors.js';
import { TERMINAL_ORDER_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import { BudgetClosedError } from '../../ts/exchange/weight-budget.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { EngineClock } from '../engine/engine-clock.js';
import type { OrderIntent } from '../engine/events.js';
import { checkExchangeTime } from '../engine/exchange-time.js';
import type { ExposureTracker } from '../engine/exposure-tracker.js';
import type { MarketData } from '../engine/market-data.js';
import { clientOrderId, type OrderSlot } from './client-order-ids.js';
import type { JournalEntry, OrderJournal } from './order-journal.js';
import { OrderOutcomeUnknownError } from './order-sender.js';
import type { SymbolRules } from './symbol-rules.js';
import type { RecordedOrder, TradeRecorder } from './trade-recorder.js';
import { NotSentError, type Venue, type VenueOrder } from './venue.js';
import type { VolumeProfile } from './volume-profile.js';

/** Post-only orders rest this long by default before the remainder goes as a taker order. */
export const DEFAULT_POST_ONLY_TIMEOUT_MS = 2_500;
/** Re-prices of a post-only order refused because it would take (-5022). */
const POST_ONLY_REPRICES = 3;

/** The journal status of an unknown order whose symbol the exchange no longer lists (see `resolveUnknown`). */
export const UNLISTED_SYMBOL_STATUS = 'SYMBOL_UNLISTED';
/** Retries of an order refused by a rate limit (429) or ban (418), each after the exchange's wait. */
const RATE_LIMIT_RETRIES = 3;
/** Longest wait for one rate-limit retry; a longer ban gives the order up (it was never executed). */
const MAX_RATE_LIMIT_WAIT_MS = 120_000;
/** How long a resting order's final state may take to arrive by user event before it is queried. */
const DONE_QUERY_AFTER_MS = 10_000;

/** What the executor needs. */
export interface OrderExecutorDeps {
  readonly venue: Venue;
  readonly rules: SymbolRules;
  readonly clock: EngineClock;
  readonly journal: OrderJournal;
  readonly tracker: ExposureTracker;
  readonly market: MarketData;
  readonly logger: Logger;
  readonly recorder?: TradeRecorder | undefined;
  /** The volume profile VWAP slices follow (equal weights without one). */
  readonly volumeProfile?: ((symbol: string) => VolumeProfile | undefined) | undefined;
  /** Waits in wall time (rate-limit back-off); a backtest never needs it. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** How one order ended. */
interface OrderOutcome {
  readonly status: string;
  readonly executed: Decimal;
}

/**
 * An intent that gave up on an order of unknown outcome: its quantity not executed before that
 * order stays pending in the tracker until a query resolves the order.
 */
interface UnknownOrder {
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  /** The intent's quantity not executed by its earlier, settled orders. */
  readonly unexecuted: Decimal;
  /** Quantity the order's trade events have reported since. */
  seen: Decimal;
}

interface DoneWaiter {
  resolve(outcome: OrderOutcome): void;
}

/** Counters of the executor. */
export interface ExecutorStats {
  orders: number;
  rejected: number;
  unknown: number;
  skippedRepeats: number;
  /** Intents given up unsent: an unknown order of their symbol still working or not readable. */
  blocked: number;
  /** Resolving queries whose update time was implausible (µs, seconds, far future). */
  implausibleTimes: number;
}

/**
 * Orders of this run remembered at most: a busy account sends a few thousand a day, and an order
 * rests for minutes at most (post-only timeouts), so the oldest is long finished when forgotten.
 */
const MAX_SENT_REMEMBERED = 10_000;

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function signed(side: 'BUY' | 'SELL', qty: Decimal): Decimal {
  return side === 'BUY' ? qty : qty.neg();
}

/**
 * Executes intents one symbol at a time (a symbol's intents queue behind each other), so an order
 * whose outcome is unknown blocks only its own symbol until a query resolves it. Every order gets
 * its deterministic client id and is written to the journal before it is sent; an id the journal
 * already settled is not sent again (a repeated decision after a restart), an unsettled one is
 * resolved by query first.
 */
export class OrderExecutor {
  readonly #d: OrderExecutorDeps;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #waiters = new Map<string, DoneWaiter>();
  /**
   * Terminal outcomes that came as events while the order's placement was still awaited, by
   * client id; only for orders in `#working` (an entry per foreign or already settled order would
   * be kept for the life of the process).
   */
  readonly #done = new Map<string, OrderOutcome>();
  /** Client ids of orders this executor has sent and not settled yet (the order timeouts leave them alone). */
  readonly #working = new Set<string>();
  /**
   * Client ids of orders sent (or taken over from the journal) for intents of this run, the newest
   * MAX_SENT_REMEMBERED. Their fills settle quantity this run counts as pending; the fills of any
   * other order (sent before a restart, a ladder's stop, a manual trade) do not.
   */
  readonly #sentHere = new Set<string>();
  /** Executed quantity of each running intent's settled orders. */
  readonly #progress = new WeakMap<OrderIntent, Decimal>();
  /** Orders of unknown outcome whose intents left quantity pending, by client id. */
  readonly #unknownOrders = new Map<string, UnknownOrder>();
  /**
   * Quantity the trade events of this executor's placed, not yet settled orders reported, by
   * client id: what the tracker counted already if such an order's outcome becomes unknown.
   */
  readonly #seen = new Map<string, Decimal>();
  readonly stats: ExecutorStats = {
    orders: 0,
    rejected: 0,
    unknown: 0,
    skippedRepeats: 0,
    blocked: 0,
    implausibleTimes: 0,
  };

  constructor(deps: OrderExecutorDeps) {
    this.#d = deps;
  }

  /** Queues `intent` behind its symbol's earlier work; resolves when it is fully executed or given up. */
  submit(intent: OrderIntent): Promise<void> {
    const symbol = intent.symbol;
    this.#d.tracker.submitted(symbol, signed(intent.side, intent.quantity));
    const previous = this.#chains.get(symbol) ?? Promise.resolve();
    const next = previous.then(() => this.#run(intent));
    this.#chains.set(symbol, next);
    void next.finally(() => {
      if (this.#chains.get(symbol) === next) this.#chains.delete(symbol);
    });
    return next;
  }

  /** Whether `clientOrderId` was sent for an intent of this run (its fills settle pending quantity). */
  sentHere(clientOrderId: string): boolean {
    return this.#sentHere.has(clientOrderId);
  }

  /** Whether this executor is working `clientOrderId` (sent and not yet settled). */
  isWorking(clientOrderId: string): boolean {
    return this.#working.has(clientOrderId);
  }

  /** Terminal outcomes held for orders still being placed (for tests: it must not grow with the account's orders). */
  get heldOutcomes(): number {
    return this.#done.size;
  }

  /** Whether any symbol has work queued or running. */
  get busy(): boolean {
    return this.#chains.size > 0;
  }

  /** Resolves when every queued intent has finished. */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  /** An order update from the venue's user events: wakes whoever waits for that order to finish. */
  onOrderUpdate(update: NonNullable<UserEventObject['orderUpdate']>): void {
    const unknown = this.#unknownOrders.get(update.clientOrderId);
    if (unknown !== undefined && update.executionType === 'TRADE')
      unknown.seen = unknown.seen.add(Decimal.parse(update.lastFilledQuantity));
    else if (this.#working.has(update.clientOrderId) && update.executionType === 'TRADE')
      this.#seen.set(
        update.clientOrderId,
        (this.#seen.get(update.clientOrderId) ?? Decimal.ZERO).add(Decimal.parse(update.lastFilledQuantity)),
      );
    if (!TERMINAL_ORDER_STATUSES.includes(update.status)) return;
    const outcome = { status: update.status, executed: Decimal.parse(update.cumulativeFilledQuantity) };
    if (this.#working.has(update.clientOrderId)) this.#done.set(update.clientOrderId, outcome);
    const waiter = this.#waiters.get(update.clientOrderId);
    if (waiter !== undefined) {
      this.#waiters.delete(update.clientOrderId);
      waiter.resolve(outcome);
    }
  }

  /**
   * Resolves every journal entry of `symbol` (or all) whose outcome is unknown, by querying its
   * client id. Entries that still cannot be resolved stay; the symbol stays blocked.
   */
  async resolveUnknown(symbol?: string): Promise<number> {
    return this.#resolve(symbol, new Set());
  }

  /**
   * `resolveUnknown`, not counting the still-working entries in `own` (the client ids of the
   * intent about to run: a repeated decision takes its own order over in `#send`).
   */
  async #resolve(symbol: string | undefined, own: ReadonlySet<string>): Promise<number> {
    let open = 0;
    for (const entry of this.#d.journal.unresolved()) {
      if (symbol !== undefined && entry.symbol !== symbol) continue;
      let found: Awaited<ReturnType<Venue['query']>>;
      try {
        found = await this.#d.venue.query(entry.symbol, entry.clientOrderId);
      } catch (error) {
        // The exchange no longer lists the symbol (delisted: its orders were cancelled and its
        // positions settled by the exchange). Left unresolved, the entry would fail every start
        // of this trader; what it filled is in the account's records, not in a query any more.
        if (!isUnknownSymbol(error)) throw error;
        this.#d.journal.settle(entry.clientOrderId, UNLISTED_SYMBOL_STATUS, '0');
        this.#release(entry.clientOrderId, Decimal.ZERO, this.#d.clock.now());
        this.#d.logger.warn(
          'unknown order of a symbol the exchange no longer lists: settled without a fill',
          {
            clientOrderId: entry.clientOrderId,
            symbol: entry.symbol,
          },
        );
        continue;
      }
      if (found === null) {
        this.#d.journal.settle(entry.clientOrderId, 'NOT_FOUND', '0');
        this.#release(entry.clientOrderId, Decimal.ZERO, this.#d.clock.now());
        this.#d.logger.info('unknown order resolved: never reached the exchange', {
          clientOrderId: entry.clientOrderId,
        });
      } else if (TERMINAL_ORDER_STATUSES.includes(found.status)) {
        this.#d.journal.settle(entry.clientOrderId, found.status, found.executedQty.toString());
        this.#release(
          entry.clientOrderId,
          found.executedQty,
          this.#fillTime(entry.clientOrderId, found.updateTime),
        );
        this.#d.logger.info('unknown order resolved', {
          clientOrderId: entry.clientOrderId,
          status: found.status,
        });
      } else if (!own.has(entry.clientOrderId)) {
        open += 1;
      }
    }
    return open;
  }

  /**
   * Cancels this trader's orders that a restart left working on the exchange (journal entries a
   * query finds neither ended nor missing). Nothing tracks them any more: a resting one would fill
   * beside the orders of the strategy's new decisions and overshoot its target. What they filled
   * is in the account's positions already; their journal entries are settled from a query after
   * the cancel. Returns how many were cancelled and how many are still open (a cancel the
   * exchange refused, logged): those stay unresolved, and their symbol's next intent queries them
   * first.
   */
  async cancelLeftOpen(): Promise<{ cancelled: number; open: number }> {
    await this.resolveUnknown();
    let cancelled = 0;
    for (const entry of this.#d.journal.unresolved()) {
      try {
        await this.#d.venue.cancel(entry.symbol, entry.clientOrderId);
        cancelled += 1;
        this.#d.logger.warn('order from before the restart cancelled', {
          clientOrderId: entry.clientOrderId,
          symbol: entry.symbol,
        });
      } catch (error) {
        // Filled or ended meanwhile (the query below settles it), or the exchange is unreachable.
        this.#d.logger.warn('order from before the restart could not be cancelled', {
          clientOrderId: entry.clientOrderId,
          symbol: entry.symbol,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
    }
    // A cancelled entry stays unresolved until the query settles it.
    const open = this.#d.journal.unresolved().length > 0 ? await this.resolveUnknown() : 0;
    return { cancelled, open };
  }

  async #run(intent: OrderIntent): Promise<void> {
    // Orders of the symbol whose outcome is still unknown come first: while one may still fill
    // (or cannot be read), the symbol stays blocked and the intent is given up having sent nothing.
    // Not a reduce-only one (a close, a force-close): it cannot add to what a left-over order may
    // still fill, the exchange refuses it past the position (-2022), and a loss must not stay open
    // because an old order cannot be read.
    let open: number;
    try {
      open = await this.#resolve(intent.symbol, this.#ownIds(intent));
    } catch (error) {
      if (!intent.reduceOnly) {
        this.#blocked(intent, 'unknown orders of the symbol could not be resolved', {
          error: describe(error),
        });
        return;
      }
      this.#d.logger.warn(
        'unknown orders of the symbol could not be resolved; a reduce-only order goes anyway',
        {
          symbol: intent.symbol,
          error: describe(error),
        },
      );
      open = 0;
    }
    if (open > 0 && !intent.reduceOnly) {
      this.#blocked(intent, 'orders of the symbol from before are still working', { open });
      return;
    }
    let executed = Decimal.ZERO;
    try {
      executed = await this.#execute(intent);
    } catch (error) {
      this.#d.logger.error('order intent failed', {
        symbol: intent.symbol,
        side: intent.side,
        quantity: intent.quantity.toString(),
        error: describe(error),
      });
      // What its settled orders executed (their fills settled that part of the pending quantity).
      executed = this.#progress.get(intent) ?? Decimal.ZERO;
      if (error instanceof OrderOutcomeUnknownError) {
        this.stats.unknown += 1;
        // The order may exist: its intent's rest stays pending until a resolve says how it ended.
        this.#unknownOrders.set(error.clientOrderId, {
          symbol: intent.symbol,
          side: intent.side,
          unexecuted: intent.quantity.sub(executed),
          seen: this.#seen.get(error.clientOrderId) ?? Decimal.ZERO,
        });
        this.#seen.delete(error.clientOrderId);
        return;
      }
    }
    this.#d.tracker.finished(intent.symbol, signed(intent.side, intent.quantity.sub(executed)));
  }

  /** Gives `intent` up before it sent anything: its whole quantity is no longer pending. */
  #blocked(intent: OrderIntent, message: string, context: Record<string, unknown>): void {
    this.stats.blocked += 1;
    this.#d.logger.warn(`order intent not sent: ${message}`, {
      symbol: intent.symbol,
      side: intent.side,
      quantity: intent.quantity.toString(),
      ...context,
    });
    this.#d.tracker.finished(intent.symbol, signed(intent.side, intent.quantity));
  }

  /** Every client id `intent` may send (a repeated decision finds its own orders in the journal). */
  #ownIds(intent: OrderIntent): Set<string> {
    const { key, leg } = intent;
    const ids = new Set<string>();
    switch (intent.execution.kind) {
      case 'market':
        ids.add(clientOrderId({ key, leg, kind: 'market', slice: 0, attempt: 0 }));
        break;
      case 'post-only':
        for (let attempt = 0; attempt < POST_ONLY_REPRICES; attempt++)
          ids.add(clientOrderId({ key, leg, kind: 'post-only', slice: 0, attempt }));
        ids.add(clientOrderId({ key, leg, kind: 'market', slice: 0, attempt: POST_ONLY_REPRICES }));
        break;
      case 'twap':
      case 'vwap':
        for (let slice = 0; slice < intent.execution.slices; slice++)
          ids.add(clientOrderId({ key, leg, kind: intent.execution.kind, slice, attempt: 0 }));
        break;
    }
    return ids;
  }

  async #execute(intent: OrderIntent): Promise<Decimal> {
    switch (intent.execution.kind) {
      case 'market':
        return (
          await this.#send(intent, { slice: 0, attempt: 0 }, { type: 'MARKET', quantity: intent.quantity })
        ).executed;
      case 'post-only':
        return this.#postOnly(intent, intent.execution.timeoutMs ?? DEFAULT_POST_ONLY_TIMEOUT_MS);
      case 'twap':
      case 'vwap':
        return this.#sliced(intent, intent.execution.durationMs, intent.execution.slices);
    }
  }

  /** A GTX limit at our side's touch; re-priced when it would take; the remainder goes as a taker order after the timeout. */
  async #postOnly(intent: OrderIntent, timeoutMs: number): Promise<Decimal> {
    let executed = Decimal.ZERO;
    for (let attempt = 0; attempt < POST_ONLY_REPRICES && executed.lt(intent.quantity); attempt++) {
      const quote = this.#d.market.quote(intent.symbol);
      if (quote === undefined) break;
      const touch = intent.side === 'BUY' ? quote.bid : quote.ask;
      const price = this.#d.rules.filters(intent.symbol).snapPrice(touch, intent.side);
      const left = intent.quantity.sub(executed);
      const outcome = await this.#send(
        intent,
        { slice: 0, attempt },
        { type: 'LIMIT', timeInForce: 'GTX', price, quantity: left },
        timeoutMs,
      );
      executed = executed.add(outcome.executed);
      if (outcome.status !== 'EXPIRED' && outcome.status !== 'REJECTED') break;
    }
    const left = intent.quantity.sub(executed);
    if (left.sign() > 0) {
      const taker = await this.#send(
        intent,
        { slice: 0, attempt: POST_ONLY_REPRICES, kind: 'market' },
        { type: 'MARKET', quantity: left },
      );
      executed = executed.add(taker.executed);
    }
    return executed;
  }

  /** Slices over `durationMs`: equal (TWAP) or by the volume profile (VWAP); each slice a taker order. */
  async #sliced(intent: OrderIntent, durationMs: number, slices: number): Promise<Decimal> {
    const start = this.#d.clock.now();
    const weights =
      intent.execution.kind === 'vwap'
        ? (this.#d.volumeProfile?.(intent.symbol)?.weights(start, durationMs, slices) ??
          Array(slices).fill(1 / slices))
        : Array<number>(slices).fill(1 / slices);
    let cumulative = 0;
    let sent = Decimal.ZERO;
    let executed = Decimal.ZERO;
    for (let i = 0; i < slices; i++) {
      cumulative += weights[i] ?? 0;
      const at = start + Math.floor((durationMs * i) / slices);
      if (at > this.#d.clock.now()) await this.#waitUntil(at);
      // Cumulative targets snapped to the step, so the slices add up to the whole exactly.
      const upTo =
        i === slices - 1
          ? intent.quantity
          : this.#d.rules.snapQuantity(
              intent.symbol,
              intent.quantity.mul(Decimal.parse(cumulative.toFixed(12))),
              true,
            );
      const qty = upTo.sub(sent);
      if (qty.sign() <= 0) continue;
      const price = this.#d.market.lastPriceExact(intent.symbol) ?? intent.referencePrice;
      const filters = this.#d.rules.filters(intent.symbol);
      const violation = filters.checkOrder(price, qty, true);
      const exempt = intent.reduceOnly && violation?.filter === 'MIN_NOTIONAL';
      if (violation !== null && !exempt && i < slices - 1) continue; // too small: carried to the next slice
      // A rest the exchange would refuse on its own (below the lot or notional minimum) goes now.
      const rest = intent.quantity.sub(upTo);
      const restViolation = rest.sign() > 0 ? filters.checkOrder(price, rest, true) : null;
      const restExempt = intent.reduceOnly && restViolation?.filter === 'MIN_NOTIONAL';
      const quantity = restViolation !== null && !restExempt ? intent.quantity.sub(sent) : qty;
      sent = sent.add(quantity);
      const outcome = await this.#send(intent, { slice: i, attempt: 0 }, { type: 'MARKET', quantity });
      executed = executed.add(outcome.executed);
    }
    return executed;
  }

  #waitUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      this.#d.clock.schedule(at, resolve);
    });
  }

  /** Sends one order (journaled first); returns how it ended. */
  async #send(
    intent: OrderIntent,
    place: Pick<OrderSlot, 'slice' | 'attempt'> & { readonly kind?: OrderSlot['kind'] },
    shape: Pick<VenueOrder, 'type' | 'quantity' | 'price' | 'timeInForce'>,
    restMs = DONE_QUERY_AFTER_MS,
  ): Promise<OrderOutcome> {
    const kind = place.kind ?? intent.execution.kind;
    const id = clientOrderId({
      key: intent.key,
      leg: intent.leg,
      kind,
      slice: place.slice,
      attempt: place.attempt,
    });
    const known = this.#d.journal.get(id);
    if (known?.status !== undefined) {
      this.stats.skippedRepeats += 1;
      this.#d.logger.info('order already sent for this decision; not sending again', {
        clientOrderId: id,
        status: known.status,
      });
      const executed = Decimal.parse(known.executedQty ?? '0');
      this.#repeated(intent.symbol, known, executed);
      this.#addProgress(intent, executed);
      return { status: known.status, executed };
    }
    const order: VenueOrder = {
      symbol: intent.symbol,
      side: intent.side,
      reduceOnly: intent.reduceOnly,
      clientOrderId: id,
      ...shape,
    };
    this.#rememberSent(id);
    if (known === undefined) {
      this.#d.journal.begin({
        clientOrderId: id,
        symbol: order.symbol,
        side: order.side,
        quantity: order.quantity.toString(),
        reduceOnly: order.reduceOnly,
        kind,
        decidedAt: this.#d.clock.now(),
      });
    } else {
      // Journaled before a restart with no outcome: find out before (maybe) sending.
      const found = await this.#d.venue.query(order.symbol, id);
      if (found !== null) {
        // Taken over: what it executed before now (in the previous run) comes as no trade event of
        // this run; it is released like a repeated decision's, and only its later fills settle
        // pending quantity by their events.
        this.#tookOver(intent.symbol, known, found.executedQty);
        this.#working.add(id);
        try {
          return await this.#placed(order, () =>
            this.#finish(intent, order, found.status, found.executedQty, restMs),
          );
        } finally {
          this.#working.delete(id);
          this.#done.delete(id);
        }
      }
    }
    this.stats.orders += 1;
    this.#working.add(id);
    try {
      return await this.#placeAndWait(intent, order, restMs);
    } finally {
      this.#working.delete(id);
      this.#done.delete(id);
    }
  }

  /** Places `order` (retrying rate limits with the same id) and waits for its outcome. */
  async #placeAndWait(intent: OrderIntent, order: VenueOrder, restMs: number): Promise<OrderOutcome> {
    const id = order.clientOrderId;
    for (let retry = 0; ; retry++) {
      try {
        const record = await this.#d.venue.place(order);
        return await this.#placed(order, () =>
          this.#finish(intent, order, record.status, record.executedQty, restMs),
        );
      } catch (error) {
        // A closed budget fails a request before it is sent: the process is stopping.
        if (error instanceof NotSentError || error instanceof BudgetClosedError)
          return this.#settle(intent, order, 'NOT_SENT', Decimal.ZERO);
        if (
          (error instanceof RateLimitedError || error instanceof IpBannedError) &&
          retry < RATE_LIMIT_RETRIES
        ) {
          const wait = Math.max(0, error.retryAfterMs);
          if (wait <= MAX_RATE_LIMIT_WAIT_MS && this.#d.sleep !== undefined) {
            this.#d.logger.warn('order refused by a rate limit; retrying with the same client id', {
              clientOrderId: id,
              waitMs: wait,
            });
            await this.#d.sleep(wait);
            continue;
          }
        }
        if (error instanceof BinanceApiError) {
          this.stats.rejected += 1;
          this.#d.logger.warn('order rejected', { clientOrderId: id, code: error.code, message: error.msg });
          return this.#settle(intent, order, 'REJECTED', Decimal.ZERO);
        }
        throw error;
      }
    }
  }

  /**
   * Runs `follow` for an order the exchange has: a failure to learn how it ended (a query or the
   * gateway failing) leaves its outcome unknown, so its intent keeps its rest pending until a
   * resolve reads it.
   */
  async #placed(order: VenueOrder, follow: () => Promise<OrderOutcome>): Promise<OrderOutcome> {
    try {
      return await follow();
    } catch (error) {
      if (error instanceof OrderOutcomeUnknownError) throw error;
      throw new OrderOutcomeUnknownError('place', order.symbol, order.clientOrderId, describe(error), {
        cause: error,
      });
    }
  }

  /** Waits for a resting order to finish (user event, else a query after `restMs`), then records it. */
  async #finish(
    intent: OrderIntent,
    order: VenueOrder,
    status: string,
    executed: Decimal,
    restMs: number,
  ): Promise<OrderOutcome> {
    if (TERMINAL_ORDER_STATUSES.includes(status)) return this.#settle(intent, order, status, executed);
    const early = this.#done.get(order.clientOrderId);
    const outcome = early ?? (await this.#waitDone(order, restMs));
    return this.#settle(intent, order, outcome.status, outcome.executed);
  }

  async #waitDone(order: VenueOrder, restMs: number): Promise<OrderOutcome> {
    const byEvent = new Promise<OrderOutcome | undefined>((resolve) => {
      this.#waiters.set(order.clientOrderId, { resolve });
      this.#d.clock.schedule(this.#d.clock.now() + restMs, () => resolve(undefined));
    });
    const outcome = await byEvent;
    if (outcome !== undefined) return outcome;
    this.#waiters.delete(order.clientOrderId);
    // Still resting after its time: cancel it (the remainder is the caller's to re-send) and read how it ended.
    try {
      const cancelled = await this.#d.venue.cancel(order.symbol, order.clientOrderId);
      if (TERMINAL_ORDER_STATUSES.includes(cancelled.status))
        return { status: cancelled.status, executed: cancelled.executedQty };
    } catch (error) {
      this.#d.logger.info('cancel after timeout refused; reading the order', {
        clientOrderId: order.clientOrderId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    const found = await this.#d.venue.query(order.symbol, order.clientOrderId);
    if (found === null) return { status: 'NOT_FOUND', executed: Decimal.ZERO };
    if (!TERMINAL_ORDER_STATUSES.includes(found.status))
      throw new OrderOutcomeUnknownError(
        'cancel',
        order.symbol,
        order.clientOrderId,
        `still ${found.status} after cancel`,
      );
    return { status: found.status, executed: found.executedQty };
  }

  /**
   * An order of unknown outcome ended having executed `executed` (by exchange time `time`): what
   * its trade events have not reported counts as filled now, and the rest of its intent is no
   * longer pending, so the engine's expected position is the exchange's again.
   */
  #release(clientOrderId: string, executed: Decimal, time: number): void {
    const unknown = this.#unknownOrders.get(clientOrderId);
    if (unknown === undefined) return;
    this.#unknownOrders.delete(clientOrderId);
    const unreported = executed.sub(unknown.seen);
    if (unreported.gt(Decimal.ZERO))
      this.#d.tracker.filledByQuery(unknown.symbol, clientOrderId, signed(unknown.side, unreported), time);
    this.#d.tracker.finished(unknown.symbol, signed(unknown.side, unknown.unexecuted.sub(executed)));
  }

  /**
   * The exchange time a resolved order's fills are counted at. An implausible one (a time in µs
   * would keep them added to the position for good) is refused, counted and logged; the fills are
   * then taken as shown by the account already (0), which a query made after them usually is.
   */
  #fillTime(clientOrderId: string, updateTime: number): number {
    const error = checkExchangeTime('updateTime', updateTime, this.#d.clock.now());
    if (error === undefined) return updateTime;
    this.stats.implausibleTimes += 1;
    this.#d.logger.warn('resolved order with an implausible update time', {
      clientOrderId,
      error: error.message,
    });
    return 0;
  }

  /**
   * A repeated decision found its order settled with `executed` filled. That order's fills settle
   * the pending quantity of the intent that sent it, not of this one: the quantity is released
   * here. If an earlier run sent it, no trade event of it comes in this run: the fills count
   * from the order's decision time until the account shows them, so the decision is not taken a
   * third time meanwhile.
   */
  #repeated(symbol: string, known: JournalEntry, executed: Decimal): void {
    const qty = signed(known.side, executed);
    if (qty.isZero()) return;
    this.#d.tracker.finished(symbol, qty);
    if (!this.#sentHere.has(known.clientOrderId))
      this.#d.tracker.filledElsewhere(symbol, qty, known.decidedAt);
  }

  /**
   * A repeated decision took over its order `known`, which had executed `executed` already. No
   * trade event of that part comes in this run: released from pending here and counted from the
   * order's decision time until the account shows it, like `#repeated`.
   */
  #tookOver(symbol: string, known: JournalEntry, executed: Decimal): void {
    const qty = signed(known.side, executed);
    if (qty.isZero()) return;
    this.#d.tracker.finished(symbol, qty);
    this.#d.tracker.filledElsewhere(symbol, qty, known.decidedAt);
  }

  #addProgress(intent: OrderIntent, executed: Decimal): void {
    this.#progress.set(intent, (this.#progress.get(intent) ?? Decimal.ZERO).add(executed));
  }

  /** Adds `id` to the orders sent in this run, forgetting the oldest beyond MAX_SENT_REMEMBERED. */
  #rememberSent(id: string): void {
    this.#sentHere.add(id);
    if (this.#sentHere.size <= MAX_SENT_REMEMBERED) return;
    const oldest = this.#sentHere.values().next().value;
    if (oldest !== undefined) this.#sentHere.delete(oldest);
  }

  #settle(intent: OrderIntent, order: VenueOrder, status: string, executed: Decimal): OrderOutcome {
    this.#done.delete(order.clientOrderId);
    this.#seen.delete(order.clientOrderId);
    this.#addProgress(intent, executed);
    this.#d.journal.settle(order.clientOrderId, status, executed.toString());
    const record: RecordedOrder = {
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      type: order.timeInForce === 'GTX' ? 'LIMIT_GTX' : order.type,
      quantity: order.quantity.toString(),
      price: order.price?.toString() ?? null,
      reduceOnly: order.reduceOnly,
      status,
      executedQty: executed.toString(),
      time: this.#d.clock.now(),
      reason: intent.reason,
    };
    this.#d.recorder?.order(record);
    return { status, executed };
  }
}
