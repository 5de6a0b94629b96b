// The executor's write-ahead journal: every order is written before it is sent, so a restart knows what may exist.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Logger } from '../../ts/log/logger.js';

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

/**
 * A journal in an append-only JSON-lines file, fsynced on every `begin` (an order is on disk before
 * it can reach the exchange). Reloaded at start; a torn last line (a crash mid-write) is skipped
 * and logged.
 */
export class FileOrderJournal extends MemoryOrderJournal {
  readonly #fd: number;

  constructor(path: string, logger: Logger) {
    super();
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      for (const [index, line] of lines.entries()) {
        if (line.trim() === '') continue;
        let parsed: JournalLine;
        try {
          parsed = JSON.parse(line) as JournalLine;
        } catch {
          logger.warn('order journal: unreadable line skipped', { path, line: index + 1 });
          continue;
        }
        if (parsed.op === 'begin') {
          const { op: _op, ...entry } = parsed;
          super.begin(entry);
        } else if (parsed.op === 'settle')
          super.settle(parsed.clientOrderId, parsed.status, parsed.executedQty);
      }
    }
    this.#fd = openSync(path, 'a');
  }

  override begin(entry: JournalEntry): void {
    super.begin(entry);
    writeSync(this.#fd, `${JSON.stringify({ op: 'begin', ...entry })}\n`);
    fsyncSync(this.#fd);
  }

  override settle(clientOrderId: string, status: string, executedQty: string): void {
    super.settle(clientOrderId, status, executedQty);
    writeSync(this.#fd, `${JSON.stringify({ op: 'settle', clientOrderId, status, executedQty })}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
