import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { silentLogger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { waitUntil } from '../../ts/testing/wait-until.js';

// `tributary up` as a user runs it: a real process with real children, against an exchange it does
// not own (the simulator runs in this test process, like a remote exchange).

const built = existsSync(join(packageRoot, 'dist', 'app', 'cli', 'main.js'));
const API_KEY = 'up-process-test-key-0123456789';
const API_SECRET = 'up-process-test-secret-0123456789';
const HUB_SECRET = 'up-process-test-hub-secret-0123456789';
/** How long the children of a killed `up` may take to notice and stop. */
const ORPHAN_BOUND_MS = 5000;

/** The state letter of a process (`R`, `S`, `Z`, ...), or undefined when there is no such process. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** A process that has exited (gone, or a zombie nobody reaped yet). */
function isGone(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

/** Live child processes of `parent`, with their arguments. */
function childrenOf(parent: number): { pid: number; args: string[] }[] {
  const found: { pid: number; args: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== parent || fields[0] === 'Z') continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== '');
      found.push({ pid: Number(entry), args });
    } catch {
      // The process ended while being read.
    }
  }
  return found;
}

/** The `tributary` command of a child (`hub`, `collect`, `trader`). */
function commandOf(args: readonly string[]): string | undefined {
  const at = args.findIndex((a) => a.endsWith('tributary.js'));
  return at < 0 ? undefined : args[at + 1];
}

interface UpRun {
  readonly proc: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Child process names from the banner. */
  processes(): string[];
}

let sim: RunningSimulator;
const running: ChildProcess[] = [];
const leftovers: number[] = [];

beforeAll(async () => {
  if (!built) return;
  sim = await startSimulator(
    {
      port: 0,
      seed: 7,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      accounts: [{ apiKey: API_KEY, apiSecret: API_SECRET }],
      source: { kind: 'random-walk', tradesPerSecond: 20 },
    },
    { logger: silentLogger('sim') },
  );
});

afterAll(async () => {
  for (const proc of running) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    leftovers.push(...childrenOf(proc.pid ?? -1).map((c) => c.pid));
    proc.kill('SIGKILL');
  }
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await sim?.stop();
});

function startUp(config: Record<string, unknown>): UpRun {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-up-process-'));
  const configFile = join(dir, 'tributary.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      exchange: { kind: 'simulator', restUrl: sim.restUrl, wsUrl: sim.wsUrl },
      hub: { port: 0 },
      dashboard: { port: 0 },
      collectors: {
        kline: { intervalMs: 200, intervals: ['1m'] },
        account: { intervalMs: 500 },
        positionRisk: { intervalMs: 500 },
      },
      trader: { intervals: ['1m'] },
      ...config,
    }),
  );
  const proc = spawn(
    process.execPath,
    [join(packageRoot, 'bin', 'tributary.js'), 'up', '--config', configFile],
    {
      env: {
        ...process.env,
        BINANCE_API_KEY: API_KEY,
        BINANCE_API_SECRET: API_SECRET,
        TRIBUTARY_HUB_SECRET: HUB_SECRET,
      },
      // Its state (records, trader journal, log) in the test's folder, not the checkout's `.tributary/`.
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.push(proc);
  const stdout: string[] = [];
  const stderr: string[] = [];
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    stdout,
    stderr,
    exit,
    processes: () => {
      const line = stdout
        .join('')
        .split('\n')
        .find((l) => l.trim().startsWith('processes:'));
      return line === undefined
        ? []
        : line
            .trim()
            .slice('processes:'.length)
            .split(',')
            .map((s) => s.trim());
    },
  };
}

/** The line each kind of process logs once it is at work. */
const STARTED = [
  '"msg":"hub listening"',
  '"msg":"collector started"',
  '"msg":"trader book synced"',
  '"msg":"recording"',
  '"msg":"publishing"',
  '"msg":"dashboard serving"',
  '"msg":"gateway listening"',
];

/** Waits for the banner and for every process it names to be at work (collectors polling the exchange). */
async function untilRunning(up: UpRun): Promise<{ pid: number; args: string[] }[]> {
  const pid = up.proc.pid ?? -1;
  await waitUntil(() => up.processes().length > 0, 'the banner of tributary up', 60_000, 50);
  const names = up.processes();
  const started = (name: string) =>
    up.stderr
      .join('')
      .split('\n')
      .some((line) => line.startsWith(`[${name}] `) && STARTED.some((s) => line.includes(s)));
  await waitUntil(() => names.every(started), 'every process at work', 60_000, 50);
  await waitUntil(() => childrenOf(pid).length === names.length, `${names.length} children`, 20_000, 50);
  return childrenOf(pid);
}

describe.skipIf(!built)('tributary up as a process', () => {
  it('takes every child with it when it is killed with SIGKILL', async () => {
    const up = startUp({});
    const children = await untilRunning(up);
    expect(children.length).toBeGreaterThanOrEqual(10);
    leftovers.push(...children.map((c) => c.pid));

    up.proc.kill('SIGKILL');
    await up.exit;
    const killedAt = Date.now();
    await waitUntil(
      () => children.every((c) => isGone(c.pid)),
      'every child gone',
      ORPHAN_BOUND_MS,
      20,
    ).catch(() => {
      const alive = children.filter((c) => !isGone(c.pid)).map((c) => `${c.pid} ${commandOf(c.args)}`);
      throw new Error(`children still running ${ORPHAN_BOUND_MS} ms after up died: ${alive.join(', ')}`);
    });
    expect(Date.now() - killedAt).toBeLessThan(ORPHAN_BOUND_MS);
  }, 90_000);

  it('ends, stopping everything, with a non-zero exit naming the child when a child keeps dying', async () => {
    const up = startUp({
      supervisor: { maxRestarts: 2, restartWindowMs: 60_000, restartDelayMs: 100, stopTimeoutMs: 1000 },
    });
    const pid = up.proc.pid ?? -1;
    const children = await untilRunning(up);
    leftovers.push(...children.map((c) => c.pid));

    // Three deaths of the hub within the window: two restarts, then up gives up.
    let killed = 0;
    for (let death = 1; death <= 3; death++) {
      await waitUntil(
        () => childrenOf(pid).some((c) => commandOf(c.args) === 'hub'),
        `a hub to kill (death ${death})`,
        20_000,
        20,
      );
      const hub = childrenOf(pid).find((c) => commandOf(c.args) === 'hub');
      if (hub === undefined) throw new Error('no hub');
      leftovers.push(hub.pid);
      process.kill(hub.pid, 'SIGKILL');
      killed += 1;
      await waitUntil(() => isGone(hub.pid), 'the killed hub gone', 5000, 20);
    }
    expect(killed).toBe(3);

    // Children stop one after another, each given stopTimeoutMs after SIGTERM: about a dozen of
    // them may take that long on a loaded machine (the Node 22 pass once needed more than 20 s).
    const result = await Promise.race([
      up.exit,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 45_000)),
    ]);
    expect(result).not.toBe('still running');
    expect(result).toMatchObject({ code: 1, signal: null });
    const errors = up.stderr.join('');
    expect(errors).toMatch(/hub/);
    expect(errors).toMatch(/signal SIGKILL/);
    expect(errors).toMatch(/tributary up: .*hub.*(restart|died)/);
    const all = childrenOf(pid);
    expect(all).toEqual([]);
    for (const child of children) expect(isGone(child.pid)).toBe(true);
  }, 120_000);
});
