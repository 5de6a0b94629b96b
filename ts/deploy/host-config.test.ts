import { describe, expect, it } from 'vitest';
import { readTributaryConfig } from '../config/tributary-config.js';
import { hostConfig, placementProblems } from './host-config.js';
import { type Inventory, readInventory } from './inventory.js';
import { secretsOf } from './service-secrets.js';

function inventory(extra: Record<string, unknown>, hosts: Record<string, unknown>[]): Inventory {
  return readInventory({ fleet: 'test', hub: { host: 'h' }, ...extra, hosts }, 'inline', '/');
}

const hub = { name: 'h', address: '10.9.0.2', services: { hub: 1, universe: 1, gateway: 1 } };
const trade = {
  name: 't',
  address: '10.9.0.3',
  services: { trader: 1, recorder: 1, publisher: 1, dashboard: 1 },
};

describe('the configuration a host gets', () => {
  it('shares the records store and publish folder on a host, and sends traders to the gateway over TLS', () => {
    const fleet = inventory({ config: { gateway: { port: 7711 } } }, [hub, trade]);
    const [h, t] = fleet.hosts;
    const onHub = readTributaryConfig(hostConfig(fleet, h as never, '/opt/tributary'), 'hub host');
    const onTrade = readTributaryConfig(hostConfig(fleet, t as never, '/opt/tributary'), 'trade host');
    expect(onTrade.store.sqlitePath).toBe('/opt/tributary/var/records/records.sqlite');
    expect(onTrade.publish.target).toEqual({ kind: 'folder', dir: '/opt/tributary/var/public' });
    expect(onTrade.gateway).toMatchObject({ enabled: true, tls: true, url: 'https://10.9.0.2:7711' });
    // The gateway listens beside the hub on the address the inventory gives.
    expect(onHub.gateway).toMatchObject({ enabled: true, tls: true, host: '10.9.0.2', port: 7711 });
    expect(onHub.hub.host).toBe('10.9.0.2');
  });

  it('keeps an OSS target and leaves the gateway alone when no host runs one', () => {
    const oss = { kind: 'oss', bucket: 'b', region: 'oss-cn-hangzhou' };
    const fleet = inventory({ config: { publish: { target: oss } } }, [
      { ...hub, services: { hub: 1 } },
      trade,
    ]);
    const config = readTributaryConfig(hostConfig(fleet, fleet.hosts[1] as never, '/srv/t'), 'x');
    expect(config.publish.target).toMatchObject(oss);
    expect(config.gateway.enabled).toBe(false);
  });
});

describe('placement rules', () => {
  const none = () => ({});

  it('accept a trading host with its recorder, publisher and dashboard', () => {
    expect(placementProblems(inventory({}, [hub, trade]), none)).toEqual([]);
  });

  it('name the field: a publisher or dashboard away from the SQLite store, a dashboard without its publisher, paths the deploy sets, a gateway nobody runs', () => {
    const fleet = inventory(
      { config: { store: { sqlitePath: '/data/r.sqlite' }, gateway: { enabled: true } } },
      [
        { ...hub, services: { hub: 1, universe: 1 } },
        { name: 't', address: '10.9.0.3', services: { trader: 1, dashboard: 1 } },
        {
          name: 'p',
          address: '10.9.0.4',
          services: { publisher: 1 },
          config: { publish: { target: { kind: 'folder', dir: 'www' } } },
        },
      ],
    );
    expect(placementProblems(fleet, none)).toEqual([
      "config.store.sqlitePath: set by the deploy (/opt/tributary/var/records/records.sqlite, shared by the host's recorder, publisher and dashboard); remove it, or use store.url",
      'config.gateway.enabled: traders would send their orders to a gateway no host runs: add "gateway": 1 to the services of hub.host ("h"), or set gateway.url',
      'hosts[1].services.dashboard: reads the records store, a SQLite file its host\'s recorder writes, and t runs no recorder: add "recorder": 1 there, or give a database (store.url or TRIBUTARY_STORE_URL)',
      'hosts[1].services.dashboard: serves the publish folder its host\'s publisher writes, and t runs no publisher: add "publisher": 1 there, or publish to OSS',
      "hosts[2].config.publish.target.dir: set by the deploy (/opt/tributary/var/public, which the host's dashboard serves); remove it",
      'hosts[2].services.publisher: reads the records store, a SQLite file its host\'s recorder writes, and p runs no recorder: add "recorder": 1 there, or give a database (store.url or TRIBUTARY_STORE_URL)',
    ]);
  });

  it('let a database URL in the secrets stand for the store', () => {
    const fleet = inventory({}, [
      { ...hub, services: { hub: 1 } },
      { name: 'p', address: '10.9.0.4', services: { publisher: 1, dashboard: 1 } },
    ]);
    expect(placementProblems(fleet, () => ({ TRIBUTARY_STORE_URL: 'mysql://u:p@db/records' }))).toEqual([]);
  });
});

describe('secrets per service kind', () => {
  it('give each service only what it uses', () => {
    expect(secretsOf('hub')).not.toContain('BINANCE_API_SECRET');
    expect(secretsOf('dashboard')).toContain('TRIBUTARY_OWNER_TOKEN');
    expect(secretsOf('dashboard')).not.toContain('BINANCE_API_SECRET');
    expect(secretsOf('publisher')).toContain('OSS_ACCESS_KEY_SECRET');
    expect(secretsOf('trader')).not.toContain('TRIBUTARY_OWNER_TOKEN');
    expect(secretsOf('gateway')).toContain('BINANCE_API_SECRET');
  });
});
