// For test hosts without systemd: a `systemctl` stand-in that runs a unit's ExecStart as its User, with its EnvironmentFile and WorkingDirectory, restarting it as the unit says.
//
// It implements only what `tributary deploy` calls (daemon-reload, enable, disable [--now],
// start, stop, restart, is-active) and only the unit keys the deploy writes that change how the
// process runs. Sandboxing (ProtectSystem, NoNewPrivileges, ...) is NOT applied: the fleet test
// checks those with `systemd-analyze verify` and says so.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a unit file this runner uses. */
export interface ParsedUnit {
  readonly execStart: readonly string[];
  readonly user: string | undefined;
  readonly group: string | undefined;
  readonly workingDirectory: string | undefined;
  readonly environmentFile: string | undefined;
  readonly restart: string;
  readonly restartSec: number;
  readonly timeoutStopSec: number;
  readonly startLimitBurst: number;
  readonly startLimitIntervalSec: number;
}

/** Reads the keys of a unit file's sections (later keys win; no quoting: the deploy writes none). */
export function parseUnit(text: string): ParsedUnit {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const exec = values.get('ExecStart');
  if (exec === undefined || exec === '') throw new Error('unit has no ExecStart');
  const seconds = (key: string, fallback: number) => {
    const value = Number(values.get(key) ?? fallback);
    return Number.isFinite(value) ? value : fallback;
  };
  return {
    execStart: exec.split(/\s+/),
    user: values.get('User'),
    group: values.get('Group'),
    workingDirectory: values.get('WorkingDirectory'),
    environmentFile: values.get('EnvironmentFile'),
    restart: values.get('Restart') ?? 'no',
    restartSec: seconds('RestartSec', 0.1),
    timeoutStopSec: seconds('TimeoutStopSec', 90),
    startLimitBurst: seconds('StartLimitBurst', 5),
    startLimitIntervalSec: seconds('StartLimitIntervalSec', 10),
  };
}

