// System test: the recorder against the simulator through the hub, with 503-unknown orders, dropped user streams, trader and recorder restarts, and kill -9 of a real recorder process; on SQLite and on MariaDB.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecorderProcess, type RecorderStatus } from '../recorder/recorder-process.js';
import { alerterFromConfig } from '../ts/alerts/create-alerter.js';
import { defaultRiskSettings } from '../ts/config/risk-config.js';
import { Decimal } from '../ts/exact/decimal.js';
import { silentLogger } from '../ts/log/logger.js';
import { packageRoot } from '../ts/package-root.js';
import { openMysqlStore, openSqliteStore } from '../ts/store/open-store.js';
import type { SqlRecordStore } from '../ts/store/sql/sql-record-store.js';
import type { RecordScope } from '../ts/store/store-records.js';
import {
  mariadbReachable,
  mariadbTestDatabase,
  sqliteTestDatabase,
  type TestDatabase,
} from '../ts/store/testing/test-databases.js';
import { waitUntil } from '../ts/testing/wait-until.js';
import {
  accountLinesGaps,
  describeGaps,
  exchangeAccountLines,
  storedAccountLines,
} from './testing/account-lines.js';
import { type LiveTrading, startLiveTrading } from './testing/live-trading-rig.js';
import { CollectorRig, eventually } from './testing/system-rig.js';

const mariadb = await mariadbReachable();
if (!mariadb)
  console.warn(
    'MariaDB is not reachable on 127.0.0.1:3306: the MariaDB runs of the recorder system test are SKIPPED',
  );
const built = existsSync(join(packageRoot, 'dist', 'app', 'cli', 'main.js'));

const d = Decimal.parse;
const SCOPE: RecordScope = { mode: 'testnet', account: 'main' };
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
/** Market orders of the kill test's burst. */
const BURST = 150;
/** The burst's last orders wait for the kill, so it always dies inside the burst however fast the rest went. */
const AFTER_KILL = 20;
/**
 * Collectors poll at their production pace or slower: every process of this machine shares the
 * simulator's per-IP weight (the rig's fast tick poller alone would take more than all of it).
 */
