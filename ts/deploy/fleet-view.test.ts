import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../hub/hub-client.js';
import { readFullStatus, StatusReadError } from '../hub/status-client.js';
import { keyOf, startHub, waitFor } from '../hub/testing/hub-fixtures.js';
import { silentLogger } from '../log/logger.js';
import { fleetRows, hostWeights, renderFleet } from './fleet-view.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the fleet table from the hub full status', () => {
  it('shows each peer with host, instance, data age, restarts and versions, and weight per host', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const collector = new HubClient({
      url: hub.url,
      peer: 'kline-2',
      kind: 'kline',
      key: keyOf('collector'),
      logger: silentLogger('c'),
    });
    const trader = new HubClient({
      url: hub.url,
      peer: 'trader-0',
      key: keyOf('trader'),
      logger: silentLogger('t'),
    });
    const publisher = new HubClient({
      url: hub.url,
      peer: 'publisher-0',
      kind: 'publisher',
      key: keyOf('viewer'),
      logger: silentLogger('p'),
    });
    cleanups.push(
      () => collector.close(),
      () => trader.close(),
      () => publisher.close(),
    );
    await collector.connect();
    await trader.connect();
    await publisher.connect();
    collector.report({ instance: 2, weight: { used: 480, limit: 1920 } });
    publisher.report({ instance: 0, lastRoundAt: Date.now() - 4_000 });
    await waitFor(() => hub.status().peers.filter((p) => p.report !== null).length === 2);

    const status = await readFullStatus({ hubUrl: hub.url, key: keyOf('viewer') });
    const rows = fleetRows(status);
    expect(rows.map((r) => [r.role, r.kind, r.peer, r.instance])).toEqual([
      ['collector', 'kline', 'kline-2', '2'],
      ['trader', '-', 'trader-0', '0'],
      ['viewer', 'publisher', 'publisher-0', '0'],
    ]);
    expect(rows[0]?.version).toBe(status.software.version);
    // Data age: the hub's own measure for a collector, the last round for the publisher, none for a trader.
    expect(rows[0]?.dataAgeMs).toBe(status.collectors.find((c) => c.peer === 'kline-2')?.ageMs ?? null);
    expect(rows[1]?.dataAgeMs).toBeNull();
    expect(rows[2]?.dataAgeMs).toBeGreaterThanOrEqual(4_000);
    expect(hostWeights(status)).toEqual([
      {
        host: rows[0]?.host,
        used: 480,
        limit: 1920,
        source: 'reported',
        byKind: null,
        waiting: 0,
        block: null,
      },
    ]);
    const text = renderFleet(status);
    expect(text).toMatch(/^hub [0-9a-f]+: version /);
    expect(text).toMatch(/kline-2\s+2\s/);
    expect(text).toMatch(/trader-0\s+0\s+\S+\s+-\s+0\s/);
    expect(text).toMatch(/480\s+1920\s+25%\s+-\s+-\s+-\s+-\s+-\s+-\s+not shared/);

    // A host whose peers report no weight (and a peer that said nothing of its process) shows "-".
    const elsewhere = structuredClone(status);
    const traderRow = elsewhere.peers.find((p) => p.peer === 'trader-0');
    if (traderRow === undefined) throw new Error('no trader row');
    traderRow.agent = null;
    traderRow.remote = '10.1.2.3:5555';
    expect(hostWeights(elsewhere)).toContainEqual({
      host: '10.1.2.3:5555',
      used: null,
      limit: null,
      source: 'none',
      byKind: null,
      waiting: 0,
      block: null,
    });
    const lines = renderFleet(elsewhere).split('\n');
    expect(lines.find((l) => l.startsWith('10.1.2.3:5555') && l.includes('trader-0'))).toMatch(/\s-\s+-$/);
    expect(lines.filter((l) => /^10\.1\.2\.3:5555(\s+-){11}$/.test(l))).toHaveLength(1);
  });

  it("shows a host's shared budget from the hub: used against the limit, by kind, waiting and blocks", async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const collector = new HubClient({
      url: hub.url,
      peer: 'kline-2',
      kind: 'kline',
      key: keyOf('collector'),
      logger: silentLogger('c'),
    });
    cleanups.push(() => collector.close());
    await collector.connect();
    collector.report({ instance: 2, weight: { used: 480, limit: 1920 } });
    const at = Date.now();
    const lease = { op: 'weight.lease', group: 'box-1', at, limit: 1920, reserve: 96, used: null } as const;
    await collector.request({ ...lease, kind: 'kline', weight: 300 });
    await collector.request({ ...lease, kind: 'account', weight: 5 });
    await collector.request({
      op: 'weight.block',
      group: 'box-1',
      until: at + 60_000,
      kind: 'rate-limited',
      reason: '429',
    });
    const status = await readFullStatus({ hubUrl: hub.url, key: keyOf('viewer') });
    const weights = hostWeights(status);
    expect(weights.find((w) => w.host === 'box-1')).toMatchObject({
      used: 305,
      limit: 1920,
      source: 'leased',
      byKind: { order: 0, account: 5, kline: 300, tick: 0, income: 0, universe: 0 },
      waiting: 0,
    });
    expect(weights.find((w) => w.host === 'box-1')?.block).toMatch(/^rate-limited until \d\d:\d\d:\d\d$/);
    const text = renderFleet(status);
    expect(text).toMatch(
      /HOST\s+USED\s+LIMIT\s+SHARE\s+ORDER\s+ACCOUNT\s+KLINE\s+TICK\s+INCOME\s+UNIVERSE\s+WAITING\s+BLOCK/,
    );
    expect(text).toMatch(/box-1\s+305\s+1920\s+16%\s+0\s+5\s+300\s+0\s+0\s+0\s+0\s+rate-limited until/);
  });

  it('says why when the key may not read the full status', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const error = await readFullStatus({ hubUrl: hub.url, key: keyOf('collector') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatusReadError);
    expect((error as StatusReadError).status).toBe(403);
    expect((error as Error).message).toMatch(/viewer and admin keys/);
  });
});
