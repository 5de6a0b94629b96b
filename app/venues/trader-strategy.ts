// Which strategy a trader runs, from its command line and the `trader` section: explicit everywhere but paper, validated before anything starts.
import { createStrategy, StrategyConfigError } from '../../trader/strategies/registry.js';
import type { Strategy } from '../../trader/strategies/strategy-api.js';
import { registerStrategyModule, StrategyModuleError } from '../../trader/strategies/strategy-module.js';
import { ConfigError } from '../../ts/config/config-error.js';
import type { TraderSettings } from '../../ts/config/tributary-config.js';

/** What the command line may override. */
export interface StrategyFlags {
  /** `--strategy <name>` (`none`: the book only). */
  readonly strategy?: string;
  /** `--strategy-config <json>`, already parsed. */
  readonly strategyConfig?: unknown;
}

/** The strategy a trader runs, or `none`. */
export type ChosenStrategy =
  | { readonly name: string; readonly strategy: Strategy }
  | { readonly name: 'none' };

/**
 * The trader's strategy: `--strategy` over `trader.strategy`; only paper mode falls back to the
 * demo, because a trader that sends real (or signed) orders must never trade a strategy nobody
 * chose. Settings: `--strategy-config` over `trader.strategyConfig`, checked against the
 * strategy's schema; problems are a `ConfigError` naming `trader.strategyConfig.<field>` (or
 * `trader.strategy`).
 */
export function chooseStrategy(
  settings: TraderSettings,
  flags: StrategyFlags,
  source: string,
): ChosenStrategy {
  const name = flags.strategy ?? settings.strategy ?? (settings.mode === 'paper' ? 'demo' : undefined);
  if (name === undefined) {
    throw new ConfigError(
      [
        {
          path: 'trader.strategy',
          message: `is required in mode "${settings.mode}" (name the strategy to run; only paper defaults to demo)`,
        },
      ],
      source,
    );
  }
  if (name === 'none') return { name: 'none' };
  const config = flags.strategyConfig ?? settings.strategyConfig;
  const field = flags.strategyConfig === undefined ? 'trader.strategyConfig' : '--strategy-config';
  try {
    return { name, strategy: createStrategy(name, config) };
  } catch (error) {
    if (!(error instanceof StrategyConfigError)) throw error;
    throw new ConfigError(
      error.issues.map((issue) =>
        issue.path.length === 0
          ? { path: flags.strategy === undefined ? 'trader.strategy' : '--strategy', message: issue.message }
          : { path: `${field}.${issue.path.join('.')}`, message: issue.message },
      ),
      source,
    );
  }
}

/**
 * Imports, checks and registers the user's own strategy module (`trader.strategyModule`, made
 * absolute by `loadConfig`), when one is configured. A module that cannot be used is a
 * `ConfigError` at `trader.strategyModule` naming the file and what is wrong; one whose strategy is
 * not the one `trader.strategy` names is a `ConfigError` at `trader.strategy`. `tributary up` calls
 * it before it starts anything, the trader before it connects.
 */
export async function checkStrategyModule(settings: TraderSettings, source: string): Promise<void> {
  const file = settings.strategyModule;
  if (file === undefined) return;
  let name: string;
  try {
    name = (await registerStrategyModule(file)).name;
  } catch (error) {
    if (!(error instanceof StrategyModuleError)) throw error;
    throw new ConfigError(
      [{ path: 'trader.strategyModule', message: `${error.file}: ${error.problem}` }],
      source,
    );
  }
  if (settings.strategy !== undefined && settings.strategy !== name) {
    throw new ConfigError(
      [
        {
          path: 'trader.strategy',
          message: `is "${settings.strategy}", but ${file} defines strategy "${name}"`,
        },
      ],
      source,
    );
  }
}

/**
 * {@link chooseStrategy} after {@link checkStrategyModule}, so a module's settings are checked by
 * its schema as a built-in's are. The trader refuses to start with any of their errors.
 */
export async function chooseConfiguredStrategy(
  settings: TraderSettings,
  flags: StrategyFlags,
  source: string,
): Promise<ChosenStrategy> {
  await checkStrategyModule(settings, source);
  return chooseStrategy(settings, flags, source);
}
