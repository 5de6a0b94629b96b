// The owner's live view keeps answering when one of its sources fails.
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    expect(live.machinesNote).toBeNull();
    expect(live.tradingNote).toBeNull();
  });

  it('shows the rest when this machine cannot be sampled or the trading states cannot be read', async () => {
    const machine = new MachineSampler(tmpdir());
    machine.sample = () => Promise.reject(new Error('EACCES: permission denied, statfs'));
    const live = await gatherOwnerLive(
      sources({
        machine,
        trading: {
          states: () => Promise.reject(new Error('EIO: i/o error, read')),
          command: async () => ({ applied: false }),
        },
        paperTrades: { recent: async () => ({ trades: [], note: 'no paper trades yet' }) },
      }),
    );
    expect(live.machines).toEqual([]);
    expect(live.machinesNote).toBe('this machine could not be sampled: EACCES: permission denied, statfs');
    expect(live.trading).toEqual([]);
    expect(live.tradingNote).toBe('the trading states could not be read: EIO: i/o error, read');
    expect(live.tradesNote).toBe('no paper trades yet');
    expect(live.hub.reachable).toBe(false);
  });

  it('shows a publisher state file that is missing as nothing, and one that cannot be read or parsed with a note', async () => {
    const dir = mkdtempSync(`${tmpdir()}/owner-live-`);
    const missing = await gatherOwnerLive(sources({ publisherStateFile: `${dir}/publisher-state.json` }));
    expect(missing.publisher).toBeNull();
    expect(missing.publisherNote).toBeNull();

    writeFileSync(`${dir}/good.json`, '{"rounds":3}');
    const good = await gatherOwnerLive(sources({ publisherStateFile: `${dir}/good.json` }));
    expect(good.publisher).toEqual({ rounds: 3 });
    expect(good.publisherNote).toBeNull();

    writeFileSync(`${dir}/torn.json`, '{"rounds":');
    const torn = await gatherOwnerLive(sources({ publisherStateFile: `${dir}/torn.json` }));
    expect(torn.publisher).toBeNull();
    expect(torn.publisherNote).toMatch(/^the publisher's state file .*torn\.json is not JSON: /);

    writeFileSync(`${dir}/list.json`, '[1]');
    const list = await gatherOwnerLive(sources({ publisherStateFile: `${dir}/list.json` }));
    expect(list.publisherNote).toMatch(/does not hold a JSON object$/);

    // A folder: it exists, and reading it fails (EISDIR).
    const folder = await gatherOwnerLive(sources({ publisherStateFile: dir }));
    expect(folder.publisher).toBeNull();
    expect(folder.publisherNote).toMatch(/^the publisher's state could not be read: .*EISDIR/);
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
