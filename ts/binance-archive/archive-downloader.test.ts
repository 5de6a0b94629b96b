// Tests of the archive downloader against a local server serving data.binance.vision's paths.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { ArchiveDownloadError, ArchiveDownloader, parseChecksum } from './archive-downloader.js';
import { type ArchiveFile, archiveDates, archiveFiles } from './archive-paths.js';
import { ArchiveServer } from './testing/archive-server.js';

/** A zipped aggTrades day of `rows` trades (large enough to be cut mid-body). */
function dayZip(symbol: string, date: string, rows: number): Buffer {
  const lines = ['agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'];
  const start = Date.parse(`${date}T00:00:00Z`);
  for (let i = 0; i < rows; i++) {
    const price = (60_000 + Math.sin(i / 50) * 300 + (i % 7)).toFixed(1);
    lines.push(`${i},${price},0.00${(i % 9) + 1},${i * 3},${i * 3 + 2},${start + i * 800},${i % 3 === 0}`);
  }
  return Buffer.from(zipSync({ [`${symbol}-aggTrades-${date}.csv`]: strToU8(`${lines.join('\n')}\n`) }));
}

let server: ArchiveServer;
let dir: string;

beforeEach(async () => {
  server = await ArchiveServer.start();
  dir = mkdtempSync(join(tmpdir(), 'tributary-download-'));
});
afterEach(async () => {
  await server.close();
});

function downloader(options: Partial<ConstructorParameters<typeof ArchiveDownloader>[0]> = {}) {
  return new ArchiveDownloader({
    baseUrl: server.url,
    dir,
    requestsPerSecond: 200,
    backoffMs: 5,
    maxBackoffMs: 50,
    logger: silentLogger('download'),
    ...options,
  });
}

function one(symbol: string, date: string): ArchiveFile {
  const [file] = archiveFiles({
    market: 'um',
    period: 'daily',
    kind: { kind: 'aggTrades' },
    symbols: [symbol],
    from: date,
  });
  if (file === undefined) throw new Error('no file');
  return file;
}

