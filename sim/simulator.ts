// Starts the whole simulator: clock, market, exchange engine and server, from one checked config.
import { type Logger, silentLogger } from '../ts/log/logger.js';
import { ExchangeEngine } from './engine/exchange-engine.js';
import { SimMarket } from './market/sim-market.js';
import type { FaultInjector } from './server/faults.js';
import { resolveLimits } from './server/server-limits.js';
import { SimulatorClock } from './server/sim-clock.js';
import { SimServer } from './server/sim-server.js';
import {
  DEFAULT_BALANCE_USDT,
  DEFAULT_SIM_HOST,
  DEFAULT_SIM_PORT,
  type SimulatorConfig,
  validateSimulatorConfig,
} from './simulator-config.js';
import { universe } from './synthetic-universe.js';

const DEFAULT_ADVANCE_INTERVAL_MS = 100;

/** A running simulator. */
export interface RunningSimulator {
  /** `http://host:port`: point a client's fapi base URL here. */
  readonly restUrl: string;
  /** `ws://host:port`: append `/market/ws/...`, `/public/stream?streams=...`, `/private/ws/<listenKey>`. */
  readonly wsUrl: string;
  readonly port: number;
  readonly market: SimMarket;
  readonly engine: ExchangeEngine;
  readonly clock: SimulatorClock;
  readonly faults: FaultInjector;
  readonly server: SimServer;
  /** Stops the engine timer, the market and the server (closing every socket). Idempotent. */
  stop(): Promise<void>;
}

/** Runtime collaborators that are not configuration. */
export interface SimulatorRuntime {
  readonly logger?: Logger;
}

/**
 * Validates `config` (throwing `SimulatorConfigError` naming the field), then composes the clock,
 * the market, the engine and the server, and starts them. The engine advances every
 * `advanceIntervalMs` (default 100 ms) for funding and time-based expiries.
 */
export async function startSimulator(
  config: SimulatorConfig,
  runtime: SimulatorRuntime = {},
): Promise<RunningSimulator> {
  const checked = validateSimulatorConfig(config);
  const logger = runtime.logger ?? silentLogger('sim');
  const clock = new SimulatorClock();
  const wanted = checked.symbols === undefined ? undefined : new Set(checked.symbols);
  const listed = universe(checked.universe ?? 6);
  const symbols = wanted === undefined ? listed : listed.filter((s) => wanted.has(s.symbol));
  // exchangeInfo states the limits the server enforces, as Binance's does.
  const limits = resolveLimits(checked.limits);
  const market = new SimMarket({
    clock,
    symbols,
    rateLimits: limits,
    ...(checked.source === undefined ? {} : { source: checked.source }),
    ...(checked.seed === undefined ? {} : { seed: checked.seed }),
    ...(checked.history === undefined ? {} : { history: checked.history }),
    ...(checked.liquidationShare === undefined ? {} : { liquidationShare: checked.liquidationShare }),
    ...(checked.tapeBudget === undefined ? {} : { tapeBudget: checked.tapeBudget }),
    logger: logger.child('market'),
  });
  const engine = new ExchangeEngine({
    market,
    clock,
    accounts: checked.accounts.map((a) => ({ ...a, balances: a.balances ?? { USDT: DEFAULT_BALANCE_USDT } })),
    ...(checked.fundingIntervalMs === undefined ? {} : { fundingIntervalMs: checked.fundingIntervalMs }),
    logger: logger.child('engine'),
  });
  const server = await SimServer.start({
    host: checked.host ?? DEFAULT_SIM_HOST,
    port: checked.port ?? DEFAULT_SIM_PORT,
    clock,
    endpoints: [...market.endpoints(), ...engine.endpoints()],
    accounts: engine,
    market,
    userEvents: engine,
    ...(checked.limits === undefined ? {} : { limits: checked.limits }),
    ...(checked.faults === undefined ? {} : { faults: checked.faults }),
    logger: logger.child('server'),
  });
  try {
    market.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  const advanceLog = logger.child('engine');
  let advanceFailures = 0;
  const advance = setInterval(() => {
    try {
      engine.advance(clock.now());
    } catch (error) {
      // Counted and logged; the timer keeps running so one bad tick does not stall the exchange.
      advanceFailures += 1;
      advanceLog.error('engine advance failed', {
        failures: advanceFailures,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  }, checked.advanceIntervalMs ?? DEFAULT_ADVANCE_INTERVAL_MS);
  advance.unref();
  let stopping: Promise<void> | undefined;
  return {
    restUrl: server.restUrl,
    wsUrl: server.wsUrl,
    port: server.port,
    market,
    engine,
    clock,
    faults: server.faults,
    server,
    stop: () => {
      stopping ??= (async () => {
        clearInterval(advance);
        market.stop();
        await server.stop();
      })();
      return stopping;
    },
  };
}
