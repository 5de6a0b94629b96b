// Alerts as the store keeps them: every process's, relayed by the hub, and the recorder's own.
import type { Alert } from '../ts/alerts/alert.js';
import type { RelayedAlert } from '../ts/hub/relayed-alerts.js';
import type { AlertRecord } from '../ts/store/store-records.js';

/**
 * The store's row of an alert raised by process `peer`: keyed by the process, the time it was
 * raised (an alerter never stamps two alike) and what raised it (`risk.close-all`, ...), so the
 * same alert relayed twice (a replay after a reconnect) is one row.
 */
export function alertRecord(peer: string, alert: Alert | RelayedAlert): AlertRecord {
  return {
    time: alert.at,
    severity: alert.severity,
    source: peer,
    kind: alert.source,
    message: alert.title,
    details: JSON.stringify(alert.details ?? {}),
  };
}
