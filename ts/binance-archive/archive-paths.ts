// The paths of data.binance.vision's public dumps (aggTrades and klines, daily and monthly, spot and futures; futures fundingRate, monthly) for a range of dates.
import { isIntervalName } from '../native/interval.js';

/** Binance's public data archive. */
export const DEFAULT_ARCHIVE_URL = 'https://data.binance.vision';

/** Which market's dumps: USD-M futures (`um`), COIN-M futures (`cm`) or spot. */
export type ArchiveMarket = 'um' | 'cm' | 'spot';
export const ARCHIVE_MARKETS: readonly ArchiveMarket[] = ['um', 'cm', 'spot'];

/** One file a day, or one a calendar month. */
export type ArchivePeriod = 'daily' | 'monthly';

/** What a dump holds: aggregate trades, klines of one interval, or the funding rates Binance applied. */
export type ArchiveKind =
  | { readonly kind: 'aggTrades' }
  | { readonly kind: 'klines'; readonly interval: string }
  | { readonly kind: 'fundingRate' };

/** What to fetch: symbols × dates (days, or months for `monthly`), `from` and `to` included. */
export interface ArchiveSelection {
  readonly market: ArchiveMarket;
  readonly period: ArchivePeriod;
  readonly kind: ArchiveKind;
  readonly symbols: readonly string[];
  /** `YYYY-MM-DD` (daily) or `YYYY-MM` / `YYYY-MM-DD` (monthly: the month of it). */
  readonly from: string;
  /** Same form as `from`; default `from`. */
  readonly to?: string;
}

/** One dump: where it lives under the base URL and what its file is called. */
export interface ArchiveFile {
  readonly symbol: string;
  /** `BTCUSDT-aggTrades-2024-01-01.zip` (the name the backtest reads). */
  readonly fileName: string;
  /** `data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip` (no leading slash). */
  readonly path: string;
  /** The same path with `.CHECKSUM` appended (`<sha256>  <fileName>`). */
  readonly checksumPath: string;
}

/** A selection that names no file: the message says which field and why. */
export class ArchiveSelectionError extends Error {
  override readonly name = 'ArchiveSelectionError';
}

/** Dates are refused past this many files, so a typo in a year does not start 10,000 downloads. */
const MAX_FILES = 100_000;
const DAY_MS = 86_400_000;

function parseDate(field: string, text: string, period: ArchivePeriod): number {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text);
  if (m === null || (period === 'daily' && m[3] === undefined)) {
    throw new ArchiveSelectionError(
      `${field}: ${JSON.stringify(text)} is not a date (${period === 'daily' ? 'YYYY-MM-DD' : 'YYYY-MM'})`,
    );
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = period === 'monthly' ? 1 : Number(m[3]);
  const time = Date.UTC(year, month - 1, day);
  const back = new Date(time);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    throw new ArchiveSelectionError(`${field}: ${text} is not a calendar date`);
  }
  return time;
}

function dateText(time: number, period: ArchivePeriod): string {
  const iso = new Date(time).toISOString();
  return period === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
}

/**
 * The dates of a selection, oldest first (`YYYY-MM-DD` daily, `YYYY-MM` monthly). A date that has
 * not begun at `now` is refused: the archive cannot have it, and listing it as missing hides the typo.
 */
export function archiveDates(period: ArchivePeriod, from: string, to = from, now = Date.now()): string[] {
  const start = parseDate('from', from, period);
  const end = parseDate('to', to, period);
  if (start > now) throw new ArchiveSelectionError(`from: ${from} is in the future`);
  if (end > now) throw new ArchiveSelectionError(`to: ${to} is in the future`);
  if (end < start) throw new ArchiveSelectionError(`to: ${to} is before from ${from}`);
  const dates: string[] = [];
  for (let t = start; t <= end; ) {
    dates.push(dateText(t, period));
    if (dates.length > MAX_FILES) throw new ArchiveSelectionError(`from..to: more than ${MAX_FILES} dates`);
    if (period === 'daily') t += DAY_MS;
    else {
      const d = new Date(t);
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
  return dates;
}

function marketRoot(market: ArchiveMarket): string {
  return market === 'spot' ? 'data/spot' : `data/futures/${market}`;
}

/** Every file of a selection, symbol by symbol, oldest date first. */
export function archiveFiles(selection: ArchiveSelection): ArchiveFile[] {
  if (!ARCHIVE_MARKETS.includes(selection.market))
    throw new ArchiveSelectionError(
      `market: ${selection.market} is not one of ${ARCHIVE_MARKETS.join(', ')}`,
    );
  if (selection.symbols.length === 0) throw new ArchiveSelectionError('symbols: none given');
  const kind = selection.kind;
  // Calendar-month klines are left out: the archive names them `1mo`, not Binance's `1M`.
  if (kind.kind === 'klines' && (!isIntervalName(kind.interval) || kind.interval === '1M'))
    throw new ArchiveSelectionError(`interval: ${kind.interval} is not a fixed kline interval (1m .. 1w)`);
  // Binance publishes funding history per month and for futures only: a daily or spot path is a
  // 404 for every date, which would be listed as missing rather than refused as the mistake it is.
  if (kind.kind === 'fundingRate' && selection.period !== 'monthly')
    throw new ArchiveSelectionError('period: fundingRate is published monthly only (--period monthly)');
  if (kind.kind === 'fundingRate' && selection.market === 'spot')
    throw new ArchiveSelectionError('market: spot has no fundingRate (um or cm)');
  const dates = archiveDates(selection.period, selection.from, selection.to);
  const files: ArchiveFile[] = [];
  for (const [i, symbol] of selection.symbols.entries()) {
    if (!/^[A-Z0-9_]{2,32}$/.test(symbol))
      throw new ArchiveSelectionError(`symbols: ${JSON.stringify(symbol)} is not a symbol name (BTCUSDT)`);
    // Named twice is a typo for another symbol, whose files would be silently left out.
    if (selection.symbols.indexOf(symbol) !== i)
      throw new ArchiveSelectionError(`symbols: ${symbol} is named twice`);
    const root = `${marketRoot(selection.market)}/${selection.period}`;
    const folder =
      kind.kind === 'klines' ? `${root}/klines/${symbol}/${kind.interval}` : `${root}/${kind.kind}/${symbol}`;
    const label = kind.kind === 'klines' ? kind.interval : kind.kind;
    for (const date of dates) {
      const fileName = `${symbol}-${label}-${date}.zip`;
      const path = `${folder}/${fileName}`;
      files.push({ symbol, fileName, path, checksumPath: `${path}.CHECKSUM` });
      if (files.length > MAX_FILES) throw new ArchiveSelectionError(`more than ${MAX_FILES} files selected`);
    }
  }
  return files;
}
