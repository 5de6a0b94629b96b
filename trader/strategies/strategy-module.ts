// A user's own strategy from an ES module file kept outside the repository: imported, checked and registered, every failure naming the file.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { strategyModuleFileProblem } from '../../ts/config/strategy-module-file.js';
import { NO_STRATEGY } from '../../ts/config/strategy-names.js';
import { STRATEGY_NAME_PATTERN } from '../../ts/config/trader-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { registerStrategy, StrategyConfigError, strategyDefinitions } from './registry.js';
import type { AnyStrategyDefinition } from './strategy-api.js';

/**
 * What a module's default export, when it is a function, is called with: tributary's own `zod` and
 * `Decimal`, so a strategy kept anywhere needs no install of its own to declare its settings and
 * to size its targets (`ctx.setTarget` takes a `Decimal`, which only tributary's class can be).
 */
export interface StrategyKit {
  readonly z: typeof z;
  readonly Decimal: typeof Decimal;
}

/** The kit handed to every module whose default export is a function. */
export const STRATEGY_KIT: StrategyKit = Object.freeze({ z, Decimal });

/** Why a strategy module cannot be used: the file (absolute) and what is wrong with it. */
export class StrategyModuleError extends Error {
  override readonly name = 'StrategyModuleError';
  constructor(
    /** The module's absolute path. */
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly problem: string,
  ) {
    super(`strategy module ${file}: ${problem}`);
  }
}

/** How long a module's import (its top-level code) may take before it is refused. */
export const STRATEGY_MODULE_IMPORT_TIMEOUT_MS = 30_000;

/** What the import's race resolves to when the bound passed first. */
const IMPORT_TIMED_OUT = Symbol('import timed out');

/** Definitions already taken from a file, so loading it again (a second backtest) registers nothing twice. */
const loaded = new Map<string, AnyStrategyDefinition>();

/** A value named for a message: its kind, and a string's first 40 characters. */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** An error's text on one line (a bundler's parse error spans several). */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const flat = text.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > 400 ? `${flat.slice(0, 400)}…` : flat;
}

/** What is wrong with the default export `value` as a strategy definition, every problem; undefined when nothing is. */
function definitionProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `the default export is ${kindOf(value)}, not a strategy definition (an object with name, summary, config and create)`;
  const d = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof d.name !== 'string' || !STRATEGY_NAME_PATTERN.test(d.name))
    problems.push(
      `name must be a strategy name (a letter, then letters, digits, _ or -; at most 64 characters), got ${kindOf(d.name)}`,
    );
  else if (d.name === NO_STRATEGY) problems.push(`name "${NO_STRATEGY}" is taken: it means the book only`);
  if (typeof d.summary !== 'string') problems.push(`summary must be a string, got ${kindOf(d.summary)}`);
  const config = d.config as { safeParse?: unknown } | null | undefined;
  if (typeof config !== 'object' || config === null || typeof config.safeParse !== 'function')
    problems.push(`config must be a zod schema (with safeParse), got ${kindOf(d.config)}`);
  if (typeof d.create !== 'function')
    problems.push(`create must be a function (settings → strategy), got ${kindOf(d.create)}`);
  return problems.length === 0
    ? undefined
    : `the default export is not a strategy definition: ${problems.join('; ')}`;
}

/**
 * Imports the strategy module at `file` (a relative path is the working directory's) and returns
 * its definition, without registering it. The rule: the module's **default export** is the
 * definition (`{ name, summary, config, create }`, as `defineStrategy` takes), or a function that,
 * called with {@link STRATEGY_KIT}, returns one. Throws a {@link StrategyModuleError} for a file
 * that is missing or not .js/.mjs, one that cannot be imported (the import's own message) or whose
 * import does not finish within `importTimeoutMs`, no default export, and a definition of the
 * wrong shape (every problem listed).
 */
export async function importStrategyModule(
  file: string,
  importTimeoutMs = STRATEGY_MODULE_IMPORT_TIMEOUT_MS,
): Promise<AnyStrategyDefinition> {
  const path = resolve(file);
  const known = loaded.get(path);
  if (known !== undefined) return known;
  const fail = (problem: string): never => {
    throw new StrategyModuleError(path, problem);
  };
  const fileProblem = strategyModuleFileProblem(path);
  if (fileProblem !== undefined) fail(fileProblem);
  // A module whose top-level code never finishes (an await on a connection that never answers)
  // would leave the trader, `tributary up` or a deploy waiting with nothing said: the wait is
  // bounded. The timer is not unref'd, so the process stays to say so.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<typeof IMPORT_TIMED_OUT>((resolveWait) => {
    timer = setTimeout(() => resolveWait(IMPORT_TIMED_OUT), importTimeoutMs);
  });
  let imported: unknown;
  try {
    imported = await Promise.race([import(pathToFileURL(path).href), timedOut]);
  } catch (error) {
    const hint = error instanceof SyntaxError ? ` (\`node --check ${path}\` shows where)` : '';
    return fail(`cannot be imported: ${oneLine(error)}${hint}`);
  } finally {
    clearTimeout(timer);
  }
  if (imported === IMPORT_TIMED_OUT)
    return fail(
      `did not finish importing within ${importTimeoutMs / 1000} s: its top-level code waits on something that never settles`,
    );
  const namespace = imported as Record<string, unknown>;
  if (!('default' in namespace) || namespace.default === undefined) {
    const names = Object.keys(namespace);
    return fail(
      `has no default export (the strategy definition, or a function returning it)${names.length === 0 ? '' : `; it exports ${names.join(', ')}`}`,
    );
  }
  let definition: unknown = namespace.default;
  if (typeof definition === 'function') {
    try {
      definition = (definition as (kit: StrategyKit) => unknown)(STRATEGY_KIT);
    } catch (error) {
      return fail(`its default export (a function) threw: ${oneLine(error)}`);
    }
  }
  const problem = definitionProblem(definition);
  if (problem !== undefined) fail(problem);
  const checked = definition as AnyStrategyDefinition;
  loaded.set(path, checked);
  return checked;
}

/**
 * Imports the module at `file` and registers its strategy with the built-in ones, so that
 * `createStrategy(name, settings)` validates its settings and creates it as for a built-in.
 * Loading the same file again returns the same definition; a name another strategy already has
 * (a built-in one, or another module's) is a {@link StrategyModuleError}.
 */
export async function registerStrategyModule(file: string): Promise<AnyStrategyDefinition> {
  const definition = await importStrategyModule(file);
  try {
    registerStrategy(definition);
  } catch (error) {
    if (!(error instanceof StrategyConfigError)) throw error;
    const names = strategyDefinitions().map((d) => d.name);
    throw new StrategyModuleError(
      resolve(file),
      `defines strategy "${definition.name}", a name another strategy already has (${names.join(', ')}): rename it`,
    );
  }
  return definition;
}
