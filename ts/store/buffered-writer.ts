// Buffers records and writes them in batched transactions off the caller's path; each add resolves once its rows are committed.
import type { Logger } from '../log/logger.js';
import { type RecordRefusedError, recordForLog, refusalLogFields, screenBatch } from './record-check.js';
import type { RecordStore } from './record-store.js';
import { batchSize, type RecordBatch } from './store-records.js';

type BatchKey = keyof RecordBatch;
const KEYS: readonly BatchKey[] = [
  'orderUpdates',
  'algoOrderUpdates',
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

/**
 * Writes one batch that failed every attempt may take in parts (see `#salvage`): enough to find a
 * few records that fail every write among thousands (two writes per halving), and a bound on the
 * time the writer spends on one batch.
 */
const SALVAGE_WRITES = 64;

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
  /**
   * Records refused by `add` because a column cannot hold them (too long, not a decimal, not a
   * safe integer, a time that is no Unix ms, missing): each logged as an error with the record,
   * never written.
   */
  refused: number;
}

/** What became of the records of one `add`. */
export interface AddResult {
  /** Records no column can hold (logged and counted in `refused`); all the others were committed. */
  readonly refused: readonly RecordRefusedError[];
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The one way processes write records: `add` checks each record against the tables' columns and
 * only appends to a buffer (no I/O on the caller's turn, so a trader's event loop never waits for
 * the database); a timer every `flushMs`, or a buffer of `maxBatch`, writes everything buffered as
 * one transaction. A record no column can hold is refused by `add`, alone: in the buffer it would
 * fail every write of the batch around it (MySQL) or be stored where MySQL would refuse it (SQLite).
 * A failed write is retried with the next flush (backoff doubling to 5 s) up to `maxAttempts`
 * times, then salvaged in parts when the database answers, else given up with an error line. `add`
 * resolves once its records are committed (acknowledged), or rejects when any was given up.
 */
export class BufferedRecordWriter {
  readonly stats: WriterStats = { written: 0, duplicates: 0, pending: 0, failures: 0, lost: 0, refused: 0 };
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
   * them) but for the records no column can hold, which are refused here (logged, counted, and
   * listed in the result); resolves when the others are committed.
   */
  add(batch: RecordBatch, cursors: Readonly<Record<string, string>> = {}): Promise<AddResult> {
    if (this.#closed) return Promise.reject(new Error('records writer is closed'));
    const screened = screenBatch(batch, cursors);
    for (const refusal of screened.refused) {
      this.stats.refused += 1;
      this.#o.logger.error('record refused: a column cannot hold it; not stored', refusalLogFields(refusal));
    }
    const result: AddResult = { refused: screened.refused };
    const size = batchSize(screened.batch);
    if (screened.refused.length > 0 && size === 0 && Object.keys(screened.cursors).length === 0)
      return Promise.resolve(result);
    for (const key of KEYS) {
      const rows = screened.batch[key];
      if (rows !== undefined && rows.length > 0) (this.#buffer[key] as unknown[]).push(...rows);
    }
    Object.assign(this.#cursors, screened.cursors);
    this.stats.pending += size;
    const done = new Promise<AddResult>((resolve, reject) =>
      this.#waiters.push({ resolve: () => resolve(result), reject }),
    );
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
          const lost = await this.#salvage(batch, cursors, message);
          const names = Object.keys(cursors);
          if (lost === 0 && names.length === 0) for (const w of waiters) w.resolve();
          else {
            // Which waiter's records were lost is not tracked: every one of the batch hears of it.
            const cursorsLost = names.length === 0 ? '' : ` (and cursors ${names.join(', ')} not written)`;
            const failure = new Error(
              `${lost} of ${size} records given up${cursorsLost} after repeated write failures: ${message}`,
              { cause: error },
            );
            for (const w of waiters) w.reject(failure);
          }
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

  /**
   * After `maxAttempts` failures of one batch. When the database takes an empty transaction it is
   * answering, and refuses something in this batch that `add`'s checks did not foresee (a
   * statement too large, a column altered by hand): the batch is written in halves, and halves of
   * the halves that fail, at most {@link SALVAGE_WRITES} writes, so a record that fails every write
   * costs only itself. Otherwise the database is unreachable and the whole batch is given up, as
   * the retries were its chance. Cursors are not written (a cursor not moved is read again).
   * Resolves with the number of records given up (each logged as an error).
   */
  async #salvage(batch: RecordBatch, cursors: Record<string, string>, message: string): Promise<number> {
    const size = batchSize(batch);
    const maxAttempts = this.#o.maxAttempts ?? 10;
    const giveUp = (records: RecordBatch, error: string): number => {
      const n = batchSize(records);
      this.stats.lost += n;
      const only = n === 1 ? KEYS.find((k) => (records[k]?.length ?? 0) > 0) : undefined;
      this.#o.logger.error('records given up after repeated write failures', {
        records: n,
        attempts: maxAttempts,
        error,
        ...(only === undefined ? {} : { kind: only, record: recordForLog(records[only]?.[0]) }),
      });
      return n;
    };
    if (size <= 1) return giveUp(batch, message);
    try {
      await this.#store.write({});
    } catch (error) {
      this.stats.failures += 1;
      return giveUp(batch, `${message} (and the database does not answer: ${messageOf(error)})`);
    }
    let lost = 0;
    let writes = 0;
    const pieces = halves(batch);
    for (let piece = pieces.pop(); piece !== undefined; piece = pieces.pop()) {
      if (writes >= SALVAGE_WRITES) {
        lost += giveUp(piece, `${message} (not tried again: ${SALVAGE_WRITES} writes spent on this batch)`);
        continue;
      }
      writes += 1;
      try {
        const result = await this.#store.write(piece);
        this.stats.written += result.inserted;
        this.stats.duplicates += result.duplicates;
        this.#o.onCommitted?.(piece, result);
      } catch (error) {
        this.stats.failures += 1;
        if (batchSize(piece) > 1) pieces.push(...halves(piece));
        else lost += giveUp(piece, messageOf(error));
      }
    }
    this.#o.logger.warn('records written in parts after repeated write failures of their batch', {
      records: size,
      lost,
      writes,
      cursorsNotWritten: Object.keys(cursors).join(' '),
      error: message,
    });
    return lost;
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

/** The batch's records in two batches of (nearly) equal size. */
function halves(batch: RecordBatch): RecordBatch[] {
  const all = KEYS.flatMap((key) => (batch[key] ?? []).map((record) => ({ key, record })));
  const mid = Math.ceil(all.length / 2);
  return [all.slice(0, mid), all.slice(mid)].map((part) => {
    const out = emptyBuffer();
    for (const { key, record } of part) (out[key] as unknown[]).push(record);
    return out;
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function emptyBuffer() {
  return {
    orderUpdates: [],
    algoOrderUpdates: [],
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
