// Reads a data file (CSV, or a data.binance.vision .zip holding one) in chunks of whole lines, never the whole file at once.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Unzip, UnzipInflate } from 'fflate';

const READ = 1 << 20;

/** A source of raw bytes, read in order. */
interface ByteSource {
  /**
   * The next raw bytes, or null at the end; with `before`, a buffer that starts with a copy of it
   * (a file reads straight behind it, so the 1 MiB chunk is never copied to join a partial line).
   */
  read(before?: Uint8Array): Uint8Array | null;
  /** Bytes of the file read so far. */
  readonly fileBytes: number;
  close(): void;
}

class FileBytes implements ByteSource {
  readonly #fd: number;
  fileBytes = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
  }

  read(before?: Uint8Array): Uint8Array | null {
    const head = before?.length ?? 0;
    const buf = Buffer.allocUnsafe(head + READ);
    if (before !== undefined && head > 0) buf.set(before, 0);
    const n = readSync(this.#fd, buf, head, READ, null);
    this.fileBytes += n;
    return n === 0 ? null : buf.subarray(0, head + n);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** The first file of a zip archive, inflated as it is read (fflate's streaming unzip). */
class ZipBytes implements ByteSource {
  readonly #file: FileBytes;
  readonly #out: Uint8Array[] = [];
  readonly #unzip = new Unzip();
  #ended = false;
  #taken = false;

  get fileBytes(): number {
    return this.#file.fileBytes;
  }

  constructor(path: string) {
    this.#file = new FileBytes(path);
    this.#unzip.register(UnzipInflate);
    this.#unzip.onfile = (entry) => {
      if (this.#taken) return; // data.binance.vision zips hold one CSV
      this.#taken = true;
      entry.ondata = (error, data) => {
        if (error !== null) throw error;
        if (data.length > 0) this.#out.push(data);
      };
      entry.start();
    };
  }

  read(before?: Uint8Array): Uint8Array | null {
    while (this.#out.length === 0 && !this.#ended) {
      const raw = this.#file.read();
      if (raw === null) {
        this.#unzip.push(new Uint8Array(0), true);
        this.#ended = true;
        // Not a zip, or one holding nothing: saying so beats reporting a run over no data.
        if (!this.#taken) throw new Error('no file in the zip (not a zip archive, or an empty one)');
      } else this.#unzip.push(raw);
    }
    const next = this.#out.shift();
    if (next === undefined) return null;
    return before === undefined || before.length === 0 ? next : Buffer.concat([before, next]);
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * Chunks of whole lines from a `.csv` or `.zip` file: each `next()` returns a buffer ending with a
 * complete line (the partial last line is kept for the next chunk), null at the end. `progress`
 * (`bytesRead`) counts the file's bytes read, for progress reports.
 */
export class LineChunkReader {
  readonly size: number;
  readonly #source: ByteSource;
  #carry: Uint8Array = new Uint8Array(0);
  #done = false;
  /** The last chunk returned ends with a line the file did not end (a cut download's last row). */
  unterminated = false;

  constructor(path: string) {
    this.size = statSync(path).size;
    this.#source = path.toLowerCase().endsWith('.zip') ? new ZipBytes(path) : new FileBytes(path);
  }

  /** Bytes of the file (compressed, for a zip) read so far. */
  get bytesRead(): number {
    return this.#source.fileBytes;
  }

  next(): Buffer | null {
    while (!this.#done) {
      const raw = this.#source.read(this.#carry.length === 0 ? undefined : this.#carry);
      if (raw === null) {
        this.#done = true;
        this.#source.close();
        if (this.#carry.length === 0) return null;
        const last = Buffer.concat([this.#carry, Buffer.from('\n')]);
        this.#carry = new Uint8Array(0);
        this.unterminated = true;
        return last;
      }
      // The source put the carried partial line in front of what it read.
      const joined = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
      const cut = joined.lastIndexOf(10);
      if (cut < 0) {
        this.#carry = joined;
        continue;
      }
      this.#carry = joined.subarray(cut + 1);
      return Buffer.from(joined.buffer, joined.byteOffset, cut + 1);
    }
    return null;
  }
}
