// Turns the alerts gathered for one message into what the owner reads: a title with the worst severity, one line per kind of alert, counts of what was held back.
import { type Alert, type AlertSeverity, severityRank } from './alert.js';

/** One message to a channel: plain text, so it reads the same in a chat, a card or a log line. */
export interface AlertMessage {
  /** The worst severity among its alerts (decides the card's colour). */
  readonly severity: AlertSeverity;
  /** `[CRITICAL] Tributary trader@host: <title>` (or a count when several kinds are in it). */
  readonly title: string;
  /** The body: one line per alert kind, newest details, the held-back count. */
  readonly text: string;
  /** How many alerts it carries. */
  readonly alertCount: number;
  /** How many of them waited for the one-message-a-minute limit. */
  readonly heldBack: number;
}

/** Who sends: names the process in every message, so the owner knows which machine to look at. */
export interface MessageOrigin {
  /** The product name, first word of every title (also a Feishu bot's keyword, if it has one). */
  readonly label: string;
  /** The process (`trader`, `hub`, `supervisor`, `record`). */
  readonly process: string;
  readonly host: string;
}

/** Formatting limits. */
export interface MessageLimits {
  /** Alert kinds listed in full; the rest are summed up in one line. */
  readonly maxKinds: number;
  /** Characters of one detail value (a long error text is cut). */
  readonly maxDetailChars: number;
}

const SEVERITY_WORD: Record<AlertSeverity, string> = {
  info: 'INFO',
  warning: 'WARNING',
  critical: 'CRITICAL',
};

/** `[WARNING]` for a severity. */
export function severityTag(severity: AlertSeverity): string {
  return `[${SEVERITY_WORD[severity]}]`;
}

function detailsText(alert: Alert, maxChars: number): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(alert.details ?? {})) {
    const shown = String(value);
    parts.push(`${name}=${shown.length > maxChars ? `${shown.slice(0, maxChars)}…` : shown}`);
  }
  return parts.join(' ');
}

interface Kind {
  readonly severity: AlertSeverity;
  readonly source: string;
  readonly title: string;
  count: number;
  first: number;
  latest: Alert;
}

/** What happened to the alerts of a message besides being listed. */
export interface BatchCounts {
  /** How many of them waited for the one-message-a-minute limit. */
  readonly heldBack: number;
  /** How many more were raised but not kept (over the pending limit): counted, not listed. */
  readonly unkept: number;
}

/**
 * The message for `alerts` (oldest first, at least one). Alerts of the same source and title are one
 * line with their count and the latest occurrence's details; lines are ordered worst first, then by
 * first occurrence.
 */
export function composeAlertMessage(
  alerts: readonly Alert[],
  counts: BatchCounts,
  origin: MessageOrigin,
  limits: MessageLimits,
): AlertMessage {
  const { heldBack, unkept } = counts;
  const total = alerts.length + unkept;
  const kinds = new Map<string, Kind>();
  for (const alert of alerts) {
    const key = `${alert.severity}\u0000${alert.source}\u0000${alert.title}`;
    const kind = kinds.get(key);
    if (kind === undefined) {
      kinds.set(key, { ...alert, count: 1, first: alert.at, latest: alert });
    } else {
      kind.count += 1;
      kind.latest = alert;
    }
  }
  const ordered = [...kinds.values()].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.first - b.first,
  );
  const worst = ordered[0];
  if (worst === undefined) throw new RangeError('composeAlertMessage needs at least one alert');
  const who = `${origin.label} ${origin.process}@${origin.host}`;
  const title =
    total === 1
      ? `${severityTag(worst.severity)} ${who}: ${worst.title}`
      : `${severityTag(worst.severity)} ${who}: ${total} alerts`;

  const lines: string[] = [];
  for (const kind of ordered.slice(0, limits.maxKinds)) {
    const times = kind.count > 1 ? ` ×${kind.count}` : '';
    const details = detailsText(kind.latest, limits.maxDetailChars);
    const when = new Date(kind.latest.at).toISOString();
    lines.push(
      `${severityTag(kind.severity)} ${kind.title}${times} (${kind.source}, ${kind.count > 1 ? 'latest ' : ''}${when})`,
    );
    if (details !== '') lines.push(`    ${details}`);
  }
  const unlisted = ordered.slice(limits.maxKinds);
  if (unlisted.length > 0) {
    const count = unlisted.reduce((sum, kind) => sum + kind.count, 0);
    lines.push(`… and ${count} more alerts of ${unlisted.length} other kinds (see the log)`);
  }
  const perSeverity = new Map<AlertSeverity, number>();
  for (const kind of ordered)
    perSeverity.set(kind.severity, (perSeverity.get(kind.severity) ?? 0) + kind.count);
  const bySeverity = [...perSeverity].map(([severity, count]) => `${count} ${severity}`).join(', ');
  if (unkept > 0) lines.push(`${unkept} further alerts were not kept for this message (see the log)`);
  if (alerts.length > 1) lines.push(`${alerts.length} alerts listed: ${bySeverity}`);
  if (heldBack > 0) {
    lines.push(`${heldBack} of them held back by the one-message-a-minute limit and summarised here`);
  }
  return { severity: worst.severity, title, text: lines.join('\n'), alertCount: total, heldBack };
}
