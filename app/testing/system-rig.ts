// Test rig: a real simulator and a real hub on loopback, with collectors and traders started in-process.
import { randomBytes } from 'node:crypto';
import type { CollectorKind } from '../../collectors/collector.js';
import { type RunningCollector, startCollector } from '../../collectors/collector-process.js';
import type { FaultSpec } from '../../sim/server/faults.js';
import type { ServerLimits } from '../../sim/server/server-limits.js';
import type { SimRequestRecord } from '../../sim/server/sim-server.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import type { SimMarketSource } from '../../sim/simulator-config.js';
import { TraderProcess } from '../../trader/trader-process.js';
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { readTributaryConfig } from '../../ts/config/tributary-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { HubServer } from '../../ts/hub/hub-server.js';
import { newKey } from '../../ts/hub/key-file.js';
import { type ActiveKey, type HubKeyCredentials, KeyRing } from '../../ts/hub/peer-keys.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { KlineObject } from '../../ts/native/index.js';
import { waitUntil } from '../../ts/testing/wait-until.js';

/** Fast settings so a test sees many polls in a second or two. */
const FAST_COLLECTORS = {
  kline: { instances: 1, intervalMs: 60, intervals: ['1m', '5m'], fullEveryMs: 1000 },
  hotKline: { instances: 1, intervalMs: 60, intervals: ['1m'], top: 3 },
  tick: { instances: 1, maxPollsPerSecond: 8 },
  stream: { instances: 1, intervals: ['1m', '5m'], maxStreamsPerConnection: 200 },
  account: { instances: 1, intervalMs: 200, version: 'v3' },
  positionRisk: { instances: 1, intervalMs: 200, version: 'v3' },
  userStream: { instances: 1 },
  income: { instances: 1, intervalMs: 200 },
  universe: { instances: 1, intervalMs: 60_000 },
};

/** Polls `check` every 20 ms until it holds, or fails naming `what` after `timeoutMs`. */
export function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  return waitUntil(check, what, timeoutMs, 20);
}

/**
 * Waits until `check` holds after a stall of `stallMs` began at `stalledAt` (at most `stallMs` + 5
 * s), failing with `detail` (the collector's status) in the message; returns how long after the
 * stall it held, for the caller to bound.
 */
