// `tributary download`: fetches data.binance.vision dumps (aggTrades, klines, fundingRate) for backtests, checked and resumable.
import { ArchiveDownloadError, ArchiveDownloader } from '../../ts/binance-archive/archive-downloader.js';
import {
  ARCHIVE_MARKETS,
  type ArchiveKind,
  type ArchiveMarket,
  ArchiveSelectionError,
  archiveFiles,
  DEFAULT_ARCHIVE_URL,
} from '../../ts/binance-archive/archive-paths.js';
import { Logger } from '../../ts/log/logger.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary download --symbols <list> --from <date> [--to <date>] [options]

Downloads data.binance.vision dumps into a folder, ready for \`tributary backtest\`. Each file's
SHA-256 is checked against the .CHECKSUM Binance publishes beside it; a file already there with that
digest is kept; an interrupted download continues from its .part file (HTTP Range). Requests are
paced; 5xx, 429 and 418 (Retry-After honoured) and dropped connections are retried a bounded number
of times, each retry logged. Days the archive does not have (404) are listed as missing.

Options:
      --symbols <list>     comma-separated symbols, e.g. BTCUSDT,ETHUSDT
      --from <date>        first day YYYY-MM-DD (monthly: YYYY-MM)
      --to <date>          last day, included (default: --from)
      --kind <k>           aggTrades (default), klines, or fundingRate (the funding rates
                           Binance applied, monthly, futures only; a backtest charges them)
      --interval <i>       klines interval (default 1m)
      --period <p>         daily (default; monthly for fundingRate) or monthly
      --market <m>         um (USD-M futures, default), cm (COIN-M futures) or spot
  -o, --out <dir>          folder for the files (default data/binance)
      --base-url <url>     archive URL (default TRIBUTARY_ARCHIVE_URL, else ${DEFAULT_ARCHIVE_URL})
      --rate <n>           request starts per second (default 5)
      --attempts <n>       attempts per request (default 5)
`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--${name} must be a positive number, got ${text}`);
  return value;
}

/** Runs `tributary download`; returns the exit code (1 when a file failed). */
export async function runDownload(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      symbols: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      kind: { type: 'string' },
      interval: { type: 'string' },
      period: { type: 'string' },
      market: { type: 'string' },
      out: { type: 'string', short: 'o' },
      'base-url': { type: 'string' },
      rate: { type: 'string' },
      attempts: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.symbols === undefined) throw new UsageError('--symbols is required (e.g. --symbols BTCUSDT)');
  if (values.from === undefined) throw new UsageError('--from is required (e.g. --from 2024-01-01)');
  const kindName = values.kind ?? 'aggTrades';
  let kind: ArchiveKind;
  if (kindName === 'aggTrades') kind = { kind: 'aggTrades' };
  else if (kindName === 'klines') kind = { kind: 'klines', interval: values.interval ?? '1m' };
  else if (kindName === 'fundingRate') kind = { kind: 'fundingRate' };
  else throw new UsageError(`--kind must be aggTrades, klines or fundingRate, got ${kindName}`);
  // An interval with aggTrades was meant for klines: fetching aggTrades instead would be a silent surprise.
  if (kind.kind !== 'klines' && values.interval !== undefined)
    throw new UsageError(
      `--interval is for --kind klines, got --interval ${values.interval} with ${kind.kind}`,
    );
  // Binance publishes funding history only by month: that is the default for it, daily is refused.
  const period = values.period ?? (kind.kind === 'fundingRate' ? 'monthly' : 'daily');
  if (period !== 'daily' && period !== 'monthly')
    throw new UsageError(`--period must be daily or monthly, got ${period}`);
  const market = (values.market ?? 'um') as ArchiveMarket;
  if (!ARCHIVE_MARKETS.includes(market))
    throw new UsageError(`--market must be one of ${ARCHIVE_MARKETS.join(', ')}, got ${values.market}`);
  const attempts = positive('attempts', values.attempts, 5);
  if (!Number.isInteger(attempts))
    throw new UsageError(`--attempts must be a whole number, got ${values.attempts}`);
  let files: ReturnType<typeof archiveFiles>;
  try {
    files = archiveFiles({
      market,
      period,
      kind,
      symbols: values.symbols
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      from: values.from,
      ...(values.to === undefined ? {} : { to: values.to }),
    });
  } catch (error) {
    if (error instanceof ArchiveSelectionError) throw new UsageError(error.message);
    throw error;
  }
  const baseUrl = values['base-url'] ?? process.env.TRIBUTARY_ARCHIVE_URL ?? DEFAULT_ARCHIVE_URL;
  let downloader: ArchiveDownloader;
  try {
    downloader = new ArchiveDownloader({
      baseUrl,
      dir: values.out ?? 'data/binance',
      requestsPerSecond: positive('rate', values.rate, 5),
      maxAttempts: attempts,
      logger: new Logger('download'),
    });
  } catch (error) {
    throw new UsageError(`--base-url: ${error instanceof Error ? error.message : String(error)}`);
  }
  const counts = { downloaded: 0, present: 0, missing: 0, failed: 0 };
  for (const [i, file] of files.entries()) {
    const n = `[${i + 1}/${files.length}]`;
    try {
      const outcome = await downloader.download(file);
      counts[outcome.status] += 1;
      if (outcome.status === 'missing') process.stdout.write(`${n} missing    ${outcome.url} (404)\n`);
      else if (outcome.status === 'present') process.stdout.write(`${n} present    ${outcome.file}\n`);
      else
        process.stdout.write(
          `${n} downloaded ${outcome.file} (${outcome.bytes} bytes${outcome.resumedFrom > 0 ? `, resumed at ${outcome.resumedFrom}` : ''})\n`,
        );
    } catch (error) {
      if (!(error instanceof ArchiveDownloadError)) throw error;
      counts.failed += 1;
      process.stdout.write(`${n} FAILED     ${error.message}\n`);
    }
  }
  process.stdout.write(
    `${counts.downloaded} downloaded, ${counts.present} already present, ${counts.missing} missing, ${counts.failed} failed\n`,
  );
  return counts.failed > 0 ? 1 : 0;
}
