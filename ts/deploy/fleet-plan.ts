// What the fleet should run (services with fleet-wide instance numbers, their files) and what each host must change to get there.
import { createHash } from 'node:crypto';
import { readTributaryConfig } from '../config/tributary-config.js';
import { hostConfig, strategyModuleOf } from './host-config.js';
import type { HostState } from './host-probe.js';
import {
  type Inventory,
  type InventoryHost,
  SERVICE_KINDS,
  SERVICE_ROLE,
  type ServiceKind,
} from './inventory.js';
import type { ReleaseManifest } from './release-artifact.js';
import { secretsOf } from './service-secrets.js';
import { STRATEGY_DIR, shippedStrategyModule, strategyModuleProblem } from './strategy-module-file.js';
import {
  commandOf,
  type InstallLayout,
  type ServiceInstance,
  serviceInstance,
  unitFile,
} from './systemd-unit.js';

/** A plan cannot be made: the inventory or the hosts do not allow it; names the field or host. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
  constructor(readonly problems: readonly string[]) {
    super(`cannot deploy:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Instance numbers per host, stable across applies: a host keeps the instances it runs (its lowest
 * ones when its count shrinks), and new instances take the lowest numbers free in the whole fleet
 * (peer names `<kind>-<n>` are fleet-wide). So changing one host's count adds or removes only
 * that host's services.
 */
