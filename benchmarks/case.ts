// What a benchmark case is: the native path and its pure-TypeScript baseline doing the same work.

/**
 * How a case's figure is expressed. Only `msg/s` is better when larger (`ratio = ours / baseline`);
 * every other unit (times, sizes, CPU, memory) gets `ratio = baseline / ours`.
 */
export type Unit = 'ns/msg' | 'us/msg' | 'us' | 'bytes' | 'rows' | 'msg/s' | '%core' | 'MiB';

/**
 * One comparison. `native` and `baseline` each process the same `batch` inputs once per call
 * (a call is timed as a whole and divided by `batch`), so the per-call timer overhead does not
 * swamp sub-microsecond work. Both must do the same work: same inputs, same results (checked by
 * `verify` before timing, and by the suites' tests).
 */
export interface Case {
  /** Stable name, e.g. `parse+merge/kline`. */
  name: string;
  unit: Unit;
  /** Messages processed by one call of `native` / `baseline`. */
  batch: number;
  /** Resets any state both sides keep between rounds (books, aggregators). */
  setup?: () => void;
  native: () => void;
  baseline: () => void;
  /** Throws when the two paths disagree on the case's inputs. */
  verify?: () => void;
}

/** A figure that is measured, not timed (bytes on the wire). */
export interface Measure {
  name: string;
  unit: Unit;
  ours: number;
  baseline: number;
}
