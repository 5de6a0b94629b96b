// Whose records the dashboard shows and which strategy it names, from the configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../ts/config/load-config.js';
import { dashboardScope, dashboardStrategies, recordedMode } from './record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function loaded(config: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-dashboard-scope-'));
  dirs.push(dir);
  const file = join(dir, 'tributary.json');
  writeFileSync(file, JSON.stringify(config));
  return loadConfig(file, { BINANCE_API_KEY: 'k', BINANCE_API_SECRET: 's' });
}

describe('the dashboard of a configuration', () => {
  it('shows the simulator account marked paper and names the demo for paper traders without a strategy', () => {
    const config = loaded({});
    expect(recordedMode(config)).toBe('paper');
    expect(dashboardScope(config, [0])).toEqual({ mode: 'paper', account: 'main' });
    expect(dashboardStrategies(config, [0])).toEqual(['demo']);
    expect(dashboardStrategies(config, [])).toEqual([]);
  });

  it('names the configured strategy, and none for traders that run none', () => {
    expect(dashboardStrategies(loaded({ trader: { strategy: 'bollinger' } }), [0, 1])).toEqual(['bollinger']);
    expect(dashboardStrategies(loaded({ trader: { strategy: 'none' } }), [0])).toEqual([]);
  });

  it('keeps a paper trader beside a real exchange in its own scope', () => {
    const config = loaded({ exchange: { kind: 'binance' }, trader: { mode: 'paper' } });
    expect(recordedMode(config)).toBe('live');
    expect(dashboardScope(config, [2])).toEqual({ mode: 'paper', account: 'paper-2' });
  });
});