/** `KEY=VALUE` lines of an environment file (comments and blank lines skipped). */
export function readEnvironmentFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Runner {
  constructor(
    readonly units: string,
    readonly state: string,
  ) {
    mkdirSync(state, { recursive: true });
  }

  #pidFile(unit: string) {
    return join(this.state, `${unit}.pid`);
  }

  #keeperPid(unit: string): number | undefined {
    const file = this.#pidFile(unit);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && alive(pid) ? pid : undefined;
  }

  isActive(unit: string): string {
    if (this.#keeperPid(unit) !== undefined) return 'active';
    const stateFile = join(this.state, `${unit}.state`);
    return existsSync(stateFile) ? readFileSync(stateFile, 'utf8').trim() : 'inactive';
  }

  async start(unit: string): Promise<void> {
    if (this.#keeperPid(unit) !== undefined) return;
    const file = join(this.units, unit);
    if (!existsSync(file)) throw new Error(`Unit ${unit} not found.`);
    parseUnit(readFileSync(file, 'utf8'));
    rmSync(this.#pidFile(unit), { force: true });
    const log = openSync(join(this.state, `${unit}.log`), 'a');
    const keeper = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--units', this.units, '--state', this.state, '--keep', unit],
      { detached: true, stdio: ['ignore', log, log] },
    );
    keeper.unref();
    closeSync(log);
    for (let i = 0; i < 50 && this.#keeperPid(unit) === undefined; i += 1) await sleep(50);
    if (this.#keeperPid(unit) === undefined) throw new Error(`Job for ${unit} failed.`);
  }

  async stop(unit: string): Promise<void> {
    const pid = this.#keeperPid(unit);
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 500 && alive(pid); i += 1) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(this.#pidFile(unit), { force: true });
    writeFileSync(join(this.state, `${unit}.state`), 'inactive\n');
  }

  /** Runs the unit's process, restarting it as `Restart=` says, until SIGTERM. */
  async keep(unit: string): Promise<void> {
    const parsed = parseUnit(readFileSync(join(this.units, unit), 'utf8'));
    writeFileSync(this.#pidFile(unit), String(process.pid));
    writeFileSync(join(this.state, `${unit}.state`), 'active\n');
    const id = (flag: string, name: string) =>
      Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
    const uid = parsed.user === undefined ? undefined : id('-u', parsed.user);
    const gid =
      parsed.group === undefined
        ? parsed.user === undefined
          ? undefined
          : id('-g', parsed.user)
        : id('-g', parsed.group);
    let stopping = false;
    let child: ReturnType<typeof spawn> | undefined;
    const starts: number[] = [];
    process.on('SIGTERM', () => {
      stopping = true;
      if (child?.exitCode === null) {
        child.kill('SIGTERM');
        setTimeout(() => child?.kill('SIGKILL'), parsed.timeoutStopSec * 1000).unref();
      } else process.exit(0);
    });
    while (!stopping) {
      const now = Date.now();
      starts.push(now);
      while ((starts[0] ?? now) < now - parsed.startLimitIntervalSec * 1000) starts.shift();
      if (starts.length > parsed.startLimitBurst) {
        process.stderr.write(`${unit}: start request repeated too quickly, giving up\n`);
        writeFileSync(join(this.state, `${unit}.state`), 'failed\n');
        rmSync(this.#pidFile(unit), { force: true });
        process.exit(1);
      }
      const env: Record<string, string> = {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        ...(parsed.user === undefined ? {} : { USER: parsed.user, LOGNAME: parsed.user }),
        HOME: parsed.workingDirectory ?? '/',
        ...(parsed.environmentFile === undefined ? {} : readEnvironmentFile(parsed.environmentFile)),
      };
      const [command, ...args] = parsed.execStart;
      child = spawn(command ?? '/bin/false', args, {
        cwd: parsed.workingDirectory ?? '/',
        env,
        stdio: 'inherit',
        ...(uid === undefined ? {} : { uid }),
        ...(gid === undefined ? {} : { gid }),
      });
      const code = await new Promise<number | null>((resolve) => {
        child?.on('exit', (c) => resolve(c));
        child?.on('error', (error) => {
          process.stderr.write(`${unit}: ${error.message}\n`);
          resolve(1);
        });
      });
      if (stopping) break;
      process.stderr.write(`${unit}: process exited (${code}); restart=${parsed.restart}\n`);
      if (parsed.restart !== 'always' && !(parsed.restart === 'on-failure' && code !== 0)) {
        writeFileSync(join(this.state, `${unit}.state`), code === 0 ? 'inactive\n' : 'failed\n');
        rmSync(this.#pidFile(unit), { force: true });
        process.exit(0);
      }
      await sleep(parsed.restartSec * 1000);
    }
    rmSync(this.#pidFile(unit), { force: true });
    writeFileSync(join(this.state, `${unit}.state`), 'inactive\n');
    process.exit(0);
  }
}

/** `systemctl`-like entry point: `unit-runner --units <dir> --state <dir> <verb> [--now] [units...]`. */
async function main(argv: string[]): Promise<number> {
  const take = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const [value] = argv.splice(i, 2).slice(1);
    return value;
  };
  const units = take('--units') ?? '/etc/systemd/system';
  const state = take('--state') ?? '/run/unit-runner';
  const runner = new Runner(units, state);
  const keep = take('--keep');
  if (keep !== undefined) {
    await runner.keep(keep);
    return 0;
  }
  const now = argv.includes('--now');
  const [verb, ...names] = argv.filter((a) => a !== '--now' && a !== '--quiet' && a !== '--no-block');
  switch (verb) {
    case 'daemon-reload':
      return 0;
    case 'enable':
      for (const n of names) writeFileSync(join(state, `${n}.enabled`), '');
      if (now) for (const n of names) await runner.start(n);
      return 0;
    case 'disable':
      for (const n of names) rmSync(join(state, `${n}.enabled`), { force: true });
      if (now) for (const n of names) await runner.stop(n);
      return 0;
    case 'start':
      for (const n of names) await runner.start(n);
      return 0;
    case 'stop':
      for (const n of names) await runner.stop(n);
      return 0;
    case 'restart':
      for (const n of names) {
        await runner.stop(n);
        await runner.start(n);
      }
      return 0;
    case 'is-active': {
      const states = names.map((n) => runner.isActive(n));
      process.stdout.write(`${states.join('\n')}\n`);
      return states.every((s) => s === 'active') ? 0 : 3;
    }
    default:
      process.stderr.write(`unit-runner: ${verb ?? '(none)'} is not supported\n`);
      return 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (!process.argv.includes('--keep')) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
