// `tributary aggregate`: aggTrades CSV dump → klines CSV in the dump's 12-column layout, streamed.

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { KlineCsvAggregator } from '../../ts/native/aggregator.js';
import { INTERVALS, isIntervalName } from '../../ts/native/interval.js';
import { UsageError } from './usage-error.js';

const HELP = `Usage: tributary aggregate --interval <i> [options] <aggTrades.csv>

Reads a data.binance.vision aggTrades CSV (header optional, millisecond or microsecond times) and
prints one kline per interval, empty intervals included, as
open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore

Options:
  -i, --interval <i>   1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w
      --symbol <s>     symbol name (default: the file name before "-aggTrades")
  -o, --output <file>  write to a file instead of standard output
      --no-header      do not print the column header row
  -q, --quiet          no summary on standard error
`;

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
  const aggregator = new KlineCsvAggregator({
    symbol,
    interval: values.interval,
    header: values['no-header'] !== true,
  });
  const out: Writable = values.output === undefined ? process.stdout : createWriteStream(values.output);
  const started = process.hrtime.bigint();
  for await (const chunk of createReadStream(input, { highWaterMark: CHUNK_BYTES })) {
    await write(out, aggregator.push(chunk as Buffer));
  }
  await write(out, aggregator.finish());
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (values.quiet !== true) {
    const s = aggregator.summary();
    process.stderr.write(
      `${s.rows} ${values.interval} klines from ${s.trades} aggTrades in ${elapsedMs.toFixed(0)} ms` +
        ` (dropped ${s.duplicates} duplicate, ${s.late} late; ${s.gaps} id gaps, ${s.missingIds} ids missing)\n`,
    );
  }
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      interval: { type: 'string', short: 'i' },
      symbol: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'no-header': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
