// Runs shell scripts on a host and copies files to it with the system's ssh, scp and rsync (OpenSSH's own agent, config and known_hosts).
import { spawn } from 'node:child_process';

/** How to reach one host over ssh. */
export interface SshTarget {
  /** The inventory's name (for messages). */
  readonly host: string;
  readonly address: string;
  readonly user: string;
  readonly port: number;
  readonly identityFile?: string | undefined;
  /** Extra `-o` options. */
  readonly options: readonly string[];
}

/** What a remote command did. */
export interface RemoteResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A host could not be reached, or a remote step failed; says which host and step. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly host: string,
    readonly step: string,
    message: string,
    readonly unreachable = false,
  ) {
    super(`${host}: ${step}: ${message}`);
  }
}

/** ssh exits 255 for its own failures (connection refused, timeout, authentication). */
const SSH_FAILURE = 255;

/** The `-o`/`-p`/`-i` options every ssh, scp and rsync call to `target` uses. */
export function sshOptions(target: SshTarget, portFlag: '-p' | '-P' = '-p'): string[] {
  return [
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    ...target.options.flatMap((o) => ['-o', o]),
    portFlag,
    String(target.port),
    ...(target.identityFile === undefined ? [] : ['-i', target.identityFile]),
  ];
}

/** `arg` quoted for a shell (rsync splits its `-e` command like one). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:@,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

function destination(target: SshTarget): string {
  const address = target.address.includes(':') ? `[${target.address}]` : target.address;
  return `${target.user}@${address}`;
}

function spawnCollect(command: string, args: string[], input: string | undefined, timeoutMs: number) {
  return new Promise<RemoteResult>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal === 'SIGKILL' ? 124 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {
      // The remote side may exit before reading all of its script (it failed early): the close
      // handler reports that.
    });
    child.stdin.end(input ?? '');
  });
}

/** The last meaningful line of a command's error output. */
function lastLine(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.at(-1)?.trim() ?? '';
}

/** Runs shell commands on hosts; the root user's (or sudo's) `sh` reads the script from stdin. */
export class RemoteShell {
  readonly #sudo: boolean;

  /** `sudo`: wrap scripts in `sudo -n` (for a login user that is not root). */
  constructor(options: { sudo: boolean }) {
    this.#sudo = options.sudo;
  }

  /**
   * Runs `script` with `sh -s` on `target`. Resolves with its exit code and output; rejects with a
   * {@link RemoteError} (`unreachable`) only when ssh itself failed to connect.
   */
  async run(target: SshTarget, step: string, script: string, timeoutMs = 300_000): Promise<RemoteResult> {
    const shell = this.#sudo && target.user !== 'root' ? 'sudo -n sh -s' : 'sh -s';
    const result = await spawnCollect(
      'ssh',
      [...sshOptions(target), destination(target), shell],
      script,
      timeoutMs,
    );
    if (result.code === SSH_FAILURE) {
      throw new RemoteError(
        target.host,
        step,
        `cannot reach ${target.address} over ssh: ${lastLine(result.stderr) || 'ssh failed'}`,
        true,
      );
    }
    if (result.code === 124) throw new RemoteError(target.host, step, `no answer within ${timeoutMs} ms`);
    return result;
  }

  /** Like {@link run}, but a non-zero exit is a {@link RemoteError} carrying the script's last error line. */
  async check(target: SshTarget, step: string, script: string, timeoutMs?: number): Promise<string> {
    const result = await this.run(target, step, script, timeoutMs);
    if (result.code !== 0) {
      throw new RemoteError(
        target.host,
        step,
        `exit ${result.code}: ${lastLine(result.stderr) || lastLine(result.stdout)}`,
      );
    }
    return result.stdout;
  }

  /**
   * Copies the contents of local folder `from` into `to` on `target` (created by the caller):
   * rsync when the host has it (only changed files travel), else scp.
   */
  async copy(target: SshTarget, from: string, to: string, useRsync: boolean): Promise<void> {
    const remote = `${destination(target)}:${to}/`;
    const result = useRsync
      ? await spawnCollect(
          'rsync',
          [
            '-a',
            '--chmod=go-rwx',
            '-e',
            ['ssh', ...sshOptions(target)].map(shellQuote).join(' '),
            `${from}/`,
            remote,
          ],
          undefined,
          600_000,
        )
      : await spawnCollect(
          'scp',
          ['-r', '-p', ...sshOptions(target, '-P'), `${from}/.`, remote],
          undefined,
          600_000,
        );
    if (result.code !== 0) {
      throw new RemoteError(
        target.host,
        'copy',
        `${useRsync ? 'rsync' : 'scp'} to ${to} failed (exit ${result.code}): ${lastLine(result.stderr)}`,
        result.code === SSH_FAILURE,
      );
    }
  }
}
