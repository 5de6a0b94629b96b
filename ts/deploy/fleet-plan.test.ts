import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describePlan } from './fleet-deploy.js';
import {
  assignInstances,
  type DesiredHost,
  desiredHost,
  isNoop,
  type ListedKey,
  planHost,
  releaseProblems,
} from './fleet-plan.js';
import type { HostState } from './host-probe.js';
import { type Inventory, readInventory } from './inventory.js';
import type { ReleaseManifest } from './release-artifact.js';

const release: ReleaseManifest = {
  id: '0123456789abcdef',
  version: '0.1.0',
  createdAt: '2026-12-02T00:00:00Z',
  platform: 'linux',
  arch: 'x64',
  node: { version: '20.20.2', abi: '115' },
  commands: ['hub', 'collect', 'trader', 'keys'],
  napiAddons: ['tributary.linux-x64-gnu.node'],
  abiBound: [],
};

function inventory(services: Record<string, Record<string, number>>): Inventory {
  return readInventory(
    {
      fleet: 'test',
      hub: { host: 'a' },
      hosts: Object.entries(services).map(([name, s], i) => ({
        name,
        address: `10.9.0.${i + 2}`,
        services: s,
      })),
    },
    'inline',
    '/',
  );
}

const empty: HostState = {
  node: { version: '20.20.2', abi: '115' },
  userExists: false,
  hasRsync: true,
  hasSystemd: true,
  current: undefined,
  previous: undefined,
  releases: [],
  units: new Map(),
  files: new Map(),
  envs: new Map(),
};

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

/** The state a host has after an apply of `desired` (keys: `key-<service>`). */
function installed(desired: DesiredHost): HostState {
  return {
    ...empty,
    userExists: true,
    current: release.id,
    releases: [release.id],
    units: new Map([...desired.units].map(([name, text]) => [name, { hash: sha(text), state: 'active' }])),
    files: new Map([...desired.files].map(([path, text]) => [path, sha(text)])),
    envs: new Map(
      [...desired.envs].map(([name, text]) => [
        name,
        { managedHash: sha(text), keyId: name === 'hub' ? undefined : `key-${name}` },
      ]),
    ),
  };
}

function keysFor(desired: DesiredHost[]): ListedKey[] {
  return desired.flatMap((d) =>
    d.services
      .filter((s) => s.kind !== 'hub')
      .map((s) => ({
        id: `key-${s.name}`,
        role: s.kind === 'trader' ? 'trader' : 'collector',
        peers: [s.name],
        revokedAt: null,
      })),
  );
}

function desiredAll(inv: Inventory, states: Map<string, HostState>): DesiredHost[] {
  const services = assignInstances(inv.hosts, states);
  return inv.hosts.map((h) =>
    desiredHost(inv, h, services.get(h.name) ?? [], {
      tls: { ca: 'CA', cert: h.name, key: 'K' },
      secrets: {},
    }),
  );
}

