// The conditional orders waiting on the backtest's simulator, per symbol: which recorded trades could fire one.
import type { UserEventObject } from '../../ts/native/parse.js';

/** Conditional types with a fixed trigger (a trailing stop's moves and is left to the simulator). */
const FIXED_TRIGGER = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET']);

interface Waiting {
  readonly symbol: string;
  readonly trigger: number;
  /** Fires when the price rises to the trigger (a buy stop, a sell take-profit); else when it falls to it. */
  readonly rising: boolean;
}

/** The nearest triggers of a symbol's waiting orders. */
interface Bounds {
  /** The highest trigger that fires on a fall (−Infinity: none). */
  below: number;
  /** The lowest trigger that fires on a rise (Infinity: none). */
  above: number;
}

/**
 * Follows the simulator's ALGO_UPDATEs. An aggTrades replay hands the simulator a trade only where
 * it must (resting limit orders, a trade that reaches a waiting trigger): the rest only moves the
 * touch, which is much cheaper. {@link reached} says which trades reach a trigger, on numbers (a
 * price of at most 15 significant digits keeps its order as a double); the simulator judges the
 * trade itself exactly. A trade that reaches one fires it where the exchange would (touching fires).
 */
export class WaitingStops {
  readonly #orders = new Map<string, Waiting>();
  readonly #bounds = new Map<string, Bounds>();

  onUserEvent(event: UserEventObject): void {
    const a = event.algoUpdate;
    if (a === undefined) return;
    const known = this.#orders.get(a.clientAlgoId);
    if (a.status === 'NEW' && FIXED_TRIGGER.has(a.orderType) && a.triggerPrice !== undefined) {
      const stop = a.orderType === 'STOP' || a.orderType === 'STOP_MARKET';
      this.#orders.set(a.clientAlgoId, {
        symbol: a.symbol,
        trigger: Number(a.triggerPrice),
        rising: stop === (a.side === 'BUY'),
      });
      this.#recompute(a.symbol);
    } else if (known !== undefined) {
      this.#orders.delete(a.clientAlgoId);
      this.#recompute(known.symbol);
    }
  }

  /** Whether `symbol` has a conditional order waiting. */
  waits(symbol: string): boolean {
    return this.#bounds.has(symbol);
  }

  /** Whether a trade of `symbol` at `price` reaches a waiting trigger. */
  reached(symbol: string, price: string): boolean {
    const b = this.#bounds.get(symbol);
    if (b === undefined) return false;
    const p = Number(price);
    return p <= b.below || p >= b.above;
  }

  #recompute(symbol: string): void {
    const b: Bounds = { below: Number.NEGATIVE_INFINITY, above: Number.POSITIVE_INFINITY };
    let any = false;
    for (const o of this.#orders.values()) {
      if (o.symbol !== symbol) continue;
      any = true;
      if (o.rising) b.above = Math.min(b.above, o.trigger);
      else b.below = Math.max(b.below, o.trigger);
    }
    if (any) this.#bounds.set(symbol, b);
    else this.#bounds.delete(symbol);
  }
}
