// The error a command throws for bad arguments (exit code 2, message names the argument), and argument parsing that throws it.
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Bad command-line arguments: the message says which argument and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * `parseArgs`, with its failures (unknown option, missing value) turned into `UsageError`s. An
 * option given twice is refused too: `parseArgs` keeps the last value silently, and which one the
 * user meant (`--from 2024-01-01 ... --from 2025-01-01`) is a guess.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    const { tokens } = parseArgs({ ...config, tokens: true });
    const seen = new Set<string>();
    for (const token of tokens ?? []) {
      if (token.kind !== 'option') continue;
      if (seen.has(token.name) && config.options?.[token.name]?.multiple !== true)
        throw new UsageError(`--${token.name} is given twice`);
      seen.add(token.name);
    }
    return parseArgs(config);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * {@link parseCommandArgs} for a script run from npm (`npm run soak`, `npm run bench`): a bad
 * option prints `<name>: <why>` and `usage` to stderr and exits 2; `--help` (which `config` need
 * not declare) prints `usage` and exits 0.
 */
export function scriptArgs<T extends ParseArgsConfig>(
  name: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>>['values'] {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  try {
    return parseCommandArgs({ ...config, args }).values;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n${usage}`);
    process.exit(2);
  }
}

/** The `--traders` option: trader instance numbers (`0,2`), or `none`. */
export function tradersArg(value: string): number[] {
  if (value === 'none') return [];
  const parts = value.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  // An empty part (`0,,2`) is not trader 0, and a trader named twice is a typo for another one.
  if (parts.some((part) => !/^\d+$/.test(part)) || new Set(numbers).size !== numbers.length)
    throw new UsageError(
      `--traders must be instance numbers such as 0,2 (or none), got ${JSON.stringify(value)}`,
    );
  return numbers;
}

/** The `--instance` option: a whole number, 0 when absent. */
export function instanceArg(value: string | undefined): number {
  const instance = Number(value ?? '0');
  // Digits only: `Number` reads "" (an unset `"$N"`) as 0, another process's name, and "0x1" as 1.
  if ((value !== undefined && !/^\d+$/.test(value)) || !Number.isSafeInteger(instance)) {
    throw new UsageError(`--instance must be a whole number, got ${value}`);
  }
  return instance;
}

/** The longest a `--status-every` may be: a timer longer than 2^31 - 1 ms fires after 1 ms instead. */
const MAX_STATUS_SECONDS = 86_400;

/** A `--status-every` option: seconds from 0 (never) to a day, `fallback` when absent. */
export function statusEveryArg(value: string | undefined, fallback: number): number {
  const seconds = Number(value ?? fallback);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_STATUS_SECONDS || value?.trim() === '')
    throw new UsageError(
      `--status-every must be seconds from 0 (never) to ${MAX_STATUS_SECONDS}, got ${JSON.stringify(value)}`,
    );
  return seconds;
}
