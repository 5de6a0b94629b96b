// How the deploy reaches a fleet: each host over ssh (probe all at once) and the hub's full status with the deploy's own key and certificate.
import type { HubStatus } from '../hub/hub-status.js';
import { readFullStatus, type StatusSource } from '../hub/status-client.js';
import type { DeployState } from './deploy-state.js';
import { layoutOf, PlanError } from './fleet-plan.js';
import { type HealthExpectation, processesOf, waitHealthy } from './health-check.js';
import { hubUrlOf } from './host-config.js';
import { type HostState, probeHost } from './host-probe.js';
import type { Inventory, InventoryHost } from './inventory.js';
import { RemoteError, type RemoteShell, type SshTarget } from './remote-shell.js';

/** Where the deploy writes what a person reads. */
export type Report = (line: string) => void;

/** Hosts that could not be reached; nothing was changed anywhere. */
export class UnreachableHostsError extends Error {
  override readonly name = 'UnreachableHostsError';
  constructor(readonly errors: readonly RemoteError[]) {
    super(
      `cannot reach ${errors.length === 1 ? 'a host' : `${errors.length} hosts`}; nothing was changed on any host:\n${errors
        .map((e) => `  ${e.message}`)
        .join('\n')}`,
    );
  }
}

/** The inventory, the deploy's state and the ssh runner, with what every deploy action needs of them. */
export class FleetAccess {
  constructor(
    readonly inventory: Inventory,
    readonly state: DeployState,
    readonly shell: RemoteShell,
  ) {}

  /** How ssh reaches `host` (the fleet's ssh settings, the host's over them). */
  target(host: InventoryHost): SshTarget {
    const ssh = { ...this.inventory.ssh, ...host.ssh };
    return {
      host: host.name,
      address: host.address,
      user: ssh.user ?? 'root',
      port: ssh.port ?? 22,
      identityFile: ssh.identityFile,
      options: ssh.options ?? [],
    };
  }

  /** The host that runs the hub. */
  hubHost(): InventoryHost {
    const hub = this.inventory.hosts.find((h) => h.name === this.inventory.hub.host);
    if (hub === undefined) throw new PlanError([`hub.host "${this.inventory.hub.host}" is not in hosts`]);
    return hub;
  }

  /** Every host probed at once: its state, or why it could not be reached. */
  async probeAll(): Promise<Map<string, HostState | RemoteError>> {
    const results = await Promise.allSettled(
      this.inventory.hosts.map((host) =>
        probeHost(this.shell, this.target(host), layoutOf(this.inventory, host)),
      ),
    );
    const out = new Map<string, HostState | RemoteError>();
    results.forEach((result, i) => {
      const host = this.inventory.hosts[i];
      if (host === undefined) return;
      if (result.status === 'fulfilled') out.set(host.name, result.value);
      else if (result.reason instanceof RemoteError) out.set(host.name, result.reason);
      else out.set(host.name, new RemoteError(host.name, 'probe', (result.reason as Error).message, true));
    });
    return out;
  }

  /** Every host's state; throws {@link UnreachableHostsError} naming every host it could not reach. */
  async observe(): Promise<Map<string, HostState>> {
    const states = new Map<string, HostState>();
    const unreachable: RemoteError[] = [];
    for (const [name, result] of await this.probeAll()) {
      if (result instanceof RemoteError) unreachable.push(result);
      else states.set(name, result);
    }
    if (unreachable.length > 0) throw new UnreachableHostsError(unreachable);
    return states;
  }

  /** Where and how to read the hub's full status, or undefined before the deploy has a key. */
  async statusSource(): Promise<StatusSource | undefined> {
    const key = this.state.deployKey();
    if (key === undefined) return undefined;
    return {
      hubUrl: hubUrlOf(this.inventory),
      key,
      tls: this.inventory.tls.enabled ? await this.state.clientTls() : undefined,
    };
  }

  /** The hub's full status now. */
  async hubStatus(): Promise<HubStatus> {
    const source = await this.statusSource();
    if (source === undefined) throw new Error('the deploy has no hub key yet (apply first)');
    return readFullStatus(source);
  }

  /** The process of each peer the hub shows now (empty when the hub cannot be read yet). */
  async processes(): Promise<Map<string, string>> {
    const source = await this.statusSource();
    if (source === undefined) return new Map();
    try {
      return processesOf(await readFullStatus({ ...source, timeoutMs: 3_000 }));
    } catch {
      // No hub yet (first deploy) or down: nothing to compare against; the version check remains.
      return new Map();
    }
  }

  /** Waits for `expect` through the hub; undefined (and said) when the deploy has no key yet. */
  async waitHealthy(expect: HealthExpectation, report: Report): Promise<HubStatus | undefined> {
    const source = await this.statusSource();
    if (source === undefined) {
      report('No deploy key yet: health check skipped.');
      return undefined;
    }
    const status = await waitHealthy(source, expect);
    report(`Healthy: the hub reports all ${expect.peers.length} peers on ${expect.version}, up for 3 s.`);
    return status;
  }
}
