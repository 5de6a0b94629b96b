// Fills resting limit orders and triggers stop orders from kline bars: a klines backtest has no trades for the simulator to match against.
import { Decimal } from '../../ts/exact/decimal.js';
import type { DrivenMarket } from '../venues/driven-market.js';
import type { RestingLimit, SimulatorOpenOrders } from './open-orders.js';

/** A kline's prices as the dump prints them (exact). */
export interface KlinePrices {
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
}

type Side = 'BUY' | 'SELL';

/** What one bar did (for tests and the warning at the end of a run). */
export interface KlineFillStats {
  /** Price levels at which resting orders were filled from a bar. */
  limitLevels: number;
  /** Trades handed to the simulator to trigger waiting stops. */
  stopLevels: number;
  /**
   * Levels left unfilled for a bar because an order placed inside that bar rested at a better price
   * on the same side: the simulator fills by price first, so the fill would have gone to it (a fill
   * from prices it was not there for). They get their chance on the next bar.
   */
  deferredLevels: number;
}

/**
 * The bar fill model of a klines backtest (documented in docs/operations.md, "Klines backtests").
 * A bar is walked open → the extreme nearer the open → the other extreme → close. A limit order
 * fills only from bars that opened at or after it was placed and when the walk trades through its
 * price (a buy when the price goes below it, a sell above it; touching is not enough: a queue at
 * that price may not have reached it), in full, at its own price, as maker: the walk hands the
 * simulator one trade at that price for exactly the quantity resting there, and the simulator's
 * own tape matching books the fill, fee and PnL. A fixed-trigger stop fires where the walk
 * reaches its trigger (the simulator's rule: touching fires), or at the open when the bar opens
 * beyond it; its market order then takes the simulator's book at that price.
 */
export class KlineFills {
  readonly #market: DrivenMarket;
  readonly #orders: SimulatorOpenOrders;
  readonly stats: KlineFillStats = { limitLevels: 0, stopLevels: 0, deferredLevels: 0 };

  /** `orders` follows the simulator's user events (the caller feeds it, before this walks a bar). */
  constructor(market: DrivenMarket, orders: SimulatorOpenOrders) {
    this.#market = market;
    this.#orders = orders;
  }

  /**
   * Walks one bar of `symbol` that opened at `openTime`, handing the simulator a trade (stamped
   * `time`, the engine's time: the bar's close) at each price where something fills or fires;
   * `settle` runs after each (the trader reacts to a fill or a triggered stop before the walk goes
   * on). The caller sets the touch to the close afterwards.
   */
  async replay(
    symbol: string,
    bar: KlinePrices,
    openTime: number,
    time: number,
    settle: () => Promise<void>,
  ): Promise<void> {
    if (!this.#orders.watches(symbol)) return;
    const open = Decimal.parse(bar.open);
    const high = Decimal.parse(bar.high);
    const low = Decimal.parse(bar.low);
    const close = Decimal.parse(bar.close);
    // The extreme nearer the open is taken to come first (a tie: the low first).
    const highFirst = high.sub(open).lt(open.sub(low));
    const path = highFirst ? [open, high, low, close] : [open, low, high, close];
    // A bar that opens beyond a price: what rests there fills, what waits there fires, at the open.
    await this.#gap(symbol, open, openTime, time, settle);
    for (let i = 0; i + 1 < path.length; i++) {
      const from = path[i] as Decimal;
      const to = path[i + 1] as Decimal;
      if (!from.eq(to)) await this.#segment(symbol, from, to, openTime, time, settle);
    }
  }

  async #gap(
    symbol: string,
    open: Decimal,
    openTime: number,
    time: number,
    settle: () => Promise<void>,
  ): Promise<void> {
    for (const side of ['BUY', 'SELL'] as const) {
      const through = this.#eligible(symbol, side, openTime).filter((o) =>
        side === 'BUY' ? o.price.gt(open) : o.price.lt(open),
      );
      if (through.length === 0) continue;
      // One trade at the open: the simulator gives it to the best prices first, all of which are through.
      if (this.#blocked(symbol, side, openTime, through)) continue;
      this.#publish(symbol, open, remaining(through), side === 'BUY', time);
      this.stats.limitLevels += 1;
      await settle();
    }
    for (const rising of [false, true]) {
      const fires = [...this.#orders.stops(symbol)].some(
        (s) => s.rising === rising && (rising ? open.gte(s.trigger) : open.lte(s.trigger)),
      );
      if (!fires) continue;
      // A falling stop's market sell then meets a bid at the open, a rising one's buy an ask there.
      this.#publish(symbol, open, Decimal.ZERO, !rising, time);
      this.stats.stopLevels += 1;
      await settle();
    }
  }

