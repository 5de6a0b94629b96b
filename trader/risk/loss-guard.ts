// Force-close and close-all: a position too far against its entry is closed; when total unrealized PnL falls under the limit every position is closed and the trader goes REDUCING.
import type { LossGuardSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { LogThrottle } from '../../ts/log/log-throttle.js';
import type { Logger } from '../../ts/log/logger.js';
import type { AccountView, MarketData } from '../engine/market-data.js';
import { quoteMid } from '../engine/quote-price.js';
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
  /** The symbol's tick size (exchangeInfo): a bid or ask under one tick is no price. */
  readonly tickSize?: ((symbol: string) => Decimal | undefined) | undefined;
}

const HUNDRED = Decimal.fromInt(100);

/** A refused-quote warning at most once a symbol per this long; `LossGuard.refusedQuotes` counts them all. */
const QUOTE_WARN_INTERVAL_MS = 60_000;

/** The price a position is judged at, and why the book's quote was not it (when it was refused). */
export interface JudgedPrice {
  readonly price: Decimal | undefined;
  readonly quoteRefused: string | undefined;
}

/**
 * The price a position is judged at: the middle of the best bid and ask (the freshest price the
 * trader holds; the exchange's mark price only arrives with position polls) when the quote is sane
 * (`quoteMid`: both sides at least one tick, not crossed, a spread and a distance from the last
 * trade within bounds), else the last trade; no price when neither is usable.
 */
export function judgedPrice(market: MarketData, symbol: string, tickSize?: Decimal): JudgedPrice {
  // A last price of zero (or below) is no price: judged at it, every long would be 100 % against
  // its entry and closed at market, and the total could trip close-all. A garbage quote (a bid of
  // 1e-18 beside a real ask) is the same, though its mid is positive.
  const quoted = market.lastPriceExact(symbol);
  const last = quoted !== undefined && quoted.sign() > 0 ? quoted : undefined;
  const q = market.quote(symbol);
  if (q === undefined) return { price: last, quoteRefused: undefined };
  const mid = quoteMid(q, { tickSize, last });
  if ('mid' in mid) return { price: mid.mid, quoteRefused: undefined };
  return { price: last, quoteRefused: mid.refused };
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
  /** Closes sent per symbol since its close started (the first, then one per `retryMs` while it stays open). */
  readonly #attempts = new Map<string, number>();
  readonly #busySince = new Map<string, number>();
  readonly #quoteWarn = new LogThrottle(QUOTE_WARN_INTERVAL_MS);
  readonly #resendWarn = new LogThrottle(QUOTE_WARN_INTERVAL_MS);
  /** Quotes refused as a price (a side under one tick, crossed, too wide, far from the last trade). */
  refusedQuotes = 0;
  /** Closes sent again because the position stayed open with nothing on its way. */
  resentCloses = 0;
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
    const { account, state, events } = this.#d;
    const open = account.openPositions();
    let unrealized = Decimal.ZERO;
    const unpriced: string[] = [];
    for (const symbol of open) {
      const p = account.position(symbol);
      const price = this.#price(symbol, now);
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

  /** {@link judgedPrice} with the symbol's tick; a refused quote is counted and logged (once a minute a symbol). */
  #price(symbol: string, now: number): Decimal | undefined {
    const judged = judgedPrice(this.#d.market, symbol, this.#d.tickSize?.(symbol));
    if (judged.quoteRefused !== undefined) {
      this.refusedQuotes += 1;
      const suppressed = this.#quoteWarn.allow(symbol, now);
      if (suppressed !== undefined)
        this.#d.logger.warn('quote refused as a price; judged at the last trade, if any', {
          symbol,
          reason: judged.quoteRefused,
          lastTrade: judged.price?.toString() ?? null,
          suppressed,
        });
    }
    return judged.price;
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
        this.#attempts.delete(symbol);
        continue;
      }
      if (flat || !state.allowsReducing() || this.#waitsForOrders(symbol, now)) continue;
      const last = this.#lastSent.get(symbol);
      if (last !== undefined && now - last < this.#d.settings.retryMs) continue;
      this.#lastSent.set(symbol, now);
      const attempt = (this.#attempts.get(symbol) ?? 0) + 1;
      this.#attempts.set(symbol, attempt);
      if (attempt > 1) {
        // Paced by retryMs and kept up while the position is open (giving up would leave the loss
        // open); every resend is counted, logged once a minute a symbol with the attempts so far.
        this.resentCloses += 1;
        const suppressed = this.#resendWarn.allow(symbol, now);
        if (suppressed !== undefined)
          this.#d.logger.warn('close sent again: the position is still open and nothing is on its way', {
            symbol,
            attempt,
            reason,
            suppressed,
          });
      }
      closer.close(symbol, reason);
    }
    for (const symbol of [...this.#busySince.keys()])
      if (!targets.has(symbol)) this.#busySince.delete(symbol);
    for (const symbol of [...this.#attempts.keys()]) if (!targets.has(symbol)) this.#attempts.delete(symbol);
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
