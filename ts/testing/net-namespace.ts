// Test hosts as Linux network namespaces on one bridge: each has its own address, all reach each other and this machine.
import { execFileSync, spawnSync } from 'node:child_process';

/** One test host: a network namespace with one address on the test network. */
export interface TestHost {
  readonly name: string;
  /** The host's address (what others see as its address). */
  readonly address: string;
  /** Runs `command` inside the namespace and returns its stdout. */
  exec(command: string, args: readonly string[]): string;
}

function ip(args: readonly string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}

/**
 * Why network namespaces cannot be made here (not Linux, not root, no `ip`, no permission), or
 * undefined when they can. Tests that need them skip with this message.
 */
export function namespacesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root';
  const probe = `trbprobe${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return `no \`ip\` command (iproute2): ${add.error.message}`;
  if (add.status !== 0) return `\`ip netns add\` failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'delete', probe]);
  return undefined;
}

/**
 * A private test network: a bridge on this machine at `10.<n>.0.1/24` and namespaces on it at
 * `10.<net>.0.2`, `.3`, ... Only addresses this test made are used; nothing outside the machine is
 * reached. {@link remove} deletes every namespace and link it made.
 */
export class TestNetwork {
  /** This machine's address on the network. */
  readonly hostAddress: string;
  readonly #bridge: string;
  readonly #prefix: string;
  readonly #hosts: TestHost[] = [];
  readonly #tag: string;

  /**
   * `tag` (two letters) and this process's id name the links and namespaces, and the subnet is one
   * no interface of this machine has yet, so concurrent test runs never share either.
   */
  constructor(tag: string) {
    this.#tag = `${tag.slice(0, 2)}${process.pid.toString(36).slice(-4)}`;
    const inUse = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
    let net = 100 + (process.pid % 150);
    for (let tries = 0; inUse.includes(` 10.${net}.0.`) && tries < 150; tries += 1)
      net = 100 + ((net - 99) % 150);
    this.#prefix = `10.${net}.0`;
    this.hostAddress = `${this.#prefix}.1`;
    this.#bridge = `${this.#tag}-br`;
    spawnSync('ip', ['link', 'delete', this.#bridge]);
    ip(['link', 'add', this.#bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${this.hostAddress}/24`, 'dev', this.#bridge]);
    ip(['link', 'set', this.#bridge, 'up']);
  }

  get hosts(): readonly TestHost[] {
    return this.#hosts;
  }

  /** A new namespace on the network, with loopback up. */
  addHost(): TestHost {
    const index = this.#hosts.length;
    const name = `${this.#tag}-h${index}`;
    const address = `${this.#prefix}.${index + 2}`;
    const outside = `${this.#tag}-v${index}`;
    spawnSync('ip', ['netns', 'delete', name]);
    spawnSync('ip', ['link', 'delete', outside]);
    ip(['netns', 'add', name]);
    try {
      ip(['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
      ip(['link', 'set', outside, 'master', this.#bridge]);
      ip(['link', 'set', outside, 'up']);
      ip(['-n', name, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      ip(['-n', name, 'link', 'set', 'eth0', 'up']);
      ip(['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      spawnSync('ip', ['netns', 'delete', name]);
      spawnSync('ip', ['link', 'delete', outside]);
      throw error;
    }
    const host: TestHost = {
      name,
      address,
      exec: (command, args) =>
        execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8', timeout: 60_000 }),
    };
    this.#hosts.push(host);
    return host;
  }

  /** Deletes every namespace, veth and the bridge. */
  remove(): void {
    this.#hosts.forEach((host, index) => {
      spawnSync('ip', ['netns', 'delete', host.name]);
      spawnSync('ip', ['link', 'delete', `${this.#tag}-v${index}`]);
    });
    this.#hosts.length = 0;
    spawnSync('ip', ['link', 'delete', this.#bridge]);
  }
}
