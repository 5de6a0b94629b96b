// Force-close and close-all: a position too far against its entry is closed; when total unrealized PnL falls under the limit every position is closed and the trader goes REDUCING.
import type { LossGuardSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { AccountView, MarketData } from '../engine/market-data.js';
import type { RiskEventSink } from './risk-events.js';
import type { RiskState } from './risk-state.js';

/** How the guard closes positions: through the engine, reduce-only, like any other target. */
export interface PositionCloser {
  /** Asks for `symbol`'s position to become zero (a reduce-only market order through the risk gate). */
  close(symbol: string, reason: string): void;
  /** Whether orders for `symbol` are still on their way (a close sent earlier has not finished). */
  busy(symbol: string): boolean;
}

/** What the guard watches and acts through. */
export interface LossGuardDeps {
  readonly state: RiskState;
  readonly settings: LossGuardSettings;
  readonly account: AccountView;
  readonly market: MarketData;
  readonly closer: PositionCloser;
  readonly events: RiskEventSink;
  readonly logger: Logger;
}

const HUNDRED = Decimal.fromInt(100);

/**
 * The price a position is judged at: the middle of the best bid and ask (the freshest price the
 * trader holds; the exchange's mark price only arrives with position polls), else the last trade;
 * `undefined` when neither is a positive price.
 */
export function judgedPrice(market: MarketData, symbol: string): Decimal | undefined {
  const q = market.quote(symbol);
  if (q !== undefined && q.bid.sign() > 0 && q.ask.sign() > 0)
    return q.bid.add(q.ask).div(Decimal.fromInt(2), 12);
  // A last price of zero (or below) is no price: judged at it, every long would be 100 % against
  // its entry and closed at market, and the total could trip close-all.
  const last = market.lastPriceExact(symbol);
  return last !== undefined && last.sign() > 0 ? last : undefined;
}

/** How many percent `price` is against a position of `amount` entered at `entry` (negative: in profit). */
export function percentAgainst(amount: Decimal, entry: Decimal, price: Decimal): Decimal {
  if (entry.sign() <= 0 || amount.isZero()) return Decimal.ZERO;
  const move = amount.sign() > 0 ? entry.sub(price) : price.sub(entry);
  return move.mul(HUNDRED).div(entry, 8, 'down');
}

/**
 * Checked every `checkMs`: each open position is valued at {@link judgedPrice}; one at least
 * `forceClosePercent` against its entry is force-closed, and when the sum of unrealized PnL is at or
 * under `closeAllBelow` every position is closed and the trading state escalates to REDUCING (the
 * owner switches back). Closes in progress are saved in the risk state, so a restart in the middle
 * finishes them even if the price came back; a close is sent again after `retryMs` when the
 * position is still open and nothing is on its way. Nothing is sent while HALTED.
 */
export class LossGuard {
  readonly #d: LossGuardDeps;
  readonly #limit: Decimal;
  readonly #closeAllBelow: Decimal;
  readonly #lastSent = new Map<string, number>();
  readonly #busySince = new Map<string, number>();
  /** The last total unrealized PnL computed, for the status. */
  unrealizedPnl: Decimal = Decimal.ZERO;
  /**
   * Open positions the last round could not price (no positive price, or no entry): while there is
   * one, the account's total is unknown and close-all is not judged, so the status names them.
   */
  unpriced: readonly string[] = [];

  constructor(deps: LossGuardDeps) {
    this.#d = deps;
    this.#limit = Decimal.parse(deps.settings.forceClosePercent);
    this.#closeAllBelow = Decimal.parse(deps.settings.closeAllBelow);
  }

  /** One round: judge the positions, start closes, push closes in progress, finish those that are done. */
  check(now: number): void {
    const { account, market, state, events } = this.#d;
    const open = account.openPositions();
    let unrealized = Decimal.ZERO;
    const unpriced: string[] = [];
    for (const symbol of open) {
      const p = account.position(symbol);
      const price = judgedPrice(market, symbol);
      if (price === undefined || p.entryPrice.sign() <= 0) {
        unpriced.push(symbol);
        continue;
      }
      unrealized = unrealized.add(price.sub(p.entryPrice).mul(p.amount));
      const against = percentAgainst(p.amount, p.entryPrice, price);
      if (against.gte(this.#limit) && !state.forceClosing().has(symbol)) {
        const reason = `price ${price.toFixed(8)} is ${against.toFixed(2)} % against the entry ${p.entryPrice.toString()} (limit ${this.#limit.toString()} %)`;
        state.startForceClose(symbol, reason);
        events.emit({ kind: 'risk-action', action: 'force-close', symbol, reason, at: now });
      }
    }
    this.unrealizedPnl = unrealized;
    this.#noteUnpriced(unpriced);
    if (
      unpriced.length === 0 &&
      open.length > 0 &&
      unrealized.lte(this.#closeAllBelow) &&
      state.closeAll === null
    ) {
      const reason = `total unrealized PnL ${unrealized.toFixed(2)} USDT is at or under ${this.#closeAllBelow.toString()}`;
      state.startCloseAll(reason);
      events.emit({ kind: 'risk-action', action: 'close-all', symbol: null, reason, at: now });
      state.escalate('REDUCING', 'close-all', reason);
    }
    this.#act(now, open);
  }

  /** Keeps the unpriced positions for the status; logs when that set changes, not every round. */
  #noteUnpriced(unpriced: readonly string[]): void {
    if (unpriced.join(',') === this.unpriced.join(',')) return;
    if (unpriced.length > 0)
      this.#d.logger.warn('close-all not judged: open positions without a price or entry', {
        symbols: unpriced.join(','),
      });
    else this.#d.logger.info('every open position priced again; close-all judged', {});
    this.unpriced = unpriced;
  }

  #act(now: number, open: readonly string[]): void {
    const { account, state, closer } = this.#d;
    const closeAll = state.closeAll;
    const targets = new Map<string, string>();
    for (const [symbol, close] of state.forceClosing()) targets.set(symbol, `force-close: ${close.reason}`);
    if (closeAll !== null) for (const symbol of open) targets.set(symbol, `close-all: ${closeAll.reason}`);
    for (const [symbol, reason] of targets) {
      const flat = account.position(symbol).amount.isZero();
      if (flat && !closer.busy(symbol)) {
        if (state.forceClosing().has(symbol)) {
          state.finishForceClose(symbol);
          this.#d.logger.info('force-close finished', { symbol });
        }
        this.#lastSent.delete(symbol);
        continue;
      }
      if (flat || !state.allowsReducing() || this.#waitsForOrders(symbol, now)) continue;
      const last = this.#lastSent.get(symbol);
      if (last !== undefined && now - last < this.#d.settings.retryMs) continue;
      this.#lastSent.set(symbol, now);
      closer.close(symbol, reason);
    }
    for (const symbol of [...this.#busySince.keys()])
      if (!targets.has(symbol)) this.#busySince.delete(symbol);
    if (closeAll !== null && open.length === 0) {
      state.finishCloseAll();
      this.#d.logger.info('close-all finished: no position left', { since: closeAll.since });
    }
  }

  /**
   * Whether to leave `symbol` to the orders already on their way. An order whose outcome stayed
   * unknown keeps the engine busy until it is resolved, so after five retry periods the close is
   * sent anyway (the executor resolves unknown orders of the symbol before sending it).
   */
  #waitsForOrders(symbol: string, now: number): boolean {
    if (!this.#d.closer.busy(symbol)) {
      this.#busySince.delete(symbol);
      return false;
    }
    const since = this.#busySince.get(symbol) ?? now;
    this.#busySince.set(symbol, since);
    return now - since < this.#d.settings.retryMs * 5;
  }
}
