// The error a command throws for bad arguments (exit code 2, message names the argument), and argument parsing that throws it.
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Bad command-line arguments: the message says which argument and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `parseArgs`, with its failures (unknown option, missing value) turned into `UsageError`s. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The `--traders` option: trader instance numbers (`0,2`), or `none`. */
export function tradersArg(value: string): number[] {
  if (value === 'none') return [];
  const numbers = value.split(',').map((part) => Number(part.trim()));
  if (value.trim() === '' || numbers.some((n) => !Number.isInteger(n) || n < 0))
    throw new UsageError(
      `--traders must be instance numbers such as 0,2 (or none), got ${JSON.stringify(value)}`,
    );
  return numbers;
}

/** The `--instance` option: a whole number, 0 when absent. */
export function instanceArg(value: string | undefined): number {
  const instance = Number(value ?? '0');
  if (!Number.isInteger(instance) || instance < 0) {
    throw new UsageError(`--instance must be a whole number, got ${value}`);
  }
  return instance;
}
