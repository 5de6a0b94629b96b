// Streams a data.binance.vision aggTrades CSV into the market at a chosen speed, rebasing trade times.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { SimClock } from '../contracts.js';

/** One CSV row: exact price/quantity strings, ids, the original time and the maker flag. */
export interface CsvAggTrade {
  readonly aggTradeId: number;
  readonly price: string;
  readonly quantity: string;
  readonly firstTradeId: number;
  readonly lastTradeId: number;
  readonly time: number;
  readonly buyerIsMaker: boolean;
}

/** A row that is not a valid trade: the reason says which column. */
export class CsvRowError extends Error {
  override readonly name = 'CsvRowError';
}

const INTEGER = /^\d{1,16}$/;

/**
 * Parses one line of `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker`.
 * Throws {@link CsvRowError} naming the bad column.
 */
export function parseAggTradeCsvLine(line: string): CsvAggTrade {
  const cols = line.trim().split(',');
  if (cols.length !== 7) throw new CsvRowError(`expected 7 columns, got ${cols.length}`);
  const [a, p, q, f, l, t, m] = cols as [string, string, string, string, string, string, string];
  const int = (name: string, text: string): number => {
    if (!INTEGER.test(text))
      throw new CsvRowError(`${name} is not an integer: ${JSON.stringify(text.slice(0, 32))}`);
    return Number(text);
  };
  const positive = (name: string, text: string): string => {
    const value = Decimal.tryParse(text);
    if (value === undefined || value.sign() <= 0) {
      throw new CsvRowError(`${name} is not a positive decimal: ${JSON.stringify(text.slice(0, 32))}`);
    }
    return text;
  };
  const firstTradeId = int('first_trade_id', f);
  const lastTradeId = int('last_trade_id', l);
  if (lastTradeId < firstTradeId) throw new CsvRowError('last_trade_id is below first_trade_id');
  const flag = m.toLowerCase();
  if (flag !== 'true' && flag !== 'false')
    throw new CsvRowError(`is_buyer_maker is not true/false: ${m.slice(0, 16)}`);
  return {
    aggTradeId: int('agg_trade_id', a),
    price: positive('price', p),
    quantity: positive('quantity', q),
    firstTradeId,
    lastTradeId,
    time: int('transact_time', t),
    buyerIsMaker: flag === 'true',
  };
}

/**
 * The first valid trade of an aggTrades CSV (a header row and blank or malformed lines before it
 * are skipped), read synchronously from the file's first 64 KiB; undefined when there is none.
 */
