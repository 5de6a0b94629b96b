// What the trader knows of each symbol's ladder stops between reads of the exchange: the last read, its own placements and cancels, and ALGO_UPDATE events.
import type { Decimal } from '../../ts/exact/decimal.js';
import { coverage } from './ladder-decision.js';
import { parseLadderStopId } from './ladder-ids.js';
import { isWaiting, type StopOrder } from './stop-orders.js';

/**
 * The waiting ladder stops of every symbol as last known. It is a cache, never the authority:
 * every decision to place or cancel first reads the exchange's list (`replace`), and a restart
 * starts from the exchange's list. Between reads it follows our own actions and the exchange's
 * ALGO_UPDATE events, which is what the coverage watch needs.
 */
export class KnownStops {
  readonly #bySymbol = new Map<string, Map<string, StopOrder>>();
  readonly #lastTrigger = new Map<string, number>();

  /** Symbols with at least one known waiting stop. */
  symbols(): string[] {
    return [...this.#bySymbol.keys()];
  }

  /** The waiting ladder stops of `symbol`. */
  of(symbol: string): StopOrder[] {
    return [...(this.#bySymbol.get(symbol)?.values() ?? [])];
  }

  /** Replaces what is known of `symbol` with the exchange's list (only ladder stops are kept). */
  replace(symbol: string, listed: readonly StopOrder[]): StopOrder[] {
    const map = new Map<string, StopOrder>();
    for (const s of listed) {
      if (s.symbol === symbol && isWaiting(s.status) && parseLadderStopId(s.clientAlgoId) !== undefined)
        map.set(s.clientAlgoId, s);
    }
    if (map.size === 0) this.#bySymbol.delete(symbol);
    else this.#bySymbol.set(symbol, map);
    return [...map.values()];
  }

  /** A stop as placed, or as an event reports it; one that no longer waits is forgotten. */
  update(stop: StopOrder, now: number): void {
    if (parseLadderStopId(stop.clientAlgoId) === undefined) return;
    if (stop.status === 'TRIGGERING' || stop.status === 'TRIGGERED' || stop.status === 'FINISHED')
      this.#lastTrigger.set(stop.symbol, now);
    const map = this.#bySymbol.get(stop.symbol) ?? new Map<string, StopOrder>();
    if (isWaiting(stop.status)) map.set(stop.clientAlgoId, stop);
    else map.delete(stop.clientAlgoId);
    if (map.size === 0) this.#bySymbol.delete(stop.symbol);
    else this.#bySymbol.set(stop.symbol, map);
  }

  /** A stop we cancelled (or found gone). */
  remove(symbol: string, clientAlgoId: string): void {
    const map = this.#bySymbol.get(symbol);
    map?.delete(clientAlgoId);
    if (map?.size === 0) this.#bySymbol.delete(symbol);
  }

  /** When a ladder stop of `symbol` last triggered, as far as events told. */
  lastTriggerAt(symbol: string): number | undefined {
    return this.#lastTrigger.get(symbol);
  }

  /** The quantity the known stops of `symbol` would close of a position of `amount`. */
  covered(symbol: string, amount: Decimal): Decimal {
    return coverage(this.of(symbol), amount);
  }
}
