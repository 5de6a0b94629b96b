// Client ids of ladder stops: `sl_<generation>_<rung>`, so the exchange's own list says which ladder and rung every stop is.
import { checkClientOrderId } from '../../ts/exchange/client-order-id.js';

const PATTERN = /^sl_([0-9a-z]{1,12})_(\d{1,2})$/;

/** Which ladder (generation, a base-36 time) and rung a stop belongs to. */
export interface LadderSlot {
  readonly generation: string;
  readonly rung: number;
}

/** The client id of `rung` of ladder `generation`. */
export function ladderStopId(generation: string, rung: number): string {
  return checkClientOrderId(`sl_${generation}_${rung}`);
}

/** The ladder slot of a client id, or `undefined` when it is not a ladder stop. */
export function parseLadderStopId(clientAlgoId: string): LadderSlot | undefined {
  const m = PATTERN.exec(clientAlgoId);
  if (m === null) return undefined;
  return { generation: m[1] as string, rung: Number(m[2]) };
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
