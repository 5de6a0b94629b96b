// Seed 004's Bollinger state machine, exactly as its document lists it: breakout, fall-back, reverse, stops.

/** Where a symbol is in the seed's cycle (the position is part of the state). */
export type BollingerState =
  /** Nothing seen yet. */
  | 'WAIT'
  /** Flat; price went above UP (突破 UP): a fall back to UP opens a short. */
  | 'BROKE_UP'
  /** Flat; price went below DN (跌破 DN): a rebound to DN opens a long. */
  | 'BROKE_DN'
  /** Short (持有空仓). */
  | 'SHORT'
  /** Short, and price went below DN: a rebound to DN takes profit and opens a long. */
  | 'SHORT_BROKE_DN'
  /** Long (持有多仓). */
  | 'LONG'
  /** Long, and price went above UP: a fall back to UP takes profit and opens a short. */
  | 'LONG_BROKE_UP';

/** What to hold after a step: +1 long, −1 short, 0 flat; `undefined` leaves the position as it is. */
export interface BollingerStep {
  readonly state: BollingerState;
  readonly target: -1 | 0 | 1 | undefined;
  /** The seed's words for the transition, for logs and the report. */
  readonly action: string | undefined;
}

/**
 * One step of the machine for the real-time price against the real-time bands (UP, DN):
 *
 * - price above UP: flat → BROKE_UP; short → stop-loss (buy back), BROKE_UP; long → LONG_BROKE_UP.
 * - price below DN: flat → BROKE_DN; long → stop-loss (sell), BROKE_DN; short → SHORT_BROKE_DN.
 * - BROKE_UP and price back at or below UP → sell short, SHORT.
 * - BROKE_DN and price back at or above DN → buy long, LONG.
 * - LONG_BROKE_UP and price back at or below UP → take profit on the long and sell short, SHORT.
 * - SHORT_BROKE_DN and price back at or above DN → take profit on the short and buy long, LONG.
 */
export function bollingerStep(state: BollingerState, price: number, up: number, dn: number): BollingerStep {
  const stay = { state, target: undefined, action: undefined } as const;
  if (price > up) {
    switch (state) {
      case 'WAIT':
      case 'BROKE_DN':
        return { state: 'BROKE_UP', target: undefined, action: 'broke above UP' };
      case 'SHORT':
      case 'SHORT_BROKE_DN':
        return { state: 'BROKE_UP', target: 0, action: 'short stopped out: above UP again' };
      case 'LONG':
        return { state: 'LONG_BROKE_UP', target: undefined, action: 'long: broke above UP' };
      default:
        return stay;
    }
  }
  if (price < dn) {
    switch (state) {
      case 'WAIT':
      case 'BROKE_UP':
        return { state: 'BROKE_DN', target: undefined, action: 'broke below DN' };
      case 'LONG':
      case 'LONG_BROKE_UP':
        return { state: 'BROKE_DN', target: 0, action: 'long stopped out: below DN' };
      case 'SHORT':
        return { state: 'SHORT_BROKE_DN', target: undefined, action: 'short: broke below DN' };
      default:
        return stay;
    }
  }
  // Inside the bands (UP and DN included): the fall-backs and rebounds.
  switch (state) {
    case 'BROKE_UP':
      return { state: 'SHORT', target: -1, action: 'fell back to UP: sell short' };
    case 'BROKE_DN':
      return { state: 'LONG', target: 1, action: 'rebounded to DN: buy long' };
    case 'LONG_BROKE_UP':
      return { state: 'SHORT', target: -1, action: 'fell back to UP: take profit on the long, sell short' };
    case 'SHORT_BROKE_DN':
      return { state: 'LONG', target: 1, action: 'rebounded to DN: take profit on the short, buy long' };
    default:
      return stay;
  }
}

/** Mean and population standard deviation (ddof 0) of `values`. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += ((values[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}
