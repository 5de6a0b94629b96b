// Test machines for the fleet test: network namespaces on one bridge, each running sshd with its own /etc, /opt and a systemctl stand-in.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { namespacesUnavailable, type TestHost, TestNetwork } from '../../../ts/testing/net-namespace.js';

/** One test machine: a namespace with sshd, and the folders that are its /etc and /opt. */
export interface SshTestHost extends TestHost {
  /** The folder mounted at /etc inside (a copy of this machine's /etc). */
  readonly etc: string;
  /** The folder mounted at /opt inside (the install dir is /opt/tributary). */
  readonly opt: string;
  /** Stops its sshd (the machine is "down" for ssh). */
  stopSshd(): Promise<void>;
  /** Starts sshd again. */
  startSshd(): Promise<void>;
}

/** Why the fleet test cannot run here, or undefined. */
export function sshHostsUnavailable(distUnitRunner: string): string | undefined {
  const netns = namespacesUnavailable();
  if (netns !== undefined) return netns;
  if (!existsSync('/usr/sbin/sshd')) return 'no sshd (apt-get install openssh-server)';
  for (const tool of ['ssh', 'scp', 'ssh-keygen', 'unshare', 'runuser', 'useradd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool} on this machine`;
  }
  if (!existsSync(distUnitRunner)) return `${distUnitRunner} is missing: run \`npm run build\` first`;
  return undefined;
}

function waitForPort(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`${address}:${port} did not open within ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * `count` machines on a private test network (TestNetwork) with their folders under `dir`, reachable as root over ssh with the
 * key at `<dir>/id_ed25519`. Each runs its sshd (and everything it starts) in its own network
 * namespace and mount namespace, where /etc, /opt and /usr/local/sbin are its own folders:
 * `useradd`, units in /etc/systemd/system and the install in /opt/tributary stay on that machine.
 * /usr/local/sbin/systemctl is the unit runner (`unitRunner`, a compiled JS file) because systemd
 * cannot run inside the test.
 */
export async function startSshHosts(
  dir: string,
  tag: string,
  count: number,
  unitRunner: string,
): Promise<{ network: TestNetwork; hosts: SshTestHost[]; identityFile: string; close(): void }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const identityFile = join(dir, 'id_ed25519');
  if (!existsSync(identityFile)) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identityFile]);
  }
  const publicKey = readFileSync(`${identityFile}.pub`, 'utf8');
  const network = new TestNetwork(tag);
  const sshds = new Map<string, ChildProcess>();
  const hosts: SshTestHost[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const host = network.addHost();
      const root = join(dir, host.name);
      const etc = join(root, 'etc');
      const opt = join(root, 'opt');
      const sbin = join(root, 'sbin');
      mkdirSync(opt, { recursive: true });
      mkdirSync(sbin, { recursive: true });
      cpSync('/etc', etc, { recursive: true, verbatimSymlinks: true });
      mkdirSync(join(etc, 'systemd', 'system'), { recursive: true });
      for (const f of readdirSync(join(etc, 'ssh'))) {
        if (f.startsWith('ssh_host_')) execFileSync('rm', ['-f', join(etc, 'ssh', f)]);
      }
      execFileSync('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-f',
        join(etc, 'ssh', 'ssh_host_ed25519_key'),
      ]);
      writeFileSync(join(etc, 'ssh', 'test_authorized_keys'), publicKey);
      writeFileSync(
        join(etc, 'ssh', 'sshd_test_config'),
        [
          `ListenAddress ${host.address}`,
          'Port 22',
          'HostKey /etc/ssh/ssh_host_ed25519_key',
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'AuthorizedKeysFile /etc/ssh/test_authorized_keys',
          'StrictModes no',
          'PidFile none',
          'Subsystem sftp internal-sftp',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(sbin, 'systemctl'),
        `#!/bin/sh\nexec ${process.execPath} ${unitRunner} --units /etc/systemd/system --state /opt/.unit-runner "$@"\n`,
      );
      chmodSync(join(sbin, 'systemctl'), 0o755);
      const startSshd = async () => {
        const child = spawn(
          'ip',
          [
            'netns',
            'exec',
            host.name,
            'unshare',
            '--mount',
            '--propagation',
            'private',
            'sh',
            '-c',
            `mount --bind ${etc} /etc && mount --bind ${opt} /opt && mount --bind ${sbin} /usr/local/sbin && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_test_config`,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString()).slice(-4000);
        });
        sshds.set(host.name, child);
        try {
          await waitForPort(host.address, 22, 10_000);
        } catch (error) {
          throw new Error(`sshd on ${host.name} did not start: ${stderr || (error as Error).message}`);
        }
      };
      const stopSshd = async () => {
        const child = sshds.get(host.name);
        if (child === undefined || child.exitCode !== null) return;
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      };
      await startSshd();
      hosts.push({ ...host, etc, opt, stopSshd, startSshd });
    }
  } catch (error) {
    for (const child of sshds.values()) child.kill('SIGKILL');
    killNamespaces(network);
    network.remove();
    throw error;
  }
  return {
    network,
    hosts,
    identityFile,
    close() {
      for (const child of sshds.values()) child.kill('SIGKILL');
      killNamespaces(network);
      network.remove();
    },
  };
}

/** Kills every process still running in the network's namespaces (services the test started). */
function killNamespaces(network: TestNetwork): void {
  for (const host of network.hosts) {
    const pids = spawnSync('ip', ['netns', 'pids', host.name], { encoding: 'utf8' }).stdout.trim();
    for (const pid of pids.split('\n').filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