describe('archive paths', () => {
  it('names USD-M daily and monthly aggTrades and klines files as data.binance.vision does', () => {
    expect(one('BTCUSDT', '2024-02-28').path).toBe(
      'data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-02-28.zip',
    );
    const klines = archiveFiles({
      market: 'um',
      period: 'monthly',
      kind: { kind: 'klines', interval: '1m' },
      symbols: ['ETHUSDT'],
      from: '2023-12',
      to: '2024-02',
    });
    expect(klines.map((f) => f.path)).toEqual([
      'data/futures/um/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2023-12.zip',
      'data/futures/um/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01.zip',
      'data/futures/um/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2024-02.zip',
    ]);
    expect(klines[0]?.checksumPath).toBe(`${klines[0]?.path}.CHECKSUM`);
    const spot = archiveFiles({
      market: 'spot',
      period: 'daily',
      kind: { kind: 'aggTrades' },
      symbols: ['BTCUSDT'],
      from: '2024-01-01',
    });
    expect(spot[0]?.path).toBe('data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip');
    expect(archiveDates('daily', '2024-02-28', '2024-03-01')).toEqual([
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
  });

  it('refuses dates, intervals and symbols that name no file, saying which field', () => {
    expect(() => archiveDates('daily', '2024-02-30')).toThrow(/from: 2024-02-30 is not a calendar date/);
    expect(() => archiveDates('daily', '2024-03-02', '2024-03-01')).toThrow(/to: 2024-03-01 is before/);
    expect(() => archiveDates('daily', '2024-03')).toThrow(/from: "2024-03" is not a date \(YYYY-MM-DD\)/);
    const base = { market: 'um', period: 'daily', from: '2024-01-01' } as const;
    expect(() =>
      archiveFiles({ ...base, kind: { kind: 'klines', interval: '2m' }, symbols: ['BTCUSDT'] }),
    ).toThrow(/interval: 2m/);
    expect(() => archiveFiles({ ...base, kind: { kind: 'aggTrades' }, symbols: ['btc/usdt'] })).toThrow(
      /symbols:/,
    );
  });

  it('refuses dates in the future and a symbol named twice instead of listing them as missing', () => {
    const now = Date.parse('2026-12-06T13:00:00Z');
    expect(() => archiveDates('daily', '2026-12-07', '2026-12-07', now)).toThrow(
      /from: 2026-12-07 is in the future/,
    );
    expect(() => archiveDates('daily', '2026-12-01', '2027-01-01', now)).toThrow(
      /to: 2027-01-01 is in the future/,
    );
    expect(() => archiveDates('monthly', '2027-01', '2027-01', now)).toThrow(
      /from: 2027-01 is in the future/,
    );
    expect(archiveDates('daily', '2026-12-05', '2026-12-06', now)).toEqual(['2026-12-05', '2026-12-06']);
    expect(() =>
      archiveFiles({
        market: 'um',
        period: 'daily',
        kind: { kind: 'aggTrades' },
        symbols: ['BTCUSDT', 'ETHUSDT', 'BTCUSDT'],
        from: '2024-01-01',
      }),
    ).toThrow(/symbols: BTCUSDT is named twice/);
  });

  it('names USD-M and COIN-M fundingRate months as data.binance.vision does, and refuses daily or spot ones', () => {
    const files = archiveFiles({
      market: 'um',
      period: 'monthly',
      kind: { kind: 'fundingRate' },
      symbols: ['BTCUSDT'],
      from: '2024-01',
      to: '2024-02-15',
    });
    expect(files.map((f) => [f.fileName, f.path, f.checksumPath])).toEqual([
      [
        'BTCUSDT-fundingRate-2024-01.zip',
        'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip',
        'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip.CHECKSUM',
      ],
      [
        'BTCUSDT-fundingRate-2024-02.zip',
        'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-02.zip',
        'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-02.zip.CHECKSUM',
      ],
    ]);
    const cm = archiveFiles({
      market: 'cm',
      period: 'monthly',
      kind: { kind: 'fundingRate' },
      symbols: ['BTCUSD_PERP'],
      from: '2024-01',
    });
    expect(cm[0]?.path).toBe(
      'data/futures/cm/monthly/fundingRate/BTCUSD_PERP/BTCUSD_PERP-fundingRate-2024-01.zip',
    );
    const base = { kind: { kind: 'fundingRate' }, symbols: ['BTCUSDT'], from: '2024-01-01' } as const;
    expect(() => archiveFiles({ ...base, market: 'um', period: 'daily' })).toThrow(
      /period: fundingRate is published monthly only/,
    );
    expect(() => archiveFiles({ ...base, market: 'spot', period: 'monthly' })).toThrow(
      /market: spot has no fundingRate/,
    );
  });

  it('reads a CHECKSUM line and refuses one for another file', () => {
    const digest = 'a'.repeat(64);
    expect(parseChecksum(`${digest}  X-aggTrades-2024-01-01.zip\n`, 'X-aggTrades-2024-01-01.zip')).toBe(
      digest,
    );
    expect(() => parseChecksum(`${digest}  Y.zip`, 'X.zip')).toThrow(/names Y.zip/);
    expect(() => parseChecksum('<html>', 'X.zip')).toThrow(/not "<sha256> {2}<file>"/);
  });
});

describe('ArchiveDownloader', () => {
  it('downloads a file whose SHA-256 matches the published checksum, and keeps it on the next run', async () => {
    const file = one('BTCUSDT', '2024-01-01');
    const bytes = dayZip('BTCUSDT', '2024-01-01', 2000);
    server.publish(file.path, bytes);
    const outcome = await downloader().download(file);
    expect(outcome).toMatchObject({ status: 'downloaded', bytes: bytes.length, resumedFrom: 0 });
    expect(readFileSync(join(dir, file.fileName)).equals(bytes)).toBe(true);
    expect(existsSync(join(dir, `${file.fileName}.part`))).toBe(false);
    const again = await downloader().download(file);
    expect(again.status).toBe('present');
    // The second run read the checksum only.
    expect(server.of(file.path)).toHaveLength(1);
    expect(server.of(file.checksumPath)).toHaveLength(2);
  });

  it('resumes a dropped download from its .part with a Range request', async () => {
    const file = one('BTCUSDT', '2024-01-02');
    const bytes = dayZip('BTCUSDT', '2024-01-02', 20_000);
    expect(bytes.length).toBeGreaterThan(50_000);
    server.publish(file.path, bytes);
    server.fault(file.path, { kind: 'cut', afterBytes: 30_000 });
    const outcome = await downloader().download(file);
    expect(outcome.status).toBe('downloaded');
    expect(readFileSync(join(dir, file.fileName)).equals(bytes)).toBe(true);
    const requests = server.of(file.path);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ range: undefined, status: 200 });
    // The second request asks only for what is missing.
    const from = Number(/bytes=(\d+)-/.exec(requests[1]?.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(30_000);
    expect(requests[1]?.status).toBe(206);
  });

  it('resumes a .part left by an earlier run (a killed download), and starts over when the server ignores the range', async () => {
    const file = one('ETHUSDT', '2024-01-03');
    const bytes = dayZip('ETHUSDT', '2024-01-03', 5000);
    server.publish(file.path, bytes);
    writeFileSync(join(dir, `${file.fileName}.part`), bytes.subarray(0, 1234));
    const outcome = await downloader().download(file);
    expect(outcome).toMatchObject({ status: 'downloaded', resumedFrom: 1234 });
    expect(server.of(file.path)[0]).toMatchObject({ range: 'bytes=1234-', status: 206 });
    expect(readFileSync(join(dir, file.fileName)).equals(bytes)).toBe(true);

    const other = one('ETHUSDT', '2024-01-04');
    const otherBytes = dayZip('ETHUSDT', '2024-01-04', 5000);
    server.publish(other.path, otherBytes);
    writeFileSync(join(dir, `${other.fileName}.part`), otherBytes.subarray(0, 999));
    server.fault(other.path, { kind: 'ignore-range' });
    expect((await downloader().download(other)).status).toBe('downloaded');
    expect(readFileSync(join(dir, other.fileName)).equals(otherBytes)).toBe(true);
  });

  it('deletes a part whose checksum does not match and fetches it again; a file that never matches fails, bounded', async () => {
    const file = one('BTCUSDT', '2024-01-05');
    const bytes = dayZip('BTCUSDT', '2024-01-05', 1000);
    server.publish(file.path, bytes);
    server.fault(file.path, { kind: 'corrupt' });
    expect((await downloader().download(file)).status).toBe('downloaded');
    expect(server.of(file.path)).toHaveLength(2);
    expect(
      createHash('sha256')
        .update(readFileSync(join(dir, file.fileName)))
        .digest('hex'),
    ).toBe(createHash('sha256').update(bytes).digest('hex'));

    const bad = one('BTCUSDT', '2024-01-06');
    server.publish(bad.path, bytes, 'f'.repeat(64));
    const error = await downloader({ maxAttempts: 3 })
      .download(bad)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveDownloadError);
    expect(String(error)).toMatch(/gave up after 3 attempts: checksum mismatch/);
    expect(server.of(bad.path)).toHaveLength(3);
    expect(existsSync(join(dir, bad.fileName))).toBe(false);
    expect(existsSync(join(dir, `${bad.fileName}.part`))).toBe(false);
  });

  it("refuses a zip that does not hold exactly its own CSV (two files, or another symbol's), keeping the part", async () => {
    const csv = strToU8('1,60000.0,0.001,1,1,1704067200000,true\n');
    const two = one('BTCUSDT', '2024-01-09');
    server.publish(
      two.path,
      Buffer.from(
        zipSync({ 'BTCUSDT-aggTrades-2024-01-09.csv': csv, 'BTCUSDT-aggTrades-2024-01-10.csv': csv }),
      ),
    );
    const error = await downloader()
      .download(two)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveDownloadError);
    expect(String(error)).toMatch(
      /holds BTCUSDT-aggTrades-2024-01-09\.csv, BTCUSDT-aggTrades-2024-01-10\.csv, not only BTCUSDT-aggTrades-2024-01-09\.csv/,
    );
    // Neither put in place for a backtest to read half of, nor thrown away.
    expect(existsSync(join(dir, two.fileName))).toBe(false);
    expect(existsSync(join(dir, `${two.fileName}.part`))).toBe(true);

    const other = one('BTCUSDT', '2024-01-11');
    server.publish(other.path, Buffer.from(zipSync({ 'ETHUSDT-aggTrades-2024-01-11.csv': csv })));
    await expect(downloader().download(other)).rejects.toThrow(
      /holds ETHUSDT-aggTrades-2024-01-11\.csv, not only BTCUSDT-aggTrades-2024-01-11\.csv/,
    );
    expect(server.of(other.path)).toHaveLength(1);
  });

  it('retries 503s and honours 429 Retry-After; a missing day is reported, not retried', async () => {
    const file = one('BTCUSDT', '2024-01-07');
    const bytes = dayZip('BTCUSDT', '2024-01-07', 500);
    server.publish(file.path, bytes);
    server.fault(file.checksumPath, { kind: 'status', status: 503 }, 2);
    server.fault(file.path, { kind: 'status', status: 429, retryAfterSeconds: 1 });
    const outcome = await downloader().download(file);
    expect(outcome.status).toBe('downloaded');
    expect(server.of(file.checksumPath).map((r) => r.status)).toEqual([503, 503, 200]);
    const [limited, served] = server.of(file.path);
    expect(limited?.status).toBe(429);
    expect((served?.time ?? 0) - (limited?.time ?? 0)).toBeGreaterThanOrEqual(950);

    const missing = one('BTCUSDT', '2019-01-01');
    expect(await downloader().download(missing)).toMatchObject({ status: 'missing' });
    expect(server.of(missing.checksumPath)).toHaveLength(1);

    const banned = one('BTCUSDT', '2024-01-08');
    server.publish(banned.path, bytes);
    server.fault(banned.checksumPath, { kind: 'status', status: 418, retryAfterSeconds: 3600 });
    await expect(downloader().download(banned)).rejects.toThrow(/server asks to wait 3600 s/);
  });

  it('paces request starts to the configured rate', async () => {
    const dates = ['2024-02-01', '2024-02-02', '2024-02-03'];
    const files = dates.map((d) => one('BTCUSDT', d));
    for (const [i, f] of files.entries()) server.publish(f.path, dayZip('BTCUSDT', dates[i] ?? '', 100));
    const d = downloader({ requestsPerSecond: 10 });
    for (const f of files) await d.download(f);
    const times = server.requests.map((r) => r.time);
    expect(times).toHaveLength(6);
    // Six request starts at 10 a second span at least 0.5 s (less a little for timer slack).
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(450);
    expect(statSync(join(dir, files[2]?.fileName ?? '')).size).toBeGreaterThan(0);
  });
});
