// The executor's write-ahead journal: every order is written before it is sent, so a restart knows what may exist.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Logger } from '../../ts/log/logger.js';
import { replaceFileDurably } from '../../ts/process/durable-file.js';

/** One order the executor decided to send. */
export interface JournalEntry {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly quantity: string;
  readonly reduceOnly: boolean;
  readonly kind: string;
  readonly decidedAt: number;
  /** Final status once known (FILLED, CANCELED, EXPIRED, REJECTED, NOT_SENT); absent while it may still be live. */
  status?: string;
  executedQty?: string;
}

/**
 * Where the executor records orders before sending them. An entry without a final status after a
 * restart is an order whose outcome is unknown: the executor queries it by client id before it
 * sends anything else for that symbol.
 */
export interface OrderJournal {
  /** Records an order about to be sent; durable before it returns (file journals fsync). */
  begin(entry: JournalEntry): void;
  /** Records an order's final state. */
  settle(clientOrderId: string, status: string, executedQty: string): void;
  get(clientOrderId: string): JournalEntry | undefined;
  /** Entries whose final state is not known. */
  unresolved(): JournalEntry[];
}

/** A journal in memory (backtests, tests). */
export class MemoryOrderJournal implements OrderJournal {
  protected readonly entries = new Map<string, JournalEntry>();

  begin(entry: JournalEntry): void {
    this.entries.set(entry.clientOrderId, { ...entry });
  }

  settle(clientOrderId: string, status: string, executedQty: string): void {
    const entry = this.entries.get(clientOrderId);
    if (entry === undefined) return;
    entry.status = status;
    entry.executedQty = executedQty;
  }

  get(clientOrderId: string): JournalEntry | undefined {
    return this.entries.get(clientOrderId);
  }

  unresolved(): JournalEntry[] {
    return [...this.entries.values()].filter((e) => e.status === undefined);
  }

  all(): JournalEntry[] {
    return [...this.entries.values()];
  }
}

type JournalLine =
  | ({ readonly op: 'begin' } & JournalEntry)
  | { readonly op: 'settle'; clientOrderId: string; status: string; executedQty: string };

/** Counters of a {@link FileOrderJournal}'s load. */
export interface OrderJournalStats {
  /** Orders held after the load. */
  entries: number;
  /** Lines that could not be read at start (a torn last line after a crash, or damage); dropped by the rewrite. */
  badLines: number;
}

/**
 * A journal in an append-only JSON-lines file, fsynced on every `begin` (an order is on disk before
 * it can reach the exchange) and every `settle`. At start the file is read (a torn last line, left
 * by a crash mid-write, is skipped, logged and counted) and rewritten from the entries read
 * (temporary file, fsync, rename, fsync of the folder) before anything is appended: a line appended
 * after a torn fragment would be glued onto it and lost at the next start.
 */
export class FileOrderJournal extends MemoryOrderJournal {
  readonly path: string;
  readonly stats: OrderJournalStats = { entries: 0, badLines: 0 };
  readonly #log: Logger;
  readonly #fd: number;

  constructor(path: string, logger: Logger) {
    super();
    this.path = path;
    this.#log = logger;
    if (existsSync(path)) this.#load();
    this.#rewrite();
    this.#fd = openSync(path, 'a', 0o600);
    this.stats.entries = this.entries.size;
  }

  override begin(entry: JournalEntry): void {
    super.begin(entry);
    this.#append({ op: 'begin', ...entry });
  }

  override settle(clientOrderId: string, status: string, executedQty: string): void {
    super.settle(clientOrderId, status, executedQty);
    this.#append({ op: 'settle', clientOrderId, status, executedQty });
  }

  close(): void {
    closeSync(this.#fd);
  }

  #append(line: JournalLine): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.#fd);
  }

  #load(): void {
    const lines = readFileSync(this.path, 'utf8').split('\n');
    for (const [index, text] of lines.entries()) {
      if (text.trim() === '') continue;
      let parsed: JournalLine;
      try {
        parsed = JSON.parse(text) as JournalLine;
      } catch (error) {
        this.stats.badLines += 1;
        // A crash mid-write leaves a torn last line: its `begin` never returned, so its order was never sent.
        const torn = index >= lines.length - 2;
        this.#log[torn ? 'warn' : 'error']('order journal: unreadable line skipped', {
          path: this.path,
          line: index + 1,
          torn,
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      if (parsed.op === 'begin') {
        const { op: _op, ...entry } = parsed;
        super.begin(entry);
      } else if (parsed.op === 'settle')
        super.settle(parsed.clientOrderId, parsed.status, parsed.executedQty);
    }
    this.#log.info('order journal loaded', {
      path: this.path,
      entries: this.entries.size,
      unresolved: this.unresolved().length,
      badLines: this.stats.badLines,
    });
  }

  /** Writes the entries held as a fresh file (see `replaceFileDurably`). */
  #rewrite(): void {
    // one `begin` line per entry, carrying its final status when known (read back as is)
    const lines = [...this.entries.values()].map((e) => `${JSON.stringify({ op: 'begin', ...e })}\n`);
    replaceFileDurably(this.path, lines.join(''));
  }
}
