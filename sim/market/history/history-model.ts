// A symbol's deterministic past: months down to minutes down to aggTrades, generated on demand.
import { Decimal } from '../../../ts/exact/decimal.js';
import type { SymbolSpec } from '../../contracts.js';
import type { IntBar } from '../int-bar.js';
import {
  type HistNode,
  type HistoryShape,
  keyedPrng,
  MIN_AGG_PER_SIDE_PER_MINUTE,
  MINUTE_MS,
  minutesOf,
  quoteMargin,
  splitNode,
} from './history-node.js';
import { type HistTrade, minuteTrades } from './minute-trades.js';
import type { NodeCache } from './node-cache.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const FUNDING_MS = 8 * HOUR_MS;
/** Child length of each level: a month splits into days, a day into 2 h, … a quarter into minutes. */
const CHILD_MS = [DAY_MS, 2 * HOUR_MS, HOUR_MS, 15 * MINUTE_MS, MINUTE_MS] as const;
/** Level of minute nodes (months are level 0). */
export const MINUTE_LEVEL = CHILD_MS.length;
/** Cache level of a month node itself (levels 0..4 hold the children of split nodes). */
const MONTH_KEY_LEVEL = 7;
/** How strongly a month's log price is pulled back toward the start price (per month, backwards). */
const MEAN_REVERSION = 0.7;

/** A settled funding of the past, as GET /fapi/v1/fundingRate lists it. */
export interface HistoryFunding {
  readonly fundingTime: number;
  readonly fundingRate: Decimal;
  readonly markPrice: Decimal;
}

/** How a symbol's history is made. */
export interface HistoryModelOptions {
  readonly spec: SymbolSpec;
  /** The symbol's own seed (derived from the market seed and the symbol). */
  readonly seed: number;
  /** The symbol's index in the market (its part of the shared cache's keys), below 2,048. */
  readonly index: number;
  /** First month start of the history (UTC month boundary). */
  readonly startTime: number;
  /** Where the history ends and the live market begins (a minute boundary). */
  readonly endTime: number;
  /** Price at the end, in ticks: the live market starts from it. */
  readonly endTicks: number;
  /** Ids the live market continues with: the history's ids end just below them. */
  readonly liveFirstAggId: number;
  readonly liveFirstTradeId: number;
  readonly aggPerMinute: number;
  /** Mean aggTrade size in steps and mean underlying trades per aggTrade (≥ 1). */
  readonly meanTradeSteps: number;
  readonly fillsPerAgg: number;
  readonly annualVolatility: number;
  readonly cache: NodeCache;
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(value, high));
}

