// The configuration file each host gets (the fleet's, the host's over it, then what the deploy decides) and the placement rules that depend on it.
import { isIP } from 'node:net';
import type { Inventory, InventoryHost } from './inventory.js';
import {
  hostStrategyModule,
  shippedStrategyModule,
  strategyModuleIn,
  strategyModuleProblem,
} from './strategy-module-file.js';
import { hostPaths } from './systemd-unit.js';

/** The records store file the deploy gives every host (shared by its recorder, publisher, dashboard and paper traders). */
export function recordsFileOf(dir: string): string {
  return `${hostPaths(dir).records}/records.sqlite`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`, objects key by key, anything else replaced. */
export function mergeConfig(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = out[key];
    out[key] = isObject(existing) && isObject(value) ? mergeConfig(existing, value) : value;
  }
  return out;
}

/** `config[a][b]...` of an unchecked configuration object, or undefined. */
function at(config: unknown, ...path: string[]): unknown {
  let value = config;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return value;
}

/** The host's configuration before the deploy's part: the fleet's with the host's over it. */
function userConfig(inventory: Inventory, host: InventoryHost): Record<string, unknown> {
  return mergeConfig(inventory.config, host.config ?? {});
}

/**
 * The strategy module (absolute, on this machine: `readInventory` resolved it against the
 * inventory's folder) that `host`'s merged configuration names, or undefined.
 */
export function strategyModuleOf(inventory: Inventory, host: InventoryHost): string | undefined {
  return strategyModuleIn(userConfig(inventory, host));
}

/** `host:port` with brackets around an IPv6 address. */
function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function hubHostOf(inventory: Inventory): InventoryHost | undefined {
  return inventory.hosts.find((h) => h.name === inventory.hub.host);
}

/** Where peers reach the hub (over TLS at the hub host's address; without TLS only on the hub host itself). */
export function hubUrlOf(inventory: Inventory): string {
  if (!inventory.tls.enabled) return `ws://127.0.0.1:${inventory.hub.port}`;
  return `wss://${hostPort(hubHostOf(inventory)?.address ?? inventory.hub.host, inventory.hub.port)}`;
}

/** True when the inventory runs an order gateway. */
export function hasGateway(inventory: Inventory): boolean {
  return inventory.hosts.some((h) => (h.services.gateway ?? 0) > 0);
}

/** The gateway's port: `gateway.port` of the hub host's configuration, else the default 7710. */
export function gatewayPortOf(inventory: Inventory): number {
  const hub = hubHostOf(inventory);
  const port = at(hub === undefined ? inventory.config : userConfig(inventory, hub), 'gateway', 'port');
  return typeof port === 'number' ? port : 7710;
}

/** Where traders reach the gateway: beside the hub, over TLS at its address (without TLS only on that host). */
export function gatewayUrlOf(inventory: Inventory): string {
  const port = gatewayPortOf(inventory);
  if (!inventory.tls.enabled) return `http://127.0.0.1:${port}`;
  return `https://${hostPort(hubHostOf(inventory)?.address ?? inventory.hub.host, port)}`;
}

/**
 * The configuration file of `host`: the fleet's, the host's over it, then what the deploy
 * decides: where the hub is and its TLS files; the records store in `var/records` and a folder
 * publish target in `var/public` (shared by the host's recorder, publisher and dashboard); when
 * the fleet runs a gateway, that traders use it and where; and a strategy module's copy in
 * `etc/strategy/` (`fleet-plan.ts` ships it to hosts that run a trader).
 */
export function hostConfig(inventory: Inventory, host: InventoryHost, dir: string): Record<string, unknown> {
  const isHub = host.name === inventory.hub.host;
  // With TLS the hub (and the gateway beside it) listens on the address the inventory gives (all
  // interfaces when that is a name): not on a public interface the operator did not name.
  const listen = inventory.tls.enabled ? (isIP(host.address) === 0 ? '0.0.0.0' : host.address) : '127.0.0.1';
  const tls = {
    ca: `${dir}/etc/tls/ca.crt`,
    cert: `${dir}/etc/tls/host.crt`,
    key: `${dir}/etc/tls/host.key`,
    peerCertificates: inventory.tls.peerCertificates,
  };
  const user = userConfig(inventory, host);
  const managed: Record<string, unknown> = {
    hub: {
      url: hubUrlOf(inventory),
      port: inventory.hub.port,
      ...(inventory.hub.transport === undefined ? {} : { transport: inventory.hub.transport }),
      ...(isHub ? { host: listen } : {}),
      ...(inventory.tls.enabled ? { tls } : {}),
    },
    store: { sqlitePath: recordsFileOf(dir) },
  };
  const target = at(user, 'publish', 'target', 'kind');
  if (target === undefined || target === 'folder')
    managed.publish = { target: { kind: 'folder', dir: hostPaths(dir).public } };
  if (hasGateway(inventory)) {
    managed.gateway = {
      enabled: true,
      tls: inventory.tls.enabled,
      port: gatewayPortOf(inventory),
      url: gatewayUrlOf(inventory),
      ...(isHub ? { host: listen } : {}),
    };
  }
  const module = strategyModuleIn(user);
  if (module !== undefined) managed.trader = { strategyModule: `${dir}/${hostStrategyModule(module)}` };
  return mergeConfig(user, managed);
}

