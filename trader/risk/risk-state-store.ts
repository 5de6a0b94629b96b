// Where the risk engine's state survives restarts (trading state, closes in progress) and where the owner's state commands arrive: two small JSON files, written atomically.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { replaceFileDurably } from '../../ts/process/durable-file.js';

export const TRADING_STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
/** ACTIVE trades; REDUCING sends only orders that shrink exposure; HALTED sends nothing. */
export type TradingState = (typeof TRADING_STATES)[number];

const stateSchema = z.enum(TRADING_STATES);

const persistedSchema = z.object({
  version: z.literal(1),
  trading: z.object({
    state: stateSchema,
    since: z.number().int(),
    source: z.enum(['owner', 'rule', 'start']),
    reason: z.string(),
  }),
  closeAll: z.object({ since: z.number().int(), reason: z.string() }).nullable(),
  forceClosing: z.record(z.string(), z.object({ since: z.number().int(), reason: z.string() })),
  lastOwnerCommand: z.string().nullable(),
});

/** What the risk engine keeps across restarts. */
export type PersistedRiskState = z.infer<typeof persistedSchema>;

const commandSchema = z.object({
  id: z.string().min(1).max(100),
  state: stateSchema,
  reason: z.string().max(500),
  at: z.number().int(),
});

/** The owner's command: switch the trader to `state`. `id` tells a new command from one already applied. */
export type OwnerCommand = z.infer<typeof commandSchema>;

/** A state or command file that exists but cannot be used (not JSON, wrong shape). */
export class RiskStateFileError extends Error {
  override readonly name = 'RiskStateFileError';
}

/** File names inside a trader's state folder. */
export const RISK_STATE_FILE = 'risk-state.json';
export const OWNER_COMMAND_FILE = 'owner-command.json';

function readJson(path: string): unknown | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RiskStateFileError(`${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RiskStateFileError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

/** Persistence of the risk state (one implementation on files, one in memory for backtests and tests). */
export interface RiskStateStore {
  /** The saved state, `undefined` when there is none; throws {@link RiskStateFileError} when it is unusable. */
  load(): PersistedRiskState | undefined;
  save(state: PersistedRiskState): void;
  /** The owner's latest command, if any (checked often: must be cheap when nothing changed). */
  ownerCommand(): OwnerCommand | undefined;
}

/** The risk state in `<dir>/risk-state.json`, owner commands from `<dir>/owner-command.json`. */
export class FileRiskStateStore implements RiskStateStore {
  readonly #statePath: string;
  readonly #commandPath: string;
  #commandStamp = '';
  #command: OwnerCommand | undefined;

  constructor(dir: string) {
    this.#statePath = join(dir, RISK_STATE_FILE);
    this.#commandPath = join(dir, OWNER_COMMAND_FILE);
  }

  load(): PersistedRiskState | undefined {
    return parsePersistedRiskState(readJson(this.#statePath), this.#statePath);
  }

  save(state: PersistedRiskState): void {
    replaceFileDurably(this.#statePath, `${JSON.stringify(state, null, 2)}\n`);
  }

  ownerCommand(): OwnerCommand | undefined {
    let stamp: string;
    try {
      const s = statSync(this.#commandPath);
      stamp = `${s.mtimeMs}|${s.size}|${s.ino}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new RiskStateFileError(`${this.#commandPath} cannot be read: ${(error as Error).message}`);
    }
    if (stamp !== this.#commandStamp) {
      this.#commandStamp = stamp;
      this.#command = parseOwnerCommand(readJson(this.#commandPath), this.#commandPath);
    }
    return this.#command;
  }
}

/** Keeps the state in memory (backtests, tests); owner commands are handed in with `command`. */
export class MemoryRiskStateStore implements RiskStateStore {
  state: PersistedRiskState | undefined;
  #command: OwnerCommand | undefined;

  load(): PersistedRiskState | undefined {
    return this.state === undefined ? undefined : structuredClone(this.state);
  }

  save(state: PersistedRiskState): void {
    this.state = structuredClone(state);
  }

  ownerCommand(): OwnerCommand | undefined {
    return this.#command;
  }

  command(command: OwnerCommand): void {
    this.#command = command;
  }
}

/** Checks a parsed state file; `undefined` stays `undefined` (no file). */
export function parsePersistedRiskState(value: unknown, source: string): PersistedRiskState | undefined {
  if (value === undefined) return undefined;
  const parsed = persistedSchema.safeParse(value);
  if (!parsed.success)
    throw new RiskStateFileError(`${source} is not a risk state: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** Checks a parsed owner command. */
export function parseOwnerCommand(value: unknown, source: string): OwnerCommand | undefined {
  if (value === undefined) return undefined;
  const parsed = commandSchema.safeParse(value);
  if (!parsed.success)
    throw new RiskStateFileError(
      `${source} is not an owner command: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Writes an owner command for the trader whose state folder is `dir` (what `tributary trader state` does). */
export function writeOwnerCommand(dir: string, command: OwnerCommand): void {
  const checked = parseOwnerCommand(command, 'command') as OwnerCommand;
  replaceFileDurably(join(dir, OWNER_COMMAND_FILE), `${JSON.stringify(checked)}\n`);
}

/** Reads the risk state a trader last saved in `dir` (what `tributary trader state` shows). */
export function readRiskState(dir: string): PersistedRiskState | undefined {
  const path = join(dir, RISK_STATE_FILE);
  return parsePersistedRiskState(readJson(path), path);
}
