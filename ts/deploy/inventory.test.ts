import { describe, expect, it } from 'vitest';
import { InventoryError, readInventory } from './inventory.js';

const base = {
  fleet: 'prod',
  hub: { host: 'hub-1' },
  hosts: [
    { name: 'hub-1', address: '10.0.0.2', services: { hub: 1, universe: 1 } },
    { name: 'c-1', address: '10.0.0.3', services: { kline: 2, tick: 1 } },
  ],
};

function problems(raw: unknown): string[] {
  try {
    readInventory(raw, 'inv.json', '/etc/fleet');
  } catch (error) {
    if (error instanceof InventoryError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('the deploy inventory', () => {
  it('fills defaults and resolves relative paths against the inventory folder', () => {
    const inventory = readInventory(
      { ...base, secretsFile: 'secrets.env', ssh: { identityFile: 'keys/id' } },
      'inv.json',
      '/etc/fleet',
    );
    expect(inventory.install).toEqual({
      dir: '/opt/tributary',
      user: 'tributary',
      node: '/usr/bin/node',
      unitDir: '/etc/systemd/system',
    });
    expect(inventory.hub.port).toBe(7700);
    expect(inventory.tls).toEqual({ enabled: true, peerCertificates: 'required' });
    expect(inventory.secretsFile).toBe('/etc/fleet/secrets.env');
    expect(inventory.ssh.identityFile).toBe('/etc/fleet/keys/id');
  });

  it('names every bad field', () => {
    expect(
      problems({
        ...base,
        install: { user: 'root' },
        hosts: [
          { name: 'hub-1', address: '10.0.0.2', services: { hub: 1, kline: -1 } },
          { name: 'hub-1', address: 'bad address', services: { klin: 1 }, colour: 'red' },
        ],
      }),
    ).toEqual([
      'install.user: must not be root: services run as a user of their own',
      'hosts[0].services.kline: must be an integer from 0 to 64, got -1',
      'hosts[1].address: must be an IP address or DNS name, got "bad address"',
      'hosts[1].services.klin: is not a known option',
      'hosts[1].colour: is not a known option',
      'hosts[1].name: "hub-1" is also hosts[0]',
    ]);
  });

  it('checks the hub and the universe across hosts', () => {
    expect(problems({ ...base, hub: { host: 'nowhere' } })).toEqual(
      expect.arrayContaining([
        'hub.host: "nowhere" is not in hosts',
        'hosts[0].services.hub: the hub runs on hub.host ("nowhere")',
      ]),
    );
    expect(
      problems({
        ...base,
        hosts: [...base.hosts, { name: 'c-2', address: '10.0.0.4', services: { universe: 1 } }],
      }),
    ).toEqual(["hosts: 2 universe collectors: run exactly one (it sets the hub's symbols)"]);
    expect(problems({ ...base, tls: { enabled: false } })).toEqual([
      'hosts[1].services: without tls.enabled the hub accepts plain connections from its own machine only: run these on the hub host or enable TLS',
    ]);
  });

  it('keeps the gateway beside the hub, one of it, and one recorder, publisher and dashboard per host', () => {
    expect(
      problems({
        ...base,
        hosts: [
          { name: 'hub-1', address: '10.0.0.2', services: { hub: 1, universe: 1 } },
          {
            name: 'c-1',
            address: '10.0.0.3',
            services: { gateway: 1, recorder: 2, publisher: 1, dashboard: 2 },
          },
        ],
      }),
    ).toEqual([
      "hosts[1].services.recorder: must be 0 or 1: a host's recorder shares its records store, publish folder and dashboard port with the others",
      "hosts[1].services.dashboard: must be 0 or 1: a host's dashboard shares its records store, publish folder and dashboard port with the others",
      `hosts[1].services.gateway: the gateway checks traders against the hub's key file: run it on hub.host ("hub-1")`,
    ]);
    expect(
      problems({
        ...base,
        hosts: [{ name: 'hub-1', address: '10.0.0.2', services: { hub: 1, universe: 1, gateway: 2 } }],
      }),
    ).toEqual(['hosts[0].services.gateway: 2 gateways: run one (one order per signal needs one claim log)']);
    expect(
      problems({
        ...base,
        hosts: [
          { name: 'hub-1', address: '10.0.0.2', services: { hub: 1, universe: 1, gateway: 1 } },
          {
            name: 'c-1',
            address: '10.0.0.3',
            services: { trader: 2, recorder: 1, publisher: 1, dashboard: 1 },
          },
        ],
      }),
    ).toEqual([]);
  });
});

describe('deploy/inventory.example.json', () => {
  it('is a valid inventory', async () => {
    const { loadInventory } = await import('./inventory.js');
    const { packageRoot } = await import('../package-root.js');
    const inventory = loadInventory(`${packageRoot}/deploy/inventory.example.json`);
    expect(inventory.hosts.map((h) => h.name)).toEqual(['hub-1', 'poll-1', 'trade-1']);
    const { placementProblems } = await import('./host-config.js');
    expect(placementProblems(inventory, () => ({}))).toEqual([]);
  });
});
