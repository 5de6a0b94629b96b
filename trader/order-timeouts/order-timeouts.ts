// Seed 000's checkTimeoutOrders: resting orders older than their client-id prefix allows are cancelled, and a share of what was left re-sent as a taker order.
import type { OrderTimeoutSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { TERMINAL_ORDER_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { EngineClock, ScheduledTask } from '../engine/engine-clock.js';
import type { OrderSide } from '../engine/events.js';
import { checkExchangeTime } from '../engine/exchange-time.js';
import type { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue } from '../execution/venue.js';
import type { RiskEventSink } from '../risk/risk-events.js';
import type { RiskState } from '../risk/risk-state.js';

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
 */
export class OrderTimeouts {
  /** `implausibleTimes`: orders whose exchange time was refused (watched from the clock's time instead). */
  readonly stats = { cancelled: 0, resent: 0, failures: 0, implausibleTimes: 0 };
  readonly #d: OrderTimeoutDeps;
  readonly #rules: TimeoutRule[];
  readonly #resting = new Map<string, RestingOrder>();
  readonly #handling = new Set<string>();
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
    if (u === undefined) return;
    if (TERMINAL_ORDER_STATUSES.includes(u.status)) {
      this.#resting.delete(u.clientOrderId);
      return;
    }
    if (u.orderType !== 'LIMIT' || ruleFor(this.#rules, u.clientOrderId) === undefined) return;
    if (!this.#resting.has(u.clientOrderId))
      this.#resting.set(u.clientOrderId, {
        symbol: u.symbol,
        clientOrderId: u.clientOrderId,
        side: u.side === 'SELL' ? 'SELL' : 'BUY',
        since: this.#since(u.clientOrderId, 'transactionTime', u.transactionTime, this.#d.clock.now()),
      });
  }

  /** One round (the timer calls it every `checkMs`). */
  check(now: number): void {
    if (now - this.#lastReconcile >= this.#d.settings.reconcileMs) void this.#reconcile();
    if (!this.#d.state.allowsReducing()) return;
    for (const order of this.#resting.values()) {
      const rule = ruleFor(this.#rules, order.clientOrderId);
      if (rule === undefined || now - order.since <= rule.maxAgeMs) continue;
      if (this.#handling.has(order.clientOrderId) || this.#d.isWorking(order.clientOrderId)) continue;
      this.#handling.add(order.clientOrderId);
      void this.#expire(order, rule, now).finally(() => this.#handling.delete(order.clientOrderId));
    }
  }

  async #expire(order: RestingOrder, rule: TimeoutRule, now: number): Promise<void> {
    let left: Decimal;
    let reduceOnly: boolean;
    try {
      const ended = await this.#d.venue.cancel(order.symbol, order.clientOrderId);
      left = ended.origQty.sub(ended.executedQty);
      reduceOnly = ended.reduceOnly;
    } catch (error) {
      // Filled or cancelled meanwhile (its event will say so), or the exchange refused: look again later.
      this.stats.failures += 1;
      this.#d.logger.info('timed-out order could not be cancelled', {
        clientOrderId: order.clientOrderId,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    this.#resting.delete(order.clientOrderId);
    this.stats.cancelled += 1;
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
      this.#d.resend(order.symbol, order.side, share, reduceOnly, `taker share of ${reason}`);
    }
  }

  async #reconcile(): Promise<void> {
    const readAt = this.#d.clock.now();
    this.#lastReconcile = readAt;
    try {
      const open = await this.#d.venue.openOrders();
      const seen = new Set<string>();
      for (const o of open) {
        if (o.type !== 'LIMIT' || ruleFor(this.#rules, o.clientOrderId) === undefined) continue;
        seen.add(o.clientOrderId);
        if (!this.#resting.has(o.clientOrderId))
          this.#resting.set(o.clientOrderId, {
            symbol: o.symbol,
            clientOrderId: o.clientOrderId,
            side: o.side,
            since: this.#since(o.clientOrderId, 'time', o.time ?? o.updateTime, readAt),
          });
      }
      // Orders gone from the list are gone (their events were missed); newer ones were placed after the read.
      for (const [id, o] of [...this.#resting]) {
        if (!seen.has(id) && !this.#handling.has(id) && o.since < readAt) this.#resting.delete(id);
      }
    } catch (error) {
      this.stats.failures += 1;
      this.#d.logger.warn('open orders could not be read', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
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
