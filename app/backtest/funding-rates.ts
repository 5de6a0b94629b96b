// The funding a backtest charges: Binance's recorded rates from data.binance.vision fundingRate files, or the constant 0.01 % every 8 h as a stated assumption.
import { basename } from 'node:path';
import { Decimal } from '../../ts/exact/decimal.js';
import { LineChunkReader } from './chunk-reader.js';
import { isMicros } from './csv-lines.js';

/** The replay advances the simulator's engine once per step of this many ms (the runner's `STEP_MS`). */
export const FUNDING_STEP_MS = 60_000;
/** Binance's interest rate, what the simulator charges every 8 h without recorded rates. */
export const ASSUMED_RATE = Decimal.parse('0.0001');
const ASSUMED_EVERY_MS = 8 * 3_600_000;
/** Binance caps a funding rate at ±3 % per interval on every USD-M symbol (most far lower). */
const MAX_RATE = Decimal.parse('0.03');
const HOUR_MS = 3_600_000;
const HEADER = 'calc_time,funding_interval_hours,last_funding_rate';
/** The funding intervals Binance runs USD-M symbols on. */
const INTERVALS = new Set([1, 2, 4, 8]);
const FILE_NAME = /^([A-Z0-9_]+)-fundingRate-(\d{4})-(\d{2})(-\d{2})?\.(csv|zip)$/;
/** A market data file's date (`...-2024-03.zip`, `...-2024-03-01.csv`): the month it needs funding for. */
const MARKET_MONTH = /-(\d{4}-\d{2})(?:-\d{2})?\.(?:csv|zip)$/;

/** A fundingRate file or row refused: names the file and, for a row, its line (1-based). */
export class FundingRateError extends Error {
  override readonly name = 'FundingRateError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${basename(file)}${line === undefined ? '' : `:${line}`}: ${reason}`);
  }
}

/** One recorded funding: the rate Binance applied at `calcTime`, settled at the replay step `step`. */
export interface FundingRow {
  readonly calcTime: number;
  readonly step: number;
  readonly intervalHours: number;
  readonly rate: Decimal;
}

/** Which funding a run charged, for the report: nobody should take the constant for Binance's rates. */
export interface FundingReport {
  /** `recorded`: every symbol from fundingRate files; `assumed`: the constant for all; `mixed`: some of each. */
  readonly source: 'recorded' | 'assumed' | 'mixed';
  /** Each fundingRate file read and its rows. */
  readonly recorded: ReadonlyArray<{ readonly symbol: string; readonly file: string; readonly rows: number }>;
  /** The symbols charged the constant rate instead (none when every symbol had files). */
  readonly assumed: { readonly rate: string; readonly everyHours: number; readonly symbols: string[] } | null;
  /** Gaps between two consecutive rows longer than their interval: funding times the data lacks, not charged. */
  readonly gaps: number;
}

/** Whether a data file is a fundingRate file (by name, as the other kinds are told apart). */
export function isFundingFile(file: string): boolean {
  return basename(file).includes('-fundingRate-');
}

