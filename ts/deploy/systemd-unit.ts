// The services of a host and their systemd unit files: one unit per service instance, run as the fleet's user.
import { COLLECTOR_SERVICES, SERVICE_KINDS, type ServiceKind } from './inventory.js';

/** One service instance on a host. */
export interface ServiceInstance {
  readonly kind: ServiceKind;
  /** Instance number, unique per kind across the fleet (part of the peer name). 0 for the hub. */
  readonly instance: number;
  /** `hub`, or the peer name `<kind>-<instance>`: also the unit's and the env file's name. */
  readonly name: string;
}

/** Where a fleet installs on each host. */
export interface InstallLayout {
  readonly dir: string;
  readonly user: string;
  readonly node: string;
  readonly unitDir: string;
}

/** The service of `kind` and `instance`. */
export function serviceInstance(kind: ServiceKind, instance: number): ServiceInstance {
  return { kind, instance, name: kind === 'hub' ? 'hub' : `${kind}-${instance}` };
}

/** The service a name (`hub`, `<kind>-<n>`) stands for, or undefined for a name that is none. */
export function serviceNamed(name: string): ServiceInstance | undefined {
  if (name === 'hub') return serviceInstance('hub', 0);
  const match = /^([a-z-]+)-(\d+)$/.exec(name);
  const kind = SERVICE_KINDS.find((k) => k === match?.[1]);
  if (kind === undefined || kind === 'hub' || match?.[2] === undefined) return undefined;
  return serviceInstance(kind, Number(match[2]));
}

/** `tributary-<name>.service`. */
export function unitName(service: ServiceInstance | string): string {
  return `tributary-${typeof service === 'string' ? service : service.name}.service`;
}

/** The service name of a unit file name, or undefined for files that are not ours. */
export function serviceOfUnit(file: string): string | undefined {
  return /^tributary-([a-z0-9-]+)\.service$/.exec(file)?.[1];
}

/** Paths on a host, from the install directory. */
export function hostPaths(dir: string) {
  return {
    releases: `${dir}/releases`,
    current: `${dir}/current`,
    previous: `${dir}/previous`,
    etc: `${dir}/etc`,
    config: `${dir}/etc/config.json`,
    tls: `${dir}/etc/tls`,
    /** The copy of the user's strategy module a trader host runs (trader.strategyModule). */
    strategy: `${dir}/etc/strategy`,
    env: `${dir}/etc/env`,
    /** The hub's key file: in the hub's own state folder, written by `tributary keys` as the service user. */
    hubKeys: `${dir}/var/hub/hub-keys.json`,
    var: `${dir}/var`,
    /** The host's SQLite records store (store.sqlitePath): its recorder writes it, its publisher and dashboard read it. */
    records: `${dir}/var/records`,
    /** The host's publish folder (publish.target.dir of a folder target): its publisher writes it, its dashboard serves it. */
    public: `${dir}/var/public`,
    staging: `${dir}/staging`,
  };
}

/**
 * The `tributary` command line a service runs (after `node <current>/bin/tributary.js`).
 * `traders`: the instance numbers of the traders on the service's host, whose state (and paper
 * records) its publisher and dashboard look after (`--traders`; `none` when it has none).
 */
export function serviceCommand(
  service: ServiceInstance,
  dir: string,
  traders: readonly number[] = [],
): string[] {
  const paths = hostPaths(dir);
  const config = ['--config', paths.config];
  switch (service.kind) {
    case 'hub':
      return ['hub', ...config, '--keys', paths.hubKeys];
    case 'trader':
      return [
        'trader',
        ...config,
        '--instance',
        String(service.instance),
        '--state-dir',
        `${paths.var}/${service.name}`,
      ];
    case 'gateway':
      return ['gateway', ...config, '--keys', paths.hubKeys, '--instance', String(service.instance)];
    case 'recorder':
      return ['record', ...config, '--instance', String(service.instance)];
    // The publisher and the dashboard read the traders' folders on their host (var/trader-<n>).
    case 'publisher':
    case 'dashboard':
      return [
        service.kind === 'publisher' ? 'publish' : 'dashboard',
        ...config,
        '--instance',
        String(service.instance),
        '--state-root',
        paths.var,
        '--traders',
        traders.length === 0 ? 'none' : traders.join(','),
      ];
    default:
      if ((COLLECTOR_SERVICES as readonly string[]).includes(service.kind)) {
        return ['collect', service.kind, ...config, '--instance', String(service.instance)];
      }
      throw new Error(`no command for service kind ${service.kind}`);
  }
}

/**
 * The folders a service may write (its unit's ReadWritePaths; the deploy creates them, owned by the
 * service user). Each has its own state folder; the recorder and traders (paper records) also the
 * host's records store; the publisher and dashboard the whole `var`: the publisher keeps its state
 * file beside the traders' folders (which the dashboard shows and writes HALT/REDUCE commands
 * into), and writes the publish folder.
 */
export function writablePaths(service: ServiceInstance, dir: string): string[] {
  const paths = hostPaths(dir);
  const own = `${paths.var}/${service.name}`;
  switch (service.kind) {
    case 'recorder':
    case 'trader':
      return [own, paths.records];
    case 'publisher':
    case 'dashboard':
      return [own, paths.var, paths.records, paths.public];
    default:
      return [own];
  }
}

/** The CLI command (first word) each service kind needs in the release. */
export function commandOf(kind: ServiceKind): string {
  return serviceCommand(serviceInstance(kind, 0), '/x')[0] ?? kind;
}

/**
 * The unit file of `service`: runs as the fleet's user (never root), reads its secrets from a
 * mode 600 environment file, restarts after a crash (at most 5 times a minute, then systemd gives
 * up and the fleet view shows it gone), and may write only its own state directory.
 */
export function unitFile(
  service: ServiceInstance,
  layout: InstallLayout,
  fleet: string,
  traders: readonly number[] = [],
): string {
  const paths = hostPaths(layout.dir);
  const workDir = `${paths.var}/${service.name}`;
  const exec = [
    layout.node,
    `${paths.current}/bin/tributary.js`,
    ...serviceCommand(service, layout.dir, traders),
  ];
  return [
    `# Managed by \`tributary deploy\` (fleet ${fleet}): edits are overwritten by the next apply.`,
    '[Unit]',
    `Description=Tributary ${service.name} (fleet ${fleet})`,
    'After=network-online.target',
    'Wants=network-online.target',
    'StartLimitIntervalSec=60',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    `User=${layout.user}`,
    `Group=${layout.user}`,
    `WorkingDirectory=${workDir}`,
    `EnvironmentFile=${paths.env}/${service.name}.env`,
    `ExecStart=${exec.join(' ')}`,
    'Restart=always',
    'RestartSec=1',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=20',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'ProtectHome=true',
    'PrivateTmp=true',
    `ReadWritePaths=${writablePaths(service, layout.dir).join(' ')}`,
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
