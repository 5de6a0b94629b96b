// Starts, watches, restarts and stops the child processes of a one-machine Tributary.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { AlertSink } from '../../ts/alerts/alert.js';
import { processExitAlert } from '../../ts/alerts/alert-sources.js';
import type { Logger } from '../../ts/log/logger.js';
import { PARENT_LINK_ENV, PARENT_LINK_IPC } from './parent-link.js';

/** One supervised process. */
export interface ChildSpec {
  /** Unique name, used as the prefix of its output lines (`hub`, `collector.kline.0`, ...). */
  readonly name: string;
  /** Arguments after the command (e.g. `['collect', 'kline']`). */
  readonly args: readonly string[];
  /** Extra environment on top of the supervisor's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** Restart it when it exits unexpectedly (within the restart budget). */
  readonly restart: boolean;
}

export type ChildState = 'running' | 'restarting' | 'stopped' | 'failed';

/** What `status()` reports per child. */
export interface ChildStatus {
  readonly name: string;
  readonly pid: number | undefined;
  readonly state: ChildState;
  readonly restarts: number;
  readonly lastExit: string | undefined;
}

/** A child that died more often than the restart budget allows, and is left down. */
export interface ChildFailure {
  readonly name: string;
  /** How it ended the last time (`code 3`, `signal SIGKILL`). */
  readonly lastExit: string;
  /** Restarts it had within the window before this last death. */
  readonly restarts: number;
  readonly windowMs: number;
}

export interface ProcessSupervisorOptions {
  /** The program and leading arguments every child runs, e.g. `[process.execPath, 'bin/tributary.js']`. */
  readonly command: readonly string[];
  readonly logger: Logger;
  /** The folder every child starts in (default this process's current folder). */
  readonly cwd?: string;
  /** Restarts allowed per child within `restartWindowMs`; the next death marks it failed (default 5). */
  readonly maxRestarts?: number;
  /** The window restarts are counted in (default 60 s). */
  readonly restartWindowMs?: number;
  /** Delay before a restart (default 1 s). */
  readonly restartDelayMs?: number;
  /** How long a child may take to exit after SIGTERM before SIGKILL (default 5 s). */
  readonly stopTimeoutMs?: number;
  /** Where children's output lines go (default: this process's stdout/stderr with a prefix). */
  readonly output?: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Called when a child is given up on (it kept dying, or it may not be restarted and failed). */
  readonly onChildFailed?: (failure: ChildFailure) => void;
  /** Told of every unexpected death (warning) and every child given up on (critical: a crash loop). */
  readonly alerts?: AlertSink;
}

interface Child {
  spec: ChildSpec;
  process: ChildProcess | undefined;
  state: ChildState;
  restartTimes: number[];
  restarts: number;
  lastExit: string | undefined;
  stopping: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Writes a child's line to this process's stdout or stderr with a `[name]` prefix. */
export function defaultOutput(name: string, line: string, stream: 'stdout' | 'stderr'): void {
  (stream === 'stdout' ? process.stdout : process.stderr).write(`[${name}] ${line}\n`);
}

/**
 * Runs child processes with their output prefixed, restarts those that die (a bounded number of
 * times within a window, each restart logged; past it the child is failed and `onChildFailed` is
 * told), and stops them all with SIGTERM, then SIGKILL after a timeout. Each child gets an IPC
 * channel whose close it watches (`parent-link.ts`), so children stop when this process dies,
 * whatever kills it.
 */
export class ProcessSupervisor {
  readonly #options: Required<Omit<ProcessSupervisorOptions, 'alerts'>>;
  readonly #alerts: AlertSink | undefined;
  readonly #children = new Map<string, Child>();

  constructor(options: ProcessSupervisorOptions) {
    this.#alerts = options.alerts;
    this.#options = {
      maxRestarts: 5,
      restartWindowMs: 60_000,
      restartDelayMs: 1000,
      stopTimeoutMs: 5000,
      output: defaultOutput,
      onChildFailed: () => {},
      cwd: process.cwd(),
      ...options,
    };
  }

  /** Starts a child; a name already running is an error. */
  start(spec: ChildSpec): void {
    const existing = this.#children.get(spec.name);
    if (existing !== undefined && (existing.state === 'running' || existing.state === 'restarting')) {
      throw new Error(`child "${spec.name}" is already running`);
    }
    const child: Child = {
      spec,
      process: undefined,
      state: 'running',
      restartTimes: [],
      restarts: 0,
      lastExit: undefined,
      stopping: false,
      timer: undefined,
    };
    this.#children.set(spec.name, child);
    this.#spawn(child);
  }