function monthIndex(time: number): number {
  const d = new Date(time);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function monthStartOfIndex(index: number): number {
  return Date.UTC(Math.floor(index / 12), index % 12, 1);
}

/**
 * The generated past of one symbol, from `startTime` to `endTime`. Months form a chain built
 * backwards from the end price (a mean-reverting walk, so centuries stay within a sane range);
 * each node splits into children on demand (`splitNode`), cached in a shared bounded cache;
 * a minute's aggTrades come from its node (`minuteTrades`). Everything is a pure function of the
 * seed and the position, so any bar or trade can be asked for at any time and is always the same,
 * and the whole tree adds up exactly: a month's kline equals the sum of its minutes and of its
 * aggTrades. Only three numbers per month are kept (close, first ids).
 */
export class HistoryModel {
  readonly start: number;
  readonly end: number;
  readonly #options: HistoryModelOptions;
  readonly #shape: HistoryShape;
  readonly #index: number;
  readonly #lastMonth: number;
  readonly #firstMonth: number;
  /** Chain, newest month first: close ticks and first ids of month j (j = 0 is the newest). */
  readonly #closes: number[] = [];
  readonly #firstAgg: number[] = [];
  readonly #firstTrade: number[] = [];
  /** Months back from the newest the chain can reach (ids run out before `startTime` if too few). */
  #months: number;

  constructor(options: HistoryModelOptions) {
    if (options.endTime % MINUTE_MS !== 0) throw new RangeError('history must end on a minute boundary');
    this.#options = options;
    const spec = options.spec;
    const tick = spec.tickSize;
    const minTick = Math.max(1, Number(spec.minPrice.div(tick, 0, 'ceil').mantissa));
    const maxTick = Number(spec.maxPrice.div(tick, 0, 'floor').mantissa);
    this.#shape = {
      seed: options.seed,
      sigmaPerMinute: options.annualVolatility / Math.sqrt(365 * 24 * 60),
      minTick: Math.max(minTick, Math.floor(options.endTicks / 20)),
      maxTick: Math.min(maxTick, options.endTicks * 20),
    };
    if (!Number.isInteger(options.index) || options.index < 0 || options.index >= 2048) {
      throw new RangeError(`history index ${options.index} must be 0..2047`);
    }
    this.#index = options.index;
    this.#lastMonth = monthIndex(options.endTime - 1);
    this.#firstMonth = monthIndex(options.startTime);
    this.#months = Math.max(0, this.#lastMonth - this.#firstMonth + 1);
    this.end = options.endTime;
    this.#closes.push(options.endTicks);
    this.#firstAgg.push(0);
    this.#firstTrade.push(0);
    this.start = this.#months === 0 ? this.end : monthStartOfIndex(this.#firstMonth);
  }

  /** Whether the history has anything (it may be configured empty). */
  get isEmpty(): boolean {
    return this.#months === 0;
  }

  /** The aggregate trade id the live market continues with. */
  get liveFirstAggId(): number {
    return this.#options.liveFirstAggId;
  }

  /** The kline of `[t0, t1)` (minute boundaries) over the history, or undefined when it has none there. */
  aggregate(t0: number, t1: number): IntBar | undefined {
    const from = Math.max(t0, this.start);
    const to = Math.min(t1, this.end);
    if (from >= to) return undefined;
    let bar: IntBar | undefined;
    for (let j = this.#indexOf(from); j >= this.#indexOf(to - 1); j--) {
      const part = this.#aggregateNode(this.#month(j), 0, from, to);
      bar = joinBars(bar, part);
    }
    return bar;
  }

  /** The aggTrades of the minute starting at `minuteStart`, or [] outside the history. */
  minuteTradesAt(minuteStart: number): HistTrade[] {
    if (minuteStart < this.start || minuteStart >= this.end) return [];
    return minuteTrades(this.#nodeAt(MINUTE_LEVEL, minuteStart), this.#options.seed);
  }

  /** The start of the minute holding aggregate trade `aggId`, or undefined when the history has no such id. */
  minuteOfAggId(aggId: number): number | undefined {
    if (this.isEmpty || aggId >= this.#options.liveFirstAggId) return undefined;
    let j = 0;
    while (true) {
      this.#extendTo(j);
      if (j >= this.#months) return undefined;
      if ((this.#firstAgg[j] ?? 0) <= aggId) break;
      j += 1;
    }
    let node = this.#month(j);
    for (let level = 0; level < MINUTE_LEVEL; level++) {
      const children = this.#children(node, level);
      let pick = children[0] as HistNode;
      for (const child of children) if (child.firstAggId <= aggId) pick = child;
      node = pick;
    }
    return node.start;
  }

  /** The first aggregate trade id of the history (its oldest trade). */
  firstAggId(): number | undefined {
    if (this.isEmpty) return undefined;
    this.#extendTo(this.#months - 1);
    return this.#firstAgg[this.#months - 1];
  }

  /** Price in ticks at `time`: the close of the minute ending there (the start price before). */
  ticksAt(time: number): number {
    if (this.isEmpty || time <= this.start) return this.#options.endTicks;
    if (time >= this.end) return this.#options.endTicks;
    const minute = Math.floor(time / MINUTE_MS) * MINUTE_MS;
    return this.#nodeAt(MINUTE_LEVEL, minute - MINUTE_MS).close;
  }

  /**
   * Funding settlements at the 00/08/16 UTC funding times in `(start, end]`, within `[from, to]`,
   * oldest first, at most `limit` from the given end (`fromEnd`) or from the start.
   */
  fundings(from: number, to: number, limit: number, fromEnd: boolean): HistoryFunding[] {
    const first = Math.max(from, this.start + 1);
    const last = Math.min(to, this.end);
    if (this.isEmpty || first > last || limit <= 0) return [];
    const firstTime = Math.ceil(first / FUNDING_MS) * FUNDING_MS;
    const lastTime = Math.floor(last / FUNDING_MS) * FUNDING_MS;
    if (firstTime > lastTime) return [];
    const count = (lastTime - firstTime) / FUNDING_MS + 1;
    const take = Math.min(limit, count);
    const begin = fromEnd ? lastTime - (take - 1) * FUNDING_MS : firstTime;
    const out: HistoryFunding[] = [];
    for (let i = 0; i < take; i++) out.push(this.#funding(begin + i * FUNDING_MS));
    return out;
  }

  #funding(time: number): HistoryFunding {
    const spec = this.#options.spec;
    const rng = keyedPrng(this.#options.seed, 50, time);
    const cap = spec.maintMarginRatio.mul(Decimal.parse('0.75')).toNumber();
    const rate = clamp(0.0001 + 0.00012 * rng.gaussian(), -cap, cap);
    const ticks = this.#nodeAt(2, time - 2 * HOUR_MS).close;
    const price = Decimal.of(BigInt(ticks) * spec.tickSize.mantissa, spec.tickSize.scale);
    return {
      fundingTime: time,
      fundingRate: Decimal.parse(rate.toFixed(8)),
      markPrice: price,
    };
  }

  #indexOf(time: number): number {
    return this.#lastMonth - monthIndex(time);
  }

  /** Extends the backward chain so month `j` (and its ids) are known. */
  #extendTo(j: number): void {
    while (this.#closes.length <= j + 1 && this.#closes.length - 1 < this.#months) {
      const i = this.#closes.length - 1;
      const month = this.#monthNode(i);
      const agg = month.aggBuy + month.aggSell;
      const newer = i === 0 ? this.#options.liveFirstAggId : (this.#firstAgg[i - 1] ?? 0);
      const newerTrade = i === 0 ? this.#options.liveFirstTradeId : (this.#firstTrade[i - 1] ?? 0);
      const firstAgg = newer - agg;
      const firstTrade = newerTrade - month.trades;
      if (firstAgg < 1 || firstTrade < 1) {
        // The live ids leave no room for older months: the history starts here.
        this.#months = i;
        return;
      }
      this.#firstAgg[i] = firstAgg;
      this.#firstTrade[i] = firstTrade;
      this.#closes.push(month.open);
    }
  }

  #month(j: number): HistNode {
    this.#extendTo(j);
    if (j >= this.#months) throw new RangeError(`month ${j} is before the history`);
    const start = monthStartOfIndex(this.#lastMonth - j);
    return this.#options.cache.get(this.#key(MONTH_KEY_LEVEL, start), () => [
      this.#monthNode(j),
    ])[0] as HistNode;
  }

  /** The shared cache's key of a node of this symbol: minute, level and symbol index in one number. */
  #key(level: number, start: number): number {
    return ((start / MINUTE_MS + 2 ** 30) * 8 + level) * 2048 + this.#index;
  }

  /** Month `j` from its close (chain) and its own random stream; ids from the chain when known. */
  #monthNode(j: number): HistNode {
    const index = this.#lastMonth - j;
    const start = monthStartOfIndex(index);
    const end = j === 0 ? this.end : monthStartOfIndex(index + 1);
    const shape = this.#shape;
    const options = this.#options;
    const close = this.#closes[j] as number;
    const rng = keyedPrng(shape.seed, 0, start);
    const minutes = (end - start) / MINUTE_MS;
    const sigma = shape.sigmaPerMinute * Math.sqrt(minutes);
    const anchor = Math.log(options.endTicks);
    const logOpen = anchor + MEAN_REVERSION * (Math.log(close) - anchor) + sigma * rng.gaussian();
    const open = clamp(Math.round(Math.exp(logOpen)), shape.minTick, shape.maxTick);
    const top = Math.max(open, close);
    const bottom = Math.min(open, close);
    const high = clamp(
      Math.round(top * Math.exp(Math.abs(rng.gaussian()) * sigma * 0.8)),
      top,
      shape.maxTick,
    );
    const low = clamp(
      Math.round(bottom * Math.exp(-Math.abs(rng.gaussian()) * sigma * 0.8)),
      shape.minTick,
      bottom,
    );
    const floor = MIN_AGG_PER_SIDE_PER_MINUTE * minutes;
    const agg = Math.round(options.aggPerMinute * minutes * Math.exp(0.25 * rng.gaussian()));
    const tilt = clamp(0.5 + 0.2 * Math.tanh((close - open) / Math.max(1, open * sigma)), 0.3, 0.7);
    const aggBuy = Math.max(floor, Math.round(agg * tilt));
    const aggSell = Math.max(floor, agg - aggBuy);
    const aggAll = aggBuy + aggSell;
    const trades = aggAll + Math.round(aggAll * (options.fillsPerAgg - 1) * Math.exp(0.2 * rng.gaussian()));
    const volume = options.meanTradeSteps * aggAll * Math.exp(0.2 * rng.gaussian());
    const volBuy = BigInt(Math.max(aggBuy, Math.round(volume * tilt)));
    const volSell = BigInt(Math.max(aggSell, Math.round(volume * (1 - tilt))));
    // One mean price for both taker sides: over a month buyers and sellers trade at all its prices.
    const mean = Math.round((open + high + low + close) / 4 + rng.gaussian() * (high - low) * 0.05);
    const quote = (v: bigint): bigint => {
      const margin = quoteMargin(high, low, minutes);
      const least = BigInt(low) * v + margin;
      const most = BigInt(high) * v - margin;
      const guess = BigInt(mean) * v;
      return guess < least ? least : guess > most ? most : guess;
    };
    return {
      start,
      end,
      open,
      high,
      low,
      close,
      aggBuy,
      aggSell,
      trades,
      volBuy,
      volSell,
      quoteBuy: quote(volBuy),
      quoteSell: quote(volSell),
      firstAggId: this.#firstAgg[j] ?? 0,
      firstTradeId: this.#firstTrade[j] ?? 0,
    };
  }

  #children(node: HistNode, level: number): readonly HistNode[] {
    return this.#options.cache.get(this.#key(level, node.start), () => {
      const step = CHILD_MS[level] ?? MINUTE_MS;
      const bounds = [node.start];
      for (let t = Math.floor(node.start / step) * step + step; t < node.end; t += step) bounds.push(t);
      bounds.push(node.end);
      return splitNode(node, bounds, level + 1, this.#shape);
    });
  }

  /** The node of `level` containing `time`. */
  #nodeAt(level: number, time: number): HistNode {
    let node = this.#month(this.#indexOf(time));
    for (let l = 0; l < level; l++) {
      const children = this.#children(node, l);
      let pick = children[0] as HistNode;
      for (const child of children) if (child.start <= time) pick = child;
      node = pick;
    }
    return node;
  }

  #aggregateNode(node: HistNode, level: number, t0: number, t1: number): IntBar | undefined {
    if (node.end <= t0 || node.start >= t1) return undefined;
    if (t0 <= node.start && node.end <= t1) return nodeBar(node);
    if (level >= MINUTE_LEVEL)
      throw new RangeError(`aggregate bounds ${t0}..${t1} are not minute boundaries`);
    let bar: IntBar | undefined;
    for (const child of this.#children(node, level)) {
      if (child.end <= t0) continue;
      if (child.start >= t1) break;
      bar = joinBars(bar, this.#aggregateNode(child, level + 1, t0, t1));
    }
    return bar;
  }
}

