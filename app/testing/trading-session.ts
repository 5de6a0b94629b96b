// What the system tests that trade share: collectors paced for the simulator's weight, a rig and a trader stopped after each test, a strategy started on a trader.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { TraderProcess } from '../../trader/trader-process.js';
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { silentLogger } from '../../ts/log/logger.js';
import { chooseStrategy, type StrategyFlags } from '../venues/trader-strategy.js';
import { startTraderTrading, type TraderTrading } from '../venues/trader-trading.js';
import type { CollectorRig } from './system-rig.js';

/**
 * The account's collectors and the tick poller at a pace the simulator's per-IP weight bears when
 * they all run: the rig's fast defaults would spend a minute's weight in seconds and then everything
 * waits for the next one. Bars come from the websocket stream, which costs no weight.
 */
export const PACED_COLLECTORS = {
  account: { instances: 1, intervalMs: 1000, version: 'v3' },
  positionRisk: { instances: 1, intervalMs: 1000, version: 'v3' },
  income: { instances: 1, intervalMs: 1000 },
  tick: { instances: 1, maxPollsPerSecond: 2 },
};

/** A test's rig and trading side; set them as they start. */
export interface TradingSession {
  rig: CollectorRig | undefined;
  trading: TraderTrading | undefined;
}

/** A session whose trading side, then rig, are stopped after each test (within `stopMs`). */
export function tradingSession(stopMs = 30_000): TradingSession {
  const session: TradingSession = { rig: undefined, trading: undefined };
  afterEach(async () => {
    await session.trading?.stop();
    session.trading = undefined;
    await session.rig?.stop();
    session.rig = undefined;
  }, stopMs);
  return session;
}

/**
 * Starts trading on `trader` with the strategy `flags` or `loaded` name (in paper mode the demo
 * when none does), its state in a fresh temporary folder.
 */
export async function startStrategy(
  trader: TraderProcess,
  loaded: LoadedConfig,
  flags: StrategyFlags,
  instance = 0,
): Promise<TraderTrading> {
  const chosen = chooseStrategy(loaded.config.trader, flags, 'test');
  if (!('strategy' in chosen)) throw new Error(`no strategy for trader.mode ${loaded.config.trader.mode}`);
  return startTraderTrading(
    trader,
    loaded,
    {
      strategyName: chosen.name,
      strategy: chosen.strategy,
      stateDir: mkdtempSync(join(tmpdir(), 'tributary-trading-')),
      instance,
    },
    silentLogger('trading'),
  );
}
