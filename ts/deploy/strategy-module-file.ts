// The user's strategy module (`trader.strategyModule`) in a fleet deploy: resolved against the inventory's folder, checked, the files shipped with it, and where a host keeps its copy.
import { basename, isAbsolute, resolve } from 'node:path';
import { strategyModuleFileProblem } from '../config/strategy-module-file.js';
import { strategyModuleFiles } from './strategy-module-files.js';

/** The folder (relative to the install dir) where a trader host keeps its copy of the module. */
export const STRATEGY_DIR = 'etc/strategy';

/**
 * The `package.json` shipped beside the copy: it makes a `.js` module an ES module on the host,
 * as the documentation says it is, whatever package.json it had beside it on the operator's machine
 * and whether or not the host's Node detects module syntax by itself (older Node 20 does not).
 */
export const STRATEGY_PACKAGE = { path: `${STRATEGY_DIR}/package.json`, text: '{ "type": "module" }\n' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `trader.strategyModule` of an unchecked configuration object, when it is a string. */
export function strategyModuleIn(config: unknown): string | undefined {
  const trader = isObject(config) ? config.trader : undefined;
  const module = isObject(trader) ? trader.strategyModule : undefined;
  return typeof module === 'string' ? module : undefined;
}

/**
 * `config` with a relative `trader.strategyModule` made absolute against `baseDir`, the
 * inventory's folder: the inventory holds the configuration, so its folder is the configuration
 * file's folder `loadConfig` resolves the path against. Anything else is left as it is (the
 * configuration check names a wrong value).
 */
export function withStrategyModuleResolved(
  config: Record<string, unknown>,
  baseDir: string,
): Record<string, unknown> {
  const module = strategyModuleIn(config);
  if (module === undefined || isAbsolute(module)) return config;
  return { ...config, trader: { ...(config.trader as object), strategyModule: resolve(baseDir, module) } };
}

/**
 * Where a host keeps its copy of the module at `file`, relative to the install dir: the file's
 * own name (so the trader's messages name what the operator wrote) in {@link STRATEGY_DIR}, each
 * character outside letters, digits, `.`, `_` and `-` made `_` (the host probe reads names split
 * on blanks).
 */
export function hostStrategyModule(file: string): string {
  return `${STRATEGY_DIR}/${hostStrategyModuleName(file)}`;
}

/** The name of the host's copy of the module at `file` in {@link STRATEGY_DIR} (see {@link hostStrategyModule}). */
export function hostStrategyModuleName(file: string): string {
  return basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
}

/** What stops the module at `file` (absolute) from being shipped (the trader's own rule); undefined when nothing does. */
export function strategyModuleProblem(file: string): string | undefined {
  const problem = strategyModuleFileProblem(file);
  return problem === undefined ? undefined : `${file} ${problem}`;
}

/**
 * The files a host gets for the module at `file` (absolute), by path relative to the install dir:
 * the module and the files of its own it imports (`strategy-module-files.ts`), beside
 * {@link STRATEGY_PACKAGE}; or why they cannot be shipped.
 */
export function shippedStrategyModule(
  file: string,
): { ok: true; files: Map<string, string> } | { ok: false; problems: readonly string[] } {
  const walked = strategyModuleFiles(file, hostStrategyModuleName(file));
  if (!walked.ok) return walked;
  const files = new Map(walked.files.map((f) => [`${STRATEGY_DIR}/${f.path}`, f.text]));
  files.set(STRATEGY_PACKAGE.path, STRATEGY_PACKAGE.text);
  return { ok: true, files };
}
