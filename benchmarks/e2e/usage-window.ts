// Samples a process's CPU time and memory over a measured window given in monotonic ms.
import { monotonicMs } from './clock.js';
import type { ProcessUsage } from './protocol.js';

const MIB = 1024 * 1024;

/** CPU % of one core from two `process.cpuUsage()` readings `elapsedMs` apart. */
export function cpuPercent(start: NodeJS.CpuUsage, end: NodeJS.CpuUsage, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  const micros = end.user - start.user + (end.system - start.system);
  return (micros / 1000 / elapsedMs) * 100;
}

/** Reads CPU at the window's start and end (timers on the shared clock) and memory at the end. */
export class UsageWindow {
  #start: { cpu: NodeJS.CpuUsage; at: number } | undefined;
  #result: ProcessUsage | undefined;
  #waiters: Array<(usage: ProcessUsage) => void> = [];
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(windowStart: number, windowEnd: number) {
    const now = monotonicMs();
    this.#timers.push(
      setTimeout(
        () => {
          this.#start = { cpu: process.cpuUsage(), at: monotonicMs() };
        },
        Math.max(0, windowStart - now),
      ),
      setTimeout(() => this.#finish(), Math.max(0, windowEnd - now)),
    );
  }

  /** Resolves with the usage once the window has ended. */
  result(): Promise<ProcessUsage> {
    if (this.#result !== undefined) return Promise.resolve(this.#result);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  cancel(): void {
    for (const timer of this.#timers) clearTimeout(timer);
  }

  #finish(): void {
    const start = this.#start ?? { cpu: process.cpuUsage(), at: monotonicMs() };
    const memory = process.memoryUsage();
    this.#result = {
      cpuPercent: cpuPercent(start.cpu, process.cpuUsage(), monotonicMs() - start.at),
      rssMiB: memory.rss / MIB,
      heapUsedMiB: memory.heapUsed / MIB,
      maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
    };
    for (const resolve of this.#waiters) resolve(this.#result);
    this.#waiters = [];
  }
}
