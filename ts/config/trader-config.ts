// The `trader` section: how many traders run, in which mode, on which intervals.
import { z } from 'zod';
import {
  expecting,
  integer,
  intervalList,
  oneOf,
  type SectionSettings,
  section,
  shown,
} from './config-fields.js';
import { NO_STRATEGY, STRATEGY_CHOICES, STRATEGY_NAMES } from './strategy-names.js';

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
  // Checked here with every other option, so a misspelt strategy stops whatever loads the
  // configuration (`tributary up`, a fleet's deploy plan) before anything starts, not the trader
  // alone once it starts. Worded as the trader's registry words it.
  strategy: z
    .enum(STRATEGY_CHOICES, {
      error: (issue) =>
        typeof issue.input === 'string'
          ? `unknown strategy ${shown(issue.input)} (one of ${STRATEGY_NAMES.join(', ')}; ${NO_STRATEGY} runs the book only)`
          : `must be a strategy name such as "demo", got ${shown(issue.input)}`,
    })
    .optional()
    .describe(
      `Strategy the traders run (${STRATEGY_NAMES.join(', ')}; ${NO_STRATEGY}: the book only); required in live, testnet and dry-run modes (never defaulted there); paper defaults to demo`,
    ),
  strategyConfig: z
    .record(z.string(), z.unknown(), { error: expecting("an object of the strategy's settings") })
    .default({})
    .describe("The strategy's own settings, checked against its schema when the trader starts"),
});

export type TraderSettings = SectionSettings<typeof traderSection>;
