// The soak: `tributary up` against the simulator at a high trade rate, its hub, collectors, trader and recorder killed at random; afterwards the books and the records store are checked against the simulator.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../ts/config/load-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { HubClient } from '../../ts/hub/hub-client.js';
import { type HubStatus, HubStatusSchema } from '../../ts/hub/hub-status.js';
import { statusAuthorization } from '../../ts/hub/peer-auth.js';
import { TraderFeed } from '../../ts/hub/trader-feed.js';
import type { Logger } from '../../ts/log/logger.js';
import type { Kline } from '../../ts/native/records.js';
import { openSqliteStore } from '../../ts/store/open-store.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { recordedMode } from '../cli/record.js';
import { OneMachineSystem } from '../one-machine/one-machine.js';
import { checkRecords, type RecordsCheck } from './records-check.js';
import { type SoakOrderCounts, SoakOrders } from './soak-orders.js';

/** How a soak runs. */
export interface SoakOptions {
  /** Length of the phase with kills, ms. */
  readonly durationMs: number;
  /** Trades per second of the whole simulated market (the one every collector reads), spread evenly over its symbols. */
  readonly tradesPerSecond: number;
  /** Contracts the simulator lists: its six, then generated ones up to this many (USD-M has 600+). */
  readonly universe: number;
  /** Mean time between kills, ms (each 0.5–1.5 × this). */
  readonly killEveryMs: number;
  readonly seed: number;
  readonly logger: Logger;
  /**
   * The folder the system runs in: its configuration, records, trader journal and log (under
   * `.tributary/`). Default: a new temporary folder, removed when the soak passes and kept when it
   * fails. A folder given here is always kept. Never the checkout's own `.tributary/`, which the
   * next `npm start` reads: a soak's 600 contracts are symbols that start's simulator does not list.
   */
  readonly stateDir?: string;
}

/** One RSS sample of a process, MiB. */
interface RssSample {
  readonly at: number;
  readonly pid: number;
  readonly mib: number;
}

/** What a soak found. */
export interface SoakResult {
  readonly durationS: number;
  readonly tradesPerSecond: number;
  readonly universe: number;
  readonly kills: Record<string, number>;
  /** Exchange websocket frames the stream collectors received per second (summed over their lifetimes). */
  readonly exchangeMessagesPerSecond: number;
  /** Records the hub merged per second over the run (summed over hub lifetimes). */
  readonly hubRecordsPerSecond: number;
  readonly hubMessagesPerSecond: number;
  readonly symbolsChecked: number;
  readonly barsChecked: number;
  readonly barMismatches: string[];
  readonly positionMismatches: string[];
  /** The soak's own order rounds at the simulator. */
  readonly orders: SoakOrderCounts;
  /** The records store against the simulator's account; passes when it converged. */
  readonly records: RecordsCheck;
  /** RSS per minute of each hub instance (one per restart), MiB; instances of 3 minutes or more must be flat. */
  readonly hubRss: Array<{ pid: number; perMinuteMiB: number[] }>;
  /** RSS per minute of this process (simulator, supervisor, checking trader), MiB; must be flat. */
  readonly soakRssPerMinuteMiB: number[];
  /** The folder the system ran in; kept when the soak failed or the folder was given. */
  readonly stateDir: string;
  readonly stateDirKept: boolean;
  readonly passed: boolean;
}

/** A seeded PRNG (mulberry32): the same seed kills the same children at the same times. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function rssMiB(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? undefined : Number.parseInt(line.replace(/\D+/g, ''), 10) / 1024;
  } catch {
    // The process died between the pid lookup and the read: no sample this time.
    return undefined;
  }
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean RSS per minute of `samples` (from the first sample), MiB. */
function perMinute(samples: RssSample[]): number[] {
  const start = samples[0]?.at ?? 0;
  const minutes: number[][] = [];
  for (const s of samples) {
    const minute = Math.floor((s.at - start) / 60_000);
    const bucket = minutes[minute] ?? [];
    bucket.push(s.mib);
    minutes[minute] = bucket;
  }
  return minutes.map((m) => Math.round(mean(m ?? [])));
}

/**
 * Whether memory stayed flat: the last minute's mean within 25 % (or 64 MiB) of the mean of the
 * minute at half-time. Half-time, not the start: the simulator fills its trade tape (two million
 * aggTrades) for the first minutes of a run at 10,000 trades/s, a bounded growth by design.
 */
