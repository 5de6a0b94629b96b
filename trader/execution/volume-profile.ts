// A volume profile by time of day from history bars: how a VWAP order spreads its slices.

/**
 * Average volume per time-of-day bucket (`bucketMs` wide, UTC) over the history given. Slices of
 * a VWAP order get weights proportional to the buckets they fall in; without history (or with only
 * empty buckets) the weights are equal, i.e. a TWAP.
 */
export class VolumeProfile {
  readonly #bucketMs: number;
  readonly #average = new Map<number, number>();

  constructor(bucketMs: number, openTimes: ArrayLike<number>, volumes: ArrayLike<number>) {
    this.#bucketMs = bucketMs;
    const sums = new Map<number, { total: number; count: number }>();
    for (let i = 0; i < Math.min(openTimes.length, volumes.length); i++) {
      const t = openTimes[i] as number;
      const v = volumes[i] as number;
      if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
      const bucket = Math.floor((t % 86_400_000) / bucketMs);
      const s = sums.get(bucket) ?? { total: 0, count: 0 };
      s.total += v;
      s.count += 1;
      sums.set(bucket, s);
    }
    for (const [bucket, s] of sums) this.#average.set(bucket, s.total / s.count);
  }

  /** Weights (summing to 1) of `slices` equal slices of `[start, start + durationMs)`. */
  weights(start: number, durationMs: number, slices: number): number[] {
    const raw: number[] = [];
    for (let i = 0; i < slices; i++) {
      const t = start + (durationMs * i) / slices;
      raw.push(this.#average.get(Math.floor((t % 86_400_000) / this.#bucketMs)) ?? 0);
    }
    const total = raw.reduce((a, b) => a + b, 0);
    if (!(total > 0)) return raw.map(() => 1 / slices);
    return raw.map((w) => w / total);
  }
}
