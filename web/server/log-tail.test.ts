// The log tail reads the end of a log that grows, is cut or holds absurd lines, and shows only what the file holds.
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';

/** Set by a test: runs right after the tail has taken the file's size (a rotation truncating it). */
const afterStat: { run: (() => void) | undefined } = { run: undefined };

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const stat = handle.stat.bind(handle);
      return Object.assign(handle, {
        stat: async () => {
          const stats = await stat();
          afterStat.run?.();
          return stats;
        },
      });
    },
  };
});

const { tailLines } = await import('./log-tail.js');

describe('tailLines', () => {
  it('shows no bytes the file does not hold when it is truncated while read', async () => {
    const path = `${mkdtempSync(`${tmpdir()}/log-tail-`)}/tributary.log`;
    const line = (i: number) => `{"level":"info","msg":"line ${i}"}`;
    writeFileSync(path, `${Array.from({ length: 1000 }, (_, i) => line(i)).join('\n')}\n`);
    // Cut to its first 10 lines and a half between the size and the read.
    const keep = Buffer.byteLength(`${Array.from({ length: 10 }, (_, i) => line(i)).join('\n')}\n{"lev`);
    afterStat.run = () => truncateSync(path, keep);
    try {
      const lines = await tailLines(path, 5000);
      expect(lines.filter((l) => l.includes('\0'))).toEqual([]);
    } finally {
      afterStat.run = undefined;
    }
  });

  it('says a last line is longer than the window instead of showing nothing', async () => {
    const path = `${mkdtempSync(`${tmpdir()}/log-tail-`)}/tributary.log`;
    writeFileSync(path, `{"level":"info","msg":"before"}\n{"level":"error","msg":"${'x'.repeat(3000)}"}\n`);
    const lines = await tailLines(path, 10, 1000);
    expect(lines).toEqual(['(a log line longer than 1000 bytes is not shown)']);
  });
});