/** The rows of one fundingRate file, checked (see {@link FundingRates.load}). */
function readFundingFile(file: string, month: [number, number], label: string): FundingRow[] {
  const text: string[] = [];
  try {
    const reader = new LineChunkReader(file);
    for (let chunk = reader.next(); chunk !== null; chunk = reader.next())
      text.push(chunk.toString('latin1'));
  } catch (error) {
    throw new FundingRateError(file, undefined, error instanceof Error ? error.message : String(error));
  }
  const lines = text.join('').split('\n');
  const rows: FundingRow[] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const n = i + 1;
    if (line.length === 0) continue;
    if (i === 0 && !/^\d/.test(line)) {
      if (line !== HEADER)
        throw new FundingRateError(file, n, `header is not ${HEADER}: ${line.slice(0, 80)}`);
      continue;
    }
    const fail = (reason: string): never => {
      throw new FundingRateError(file, n, reason);
    };
    const f = line.split(',');
    if (f.length !== 3) fail(`expected ${HEADER}, got ${line.slice(0, 80)}`);
    const [timeText, intervalText, rateText] = f as [string, string, string];
    if (!/^\d{1,16}$/.test(timeText)) fail(`calc_time ${timeText.slice(0, 20)} is not a time in ms`);
    const calcTime = Number(timeText);
    // A µs time read as ms would be tens of thousands of years out; say what it is.
    if (isMicros(calcTime)) fail(`calc_time ${timeText} is in µs, not ms`);
    if (calcTime < month[0] || calcTime >= month[1])
      fail(
        `calc_time ${timeText} (${new Date(calcTime).toISOString()}) is outside ${label}, the month the file name says`,
      );
    if (!/^\d{1,2}$/.test(intervalText) || !INTERVALS.has(Number(intervalText)))
      fail(`funding_interval_hours ${intervalText.slice(0, 20)} is not 1, 2, 4 or 8`);
    const rate = /^-?\d{1,3}(\.\d{1,18})?$/.test(rateText) ? Decimal.tryParse(rateText) : undefined;
    if (rate === undefined) fail(`last_funding_rate ${rateText.slice(0, 30)} is not a decimal number`);
    if ((rate as Decimal).abs().gt(MAX_RATE))
      fail(`last_funding_rate ${rateText} is beyond ±${MAX_RATE.toString()} per interval (Binance's caps)`);
    rows.push({
      calcTime,
      // The engine settles once per replay step: Binance's calc_time is the funding time or a few ms
      // past it (1780272000001), so the nearest step is the funding time, not the minute after it.
      step: Math.round(calcTime / FUNDING_STEP_MS) * FUNDING_STEP_MS,
      intervalHours: Number(intervalText),
      rate: rate as Decimal,
    });
    const previous = rows.at(-2);
    if (previous !== undefined && rows.at(-1)?.step === previous.step)
      fail(`calc_time ${timeText} repeats the funding time of the row before (${previous.calcTime})`);
    if (previous !== undefined && calcTime < previous.calcTime)
      fail(`calc_time ${timeText} is before the row before (${previous.calcTime}): rows out of order`);
  }
  return rows;
}

/**
 * The funding rate of every replay step and symbol. With fundingRate files (monthly, as Binance
 * publishes them), a symbol is charged at its rows' calc_times at their rates, whatever its interval
 * (8, 4 or 1 h); a symbol without files, or a run without any, at the simulator's constant 0.01 %
 * every 8 h (00/08/16 UTC), reported as an assumption. A bad row refuses the run (a typed error
 * naming file and line), unlike a bad kline row, which is dropped and counted: a dropped funding row
 * would be a funding time silently charged nothing, and a file holds only ~90 of them.
 */
export class FundingRates {
  readonly #bySymbol: Map<string, Map<number, Decimal>>;
  readonly #symbols: readonly string[];
  readonly #report: FundingReport;

  private constructor(
    bySymbol: Map<string, Map<number, Decimal>>,
    symbols: readonly string[],
    report: FundingReport,
  ) {
    this.#bySymbol = bySymbol;
    this.#symbols = symbols;
    this.#report = report;
  }

