// What the risk engine and the stop-loss ladders report when they act or fail: typed events, logged, counted, and ready for the alert channel.
import type { Logger } from '../../ts/log/logger.js';
import type { TradingState } from './risk-state-store.js';

/** What a risk rule did. */
export type RiskAction =
  /** The trading state changed (by a rule or the owner). */
  | 'state'
  /** An order was refused by a pre-trade check. */
  | 'refuse'
  /** A position was closed because the price went too far against its entry. */
  | 'force-close'
  /** Every position was closed because total unrealized PnL fell under the limit. */
  | 'close-all'
  /** A stop of a new ladder would have triggered at once: its quantity was closed at market. */
  | 'stop-passed'
  /** A resting order outlived its prefix's limit and was cancelled (a share maybe sent as taker). */
  | 'order-timeout'
  /** A close risk asked for (force-close, close-all, a passed stop) could not be sent at all. */
  | 'close-unsent';

/** A risk rule acted. Shaped like the alert channel's `risk-action` alert, plus the time. */
export interface RiskActionEvent {
  readonly kind: 'risk-action';
  readonly action: RiskAction;
  readonly symbol: string | null;
  /** The rule's name and why, for a person. */
  readonly reason: string;
  readonly at: number;
  /** For `state`: the state switched to (grades the alert: HALTED is critical). */
  readonly state?: TradingState;
}

/** A stop-loss order could not be placed, confirmed or replaced, or a position stayed under-covered. */
export interface StopLossFailureEvent {
  readonly kind: 'stop-loss-failure';
  readonly symbol: string;
  readonly positionSide: string;
  readonly detail: string;
  readonly at: number;
}

/**
 * Everything risk reports. The shapes are the alert channel's (`risk-action`, `stop-loss-failure`)
 * so that raising alerts from them is one line: `events.onEvent((e) => alerts.raise(e))`.
 */
export type RiskEvent = RiskActionEvent | StopLossFailureEvent;

/** Where risk events go. */
export interface RiskEventSink {
  emit(event: RiskEvent): void;
}

/** Counters and the recent events, for the trader's status. */
export interface RiskEventStats {
  readonly byKind: Readonly<Record<string, number>>;
  readonly suppressed: number;
  readonly recent: readonly RiskEvent[];
}

const RECENT = 50;

/** Actions a rule may repeat every few seconds: a repeat within the window is counted, not passed on. */
const REPEATED_ACTIONS: ReadonlySet<RiskAction> = new Set<RiskAction>(['refuse', 'close-unsent']);

/**
 * Logs every risk event (stop-loss failures as errors, actions as warnings), counts them by kind
 * and action, keeps the last 50 for the status, and hands them to listeners (the alert channel).
 * The same refusal, or the same close that could not be sent (the loss guard retries it every
 * `retryMs`), repeated (same symbol and rule) within `repeatWindowMs` is counted but neither
 * logged nor handed on again, so a strategy that keeps asking for a banned symbol cannot flood the
 * log or the alerts.
 */
export class RiskEventLog implements RiskEventSink {
  readonly #log: Logger;
  readonly #repeatWindowMs: number;
  readonly #listeners = new Set<(event: RiskEvent) => void>();
  readonly #lastSeen = new Map<string, number>();
  readonly #counts: Record<string, number> = {};
  readonly #recent: RiskEvent[] = [];
  #suppressed = 0;

  constructor(logger: Logger, repeatWindowMs = 60_000) {
    this.#log = logger;
    this.#repeatWindowMs = repeatWindowMs;
  }

  /** Calls `listener` with every event that is not a suppressed repeat; returns the unsubscribe function. */
  onEvent(listener: (event: RiskEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: RiskEvent): void {
    const label = event.kind === 'risk-action' ? `risk-action:${event.action}` : event.kind;
    this.#counts[label] = (this.#counts[label] ?? 0) + 1;
    if (event.kind === 'risk-action' && REPEATED_ACTIONS.has(event.action)) {
      // By action, symbol and rule (the reason starts with the rule's name; its details, e.g. a price's age, vary).
      const key = `${event.action}|${event.symbol}|${event.reason.split(':')[0]}`;
      const last = this.#lastSeen.get(key);
      if (last !== undefined && event.at - last < this.#repeatWindowMs) {
        this.#suppressed += 1;
        return;
      }
      this.#lastSeen.set(key, event.at);
      if (this.#lastSeen.size > 10_000) this.#lastSeen.clear();
    }
    this.#recent.push(event);
    if (this.#recent.length > RECENT) this.#recent.splice(0, this.#recent.length - RECENT);
    if (event.kind === 'stop-loss-failure') {
      this.#log.error('stop-loss failure', { symbol: event.symbol, detail: event.detail });
    } else {
      this.#log.warn(`risk ${event.action}`, { symbol: event.symbol, reason: event.reason });
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log.error('risk event listener failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  stats(): RiskEventStats {
    return { byKind: { ...this.#counts }, suppressed: this.#suppressed, recent: [...this.#recent] };
  }
}