  #spawn(child: Child): void {
    const [program, ...lead] = this.#options.command;
    if (program === undefined) throw new Error('supervisor command is empty');
    const proc = spawn(program, [...lead, ...child.spec.args], {
      cwd: this.#options.cwd,
      env: { ...process.env, ...child.spec.env, [PARENT_LINK_ENV]: PARENT_LINK_IPC },
      // The fourth descriptor is the parent link: it closes when this process dies.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.process = proc;
    child.state = 'running';
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = proc[stream];
      if (source === null) continue;
      createInterface({ input: source }).on('line', (line) =>
        this.#options.output(child.spec.name, line, stream),
      );
    }
    proc.on('error', (error) => {
      this.#options.logger.error('child could not start', { child: child.spec.name, error: error.message });
    });
    proc.on('exit', (code, signal) => this.#onExit(child, proc, code, signal));
  }

  #onExit(child: Child, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.process !== proc) return;
    child.process = undefined;
    child.lastExit = signal === null ? `code ${code ?? 'unknown'}` : `signal ${signal}`;
    if (child.stopping) {
      child.state = 'stopped';
      return;
    }
    const log = this.#options.logger;
    const { maxRestarts, restartWindowMs } = this.#options;
    if (!child.spec.restart) {
      child.state = code === 0 ? 'stopped' : 'failed';
      log.warn('child exited', { child: child.spec.name, exit: child.lastExit });
      if (child.state === 'failed') {
        const failure = {
          name: child.spec.name,
          lastExit: child.lastExit,
          restarts: 0,
          windowMs: restartWindowMs,
        };
        this.#alerts?.raise(processExitAlert({ ...failure, givenUp: true }));
        this.#options.onChildFailed(failure);
      }
      return;
    }
    const now = Date.now();
    child.restartTimes = child.restartTimes.filter((t) => now - t < restartWindowMs);
    if (child.restartTimes.length >= maxRestarts) {
      child.state = 'failed';
      log.error('child keeps dying; not restarting it', {
        child: child.spec.name,
        exit: child.lastExit,
        restartsInWindow: child.restartTimes.length,
        windowMs: restartWindowMs,
      });
      const failure = {
        name: child.spec.name,
        lastExit: child.lastExit,
        restarts: child.restartTimes.length,
        windowMs: restartWindowMs,
      };
      this.#alerts?.raise(processExitAlert({ ...failure, givenUp: true }));
      this.#options.onChildFailed(failure);
      return;
    }
    child.restartTimes.push(now);
    child.restarts += 1;
    child.state = 'restarting';
    log.warn('child exited; restarting', {
      child: child.spec.name,
      exit: child.lastExit,
      attempt: child.restartTimes.length,
      of: maxRestarts,
    });
    this.#alerts?.raise(
      processExitAlert({
        name: child.spec.name,
        lastExit: child.lastExit,
        restarts: child.restartTimes.length,
        windowMs: restartWindowMs,
        givenUp: false,
      }),
    );
    child.timer = setTimeout(() => {
      child.timer = undefined;
      if (!child.stopping) this.#spawn(child);
    }, this.#options.restartDelayMs);
  }

  /** The pid of a running child (tests kill children on purpose). */
  pid(name: string): number | undefined {
    return this.#children.get(name)?.process?.pid;
  }

  /** Stops one child: SIGTERM, then SIGKILL after the stop timeout. */
  async stop(name: string): Promise<void> {
    const child = this.#children.get(name);
    if (child === undefined) return;
    child.stopping = true;
    if (child.timer !== undefined) clearTimeout(child.timer);
    const proc = child.process;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) {
      child.state = 'stopped';
      return;
    }
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.#options.logger.warn('child did not stop in time; killing it', { child: name });
      proc.kill('SIGKILL');
    }, this.#options.stopTimeoutMs);
    await exited;
    clearTimeout(killer);
    child.state = 'stopped';
  }

  /**
   * Stops every child, in reverse start order (traders first, the hub last). All are marked as
   * stopping first, so a child that exits on its own meanwhile (Ctrl-C reaches the whole process
   * group) is not restarted.
   */
  async stopAll(): Promise<void> {
    for (const child of this.#children.values()) {
      child.stopping = true;
      if (child.timer !== undefined) clearTimeout(child.timer);
    }
    for (const name of [...this.#children.keys()].reverse()) await this.stop(name);
  }

  status(): ChildStatus[] {
    return [...this.#children.values()].map((c) => ({
      name: c.spec.name,
      pid: c.process?.pid,
      state: c.state,
      restarts: c.restarts,
      lastExit: c.lastExit,
    }));
  }
}
