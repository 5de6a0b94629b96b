// Writes a small state file so a reader never sees half of it (temporary file, then rename).
import { renameSync, writeFileSync } from 'node:fs';

/** Writes `text` to `path` atomically (same folder temporary file, then rename). */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, path);
}
