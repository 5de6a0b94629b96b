// The aggTrades of one minute of generated history, adding up exactly to the minute's node.
import type { Prng } from '../prng.js';
import { type HistNode, keyedPrng, MINUTE_MS } from './history-node.js';
import { splitBigint, splitInt } from './integer-split.js';

/** One generated aggTrade: price in ticks, quantity in steps. */
export interface HistTrade {
  /** Aggregate trade id. */
  readonly a: number;
  readonly ticks: number;
  readonly steps: bigint;
  /** First and last underlying trade ids. */
  readonly f: number;
  readonly l: number;
  readonly T: number;
  /** Buyer was the maker (the taker sold). */
  readonly m: boolean;
}

interface Fill {
  readonly ticks: number;
  readonly steps: bigint;
  readonly sell: boolean;
}

/** Level of minute nodes in the history tree (its key in the node's random stream). */
const MINUTE_LEVEL = 9;

/**
 * The aggTrades of a minute node: the first at the open, the last at the close, one at the high and
 * one at the low (all four on the busier side, one step each), and fillers that carry the rest of
 * each side's volume and quote exactly. Fillers scatter around the side's average price; the last
 * ones (the balancers) sit on two adjacent ticks so the quote comes out to the unit. Times are
 * spread over the minute in order; underlying trade ids continue from the node's.
 */
export function minuteTrades(node: HistNode, seed: number): HistTrade[] {
  const rng = keyedPrng(seed, MINUTE_LEVEL, node.start);
  const fixedSell = node.aggSell > node.aggBuy;
  const fixedCount = 4;
  const buyFixed = fixedSell ? 0 : fixedCount;
  const sellFixed = fixedSell ? fixedCount : 0;
  const fixedQuote = BigInt(node.open + node.high + node.low + node.close);
  const buyFillers = fillers(
    node.aggBuy - buyFixed,
    node.volBuy - BigInt(buyFixed),
    node.quoteBuy - (fixedSell ? 0n : fixedQuote),
    node.low,
    node.high,
    false,
    rng,
  );
  const sellFillers = fillers(
    node.aggSell - sellFixed,
    node.volSell - BigInt(sellFixed),
    node.quoteSell - (fixedSell ? fixedQuote : 0n),
    node.low,
    node.high,
    true,
    rng,
  );
  const rest = shuffle([...buyFillers, ...sellFillers], rng);
  // The path: open, towards the first extreme, towards the second, towards the close.
  const lowFirst = node.close >= node.open;
  const first = lowFirst ? node.low : node.high;
  const second = lowFirst ? node.high : node.low;
  const third = Math.ceil(rest.length / 3);
  const legs = [rest.slice(0, third), rest.slice(third, 2 * third), rest.slice(2 * third)];
  const sortToward = (leg: Fill[], target: number, from: number): Fill[] =>
    leg.sort((x, y) => (target >= from ? x.ticks - y.ticks : y.ticks - x.ticks));
  const fixed = (ticks: number): Fill => ({ ticks, steps: 1n, sell: fixedSell });
  const ordered: Fill[] = [
    fixed(node.open),
    ...sortToward(legs[0] ?? [], first, node.open),
    fixed(first),
    ...sortToward(legs[1] ?? [], second, first),
    fixed(second),
    ...sortToward(legs[2] ?? [], node.close, second),
    fixed(node.close),
  ];
  const count = ordered.length;
  if (count !== node.aggBuy + node.aggSell) throw new RangeError(`minute at ${node.start}: ${count} trades`);
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(node.start + Math.floor(rng.next() * (MINUTE_MS - 1)));
  times.sort((x, y) => x - y);
  const fills = splitInt(
    node.trades,
    ordered.map(() => 1),
    ordered.map((t) => Math.sqrt(Number(t.steps))),
  );
  const out: HistTrade[] = [];
  let tradeId = node.firstTradeId;
  for (let i = 0; i < count; i++) {
    const t = ordered[i] as Fill;
    const n = fills[i] ?? 1;
    out.push({
      a: node.firstAggId + i,
      ticks: t.ticks,
      steps: t.steps,
      f: tradeId,
      l: tradeId + n - 1,
      T: times[i] ?? node.start,
      m: t.sell,
    });
    tradeId += n;
  }
  return out;
}

