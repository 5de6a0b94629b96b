// The last lines of a log file, read from its end (a long-running system's log is never read whole).
import { open } from 'node:fs/promises';

/** Reads at most `maxBytes` from the end of `path` and returns its last `lines` complete lines ([] if absent). */
export async function tailLines(path: string, lines: number, maxBytes = 1 << 20): Promise<string[]> {
  if (lines <= 0) return [];
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    // Fewer bytes than the size when the file was truncated (rotated) since: the rest of the
    // buffer is zeros the file never held.
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    const all = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    // The first piece may be a partial line when the file was longer than maxBytes.
    if (length < size) {
      all.shift();
      // A part of a line is not shown (a secret cut in two would escape the masking), but an
      // empty tail would read as a quiet log.
      if (bytesRead > 0 && all.every((l) => l === ''))
        return [`(a log line longer than ${maxBytes} bytes is not shown)`];
    }
    return all.filter((l) => l !== '').slice(-lines);
  } finally {
    await handle.close();
  }
}
