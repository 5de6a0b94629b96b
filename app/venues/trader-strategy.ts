// Which strategy a trader runs, from its command line and the `trader` section: explicit everywhere but paper, validated before anything starts.
import {
  createStrategy,
  StrategyConfigError,
  strategySettingsIssues,
} from '../../trader/strategies/registry.js';
import type { Strategy } from '../../trader/strategies/strategy-api.js';
import {
  importStrategyModule,
  registerStrategyModule,
  StrategyModuleError,
} from '../../trader/strategies/strategy-module.js';
import { ConfigError } from '../../ts/config/config-error.js';
import { isStrategyName, NO_STRATEGY } from '../../ts/config/strategy-names.js';
import {
  readTributaryConfig,
  type TraderSettings,
  type TributaryConfig,
} from '../../ts/config/tributary-config.js';

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
 * The name of the strategy a trader runs: `--strategy` over `trader.strategy`, paper mode falling
 * back to `demo`; undefined when nothing names one outside paper mode.
 */
export function strategyToRun(settings: TraderSettings, flags: StrategyFlags): string | undefined {
  return flags.strategy ?? settings.strategy ?? (settings.mode === 'paper' ? 'demo' : undefined);
}

/**
 * True when running strategy `name` needs `trader.strategyModule` imported: only the module can
 * define a name that is neither built in nor `none` (a module may not take a built-in's name), so
 * a trader told to run a built-in one does not depend on a module it does not use. An unknown
 * name (none given) counts as needing it, so the module is still checked.
 */
export function needsStrategyModule(name: string | undefined): boolean {
  return name === undefined || (name !== NO_STRATEGY && !isStrategyName(name));
}

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
  const name = strategyToRun(settings, flags);
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
 * absolute by `loadConfig`), when one is configured and the strategy to run (`strategy`, by
 * default the configured one: {@link strategyToRun} without flags) needs it
 * ({@link needsStrategyModule}). A module that cannot be used is a `ConfigError` at
 * `trader.strategyModule` naming the file and what is wrong; one whose strategy is not the one
 * `trader.strategy` names is a `ConfigError` at `trader.strategy`. `tributary up` calls it with the
 * configured strategy (what its traders run) before it starts anything, the trader with the one it
 * runs before it connects.
 */
export async function checkStrategyModule(
  settings: TraderSettings,
  source: string,
  strategy: string | undefined = strategyToRun(settings, {}),
): Promise<void> {
  const file = settings.strategyModule;
  if (file === undefined || !needsStrategyModule(strategy)) return;
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
  const mismatch = strategyNameMismatch(settings.strategy, file, name);
  if (mismatch !== undefined) throw new ConfigError([{ path: 'trader.strategy', message: mismatch }], source);
}

/**
 * Why `trader.strategy` (`configured`) cannot run the module at `file`, which defines `defined`;
 * undefined when it names that strategy or nothing. The trader's check and the deploy's share it.
 */
function strategyNameMismatch(
  configured: string | undefined,
  file: string,
  defined: string,
): string | undefined {
  return configured === undefined || configured === defined
    ? undefined
    : `is "${configured}", but ${file} defines strategy "${defined}"`;
}

/**
 * What a trader with `settings` would refuse at start about its strategy module, found without
 * running one: the module imports and default-exports a definition, its name is not a built-in's,
 * it is the strategy `trader.strategy` names, and its schema takes
 * `trader.strategyConfig`. Each refusal names its field. Nothing is registered, so modules of
 * several hosts that define the same name are each checked as their own trader would check them.
 * Empty when there is no module, or when the trader runs a built-in strategy or `none` and never
 * imports it. A fleet deploy calls it for every trader host before it reaches any.
 */
export async function strategyModuleRefusals(settings: TraderSettings): Promise<string[]> {
  const file = settings.strategyModule;
  const strategy = strategyToRun(settings, {});
  if (file === undefined || !needsStrategyModule(strategy)) return [];
  let name: string;
  let issues: ReturnType<typeof strategySettingsIssues>;
  try {
    const definition = await importStrategyModule(file);
    name = definition.name;
    issues = strategySettingsIssues(definition, settings.strategyConfig);
  } catch (error) {
    if (!(error instanceof StrategyModuleError)) throw error;
    return [`trader.strategyModule: ${error.file}: ${error.problem}`];
  }
  if (isStrategyName(name))
    return [`trader.strategyModule: ${file} defines strategy "${name}", a built-in name: rename it`];
  const mismatch = strategyNameMismatch(strategy, file, name);
  if (mismatch !== undefined) return [`trader.strategy: ${mismatch}`];
  return issues.map((i) =>
    i.path.length === 0
      ? `trader.strategyConfig: ${i.message}`
      : `trader.strategyConfig.${i.path.join('.')}: ${i.message}`,
  );
}

/**
 * {@link strategyModuleRefusals} for a fleet host's configuration (unchecked: the fleet's with the
 * host's over it), what `tributary deploy` runs for every trader host before it reaches any. A
 * configuration that does not validate has no trader section to read; the deploy's plan names
 * its problems with the host's merged configuration, so nothing is added here.
 */
export async function hostStrategyModuleRefusals(config: Record<string, unknown>): Promise<string[]> {
  let settings: TributaryConfig;
  try {
    settings = readTributaryConfig(config, 'a host configuration');
  } catch (error) {
    if (error instanceof ConfigError) return [];
    throw error;
  }
  return strategyModuleRefusals(settings.trader);
}

/**
 * {@link chooseStrategy} after {@link checkStrategyModule} for the strategy it will run, so a
 * module's settings are checked by its schema as a built-in's are, and a built-in (or `none`)
 * chosen with `--strategy` runs without importing the module. The trader refuses to start with
 * any of their errors.
 */
export async function chooseConfiguredStrategy(
  settings: TraderSettings,
  flags: StrategyFlags,
  source: string,
): Promise<ChosenStrategy> {
  await checkStrategyModule(settings, source, strategyToRun(settings, flags));
  return chooseStrategy(settings, flags, source);
}
