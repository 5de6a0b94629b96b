// Exact splits of an integer total into parts with floors and weights (largest-remainder rounding).

/**
 * Splits `total` into `floors.length` parts: part i is `floors[i]` plus a share of what is left in
 * proportion to `weights[i]` (non-negative; all zero means equal shares), rounded by largest
 * remainder (ties to the lower index). The parts sum to `total` exactly. Throws when the floors
 * exceed the total.
 */
export function splitBigint(total: bigint, floors: readonly bigint[], weights: readonly number[]): bigint[] {
  if (total < BigInt(NUMBER_PATH_LIMIT) && total >= 0n) {
    return splitInt(
      Number(total),
      floors.map((f) => Number(f)),
      weights,
    ).map((p) => BigInt(p));
  }
  const n = floors.length;
  if (n === 0) {
    if (total !== 0n) throw new RangeError(`cannot split ${total} into no parts`);
    return [];
  }
  let floorSum = 0n;
  for (const f of floors) floorSum += f;
  const extra = total - floorSum;
  if (extra < 0n) throw new RangeError(`floors ${floorSum} exceed the total ${total}`);
  const w = integerWeights(weights, n);
  let wSum = 0n;
  for (const x of w) wSum += x;
  const parts = new Array<bigint>(n);
  const remainders = new Array<bigint>(n);
  let given = 0n;
  for (let i = 0; i < n; i++) {
    const scaled = extra * (w[i] ?? 0n);
    const share = scaled / wSum;
    parts[i] = (floors[i] ?? 0n) + share;
    remainders[i] = scaled - share * wSum;
    given += share;
  }
  let left = Number(extra - given);
  if (left > 0) {
    const order = [...remainders.keys()].sort((a, b) => {
      const ra = remainders[a] ?? 0n;
      const rb = remainders[b] ?? 0n;
      return ra > rb ? -1 : ra < rb ? 1 : a - b;
    });
    for (const i of order) {
      if (left === 0) break;
      parts[i] = (parts[i] ?? 0n) + 1n;
      left -= 1;
    }
  }
  return parts;
}

/** Totals below this split in float arithmetic exactly (total × a millionths weight stays below 2^53). */
const NUMBER_PATH_LIMIT = 8_000_000_000;

/** {@link splitBigint} for safe integers (counts); plain number arithmetic when that is exact. */
export function splitInt(total: number, floors: readonly number[], weights: readonly number[]): number[] {
  if (total >= NUMBER_PATH_LIMIT) {
    return splitBigint(
      BigInt(total),
      floors.map((f) => BigInt(f)),
      weights,
    ).map((p) => Number(p));
  }
  const n = floors.length;
  let floorSum = 0;
  for (const f of floors) floorSum += f;
  const extra = total - floorSum;
  if (extra < 0) throw new RangeError(`floors ${floorSum} exceed the total ${total}`);
  if (n === 0) {
    if (total !== 0) throw new RangeError(`cannot split ${total} into no parts`);
    return [];
  }
  const w = numberWeights(weights, n);
  let wSum = 0;
  for (const x of w) wSum += x;
  const parts = new Array<number>(n);
  const remainders = new Array<number>(n);
  let given = 0;
  for (let i = 0; i < n; i++) {
    const scaled = extra * (w[i] ?? 0);
    const share = Math.floor(scaled / wSum);
    parts[i] = (floors[i] ?? 0) + share;
    remainders[i] = scaled - share * wSum;
    given += share;
  }
  giveRemainders(parts, remainders, extra - given);
  return parts;
}

/** Adds one to the `left` parts with the largest remainders (ties to the lower index). */
function giveRemainders(parts: number[], remainders: readonly number[], left: number): void {
  for (let k = 0; k < left; k++) {
    let best = -1;
    for (let i = 0; i < remainders.length; i++) {
      if (remainders[i] === -1) continue;
      if (best < 0 || (remainders[i] ?? 0) > (remainders[best] ?? 0)) best = i;
    }
    if (best < 0) return;
    parts[best] = (parts[best] ?? 0) + 1;
    (remainders as number[])[best] = -1;
  }
}

/** Weights as whole millionths of the largest, equal ones when every weight is zero. */
function numberWeights(weights: readonly number[], n: number): number[] {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] ?? 0;
    if (!(w >= 0) || !Number.isFinite(w))
      throw new RangeError(`weight ${w} is not a finite non-negative number`);
    if (w > max) max = w;
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = max === 0 ? 1 : Math.round(((weights[i] ?? 0) / max) * 1_000_000);
  return out;
}

/** Weights as positive integers (millionths), equal ones when every weight is zero. */
function integerWeights(weights: readonly number[], n: number): bigint[] {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] ?? 0;
    if (!(w >= 0) || !Number.isFinite(w))
      throw new RangeError(`weight ${w} is not a finite non-negative number`);
    if (w > max) max = w;
  }
  if (max === 0) return new Array<bigint>(n).fill(1n);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) out[i] = BigInt(Math.round(((weights[i] ?? 0) / max) * 1_000_000));
  return out;
}
