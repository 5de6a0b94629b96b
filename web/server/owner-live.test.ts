// The owner's live view keeps answering when one of its sources fails.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MachineSampler } from './machine-stats.js';
import { gatherOwnerLive, type OwnerSources } from './owner-live.js';

function sources(overrides: Partial<OwnerSources>): OwnerSources {
  const dir = mkdtempSync(`${tmpdir()}/owner-live-`);
  return {
    hubStatus: async () => ({ ok: false, error: 'hub down' }),
    machine: new MachineSampler(dir),
    config: {},
    secrets: {},
    logFile: undefined,
    logLines: 10,
    trading: { states: async () => [], command: async () => ({ applied: false }) },
    paperTrades: { recent: async () => ({ trades: [], note: null }) },
    publisherStateFile: undefined,
    ...overrides,
  };
}

describe('gatherOwnerLive', () => {
  it('shows the rest when the store or the log file cannot be read, saying which', async () => {
    const live = await gatherOwnerLive(
      sources({
        paperTrades: {
          recent: () => Promise.reject(new Error('SQLITE_BUSY: database is locked')),
        },
        // A folder: opening it works, reading it fails (EISDIR).
        logFile: tmpdir(),
      }),
    );
    expect(live.trades).toEqual([]);
    expect(live.tradesNote).toBe('paper trades could not be read: SQLITE_BUSY: database is locked');
    expect(live.logs.at(-1)).toMatch(/^the log file could not be read: /);
    expect(live.hub.reachable).toBe(false);
    expect(live.machines).toHaveLength(1);
  });

  it('reports the disk of a state root that does not exist yet (the traders create it)', async () => {
    const dir = mkdtempSync(`${tmpdir()}/owner-live-`);
    const sample = await new MachineSampler(`${dir}/not/yet`).sample();
    const parent = await new MachineSampler(dir).sample();
    expect(sample.diskPath).toBe(`${dir}/not/yet`);
    expect(sample.diskTotal).toBe(parent.diskTotal);
    expect(sample.diskTotal).toBeGreaterThan(0);
  });
});
