// A synthetic order book for one symbol: a level on every tick near the touch, sizes fixed per price.
import { Decimal } from '../../ts/exact/decimal.js';
import type { BookLevel, SymbolSpec } from '../contracts.js';
import { mixHash } from './prng.js';

/** Notional (USDT) of one size unit; a level holds 1–4 units (a few hold 8 times more: walls). */
const LEVEL_UNIT_NOTIONAL = Decimal.fromInt(2000);
/** Levels on each side: the deepest REST depth Binance serves. */
export const BOOK_DEPTH = 1000;

/** A change of one price level as a diff depth event lists it: `qty` 0 removes the level. */
export interface LevelChange {
  readonly ticks: number;
  readonly steps: number;
}

/** Where the book was: enough to compute what changed since (see {@link SyntheticBook.diffSince}). */
export interface BookMark {
  readonly bidTicks: number;
  readonly askTicks: number;
  readonly updateId: number;
}

/**
 * The book of one symbol in integer ticks: best bid and ask, an update id that grows with every
 * change and the exchange time of the last change. The book has a level on every tick from the
 * touch outward, {@link BOOK_DEPTH} deep (inside PRICE_FILTER); a level's size is a hash of its
 * price, so it keeps its size while the touch moves past it. A change of the touch therefore
 * changes exactly the levels it uncovers, crosses or pushes out of the depth window, which is what
 * a diff depth event reports, so a client that keeps a local book from the diffs stays equal to it.
 */
export class SyntheticBook {
  readonly spec: SymbolSpec;
  readonly #salt: number;
  readonly #unitSteps: number;
  readonly #minTicks: number;
  readonly #maxTicks: number;
  readonly #priceScale: number;
  readonly #qtyScale: number;
  bidTicks: number;
  askTicks: number;
  updateId: number;
  /** Exchange time of the last change, Unix ms. */
  time: number;

  constructor(
    spec: SymbolSpec,
    salt: number,
    now: number,
    firstUpdateId: number,
    startPrice = spec.initialPrice,
  ) {
    this.spec = spec;
    this.#salt = salt;
    const unit = LEVEL_UNIT_NOTIONAL.div(startPrice, spec.stepSize.scale + 2, 'ceil').snap(
      spec.stepSize,
      'ceil',
    );
    this.#unitSteps = Number(Decimal.max(unit, spec.minQty).div(spec.stepSize, 0, 'ceil').mantissa);
    this.#minTicks = Number(spec.minPrice.div(spec.tickSize, 0, 'ceil').mantissa);
    this.#maxTicks = Number(spec.maxPrice.div(spec.tickSize, 0, 'floor').mantissa);
    this.#priceScale = Math.max(spec.pricePrecision, spec.tickSize.scale);
    this.#qtyScale = Math.max(spec.quantityPrecision, spec.stepSize.scale);
    const start = this.ticksOf(startPrice);
    this.bidTicks = start;
    this.askTicks = start + 1;
    this.updateId = firstUpdateId;
    this.time = now;
  }

  /** The price `ticks` ticks above zero, at the symbol's price precision. */
  price(ticks: number): Decimal {
    return Decimal.of(BigInt(ticks) * this.spec.tickSize.mantissa, this.spec.tickSize.scale).rescale(
      this.#priceScale,
    );
  }

  /** A quantity of `steps` steps, at the symbol's quantity precision. */
  qty(steps: number): Decimal {
    return Decimal.of(BigInt(steps) * this.spec.stepSize.mantissa, this.spec.stepSize.scale).rescale(
      this.#qtyScale,
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

  /** Steps resting at `ticks` (the same on either side). */
  stepsAt(ticks: number): number {
    const h = mixHash(this.#salt, ticks);
    const wall = h % 53 === 0 ? 8 : 1;
    return this.#unitSteps * (1 + ((h >>> 8) % 4)) * wall;
  }

  /** The best `levels` levels of each side (at most {@link BOOK_DEPTH}), best first. */
  levels(levels: number): { bids: BookLevel[]; asks: BookLevel[] } {
    const n = Math.min(Math.max(0, levels), BOOK_DEPTH);
    const bids: BookLevel[] = [];
    const asks: BookLevel[] = [];
    for (let i = 0; i < n; i++) {
      const bid = this.bidTicks - i;
      if (bid >= this.#minTicks) bids.push({ price: this.price(bid), qty: this.qty(this.stepsAt(bid)) });
      const ask = this.askTicks + i;
      if (ask <= this.#maxTicks) asks.push({ price: this.price(ask), qty: this.qty(this.stepsAt(ask)) });
    }
    return { bids, asks };
  }

  /** Where the book is now (for a later {@link diffSince}). */
  mark(): BookMark {
    return { bidTicks: this.bidTicks, askTicks: this.askTicks, updateId: this.updateId };
  }

  /**
   * The level changes from `before` to now: every level that entered or left each side's depth
   * window with its current size (0 when it left), bids best first, asks best first.
   */
  diffSince(before: BookMark): { bids: LevelChange[]; asks: LevelChange[] } {
    const bids = this.#sideDiff(
      [Math.max(this.#minTicks, before.bidTicks - BOOK_DEPTH + 1), before.bidTicks],
      [Math.max(this.#minTicks, this.bidTicks - BOOK_DEPTH + 1), this.bidTicks],
    ).sort((x, y) => y.ticks - x.ticks);
    const asks = this.#sideDiff(
      [before.askTicks, Math.min(this.#maxTicks, before.askTicks + BOOK_DEPTH - 1)],
      [this.askTicks, Math.min(this.#maxTicks, this.askTicks + BOOK_DEPTH - 1)],
    ).sort((x, y) => x.ticks - y.ticks);
    return { bids, asks };
  }

  /** Levels in `now` but not `was` (with their sizes) and in `was` but not `now` (size 0). */
  #sideDiff(was: readonly [number, number], now: readonly [number, number]): LevelChange[] {
    const out: LevelChange[] = [];
    const [a0, a1] = was;
    const [b0, b1] = now;
    // now \ was: below was, then above it.
    for (let t = b0; t <= Math.min(b1, a0 - 1); t++) out.push({ ticks: t, steps: this.stepsAt(t) });
    for (let t = Math.max(b0, a1 + 1); t <= b1; t++) out.push({ ticks: t, steps: this.stepsAt(t) });
    // was \ now: gone.
    for (let t = a0; t <= Math.min(a1, b0 - 1); t++) out.push({ ticks: t, steps: 0 });
    for (let t = Math.max(a0, b1 + 1); t <= a1; t++) out.push({ ticks: t, steps: 0 });
    return out;
  }

  /** Mid price (may sit half a tick off the grid), exact. */
  mid(): Decimal {
    return this.price(this.bidTicks)
      .add(this.price(this.askTicks))
      .div(Decimal.fromInt(2), this.spec.tickSize.scale + 1);
  }
}
