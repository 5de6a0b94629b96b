// Which risk events the owner is alerted to, and how urgently: closes, state changes and stop-loss failures; routine refusals and timeouts stay in the log.
import type { AlertInput, AlertSink } from '../../ts/alerts/alert.js';
import type { RiskEvent, RiskEventLog } from './risk-events.js';

/**
 * The alert for a risk event, or `undefined` for the routine ones (a refused order, a resting order
 * timed out: counted in the status and logged, never messaged). Stop-loss failures and close-all
 * are critical, and so is a close risk asked for that could not be sent (the position stays open);
 * HALTED is critical, REDUCING a warning, back to ACTIVE info; a force-close or a passed stop
 * closed at market is a warning.
 */
export function riskEventAlert(event: RiskEvent): AlertInput | undefined {
  if (event.kind === 'stop-loss-failure') {
    return {
      severity: 'critical',
      source: 'stop-loss.failure',
      title: 'Stop-loss protection failed',
      details: { symbol: event.symbol, positionSide: event.positionSide, detail: event.detail },
    };
  }
  const details = { ...(event.symbol === null ? {} : { symbol: event.symbol }), reason: event.reason };
  switch (event.action) {
    case 'close-all':
      return {
        severity: 'critical',
        source: 'risk.close-all',
        title: 'Closing every position (loss limit)',
        details,
      };
    case 'force-close':
      return {
        severity: 'warning',
        source: 'risk.force-close',
        title: 'Force-closing a losing position',
        details,
      };
    case 'stop-passed':
      return {
        severity: 'warning',
        source: 'risk.stop-passed',
        title: 'A stop was already passed: closed at market',
        details,
      };
    case 'state': {
      const state = event.state;
      const severity = state === 'HALTED' ? 'critical' : state === 'REDUCING' ? 'warning' : 'info';
      return {
        severity,
        source: 'risk.state',
        title: `Trading state is now ${state ?? 'changed'}`,
        details,
      };
    }
    case 'close-unsent':
      return {
        severity: 'critical',
        source: 'risk.close-unsent',
        title: 'A risk close could not be sent',
        details,
      };
    case 'refuse':
    case 'order-timeout':
      return undefined;
  }
}

/** Raises `riskEventAlert` of every event of `events` on `alerts`; returns the unsubscribe function. */
export function alertRiskEvents(events: RiskEventLog, alerts: AlertSink): () => void {
  return events.onEvent((event) => {
    const alert = riskEventAlert(event);
    if (alert !== undefined) alerts.raise(alert);
  });
}
