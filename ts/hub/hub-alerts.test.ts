// Alerts through a real hub: peers forward their alerters' alerts, the hub adds its own, a subscriber gets them live and replayed after a reconnection; bad input is refused.
import { afterEach, describe, expect, it } from 'vitest';
import { Alerter } from '../alerts/alerter.js';
import { silentLogger } from '../log/logger.js';
import { waitUntil } from '../testing/wait-until.js';
import type { PeerRole, ServerMessage } from './control-messages.js';
import { HubAlertForwarder } from './hub-alert-forwarder.js';
import { HubClient, HubRequestError } from './hub-client.js';
import type { HubServer } from './hub-server.js';
import { MAX_ALERT_TEXT, parseAlertWires, type RelayedAlert, toAlertWire } from './relayed-alerts.js';
import { KEPT_ALERTS } from './server/services/alert-relay.js';
import { keyOf, startHub } from './testing/hub-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(hub: HubServer, peer: string, role: PeerRole): HubClient {
  const c = new HubClient({
    url: hub.url,
    peer,
    key: keyOf(role),
    logger: silentLogger('client'),
    backoff: { initialMs: 20, maxMs: 200 },
  });
  cleanups.push(() => c.close());
  return c;
}

function alerter(process: string): Alerter {
  return new Alerter({
    logger: silentLogger(process),
    origin: { label: 'test', process, host: 'here' },
    minIntervalMs: 60_000,
    gatherMs: 10,
    maxPending: 100,
    limits: { maxKinds: 10, maxDetailChars: 1000 },
  });
}

/** A viewer subscribed to the alerts, collecting what it is sent. */
async function subscriber(hub: HubServer, after?: number): Promise<{ c: HubClient; got: RelayedAlert[] }> {
  const c = client(hub, 'recorder-0', 'viewer');
  const got: RelayedAlert[] = [];
  c.onMessage((m: ServerMessage) => {
    if (m.op === 'alerts') got.push(...m.alerts);
  });
  await c.connect();
  await c.subscribeAlerts(after);
  return { c, got };
}

describe('alerts through the hub', () => {
  it('relays every process’s alerts with the peer name its key gives, the hub’s own too, and replays what a returning subscriber missed', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const hubAlerts = alerter('hub');
    cleanups.push(hub.relayAlertsFrom(hubAlerts));

    // A trader raises alerts before its hub link is up: they wait, then go in order.
    const traderAlerts = alerter('trader-0');
    const trader = client(hub, 'trader-0', 'trader');
    const forwarder = new HubAlertForwarder({
      client: trader,
      alerts: traderAlerts,
      logger: silentLogger('fwd'),
    });
    forwarder.start();
    cleanups.push(() => forwarder.stop(0));
    traderAlerts.raise({
      severity: 'critical',
      source: 'risk.close-all',
      title: 'Closing every position',
      details: { symbols: 3 },
    });
    traderAlerts.raise({
      severity: 'warning',
      source: 'stop-loss.failure',
      title: 'A stop was refused',
      details: { symbol: 'BTCUSDT' },
    });
    expect(forwarder.stats().queued).toBe(2);

    const first = await subscriber(hub);
    await trader.connect();
    await waitUntil(() => first.got.length === 2, 'the trader’s two alerts');
    expect(first.got.map((a) => `${a.peer} ${a.source} ${a.severity}`)).toEqual([
      'trader-0 risk.close-all critical',
      'trader-0 stop-loss.failure warning',
    ]);
    expect(first.got[0]?.details).toEqual({ symbols: 3 });
    expect(forwarder.stats()).toMatchObject({ forwarded: 2, queued: 0, dropped: 0 });

    // A collector may publish too; the hub's own alerts come as the peer `hub`.
    const collectorAlerts = alerter('income-0');
    const collector = client(hub, 'income-0', 'collector');
    const collectorForwarder = new HubAlertForwarder({
      client: collector,
      alerts: collectorAlerts,
      logger: silentLogger('fwd'),
    });
    collectorForwarder.start();
    cleanups.push(() => collectorForwarder.stop(0));
    await collector.connect();
    collectorAlerts.raise({
      severity: 'critical',
      source: 'exchange.ban',
      title: 'IP banned (418)',
      details: { untilMs: 5 },
    });
    hubAlerts.raise({
      severity: 'critical',
      source: 'hub.peer-silent',
      title: 'A process stopped',
      details: { peer: 'trader-1' },
    });
    await waitUntil(() => first.got.length === 4, 'the collector’s and the hub’s alerts');
    // Between processes there is no order; within one, the order raised.
    expect(
      first.got
        .slice(2)
        .map((a) => `${a.peer} ${a.source}`)
        .sort(),
    ).toEqual(['hub hub.peer-silent', 'income-0 exchange.ban']);
    expect(first.got.map((a) => a.seq)).toEqual([1, 2, 3, 4]);

    // The subscriber goes away; what is raised meanwhile is replayed when it asks from its last seq.
    await first.c.close();
    traderAlerts.raise({ severity: 'info', source: 'risk.state', title: 'Trading resumed', details: {} });
    await waitUntil(() => forwarder.stats().forwarded === 3, 'the alert handed over');
    const back = await subscriber(hub, 4);
    await waitUntil(() => back.got.length === 1, 'the replay');
    expect(back.got[0]).toMatchObject({ seq: 5, peer: 'trader-0', source: 'risk.state' });
    // Without `after`, everything the hub kept.
    const fresh = await subscriber(hub);
    await waitUntil(() => fresh.got.length === 5, 'everything kept');
    expect(hub.status().alerts).toMatchObject({ relayed: 5, kept: 5, subscribers: 2 });
  });

  it('refuses a subscription from a trader and malformed alerts, and keeps only the newest alerts for replay', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const trader = client(hub, 'trader-0', 'trader');
    await trader.connect();
    await expect(trader.subscribeAlerts()).rejects.toMatchObject({ code: 'forbidden' });
    const bad = trader.request({
      op: 'alerts.publish',
      alerts: [{ at: 1, severity: 'fatal', source: 'x', title: 't', details: {} }],
    } as never);
    await expect(bad).rejects.toBeInstanceOf(HubRequestError);
    await expect(bad).rejects.toMatchObject({ code: 'bad_field' });

    // Times a peer gets wrong by a unit are refused whole, with a text that carries no numbers.
    const now = Date.now();
    const one = toAlertWire({ at: now, severity: 'info', source: 'unit.test', title: 'one', details: {} });
    for (const at of [Math.floor(now / 1000), now * 1000, now * 1_000_000, now + 2 * 86_400_000, 0]) {
      const refused = trader.publishAlerts([one, { ...one, at }]);
      await expect(refused).rejects.toMatchObject({
        code: 'bad_field',
        message: expect.stringContaining('alerts[1]: at must be Unix milliseconds from 2020 to a day ahead'),
      });
    }
    await trader.publishAlerts([
      { ...one, at: now - 30 * 86_400_000 },
      { ...one, at: now + 3_600_000 },
    ]);

    const wire = toAlertWire({ at: now, severity: 'info', source: 'load.test', title: 'one', details: {} });
    for (let i = 0; i < KEPT_ALERTS + 20; i += 100)
      await trader.publishAlerts(Array.from({ length: 100 }, (_, j) => ({ ...wire, at: now + i + j })));
    const late = await subscriber(hub);
    await waitUntil(() => late.got.length === KEPT_ALERTS, 'the kept alerts');
    // 2 alerts of plausible times, then 1,100 of the load: the newest KEPT_ALERTS are kept.
    expect(late.got[0]?.seq).toBe(2 + KEPT_ALERTS + 100 - KEPT_ALERTS + 1);
  });
});

