// The system's log file for `tributary up`: every child's output line, prefixed with its name, appended; rotated once at a size bound.
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Appends lines synchronously (a line is never half-written when `up` is killed) and, past
 * `maxBytes`, renames the file to `<path>.1` (replacing the previous one) and starts a new one,
 * so the log takes at most twice `maxBytes` on disk.
 */
export class LogFile {
  readonly path: string;
  readonly #maxBytes: number;
  #size: number;
  #failures = 0;

  constructor(path: string, maxBytes = 20 * 1024 * 1024) {
    this.path = resolve(path);
    this.#maxBytes = maxBytes;
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      this.#size = statSync(this.path).size;
    } catch {
      this.#size = 0;
    }
  }

  /** Lines that could not be written (a full disk): counted, never thrown into the caller's output path. */
  get failures(): number {
    return this.#failures;
  }

  write(name: string, line: string): void {
    const text = `[${name}] ${line}\n`;
    try {
      if (this.#size + text.length > this.#maxBytes) {
        renameSync(this.path, `${this.path}.1`);
        this.#size = 0;
      }
      appendFileSync(this.path, text, { mode: 0o600 });
      this.#size += Buffer.byteLength(text);
    } catch {
      this.#failures++;
    }
  }
}
