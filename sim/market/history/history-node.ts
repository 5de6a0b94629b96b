// One span of a symbol's generated history (a month … a minute), and how it splits into its children.
import { mixHash, Prng } from '../prng.js';
import { splitBigint, splitInt } from './integer-split.js';

/**
 * A span `[start, end)` of history with everything its kline and its aggTrades must add up to.
 * Prices are ticks, volumes steps, quotes tick·step units; `*Buy` is the taker-buy side (the
 * aggTrades with `m = false`), `*Sell` the other side. Ids are the first aggregate trade id and
 * the first underlying trade id of the span.
 *
 * Invariant (what makes every split and every minute's trades possible, see `splitNode`): each
 * side has at least 6 aggTrades per minute and at least one step per aggTrade, and its quote lies
 * in `[low·vol + W, high·vol − W]` with `W = 3·(high − low)·minutes`.
 */
export interface HistNode {
  readonly start: number;
  readonly end: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly aggBuy: number;
  readonly aggSell: number;
  /** Underlying trades, at least `aggBuy + aggSell`. */
  readonly trades: number;
  readonly volBuy: bigint;
  readonly volSell: bigint;
  readonly quoteBuy: bigint;
  readonly quoteSell: bigint;
  readonly firstAggId: number;
  readonly firstTradeId: number;
}

/** What shapes a symbol's history: its seed, volatility, activity and price bounds. */
export interface HistoryShape {
  readonly seed: number;
  /** Standard deviation of the log price over one minute. */
  readonly sigmaPerMinute: number;
  readonly minTick: number;
  readonly maxTick: number;
}

export const MINUTE_MS = 60_000;
/** Fewest aggTrades per minute on each taker side (room for the open/high/low/close trades). */
export const MIN_AGG_PER_SIDE_PER_MINUTE = 6;

/** Minutes in a node. */
export function minutesOf(node: { readonly start: number; readonly end: number }): number {
  return (node.end - node.start) / MINUTE_MS;
}

/** The quote margin `W` of a span (see {@link HistNode}). */
export function quoteMargin(high: number, low: number, minutes: number): bigint {
  // At most ~10^7 ticks × 44,640 minutes × 3: exact in a double.
  return BigInt(3 * (high - low) * minutes);
}

/** A generator keyed by position: the same node always draws the same numbers. */
export function keyedPrng(seed: number, level: number, time: number): Prng {
  const lo = time % 4_294_967_296;
  const hi = Math.floor(time / 4_294_967_296);
  return new Prng(mixHash(mixHash(mixHash(seed, level), lo >>> 0), hi >>> 0));
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(value, high));
}

/** A mean trade price in ticks: `quote` (tick·step units) over `volume` (steps), to 1/1024 tick. */
function meanPrice(quote: bigint, volume: bigint): number {
  return Number((quote * 1024n) / volume) / 1024;
}

/** A bar's typical price: the mean of its open, high, low and close. */
function typicalPrice(d: { open: number; high: number; low: number; close: number }): number {
  return (d.open + d.high + d.low + d.close) / 4;
}

/** `value` folded back into `[low, high]` at each bound, as a walk reflected by walls. */
function reflect(value: number, low: number, high: number): number {
  const width = high - low;
  if (width <= 0) return low;
  const period = 2 * width;
  const folded = (((value - low) % period) + period) % period;
  return low + (folded > width ? period - folded : folded);
}

/**
 * A child's high drawn as `drawn` (at least `from`, its open or close), kept below the node's
 * high `limit`: a draw at or past it lands uniformly in `[from, limit)` instead of on it. Only the
 * child chosen to carry the node's extreme reaches it (`pricePath`); clamping every overshoot to
 * it gave runs of bars with the same high (or, negated, the same low).
 */
function insideExtreme(drawn: number, from: number, limit: number, rng: Prng): number {
  if (drawn < limit) return drawn;
  return from >= limit ? limit : rng.int(from, limit - 1);
}