describe('alert wire format', () => {
  it('clips what a peer sends to what the hub accepts, and refuses what breaks the shape', () => {
    const long = 'x'.repeat(MAX_ALERT_TEXT + 50);
    const details: Record<string, string> = {};
    for (let i = 0; i < 60; i++) details[`k${i}`] = long;
    const wire = toAlertWire({
      at: 1_780_000_000_000.9,
      severity: 'warning',
      source: 'risk:odd source',
      title: long,
      details,
    });
    expect(wire.title).toHaveLength(MAX_ALERT_TEXT);
    expect(wire.source).toBe('risk-odd-source');
    expect(wire.at).toBe(1_780_000_000_000);
    expect(wire.details.detailsLeftOut).toBe(21);
    expect(parseAlertWires([wire])).toEqual([wire]);

    expect(parseAlertWires([])).toMatch(/1 … 100/);
    expect(parseAlertWires([{ ...wire, extra: 1 }])).toMatch(/exactly/);
    expect(parseAlertWires([{ ...wire, details: { a: { nested: true } } }])).toMatch(/details\.a/);
    expect(parseAlertWires([{ ...wire, details: { a: Number.NaN } }])).toMatch(/details\.a/);
    expect(parseAlertWires([{ ...wire, at: -1 }])).toMatch(/at must/);
    expect(parseAlertWires([{ ...wire, at: 1_780_000_000_000_000 }], 1_780_000_000_000)).toMatch(/at must/);
    expect(parseAlertWires([{ ...wire, at: 1_780_000_000 }], 1_780_000_000_000)).toMatch(/at must/);
  });

  it('sends an alert raised with a time the hub would refuse at the time it is sent, keeping the time given', () => {
    const now = 1_780_000_000_000;
    const details: Record<string, number> = {};
    for (let i = 0; i < 60; i++) details[`k${i}`] = i;
    for (const given of [now * 1000, now / 1000, Number.NaN, now + 2 * 86_400_000]) {
      const wire = toAlertWire({ at: given, severity: 'critical', source: 'risk', title: 't', details }, now);
      expect(wire.at).toBe(now);
      expect(wire.details.atGiven).toBe(Number.isNaN(given) ? 'NaN' : given);
      expect(wire.details.detailsLeftOut).toBe(60 - 38);
      expect(parseAlertWires([wire], now)).toEqual([wire]);
    }
    const onTime = toAlertWire({ at: now - 5, severity: 'info', source: 'risk', title: 't' }, now);
    expect(onTime).toMatchObject({ at: now - 5, details: {} });
  });
});
