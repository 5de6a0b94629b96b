// CPU, memory and disk of this machine for the owner view (CPU busy share measured between two samples).
import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, hostname, loadavg, totalmem, uptime } from 'node:os';
import { dirname } from 'node:path';
import type { MachineStats } from '../ui/owner-types.js';

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/** Samples this machine; the CPU busy share covers the time since the previous call. */
export class MachineSampler {
  #previous = cpuTimes();
  readonly #diskPath: string;

  constructor(diskPath: string) {
    this.#diskPath = diskPath;
  }

  async sample(): Promise<MachineStats> {
    const now = cpuTimes();
    const total = now.total - this.#previous.total;
    const cpuBusy = total > 0 ? (now.busy - this.#previous.busy) / total : null;
    this.#previous = now;
    const disk = await statfsOfNearest(this.#diskPath);
    return {
      name: hostname(),
      cores: cpus().length,
      load1: loadavg()[0] ?? 0,
      cpuBusy,
      memoryTotal: totalmem(),
      memoryFree: freemem(),
      diskPath: this.#diskPath,
      diskTotal: disk.blocks * disk.bsize,
      diskFree: disk.bavail * disk.bsize,
      uptimeS: uptime(),
    };
  }
}

/**
 * `statfs` of `path`, or of its nearest existing ancestor while it does not exist yet: the state
 * root is created by the first trader, and the owner view may be asked for before that (the disk
 * it will live on is the ancestor's).
 */
async function statfsOfNearest(path: string): Promise<StatsFs> {
  let at = path;
  for (;;) {
    try {
      return await statfs(at);
    } catch (error) {
      const parent = dirname(at);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw error;
      at = parent;
    }
  }
}