export function firstCsvTrade(csvPath: string): CsvAggTrade | undefined {
  const fd = openSync(csvPath, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, read).toString('utf8').split(/\r?\n/);
    // The last piece may be a cut line unless the whole file fit.
    const complete = read < buffer.length ? lines : lines.slice(0, -1);
    for (const line of complete) {
      if (line.trim() === '' || line.startsWith('agg_trade_id')) continue;
      try {
        return parseAggTradeCsvLine(line);
      } catch (error) {
        if (!(error instanceof CsvRowError)) throw error;
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A trade ready for the market: its time rebased onto the replay's clock. */
export interface ReplayTrade extends CsvAggTrade {
  readonly replayTime: number;
}

/** What a replay did. */
export interface ReplaySummary {
  readonly lines: number;
  readonly trades: number;
  readonly malformed: number;
  readonly stopped: boolean;
  /** Set when the file could not be read; the trades before the failure were delivered. */
  readonly error?: string;
}

export interface AggTradeCsvReplayOptions {
  readonly csvPath: string;
  /** ×real time (≥ 1), or `max` for as fast as possible. */
  readonly speed: number | 'max';
  readonly clock: SimClock;
  readonly logger: Logger;
  /** Receives the trades in file order, in batches. */
  readonly deliver: (trades: ReplayTrade[]) => void;
  /** Until when (clock time) delivery must wait, e.g. while the market is frozen; 0 when it need not. */
  readonly holdUntil: () => number;
}

const BATCH = 1000;
/** Longest single sleep, so a changed clock or a stop is noticed quickly. */
const MAX_SLEEP_MS = 250;
/** Malformed lines logged one by one; after that only every 1000th and the total. */
const LOGGED_MALFORMED = 20;

/**
 * Replays an aggTrades CSV, read as a stream (never the whole file in memory). Times are rebased:
 * with the replay started at clock time S and the file's first trade at t0, a trade at t is
 * delivered at S + (t − t0) / speed and carries that time; with speed `max` it carries
 * S + (t − t0) (the file's own spacing) and is delivered at once, in batches that yield to the event
 * loop. A hold (market frozen) pauses the replay and shifts later times by the pause. A header row
 * and blank lines are skipped; malformed or out-of-order lines are counted and logged, never fatal.
 */
export class AggTradeCsvReplay {
  readonly #options: AggTradeCsvReplayOptions;
  readonly #abort = new AbortController();
  #lines = 0;
  #trades = 0;
  #malformed = 0;
  #started = false;
  /** Resolves when the file is done, failed, or the replay was stopped. */
  readonly done: Promise<ReplaySummary>;
  #resolve: (summary: ReplaySummary) => void = () => {};

  constructor(options: AggTradeCsvReplayOptions) {
    if (options.speed !== 'max' && !(Number.isFinite(options.speed) && options.speed >= 1)) {
      throw new RangeError(`replay speed must be ≥ 1 or 'max', got ${options.speed}`);
    }
    this.#options = options;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Starts reading (once); the replay's start time is the clock's time now. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#run().then(this.#resolve, (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.#options.logger.error('replay failed', { csvPath: this.#options.csvPath, error: message });
      this.#resolve(this.#summary(false, message));
    });
  }

  /** Stops the replay; `done` resolves with `stopped: true`. */
  stop(): void {
    this.#abort.abort();
    if (!this.#started) {
      this.#started = true;
      this.#resolve(this.#summary(true));
    }
  }

  #summary(stopped: boolean, error?: string): ReplaySummary {
    const base = { lines: this.#lines, trades: this.#trades, malformed: this.#malformed, stopped };
    return error === undefined ? base : { ...base, error };
  }

  #reject(line: number, reason: string): void {
    this.#malformed += 1;
    if (this.#malformed <= LOGGED_MALFORMED || this.#malformed % 1000 === 0) {
      this.#options.logger.warn('replay skipped a malformed line', {
        line,
        reason,
        malformed: this.#malformed,
      });
    }
  }

  async #run(): Promise<ReplaySummary> {
    const { clock, speed, deliver, holdUntil, logger } = this.#options;
    const signal = this.#abort.signal;
    const input = createReadStream(this.#options.csvPath, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    const start = clock.now();
    let shift = 0;
    let t0: number | undefined;
    let lastTime = -1;
    let batch: ReplayTrade[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      const out = batch;
      batch = [];
      this.#trades += out.length;
      deliver(out);
    };
    const pause = async (ms: number): Promise<boolean> => {
      try {
        await sleep(ms, undefined, { signal });
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        throw error;
      }
    };
    try {
      for await (const line of lines) {
        if (signal.aborted) break;
        this.#lines += 1;
        if (line.trim() === '' || (this.#lines === 1 && line.startsWith('agg_trade_id'))) continue;
        let row: CsvAggTrade;
        try {
          row = parseAggTradeCsvLine(line);
        } catch (error) {
          if (!(error instanceof CsvRowError)) throw error;
          this.#reject(this.#lines, error.message);
          continue;
        }
        if (row.time < lastTime) {
          this.#reject(this.#lines, `transact_time ${row.time} is before the previous ${lastTime}`);
          continue;
        }
        lastTime = row.time;
        t0 ??= row.time;
        // Hold while the market is frozen; the pause shifts every later trade (a paused tape).
        for (let hold = holdUntil(); hold > clock.now(); hold = holdUntil()) {
          flush();
          const before = clock.now();
          if (!(await pause(Math.min(MAX_SLEEP_MS, hold - before)))) break;
          if (speed !== 'max') shift += clock.now() - before;
        }
        if (signal.aborted) break;
        let replayTime: number;
        if (speed === 'max') {
          replayTime = start + (row.time - t0);
        } else {
          replayTime = start + shift + Math.floor((row.time - t0) / speed);
          while (replayTime > clock.now()) {
            flush();
            if (!(await pause(Math.min(MAX_SLEEP_MS, replayTime - clock.now())))) break;
          }
          if (signal.aborted) break;
        }
        batch.push({ ...row, replayTime });
        if (batch.length >= BATCH) {
          flush();
          if (speed === 'max') await yieldToLoop();
        }
      }
      flush();
    } finally {
      lines.close();
      input.destroy();
    }
    const summary = this.#summary(signal.aborted);
    logger.info('replay finished', { csvPath: this.#options.csvPath, ...summary });
    return summary;
  }
}
