// Downloads data.binance.vision dumps: SHA-256 checked against the published .CHECKSUM, resumed by HTTP Range from a .part file, paced, retried a bounded number of times.
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Logger } from '../log/logger.js';
import type { ArchiveFile } from './archive-paths.js';
import { RequestPacer } from './request-pacer.js';

/** How the downloader behaves; every field has a default. */
export interface ArchiveDownloaderOptions {
  /** Base URL of the archive (default https://data.binance.vision); a local mirror in tests. */
  readonly baseUrl: string;
  /** Folder the files are written to (flat: `<dir>/<fileName>`). */
  readonly dir: string;
  /** Request starts per second (default 5). */
  readonly requestsPerSecond?: number;
  /** Attempts per request (default 5): transport errors, 5xx, 429/418 and checksum mismatches count. */
  readonly maxAttempts?: number;
  /** First back-off, doubled per attempt up to `maxBackoffMs` (default 1000 / 30000). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A Retry-After longer than this fails the file instead of waiting (default 10 minutes). */
  readonly maxRetryAfterMs?: number;
  /** A connection silent this long is dropped and the download resumed (default 30 s). */
  readonly idleTimeoutMs?: number;
  readonly logger?: Logger;
  /** Waits (tests pass a fast one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What became of one file. */
export type DownloadOutcome =
  /** Fetched (wholly or the rest of a .part) and its checksum matched. */
  | {
      readonly status: 'downloaded';
      readonly file: string;
      readonly bytes: number;
      readonly resumedFrom: number;
    }
  /** Already on disk with the published checksum: nothing fetched. */
  | { readonly status: 'present'; readonly file: string; readonly bytes: number }
  /** The archive has no such file (404: a day before the listing, or not published yet). */
  | { readonly status: 'missing'; readonly file: string; readonly url: string };

/** A file that could not be had within the bounds; the message says what failed last. */
export class ArchiveDownloadError extends Error {
  override readonly name = 'ArchiveDownloadError';
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${message}`, options);
  }
}

/** A .CHECKSUM body that is not `<64 hex>  <file name>`. */
export class ChecksumFormatError extends Error {
  override readonly name = 'ChecksumFormatError';
}

/** Parses a .CHECKSUM file (`sha256sum` output) for `fileName`; returns the lowercase hex digest. */
export function parseChecksum(body: string, fileName: string): string {
  const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$/.exec(body.trim());
  if (m === null)
    throw new ChecksumFormatError(`not "<sha256>  <file>": ${JSON.stringify(body.slice(0, 120))}`);
  if (m[2] !== fileName) throw new ChecksumFormatError(`names ${m[2]}, expected ${fileName}`);
  return (m[1] as string).toLowerCase();
}

/** SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The end-of-central-directory record's signature (PK 05 06). */
const ZIP_END = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
/** A central-directory entry's signature (PK 01 02). */
const ZIP_ENTRY = 0x02014b50;

/**
 * The names of a zip file's entries, read from its central directory (nothing is inflated, so a
 * monthly dump is not read whole); `zip64` when the directory is in the zip64 form this does not
 * read, `[]` when no directory is found (not a zip).
 */
export function zipEntryNames(path: string): string[] | 'zip64' {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // The end record (22 bytes) is followed by a comment of at most 65,535 bytes.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    readSync(fd, tail, 0, tailLength, size - tailLength);
    const end = tail.lastIndexOf(ZIP_END);
    if (end < 0 || end + 22 > tail.length) return [];
    const count = tail.readUInt16LE(end + 10);
    const dirSize = tail.readUInt32LE(end + 12);
    const dirOffset = tail.readUInt32LE(end + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) return 'zip64';
    if (dirOffset + dirSize > size) return [];
    const dir = Buffer.alloc(dirSize);
    readSync(fd, dir, 0, dirSize, dirOffset);
    const names: string[] = [];
    for (let at = 0, i = 0; i < count; i++) {
      if (at + 46 > dir.length || dir.readUInt32LE(at) !== ZIP_ENTRY) return [];
      const nameLength = dir.readUInt16LE(at + 28);
      names.push(dir.toString('utf8', at + 46, at + 46 + nameLength));
      at += 46 + nameLength + dir.readUInt16LE(at + 30) + dir.readUInt16LE(at + 32);
    }
    return names;
  } finally {
    closeSync(fd);
  }
}

/** A failure worth another attempt, with how long the server asked us to wait. */
class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** A status that says the file is not there. */
class NotFound extends Error {
  override readonly name = 'NotFound';
}

function retryAfter(res: IncomingMessage): number | undefined {
  const raw = res.headers['retry-after'];
  if (raw === undefined) return undefined;
  if (/^\d{1,7}$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Fetches archive files one after another. For each: the published `.CHECKSUM` first; a file
 * already on disk with that digest is kept; otherwise the bytes go to `<file>.part`, resumed with
 * `Range: bytes=<size>-` when a part is there (a server that ignores the range starts it over);
 * the finished part is hashed and renamed into place only when the digest matches (a mismatch
 * deletes it and counts as a failed attempt). Requests are paced (`requestsPerSecond`), 429 and
 * 418 honour Retry-After, and every retry is bounded and logged.
 */
export class ArchiveDownloader {
  readonly #o: Required<Omit<ArchiveDownloaderOptions, 'logger' | 'sleep'>>;
  readonly #log: Logger;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #pacer: RequestPacer;
  readonly #base: URL;

  constructor(options: ArchiveDownloaderOptions) {
    this.#o = {
      baseUrl: options.baseUrl,
      dir: options.dir,
      requestsPerSecond: options.requestsPerSecond ?? 5,
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      backoffMs: options.backoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 600_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    };
    this.#base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:')
      throw new RangeError(`base URL must be http or https, got ${options.baseUrl}`);
    this.#log = options.logger ?? new Logger('download');
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#pacer = new RequestPacer(this.#o.requestsPerSecond, Date.now, this.#sleep);
  }

  /** The URL of an archive path. */
  url(path: string): string {
    return new URL(path, this.#base).toString();
  }

  /** Downloads one file (see the class); throws `ArchiveDownloadError` when the bounds run out. */
  async download(file: ArchiveFile): Promise<DownloadOutcome> {
    mkdirSync(this.#o.dir, { recursive: true });
    const target = join(this.#o.dir, file.fileName);
    const part = `${target}.part`;
    const checksumUrl = this.url(file.checksumPath);
    const dataUrl = this.url(file.path);
    let expected: string;
    try {
      const body = await this.#withRetries(checksumUrl, () => this.#getText(checksumUrl));
      expected = parseChecksum(body, file.fileName);
    } catch (error) {
      if (error instanceof NotFound) return { status: 'missing', file: target, url: dataUrl };
      if (error instanceof ChecksumFormatError)
        throw new ArchiveDownloadError(checksumUrl, error.message, { cause: error });
      throw error;
    }
    if (existsSync(target)) {
      const have = await sha256File(target);
      if (have === expected) return { status: 'present', file: target, bytes: statSync(target).size };
      this.#log.warn('file on disk does not match the published checksum; fetching it again', {
        file: target,
        expected,
        have,
      });
      unlinkSync(target);
    }
    const resumedFrom = existsSync(part) ? statSync(part).size : 0;
    try {
      await this.#withRetries(dataUrl, async () => {
        await this.#getToPart(dataUrl, part);
        const have = await sha256File(part);
        if (have === expected) return;
        unlinkSync(part);
        throw new RetryableError(
          `checksum mismatch (expected ${expected}, got ${have}); part deleted`,
          undefined,
        );
      });
    } catch (error) {
      if (error instanceof NotFound) return { status: 'missing', file: target, url: dataUrl };
      throw error;
    }
    // The checksum comes from the same server: a mirror's zip holding two days, or another symbol's
    // day, would match it, and a backtest reads the first CSV of a zip under the zip's name. Such a
    // file is not put in place (nor deleted: the part is kept to look at).
    const names = zipEntryNames(part);
    const csv = file.fileName.replace(/\.zip$/, '.csv');
    if (names !== 'zip64' && (names.length !== 1 || names[0] !== csv)) {
      const holds = names.length === 0 ? 'no readable zip directory' : names.join(', ');
      this.#log.warn('archive file does not hold its own CSV; not put in place', {
        file: part,
        holds,
        expected: csv,
      });
      throw new ArchiveDownloadError(dataUrl, `holds ${holds}, not only ${csv}; kept as ${part}`);
    }
    renameSync(part, target);
    const bytes = statSync(target).size;
    this.#log.info('downloaded', { file: file.fileName, bytes, resumedFrom, sha256: expected });
    return { status: 'downloaded', file: target, bytes, resumedFrom };
  }

  async #withRetries<T>(url: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.#pacer.turn();
      try {
        return await run();
      } catch (error) {
        if (error instanceof NotFound) throw error;
        const retryable = error instanceof RetryableError || !(error instanceof ArchiveDownloadError);
        const message = error instanceof Error ? error.message : String(error);
        if (!retryable) throw error;
        if (attempt >= this.#o.maxAttempts) {
          throw new ArchiveDownloadError(url, `gave up after ${attempt} attempts: ${message}`, {
            cause: error,
          });
        }
        const asked = error instanceof RetryableError ? error.retryAfterMs : undefined;
        if (asked !== undefined && asked > this.#o.maxRetryAfterMs) {
          throw new ArchiveDownloadError(
            url,
            `server asks to wait ${Math.round(asked / 1000)} s (more than ${this.#o.maxRetryAfterMs / 1000} s): ${message}`,
            { cause: error },
          );
        }
        const backoff = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (attempt - 1));
        const wait = Math.max(backoff, asked ?? 0);
        if (asked !== undefined) this.#pacer.holdUntil(Date.now() + asked);
        this.#log.warn('download attempt failed; retrying', {
          url,
          attempt,
          maxAttempts: this.#o.maxAttempts,
          waitMs: wait,
          error: message,
        });
        await this.#sleep(wait);
      }
    }
  }

  /** GET, resolving with the response once its status is known; statuses that are not 2xx become errors. */
  #request(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
    const transport = url.startsWith('https:') ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.get(
        url,
        { headers: { 'user-agent': 'tributary-download', ...headers } },
        (res) => {
          const status = res.statusCode ?? 0;
          if ((status >= 200 && status < 300) || status === 416) {
            // The caller reads the body; a silent connection is dropped there too.
            res.setTimeout(this.#o.idleTimeoutMs, () => res.destroy(new Error('connection idle; dropped')));
            resolve(res);
            return;
          }
          res.resume();
          if (status === 404 || status === 403) reject(new NotFound(`HTTP ${status}`));
          else if (status === 429 || status === 418 || status >= 500)
            reject(new RetryableError(`HTTP ${status}`, retryAfter(res)));
          else reject(new ArchiveDownloadError(url, `HTTP ${status}`));
        },
      );
      req.setTimeout(this.#o.idleTimeoutMs, () => req.destroy(new Error('no answer; dropped')));
      req.on('error', reject);
    });
  }

  async #getText(url: string): Promise<string> {
    const res = await this.#request(url, {});
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) {
        res.destroy();
        throw new ArchiveDownloadError(url, 'checksum file larger than 64 KiB');
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Appends the rest of `url` to `part` (or writes it anew when the server sends it whole). */
  async #getToPart(url: string, part: string): Promise<void> {
    const have = existsSync(part) ? statSync(part).size : 0;
    const res = await this.#request(url, have > 0 ? { range: `bytes=${have}-` } : {});
    const status = res.statusCode ?? 0;
    if (status === 416) {
      // Nothing after `have`: the part is whole (or longer than the file; the checksum decides).
      res.resume();
      return;
    }
    let append = false;
    if (status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
      if (range === null || Number(range[1]) !== have) {
        res.destroy();
        unlinkSync(part);
        throw new RetryableError(
          `server answered range ${res.headers['content-range'] ?? '(none)'} for bytes=${have}-; part deleted`,
          undefined,
        );
      }
      append = true;
    } else if (have > 0) {
      this.#log.info('server sent the whole file instead of the rest; starting the part over', { url, have });
    }
    const expectedLength = Number(res.headers['content-length'] ?? Number.NaN);
    const before = append ? have : 0;
    await saveBody(res, part, append);
    const got = statSync(part).size - before;
    if (Number.isFinite(expectedLength) && got !== expectedLength)
      throw new RetryableError(`body ended after ${got} of ${expectedLength} bytes`, undefined);
  }
}

/**
 * Writes a response body to `part` (appending or anew). Every chunk that arrived is on disk before
 * a cut connection is reported, so the next try resumes from all of it: the chunks are taken as they
 * arrive and the file is ended, not destroyed (a stream pipeline destroys both sides on a cut, and
 * the response's unread and the file's unwritten chunks are lost).
 */
function saveBody(res: IncomingMessage, part: string, append: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
    let failure: Error | undefined;
    out.on('error', (error) => {
      failure ??= error;
      res.destroy();
    });
    res.on('data', (chunk: Buffer) => out.write(chunk));
    res.on('error', (error) => {
      failure ??= error;
    });
    res.on('close', () => {
      if (!res.complete) failure ??= new RetryableError('connection closed before the body ended', undefined);
      out.end(() => (failure === undefined ? resolve() : reject(failure)));
    });
  });
}
