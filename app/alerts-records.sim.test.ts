// System test: alerts of every process (trader risk and stop-loss, unknown order outcome, stale data, an exchange ban at a collector, the hub's watch) reach the records store through the hub and the recorder, exactly once, including those raised while the recorder was down and the recorder's own silence.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector } from '../collectors/collector-process.js';
import { RecorderProcess } from '../recorder/recorder-process.js';
import { alertRiskEvents } from '../trader/risk/risk-alerts.js';
import { RiskEventLog } from '../trader/risk/risk-events.js';
import { RiskState } from '../trader/risk/risk-state.js';
import { FileRiskStateStore } from '../trader/risk/risk-state-store.js';
import type { Alert } from '../ts/alerts/alert.js';
import { orderOutcomeUnknownAlert } from '../ts/alerts/alert-sources.js';
import { createAlerter } from '../ts/alerts/create-alerter.js';
import { StaleWatch } from '../ts/alerts/stale-watch.js';
import { HubAlertForwarder } from '../ts/hub/hub-alert-forwarder.js';
import { HubWatch } from '../ts/hub/hub-watch.js';
import { silentLogger } from '../ts/log/logger.js';
import { openSqliteStore } from '../ts/store/open-store.js';
import { sqliteTestDatabase } from '../ts/store/testing/test-databases.js';
import { waitUntil } from '../ts/testing/wait-until.js';
import { CollectorRig } from './testing/system-rig.js';

const RECORDER_SETTINGS = {
  enabled: true,
  reconcileMs: 60_000,
  incomeMs: 60_000,
  snapshotMs: 60_000,
  lookbackMs: 3_600_000,
  overlapMs: 60_000,
  activeDays: 1,
  symbols: [],
  klineSymbols: [],
  klineIntervals: [],
};
/** The hub's watch calls a peer silent after this; peers ping every 5 s, so a live one never is. */
const PEER_SILENT_MS = 8000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

