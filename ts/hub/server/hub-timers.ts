// The hub's clocks: heartbeats and idle timeouts, periodic snapshots, and the resume check of paused peers.

/** What runs on the hub's timers. */
export interface TimedJobs {
  /** Heartbeat to every peer; idle ones closed. */
  heartbeat(): void;
  /** Full snapshots of every stream (reconciliation). */
  periodicSnapshots(): void;
  /** Paused peers that drained go live again. */
  resumeDrained(): void;
}

/** How often each job runs. */
export interface TimerSettings {
  heartbeatMs: number;
  /** 0 turns periodic snapshots off. */
  snapshotIntervalMs: number;
  /** Paused peers are checked this often, so a drained one resumes promptly even where the
   * transport's drain event does not fire (it fires only after a send reported back-pressure). */
  resumeCheckMs: number;
}

/** Starts the intervals (unref'd: they never keep the process alive) and stops them all at once. */
export class HubTimers {
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(settings: TimerSettings, jobs: TimedJobs) {
    this.#timers.push(setInterval(() => jobs.heartbeat(), settings.heartbeatMs));
    if (settings.snapshotIntervalMs > 0)
      this.#timers.push(setInterval(() => jobs.periodicSnapshots(), settings.snapshotIntervalMs));
    this.#timers.push(setInterval(() => jobs.resumeDrained(), settings.resumeCheckMs));
    for (const timer of this.#timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
  }
}