/** A node as a bar (times are the node's own). */
export function nodeBar(node: HistNode): IntBar {
  return {
    openTime: node.start,
    closeTime: node.end - 1,
    open: node.open,
    high: node.high,
    low: node.low,
    close: node.close,
    volume: node.volBuy + node.volSell,
    quote: node.quoteBuy + node.quoteSell,
    takerVolume: node.volBuy,
    takerQuote: node.quoteBuy,
    trades: node.trades,
    firstTradeId: node.firstTradeId,
    lastTradeId: node.firstTradeId + node.trades - 1,
    asOf: node.end - 1,
  };
}

/** Two consecutive traded parts as one (history nodes always trade). */
function joinBars(a: IntBar | undefined, b: IntBar | undefined): IntBar | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return {
    openTime: a.openTime,
    closeTime: b.closeTime,
    open: a.open,
    high: Math.max(a.high, b.high),
    low: Math.min(a.low, b.low),
    close: b.close,
    volume: a.volume + b.volume,
    quote: a.quote + b.quote,
    takerVolume: a.takerVolume + b.takerVolume,
    takerQuote: a.takerQuote + b.takerQuote,
    trades: a.trades + b.trades,
    firstTradeId: a.firstTradeId,
    lastTradeId: b.lastTradeId,
    asOf: b.asOf,
  };
}

export { minutesOf };