const PACED = {
  tick: { instances: 1, maxPollsPerSecond: 2 },
  account: { instances: 1, intervalMs: 2000, version: 'v3' },
  positionRisk: { instances: 1, intervalMs: 2000, version: 'v3' },
  income: { instances: 1, intervalMs: 5000 },
};
const RECORDER_SETTINGS = {
  enabled: true,
  reconcileMs: 8000,
  incomeMs: 5000,
  snapshotMs: 5000,
  lookbackMs: 3_600_000,
  overlapMs: 60_000,
  activeDays: 1,
  symbols: [],
  klineSymbols: [],
  klineIntervals: [],
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

async function openStore(db: TestDatabase): Promise<SqlRecordStore> {
  return db.kind === 'sqlite' ? openSqliteStore(db.sqlitePath ?? '') : openMysqlStore(db.url ?? '');
}

async function faults(rig: CollectorRig, spec: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${rig.sim.restUrl}/_sim/faults`, {
    method: 'POST',
    body: JSON.stringify(spec),
  });
  expect(answer.status).toBe(200);
}

/** The account's records at the simulator, in the symbols the tests trade. */
const exchangeRecords = (rig: CollectorRig) => exchangeAccountLines(rig.sim, 'account-1', SYMBOLS);

/** Rounds of the fault script per database (CI: one). */
const FAULT_ROUNDS = Math.max(1, Number(process.env.RECORDS_FAULT_ROUNDS ?? '1'));

const backends = [
  { name: 'SQLite', skip: false, make: sqliteTestDatabase },
  { name: 'MariaDB', skip: !mariadb, make: mariadbTestDatabase },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the recorder on ${backend.name}`, () => {
    it(
      'stores every order, fill and income row of a trader under faults and restarts exactly once, with exact values',
      async () => {
        const db = backend.make();
        cleanups.push(() => db.drop());
        const rig = await CollectorRig.start({ collectors: PACED });
        cleanups.push(() => rig.stop());
        for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
          await rig.collector(kind);
        const store = await openStore(db);
        cleanups.push(() => store.close());
        const differences: string[] = [];
        const startedAt = Date.now();
        // The recorder's own alerts (its reconciliation findings) go to the store through its alerter.
        const alerter = alerterFromConfig(rig.loaded, 'recorder-0', silentLogger('recorder'));
        cleanups.push(() => alerter.close());
        const stopped: RecorderStatus[] = [];
        const startRecorder = async () => {
          const recorder = new RecorderProcess({
            store,
            api: rig.api(),
            scope: SCOPE,
            settings: RECORDER_SETTINGS,
            hub: { url: rig.hub.url, key: rig.keys.viewer, peer: 'recorder-0' },
            writer: { flushMs: 100, maxBatch: 500 },
            logger: silentLogger('recorder'),
            onReconciliationDifference: (x) =>
              differences.push(`${x.reason} ${x.symbol} ${x.orders}/${x.fills}/${x.income}`),
            alerts: alerter,
          });
          await recorder.start();
          return recorder;
        };
        const stopRecorder = async (r: RecorderProcess) => {
          await r.stop();
          stopped.push(r.status());
        };
        let recorder: RecorderProcess | undefined = await startRecorder();
        cleanups.push(() => (recorder === undefined ? undefined : stopRecorder(recorder)));
        const risk = defaultRiskSettings();
        const riskOff = { ...risk, enabled: false };
        const stateDir = mkdtempSync(join(tmpdir(), 'tributary-records-trader-'));
        let live: LiveTrading | undefined = await startLiveTrading(rig, riskOff, stateDir);
        cleanups.push(() => live?.stop());
        const position = (symbol: string) =>
          d(
            rig.truth().positions.find((p) => p.symbol === symbol && p.positionSide === 'BOTH')
              ?.positionAmt ?? '0',
          );
        const booked = (symbol: string) => {
          const t = live?.trader;
          const id = t?.feed.symbolId(symbol);
          return id === undefined ? undefined : d(t?.book.position(id, 'BOTH')?.amount ?? '0');
        };
        /**
         * Asks the trader for a position and waits for the exchange to hold it. Under faults the
         * trader's book may lag the exchange (its orders are then refused, e.g. reduce-only): it is
         * asked again once its book agrees with the exchange, at most three times.
         */
        const target = async (symbol: string, qty: string) => {
          for (let attempt = 1; attempt <= 3; attempt++) {
            const l = live;
            if (l === undefined) throw new Error('no trader');
            await eventually(
              () => l.runtime.market.lastPriceExact(symbol) !== undefined,
              `a price of ${symbol}`,
              15_000,
            );
            // Best effort: a book that lags the exchange makes the trader send orders the exchange refuses.
            await eventually(
              () => booked(symbol)?.eq(position(symbol)) === true,
              `${symbol} booked`,
              8_000,
            ).catch(() => undefined);
            l.runtime.engine.submitTarget('records-test', symbol, d(qty), `test ${attempt}`);
            const reached = await eventually(
              () => position(symbol).eq(d(qty)),
              `${symbol} at ${qty}`,
              10_000,
            ).then(
              () => true,
              () => false,
            );
            if (reached) return;
          }
        };
        const restartTrader = async () => {
          await live?.stop();
          live = await startLiveTrading(rig, riskOff, stateDir);
        };
        /** A reduce-only stop 20 % under BTCUSDT's price, placed directly (a ladder's kind of order). */
        const placeStop = async (): Promise<number> => {
          const price = live?.runtime.market.lastPriceExact('BTCUSDT');
          if (price === undefined) throw new Error('no BTCUSDT price');
          const stop = await rig.api().newAlgoOrder({
            symbol: 'BTCUSDT',
            side: 'SELL',
            type: 'STOP_MARKET',
            quantity: d('0.002'),
            triggerPrice: price.mul(d('0.8')).snap(d('0.1'), 'down'),
            reduceOnly: true,
          });
          return stop.algoId;
        };
        const cancelStop = (algoId: number) => rig.api().cancelAlgoOrder({ algoId });

        // One round of the scripted faults takes 15–60 s; RECORDS_FAULT_ROUNDS=12 runs it for several
        // minutes (docs/operations.md, Records).
        for (let round = 0; round < FAULT_ROUNDS; round++) {
          await target('BTCUSDT', '0.010');
          // Conditional orders (stops) live in their own service and stream (ALGO_UPDATE).
          const [stopA, stopB] = [await placeStop(), await placeStop()];
          await target('ETHUSDT', '-0.20');
          // Orders whose answer is lost (503, the order placed anyway): the sender resolves them by query.
          await faults(rig, { unknownStatusNextOrders: 2 });
          await target('BTCUSDT', '0.020');
          await target('ETHUSDT', '0.10');
          // The user stream drops: its events in between never reach the hub.
          await faults(rig, { dropWebsockets: true });
          await cancelStop(stopA);
          await target('BTCUSDT', '0');
          await restartTrader();
          await target('ETHUSDT', '-0.10');
          // The recorder stops (its buffer written) and misses what happens while it is away.
          await stopRecorder(recorder);
          recorder = undefined;
          await cancelStop(stopB);
          await target('BTCUSDT', '-0.015');
          await placeStop();
          await target('ETHUSDT', '0');
          recorder = await startRecorder();
          await faults(rig, { unknownStatusNextOrders: 1, dropWebsockets: true });
          await target('BTCUSDT', '0.005');
          await restartTrader();
          await target('BTCUSDT', '0');
        }

        // The store converges to the exchange's truth by the recorder's own schedule.
        let last = '';
        await waitUntil(
          async () => {
            const gaps = accountLinesGaps(exchangeRecords(rig), await storedAccountLines(store, SCOPE));
            last = describeGaps(gaps);
            return gaps.length === 0;
          },
          'the store equal to the exchange',
          90_000,
          500,
        ).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}\n${last.slice(0, 4000)}`);
        });
        const { orders, fills, income, algoOrders } = exchangeRecords(rig);
        expect(orders.length).toBeGreaterThanOrEqual(10);
        // Three stops a round: two cancelled (one while the stream was down, one while the recorder was away).
        expect(algoOrders.filter((line) => line.text.includes(' CANCELED ')).length).toBe(2 * FAULT_ROUNDS);
        expect(fills.length).toBeGreaterThanOrEqual(10);
        expect(income.some((line) => line.text.startsWith('COMMISSION'))).toBe(true);
        // Exactly once: the natural keys admit no second row, and the counts match the exchange's.
        expect((await store.fills(SCOPE)).length).toBe(fills.length);
        expect((await store.income(SCOPE)).length).toBe(income.length);
        // What the stream missed was found by REST and reported, and the alert kept in the store.
        expect(differences.length).toBeGreaterThan(0);
        await eventually(
          async () =>
            (await store.alerts()).some(
              (a) => a.kind === 'records.reconciliation' && a.source === 'recorder-0',
            ),
          'the reconciliation alert stored',
          15_000,
        );
        // Account state came from the hub: every snapshot since the hub's book synced was written from it.
        const current = recorder?.status();
        const all = [...stopped, ...(current === undefined ? [] : [current])];
        const total = (pick: (s: RecorderStatus) => number) => all.reduce((n, s) => n + pick(s), 0);
        expect(total((s) => s.hubSnapshots)).toBeGreaterThan(0);
        // Snapshots, equity and derived statistics follow.
        await eventually(async () => (await store.equitySeries(SCOPE)).length > 0, 'an equity point', 15_000);
        await store.rebuildDerived(SCOPE);
        const trips = await store.roundTrips(SCOPE, { symbol: 'BTCUSDT' });
        expect(trips.length).toBeGreaterThanOrEqual(2);
        // What a long run reports (docs/operations.md, Records).
        console.info(
          `records fault run on ${backend.name}: ${FAULT_ROUNDS} round(s) in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; ` +
            `exchange and store: ${orders.length} orders, ${fills.length} fills, ${income.length} income rows; ` +
            `recorder: ${total((s) => s.reconciliations)} reconciliations (${total((s) => s.fullReconciliations)} full), ` +
            `${total((s) => s.reconcileRequests)} REST requests, ${total((s) => s.incomeReads)} income reads, ` +
            `${total((s) => s.hubSnapshots)} snapshots from the hub and ${total((s) => s.restSnapshots)} by REST, ` +
            `${total((s) => s.streamGaps)} stream gap notices, ${total((s) => s.gaps)} event gaps, ${differences.length} differences`,
        );
      },
      300_000 * FAULT_ROUNDS,
    );

    it.skipIf(!built)(
      'loses no acknowledged record when the recorder process is killed with SIGKILL in a burst, and the next start reconciles the rest',
      async () => {
        const db = backend.make();
        cleanups.push(() => db.drop());
        const rig = await CollectorRig.start({ collectors: PACED });
        cleanups.push(() => rig.stop());
        for (const kind of ['universe', 'user-stream'] as const) await rig.collector(kind);
        const dir = mkdtempSync(join(tmpdir(), 'tributary-records-kill-'));
        const configFile = join(dir, 'tributary.json');
        writeFileSync(
          configFile,
          JSON.stringify({
            exchange: { kind: 'simulator', restUrl: rig.sim.restUrl, wsUrl: rig.sim.wsUrl },
            hub: { url: rig.hub.url },
            store: db.kind === 'sqlite' ? { sqlitePath: db.sqlitePath, flushMs: 20 } : { flushMs: 20 },
            recorder: { ...RECORDER_SETTINGS, reconcileMs: 600_000 },
          }),
        );
        const acknowledged = new Set<string>();
        const output: string[] = [];
        const startProcess = (): ChildProcess => {
          const child = spawn(
            process.execPath,
            [join(packageRoot, 'bin', 'tributary.js'), 'record', '--config', configFile, '--mode', 'testnet'],
            {
              env: {
                ...process.env,
                TRIBUTARY_HUB_KEY: `${rig.keys.viewer.id}:${rig.keys.viewer.secret}`,
                BINANCE_API_KEY: rig.loaded.secrets.apiKey ?? '',
                BINANCE_API_SECRET: rig.loaded.secrets.apiSecret ?? '',
                TRIBUTARY_LOG_LEVEL: 'debug',
                ...(db.url === undefined ? {} : { TRIBUTARY_STORE_URL: db.url }),
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let rest = '';
          const read = (chunk: string) => {
            output.push(chunk);
            const lines = (rest + chunk).split('\n');
            rest = lines.pop() ?? '';
            for (const line of lines) {
              // Only a line written after its commit names trades: those are acknowledged.
              if (!line.includes('"msg":"records committed"')) continue;
              const trades = (JSON.parse(line) as { trades?: string }).trades ?? '';
              for (const t of trades.split(' ').filter(Boolean)) acknowledged.add(t);
            }
          };
          child.stderr?.setEncoding('utf8').on('data', read);
          child.stdout?.setEncoding('utf8').on('data', read);
          cleanups.push(() => {
            if (child.exitCode === null) child.kill('SIGKILL');
          });
          return child;
        };
        const first = startProcess();
        const api = rig.api();
        await eventually(
          () => rig.hub.status().peers.some((p) => p.peer === 'recorder-0'),
          'the recorder at the hub',
          30_000,
        );
        // A burst of fills: market orders as fast as the exchange takes them; the recorder dies in it.
        let killed: () => void = () => {};
        const kill = new Promise<void>((resolve) => {
          killed = resolve;
        });
        const burst = (async () => {
          for (let i = 0; i < BURST; i++) {
            // On a quiet machine the exchange can take all 150 before the recorder has committed five.
            if (i === BURST - AFTER_KILL) await kill;
            await api.newOrder({
              symbol: SYMBOLS[i % 2] ?? 'BTCUSDT',
              side: i % 4 < 2 ? 'BUY' : 'SELL',
              type: 'MARKET',
              // Well above the 100 USDT minimum notional at the simulator's prices.
              quantity: d(i % 2 === 0 ? '0.01' : '1'),
            });
          }
        })();
        await eventually(() => acknowledged.size >= 5, 'some fills acknowledged', 30_000).catch(
          (error: unknown) => {
            throw new Error(`${(error as Error).message}\n${output.join('').slice(-3000)}`);
          },
        );
        first.kill('SIGKILL');
        await new Promise((resolve) => first.once('exit', resolve));
        killed();
        await burst;
        // Every acknowledged fill is in the store, read by a fresh connection after the kill.
        const store = await openStore(db);
        cleanups.push(() => store.close());
        const stored = new Set((await store.fills(SCOPE)).map((f) => `${f.symbol}:${f.tradeId}`));
        const lost = [...acknowledged].filter((t) => !stored.has(t));
        expect(lost).toEqual([]);
        // The next start reconciles everything the dead one never saw.
        startProcess();
        let last = '';
        await waitUntil(
          async () => {
            const gaps = accountLinesGaps(exchangeRecords(rig), await storedAccountLines(store, SCOPE));
            last = describeGaps(gaps);
            return gaps.length === 0;
          },
          'the store equal to the exchange after the restart',
          60_000,
          500,
        ).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}: ${last}`);
        });
        expect((await store.orders(SCOPE)).length).toBe(BURST);
      },
      180_000,
    );
  });
}
