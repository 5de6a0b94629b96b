// The engine's time: the wall clock in live, paper and dry-run; a virtual clock the data drives in backtests.
import { runAt } from '../../ts/process/wall-timer.js';

/** A task scheduled on an {@link EngineClock}; `cancel` is idempotent. */
export interface ScheduledTask {
  cancel(): void;
}

/**
 * Time as the engine sees it. Everything time-based in the engine (TWAP slices, post-only
 * timeouts, quiet-market bar closes) goes through `schedule`, never `setTimeout`, so a backtest
 * runs it on data time, deterministically.
 */
export interface EngineClock {
  now(): number;
  /** Runs `task` once at or after `at` (engine time). */
  schedule(at: number, task: () => void): ScheduledTask;
}

/**
 * `Date.now()` time; tasks wait with {@link runAt}, so one runs at or after its time even when
 * Node's timer fires early, and does not keep the process alive.
 */
export class WallClock implements EngineClock {
  now(): number {
    return Date.now();
  }

  schedule(at: number, task: () => void): ScheduledTask {
    return { cancel: runAt(at, task, { unref: true }) };
  }
}

interface VirtualTask {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

/**
 * Time that moves only when the driver says so (`advanceTo`): due tasks run in time order (ties
 * in scheduling order), each with `now()` equal to its own time. Deterministic by construction.
 */
export class VirtualClock implements EngineClock {
  #now: number;
  #seq = 0;
  readonly #heap: VirtualTask[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(at: number, task: () => void): ScheduledTask {
    const entry: VirtualTask = { at: Math.max(at, this.#now), seq: this.#seq++, run: task, cancelled: false };
    this.#push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Time of the earliest pending task, or `Infinity`. */
  nextDue(): number {
    while (this.#heap.length > 0 && this.#heap[0]?.cancelled === true) this.#pop();
    return this.#heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  /** Runs every task due at or before `time` (tasks they schedule too, when due), then sets `now` to `time`. */
  advanceTo(time: number): void {
    for (;;) {
      const next = this.#heap[0];
      if (next === undefined || next.at > time) break;
      this.#pop();
      if (next.cancelled) continue;
      if (next.at > this.#now) this.#now = next.at;
      next.run();
    }
    if (time > this.#now) this.#now = time;
  }

  /** Pending (not cancelled) tasks. */
  pending(): number {
    return this.#heap.filter((t) => !t.cancelled).length;
  }

  #less(a: VirtualTask, b: VirtualTask): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(task: VirtualTask): void {
    const heap = this.#heap;
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as VirtualTask;
      if (!this.#less(task, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = task;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      let bestTask = last;
      const lt = heap[l];
      if (lt !== undefined && this.#less(lt, bestTask)) {
        best = l;
        bestTask = lt;
      }
      const rt = heap[r];
      if (rt !== undefined && this.#less(rt, bestTask)) best = r;
      if (best === i) break;
      heap[i] = heap[best] as VirtualTask;
      i = best;
    }
    heap[i] = last;
  }
}