export async function replacedAfterStall(
  check: () => boolean,
  what: string,
  stalledAt: number,
  stallMs: number,
  detail: () => unknown,
): Promise<number> {
  await eventually(check, what, stalledAt + stallMs + 5_000 - Date.now()).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(detail())}`);
  });
  return Date.now() - stalledAt;
}

/** A simulator, a hub and whatever collectors and traders a test starts, all stopped by `stop`. */
export class CollectorRig {
  readonly requests: SimRequestRecord[] = [];
  readonly #collectors: RunningCollector[] = [];
  readonly #traders: TraderProcess[] = [];
  readonly #apis: RestClient[] = [];
  #hub: HubServer;

  private constructor(
    readonly sim: RunningSimulator,
    hub: HubServer,
    readonly loaded: LoadedConfig,
    /** The hub's keys (kept across `restartHub`). */
    readonly ring: KeyRing,
    /** A key per role, each allowing any peer name. */
    readonly keys: { collector: HubKeyCredentials; trader: HubKeyCredentials; viewer: HubKeyCredentials },
  ) {
    this.#hub = hub;
    sim.server.onRequest((r) => this.requests.push(r));
  }

  /** Starts the simulator (6 symbols, seeded) and a hub with an empty registry. */
  static async start(
    options: {
      collectors?: Record<string, unknown>;
      transport?: 'ws' | 'uws';
      risk?: Record<string, unknown>;
      /** The simulator's market (default a seeded random walk, 50 trades a second). */
      source?: SimMarketSource;
      /** Faults standing from the simulator's start (a clock skew moves the exchange in time). */
      faults?: FaultSpec;
      /** The simulator's universe size (default its six symbols) and limits (default Binance's). */
      universe?: number;
      limits?: Partial<ServerLimits>;
      /** The `exchange` section beyond the simulator's address (e.g. `budget`). */
      exchange?: Record<string, unknown>;
    } = {},
  ): Promise<CollectorRig> {
    const apiKey = randomBytes(16).toString('hex');
    const apiSecret = randomBytes(32).toString('hex');
    const sim = await startSimulator(
      {
        port: 0,
        seed: 7,
        accounts: [{ apiKey, apiSecret, balances: { USDT: '10000' } }],
        source: options.source ?? { kind: 'random-walk', tradesPerSecond: 50 },
        ...(options.faults === undefined ? {} : { faults: options.faults }),
        ...(options.universe === undefined ? {} : { universe: options.universe }),
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      },
      { logger: silentLogger('sim') },
    );
    const issued: ActiveKey[] = (['collector', 'trader', 'viewer'] as const).map((role) =>
      newKey({ role, peers: ['*'], label: `rig ${role}` }),
    );
    const [collector, trader, viewer] = issued.map((k) => ({ id: k.id, secret: k.secret }));
    if (collector === undefined || trader === undefined || viewer === undefined) throw new Error('rig keys');
    const ring = new KeyRing(issued);
    const hub = await HubServer.start({
      keys: ring,
      port: 0,
      transport: options.transport ?? 'ws',
      logger: silentLogger('hub'),
      snapshotIntervalMs: 60_000,
    });
    const config = readTributaryConfig(
      {
        exchange: { ...options.exchange, kind: 'simulator', restUrl: sim.restUrl, wsUrl: sim.wsUrl },
        hub: { url: hub.url, port: hub.port },
        collectors: { ...FAST_COLLECTORS, ...options.collectors },
        trader: { intervals: ['1m', '5m'] },
        ...(options.risk === undefined ? {} : { risk: options.risk }),
      },
      'collector-rig',
    );
    const loaded: LoadedConfig = {
      config,
      secrets: {
        apiKey,
        apiSecret,
        hubSecret: undefined,
        ossAccessKeyId: undefined,
        ossAccessKeySecret: undefined,
        ownerToken: undefined,
      },
      sources: ['collector-rig'],
    };
    return new CollectorRig(sim, hub, loaded, ring, { collector, trader, viewer });
  }

  get hub(): HubServer {
    return this.#hub;
  }

  /** Starts a collector of `kind` in this process. */
  async collector(kind: CollectorKind, instance = 0): Promise<RunningCollector> {
    const running = await startCollector(
      kind,
      instance,
      this.loaded,
      silentLogger(`${kind}-${instance}`),
      this.keys.collector,
    );
    this.#collectors.push(running);
    return running;
  }

  /** Stops one collector abruptly-but-cleanly (as a process exit would: its connections close). */
  async kill(running: RunningCollector): Promise<void> {
    const at = this.#collectors.indexOf(running);
    if (at >= 0) this.#collectors.splice(at, 1);
    await running.stop();
  }

  /** A trader in this process, synced with the hub. */
  async trader(instance = 0): Promise<TraderProcess> {
    const trader = new TraderProcess(
      this.loaded,
      instance,
      silentLogger(`trader-${instance}`),
      this.keys.trader,
    );
    this.#traders.push(trader);
    await trader.start();
    return trader;
  }

  async killTrader(trader: TraderProcess): Promise<void> {
    const at = this.#traders.indexOf(trader);
    if (at >= 0) this.#traders.splice(at, 1);
    await trader.stop();
  }

  /** Closes the hub (every peer sees its connection drop) and starts a new, empty one on the same port. */
  async restartHub(): Promise<void> {
    const port = this.#hub.port;
    const transport = this.#hub.transportName === 'uws' ? 'uws' : 'ws';
    await this.#hub.close();
    this.#hub = await HubServer.start({
      keys: this.ring,
      port,
      transport,
      logger: silentLogger('hub'),
      snapshotIntervalMs: 60_000,
    });
  }

  /**
   * Stalls, through the simulator's fault endpoint, the stream connections carrying `stream` (open,
   * answering pings, delivering nothing) for `forMs`; returns how many connections it stalled.
   */
  async stallConnection(stream: string, forMs: number): Promise<number> {
    const response = await fetch(`${this.sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ stallConnection: { stream, forMs } }),
    });
    if (response.status !== 200)
      throw new Error(`stallConnection refused: ${response.status} ${await response.text()}`);
    const faults = (await response.json()) as { served: { connectionsStalled: number } };
    return faults.served.connectionsStalled;
  }

  /** An API client of the simulated account (tests place orders with it). */
  api(): UsdmApi {
    const rest = new RestClient({
      baseUrl: this.sim.restUrl,
      apiKey: this.loaded.secrets.apiKey ?? null,
      apiSecret: this.loaded.secrets.apiSecret ?? null,
    });
    this.#apis.push(rest);
    return new UsdmApi(rest);
  }

  /** The simulator's account (there is one). */
  truth() {
    return this.sim.engine.accountTruth('account-1');
  }

  async stop(): Promise<void> {
    for (const t of this.#traders.splice(0)) await t.stop();
    for (const c of this.#collectors.splice(0)) await c.stop();
    for (const r of this.#apis.splice(0)) r.close();
    await this.#hub.close();
    await this.sim.stop();
  }
}

/** The same decimal written without trailing fraction zeros ("7.6200" and "7.62" compare equal). */
export function exact(value: string | undefined | null): string | undefined {
  return value === undefined || value === null ? undefined : Decimal.parse(value).normalize().toString();
}

/** The kline fields a bar must share with the exchange's, as text compared exactly (`exact` decimals). */
export type KlineFields = Pick<
  KlineObject,
  | 'openTime'
  | 'open'
  | 'high'
  | 'low'
  | 'close'
  | 'volume'
  | 'quoteVolume'
  | 'trades'
  | 'takerBuyVolume'
  | 'takerBuyQuoteVolume'
>;

/** The fields a bar must share with the exchange's kline, exactly (decimals compared by value). */
export function klineValues(k: KlineFields) {
  return {
    openTime: k.openTime,
    open: exact(k.open),
    high: exact(k.high),
    low: exact(k.low),
    close: exact(k.close),
    volume: exact(k.volume),
    quoteVolume: exact(k.quoteVolume),
    trades: k.trades,
    takerBuyVolume: exact(k.takerBuyVolume),
    takerBuyQuoteVolume: exact(k.takerBuyQuoteVolume),
  };
}
