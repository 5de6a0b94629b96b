// Strategy kinds by name: what `--strategy <name>` and the trader's configuration choose from.
import type { z } from 'zod';
import { bollingerStrategy } from './bollinger/bollinger-strategy.js';
import { demoStrategy } from './demo/demo-strategy.js';
import { factorStrategy } from './factor/factor-strategy.js';
import type { AnyStrategyDefinition, Strategy } from './strategy-api.js';

const DEFINITIONS: readonly AnyStrategyDefinition[] = [
  demoStrategy as unknown as AnyStrategyDefinition,
  bollingerStrategy as unknown as AnyStrategyDefinition,
  factorStrategy as unknown as AnyStrategyDefinition,
];

/** A strategy name nobody defines, or a configuration its schema refuses (every problem with its path). */
export class StrategyConfigError extends Error {
  override readonly name = 'StrategyConfigError';
}

/** Every strategy kind, in a stable order. */
export function strategyDefinitions(): readonly AnyStrategyDefinition[] {
  return DEFINITIONS;
}

/** Registers another kind (a user's own strategy module); a name may be taken once. */
export function registerStrategy(definition: AnyStrategyDefinition): void {
  if (DEFINITIONS.some((d) => d.name === definition.name))
    throw new StrategyConfigError(`strategy "${definition.name}" is already defined`);
  (DEFINITIONS as AnyStrategyDefinition[]).push(definition);
}

/** Validates `config` with the named kind's schema and creates the strategy. */
export function createStrategy(name: string, config: unknown): Strategy {
  const definition = DEFINITIONS.find((d) => d.name === name);
  if (definition === undefined) {
    throw new StrategyConfigError(
      `unknown strategy "${name}" (one of ${DEFINITIONS.map((d) => d.name).join(', ')})`,
    );
  }
  const parsed = definition.config.safeParse(config ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i: z.core.$ZodIssue) => `strategy.${[name, ...i.path.map(String)].join('.')}: ${i.message}`,
    );
    throw new StrategyConfigError(problems.join('; '));
  }
  return definition.create(parsed.data);
}
