import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../ts/log/logger.js';
import { type RiskEvent, RiskEventLog } from './risk-events.js';
import { RiskState } from './risk-state.js';
import {
  FileRiskStateStore,
  OWNER_COMMAND_FILE,
  RISK_STATE_FILE,
  writeOwnerCommand,
} from './risk-state-store.js';

function open(dir: string, now = () => 1_000) {
  const events: RiskEvent[] = [];
  const log = new RiskEventLog(silentLogger('events'));
  log.onEvent((e) => events.push(e));
  return { state: new RiskState(new FileRiskStateStore(dir), log, silentLogger('state'), now), events };
}

const dir = () => mkdtempSync(join(tmpdir(), 'tributary-risk-state-'));

describe('RiskState', () => {
  it('starts ACTIVE without a saved state; rules only escalate, the owner sets anything', () => {
    const { state, events } = open(dir());
    expect(state.state).toBe('ACTIVE');
    expect(state.allowsOpening()).toBe(true);
    expect(state.escalate('REDUCING', 'close-all', 'loss')).toBe(true);
    expect(state.allowsOpening()).toBe(false);
    expect(state.allowsReducing()).toBe(true);
    // A rule cannot relax the state, nor "escalate" to where it is.
    expect(state.escalate('ACTIVE', 'x', 'y')).toBe(false);
    expect(state.escalate('REDUCING', 'x', 'y')).toBe(false);
    expect(state.state).toBe('REDUCING');
    expect(state.setByOwner('HALTED', 'maintenance')).toBe(true);
    expect(state.allowsReducing()).toBe(false);
    expect(state.setByOwner('ACTIVE', 'done')).toBe(true);
    expect(events.map((e) => (e.kind === 'risk-action' ? e.reason : ''))).toEqual([
      'ACTIVE → REDUCING (rule): close-all: loss',
      'REDUCING → HALTED (owner): maintenance',
      'HALTED → ACTIVE (owner): done',
    ]);
  });

  it('keeps the state and closes in progress across a restart', () => {
    const where = dir();
    const first = open(where).state;
    first.setByOwner('HALTED', 'owner says stop');
    first.startCloseAll('loss limit');
    first.startForceClose('BTCUSDT', '7 % against');
    const again = open(where, () => 2_000).state;
    expect(again.state).toBe('HALTED');
    expect(again.detail).toMatchObject({ source: 'owner', reason: 'owner says stop', since: 1_000 });
    expect(again.closeAll).toEqual({ since: 1_000, reason: 'loss limit' });
    expect([...again.forceClosing().keys()]).toEqual(['BTCUSDT']);
    again.finishForceClose('BTCUSDT');
    again.finishCloseAll();
    const third = open(where).state;
    expect(third.closeAll).toBeNull();
    expect(third.forceClosing().size).toBe(0);
  });

  it('starts HALTED when the saved state is unreadable, and says why', () => {
    const where = dir();
    writeFileSync(join(where, RISK_STATE_FILE), '{"version":1,"trading":');
    const { state, events } = open(where);
    expect(state.state).toBe('HALTED');
    expect(events[0]?.kind === 'risk-action' && events[0].reason).toContain('unusable');
  });

  it('applies an owner command once, and a newer one again', () => {
    const where = dir();
    const { state } = open(where);
    state.pollOwnerCommand();
    expect(state.state).toBe('ACTIVE');
    writeOwnerCommand(where, { id: 'c1', state: 'REDUCING', reason: 'close out', at: 1 });
    state.pollOwnerCommand();
    expect(state.state).toBe('REDUCING');
    state.escalate('HALTED', 'x', 'y');
    // The same command is not applied twice (it would undo the rule's HALT).
    state.pollOwnerCommand();
    expect(state.state).toBe('HALTED');
    writeOwnerCommand(where, { id: 'c2', state: 'ACTIVE', reason: 'resume', at: 2 });
    state.pollOwnerCommand();
    expect(state.state).toBe('ACTIVE');
    expect(state.snapshot().lastOwnerCommand).toBe('c2');
    // A restarted trader does not apply the last command again either.
    const again = open(where).state;
    again.escalate('REDUCING', 'x', 'y');
    again.pollOwnerCommand();
    expect(again.state).toBe('REDUCING');
  });

  it('ignores a malformed command file (logged), keeping the state', () => {
    const where = dir();
    const { state } = open(where);
    writeFileSync(join(where, OWNER_COMMAND_FILE), '{"id":"x","state":"PANIC","reason":"","at":1}');
    state.pollOwnerCommand();
    expect(state.state).toBe('ACTIVE');
  });
});
