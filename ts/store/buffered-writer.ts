// Buffers records and writes them in batched transactions off the caller's path; each add resolves once its rows are committed.
import type { Logger } from '../log/logger.js';
import type { RecordStore } from './record-store.js';
import { batchSize, type RecordBatch } from './store-records.js';

type BatchKey = keyof RecordBatch;
const KEYS: readonly BatchKey[] = [
  'orderUpdates',
  'fills',
  'income',
  'positions',
  'balances',
  'equity',
  'klines',
  'symbols',
  'alerts',
  'peers',
];

/** Options of a {@link BufferedRecordWriter}. */
export interface BufferedWriterOptions {
  /** Buffered records are written at least this often (ms). */
  readonly flushMs: number;
  /** A buffer of this many records is written at once. */
  readonly maxBatch: number;
  readonly logger: Logger;
  /** Attempts per batch before it is given up (logged as lost; default 10). */
  readonly maxAttempts?: number;
  /** Called after every committed batch (the recorder reports it as acknowledged). */
  readonly onCommitted?: (batch: RecordBatch, result: { inserted: number; duplicates: number }) => void;
}

/** What the writer has done. */
export interface WriterStats {
  /** Records committed (new rows). */
  written: number;
  /** Records that were already stored. */
  duplicates: number;
  /** Records waiting in the buffer. */
  pending: number;
  /** Failed write attempts (each logged). */
  failures: number;
  /** Records given up after `maxAttempts` failures (each batch logged as an error). */
  lost: number;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The one way processes write records: `add` only appends to a buffer (no I/O on the caller's
 * turn, so a trader's event loop never waits for the database); a timer every `flushMs`, or a
 * buffer of `maxBatch`, writes everything buffered as one transaction. A failed write is retried
 * with the next flush (backoff doubling to 5 s) up to `maxAttempts` times, then given up with an
 * error line. `add` resolves once its records are committed (acknowledged), or rejects when given up.
 */
export class BufferedRecordWriter {
  readonly stats: WriterStats = { written: 0, duplicates: 0, pending: 0, failures: 0, lost: 0 };
  readonly #store: RecordStore;
  readonly #o: BufferedWriterOptions;
  #buffer: { [K in BatchKey]: NonNullable<RecordBatch[K]>[number][] } = emptyBuffer();
  #cursors: Record<string, string> = {};
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #attempts = 0;
  #retryAt = 0;
  #closed = false;

  constructor(store: RecordStore, options: BufferedWriterOptions) {
    this.#store = store;
    this.#o = options;
    this.#timer = setInterval(() => void this.#tick(), options.flushMs);
    this.#timer.unref();
  }

  /**
   * Buffers `batch` (and cursors, written in the same transaction as the records buffered with
   * them); resolves when committed.
   */
  add(batch: RecordBatch, cursors: Readonly<Record<string, string>> = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('records writer is closed'));
    for (const key of KEYS) {
      const rows = batch[key];
      if (rows !== undefined && rows.length > 0) (this.#buffer[key] as unknown[]).push(...rows);
    }
    Object.assign(this.#cursors, cursors);
    this.stats.pending += batchSize(batch);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    // Nobody has to wait for it; a caller that does sees the outcome.
    done.catch(() => undefined);
    if (this.stats.pending >= this.#o.maxBatch) setImmediate(() => void this.#tick());
    return done;
  }

  /** Writes everything buffered now; resolves when it is committed (or given up). */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.stats.pending === 0 && Object.keys(this.#cursors).length === 0 && this.#waiters.length === 0)
      return;
    this.#retryAt = 0;
    await this.#writeOnce();
  }

  /** Flushes (retrying up to the attempt limit) and stops the timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    for (let i = 0; i < (this.#o.maxAttempts ?? 10) && this.stats.pending + this.#waiters.length > 0; i++) {
      await this.flush();
    }
    this.#closed = true;
  }

  async #tick(): Promise<void> {
    if (this.#flushing !== undefined || Date.now() < this.#retryAt) return;
    if (this.#waiters.length === 0) return;
    await this.#writeOnce();
  }

  #writeOnce(): Promise<void> {
    const batch = this.#buffer;
    const cursors = this.#cursors;
    const waiters = this.#waiters;
    this.#buffer = emptyBuffer();
    this.#cursors = {};
    this.#waiters = [];
    const size = batchSize(batch);
    this.stats.pending -= size;
    const run = (async () => {
      try {
        const result = await this.#store.write(batch, cursors);
        this.#attempts = 0;
        this.stats.written += result.inserted;
        this.stats.duplicates += result.duplicates;
        this.#o.onCommitted?.(batch, result);
        for (const w of waiters) w.resolve();
      } catch (error) {
        this.#attempts += 1;
        this.stats.failures += 1;
        const message = error instanceof Error ? error.message : String(error);
        const maxAttempts = this.#o.maxAttempts ?? 10;
        if (this.#attempts >= maxAttempts) {
          this.#attempts = 0;
          this.stats.lost += size;
          this.#o.logger.error('records given up after repeated write failures', {
            records: size,
            attempts: maxAttempts,
            error: message,
          });
          for (const w of waiters) w.reject(error instanceof Error ? error : new Error(message));
          return;
        }
        // Put them back in front of anything added meanwhile, and wait before the next attempt.
        this.#restore(batch, cursors, waiters, size);
        const backoff = Math.min(5000, this.#o.flushMs * 2 ** this.#attempts);
        this.#retryAt = Date.now() + backoff;
        this.#o.logger.warn('records write failed; retrying', {
          records: size,
          attempt: this.#attempts,
          of: maxAttempts,
          retryInMs: backoff,
          error: message,
        });
      }
    })();
    this.#flushing = run.finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  #restore(
    batch: ReturnType<typeof emptyBuffer>,
    cursors: Record<string, string>,
    waiters: Waiter[],
    size: number,
  ): void {
    for (const key of KEYS) (this.#buffer[key] as unknown[]).unshift(...(batch[key] as unknown[]));
    this.#cursors = { ...cursors, ...this.#cursors };
    this.#waiters = [...waiters, ...this.#waiters];
    this.stats.pending += size;
  }
}

function emptyBuffer() {
  return {
    orderUpdates: [],
    fills: [],
    income: [],
    positions: [],
    balances: [],
    equity: [],
    klines: [],
    symbols: [],
    alerts: [],
    peers: [],
  } as { [K in BatchKey]: NonNullable<RecordBatch[K]>[number][] };
}
