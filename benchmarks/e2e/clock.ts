// A millisecond clock that every process on one Linux machine reads alike (CLOCK_MONOTONIC).
import { performance } from 'node:perf_hooks';

/**
 * `performance.now()` counts from this process's own origin, and `performance.timeOrigin` is a
 * wall-clock reading taken at start-up (its error differs per process). `process.hrtime` reads
 * CLOCK_MONOTONIC, which is one clock for the whole machine; `performance.now()` is that same
 * clock minus a per-process constant. We find the constant once (the pair of reads with the
 * smallest gap among a few) and then pay only for `performance.now()`.
 */
function calibrate(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 16; i++) {
    const before = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = mono - (before + after) / 2;
    }
  }
  return offset;
}

const OFFSET = calibrate();

/** CLOCK_MONOTONIC in milliseconds (fractional): comparable between processes of one machine. */
export function monotonicMs(): number {
  return OFFSET + performance.now();
}