/**
 * What stops the inventory from working as the services expect, each naming the field to change:
 * paths the deploy sets given by hand; a publisher or dashboard away from the SQLite records store
 * its host's recorder writes (`secrets` tells whether a database URL replaces it); a dashboard
 * without the publisher that fills its folder; traders sent to a gateway no host runs.
 */
export function placementProblems(
  inventory: Inventory,
  secretsOf: (host: InventoryHost) => Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const where = (host: InventoryHost, index: number, ...path: string[]) =>
    at(host.config, ...path) !== undefined
      ? `hosts[${index}].config.${path.join('.')}`
      : `config.${path.join('.')}`;
  inventory.hosts.forEach((host, index) => {
    const user = userConfig(inventory, host);
    const runs = (kind: 'recorder' | 'publisher' | 'dashboard') => (host.services[kind] ?? 0) > 0;
    if (at(user, 'store', 'sqlitePath') !== undefined)
      problems.push(
        `${where(host, index, 'store', 'sqlitePath')}: set by the deploy (${recordsFileOf(inventory.install.dir)}, shared by the host's recorder, publisher and dashboard); remove it, or use store.url`,
      );
    const folder = at(user, 'publish', 'target', 'kind') !== 'oss';
    if (folder && at(user, 'publish', 'target', 'dir') !== undefined)
      problems.push(
        `${where(host, index, 'publish', 'target', 'dir')}: set by the deploy (${hostPaths(inventory.install.dir).public}, which the host's dashboard serves); remove it`,
      );
    const sqlite =
      at(user, 'store', 'url') === undefined && secretsOf(host).TRIBUTARY_STORE_URL === undefined;
    if (sqlite && !runs('recorder')) {
      for (const kind of ['publisher', 'dashboard'] as const) {
        if (runs(kind))
          problems.push(
            `hosts[${index}].services.${kind}: reads the records store, a SQLite file its host's recorder writes, and ${host.name} runs no recorder: add "recorder": 1 there, or give a database (store.url or TRIBUTARY_STORE_URL)`,
          );
      }
    }
    if (runs('dashboard') && folder && !runs('publisher'))
      problems.push(
        `hosts[${index}].services.dashboard: serves the publish folder its host's publisher writes, and ${host.name} runs no publisher: add "publisher": 1 there, or publish to OSS`,
      );
    if (
      at(user, 'gateway', 'enabled') === true &&
      !hasGateway(inventory) &&
      at(user, 'gateway', 'url') === undefined
    )
      problems.push(
        `${where(host, index, 'gateway', 'enabled')}: traders would send their orders to a gateway no host runs: add "gateway": 1 to the services of hub.host ("${inventory.hub.host}"), or set gateway.url`,
      );
  });
  // A fleet-wide field is named once, not once per host.
  return [...new Set(problems)];
}

/** A host whose merged configuration names a strategy module. */
export interface ConfiguredStrategyModule {
  readonly host: InventoryHost;
  /** The host's place in `hosts`. */
  readonly index: number;
  /** The module, absolute on this machine. */
  readonly file: string;
  /** The inventory field that names it: `config.trader.strategyModule` or the host's own. */
  readonly field: string;
  /** The host's configuration before the deploy's part (the fleet's with the host's over it), unchecked. */
  readonly config: Record<string, unknown>;
}

/** Every host whose configuration names a strategy module, in inventory order. */
export function configuredStrategyModules(inventory: Inventory): ConfiguredStrategyModule[] {
  return inventory.hosts.flatMap((host, index) => {
    const config = userConfig(inventory, host);
    const file = strategyModuleIn(config);
    if (file === undefined) return [];
    const field =
      strategyModuleIn(host.config) !== undefined
        ? `hosts[${index}].config.trader.strategyModule`
        : 'config.trader.strategyModule';
    return [{ host, index, file, field, config }];
  });
}

/**
 * The strategy modules the deploy could not ship, each naming the field and the file: not
 * .js/.mjs, missing, or not a file. Checked before any host is reached, so a plan with one
 * sends nothing.
 */
export function strategyModuleProblems(inventory: Inventory): string[] {
  const problems = configuredStrategyModules(inventory).flatMap(({ file, field }) => {
    const problem = strategyModuleProblem(file);
    return problem === undefined
      ? []
      : [`${field}: ${problem} (the deploy ships this file to each trader host)`];
  });
  // A fleet-wide field is named once, not once per host.
  return [...new Set(problems)];
}

/**
 * The imports of usable strategy modules that a trader host could not resolve from the files the
 * deploy ships (a package, a file outside the module's folder, a computed name;
 * `strategy-module-files.ts`), each naming the field. Checked before any host is reached, after
 * {@link strategyModuleProblems} and the import check, which names a syntax error better.
 */
export function strategyModuleShippingProblems(inventory: Inventory): string[] {
  const problems = configuredStrategyModules(inventory).flatMap(({ file, field }) => {
    if (strategyModuleProblem(file) !== undefined) return [];
    const shipped = shippedStrategyModule(file);
    return shipped.ok
      ? []
      : shipped.problems.map(
          (p) => `${field}: ${p} (the deploy ships the module's own files to each trader host)`,
        );
  });
  return [...new Set(problems)];
}