export function assignInstances(
  hosts: readonly InventoryHost[],
  observed: ReadonlyMap<string, HostState>,
): Map<string, ServiceInstance[]> {
  const result = new Map<string, ServiceInstance[]>(hosts.map((h) => [h.name, []]));
  for (const kind of SERVICE_KINDS) {
    if (kind === 'hub') {
      for (const host of hosts)
        if ((host.services.hub ?? 0) > 0) result.get(host.name)?.push(serviceInstance('hub', 0));
      continue;
    }
    const kept = new Map<string, number[]>();
    const used = new Set<number>();
    for (const host of hosts) {
      const want = host.services[kind] ?? 0;
      const have = [...(observed.get(host.name)?.units.keys() ?? [])]
        .map((name) => new RegExp(`^${kind}-(\\d+)$`).exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .filter((n) => !used.has(n))
        .sort((a, b) => a - b)
        .slice(0, want);
      for (const n of have) used.add(n);
      kept.set(host.name, have);
    }
    for (const host of hosts) {
      const numbers = kept.get(host.name) ?? [];
      let next = 0;
      while (numbers.length < (host.services[kind] ?? 0)) {
        while (used.has(next)) next += 1;
        used.add(next);
        numbers.push(next);
      }
      for (const n of numbers.sort((a, b) => a - b)) result.get(host.name)?.push(serviceInstance(kind, n));
    }
  }
  return result;
}

/** The files a host should have (relative to the install dir) and its services' env files and units. */
export interface DesiredHost {
  readonly host: InventoryHost;
  readonly layout: InstallLayout;
  readonly services: readonly ServiceInstance[];
  /** Content by path relative to the install dir (`etc/config.json`, `etc/tls/...`, `etc/strategy/...`). */
  readonly files: ReadonlyMap<string, string>;
  /** The deploy's part of each service's env file (the hub key line is added on the host). */
  readonly envs: ReadonlyMap<string, string>;
  readonly units: ReadonlyMap<string, string>;
}

/** Inputs to {@link desiredHost} the deploy computes (TLS material, secrets, addresses). */
export interface HostInputs {
  readonly tls: { ca: string; cert: string; key: string } | undefined;
  /** The host's secrets by name; each service gets those of its kind (`service-secrets.ts`). */
  readonly secrets: Readonly<Record<string, string>>;
}

/** The install layout of `host` (the fleet's, with the host's Node binary). */
export function layoutOf(inventory: Inventory, host: InventoryHost): InstallLayout {
  return {
    dir: inventory.install.dir,
    user: inventory.install.user,
    node: host.node ?? inventory.install.node,
    unitDir: inventory.install.unitDir,
  };
}

/**
 * Everything `host` should have; a host that runs a trader gets a copy of the strategy module its
 * configuration names (the configuration names the copy). Throws a {@link PlanError} when its
 * merged configuration is invalid or the module cannot be read.
 */
export function desiredHost(
  inventory: Inventory,
  host: InventoryHost,
  services: readonly ServiceInstance[],
  inputs: HostInputs,
): DesiredHost {
  const layout = layoutOf(inventory, host);
  const config = hostConfig(inventory, host, layout.dir);
  const traders = services.filter((s) => s.kind === 'trader').map((s) => s.instance);
  try {
    readTributaryConfig(config, `configuration of host ${host.name}`);
  } catch (error) {
    throw new PlanError([
      `${(error as Error).message}\n  (config and hosts[${inventory.hosts.indexOf(host)}].config are merged, then hub.url/host/port/tls, store.sqlitePath, publish.target and gateway.url/host/port/tls set by the deploy)`,
    ]);
  }
  const files = new Map<string, string>([['etc/config.json', `${JSON.stringify(config, null, 2)}\n`]]);
  const module = strategyModuleOf(inventory, host);
  if (module !== undefined && traders.length > 0) {
    // The module travels like the configuration (hashed, written when it changed, services
    // restarted): it is the operator's file, not part of the release every fleet shares.
    // Its own files it imports travel with it, where its imports find them on the host.
    const problem = strategyModuleProblem(module);
    if (problem !== undefined) throw new PlanError([`${host.name}: trader.strategyModule: ${problem}`]);
    const shipped = shippedStrategyModule(module);
    if (!shipped.ok)
      throw new PlanError(shipped.problems.map((p) => `${host.name}: trader.strategyModule: ${p}`));
    for (const [path, text] of shipped.files) files.set(path, text);
  }
  if (inputs.tls !== undefined) {
    files.set('etc/tls/ca.crt', inputs.tls.ca);
    files.set('etc/tls/host.crt', inputs.tls.cert);
    files.set('etc/tls/host.key', inputs.tls.key);
  }
  const envs = new Map<string, string>();
  const units = new Map<string, string>();
  for (const service of services) {
    const lines = [
      `# Managed by \`tributary deploy\` (fleet ${inventory.fleet}): ${service.name} on ${host.name}`,
      `TRIBUTARY_HOST=${host.name}`,
    ];
    for (const name of secretsOf(service.kind)) {
      const value = inputs.secrets[name];
      if (value !== undefined) lines.push(`${name}=${value}`);
    }
    envs.set(service.name, `${lines.join('\n')}\n`);
    units.set(service.name, unitFile(service, layout, inventory.fleet, traders));
  }
  return { host, layout, services, files, envs, units };
}

/** What one host must do; everything empty means nothing changes. */
export interface HostPlan {
  readonly host: string;
  readonly createUser: boolean;
  readonly uploadRelease: boolean;
  readonly switchRelease: boolean;
  /** Paths relative to the install dir. */
  readonly writeFiles: readonly string[];
  /**
   * Strategy module copies (and their `package.json`) the host keeps that its configuration no
   * longer names: removed once the services run on the new configuration, so a renamed or dropped
   * module leaves no stale copy behind.
   */
  readonly removeFiles: readonly string[];
  /** Services whose env file is (re)written: new ones, changed managed part, or a new key. */
  readonly writeEnvs: readonly string[];
  /** Services that need a new hub key (no key yet, or the hub no longer holds theirs). */
  readonly issueKeys: readonly { service: string; role: string }[];
  readonly writeUnits: readonly string[];
  readonly removeServices: readonly string[];
  /** Key ids of removed services, revoked after they stop. */
  readonly revokeKeys: readonly string[];
  readonly startServices: readonly string[];
  readonly restartServices: readonly string[];
}

/** True when the host plan changes nothing. */
export function isNoop(plan: HostPlan): boolean {
  return (
    !plan.createUser &&
    !plan.uploadRelease &&
    !plan.switchRelease &&
    plan.writeFiles.length === 0 &&
    plan.removeFiles.length === 0 &&
    plan.writeEnvs.length === 0 &&
    plan.writeUnits.length === 0 &&
    plan.removeServices.length === 0 &&
    plan.startServices.length === 0 &&
    plan.restartServices.length === 0
  );
}

/** A key the hub holds (from `tributary keys list --json`). */
export interface ListedKey {
  readonly id: string;
  readonly role: string;
  readonly peers: readonly string[];
  readonly revokedAt: number | null;
}

/** True when `keyId` is an active key of `role` for exactly `peer`. */
export function keyServes(
  keys: readonly ListedKey[],
  keyId: string | undefined,
  role: string,
  peer: string,
): boolean {
  if (keyId === undefined) return false;
  const key = keys.find((k) => k.id === keyId);
  return (
    key !== undefined &&
    key.revokedAt === null &&
    key.role === role &&
    key.peers.length === 1 &&
    key.peers[0] === peer
  );
}

/** Compares what `desired` wants with what the host has (`observed`) and the hub's keys. */
export function planHost(
  desired: DesiredHost,
  observed: HostState,
  release: ReleaseManifest,
  hubKeys: readonly ListedKey[],
): HostPlan {
  const writeFiles = [...desired.files]
    .filter(([path, text]) => observed.files.get(path) !== sha256(text))
    .map(([p]) => p);
  const removeFiles = [...observed.files.keys()].filter(
    (path) => path.startsWith(`${STRATEGY_DIR}/`) && !desired.files.has(path),
  );
  const wanted = new Set(desired.services.map((s) => s.name));
  const issueKeys: { service: string; role: string }[] = [];
  const writeEnvs: string[] = [];
  for (const service of desired.services) {
    const env = observed.envs.get(service.name);
    const role = SERVICE_ROLE[service.kind];
    const needsKey = role !== null && !keyServes(hubKeys, env?.keyId, role, service.name);
    if (role !== null && needsKey) issueKeys.push({ service: service.name, role });
    if (needsKey || env?.managedHash !== sha256(desired.envs.get(service.name) ?? ''))
      writeEnvs.push(service.name);
  }
  const writeUnits = desired.services
    .filter((s) => observed.units.get(s.name)?.hash !== sha256(desired.units.get(s.name) ?? ''))
    .map((s) => s.name);
  const removeServices = [...observed.units.keys()].filter((name) => !wanted.has(name));
  const revokeKeys = removeServices
    .map((name) => observed.envs.get(name)?.keyId)
    .filter(
      (id): id is string => id !== undefined && hubKeys.some((k) => k.id === id && k.revokedAt === null),
    );
  const switchRelease = observed.current !== release.id;
  const everything = switchRelease || writeFiles.length > 0;
  const startServices: string[] = [];
  const restartServices: string[] = [];
  for (const service of desired.services) {
    const unit = observed.units.get(service.name);
    if (unit === undefined) startServices.push(service.name);
    else if (
      everything ||
      writeUnits.includes(service.name) ||
      writeEnvs.includes(service.name) ||
      unit.state !== 'active'
    ) {
      restartServices.push(service.name);
    }
  }
  return {
    host: desired.host.name,
    createUser: !observed.userExists,
    uploadRelease: !observed.releases.includes(release.id),
    switchRelease,
    writeFiles,
    removeFiles,
    writeEnvs,
    issueKeys,
    writeUnits,
    removeServices,
    revokeKeys,
    startServices,
    restartServices,
  };
}

/** Problems that stop a deploy before anything changes: Node missing or of the wrong ABI, commands the release lacks. */
export function releaseProblems(
  release: ReleaseManifest,
  hosts: readonly { name: string; state: HostState; services: readonly ServiceInstance[] }[],
): string[] {
  const problems: string[] = [];
  const kinds = new Set<ServiceKind>(hosts.flatMap((h) => h.services.map((s) => s.kind)));
  for (const kind of kinds) {
    const command = commandOf(kind);
    if (!release.commands.includes(command)) {
      problems.push(
        `service "${kind}" needs \`tributary ${command}\`, which release ${release.version}+${release.id} does not have (it has: ${release.commands.join(', ')})`,
      );
    }
  }
  for (const host of hosts) {
    if (host.state.node === undefined) {
      problems.push(
        `${host.name}: no Node.js at the configured path (install Node 20, 22 or 24, or set hosts[].node)`,
      );
      continue;
    }
    const major = Number(host.state.node.version.split('.')[0]);
    if (!(major >= 20))
      problems.push(`${host.name}: Node ${host.state.node.version} is too old (20 or newer)`);
    if (release.abiBound.length > 0 && host.state.node.abi !== release.node.abi) {
      problems.push(
        `${host.name}: Node ${host.state.node.version} (ABI ${host.state.node.abi}) cannot load ${release.abiBound.join(', ')} built for Node ${release.node.version} (ABI ${release.node.abi}): build the release with that host's Node major, or install Node ${release.node.version.split('.')[0]} there`,
      );
    }
  }
  return problems;
}
