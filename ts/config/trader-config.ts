// The `trader` section: how many traders run, in which mode, on which intervals.
import { z } from 'zod';
import { expecting, integer, intervalList, oneOf, type SectionSettings, section } from './config-fields.js';

/**
 * Trading modes: `paper` (the simulator's matching engine inside the trader), `dry-run` (orders
 * signed and logged, never sent), `testnet` and `live` (orders to the exchange).
 */
export const TRADER_MODES = ['paper', 'live', 'testnet', 'dry-run'] as const;

/** The `trader` section. */
export const traderSection = section({
  instances: integer(0, 16).default(1).describe('Trader processes `tributary up` starts'),
  mode: oneOf(TRADER_MODES)
    .default('paper')
    .describe(
      'paper: the simulator\'s matching engine inside the trader; dry-run: orders signed and logged, never sent; testnet and live: orders to the exchange ("live" needs exchange.kind "binance", "testnet" needs "testnet")',
    ),
  intervals: intervalList(['1m', '15m']).describe("Kline intervals the trader's book follows"),
  strategy: z
    .string({ error: expecting('a strategy name such as "demo"') })
    .regex(/^[a-z][a-z0-9-]{0,63}$/, { error: expecting('a strategy name such as "demo"') })
    .optional()
    .describe(
      'Strategy the traders run (demo, bollinger, factor, example, or one registered by the user); required in live, testnet and dry-run modes (never defaulted there); paper defaults to demo',
    ),
  strategyConfig: z
    .record(z.string(), z.unknown(), { error: expecting("an object of the strategy's settings") })
    .default({})
    .describe("The strategy's own settings, checked against its schema when the trader starts"),
});

export type TraderSettings = SectionSettings<typeof traderSection>;
