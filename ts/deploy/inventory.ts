// The deploy inventory: which hosts run which services, how many of each, and per-host settings; validated with errors naming the field.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { COLLECTOR_KINDS } from '../config/collector-kinds.js';
import { configIssues } from '../config/config-error.js';
import { expecting, integer, text } from '../config/config-fields.js';
import { withStrategyModuleResolved } from './strategy-module-file.js';

/** Collector kinds a host may run (as in `tributary collect <kind>`), the universe first. */
export const COLLECTOR_SERVICES = [
  'universe',
  ...COLLECTOR_KINDS.filter((kind) => kind !== 'universe'),
] as const;

/**
 * Every service kind an inventory may name, in the order a host starts them: the hub, the order
 * gateway beside it, the collectors, the traders, then the owner's tools (recorder, publisher,
 * dashboard).
 */
export const SERVICE_KINDS = [
  'hub',
  'gateway',
  ...COLLECTOR_SERVICES,
  'trader',
  'recorder',
  'publisher',
  'dashboard',
] as const;

export type ServiceKind = (typeof SERVICE_KINDS)[number];

/**
 * The hub key role each service kind authenticates with (the hub itself has none). The gateway,
 * publisher and dashboard are no data peers: their viewer key lets the hub see them (and the
 * publisher and dashboard read its status).
 */
export const SERVICE_ROLE: Readonly<Record<ServiceKind, 'collector' | 'trader' | 'viewer' | null>> = {
  hub: null,
  gateway: 'viewer',
  universe: 'collector',
  kline: 'collector',
  'hot-kline': 'collector',
  tick: 'collector',
  stream: 'collector',
  account: 'collector',
  'position-risk': 'collector',
  'user-stream': 'collector',
  income: 'collector',
  trader: 'trader',
  recorder: 'viewer',
  publisher: 'viewer',
  dashboard: 'viewer',
};

/**
 * Kinds a host runs at most one of: they share the host's records store, publish folder and
 * dashboard port (ts/deploy/systemd-unit.ts, hostPaths).
 */
export const ONE_PER_HOST: readonly ServiceKind[] = ['recorder', 'publisher', 'dashboard'];

const NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
const HOST_ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

const sshSettings = z.strictObject({
  user: z
    .string({ error: expecting('a user name') })
    .regex(UNIX_USER, { error: expecting('a user name') })
    .optional()
    .describe('User ssh logs in as (root, or a user with passwordless sudo); default root'),
  port: integer(1, 65_535).optional().describe('ssh port; default 22'),
  identityFile: text().optional().describe('Private key for ssh (-i); default: ssh decides'),
  options: z
    .array(text(), { error: expecting('a list of ssh -o options') })
    .optional()
    .describe('Extra ssh -o options, e.g. "UserKnownHostsFile=./known_hosts"'),
});

const serviceCounts = z.partialRecord(
  z.enum(SERVICE_KINDS, {
    error: (i) => `${JSON.stringify(i.input)} is not a service (${SERVICE_KINDS.join(', ')})`,
  }),
  integer(0, 64),
  { error: expecting('an object of service → instance count') },
);

const hostSchema = z.strictObject({
  name: z
    .string({ error: expecting('a host name') })
    .regex(NAME, { error: expecting('a name of a-z, 0-9 and -, starting with a letter or digit') })
    .describe('The host as the fleet knows it (status, peer hosts, certificate file names)'),
  address: z
    .string({ error: expecting('an IP address or DNS name') })
    .regex(HOST_ADDRESS, { error: expecting('an IP address or DNS name') })
    .describe('Where ssh and the other hosts reach this host'),
  services: serviceCounts.describe(
    'Instances of each service on this host: { "kline": 2, "tick": 1 }; hub and gateway on hub.host only, at most one recorder, publisher and dashboard per host',
  ),
  ssh: sshSettings.optional(),
  node: text().optional().describe('Node.js binary on this host; default the fleet setting'),
  config: z
    .record(z.string(), z.unknown(), { error: expecting('an object (Tributary configuration)') })
    .optional()
    .describe("Configuration merged over the fleet's for this host"),
  secretsFile: text()
    .optional()
    .describe('KEY=VALUE file (mode 600) with BINANCE_API_KEY/SECRET for this host, over the fleet one'),
});

