// Replacing a small file so that a crash leaves the old content or the new one, never a mix or nothing.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `text` as the whole of `path`: a temporary file in the same folder, fsynced, renamed over
 * `path`, then the folder fsynced so the rename itself survives a power loss. Owner-only (0600):
 * these files hold a process's state (journals, claims, risk state). Throws what the file system
 * throws; the temporary file is left for the next write to replace.
 */
export function replaceFileDurably(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