function flat(minutes: number[]): boolean {
  const middle = minutes[Math.floor((minutes.length - 1) / 2)];
  const last = minutes.at(-1);
  if (middle === undefined || last === undefined) return false;
  return last <= Math.max(middle * 1.25, middle + 64);
}

/** The simulator's bounds of `simulator.tradesPerSecond` (one symbol's rate). */
const MIN_SYMBOL_RATE = 0.1;
const MAX_SYMBOL_RATE = 100_000;

const API_KEY = 'soak-key';
const API_SECRET = 'soak-secret';
const KILLABLE =
  /^(hub|kline-\d+|stream-\d+|tick-\d+|account-\d+|position-risk-\d+|user-stream-\d+|trader-\d+|recorder-\d+)$/;
/** The symbol the soak's own orders go to. */
const ORDER_SYMBOL = 'BTCUSDT';
/** How often the recorder reconciles in the soak (the default is 5 minutes), ms. */
const RECONCILE_MS = 60_000;

/** Runs one soak; see docs/operations.md, "Soak". */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.logger;
  // The simulator's rate is per symbol; the soak's is the market's.
  const perSymbol = options.tradesPerSecond / options.universe;
  if (!(perSymbol >= MIN_SYMBOL_RATE && perSymbol <= MAX_SYMBOL_RATE)) {
    throw new RangeError(
      `${options.tradesPerSecond} trades/s over ${options.universe} symbols is ${perSymbol} a symbol; the simulator takes ${MIN_SYMBOL_RATE} to ${MAX_SYMBOL_RATE}`,
    );
  }
  const random = seededRandom(options.seed);
  const dir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'tributary-soak-')));
  await mkdir(dir, { recursive: true });
  const configFile = join(dir, 'tributary.json');
  await writeFile(
    configFile,
    JSON.stringify({
      simulator: { port: 0, tradesPerSecond: perSymbol, universe: options.universe },
      hub: { port: 0 },
      supervisor: { maxRestarts: 1000, restartWindowMs: 60_000, restartDelayMs: 250 },
      collectors: {
        kline: { instances: 1, intervalMs: 100, intervals: ['1m'], fullEveryMs: 5_000 },
        hotKline: { instances: 0 },
        stream: { instances: 1, intervals: ['1m'] },
        account: { intervalMs: 500 },
        positionRisk: { intervalMs: 500 },
        income: { instances: 0 },
      },
      trader: { intervals: ['1m'] },
      recorder: { reconcileMs: RECONCILE_MS },
    }),
  );
  const system = new OneMachineSystem({
    configFile,
    env: { ...process.env, BINANCE_API_KEY: API_KEY, BINANCE_API_SECRET: API_SECRET },
    logger: log.child('up'),
    output: () => {},
    workDir: dir,
  });
  // The folder goes only after a soak that passed, when the soak made it: a failure's log,
  // records and journal are what one reads to find out why.
  let passed = false;
  const cleanups: Array<() => Promise<void> | void> = [
    () => (passed && options.stateDir === undefined ? rm(dir, { recursive: true, force: true }) : undefined),
  ];
  try {
    const info = await system.start();
    cleanups.push(() => system.stop());
    const sim = info.simulator;
    if (sim === undefined) throw new Error('the soak needs the in-process simulator');
    const full = async (): Promise<HubStatus | undefined> => {
      try {
        const response = await fetch(`${info.statusUrl}/full`, {
          headers: { authorization: statusAuthorization(info.operatorKey, '/status/full') },
        });
        return HubStatusSchema.parse(await response.json());
      } catch {
        // The hub is down (killed): no status this time.
        return undefined;
      }
    };
    const rest = new RestClient({ baseUrl: sim.restUrl, apiKey: API_KEY, apiSecret: API_SECRET });
    cleanups.push(() => rest.close());
    const api = new UsdmApi(rest);
    const viewer = new HubClient({
      url: info.hubUrl,
      peer: 'operator-soak',
      key: info.operatorKey,
      logger: log.child('checker'),
      backoff: { initialMs: 100, maxMs: 2_000 },
    });
    cleanups.push(() => viewer.close());
    const feed = new TraderFeed({
      client: viewer,
      subscriptions: [{ symbols: '*', kinds: '*', intervals: ['1m'] }],
      logger: log.child('checker-feed'),
    });
    cleanups.push(() => feed.stop());
    await feed.start();

    const kills: Record<string, number> = {};
    const hubSamples: RssSample[] = [];
    const ownSamples: RssSample[] = [];
    let records = 0;
    let messages = 0;
    let lastCounts: { hub: string; records: number; messages: number } | undefined;
    let exchangeFrames = 0;
    const lastStreamFrames = new Map<string, number>();
    const started = Date.now();
    const sample = async () => {
      const pid = system.supervisor.pid('hub');
      const mib = pid === undefined ? undefined : rssMiB(pid);
      if (pid !== undefined && mib !== undefined) hubSamples.push({ at: Date.now(), pid, mib });
      ownSamples.push({ at: Date.now(), pid: process.pid, mib: process.memoryUsage().rss / 2 ** 20 });
      const status = await full();
      if (status === undefined) return;
      for (const peer of status.peers) {
        if (!peer.peer.startsWith('stream-')) continue;
        const frames = (peer.report as { detail?: { frames?: unknown } } | null)?.detail?.frames;
        if (typeof frames !== 'number') continue;
        // A restarted collector counts from zero.
        const before = lastStreamFrames.get(peer.peer) ?? 0;
        exchangeFrames += frames >= before ? frames - before : frames;
        lastStreamFrames.set(peer.peer, frames);
      }
      const now = {
        hub: `${status.hub}@${status.startedAt}`,
        records: status.merge.recordsChanged + status.merge.recordsUnchanged + status.merge.recordsDropped,
        messages: status.messages.in,
      };
      // A restarted hub counts from zero: add what it did since its start.
      const base = lastCounts?.hub === now.hub ? lastCounts : { records: 0, messages: 0 };
      records += now.records - base.records;
      messages += now.messages - base.messages;
      lastCounts = now;
    };
    const sampler = setInterval(() => void sample(), 5_000);
    cleanups.push(() => clearInterval(sampler));

    // The kill phase: a random child every killEveryMs on average, a round of orders every 15 s.
    const orders = new SoakOrders(api, sim, ORDER_SYMBOL, log.child('orders'));
    let nextKill = started + options.killEveryMs * (0.5 + random());
    let nextOrder = started + 15_000;
    while (Date.now() - started < options.durationMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = Date.now();
      if (now >= nextOrder) {
        nextOrder = now + 15_000;
        await orders.round(random() < 0.5 ? 'BUY' : 'SELL');
      }
      if (now < nextKill) continue;
      nextKill = now + options.killEveryMs * (0.5 + random());
      const candidates = system.supervisor
        .status()
        .filter((c) => c.state === 'running' && KILLABLE.test(c.name))
        .map((c) => c.name);
      const name = candidates[Math.floor(random() * candidates.length)];
      const pid = name === undefined ? undefined : system.supervisor.pid(name);
      if (name === undefined || pid === undefined) continue;
      process.kill(pid, 'SIGKILL');
      kills[name] = (kills[name] ?? 0) + 1;
      log.info('soak killed a child', { name, pid });
    }
    const killPhaseS = (Date.now() - started) / 1000;

    // Settle: every child running, the checker synced, the REST poller round done.
    await waitUntil(
      () => system.supervisor.status().every((c) => c.state === 'running'),
      'every child running',
      60_000,
      200,
    );
    await waitUntil(() => feed.synced, 'the checker synced', 60_000, 200);
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    await sample();
    clearInterval(sampler);

    // Positions: the simulator's truth, the checker's book and the trader's own report. The trader
    // trades on and reports every 10 s, so the three are compared until they agree (a trade just
    // before a report is not yet in it), at most a minute; what still differs then is a mismatch.
    const positionsDiffer = async (): Promise<string[]> => {
      const mismatches: string[] = [];
      const truth = new Map(
        sim.engine
          .accountTruth('account-1')
          .positions.filter((p) => !Decimal.parse(p.positionAmt).isZero())
          .map((p) => [p.symbol, Decimal.parse(p.positionAmt).normalize().toString()]),
      );
      const report = (await full())?.peers.find((p) => p.peer === 'trader-0')?.report as
        | { synced?: boolean; positions?: string[] }
        | null
        | undefined;
      if (report?.synced !== true) return ['trader-0 not reporting synced'];
      const reported = new Map(
        (report.positions ?? []).map((entry) => {
          const [symbol = '', amount = '0'] = entry.split(':');
          return [symbol, Decimal.parse(amount).normalize().toString()];
        }),
      );
      for (const [symbol, amount] of truth) {
        const id = feed.symbolId(symbol);
        const held = id === undefined ? null : feed.book.position(id, 'BOTH')?.amount;
        const checker =
          held === null || held === undefined ? '0' : Decimal.parse(held).normalize().toString();
        if (checker !== amount) mismatches.push(`checker ${symbol}: ${checker} ≠ ${amount}`);
        if (reported.get(symbol) !== amount)
          mismatches.push(`trader-0 ${symbol}: ${reported.get(symbol)} ≠ ${amount}`);
      }
      for (const symbol of reported.keys())
        if (!truth.has(symbol)) mismatches.push(`trader-0 holds ${symbol}, the simulator does not`);
      return mismatches;
    };
    let positionMismatches = await positionsDiffer();
    for (const deadline = Date.now() + 60_000; positionMismatches.length > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      positionMismatches = await positionsDiffer();
    }

    // Records: every order, fill, income row and conditional order of the account in the store,
    // exactly once, whatever was killed while they happened. The recorder may need its next
    // reconciliation to catch up, so the store is compared until it is equal, for a while longer
    // than one reconciliation period.
    const loaded = loadConfig(configFile, {}, { exchangeKeys: 'unused' });
    const store = await openSqliteStore(resolve(dir, loaded.config.store.sqlitePath));
    cleanups.push(() => store.close());
    const accountId = sim.engine.credentials(API_KEY)?.accountId;
    if (accountId === undefined) throw new Error('the simulator does not know the soak key');
    const recordsCheck = await checkRecords({
      sim,
      accountId,
      symbols: sim.market.specs().map((spec) => spec.symbol),
      store,
      scope: { mode: recordedMode(loaded), account: loaded.config.store.account },
      withinMs: RECONCILE_MS + 60_000,
    });

    // Closed 1m bars of every symbol: the checker's book against the simulator's own klines.
    const barMismatches: string[] = [];
    let barsChecked = 0;
    let symbolsChecked = 0;
    const cutoff = Date.now() - 60_000;
    for (const symbol of viewer.symbols) {
      const id = feed.symbolId(symbol);
      if (id === undefined) continue;
      const held = new Map(feed.book.klines(id, '1m').map((k: Kline) => [k.openTime, k]));
      // Through the paced client: 600 symbols' requests at once would meet the exchange's weight
      // limit, whose error body is no list of bars.
      const response = await api.klines({ symbol, interval: '1m', limit: 30 });
      const rows: unknown = JSON.parse(response.body.toString('utf8'));
      if (!Array.isArray(rows))
        throw new Error(`klines of ${symbol} are not a list: ${JSON.stringify(rows)}`);
      symbolsChecked += 1;
      for (const row of rows as unknown[][]) {
        const openTime = Number(row[0]);
        const closeTime = Number(row[6]);
        if (closeTime > cutoff || openTime < started) continue;
        const bar = held.get(openTime);
        barsChecked += 1;
        const same =
          bar !== undefined &&
          [bar.open, bar.high, bar.low, bar.close, bar.volume].every((v, i) =>
            Decimal.parse(v).eq(Decimal.parse(String(row[i + 1]))),
          ) &&
          bar.trades === Number(row[8]);
        if (!same && barMismatches.length < 20) {
          barMismatches.push(
            `${symbol} ${new Date(openTime).toISOString()}: ${JSON.stringify(bar ?? null)} ≠ ${JSON.stringify(row)}`,
          );
        }
      }
    }

    const hubPids = [...new Set(hubSamples.map((s) => s.pid))];
    const hubRss = hubPids.map((pid) => ({
      pid,
      perMinuteMiB: perMinute(hubSamples.filter((s) => s.pid === pid)),
    }));
    const soakRssPerMinuteMiB = perMinute(ownSamples);
    const elapsedS = (Date.now() - started) / 1000;
    passed =
      barMismatches.length === 0 &&
      positionMismatches.length === 0 &&
      recordsCheck.convergedAfterS !== null &&
      recordsCheck.exchangeRows.orders > 0 &&
      barsChecked > 0 &&
      flat(soakRssPerMinuteMiB) &&
      hubRss.every((h) => h.perMinuteMiB.length < 3 || flat(h.perMinuteMiB));
    return {
      durationS: Math.round(killPhaseS),
      tradesPerSecond: options.tradesPerSecond,
      universe: options.universe,
      kills,
      exchangeMessagesPerSecond: Math.round(exchangeFrames / elapsedS),
      hubRecordsPerSecond: Math.round(records / elapsedS),
      hubMessagesPerSecond: Math.round(messages / elapsedS),
      symbolsChecked,
      barsChecked,
      barMismatches,
      positionMismatches,
      orders: orders.counts,
      records: recordsCheck,
      hubRss,
      soakRssPerMinuteMiB,
      stateDir: dir,
      stateDirKept: !passed || options.stateDir !== undefined,
      passed,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => log.warn('soak cleanup failed', { error: String(error) }));
    }
  }
}
