// Seed 000's checkTimeoutOrders: resting orders older than their client-id prefix allows are cancelled, and a share of what was left re-sent as a taker order.
import type { OrderTimeoutSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { type OrderRecord, TERMINAL_ORDER_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import { parseShareClientOrderId } from '../../ts/gateway/gateway-protocol.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { EngineClock, ScheduledTask } from '../engine/engine-clock.js';
import type { OrderSide } from '../engine/events.js';
import { checkExchangeTime } from '../engine/exchange-time.js';
import type { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue } from '../execution/venue.js';
import type { RiskEventSink } from '../risk/risk-events.js';
import type { RiskState } from '../risk/risk-state.js';
import {
  errorMessage,
  fateOfRefused,
  MAX_CANCEL_TRIES,
  RecentlyEnded,
  retryDelayMs,
} from './cancel-refusals.js';

/** A per-prefix limit as exact numbers. */
export interface TimeoutRule {
  readonly prefix: string;
  readonly maxAgeMs: number;
  readonly takerShare: Decimal;
}

/** A resting order being watched. */
interface RestingOrder {
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly since: number;
  /** Its cancels refused so far, and the time before which none is sent again. */
  refusals: number;
  retryAt: number;
}

/** What the timeouts act through. */
export interface OrderTimeoutDeps {
  readonly venue: Venue;
  readonly rules: SymbolRules;
  readonly settings: OrderTimeoutSettings;
  readonly state: RiskState;
  readonly clock: EngineClock;
  readonly events: RiskEventSink;
  readonly logger: Logger;
  /** Whether the engine's executor is working this order itself (it times out its own post-only orders). */
  readonly isWorking: (clientOrderId: string) => boolean;
  /**
   * Sends `quantity` more on `side` as a taker order through the engine (risk gate, journal),
   * reduce-only when the cancelled order was.
   */
  readonly resend: (
    symbol: string,
    side: OrderSide,
    quantity: Decimal,
    reduceOnly: boolean,
    reason: string,
  ) => void;
}

/** The first rule whose prefix starts `clientOrderId`. */
export function ruleFor(rules: readonly TimeoutRule[], clientOrderId: string): TimeoutRule | undefined {
  return rules.find((r) => clientOrderId.startsWith(r.prefix));
}

/**
 * Watches the account's resting orders — learned from ORDER_TRADE_UPDATE events and from a read of
 * the exchange's open orders at start and every `reconcileMs` (so orders left by a crashed run are
 * found) — and every `checkMs` cancels those older than their prefix's `maxAgeMs`; of what was left
 * unfilled, `takerShare` (snapped down to the step) is sent again as a taker order through the
 * engine. Orders the executor is still working are left to it (it has its own timeout and sends the
 * remainder itself). Nothing is cancelled or sent while HALTED.
 *
 * Gateway split mode: the exchange knows each member's share of a decision `<id>` as `<id>.<n>`,
 * while the executor and this trader's user events (the gateway venue gives them back under the
 * decision's id, and leaves other members' out) know `<id>`. Which share is this trader's cannot be
 * told here, so a share listed in the open orders is never taken: it only shows that the decision
 * this trader already watches is still resting. Other members' shares are their traders' to time
 * out; this trader's own from before a restart are cancelled by the executor's journal at start.
 *
 * A refused cancel is settled by querying the order (ended → forgotten) or tried again after a
 * doubling wait, at most {@link MAX_CANCEL_TRIES} times. Orders of symbols the rules do not list
 * are not the trader's: they are left alone.
 */
export class OrderTimeouts {
  /**
   * `failures`: cancels refused, reads of open orders failed and timed-out orders that could not be
   * handled; `endedMeanwhile`: refused cancels whose order had ended (its event missed or late);
   * `givenUp`: orders let go after {@link MAX_CANCEL_TRIES} refused cancels; `unknownSymbols`:
   * symbols with resting orders the rules do not list; `implausibleTimes`: orders whose exchange
   * time was refused (watched from the clock's time instead).
   */
  readonly stats = {
    cancelled: 0,
    resent: 0,
    failures: 0,
    endedMeanwhile: 0,
    givenUp: 0,
    unknownSymbols: 0,
    implausibleTimes: 0,
  };
  readonly #d: OrderTimeoutDeps;
  readonly #rules: TimeoutRule[];
  readonly #resting = new Map<string, RestingOrder>();
  readonly #handling = new Set<string>();
  readonly #ended = new RecentlyEnded();
  readonly #unknownSymbols = new Set<string>();
  #timer: ScheduledTask | undefined;
  #lastReconcile = 0;
  #stopped = false;

  constructor(deps: OrderTimeoutDeps) {
    this.#d = deps;
    this.#rules = deps.settings.rules.map((r) => ({
      prefix: r.prefix,
      maxAgeMs: r.maxAgeMs,
      takerShare: Decimal.parse(r.takerShare),
    }));
  }

  async start(): Promise<void> {
    await this.#reconcile();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** Orders being watched (for the status). */
  get watched(): number {
    return this.#resting.size;
  }

  /** ORDER_TRADE_UPDATE: a new resting order is watched, a finished one forgotten. */
  onUserEvent(event: UserEventObject): void {
    const u = event.orderUpdate;
    // A split share's id: the venue did not give this member's events back under the decision's id,
    // so whose share it is cannot be told (see the class comment).
    if (u === undefined || parseShareClientOrderId(u.clientOrderId) !== undefined) return;
    if (TERMINAL_ORDER_STATUSES.includes(u.status)) {
      this.#resting.delete(u.clientOrderId);
      if (ruleFor(this.#rules, u.clientOrderId) !== undefined)
        this.#ended.add(u.clientOrderId, this.#d.clock.now());
      return;
    }
    if (u.orderType !== 'LIMIT' || ruleFor(this.#rules, u.clientOrderId) === undefined) return;
    if (this.#resting.has(u.clientOrderId) || !this.#knowsSymbol(u.symbol, u.clientOrderId)) return;
    this.#watch({
      symbol: u.symbol,
      clientOrderId: u.clientOrderId,
      side: u.side === 'SELL' ? 'SELL' : 'BUY',
      since: this.#since(u.clientOrderId, 'transactionTime', u.transactionTime, this.#d.clock.now()),
    });
  }

  /** One round (the timer calls it every `checkMs`). */
  check(now: number): void {
    if (now - this.#lastReconcile >= this.#d.settings.reconcileMs) void this.#reconcile();
    this.#ended.prune(now);
    if (!this.#d.state.allowsReducing()) return;
    for (const order of this.#resting.values()) {
      const rule = ruleFor(this.#rules, order.clientOrderId);
      if (rule === undefined || now - order.since <= rule.maxAgeMs || now < order.retryAt) continue;
      if (this.#handling.has(order.clientOrderId) || this.#d.isWorking(order.clientOrderId)) continue;
      this.#handling.add(order.clientOrderId);
      void this.#expire(order, rule, now).finally(() => this.#handling.delete(order.clientOrderId));
    }
  }

  /** Cancels `order` and re-sends its taker share; never rejects (it runs unawaited). */
  async #expire(order: RestingOrder, rule: TimeoutRule, now: number): Promise<void> {
    try {
      let ended: OrderRecord;
      try {
        ended = await this.#d.venue.cancel(order.symbol, order.clientOrderId);
      } catch (error) {
        await this.#refused(order, error);
        return;
      }
      this.#end(order.clientOrderId);
      this.stats.cancelled += 1;
      this.#resendShare(order, rule, ended, now);
    } catch (error) {
      this.stats.failures += 1;
      this.#d.logger.error('timed-out order could not be handled', {
        clientOrderId: order.clientOrderId,
        symbol: order.symbol,
        error: errorMessage(error),
      });
    }
  }

  /** Of what `ended` left unfilled, `rule.takerShare` goes again as a taker order. */
  #resendShare(order: RestingOrder, rule: TimeoutRule, ended: OrderRecord, now: number): void {
    const left = ended.origQty.sub(ended.executedQty);
    const share = rule.takerShare.isZero()
      ? Decimal.ZERO
      : this.#d.rules.snapQuantity(order.symbol, left.mul(rule.takerShare), true);
    const reason = `${order.clientOrderId} rested ${now - order.since} ms (limit ${rule.maxAgeMs} ms for ${rule.prefix})`;
    this.#d.events.emit({
      kind: 'risk-action',
      action: 'order-timeout',
      symbol: order.symbol,
      reason:
        share.sign() > 0 ? `${reason}; ${share.toString()} of ${left.toString()} re-sent as taker` : reason,
      at: now,
    });
    if (share.sign() > 0) {
      this.stats.resent += 1;
      this.#d.resend(order.symbol, order.side, share, ended.reduceOnly, `taker share of ${reason}`);
    }
  }

  /**
   * A cancel of `order` was refused: an order that ended meanwhile (filled, its FILLED event missed
   * or late — -2011) is forgotten; one still resting is tried again after a doubling wait, and let
   * go after {@link MAX_CANCEL_TRIES} (a read of open orders that still lists it starts again).
   */
  async #refused(order: RestingOrder, error: unknown): Promise<void> {
    this.stats.failures += 1;
    const fate = await fateOfRefused(this.#d.venue, order.symbol, order.clientOrderId);
    const context = {
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      error: errorMessage(error),
      ...(fate.kind === 'unknown' ? { queryError: fate.error } : { status: fate.status }),
    };
    // No longer watched: its terminal event came while the cancel or the query was under way.
    if (fate.kind === 'ended' || this.#resting.get(order.clientOrderId) !== order) {
      this.stats.endedMeanwhile += 1;
      this.#end(order.clientOrderId);
      this.#d.logger.info('timed-out order had ended before its cancel; forgotten', context);
      return;
    }
    order.refusals += 1;
    const waitMs = retryDelayMs(order.refusals);
    if (waitMs === undefined) {
      this.stats.givenUp += 1;
      this.#resting.delete(order.clientOrderId);
      this.#d.logger.warn('timed-out order still not cancelled; let go until open orders list it again', {
        ...context,
        tries: order.refusals,
      });
      return;
    }
    order.retryAt = this.#d.clock.now() + waitMs;
    this.#d.logger.info('timed-out order could not be cancelled; trying again', {
      ...context,
      tries: order.refusals,
      retryInMs: waitMs,
    });
  }

  /** `clientOrderId` ended: forgotten, and not brought back by a read of open orders sent before now. */
  #end(clientOrderId: string): void {
    this.#resting.delete(clientOrderId);
    this.#ended.add(clientOrderId, this.#d.clock.now());
  }

  async #reconcile(): Promise<void> {
    const readAt = this.#d.clock.now();
    this.#lastReconcile = readAt;
    try {
      const open = await this.#d.venue.openOrders();
      const seen = new Set<string>();
      for (const o of open) {
        if (o.type !== 'LIMIT' || ruleFor(this.#rules, o.clientOrderId) === undefined) continue;
        // A split share is never taken; it keeps the decision this trader watches (see the class comment).
        const id = parseShareClientOrderId(o.clientOrderId)?.clientOrderId ?? o.clientOrderId;
        seen.add(id);
        if (id !== o.clientOrderId || this.#resting.has(id)) continue;
        // Cancelled or finished after this read was sent: the list is older than that.
        if (this.#ended.endedSince(id, readAt) || !this.#knowsSymbol(o.symbol, id)) continue;
        this.#watch({
          symbol: o.symbol,
          clientOrderId: id,
          side: o.side,
          since: this.#since(id, 'time', o.time ?? o.updateTime, readAt),
        });
      }
      // Orders gone from the list are gone (their events were missed); newer ones were placed after the read.
      for (const [id, o] of [...this.#resting]) {
        if (!seen.has(id) && !this.#handling.has(id) && o.since < readAt) this.#resting.delete(id);
      }
    } catch (error) {
      this.stats.failures += 1;
      this.#d.logger.warn('open orders could not be read', { error: errorMessage(error) });
    }
  }

  #watch(order: Omit<RestingOrder, 'refusals' | 'retryAt'>): void {
    this.#resting.set(order.clientOrderId, { ...order, refusals: 0, retryAt: 0 });
  }

  /**
   * Whether the rules list `symbol`: an order of another (a USDC pair, one placed by hand) is not
   * the trader's to time out, and its taker share could not be sized. Logged once per symbol.
   */
  #knowsSymbol(symbol: string, clientOrderId: string): boolean {
    if (this.#d.rules.has(symbol)) return true;
    if (!this.#unknownSymbols.has(symbol)) {
      this.#unknownSymbols.add(symbol);
      this.stats.unknownSymbols += 1;
      this.#d.logger.warn('resting order of a symbol the rules do not list left alone', {
        symbol,
        clientOrderId,
      });
    }
    return false;
  }

  /**
   * When an order started resting: the exchange's `time`, or `now` when that time is implausible.
   * A time in µs would keep the order from ever looking old, one in seconds would cancel it at
   * once; `now` (when the trader learned of it) can only make it time out a little late.
   */
  #since(clientOrderId: string, field: string, time: number, now: number): number {
    const error = checkExchangeTime(field, time, now);
    if (error === undefined) return time;
    this.stats.implausibleTimes += 1;
    this.#d.logger.warn('resting order with an implausible exchange time; its age counted from now', {
      clientOrderId,
      error: error.message,
    });
    return now;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#d.clock.schedule(this.#d.clock.now() + this.#d.settings.checkMs, () => {
      this.check(this.#d.clock.now());
      this.#schedule();
    });
  }
}
