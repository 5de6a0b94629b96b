// The random-walk trade generator of one symbol: heavy-tailed sizes at the touch, a moving touch.
import { Decimal } from '../../ts/exact/decimal.js';
import type { SymbolSpec } from '../contracts.js';
import type { Prng } from './prng.js';
import type { SyntheticBook } from './synthetic-book.js';

/** Annualised volatility the walk aims for. */
const ANNUAL_VOLATILITY = 0.6;
const SECONDS_PER_YEAR = 365 * 24 * 3600;
/** Typical taker order notional in USDT; sizes are whole multiples of it (at least minQty). */
const BASE_NOTIONAL = Decimal.fromInt(20);
/** Pareto tail index of the size multiple: most trades are small, a few are very large. */
const SIZE_TAIL = 1.3;

/** One generated trade, before the market gives it ids and a time. */
export interface WalkTrade {
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly buyerIsMaker: boolean;
  /** Underlying trades (maker orders hit) aggregated into this one. */
  readonly fills: number;
}

/**
 * Makes trades for one symbol: the taker side is a coin flip, the trade happens at the touch, and
 * then the touch moves by a Gaussian number of ticks scaled to {@link ANNUAL_VOLATILITY} at the
 * configured trade rate, with a spread of 1–3 ticks. All draws come from the symbol's own PRNG.
 */
export class RandomWalk {
  readonly #spec: SymbolSpec;
  readonly #prng: Prng;
  readonly #book: SyntheticBook;
  readonly #sigmaTicks: number;
  readonly #baseSteps: bigint;
  readonly #maxSteps: bigint;

  /** Steps in the walk's base trade size (`BASE_NOTIONAL` at the start price, at least `minQty`). */
  static baseSteps(spec: SymbolSpec): bigint {
    const base = BASE_NOTIONAL.div(spec.initialPrice, spec.stepSize.scale + 2, 'ceil').snap(
      spec.stepSize,
      'ceil',
    );
    return Decimal.max(base, spec.minQty).div(spec.stepSize, 0, 'ceil').mantissa;
  }

  constructor(spec: SymbolSpec, prng: Prng, book: SyntheticBook, tradesPerSecond: number) {
    this.#spec = spec;
    this.#prng = prng;
    this.#book = book;
    const perTrade = ANNUAL_VOLATILITY / Math.sqrt(SECONDS_PER_YEAR * tradesPerSecond);
    // A float is fine here: it only scales random tick counts, every price stays an exact multiple of the tick.
    this.#sigmaTicks = (spec.initialPrice.toNumber() * perTrade) / spec.tickSize.toNumber();
    this.#baseSteps = RandomWalk.baseSteps(spec);
    const cap = spec.marketMaxQty.div(Decimal.fromInt(10), spec.stepSize.scale, 'floor');
    this.#maxSteps = Decimal.max(cap.div(spec.stepSize, 0, 'floor'), Decimal.ONE).mantissa;
  }

  /** The next trade at the current touch; moves the touch afterwards. */
  next(time: number): WalkTrade {
    const takerSold = this.#prng.chance(0.5);
    const book = this.#book;
    const price = book.price(takerSold ? book.bidTicks : book.askTicks);
    const multiple = Math.min(1e6, Math.floor((1 - this.#prng.next()) ** (-1 / SIZE_TAIL)));
    let steps = this.#baseSteps * BigInt(Math.max(1, multiple));
    if (steps > this.#maxSteps) steps = this.#maxSteps;
    const qty = Decimal.of(steps * this.#spec.stepSize.mantissa, this.#spec.stepSize.scale).rescale(
      Math.max(this.#spec.quantityPrecision, this.#spec.stepSize.scale),
    );
    const fills = 1 + Math.min(9, Math.floor(Math.log2(Math.max(1, multiple))));
    const move = Math.round(this.#prng.gaussian() * this.#sigmaTicks);
    const roll = this.#prng.next();
    const spread = roll < 0.7 ? 1 : roll < 0.9 ? 2 : 3;
    const bid = book.bidTicks + move;
    book.setTouch(bid, bid + spread, time);
    return { price, qty, buyerIsMaker: takerSold, fills };
  }
}
