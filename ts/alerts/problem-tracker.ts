// Turns "which problems exist now" samples into alert transitions: a problem is reported once it has lasted past a grace, and its end once after that.

/** A problem that lasted past the grace (report it), or a reported one that ended (report that). */
export interface ProblemTransition<T> {
  readonly key: string;
  readonly problem: T;
  /** When it was first seen (epoch ms). */
  readonly since: number;
}

/**
 * Remembers, per key, since when a problem has been seen and whether it was reported. `update`
 * gets the problems present now and returns the ones to report as started (present for longer
 * than `graceMs`, not reported yet) and as ended (reported, absent now). A problem that clears
 * within the grace is never reported, so a blip does not page the owner.
 */
export class ProblemTracker<T> {
  readonly #graceMs: number;
  readonly #open = new Map<string, { since: number; reported: boolean; problem: T }>();

  constructor(graceMs: number) {
    this.#graceMs = graceMs;
  }

  update(
    now: number,
    current: ReadonlyMap<string, T>,
  ): { started: ProblemTransition<T>[]; ended: ProblemTransition<T>[] } {
    const started: ProblemTransition<T>[] = [];
    const ended: ProblemTransition<T>[] = [];
    for (const [key, entry] of this.#open) {
      if (current.has(key)) continue;
      this.#open.delete(key);
      if (entry.reported) ended.push({ key, problem: entry.problem, since: entry.since });
    }
    for (const [key, problem] of current) {
      let entry = this.#open.get(key);
      if (entry === undefined) {
        entry = { since: now, reported: false, problem };
        this.#open.set(key, entry);
      }
      entry.problem = problem;
      if (!entry.reported && now - entry.since >= this.#graceMs) {
        entry.reported = true;
        started.push({ key, problem, since: entry.since });
      }
    }
    return { started, ended };
  }

  /** Keys whose problem has been reported and not yet ended. */
  reported(): string[] {
    return [...this.#open].filter(([, entry]) => entry.reported).map(([key]) => key);
  }
}