  /**
   * Reads `files` (fundingRate CSVs or zips) for a run whose market data is `marketFiles` by symbol.
   * Refused: a name that is not `SYMBOL-fundingRate-YYYY-MM.csv|zip`, a file of a symbol the run has
   * no market data for, a symbol whose files leave out a month its market data covers, the same
   * month twice, and rows that are malformed, out of order, repeated, in µs, outside the file's
   * month, or with a rate beyond ±0.03.
   */
  static load(files: readonly string[], marketFiles: ReadonlyMap<string, readonly string[]>): FundingRates {
    const byFile = new Map<string, { symbol: string; month: string; file: string }>();
    for (const file of files) {
      const m = FILE_NAME.exec(basename(file));
      if (m === null || m[4] !== undefined) {
        throw new FundingRateError(
          file,
          undefined,
          m === null
            ? 'not a data.binance.vision fundingRate file name (SYMBOL-fundingRate-YYYY-MM.csv or .zip)'
            : 'fundingRate is published monthly (SYMBOL-fundingRate-YYYY-MM), not by day',
        );
      }
      const symbol = m[1] as string;
      const month = `${m[2]}-${m[3]}`;
      if (!marketFiles.has(symbol))
        throw new FundingRateError(
          file,
          undefined,
          `no market data (aggTrades or klines) given for ${symbol}: its funding would charge nothing`,
        );
      const key = `${symbol} ${month}`;
      const twice = byFile.get(key);
      if (twice !== undefined)
        throw new FundingRateError(
          file,
          undefined,
          `${symbol} ${month} given twice (also ${basename(twice.file)})`,
        );
      byFile.set(key, { symbol, month, file });
    }
    const bySymbol = new Map<string, Map<number, Decimal>>();
    const recorded: Array<{ symbol: string; file: string; rows: number }> = [];
    let gaps = 0;
    const ordered = [...byFile.values()].sort((a, b) =>
      a.symbol !== b.symbol
        ? a.symbol < b.symbol
          ? -1
          : 1
        : a.month < b.month
          ? -1
          : a.month > b.month
            ? 1
            : 0,
    );
    let last: { symbol: string; row: FundingRow } | undefined;
    for (const { symbol, month, file } of ordered) {
      const [y, mo] = month.split('-').map(Number) as [number, number];
      const rows = readFundingFile(file, [Date.UTC(y, mo - 1, 1), Date.UTC(y, mo, 1)], month);
      let steps = bySymbol.get(symbol);
      if (steps === undefined) {
        steps = new Map();
        bySymbol.set(symbol, steps);
      }
      for (const row of rows) {
        steps.set(row.step, row.rate);
        // A funding time Binance settled is missing from the data: counted, as the report says.
        if (last?.symbol === symbol) {
          const longest = Math.max(last.row.intervalHours, row.intervalHours) * HOUR_MS;
          if (row.step - last.row.step > longest + FUNDING_STEP_MS) gaps += 1;
        }
        last = { symbol, row };
      }
      recorded.push({ symbol, file: basename(file), rows: rows.length });
    }
    for (const symbol of bySymbol.keys()) {
      for (const file of marketFiles.get(symbol) ?? []) {
        const month = MARKET_MONTH.exec(basename(file))?.[1];
        if (month !== undefined && !byFile.has(`${symbol} ${month}`))
          throw new FundingRateError(
            file,
            undefined,
            `no ${symbol}-fundingRate-${month} file given while other months of ${symbol} have one: its funding times would charge nothing`,
          );
      }
    }
    const symbols = [...marketFiles.keys()];
    const assumedSymbols = symbols.filter((s) => !bySymbol.has(s));
    const source = bySymbol.size === 0 ? 'assumed' : assumedSymbols.length === 0 ? 'recorded' : 'mixed';
    return new FundingRates(bySymbol, symbols, {
      source,
      recorded,
      assumed:
        assumedSymbols.length === 0
          ? null
          : {
              rate: ASSUMED_RATE.toString(),
              everyHours: ASSUMED_EVERY_MS / HOUR_MS,
              symbols: assumedSymbols,
            },
      gaps,
    });
  }

  /** Whether any symbol has recorded rates (the engine then settles every replay step, not every 8 h). */
  get recorded(): boolean {
    return this.#bySymbol.size > 0;
  }

  /**
   * Sets each symbol's rate for the funding the engine settles at the step ending at `step`: the
   * recorded row's, the constant at 00/08/16 UTC for a symbol without rows, else zero (the engine
   * books nothing for a zero payment).
   */
  apply(market: { setFundingRate(symbol: string, rate: Decimal): void }, step: number): void {
    for (const symbol of this.#symbols) {
      const steps = this.#bySymbol.get(symbol);
      const rate =
        steps === undefined
          ? step % ASSUMED_EVERY_MS === 0
            ? ASSUMED_RATE
            : Decimal.ZERO
          : (steps.get(step) ?? Decimal.ZERO);
      market.setFundingRate(symbol, rate);
    }
  }

  report(): FundingReport {
    return this.#report;
  }
}

/** The report's funding line: recorded files and rows, or the constant, said to be an assumption. */
export function fundingLine(report: FundingReport): string {
  const parts: string[] = [];
  if (report.recorded.length > 0)
    parts.push(
      `recorded from ${report.recorded.map((r) => `${r.file} (${r.rows} rows)`).join(', ')}${report.gaps > 0 ? `; ${report.gaps} gaps between rows longer than their funding interval (funding times there not charged)` : ''}`,
    );
  if (report.assumed !== null)
    parts.push(
      `ASSUMED constant ${report.assumed.rate} every ${report.assumed.everyHours} h (00/08/16 UTC) for ${report.assumed.symbols.join(', ')}, not Binance's rates (give SYMBOL-fundingRate-YYYY-MM files)`,
    );
  return parts.join('; ');
}
