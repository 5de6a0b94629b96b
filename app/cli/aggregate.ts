// `tributary aggregate`: aggTrades CSV dump → klines CSV in the dump's 12-column layout, streamed.

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { KlineCsvAggregator } from '../../ts/native/aggregator.js';
import { INTERVALS, isIntervalName } from '../../ts/native/interval.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary aggregate --interval <i> [options] <aggTrades.csv>

Reads a data.binance.vision aggTrades CSV of USD-M, COIN-M or spot (header optional; 7 columns, or
8 with the spot dumps' is_best_match; millisecond or microsecond times) and prints one kline per
interval, empty intervals included, as Binance's kline dumps of the same market do:
open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore
USD-M: exact decimals. Spot: quote columns at 8 decimals; microsecond input gives microsecond times.
COIN-M (inverse, e.g. BTCUSD_PERP): quote columns are base asset volume, contracts × contract size
÷ price at 8 decimals; the contract size comes from --contract-size or --exchange-info.

The input must be in agg_trade_id and time order (a repeated, earlier or out-of-time row is an error;
sort first with: sort -t, -k1,1n). A bad row stops the run with exit code 1 naming its line; --output
is written to a temporary file renamed at the end, so a failed run leaves no partial file.

Options:
  -i, --interval <i>        1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w
      --symbol <s>          symbol name (default: the file name before "-aggTrades")
      --contract-size <n>   COIN-M contract size in USD (BTC contracts 100, others 10)
      --exchange-info <f>   a saved GET /dapi/v1/exchangeInfo response: the symbol's contractSize
  -o, --output <file>       write to a file instead of standard output
      --no-header           do not print the column header row
  -q, --quiet               no summary on standard error
`;

/** COIN-M symbols: perpetual `BTCUSD_PERP` or delivery `BTCUSD_260626` (USD-M ones end in USDT/USDC). */
const COIN_M_SYMBOL = /^[A-Z0-9]+USD_(PERP|\d{6})$/;

/** The part of a COIN-M exchangeInfo response that names contract sizes. */
const exchangeInfoSchema = z.object({
  symbols: z.array(
    z.object({ symbol: z.string(), contractSize: z.union([z.number(), z.string()]).optional() }),
  ),
});

/** The contract size of `symbol` in a saved exchangeInfo file, as a decimal string. */
async function contractSizeFromExchangeInfo(path: string, symbol: string): Promise<string> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--exchange-info: cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const parsed = exchangeInfoSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      `--exchange-info: ${path} is not an exchangeInfo response: ${parsed.error.issues[0]?.message}`,
    );
  }
  const entry = parsed.data.symbols.find((s) => s.symbol === symbol);
  if (entry === undefined) {
    throw new UsageError(`--exchange-info: ${symbol} is not listed in ${path}`);
  }
  if (entry.contractSize === undefined) {
    throw new UsageError(
      `--exchange-info: ${symbol} has no contractSize in ${path} (not a COIN-M exchangeInfo?)`,
    );
  }
  return String(entry.contractSize);
}

/** The contract size to aggregate `symbol` with: `undefined` for a linear (USD-M, spot) symbol. */
async function contractSize(
  symbol: string,
  values: ReturnType<typeof parse>['values'],
): Promise<string | undefined> {
  if (values['contract-size'] !== undefined && values['exchange-info'] !== undefined) {
    throw new UsageError('pass --contract-size or --exchange-info, not both');
  }
  if (values['contract-size'] !== undefined) {
    const size = values['contract-size'];
    if (!/^\d+(\.\d+)?$/.test(size) || Number(size) <= 0) {
      throw new UsageError(`--contract-size: expected a positive decimal, got "${size}"`);
    }
    return size;
  }
  if (values['exchange-info'] !== undefined) {
    return contractSizeFromExchangeInfo(values['exchange-info'], symbol);
  }
  if (COIN_M_SYMBOL.test(symbol)) {
    throw new UsageError(
      `${symbol} is a COIN-M (inverse) contract: its quote volume needs the contract size; pass --contract-size or --exchange-info`,
    );
  }
  return undefined;
}

/** Reads chunks of the input, so a full day of trades is never held in memory at once. */
const CHUNK_BYTES = 1 << 20;

/** Symbol from a dump file name such as `BTCUSDT-aggTrades-2026-05-08.csv`. */
export function symbolFromFileName(path: string): string | undefined {
  const match = /^(.+?)-aggTrades-/.exec(basename(path));
  return match?.[1];
}

async function write(out: Writable, bytes: Buffer): Promise<void> {
  if (bytes.length > 0 && !out.write(bytes)) {
    await once(out, 'drain');
  }
}

/** Runs `tributary aggregate` with its arguments; returns the exit code. */
export async function runAggregate(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] === undefined) {
    throw new UsageError(`expected exactly one aggTrades CSV file\n${HELP}`);
  }
  const input = positionals[0];
  if (values.interval === undefined) {
    throw new UsageError('--interval is required (for example --interval 1m)');
  }
  if (!isIntervalName(values.interval)) {
    throw new UsageError(`--interval: unknown interval "${values.interval}" (one of ${INTERVALS.join(' ')})`);
  }
  const symbol = values.symbol ?? symbolFromFileName(input);
  if (symbol === undefined) {
    throw new UsageError(`cannot tell the symbol from "${basename(input)}": pass --symbol`);
  }
  // Symbols are upper case: "btcusd_perp" would not be recognised as COIN-M and get linear quote volumes.
  if (!/^[A-Z0-9_]{2,32}$/.test(symbol)) {
    const from = values.symbol === undefined ? ` (from the file name ${basename(input)})` : '';
    throw new UsageError(`--symbol: ${JSON.stringify(symbol)} is not a symbol name such as BTCUSDT${from}`);
  }
  const size = await contractSize(symbol, values);
  const aggregator = new KlineCsvAggregator({
    symbol,
    interval: values.interval,
    header: values['no-header'] !== true,
    ...(size === undefined ? {} : { contractSize: size }),
  });
  const started = process.hrtime.bigint();
  if (values.output === undefined) {
    await convert(input, aggregator, process.stdout);
  } else {
    await convertToFile(input, aggregator, values.output);
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (values.quiet !== true) {
    const s = aggregator.summary();
    process.stderr.write(
      `${s.rows} ${values.interval} klines from ${s.trades} aggTrades in ${elapsedMs.toFixed(0)} ms` +
        ` (${s.gaps} id gaps, ${s.missingIds} ids missing)\n`,
    );
  }
  return 0;
}

/** Streams the dump through the aggregator into `out`; a bad row throws. */
async function convert(input: string, aggregator: KlineCsvAggregator, out: Writable): Promise<void> {
  for await (const chunk of createReadStream(input, { highWaterMark: CHUNK_BYTES })) {
    await write(out, aggregator.push(chunk as Buffer));
  }
  await write(out, aggregator.finish());
}

/**
 * {@link convert} into a temporary file beside `output`, renamed over it only when the whole
 * dump converted: a failed run leaves neither a partial file nor the temporary one.
 */
async function convertToFile(input: string, aggregator: KlineCsvAggregator, output: string): Promise<void> {
  const temporary = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  const out = createWriteStream(temporary, { flags: 'wx' });
  await once(out, 'open');
  try {
    await convert(input, aggregator, out);
    out.end();
    await once(out, 'finish');
    await rename(temporary, output);
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

function parse(args: string[]) {
  return parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      interval: { type: 'string', short: 'i' },
      symbol: { type: 'string' },
      'contract-size': { type: 'string' },
      'exchange-info': { type: 'string' },
      output: { type: 'string', short: 'o' },
      'no-header': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
