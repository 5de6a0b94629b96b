// Strategy kinds by name: what `--strategy <name>` and the trader's configuration choose from.
import type { z } from 'zod';
import { bollingerStrategy } from './bollinger/bollinger-strategy.js';
import { demoStrategy } from './demo/demo-strategy.js';
import { exampleStrategy } from './example/example-strategy.js';
import { factorStrategy } from './factor/factor-strategy.js';
import type { AnyStrategyDefinition, Strategy } from './strategy-api.js';

const DEFINITIONS: readonly AnyStrategyDefinition[] = [
  demoStrategy as unknown as AnyStrategyDefinition,
  bollingerStrategy as unknown as AnyStrategyDefinition,
  factorStrategy as unknown as AnyStrategyDefinition,
  exampleStrategy as unknown as AnyStrategyDefinition,
];

/** A strategy name nobody defines, or a configuration its schema refuses (every problem with its path). */
export class StrategyConfigError extends Error {
  override readonly name = 'StrategyConfigError';
  constructor(
    message: string,
    /** Each refused setting: its path inside the strategy's configuration (empty for the name) and why. */
    readonly issues: ReadonlyArray<{ readonly path: readonly string[]; readonly message: string }> = [],
  ) {
    super(message);
  }
}

/** Every strategy kind, in a stable order. */
export function strategyDefinitions(): readonly AnyStrategyDefinition[] {
  return DEFINITIONS;
}

/**
 * Registers another kind (a user's own strategy module, `strategy-module.ts`); a name may be taken
 * once. The same definition again is not a second taking (a module loaded twice in one process).
 */
export function registerStrategy(definition: AnyStrategyDefinition): void {
  if (DEFINITIONS.includes(definition)) return;
  if (DEFINITIONS.some((d) => d.name === definition.name))
    throw new StrategyConfigError(`strategy "${definition.name}" is already defined`);
  (DEFINITIONS as AnyStrategyDefinition[]).push(definition);
}

type SettingsIssue = { path: string[]; message: string };

/** `config` parsed by `definition`'s schema, or every setting it refuses. */
function parseSettings(
  definition: AnyStrategyDefinition,
  config: unknown,
): { ok: true; settings: unknown } | { ok: false; issues: SettingsIssue[] } {
  const parsed = definition.config.safeParse(config ?? {});
  if (parsed.success) return { ok: true, settings: parsed.data };
  // An unknown setting is named on its own (a misspelt option silently ignored loses money).
  const issues = parsed.error.issues.flatMap((i: z.core.$ZodIssue) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: [...i.path.map(String), key], message: 'is not a known setting' }))
      : [{ path: i.path.map(String), message: i.message }],
  );
  return { ok: false, issues };
}

/**
 * Every setting of `config` that `definition`'s schema refuses, with its path inside the strategy's
 * configuration (as {@link createStrategy} refuses them); empty when it takes them all.
 */
export function strategySettingsIssues(definition: AnyStrategyDefinition, config: unknown): SettingsIssue[] {
  const parsed = parseSettings(definition, config);
  return parsed.ok ? [] : parsed.issues;
}

/** Validates `config` with the named kind's schema and creates the strategy. */
export function createStrategy(name: string, config: unknown): Strategy {
  const definition = DEFINITIONS.find((d) => d.name === name);
  if (definition === undefined) {
    const message = `unknown strategy "${name}" (one of ${DEFINITIONS.map((d) => d.name).join(', ')})`;
    throw new StrategyConfigError(message, [{ path: [], message }]);
  }
  const parsed = parseSettings(definition, config);
  if (!parsed.ok) {
    throw new StrategyConfigError(
      parsed.issues.map((i) => `strategy.${[name, ...i.path].join('.')}: ${i.message}`).join('; '),
      parsed.issues,
    );
  }
  return definition.create(parsed.settings);
}