/**
 * `count` trades carrying exactly `volume` steps and `quote` tick·step units at prices in
 * `[low, high]` (the caller guarantees `volume ≥ count ≥ 2` when volume is positive and
 * `low·volume ≤ quote ≤ high·volume`). Most trades scatter around the average price; what they
 * leave is carried by balancers on two adjacent ticks. A scattered trade that leaves the balancers
 * out of reach joins them, so at worst every trade is a balancer, which always works.
 */
function fillers(
  count: number,
  volume: bigint,
  quote: bigint,
  low: number,
  high: number,
  sell: boolean,
  rng: Prng,
): Fill[] {
  if (count <= 0) {
    if (volume !== 0n || quote !== 0n) throw new RangeError('volume left without trades');
    return [];
  }
  const sizes = splitBigint(
    volume,
    new Array<bigint>(count).fill(1n),
    Array.from({ length: count }, () => (1 - rng.next()) ** (-1 / 1.3)),
  );
  const average = Number(quote) / Number(volume);
  const scatter = (high - low) / 4;
  const natural: Fill[] = [];
  for (let i = 0; i < count - 2; i++) {
    const ticks = Math.min(high, Math.max(low, Math.round(average + rng.gaussian() * scatter)));
    natural.push({ ticks, steps: sizes[i] ?? 1n, sell });
  }
  let balanceSteps = 0n;
  for (let i = Math.max(0, count - 2); i < count; i++) balanceSteps += sizes[i] ?? 0n;
  let balanceQuote = quote;
  for (const f of natural) balanceQuote -= BigInt(f.ticks) * f.steps;
  // Move scattered trades into the balancers until the balancers can carry the rest.
  while (
    natural.length > 0 &&
    (balanceQuote < BigInt(low) * balanceSteps || balanceQuote > BigInt(high) * balanceSteps)
  ) {
    const needLower = balanceQuote < BigInt(low) * balanceSteps;
    let worst = 0;
    for (let i = 1; i < natural.length; i++) {
      const a = natural[i] as Fill;
      const b = natural[worst] as Fill;
      if (needLower ? a.ticks < b.ticks : a.ticks > b.ticks) worst = i;
    }
    const moved = natural.splice(worst, 1)[0] as Fill;
    balanceSteps += moved.steps;
    balanceQuote += BigInt(moved.ticks) * moved.steps;
  }
  const balancers = count - natural.length;
  const base = balanceQuote / balanceSteps;
  const upper = balanceQuote - base * balanceSteps;
  const lower = balanceSteps - upper;
  // Trades on each of the two ticks: at least one where there is volume, never more than its steps
  // (there are at least two balancers and at least one step per balancer, so this range is not empty).
  let upperCount = 0;
  if (upper > 0n) {
    const least = Math.max(1, balancers - Number(lower));
    const most = Math.min(Number(upper), balancers - 1);
    const even = Math.round((balancers * Number(upper)) / Number(balanceSteps));
    upperCount = Math.min(most, Math.max(least, even));
  }
  const lowerCount = balancers - upperCount;
  const out = [...natural];
  const pool = (steps: bigint, n: number, ticks: number): void => {
    if (n === 0) return;
    const parts = splitBigint(steps, new Array<bigint>(n).fill(1n), new Array<number>(n).fill(1));
    for (const s of parts) out.push({ ticks, steps: s, sell });
  };
  pool(lower, lowerCount, Number(base));
  pool(upper, upperCount, Number(base) + 1);
  return out;
}

/** Fisher–Yates with the node's generator. */
function shuffle<T>(items: T[], rng: Prng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}
