// A backtest's virtual time: the engine's timers at their own times, the risk side's timers once per replay step.
import { type EngineClock, type ScheduledTask, VirtualClock } from '../../trader/engine/engine-clock.js';

/**
 * The risk side's clock in a backtest. `now()` is the replay's time; what is scheduled waits in its
 * own queue and runs when the replay steps past it ({@link ReplayClock.advanceTo}), at the step's
 * time, not at its own. The risk side's timers are periodic checks (the ladders every 250 ms, the
 * loss guard every 500 ms, the order timeouts every 250 ms) of the market and the account, and
 * both change only at the replay's steps: a check between two steps would see what the check at
 * the next step sees, so running every due one once per step decides the same thing, a day of
 * replay then costs one check per step instead of a million timer turns. A one-shot (a ladder's
 * retry after a stop fired) runs at the first step at or after its time.
 */
export class StepTimers implements EngineClock {
  readonly #time: () => number;
  readonly #queue: VirtualClock;

  constructor(time: () => number, start: number) {
    this.#time = time;
    this.#queue = new VirtualClock(start);
  }

  now(): number {
    return this.#time();
  }

  schedule(at: number, task: () => void): ScheduledTask {
    return this.#queue.schedule(at, task);
  }

  /** Time of the earliest waiting task, or `Infinity`. */
  nextDue(): number {
    return this.#queue.nextDue();
  }

  /**
   * Runs every task due at `now`, once (a periodic one schedules its next turn after `now`), and
   * those they schedule at or before `now`; returns whether any ran.
   */
  runDue(now: number): boolean {
    if (this.#queue.nextDue() > now) return false;
    this.#queue.advanceTo(now);
    return true;
  }

  /** Runs the earliest waiting task whatever its time (only to let work finish when the run ends). */
  runNext(): boolean {
    const due = this.#queue.nextDue();
    if (!Number.isFinite(due)) return false;
    this.#queue.advanceTo(due);
    return true;
  }
}

/** The engine's {@link VirtualClock}; every step of it also runs the risk side's due timers. */
export class ReplayClock extends VirtualClock {
  readonly steps: StepTimers;

  constructor(start: number) {
    super(start);
    this.steps = new StepTimers(() => this.now(), start);
  }

  /** The engine's timers due up to `time`, each at its own time, then the risk side's, at `time`. */
  override advanceTo(time: number): void {
    super.advanceTo(time);
    this.steps.runDue(this.now());
  }
}
