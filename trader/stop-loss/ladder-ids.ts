// Client ids of ladder stops: `sl_<generation>_<rung>` (or `…_<rung>_<part>` for a rung split at maxQty), so the exchange's own list says which ladder and rung every stop is.
import { checkClientOrderId } from '../../ts/exchange/client-order-id.js';

// A rung that fits in one order keeps the id it always had, so stops placed before rungs could be
// split (and every ladder of an ordinary position) read the same.
const PATTERN = /^sl_([0-9a-z]{1,12})_(\d{1,2})(?:_(\d{1,2}))?$/;

/** Which ladder (generation, a base-36 time), rung and part of a split rung a stop belongs to. */
export interface LadderSlot {
  readonly generation: string;
  readonly rung: number;
  /** Which order of a rung split at maxQty, or null for a rung placed as one order. */
  readonly part: number | null;
}

/** The client id of `rung` (its order `part`, when the rung is split) of ladder `generation`. */
export function ladderStopId(generation: string, rung: number, part: number | null = null): string {
  return checkClientOrderId(`sl_${generation}_${rung}${part === null ? '' : `_${part}`}`);
}

/** The ladder slot of a client id, or `undefined` when it is not a ladder stop. */
export function parseLadderStopId(clientAlgoId: string): LadderSlot | undefined {
  const m = PATTERN.exec(clientAlgoId);
  if (m === null) return undefined;
  return { generation: m[1] as string, rung: Number(m[2]), part: m[3] === undefined ? null : Number(m[3]) };
}

/** Generation names increase with time; comparing them orders ladders oldest first. */
export function compareGenerations(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Hands out generation names: base-36 engine milliseconds, strictly increasing. */
export class GenerationClock {
  #last = 0;

  /** Raises the floor to a generation seen on the exchange (after a restart). */
  observe(generation: string): void {
    const n = Number.parseInt(generation, 36);
    if (Number.isSafeInteger(n) && n > this.#last) this.#last = n;
  }

  next(now: number): string {
    this.#last = Math.max(this.#last + 1, Math.floor(now));
    return this.#last.toString(36);
  }
}
