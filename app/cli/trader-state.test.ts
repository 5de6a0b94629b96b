import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RiskEventLog } from '../../trader/risk/risk-events.js';
import { RiskState } from '../../trader/risk/risk-state.js';
import { FileRiskStateStore } from '../../trader/risk/risk-state-store.js';
import { silentLogger } from '../../ts/log/logger.js';
import { runTraderState } from './trader-state.js';
import { UsageError } from './usage-error.js';

function capture(): { text: () => string } {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  return { text: () => out };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('tributary trader state', () => {
  it('switches a running trader and shows its state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-state-cli-'));
    // The trader's side: its risk state polls the command file, as the running trader does.
    const state = new RiskState(
      new FileRiskStateStore(dir),
      new RiskEventLog(silentLogger('e')),
      silentLogger('s'),
      Date.now,
    );
    const poll = setInterval(() => state.pollOwnerCommand(), 50);
    const out = capture();
    try {
      expect(await runTraderState(['HALTED', '--state-dir', dir, '--reason', 'incident 42'])).toBe(0);
      expect(state.state).toBe('HALTED');
      expect(out.text()).toContain('state: HALTED');
      expect(out.text()).toContain('(owner): incident 42');
      expect(await runTraderState(['active', '--state-dir', dir])).toBe(0);
      expect(state.state).toBe('ACTIVE');
      expect(await runTraderState(['--state-dir', dir])).toBe(0);
      expect(out.text()).toMatch(/state: ACTIVE since .* \(owner\)/);
    } finally {
      clearInterval(poll);
    }
  });

  it('keeps the command for a trader that is not running, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-state-cli-'));
    const out = capture();
    expect(await runTraderState(['REDUCING', '--state-dir', dir, '--wait', '0.2'])).toBe(3);
    expect(out.text()).toContain('not applied within 0.2 s');
    // The trader applies it when it starts.
    const state = new RiskState(
      new FileRiskStateStore(dir),
      new RiskEventLog(silentLogger('e')),
      silentLogger('s'),
      Date.now,
    );
    state.pollOwnerCommand();
    expect(state.state).toBe('REDUCING');
  });

  it('refuses an unknown state and reports a folder without a trader', async () => {
    await expect(runTraderState(['PANIC'])).rejects.toBeInstanceOf(UsageError);
    const out = capture();
    expect(await runTraderState(['--state-dir', mkdtempSync(join(tmpdir(), 'tributary-empty-'))])).toBe(1);
    expect(out.text()).toContain('no risk state');
  });
});
