// Where a strategy's state survives restarts: one JSON file per strategy instance, replaced atomically, written only when it changed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../ts/log/logger.js';
import { replaceFileDurably } from '../../ts/process/durable-file.js';
import type { StrategyState } from '../strategies/strategy-api.js';
import type { StrategyStateStore } from './trading-engine.js';

/**
 * `<dir>/strategy-<name>.json`. The engine saves after every event that called the strategy, so a
 * save that equals the last one costs a string comparison and no write; a changed one is written
 * to a temporary file, fsynced and renamed over the old (a crash leaves the old or the new state,
 * never half of one). An unreadable file is logged and ignored: the strategy starts fresh rather
 * than not at all.
 */
export class FileStrategyStateStore implements StrategyStateStore {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #last = new Map<string, string>();

  constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#log = logger;
  }

  #path(name: string): string {
    return join(this.#dir, `strategy-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  }

  load(name: string): StrategyState | undefined {
    const path = this.#path(name);
    if (!existsSync(path)) return undefined;
    const text = readFileSync(path, 'utf8');
    try {
      const state = JSON.parse(text) as StrategyState;
      this.#last.set(name, text);
      return state;
    } catch (error) {
      this.#log.error('strategy state unreadable; starting without it', {
        path,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }

  save(name: string, state: StrategyState): void {
    const text = JSON.stringify(state);
    if (this.#last.get(name) === text) return;
    const path = this.#path(name);
    replaceFileDurably(path, text);
    this.#last.set(name, text);
  }
}