interface ChildDraft {
  start: number;
  end: number;
  minutes: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/**
 * Splits `node` at `bounds` (its start, the child boundaries, its end) into children whose sums
 * are exactly the node's: the closes follow a Brownian bridge from the node's open to its close
 * inside its range, around the node's mean price, one child reaches the node's high and one its
 * low; counts, volumes and quotes are split with floors so every child keeps the
 * {@link HistNode} invariant, the taker sides' volumes leaning so that their mix carries the
 * node's difference between buy and sell mean prices (see `sideLean`). When the
 * node's quote needs more room than the children's ranges give, children are widened toward the
 * node's high or low (always enough: with every child at the node's range the invariant holds).
 */
export function splitNode(
  node: HistNode,
  bounds: readonly number[],
  level: number,
  shape: HistoryShape,
): HistNode[] {
  const k = bounds.length - 1;
  if (k < 1) throw new RangeError('a split needs at least one child');
  const rng = keyedPrng(shape.seed, level, node.start);
  const drafts = pricePath(node, bounds, shape, rng);
  const minutes = drafts.map((d) => d.minutes);
  const activity = drafts.map(() => Math.exp(0.25 * rng.gaussian()));
  const tilt = drafts.map((d) => {
    const scale = Math.max(1, d.open * shape.sigmaPerMinute * Math.sqrt(d.minutes));
    return clamp(0.5 + 0.3 * Math.tanh((d.close - d.open) / scale), 0.15, 0.85);
  });
  const buyWeight = minutes.map((m, i) => m * (activity[i] ?? 1) * (tilt[i] ?? 0.5));
  const sellWeight = minutes.map((m, i) => m * (activity[i] ?? 1) * (1 - (tilt[i] ?? 0.5)));
  const lean = sideLean(node, drafts, buyWeight, sellWeight);
  const aggBuy = splitInt(
    node.aggBuy,
    minutes.map((m) => MIN_AGG_PER_SIDE_PER_MINUTE * m),
    buyWeight.map((w, i) => w * (lean[i] ?? 1)),
  );
  const aggSell = splitInt(
    node.aggSell,
    minutes.map((m) => MIN_AGG_PER_SIDE_PER_MINUTE * m),
    sellWeight.map((w, i) => w / (lean[i] ?? 1)),
  );
  const aggAll = aggBuy.map((b, i) => b + (aggSell[i] ?? 0));
  const trades = splitInt(node.trades, aggAll, aggAll);
  const size = drafts.map(() => Math.exp(0.2 * rng.gaussian()));
  const volBuy = splitBigint(
    node.volBuy,
    aggBuy.map((a) => BigInt(a)),
    aggBuy.map((a, i) => a * (size[i] ?? 1)),
  );
  const volSell = splitBigint(
    node.volSell,
    aggSell.map((a) => BigInt(a)),
    aggSell.map((a, i) => a * (size[i] ?? 1)),
  );
  widenForQuotes(node, drafts, volBuy, volSell);
  // One typical price per child for both sides: drawn per side, the two sides' mean prices
  // drifted apart level by level until no path could reach both without widening to the extremes.
  const typical = drafts.map((d) => typicalPrice(d) + rng.gaussian() * (d.high - d.low) * 0.1);
  const quoteBuy = allocateQuotes(node.quoteBuy, drafts, volBuy, typical);
  const quoteSell = allocateQuotes(node.quoteSell, drafts, volSell, typical);
  const children: HistNode[] = [];
  let aggId = node.firstAggId;
  let tradeId = node.firstTradeId;
  for (let i = 0; i < k; i++) {
    const d = drafts[i] as ChildDraft;
    children.push({
      start: d.start,
      end: d.end,
      open: d.open,
      high: d.high,
      low: d.low,
      close: d.close,
      aggBuy: aggBuy[i] ?? 0,
      aggSell: aggSell[i] ?? 0,
      trades: trades[i] ?? 0,
      volBuy: volBuy[i] ?? 0n,
      volSell: volSell[i] ?? 0n,
      quoteBuy: quoteBuy[i] ?? 0n,
      quoteSell: quoteSell[i] ?? 0n,
      firstAggId: aggId,
      firstTradeId: tradeId,
    });
    aggId += aggAll[i] ?? 0;
    tradeId += trades[i] ?? 0;
  }
  return children;
}

/** Strongest lean of {@link sideLean}: a child's buy share at most e^±2 of its drawn one. */
const MAX_LEAN = 4;

/**
 * Per child, the factor its taker-buy weight is multiplied by (and its sell weight divided by) so
 * that the children's volume mix alone carries the node's difference between its buy and sell
 * mean prices: buying leans toward the children priced above the node's mean when buyers paid more,
 * below it when they paid less. Without it each child inherited the node's whole difference in
 * price, which grew against the shrinking ranges level by level until every 15-minute bar's
 * buyers traded at its high and its sellers at its low, and its neighbours had to share both.
 */
function sideLean(
  node: HistNode,
  drafts: readonly ChildDraft[],
  buyWeight: readonly number[],
  sellWeight: readonly number[],
): number[] {
  const range = node.high - node.low;
  if (range <= 0 || node.volBuy <= 0n || node.volSell <= 0n) return drafts.map(() => 1);
  const gap = meanPrice(node.quoteBuy, node.volBuy) - meanPrice(node.quoteSell, node.volSell);
  const price = drafts.map(typicalPrice);
  let mean = 0;
  let weights = 0;
  for (let i = 0; i < drafts.length; i++) {
    const w = (buyWeight[i] ?? 0) + (sellWeight[i] ?? 0);
    mean += w * (price[i] ?? 0);
    weights += w;
  }
  mean /= weights > 0 ? weights : 1;
  const offset = price.map((p) => (p - mean) / range);
  // The buy side's mean price less the sell side's with lean `kappa`: rises with kappa.
  const gapAt = (kappa: number): number => {
    let buyQuote = 0;
    let buyVolume = 0;
    let sellQuote = 0;
    let sellVolume = 0;
    for (let i = 0; i < drafts.length; i++) {
      const f = Math.exp(kappa * (offset[i] ?? 0));
      const b = (buyWeight[i] ?? 0) * f;
      const s = (sellWeight[i] ?? 0) / f;
      buyQuote += b * (price[i] ?? 0);
      buyVolume += b;
      sellQuote += s * (price[i] ?? 0);
      sellVolume += s;
    }
    return buyQuote / (buyVolume || 1) - sellQuote / (sellVolume || 1);
  };
  let low = -MAX_LEAN;
  let high = MAX_LEAN;
  if (gapAt(high) <= gap) low = high;
  else if (gapAt(low) >= gap) high = low;
  else {
    // 24 halvings of the lean's range: to within 10⁻⁶, far below a tick's effect.
    for (let step = 0; step < 24; step++) {
      const mid = (low + high) / 2;
      if (gapAt(mid) < gap) low = mid;
      else high = mid;
    }
  }
  const kappa = (low + high) / 2;
  return offset.map((x) => Math.exp(kappa * x));
}

/**
 * Opens, closes, highs and lows of the children: a bridge in log price from the node's open to
 * its close, lifted or lowered by a bump (zero at both ends) so that the children's mean price
 * is the node's (its quote over its volume), and reflected into the node's range. Without the
 * bump the path often stayed away from the node's mean, and the quotes could only be reached by
 * widening bar after bar to the node's extreme.
 */
function pricePath(node: HistNode, bounds: readonly number[], shape: HistoryShape, rng: Prng): ChildDraft[] {
  const k = bounds.length - 1;
  const total = node.end - node.start;
  const logOpen = Math.log(node.open);
  const logClose = Math.log(node.close);
  const walk: number[] = [];
  let w = 0;
  for (let i = 0; i < k; i++) {
    const minutes = ((bounds[i + 1] ?? 0) - (bounds[i] ?? 0)) / MINUTE_MS;
    w += rng.gaussian() * shape.sigmaPerMinute * Math.sqrt(minutes);
    walk.push(w);
  }
  // Closes before the bump (the last is the node's), and each child's weight and bump.
  const raw: number[] = [];
  const bump: number[] = [];
  for (let i = 0; i < k; i++) {
    const share = ((bounds[i + 1] ?? 0) - node.start) / total;
    raw.push(
      i === k - 1
        ? node.close
        : Math.exp(logOpen + share * (logClose - logOpen) + (walk[i] ?? 0) - share * w),
    );
    bump.push(i === k - 1 ? 0 : Math.sin(Math.PI * share));
  }
  // The children's mean price, each child's weighted by its share of the node's time, and how
  // much a bump of amplitude 1 lifts it.
  let mean = 0;
  let lift = 0;
  for (let i = 0; i < k; i++) {
    const weight = ((bounds[i + 1] ?? 0) - (bounds[i] ?? 0)) / total;
    mean += (weight * ((i === 0 ? node.open : (raw[i - 1] ?? 0)) + (raw[i] ?? 0))) / 2;
    lift += (weight * ((i === 0 ? 0 : (bump[i - 1] ?? 0)) + (bump[i] ?? 0))) / 2;
  }
  const volume = node.volBuy + node.volSell;
  const target = volume > 0n ? meanPrice(node.quoteBuy + node.quoteSell, volume) : mean;
  const amplitude = lift > 0 ? (target - mean) / lift : 0;
  const drafts: ChildDraft[] = [];
  let open = node.open;
  for (let i = 0; i < k; i++) {
    const start = bounds[i] ?? 0;
    const end = bounds[i + 1] ?? 0;
    const close =
      i === k - 1
        ? node.close
        : reflect(Math.round((raw[i] ?? 0) + amplitude * (bump[i] ?? 0)), node.low, node.high);
    const minutes = (end - start) / MINUTE_MS;
    const spread = Math.max(open, close) * shape.sigmaPerMinute * Math.sqrt(minutes) * 0.8;
    const top = Math.max(open, close);
    const bottom = Math.min(open, close);
    const high = insideExtreme(top + Math.round(Math.abs(rng.gaussian()) * spread), top, node.high, rng);
    const low = -insideExtreme(
      -(bottom - Math.round(Math.abs(rng.gaussian()) * spread)),
      -bottom,
      -node.low,
      rng,
    );
    drafts.push({ start, end, minutes, open, high, low, close });
    open = close;
  }
  // The node's extremes are reached by the children that came closest to them.
  let top = drafts[0] as ChildDraft;
  let bottom = drafts[0] as ChildDraft;
  for (const d of drafts) {
    if (d.high > top.high) top = d;
    if (d.low < bottom.low) bottom = d;
  }
  top.high = node.high;
  bottom.low = node.low;
  return drafts;
}

/**
 * Ticks a child of `minutes` must widen by so that each short side reaches its quote: a tick
 * more of range moves that side's reachable bound by its volume less the margin's `3·minutes`
 * (see {@link quoteMargin}). `room` when a short side cannot be reached this way, or needs more.
 */
function ticksToCover(
  shortfalls: readonly { short: bigint; volume: bigint }[],
  minutes: number,
  room: number,
): number {
  let ticks = 0n;
  for (const { short, volume } of shortfalls) {
    if (short <= 0n) continue;
    const perTick = volume - BigInt(3 * minutes);
    if (perTick <= 0n) return room;
    const need = (short + perTick - 1n) / perTick;
    if (need > ticks) ticks = need;
  }
  return ticks >= BigInt(room) ? room : Number(ticks);
}

/** The quote bounds `[Σ low·vol + W, Σ high·vol − W]` the children of one side can reach. */
function sideBounds(drafts: readonly ChildDraft[], volumes: readonly bigint[]): { lo: bigint; hi: bigint } {
  let lo = 0n;
  let hi = 0n;
  for (let i = 0; i < drafts.length; i++) {
    const d = drafts[i] as ChildDraft;
    const v = volumes[i] ?? 0n;
    const margin = quoteMargin(d.high, d.low, d.minutes);
    lo += BigInt(d.low) * v + margin;
    hi += BigInt(d.high) * v - margin;
  }
  return { lo, hi };
}

/**
 * Widens children toward the node's low (or high), the child that gains most first, until both
 * sides' quotes are within reach. A child moves only as far as the shortfall needs (so widened
 * bars do not all share the node's extreme) in the first `2 × children` steps, and all the way
 * after them. Ends at the latest when every child spans the node's range, where the node's
 * invariant makes both sides reachable.
 */
function widenForQuotes(
  node: HistNode,
  drafts: ChildDraft[],
  volBuy: readonly bigint[],
  volSell: readonly bigint[],
): void {
  const partialSteps = 2 * drafts.length;
  for (let step = 0; step <= 2 * partialSteps; step++) {
    const buy = sideBounds(drafts, volBuy);
    const sell = sideBounds(drafts, volSell);
    const tooLow = node.quoteBuy < buy.lo || node.quoteSell < sell.lo;
    const tooHigh = node.quoteBuy > buy.hi || node.quoteSell > sell.hi;
    if (!tooLow && !tooHigh) return;
    let best = -1;
    let gain = 0n;
    for (let i = 0; i < drafts.length; i++) {
      const d = drafts[i] as ChildDraft;
      const v = (volBuy[i] ?? 0n) + (volSell[i] ?? 0n);
      const room = tooLow ? BigInt(d.low - node.low) : BigInt(node.high - d.high);
      if (room > 0n && room * v > gain) {
        gain = room * v;
        best = i;
      }
    }
    if (best < 0) break;
    const d = drafts[best] as ChildDraft;
    const shortfalls = tooLow
      ? [
          { short: buy.lo - node.quoteBuy, volume: volBuy[best] ?? 0n },
          { short: sell.lo - node.quoteSell, volume: volSell[best] ?? 0n },
        ]
      : [
          { short: node.quoteBuy - buy.hi, volume: volBuy[best] ?? 0n },
          { short: node.quoteSell - sell.hi, volume: volSell[best] ?? 0n },
        ];
    const room = tooLow ? d.low - node.low : node.high - d.high;
    const move = step < partialSteps ? ticksToCover(shortfalls, d.minutes, room) : room;
    if (tooLow) d.low -= move;
    else d.high += move;
  }
  const buy = sideBounds(drafts, volBuy);
  const sell = sideBounds(drafts, volSell);
  if (
    node.quoteBuy < buy.lo ||
    node.quoteBuy > buy.hi ||
    node.quoteSell < sell.lo ||
    node.quoteSell > sell.hi
  ) {
    throw new RangeError(`history node at ${node.start} breaks its quote invariant`);
  }
}

/**
 * Splits one side's quote over the children: each starts at its volume × its `typical` price
 * (the same for both sides), inside its bounds, and the difference to the node's quote is spread
 * over the room the children have left.
 */
function allocateQuotes(
  total: bigint,
  drafts: readonly ChildDraft[],
  volumes: readonly bigint[],
  typical: readonly number[],
): bigint[] {
  const n = drafts.length;
  const lo: bigint[] = [];
  const hi: bigint[] = [];
  const q: bigint[] = [];
  let sum = 0n;
  for (let i = 0; i < n; i++) {
    const d = drafts[i] as ChildDraft;
    const v = volumes[i] ?? 0n;
    const margin = quoteMargin(d.high, d.low, d.minutes);
    const low = BigInt(d.low) * v + margin;
    const high = BigInt(d.high) * v - margin;
    let guess = BigInt(Math.round(typical[i] ?? d.close)) * v;
    if (guess < low) guess = low;
    if (guess > high) guess = high;
    lo.push(low);
    hi.push(high);
    q.push(guess);
    sum += guess;
  }
  const diff = total - sum;
  if (diff !== 0n) {
    const room = q.map((x, i) => (diff > 0n ? (hi[i] ?? 0n) - x : x - (lo[i] ?? 0n)));
    const shares = distribute(diff > 0n ? diff : -diff, room);
    for (let i = 0; i < n; i++) q[i] = (q[i] ?? 0n) + (diff > 0n ? (shares[i] ?? 0n) : -(shares[i] ?? 0n));
  }
  return q;
}

/**
 * Splits `total` over parts in proportion to `capacities` (largest remainder), never giving a part
 * more than its capacity; `total` must not exceed the sum of capacities.
 */
export function distribute(total: bigint, capacities: readonly bigint[]): bigint[] {
  let capacity = 0n;
  for (const c of capacities) capacity += c;
  if (total > capacity) throw new RangeError(`cannot place ${total} in capacity ${capacity}`);
  if (total === 0n) return capacities.map(() => 0n);
  const out: bigint[] = [];
  const rest: bigint[] = [];
  let given = 0n;
  for (const c of capacities) {
    const scaled = total * c;
    const share = scaled / capacity;
    out.push(share);
    rest.push(scaled - share * capacity);
    given += share;
  }
  let left = total - given;
  const order = [...rest.keys()].sort((a, b) => {
    const ra = rest[a] ?? 0n;
    const rb = rest[b] ?? 0n;
    return ra > rb ? -1 : ra < rb ? 1 : a - b;
  });
  for (const i of order) {
    if (left === 0n) break;
    if ((out[i] ?? 0n) < (capacities[i] ?? 0n)) {
      out[i] = (out[i] ?? 0n) + 1n;
      left -= 1n;
    }
  }
  return out;
}