  /** One leg of the walk from `from` to `to` (not equal): every level it passes, in the order passed. */
  async #segment(
    symbol: string,
    from: Decimal,
    to: Decimal,
    openTime: number,
    time: number,
    settle: () => Promise<void>,
  ): Promise<void> {
    const falling = to.lt(from);
    // Falling, buys fill below their price and falling triggers fire; rising, the mirror.
    const side: Side = falling ? 'BUY' : 'SELL';
    const passes = (p: Decimal) => (falling ? p.gt(to) && p.lte(from) : p.lt(to) && p.gte(from));
    const reaches = (p: Decimal) => (falling ? p.gte(to) && p.lte(from) : p.lte(to) && p.gte(from));
    const levels: Decimal[] = [];
    for (const o of this.#eligible(symbol, side, openTime)) if (passes(o.price)) levels.push(o.price);
    for (const s of this.#orders.stops(symbol))
      if (s.rising !== falling && reaches(s.trigger)) levels.push(s.trigger);
    levels.sort((a, b) => (falling ? b.cmp(a) : a.cmp(b)));
    let previous: Decimal | undefined;
    for (const level of levels) {
      if (previous?.eq(level)) continue;
      previous = level;
      // Read again at each level: a fill or a stop before it may have closed, expired or placed orders.
      const here = this.#eligible(symbol, side, openTime).filter((o) => o.price.eq(level) && passes(level));
      const firing = [...this.#orders.stops(symbol)].some((s) => s.rising !== falling && s.trigger.eq(level));
      if (here.length > 0 && this.#blocked(symbol, side, openTime, here)) {
        if (!firing) continue;
        this.#publish(symbol, level, Decimal.ZERO, falling, time);
        this.stats.stopLevels += 1;
      } else if (here.length > 0) {
        this.#publish(symbol, level, remaining(here), falling, time);
        this.stats.limitLevels += 1;
        if (firing) this.stats.stopLevels += 1;
      } else if (firing) {
        this.#publish(symbol, level, Decimal.ZERO, falling, time);
        this.stats.stopLevels += 1;
      } else continue;
      await settle();
    }
  }

  /** Limits of `symbol` on `side` with quantity left, placed no later than the bar opened. */
  #eligible(symbol: string, side: Side, openTime: number): RestingLimit[] {
    return [...this.#orders.limits(symbol)].filter(
      (o) => o.side === side && o.placedAt <= openTime && o.quantity.gt(o.filled),
    );
  }

  /**
   * Whether an order placed inside the bar rests on `side` at a better price than some of `fill`:
   * the simulator would hand the trade to it first. The level waits for the next bar (counted).
   */
  #blocked(symbol: string, side: Side, openTime: number, fill: readonly RestingLimit[]): boolean {
    const worst = fill.reduce(
      (w, o) => (side === 'BUY' ? Decimal.min(w, o.price) : Decimal.max(w, o.price)),
      (fill[0] as RestingLimit).price,
    );
    for (const o of this.#orders.limits(symbol)) {
      if (o.side !== side || o.placedAt <= openTime || !o.quantity.gt(o.filled)) continue;
      if (side === 'BUY' ? o.price.gt(worst) : o.price.lt(worst)) {
        this.stats.deferredLevels += 1;
        return true;
      }
    }
    return false;
  }

  /** A public trade at `price`: a taker sell fills resting buys at or above it, a taker buy sells at or below. */
  #publish(symbol: string, price: Decimal, qty: Decimal, takerSold: boolean, time: number): void {
    this.#market.publishTrade(symbol, price.toString(), qty.toString(), takerSold, time);
  }
}

/** Σ quantity left of `orders`. */
function remaining(orders: readonly RestingLimit[]): Decimal {
  return orders.reduce((sum, o) => sum.add(o.quantity.sub(o.filled)), Decimal.ZERO);
}
