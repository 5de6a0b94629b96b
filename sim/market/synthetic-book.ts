// A synthetic order book for one symbol that follows the market's touch, with sizes growing away from it.
import { Decimal } from '../../ts/exact/decimal.js';
import type { BookLevel, SymbolSpec } from '../contracts.js';
import { mixHash } from './prng.js';

/** Notional (USDT) of one size unit at the touch; deeper levels hold whole multiples of it. */
const LEVEL_UNIT_NOTIONAL = Decimal.fromInt(2000);

/** Distance in ticks of level `i` from the touch: one tick apart near it, wider further out. */
export function levelOffset(i: number): number {
  return i + Math.floor((i * i) / 400);
}

/**
 * The book of one symbol in integer ticks: best bid and ask, an update id that grows with every
 * change and the exchange time of the last change. Levels are computed on request from the touch,
 * each level's size from a hash of its price, so a level keeps its size while the book moves past.
 */
export class SyntheticBook {
  readonly spec: SymbolSpec;
  readonly #salt: number;
  readonly #unitSteps: bigint;
  readonly #minTicks: number;
  readonly #maxTicks: number;
  bidTicks: number;
  askTicks: number;
  updateId: number;
  /** Exchange time of the last change, Unix ms. */
  time: number;

  constructor(spec: SymbolSpec, salt: number, now: number, firstUpdateId: number) {
    this.spec = spec;
    this.#salt = salt;
    const unit = LEVEL_UNIT_NOTIONAL.div(spec.initialPrice, spec.stepSize.scale + 2, 'ceil').snap(
      spec.stepSize,
      'ceil',
    );
    this.#unitSteps = Decimal.max(unit, spec.minQty).div(spec.stepSize, 0, 'ceil').mantissa;
    this.#minTicks = Number(spec.minPrice.div(spec.tickSize, 0, 'ceil').mantissa);
    this.#maxTicks = Number(spec.maxPrice.div(spec.tickSize, 0, 'floor').mantissa);
    const start = this.ticksOf(spec.initialPrice);
    this.bidTicks = start;
    this.askTicks = start + 1;
    this.updateId = firstUpdateId;
    this.time = now;
  }

  /** The price `ticks` ticks above zero, at the symbol's price precision. */
  price(ticks: number): Decimal {
    return Decimal.of(BigInt(ticks) * this.spec.tickSize.mantissa, this.spec.tickSize.scale).rescale(
      Math.max(this.spec.pricePrecision, this.spec.tickSize.scale),
    );
  }

  /** Whole ticks in `price` (rounded down onto the grid). */
  ticksOf(price: Decimal): number {
    return Number(price.div(this.spec.tickSize, 0, 'floor').mantissa);
  }

  /** Moves the touch (kept inside PRICE_FILTER, ask above bid) and counts an update. */
  setTouch(bidTicks: number, askTicks: number, time: number): void {
    const bid = Math.min(Math.max(bidTicks, this.#minTicks), this.#maxTicks - 1);
    const ask = Math.min(Math.max(askTicks, bid + 1), this.#maxTicks);
    this.bidTicks = bid;
    this.askTicks = ask;
    this.updateId += 1;
    this.time = Math.max(this.time, time);
  }

  /** Sets the touch around a traded price: the taker bought at the ask or sold at the bid. */
  touchAt(price: Decimal, takerSold: boolean, spreadTicks: number, time: number): void {
    const ticks = takerSold ? this.ticksOf(price) : this.ticksOf(price.snap(this.spec.tickSize, 'ceil'));
    if (takerSold) this.setTouch(ticks, ticks + spreadTicks, time);
    else this.setTouch(ticks - spreadTicks, ticks, time);
  }

  /** Quantity of the level at `ticks` that is `depth` levels from the touch. */
  #qty(ticks: number, depth: number): Decimal {
    const jitter = BigInt(1 + (mixHash(this.#salt, ticks) % 4));
    const growth = BigInt(1 + Math.floor(depth / 4));
    const steps = this.#unitSteps * jitter * growth;
    return Decimal.of(steps * this.spec.stepSize.mantissa, this.spec.stepSize.scale).rescale(
      Math.max(this.spec.quantityPrecision, this.spec.stepSize.scale),
    );
  }

  /** The best `levels` levels of each side, best first. */
  levels(levels: number): { bids: BookLevel[]; asks: BookLevel[] } {
    const bids: BookLevel[] = [];
    const asks: BookLevel[] = [];
    for (let i = 0; i < levels; i++) {
      const bid = this.bidTicks - levelOffset(i);
      if (bid >= this.#minTicks) bids.push({ price: this.price(bid), qty: this.#qty(bid, i) });
      const ask = this.askTicks + levelOffset(i);
      if (ask <= this.#maxTicks) asks.push({ price: this.price(ask), qty: this.#qty(ask, i) });
    }
    return { bids, asks };
  }

  /** Mid price (may sit half a tick off the grid), exact. */
  mid(): Decimal {
    return this.price(this.bidTicks)
      .add(this.price(this.askTicks))
      .div(Decimal.fromInt(2), this.spec.tickSize.scale + 1);
  }
}
