// A simulator with one funded account and a signed REST client on it, for tests that talk to it as the exchange.
import { randomBytes } from 'node:crypto';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { type Logger, silentLogger } from '../../ts/log/logger.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';

/** A running simulator, its one account's API, and how to stop both. */
export interface SimAccount {
  readonly sim: RunningSimulator;
  readonly rest: RestClient;
  readonly api: UsdmApi;
  stop(): Promise<void>;
}

/**
 * Starts a simulator on a free port with one account (fresh random keys, `usdt` of USDT) trading
 * a seeded random walk of `tradesPerSecond`, and a `UsdmApi` signed with that account's keys
 * (its REST client logging to `restLogger`, when given).
 */
export async function startSimAccount(
  options: { seed?: number; usdt?: string; tradesPerSecond?: number; restLogger?: Logger } = {},
): Promise<SimAccount> {
  const apiKey = randomBytes(16).toString('hex');
  const apiSecret = randomBytes(32).toString('hex');
  const sim = await startSimulator(
    {
      port: 0,
      seed: options.seed ?? 7,
      accounts: [{ apiKey, apiSecret, balances: { USDT: options.usdt ?? '100000' } }],
      source: { kind: 'random-walk', tradesPerSecond: options.tradesPerSecond ?? 10 },
    },
    { logger: silentLogger('sim') },
  );
  const rest = new RestClient(
    { baseUrl: sim.restUrl, apiKey, apiSecret },
    options.restLogger === undefined ? {} : { logger: options.restLogger },
  );
  return {
    sim,
    rest,
    api: new UsdmApi(rest),
    stop: async () => {
      rest.close();
      await sim.stop();
    },
  };
}
