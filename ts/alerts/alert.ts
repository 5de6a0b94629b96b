// What an alert is (severity, source, title, details) and the one-method interface processes raise alerts through.

/** How urgently the owner should look, lowest first. */
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Rank of a severity (info 0 … critical 2), to find the worst of a batch. */
export function severityRank(severity: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(severity);
}

/** A detail value: what the owner reads beside the title (symbols, amounts as exact strings, counts). */
export type AlertDetail = string | number | boolean;

/** An alert as raised by a component. */
export interface AlertInput {
  readonly severity: AlertSeverity;
  /**
   * What raised it, dotted (`risk.close-all`, `stop-loss.failure`, `exchange.ban`,
   * `records.reconciliation`): alerts of one source and title are counted together in a message.
   */
  readonly source: string;
  /** One line saying what happened, without the varying numbers (those go in `details`). */
  readonly title: string;
  /** The numbers and names of this occurrence. Never put a secret here. */
  readonly details?: Readonly<Record<string, AlertDetail>>;
}

/** An alert as the alerter keeps it: stamped with the time it was raised. */
export interface Alert extends AlertInput {
  /** Epoch milliseconds. */
  readonly at: number;
}

/**
 * Where components raise alerts: the narrow interface a process is handed (by `app/`, the
 * composition root) so it never depends on how or where alerts are delivered. `raise` never throws
 * and never waits: delivery happens in the background, rate-limited, with a log fallback.
 */
export interface AlertSink {
  raise(alert: AlertInput): void;
}

/**
 * Where every alert a process raises can be watched, stamped (the `Alerter`): for carrying them to
 * the records store (through the hub, or the recorder's own store writer).
 */
export interface AlertFeed {
  onAlert(listener: (alert: Alert) => void): () => void;
}