describe('alerts of every process in the records store', () => {
  it('keeps each alert raised by the trader, a collector, the hub and the recorder once, including those raised while the recorder was away', async () => {
    const rig = await CollectorRig.start({ collectors: { income: { instances: 1, intervalMs: 300 } } });
    cleanups.push(() => rig.stop());
    await rig.collector('universe');
    const db = sqliteTestDatabase();
    cleanups.push(() => db.drop());
    const store = await openSqliteStore(db.sqlitePath ?? '');
    cleanups.push(() => store.close());

    /** Every alert raised anywhere, as `<process> <source> <at>`: what the store must hold. */
    const raised: string[] = [];
    const alerterOf = (process: string) => {
      const alerter = createAlerter({
        settings: rig.loaded.config.alerts,
        process,
        logger: silentLogger(process),
      });
      alerter.onAlert((a: Alert) => raised.push(`${process} ${a.source} ${a.at}`));
      cleanups.push(() => alerter.close());
      return alerter;
    };

    // The hub's own alerts (its watch over peers) go to the relay, as `tributary hub` wires them.
    const hubAlerts = alerterOf('hub');
    cleanups.push(rig.hub.relayAlertsFrom(hubAlerts));
    const watch = new HubWatch({
      health: () => rig.hub.health(),
      alerts: hubAlerts,
      peerSilentMs: PEER_SILENT_MS,
      staleDataMs: 600_000,
      sparseKinds: [],
      checkMs: 200,
    });
    watch.start();
    cleanups.push(() => watch.stop());

    const recorderAlerts = alerterOf('recorder-0');
    const startRecorder = async () => {
      const r = new RecorderProcess({
        store,
        api: rig.api(),
        scope: { mode: 'testnet', account: 'main' },
        settings: RECORDER_SETTINGS,
        hub: { url: rig.hub.url, key: rig.keys.viewer, peer: 'recorder-0' },
        writer: { flushMs: 50, maxBatch: 500 },
        logger: silentLogger('recorder'),
        alerts: recorderAlerts,
      });
      await r.start();
      return r;
    };
    let recorder: RecorderProcess | undefined = await startRecorder();
    cleanups.push(() => recorder?.stop());

    // The trader: risk state and stop-loss failure through its risk event log, a stale book, an
    // order whose outcome stayed unknown; all forwarded by its hub link.
    const trader = await rig.trader();
    const traderAlerts = alerterOf('trader-0');
    const forwarder = new HubAlertForwarder({
      client: trader.client,
      alerts: traderAlerts,
      logger: silentLogger('fwd'),
    });
    forwarder.start();
    cleanups.push(() => forwarder.stop(0));
    const events = new RiskEventLog(silentLogger('risk'));
    cleanups.push(alertRiskEvents(events, traderAlerts));
    const risk = new RiskState(
      new FileRiskStateStore(mkdtempSync(join(tmpdir(), 'tributary-alerts-risk-'))),
      events,
      silentLogger('state'),
      Date.now,
    );
    risk.escalate('HALTED', 'daily loss', 'the day lost more than allowed');
    events.emit({
      kind: 'stop-loss-failure',
      symbol: 'BTCUSDT',
      positionSide: 'BOTH',
      detail: 'the exchange refused the stop (-2021)',
      at: Date.now(),
    });
    traderAlerts.raise(
      orderOutcomeUnknownAlert({
        action: 'place',
        symbol: 'ETHUSDT',
        clientOrderId: 't_1',
        detail: '503 then no answer',
      }),
    );
    let stale = true;
    const staleWatch = new StaleWatch({
      where: 'trader',
      what: 'the book of trader-0',
      problem: () => (stale ? 'the book waits for a snapshot from the hub' : undefined),
      graceMs: 100,
      checkMs: 50,
      alerts: traderAlerts,
    });
    staleWatch.start();
    cleanups.push(() => staleWatch.stop());
    await waitUntil(
      () => raised.some((r) => r.includes('trader-0 trader.data-stale')),
      'the stale book alert',
      5000,
    );
    stale = false;

    // A collector banned by the exchange (418) raises through its own alerter.
    const incomeAlerts = alerterOf('income-0');
    const income = await startCollector(
      'income',
      0,
      rig.loaded,
      silentLogger('income'),
      rig.keys.collector,
      incomeAlerts,
    );
    cleanups.push(() => income.stop());
    const ban = await fetch(`${rig.sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ banForMs: 1500 }),
    });
    expect(ban.status).toBe(200);
    await waitUntil(() => raised.some((r) => r.startsWith('income-0 exchange.')), 'the ban alert', 10_000);

    const stored = async () => (await store.alerts()).map((a) => `${a.source} ${a.kind} ${a.time}`).sort();
    await waitUntil(
      async () => {
        const have = new Set(await stored());
        return raised.every((r) => have.has(r));
      },
      'every alert so far in the store',
      15_000,
    );

    // The recorder stops: the hub's watch calls it silent; a trader alert is raised meanwhile.
    await recorder.stop();
    recorder = undefined;
    await waitUntil(
      () => raised.some((r) => r.startsWith('hub hub.peer-silent')),
      'the recorder called silent',
      PEER_SILENT_MS + 10_000,
    );
    risk.setByOwner('ACTIVE', 'owner resumed trading');
    await waitUntil(() => forwarder.stats().queued === 0, 'the trader alert handed to the hub', 5000);

    // Back: what the hub kept is replayed, its own return too.
    recorder = await startRecorder();
    await waitUntil(() => raised.some((r) => r.startsWith('hub hub.peer-back')), 'the recorder back', 10_000);
    let last: string[] = [];
    await waitUntil(
      async () => {
        last = await stored();
        const have = new Set(last);
        return raised.every((r) => have.has(r));
      },
      'every alert in the store',
      15_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\nraised ${JSON.stringify(raised)}\nstored ${JSON.stringify(last)}`,
      );
    });
    // Exactly once: the replays were duplicates, and nothing else was stored.
    expect(last).toEqual([...raised].sort());
    const silent = (await store.alerts()).find((a) => a.kind === 'hub.peer-silent');
    expect(JSON.parse(silent?.details ?? '{}')).toMatchObject({ peer: 'recorder-0', role: 'viewer' });
    for (const kind of [
      'risk.state',
      'stop-loss.failure',
      'orders.outcome-unknown',
      'trader.data-stale',
      'hub.peer-silent',
      'hub.peer-back',
    ])
      expect(last.some((l) => l.split(' ')[1] === kind)).toBe(true);
    expect(last.some((l) => /^income-0 exchange\./.test(l))).toBe(true);
  }, 90_000);
});
