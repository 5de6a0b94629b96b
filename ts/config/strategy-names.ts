// The built-in strategy kinds by name, one list for the configuration's checks and the trader's registry (ts/ may not import trader/).

/**
 * Every strategy `trader.strategy` may name, as the trader's registry (`trader/strategies/registry.ts`)
 * defines them; a test in `app/cli/strategy-names.test.ts` keeps the two lists the same.
 */
export const STRATEGY_NAMES = ['demo', 'bollinger', 'factor', 'example'] as const;

/** What `trader.strategy` (or `--strategy`) may say besides a strategy: `none` runs the book only. */
export const NO_STRATEGY = 'none';

export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** The values `trader.strategy` accepts: every strategy, then `none`. */
export const STRATEGY_CHOICES = [...STRATEGY_NAMES, NO_STRATEGY] as const;

export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}
