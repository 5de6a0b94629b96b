import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FeishuReceiver } from '../../ts/alerts/testing/feishu-receiver.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { HubClient } from '../../ts/hub/hub-client.js';
import { HubHealthSchema, HubStatusSchema } from '../../ts/hub/hub-status.js';
import { statusAuthorization } from '../../ts/hub/peer-auth.js';
import { TraderFeed } from '../../ts/hub/trader-feed.js';
import { silentLogger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { openSqliteStore } from '../../ts/store/open-store.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { OneMachineSystem } from './one-machine.js';

const built = existsSync(join(packageRoot, 'dist', 'app', 'cli', 'main.js'));
const API_KEY = 'one-machine-test-key';
const API_SECRET = 'one-machine-test-secret';

const eventually = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) =>
  waitUntil(check, what, timeoutMs, 50);

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.skipIf(!built)('tributary up (OneMachineSystem)', () => {
  it('runs every process, survives kill -9 of the hub, a collector and the trader, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-up-'));
    const configFile = join(dir, 'tributary.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        simulator: { port: 0, tradesPerSecond: 50 },
        hub: { port: 0 },
        dashboard: { port: 0 },
        publish: { target: { kind: 'folder', dir: join(dir, 'public') } },
        store: { sqlitePath: join(dir, 'records.sqlite') },
        collectors: {
          kline: { instances: 1, intervalMs: 100, intervals: ['1m'] },
          hotKline: { instances: 0 },
          account: { intervalMs: 300 },
          positionRisk: { intervalMs: 300 },
          income: { intervalMs: 1000 },
        },
        // The book only: a paper trader on the simulator would trade this account (its positions are checked below).
        trader: { intervals: ['1m'], strategy: 'none' },
        alerts: { minIntervalMs: 1000, gatherMs: 100 },
      }),
    );
    // The owner's chat bot, signing on: the supervisor's restart alerts must reach it.
    const bot = await FeishuReceiver.start({
      token: 'one-machine-bot-token',
      secret: 'one-machine-bot-secret',
    });
    cleanups.push(() => bot.close());
    const lines: string[] = [];
    const system = new OneMachineSystem({
      configFile,
      env: {
        ...process.env,
        BINANCE_API_KEY: API_KEY,
        BINANCE_API_SECRET: API_SECRET,
        TRIBUTARY_ALERT_WEBHOOK_URL: bot.url,
        TRIBUTARY_ALERT_WEBHOOK_SECRET: 'one-machine-bot-secret',
      },
      logger: silentLogger('up'),
      output: (name, line) => lines.push(`[${name}] ${line}`),
      workDir: dir,
    });
    cleanups.push(() => system.stop());
    const info = await system.start();
    // Every child's state under the system's folder, none in the checkout's `.tributary/`.
    expect(info.logFile).toBe(join(dir, '.tributary', 'logs', 'tributary.log'));
    expect(info.children).toContain('hub');
    expect(info.children).toContain('trader-0');
    expect(info.children).toContain('dashboard');

    // The dashboard: the owner view refuses without the password of this run, answers with it.
    const dashboard = info.dashboardUrl ?? '';
    const tokenFile = info.ownerTokenFile ?? '';
    const token = (await readFile(tokenFile, 'utf8')).trim().replace(/^TRIBUTARY_OWNER_TOKEN=/, '');
    await waitUntil(
      async () => (await fetch(`${dashboard}/owner/api/live`).catch(() => undefined))?.status === 401,
      'the dashboard refusing the owner view without the password',
      30_000,
      100,
    );
    const live = await fetch(`${dashboard}/owner/api/live`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(live.status).toBe(200);
    const liveText = await live.text();
    expect(liveText).not.toContain(API_SECRET);
    expect(liveText).not.toContain(token);
    await waitUntil(
      async () => (await readFile(info.logFile, 'utf8').catch(() => '')).includes('[trader-0]'),
      "the trader's lines in the system log",
      30_000,
      100,
    );
    const sim = info.simulator;
    if (sim === undefined) throw new Error('the simulator should run in-process');

    const viewer = new HubClient({
      url: info.hubUrl,
      peer: 'operator-test',
      key: info.operatorKey,
      logger: silentLogger('viewer'),
      backoff: { initialMs: 50, maxMs: 500 },
    });
    cleanups.push(() => viewer.close());
    const feed = new TraderFeed({
      client: viewer,
      subscriptions: [{ symbols: '*', kinds: ['position', 'balance'], intervals: '*' }],
      logger: silentLogger('feed'),
    });
    await feed.start();
    cleanups.push(() => feed.stop());
    const rest = new RestClient({ baseUrl: sim.restUrl, apiKey: API_KEY, apiSecret: API_SECRET });
    cleanups.push(() => rest.close());
    const api = new UsdmApi(rest);
    const truth = () =>
      sim.engine.accountTruth('account-1').positions.find((p) => p.symbol === 'BTCUSDT')?.positionAmt ?? '0';
    const seen = () => {
      const id = feed.symbolId('BTCUSDT');
      return id === undefined ? undefined : feed.book.position(id, 'BOTH')?.amount;
    };
    const same = () => seen() !== undefined && Decimal.parse(seen() ?? '0').eq(Decimal.parse(truth()));

    await api.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: Decimal.parse('0.005') });
    await eventually(same, 'the position at a hub subscriber');

    for (const name of ['hub', 'kline-0', 'trader-0']) {
      const pid = system.supervisor.pid(name);
      expect(pid).toBeDefined();
      process.kill(pid ?? 0, 'SIGKILL');
      await eventually(() => {
        const s = system.supervisor.status().find((c) => c.name === name);
        return s?.state === 'running' && s.restarts === 1 && system.supervisor.pid(name) !== pid;
      }, `${name} restarted`);
    }
    // Each death was told to the owner: three restarts, signed, in messages at least a second apart.
    const restartsTold = () =>
      bot.accepted
        .filter((m) => m.title.includes('supervisor@'))
        .flatMap((m) => m.text.split('\n'))
        .filter((l) => l.includes('A process died and is restarted'))
        .reduce((n, l) => n + Number(/×(\d+)/.exec(l)?.[1] ?? 1), 0);
    await eventually(() => restartsTold() === 3, 'three restart alerts at the bot');
    expect(bot.refused).toEqual([]);
    const supervisorTimes = bot.accepted.filter((m) => m.title.includes('supervisor@')).map((m) => m.at);
    for (let i = 1; i < supervisorTimes.length; i++) {
      expect((supervisorTimes[i] ?? 0) - (supervisorTimes[i - 1] ?? 0)).toBeGreaterThanOrEqual(900);
    }
    // ... and kept in the records store: carried through the hub (the one about the hub itself once
    // the hub was back) to the recorder.
    const store = await openSqliteStore(join(dir, 'records.sqlite'));
    cleanups.push(() => store.close());
    await eventually(
      async () =>
        (await store.alerts()).filter((a) => a.source === 'supervisor' && a.kind === 'supervisor.restart')
          .length === 3,
      'the three restart alerts in the records store',
      60_000,
    );
    await api.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: Decimal.parse('0.002') });
    await eventually(same, 'the position after the restarts');
    expect(Decimal.parse(seen() ?? '0').toString()).toBe('0.007');
    // The first trader may have been killed before it synced; the restarted one syncs too.
    await eventually(
      () => lines.some((l) => l.startsWith('[trader-0] ') && l.includes('trader book synced')),
      'the trader synced',
    );

    // The public status shows the peers but not the trader's report (wallet, positions); the
    // operator key of this run reads the full document.
    const health = async () => HubHealthSchema.parse(await (await fetch(info.statusUrl)).json());
    await eventually(
      async () => (await health()).peers.some((p) => p.peer === 'trader-0'),
      'the trader back',
    );
    const full = async () => {
      const response = await fetch(`${info.statusUrl}/full`, {
        headers: { authorization: statusAuthorization(info.operatorKey, '/status/full') },
      });
      return HubStatusSchema.parse(await response.json());
    };
    await eventually(
      async () => (await full()).peers.find((p) => p.peer === 'trader-0')?.report !== null,
      'the trader report in the full status',
    );
    // The publisher and the dashboard are seen by the hub too (their presence connections).
    await eventually(async () => {
      const peers = (await full()).peers;
      return ['publisher-0', 'dashboard-0'].every((name) => peers.find((p) => p.peer === name)?.report);
    }, 'the publisher and the dashboard at the hub');
    expect((await readFile(info.operatorKeyFile, 'utf8')).trim()).toBe(
      `TRIBUTARY_HUB_KEY=${info.operatorKey.id}:${info.operatorKey.secret}`,
    );

    await system.stop();
    expect(system.supervisor.status().every((c) => c.state === 'stopped')).toBe(true);
    // The run's keys go with it.
    await expect(readFile(info.operatorKeyFile, 'utf8')).rejects.toThrow(/ENOENT/);
  }, 120_000);
});