/** The inventory file's schema. */
export const inventorySchema = z
  .strictObject({
    $schema: z.string().optional(),
    fleet: z
      .string({ error: expecting('a fleet name') })
      .regex(NAME, { error: expecting('a name of a-z, 0-9 and -') })
      .describe('Name of the fleet (CA name, key labels)'),
    install: z
      .strictObject({
        dir: z
          .string({ error: expecting('an absolute path') })
          .regex(/^\/[A-Za-z0-9._/-]+$/, { error: expecting('an absolute path') })
          .default('/opt/tributary'),
        user: z
          .string({ error: expecting('a user name') })
          .regex(UNIX_USER, { error: expecting('a user name') })
          .refine((u) => u !== 'root', { error: 'must not be root: services run as a user of their own' })
          .default('tributary'),
        node: text().default('/usr/bin/node'),
        unitDir: z
          .string({ error: expecting('an absolute path') })
          .regex(/^\/[A-Za-z0-9._/-]+$/, { error: expecting('an absolute path') })
          .default('/etc/systemd/system'),
      })
      .prefault({}),
    ssh: sshSettings.prefault({}),
    hub: z.strictObject({
      host: z.string({ error: expecting('the name of the host that runs the hub') }),
      port: integer(1, 65_535).default(7700),
      transport: z.enum(['auto', 'uws', 'ws'], { error: expecting('auto, uws or ws') }).optional(),
    }),
    tls: z
      .strictObject({
        enabled: z.boolean({ error: expecting('true or false') }).default(true),
        peerCertificates: z.enum(['required', 'not-asked']).default('required'),
      })
      .prefault({}),
    config: z
      .record(z.string(), z.unknown(), { error: expecting('an object (Tributary configuration)') })
      .default({}),
    secretsFile: text().optional(),
    healthTimeoutMs: integer(1_000, 600_000).default(60_000),
    hosts: z
      .array(hostSchema, { error: expecting('a list of hosts') })
      .min(1, { error: 'must list at least one host' }),
  })
  .superRefine((inventory, ctx) => {
    const seen = new Map<string, number>();
    inventory.hosts.forEach((host, index) => {
      const first = seen.get(host.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', index, 'name'],
          message: `"${host.name}" is also hosts[${first}]`,
        });
      }
      seen.set(host.name, index);
      if ((host.services.hub ?? 0) > 0) {
        if (host.name !== inventory.hub.host) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', index, 'services', 'hub'],
            message: `the hub runs on hub.host ("${inventory.hub.host}")`,
          });
        }
        if ((host.services.hub ?? 0) > 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', index, 'services', 'hub'],
            message: 'must be 0 or 1',
          });
        }
      }
    });
    inventory.hosts.forEach((host, index) => {
      for (const kind of ONE_PER_HOST) {
        if ((host.services[kind] ?? 0) > 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', index, 'services', kind],
            message: `must be 0 or 1: a host's ${kind} shares its records store, publish folder and dashboard port with the others`,
          });
        }
      }
      if ((host.services.gateway ?? 0) > 0 && host.name !== inventory.hub.host) {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', index, 'services', 'gateway'],
          message: `the gateway checks traders against the hub's key file: run it on hub.host ("${inventory.hub.host}")`,
        });
      }
    });
    const gateways = inventory.hosts.reduce((n, h) => n + (h.services.gateway ?? 0), 0);
    if (gateways > 1) {
      const index = inventory.hosts.findIndex((h) => (h.services.gateway ?? 0) > 0);
      ctx.addIssue({
        code: 'custom',
        path: ['hosts', index, 'services', 'gateway'],
        message: `${gateways} gateways: run one (one order per signal needs one claim log)`,
      });
    }
    const hubHost = inventory.hosts.find((h) => h.name === inventory.hub.host);
    if (hubHost === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['hub', 'host'],
        message: `"${inventory.hub.host}" is not in hosts`,
      });
    } else if ((hubHost.services.hub ?? 0) !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['hub', 'host'],
        message: `host "${hubHost.name}" must list "hub": 1 in its services`,
      });
    }
    if (!inventory.tls.enabled) {
      inventory.hosts.forEach((host, index) => {
        const others = Object.entries(host.services).filter(([, n]) => (n ?? 0) > 0);
        if (host.name !== inventory.hub.host && others.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', index, 'services'],
            message:
              'without tls.enabled the hub accepts plain connections from its own machine only: run these on the hub host or enable TLS',
          });
        }
      });
    }
    const universes = inventory.hosts.reduce((n, h) => n + (h.services.universe ?? 0), 0);
    if (universes > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['hosts'],
        message: `${universes} universe collectors: run exactly one (it sets the hub's symbols)`,
      });
    }
  });

export type Inventory = z.output<typeof inventorySchema>;
export type InventoryHost = Inventory['hosts'][number];

/** The inventory is invalid; every problem is listed with its field path. */
export class InventoryError extends Error {
  override readonly name = 'InventoryError';
  constructor(
    readonly issues: readonly { path: string; message: string }[],
    readonly source: string,
  ) {
    super(`invalid inventory (${source}):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  }
}

/**
 * Validates a parsed inventory; relative paths in it are taken from `baseDir` (the secrets and
 * identity files, and `trader.strategyModule` in `config` and `hosts[].config`).
 */
export function readInventory(raw: unknown, source: string, baseDir: string): Inventory {
  const result = inventorySchema.safeParse(raw);
  if (!result.success) throw new InventoryError(configIssues(result.error), source);
  const inventory = result.data;
  const absolute = (path: string | undefined) => {
    if (path === undefined || isAbsolute(path)) return path;
    if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
    return resolve(baseDir, path);
  };
  return {
    ...inventory,
    config: withStrategyModuleResolved(inventory.config, baseDir),
    secretsFile: absolute(inventory.secretsFile),
    ssh: { ...inventory.ssh, identityFile: absolute(inventory.ssh.identityFile) },
    hosts: inventory.hosts.map((host) => ({
      ...host,
      ...(host.config === undefined ? {} : { config: withStrategyModuleResolved(host.config, baseDir) }),
      secretsFile: absolute(host.secretsFile),
      ...(host.ssh === undefined
        ? {}
        : { ssh: { ...host.ssh, identityFile: absolute(host.ssh.identityFile) } }),
    })),
  };
}

/** Reads and validates the inventory file at `path`. */
export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InventoryError(
      [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }],
      path,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InventoryError(
      [{ path: '(file)', message: `is not valid JSON: ${(error as Error).message}` }],
      path,
    );
  }
  return readInventory(raw, path, dirname(resolve(path)));
}
