// The hub's watch against a real hub and real peers: a trader that goes away, a collector whose data stops and resumes, a sparse collector and an operator that are left alone.
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../alerts/alert.js';
import { silentLogger } from '../log/logger.js';
import { IngestEncoder } from '../native/hub.js';
import { waitUntil } from '../testing/wait-until.js';
import type { PeerRole } from './control-messages.js';
import { HubClient } from './hub-client.js';
import type { HubServer } from './hub-server.js';
import { HubWatch } from './hub-watch.js';
import { keyOf, SYMBOLS, startHub } from './testing/hub-fixtures.js';
import { syntheticFrame } from './testing/ingest-data.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(hub: HubServer, peer: string, role: PeerRole, kind?: string): HubClient {
  const c = new HubClient({
    url: hub.url,
    peer,
    ...(kind === undefined ? {} : { kind }),
    key: keyOf(role),
    logger: silentLogger('client'),
    backoff: { initialMs: 20, maxMs: 200 },
  });
  cleanups.push(() => c.close());
  return c;
}

describe('HubWatch', () => {
  it('alerts once when a trader goes silent and when it is back; stale and fresh collector data', async () => {
    // Peers ping every idle timeout / 3 (here 60 ms), so a live one is never 400 ms silent.
    const hub = await startHub('ws', { heartbeatMs: 60 });
    cleanups.push(() => hub.close());
    const raised: AlertInput[] = [];
    const watch = new HubWatch({
      health: () => hub.health(),
      alerts: { raise: (alert) => raised.push(alert) },
      peerSilentMs: 400,
      staleDataMs: 400,
      sparseKinds: ['user-stream'],
      checkMs: 50,
    });
    watch.start();
    cleanups.push(() => watch.stop());

    const encoder = new IngestEncoder(SYMBOLS);
    const kline = client(hub, 'kline-0', 'collector', 'kline');
    const events = client(hub, 'user-stream-0', 'collector', 'user-stream');
    const trader = client(hub, 'trader-0', 'trader');
    const operator = client(hub, 'operator', 'admin');
    await Promise.all([kline.connect(), events.connect(), trader.connect(), operator.connect()]);
    kline.sendIngest(syntheticFrame(encoder, 1, 1, 1));
    events.sendIngest(syntheticFrame(new IngestEncoder(SYMBOLS), 1, 1, 1));
    await waitUntil(
      () => hub.health().collectors.every((c) => c.lastIngestAt !== null),
      'both ingests merged',
    );

    // The watch must have seen the trader before it leaves (a peer gone before the first look is
    // never known); its timer may not have fired yet on a fast machine, so look once here.
    watch.check();
    // Operators come and go: never an alert.
    await operator.close();
    await trader.close();
    await waitUntil(() => raised.some((a) => a.source === 'hub.peer-silent'), 'the silent trader', 5000);
    const silent = raised.filter((a) => a.source === 'hub.peer-silent');
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatchObject({ severity: 'critical', details: { peer: 'trader-0', role: 'trader' } });

    // The kline collector is connected but sends no data: stale; the sparse kind is not.
    await waitUntil(() => raised.some((a) => a.source === 'hub.data-stale'), 'stale kline data', 5000);
    expect(raised.filter((a) => a.source === 'hub.data-stale')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        details: expect.objectContaining({ what: 'collector kline-0' }),
      }),
    ]);

    kline.sendIngest(syntheticFrame(encoder, 1, 1, 2));
    await waitUntil(() => raised.some((a) => a.source === 'hub.data-fresh'), 'fresh again', 5000);

    const back = client(hub, 'trader-0', 'trader');
    await back.connect();
    await waitUntil(() => raised.some((a) => a.source === 'hub.peer-back'), 'trader back', 5000);
    expect(raised.find((a) => a.source === 'hub.peer-back')).toMatchObject({ severity: 'info' });

    // Several more checks change nothing: each problem was raised once.
    const count = raised.length;
    for (let i = 0; i < 5; i++) watch.check();
    expect(raised.slice(count).filter((a) => a.source !== 'hub.data-stale')).toEqual([]);
    expect(raised.filter((a) => a.source === 'hub.peer-silent')).toHaveLength(1);
    expect(raised.some((a) => JSON.stringify(a).includes('operator'))).toBe(false);
    expect(raised.some((a) => JSON.stringify(a).includes('user-stream-0'))).toBe(false);
  });
  it('watches the recorder (a viewer key) like a trader, and leaves other viewers alone', async () => {
    const hub = await startHub('ws', { heartbeatMs: 60 });
    cleanups.push(() => hub.close());
    const raised: AlertInput[] = [];
    const watch = new HubWatch({
      health: () => hub.health(),
      alerts: { raise: (alert) => raised.push(alert) },
      peerSilentMs: 400,
      staleDataMs: 60_000,
      sparseKinds: [],
      checkMs: 50,
    });
    watch.start();
    cleanups.push(() => watch.stop());
    const recorder = client(hub, 'recorder-0', 'viewer', 'recorder');
    const dashboard = client(hub, 'dashboard', 'viewer');
    await Promise.all([recorder.connect(), dashboard.connect()]);
    watch.check();
    await dashboard.close();
    await recorder.close();
    await waitUntil(() => raised.some((a) => a.source === 'hub.peer-silent'), 'the silent recorder', 5000);
    expect(raised.filter((a) => a.source === 'hub.peer-silent')).toEqual([
      expect.objectContaining({
        severity: 'critical',
        details: expect.objectContaining({ peer: 'recorder-0', role: 'viewer' }),
      }),
    ]);
    const back = client(hub, 'recorder-0', 'viewer', 'recorder');
    await back.connect();
    await waitUntil(() => raised.some((a) => a.source === 'hub.peer-back'), 'the recorder back', 5000);
    expect(raised.some((a) => JSON.stringify(a).includes('dashboard'))).toBe(false);
  });
});