describe('planning a fleet', () => {
  it('numbers instances across the fleet and keeps them when counts change elsewhere', () => {
    const inv = inventory({ a: { hub: 1, kline: 2 }, b: { kline: 2, trader: 1 } });
    const first = assignInstances(inv.hosts, new Map());
    expect(first.get('a')?.map((s) => s.name)).toEqual(['hub', 'kline-0', 'kline-1']);
    expect(first.get('b')?.map((s) => s.name)).toEqual(['kline-2', 'kline-3', 'trader-0']);

    const states = new Map(desiredAll(inv, new Map()).map((d) => [d.host.name, installed(d)]));
    // a: one kline fewer; b: one more. a keeps kline-0, b keeps 2 and 3 and gets the freed 1.
    const changed = inventory({ a: { hub: 1, kline: 1 }, b: { kline: 3, trader: 1 } });
    const next = assignInstances(changed.hosts, states);
    expect(next.get('a')?.map((s) => s.name)).toEqual(['hub', 'kline-0']);
    expect(next.get('b')?.map((s) => s.name)).toEqual(['kline-1', 'kline-2', 'kline-3', 'trader-0']);
  });

  it('gives the exchange keys to services that reach the exchange and the alert bot to every service', () => {
    const inv = inventory({ a: { hub: 1, kline: 1 } });
    const [services] = [...assignInstances(inv.hosts, new Map()).values()];
    const host = inv.hosts[0];
    if (host === undefined || services === undefined) throw new Error('one host');
    const desired = desiredHost(inv, host, services, {
      tls: undefined,
      secrets: {
        BINANCE_API_KEY: 'k',
        BINANCE_API_SECRET: 's',
        TRIBUTARY_ALERT_WEBHOOK_URL: 'https://open.feishu.cn/open-apis/bot/v2/hook/t',
        TRIBUTARY_ALERT_WEBHOOK_SECRET: 'w',
      },
    });
    const hub = desired.envs.get('hub') ?? '';
    const kline = desired.envs.get('kline-0') ?? '';
    expect(hub).not.toContain('BINANCE_API');
    for (const env of [hub, kline]) {
      expect(env).toContain('TRIBUTARY_ALERT_WEBHOOK_URL=https://open.feishu.cn/open-apis/bot/v2/hook/t\n');
      expect(env).toContain('TRIBUTARY_ALERT_WEBHOOK_SECRET=w\n');
    }
    expect(kline).toContain('BINANCE_API_KEY=k\nBINANCE_API_SECRET=s\n');
  });

  it('changes nothing when the hosts already match, and only the changed services otherwise', () => {
    const inv = inventory({ a: { hub: 1, universe: 1 }, b: { kline: 2, trader: 1 } });
    const fresh = desiredAll(inv, new Map());
    const firstPlans = fresh.map((d) => planHost(d, empty, release, []));
    expect(firstPlans.every((p) => !isNoop(p))).toBe(true);
    expect(firstPlans[1]?.issueKeys.map((k) => k.service)).toEqual(['kline-0', 'kline-1', 'trader-0']);

    const states = new Map(fresh.map((d) => [d.host.name, installed(d)]));
    const keys = keysFor(fresh);
    const again = desiredAll(inv, states).map((d) =>
      planHost(d, states.get(d.host.name) ?? empty, release, keys),
    );
    expect(again.every(isNoop)).toBe(true);

    const changed = inventory({ a: { hub: 1, universe: 1 }, b: { kline: 1, trader: 1, tick: 1 } });
    const plans = desiredAll(changed, states).map((d) =>
      planHost(d, states.get(d.host.name) ?? empty, release, keys),
    );
    expect(isNoop(plans[0] as never)).toBe(true);
    const b = plans[1];
    expect(b?.startServices).toEqual(['tick-0']);
    expect(b?.removeServices).toEqual(['kline-1']);
    expect(b?.revokeKeys).toEqual(['key-kline-1']);
    expect(b?.restartServices).toEqual([]);
    expect(b?.issueKeys.map((k) => k.service)).toEqual(['tick-0']);
  });

  it('removes strategy module copies the host keeps that its configuration no longer names, and nothing else it did not write', () => {
    const inv = inventory({ a: { hub: 1, universe: 1 } });
    const [desired] = desiredAll(inv, new Map()) as [DesiredHost];
    const state = installed(desired);
    const kept = {
      ...state,
      files: new Map([
        ...state.files,
        ['etc/strategy/old.mjs', sha('old')],
        ['etc/strategy/package.json', sha('{}')],
        ['etc/tls/extra.crt', sha('extra')],
      ]),
    };
    const plan = planHost(desired, kept, release, keysFor([desired]));
    expect(plan.removeFiles).toEqual(['etc/strategy/old.mjs', 'etc/strategy/package.json']);
    // Removing an unused copy restarts nothing, but it is a change to apply.
    expect(plan.restartServices).toEqual([]);
    expect(isNoop(plan)).toBe(false);
    expect(describePlan(plan, release.id)).toContain(
      '  remove etc/strategy/old.mjs (no longer part of the strategy module the configuration names)',
    );
  });

  it('restarts every service of a host whose release or configuration changes, and reissues a revoked key', () => {
    const inv = inventory({ a: { hub: 1, universe: 1 } });
    const fresh = desiredAll(inv, new Map());
    const state = installed(fresh[0] as DesiredHost);
    const newer = { ...release, id: 'fedcba9876543210' };
    const plan = planHost(fresh[0] as DesiredHost, state, newer, keysFor(fresh));
    expect(plan).toMatchObject({
      uploadRelease: true,
      switchRelease: true,
      restartServices: ['hub', 'universe-0'],
    });
    const revoked = keysFor(fresh).map((k) => ({ ...k, revokedAt: 1 }));
    const rekey = planHost(fresh[0] as DesiredHost, state, release, revoked);
    expect(rekey.issueKeys).toEqual([{ service: 'universe-0', role: 'collector' }]);
    expect(rekey.restartServices).toEqual(['universe-0']);
  });

  it('refuses hosts whose Node cannot run the release, and services the release has no command for', () => {
    const inv = inventory({ a: { hub: 1, recorder: 1 } });
    const services = assignInstances(inv.hosts, new Map());
    const abiBound = { ...release, abiBound: ['better-sqlite3'] };
    const problems = releaseProblems(abiBound, [
      {
        name: 'a',
        state: { ...empty, node: { version: '22.12.0', abi: '127' } },
        services: services.get('a') ?? [],
      },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^service "recorder" needs `tributary record`/),
      expect.stringMatching(
        /^a: Node 22.12.0 \(ABI 127\) cannot load better-sqlite3 built for Node 20.20.2 \(ABI 115\)/,
      ),
    ]);
  });
});
