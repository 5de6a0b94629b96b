// Which risk events reach the owner, and how urgently.
import { describe, expect, it } from 'vitest';
import { riskEventAlert } from './risk-alerts.js';
import type { RiskEvent } from './risk-events.js';

const at = 0;

describe('riskEventAlert', () => {
  it('grades closes, passed stops and stop-loss failures', () => {
    const action = (a: 'close-all' | 'force-close' | 'stop-passed'): RiskEvent => ({
      kind: 'risk-action',
      action: a,
      symbol: a === 'close-all' ? null : 'BTCUSDT',
      reason: 'why',
      at,
    });
    expect(riskEventAlert(action('close-all'))).toEqual({
      severity: 'critical',
      source: 'risk.close-all',
      title: 'Closing every position (loss limit)',
      details: { reason: 'why' },
    });
    expect(riskEventAlert(action('force-close'))).toMatchObject({
      severity: 'warning',
      details: { symbol: 'BTCUSDT' },
    });
    expect(riskEventAlert(action('stop-passed'))?.severity).toBe('warning');
    expect(
      riskEventAlert({ kind: 'risk-action', action: 'close-unsent', symbol: 'BTCUSDT', reason: 'why', at }),
    ).toEqual({
      severity: 'critical',
      source: 'risk.close-unsent',
      title: 'A risk close could not be sent',
      details: { symbol: 'BTCUSDT', reason: 'why' },
    });
    expect(
      riskEventAlert({
        kind: 'stop-loss-failure',
        symbol: 'ETHUSDT',
        positionSide: 'BOTH',
        detail: 'not confirmed',
        at,
      }),
    ).toEqual({
      severity: 'critical',
      source: 'stop-loss.failure',
      title: 'Stop-loss protection failed',
      details: { symbol: 'ETHUSDT', positionSide: 'BOTH', detail: 'not confirmed' },
    });
  });

  it('grades a state change by the state it moved to', () => {
    const state = (s: 'ACTIVE' | 'REDUCING' | 'HALTED'): RiskEvent => ({
      kind: 'risk-action',
      action: 'state',
      symbol: null,
      reason: `x → ${s}`,
      at,
      state: s,
    });
    expect(riskEventAlert(state('HALTED'))).toMatchObject({
      severity: 'critical',
      title: 'Trading state is now HALTED',
    });
    expect(riskEventAlert(state('REDUCING'))?.severity).toBe('warning');
    expect(riskEventAlert(state('ACTIVE'))?.severity).toBe('info');
  });

  it('keeps refusals and order timeouts out of the alerts', () => {
    for (const action of ['refuse', 'order-timeout'] as const) {
      expect(
        riskEventAlert({ kind: 'risk-action', action, symbol: 'BTCUSDT', reason: 'r', at }),
      ).toBeUndefined();
    }
  });
});
