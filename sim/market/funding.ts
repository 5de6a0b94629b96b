// Index price, mark price and the premium-based funding rate of one symbol, with its funding history.
import { Decimal } from '../../ts/exact/decimal.js';
import type { SymbolSpec } from '../contracts.js';
import type { Prng } from './prng.js';

/** Binance's interest rate per 8-hour funding interval (0.01%). */
export const INTEREST_RATE = Decimal.parse('0.00010000');
/** The interest/premium difference is clamped to ±0.05% before it is added to the premium. */
const INTEREST_CLAMP = Decimal.parse('0.0005');
const FUNDING_INTERVAL_MS = 8 * 3600_000;
const RATE_SCALE = 8;
const MILLION = 1_000_000n;
/** How far (parts per million) the index may drift from the book's mid. */
const MAX_BASIS_PPM = 800;

/** The next funding time strictly after `now`: 00:00, 08:00 or 16:00 UTC. */
export function nextFundingTime(now: number): number {
  return (Math.floor(now / FUNDING_INTERVAL_MS) + 1) * FUNDING_INTERVAL_MS;
}

/** One settled funding, as GET /fapi/v1/fundingRate lists it. */
export interface FundingRecord {
  readonly fundingTime: number;
  readonly fundingRate: Decimal;
  readonly markPrice: Decimal;
}

/** The median of three values. */
function median(a: Decimal, b: Decimal, c: Decimal): Decimal {
  return Decimal.max(Decimal.min(a, b), Decimal.min(Decimal.max(a, b), c));
}

/**
 * Funding state of one symbol. The index follows the book's mid with a small mean-reverting basis;
 * each mark tick samples the premium index `(max(0, bid − index) − max(0, index − ask)) / index`;
 * the rate is `P + clamp(I − P, ±0.05%)` over the interval's average premium P, clamped to
 * Binance's cap/floor of ±75% of the maintenance margin ratio; mark price is the median of
 * `index × (1 + rate × time-to-funding share)`, the mid and the last price, on the tick grid.
 */
export class FundingState {
  readonly #spec: SymbolSpec;
  readonly #prng: Prng;
  readonly #cap: Decimal;
  readonly #historyLimit: number;
  #basisPpm: number;
  #premiumSum = Decimal.ZERO;
  #samples = 0;
  nextFundingTime: number;
  readonly history: FundingRecord[] = [];

  constructor(spec: SymbolSpec, prng: Prng, now: number, historyLimit = 1000) {
    this.#spec = spec;
    this.#prng = prng;
    this.#cap = spec.maintMarginRatio.mul(Decimal.parse('0.75')).rescale(RATE_SCALE, 'down');
    this.#historyLimit = historyLimit;
    this.#basisPpm = prng.int(-200, 200);
    this.nextFundingTime = nextFundingTime(now);
  }

  /** The index price for a book mid, at 8 decimals. */
  indexPrice(mid: Decimal): Decimal {
    return mid.mul(Decimal.of(MILLION - BigInt(this.#basisPpm), 6)).rescale(RATE_SCALE);
  }

  /** The current funding rate (the premium average so far), 8 decimals. */
  rate(): Decimal {
    const premium =
      this.#samples === 0 ? Decimal.ZERO : this.#premiumSum.div(Decimal.fromInt(this.#samples), RATE_SCALE);
    const diff = INTEREST_RATE.sub(premium);
    const clamped = Decimal.max(INTEREST_CLAMP.neg(), Decimal.min(INTEREST_CLAMP, diff));
    const raw = premium.add(clamped);
    return Decimal.max(this.#cap.neg(), Decimal.min(this.#cap, raw)).rescale(RATE_SCALE);
  }

  /** Mark price at `now` for the book's touch and the last trade price, snapped to the tick grid. */
  markPrice(bid: Decimal, ask: Decimal, last: Decimal, now: number): Decimal {
    const mid = bid.add(ask).div(Decimal.fromInt(2), this.#spec.tickSize.scale + 1);
    const index = this.indexPrice(mid);
    const remaining = Math.max(0, this.nextFundingTime - now);
    const share = Decimal.fromInt(remaining).div(Decimal.fromInt(FUNDING_INTERVAL_MS), RATE_SCALE);
    const price1 = index.mul(Decimal.ONE.add(this.rate().mul(share)));
    const mark = median(price1, mid, last).snap(this.#spec.tickSize, 'half-even');
    return mark.rescale(Math.max(this.#spec.pricePrecision, this.#spec.tickSize.scale));
  }

  /** One mark tick: moves the basis and samples the premium index against the touch. */
  tick(bid: Decimal, ask: Decimal): void {
    const pull = Math.round(-this.#basisPpm * 0.05);
    this.#basisPpm = Math.max(
      -MAX_BASIS_PPM,
      Math.min(MAX_BASIS_PPM, this.#basisPpm + pull + Math.round(this.#prng.gaussian() * 15)),
    );
    const mid = bid.add(ask).div(Decimal.fromInt(2), this.#spec.tickSize.scale + 1);
    const index = this.indexPrice(mid);
    const above = Decimal.max(Decimal.ZERO, bid.sub(index));
    const below = Decimal.max(Decimal.ZERO, index.sub(ask));
    this.#premiumSum = this.#premiumSum.add(above.sub(below).div(index, RATE_SCALE));
    this.#samples += 1;
  }

  /**
   * Settles every funding time that `now` has reached (bounded, for clock jumps), recording the
   * rate and mark price; returns how many were settled.
   */
  settle(now: number, mark: Decimal): number {
    let settled = 0;
    while (now >= this.nextFundingTime && settled < 3 * 366) {
      this.history.push({ fundingTime: this.nextFundingTime, fundingRate: this.rate(), markPrice: mark });
      if (this.history.length > this.#historyLimit) this.history.shift();
      this.#premiumSum = Decimal.ZERO;
      this.#samples = 0;
      this.nextFundingTime += FUNDING_INTERVAL_MS;
      settled += 1;
    }
    if (now >= this.nextFundingTime) this.nextFundingTime = nextFundingTime(now);
    return settled;
  }
}
