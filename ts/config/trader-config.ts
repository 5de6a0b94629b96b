// The `trader` section: how many traders run, in which mode, on which intervals.
import { isAbsolute, resolve } from 'node:path';
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

/**
 * What a strategy module's strategy may be called: it names the state file
 * (`strategy-<name>.json`) and is hashed into client order ids, so letters, digits, `_` and `-`.
 */
export const STRATEGY_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** The extensions of a strategy module: ES modules node imports as they are. */
export const STRATEGY_MODULE_FILE = /\.(m?js)$/;

/**
 * `trader.strategy` against `trader.strategyModule`. Without a module the name is one of the
 * built-in strategies (worded as the trader's registry words it); with one it is the module's
 * strategy, which only the trader can confirm by importing the file, so here it need only be a
 * strategy name that is not built in. Runs even when other options of the section are wrong, so
 * every problem is reported at once.
 */
function checkStrategyName(section: unknown, ctx: z.RefinementCtx): void {
  if (typeof section !== 'object' || section === null) return;
  const { strategy, strategyModule } = section as { strategy?: unknown; strategyModule?: unknown };
  const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['strategy'], message });
  if (strategyModule === undefined) {
    if (typeof strategy === 'string' && !(STRATEGY_CHOICES as readonly string[]).includes(strategy))
      issue(
        `unknown strategy ${shown(strategy)} (one of ${STRATEGY_NAMES.join(', ')}; ${NO_STRATEGY} runs the book only)`,
      );
    return;
  }
  if (typeof strategyModule !== 'string') return;
  if (strategy === undefined) {
    issue(`is required with trader.strategyModule: the name of the strategy ${strategyModule} defines`);
  } else if (strategy === NO_STRATEGY) {
    issue(
      `"${NO_STRATEGY}" runs no strategy, yet trader.strategyModule is set: name the module's strategy or remove trader.strategyModule`,
    );
  } else if (typeof strategy === 'string' && (STRATEGY_NAMES as readonly string[]).includes(strategy)) {
    issue(
      `"${strategy}" is a built-in strategy; with trader.strategyModule set it names the module's strategy (remove trader.strategyModule to run "${strategy}")`,
    );
  } else if (typeof strategy === 'string' && !STRATEGY_NAME_PATTERN.test(strategy)) {
    issue(
      `${shown(strategy)} is not a strategy name (a letter, then letters, digits, _ or -; at most 64 characters)`,
    );
  }
}

/** The `trader` section. */
export const traderSection = section({
  instances: integer(0, 16).default(1).describe('Trader processes `tributary up` starts'),
  mode: oneOf(TRADER_MODES)
    .default('paper')
    .describe(
      'paper: the simulator\'s matching engine inside the trader; dry-run: orders signed and logged, never sent; testnet and live: orders to the exchange ("live" needs exchange.kind "binance", "testnet" needs "testnet")',
    ),
  intervals: intervalList(['1m', '15m']).describe("Kline intervals the trader's book follows"),
  // Checked here with every other option (the name against the built-in ones in checkStrategyName),
  // so a misspelt strategy stops whatever loads the configuration (`tributary up`, a fleet's deploy
  // plan) before anything starts, not the trader alone once it starts.
  strategy: z
    .string({ error: (issue) => `must be a strategy name such as "demo", got ${shown(issue.input)}` })
    .optional()
    .meta({ examples: [...STRATEGY_CHOICES] })
    .describe(
      `Strategy the traders run (${STRATEGY_NAMES.join(', ')}; ${NO_STRATEGY}: the book only; or the strategy trader.strategyModule defines); required in live, testnet and dry-run modes and with trader.strategyModule (never defaulted there); paper defaults to demo`,
    ),
  strategyConfig: z
    .record(z.string(), z.unknown(), { error: expecting("an object of the strategy's settings") })
    .default({})
    .describe("The strategy's own settings, checked against its schema when the trader starts"),
  strategyModule: z
    .string({ error: expecting('the path of a .js or .mjs file') })
    .regex(STRATEGY_MODULE_FILE, {
      error: (issue) => `must be a .js or .mjs file (an ES module), got ${shown(issue.input)}`,
    })
    .optional()
    .describe(
      "A strategy of your own: an ES module file (.js or .mjs; relative to the configuration file's folder, or absolute) whose default export is a strategy definition; trader.strategy names its strategy. Imported and checked when a trader starts to run a strategy that is not built in (and by tributary up before it starts anything); a fleet deploy ships it to each trader host",
    ),
}).check(z.superRefine(checkStrategyName, { when: () => true }));

export type TraderSettings = SectionSettings<typeof traderSection>;

/**
 * The trader settings with `strategyModule` made absolute: a relative path is the configuration
 * file's (so a config and the strategy beside it move together), or the working directory's when
 * there is no file (an environment override alone).
 */
export function withStrategyModuleResolved(
  trader: TraderSettings,
  configFile: string | undefined,
): TraderSettings {
  const path = trader.strategyModule;
  if (path === undefined || isAbsolute(path)) return trader;
  const base = configFile === undefined ? process.cwd() : resolve(configFile, '..');
  return { ...trader, strategyModule: resolve(base, path) };
}
