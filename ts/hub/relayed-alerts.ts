// Alerts carried through the hub: what a peer publishes, what the hub relays to the recorder, and the strict check of both.
import { ALERT_SEVERITIES, type AlertDetail, type AlertSeverity } from '../alerts/alert.js';

/** One alert as a peer publishes it (`alerts.publish`): the alert its process raised, stamped. */
export interface AlertWire {
  /** When it was raised (Unix ms). */
  readonly at: number;
  readonly severity: AlertSeverity;
  /** What raised it, dotted (`risk.close-all`, `hub.peer-silent`, ...). */
  readonly source: string;
  readonly title: string;
  readonly details: Readonly<Record<string, AlertDetail>>;
}

/** An alert as the hub relays it (`alerts`): the publishing peer's name and the hub's sequence number added. */
export interface RelayedAlert extends AlertWire {
  /** Counts relayed alerts from 1 within one hub instance. */
  readonly seq: number;
  /** The peer that raised it, as the hub knows it from its key (the hub's own: `hub`). */
  readonly peer: string;
}

/** Most alerts in one `alerts.publish`. */
export const MAX_ALERTS_PER_MESSAGE = 100;
/** Longest title, detail key and detail text (characters). */
export const MAX_ALERT_TEXT = 1000;
/** Most detail fields of one alert. */
export const MAX_ALERT_DETAILS = 40;

/** Earliest `at` the hub takes (2020-01-01 UTC): a time in seconds reads as January 1970. */
export const MIN_ALERT_AT = Date.UTC(2020, 0, 1);
/** Furthest `at` may be ahead of the hub's clock (ms): a time in µs or ns reads as a far future year. */
export const MAX_ALERT_LEAD_MS = 86_400_000;

const SOURCE = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether `at` is Unix ms between 2020 and a day ahead of `now`: not seconds, µs or ns. */
export function isPlausibleAlertTime(at: number, now: number): boolean {
  return Number.isSafeInteger(at) && at >= MIN_ALERT_AT && at <= now + MAX_ALERT_LEAD_MS;
}

/**
 * Reads the `alerts` field of `alerts.publish`: 1 … 100 alerts, each exactly `at` (Unix ms from
 * 2020 to a day ahead of `now`), `severity`, `source`, `title` and `details` of their shapes.
 * Returns the list or the reason it is refused.
 */
export function parseAlertWires(value: unknown, now: number = Date.now()): AlertWire[] | string {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ALERTS_PER_MESSAGE)
    return `alerts must be a list of 1 … ${MAX_ALERTS_PER_MESSAGE} alerts`;
  const out: AlertWire[] = [];
  for (const [i, item] of value.entries()) {
    const alert = parseAlertWire(item, now);
    if (typeof alert === 'string') return `alerts[${i}]: ${alert}`;
    out.push(alert);
  }
  return out;
}

function parseAlertWire(item: unknown, now: number): AlertWire | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'must be an object';
  const a = item as Record<string, unknown>;
  if (Object.keys(a).sort().join(',') !== 'at,details,severity,source,title')
    return 'must have exactly at, severity, source, title and details';
  const { at, severity, source, title, details } = a;
  // The text carries no numbers, so a forwarder logs one refusal the same way every time.
  if (typeof at !== 'number' || !isPlausibleAlertTime(at, now))
    return 'at must be Unix milliseconds from 2020 to a day ahead of the hub’s clock';
  const level = ALERT_SEVERITIES.find((s) => s === severity);
  if (level === undefined) return `severity must be one of ${ALERT_SEVERITIES.join(', ')}`;
  if (typeof source !== 'string' || !SOURCE.test(source)) return `source must match ${SOURCE.source}`;
  if (typeof title !== 'string' || title.length === 0 || title.length > MAX_ALERT_TEXT)
    return `title must be 1 … ${MAX_ALERT_TEXT} characters`;
  if (typeof details !== 'object' || details === null || Array.isArray(details))
    return 'details must be an object';
  const entries = Object.entries(details);
  if (entries.length > MAX_ALERT_DETAILS) return `details must have at most ${MAX_ALERT_DETAILS} fields`;
  for (const [key, v] of entries) {
    if (key.length === 0 || key.length > MAX_ALERT_TEXT) return 'details keys must be 1 … 1000 characters';
    const ok =
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v)) ||
      (typeof v === 'string' && v.length <= MAX_ALERT_TEXT);
    if (!ok)
      return `details.${key.slice(0, 40)} must be a boolean, a finite number or a text of at most ${MAX_ALERT_TEXT} characters`;
  }
  return { at, severity: level, source, title, details: details as Record<string, AlertDetail> };
}

function clip(text: string): string {
  return text.length <= MAX_ALERT_TEXT ? text : `${text.slice(0, MAX_ALERT_TEXT - 1)}…`;
}

/**
 * An alert as a peer publishes it: the texts clipped to what the hub accepts and the details cut to
 * `MAX_ALERT_DETAILS` fields (the cut ones counted in `detailsLeftOut`), so a long error text never
 * gets the whole alert refused. An `at` the hub would refuse (seconds, µs, a bad clock) becomes
 * `now`, and the time given is kept as the detail `atGiven`: one alert raised with a wrong unit
 * must not get itself and the 99 alerts beside it dropped.
 */
export function toAlertWire(
  alert: {
    at: number;
    severity: AlertSeverity;
    source: string;
    title: string;
    details?: Readonly<Record<string, AlertDetail>> | undefined;
  },
  now: number = Date.now(),
): AlertWire {
  const entries = Object.entries(alert.details ?? {}).filter(
    ([, v]) => typeof v !== 'number' || Number.isFinite(v),
  );
  const at = Math.floor(alert.at);
  const atPlausible = isPlausibleAlertTime(at, now);
  // Room for `atGiven` and `detailsLeftOut`, so the hub's field limit still holds.
  const kept = entries.slice(0, MAX_ALERT_DETAILS - (atPlausible ? 1 : 2));
  const details: Record<string, AlertDetail> = {};
  for (const [k, v] of kept) details[clip(k)] = typeof v === 'string' ? clip(v) : v;
  if (entries.length > kept.length) details.detailsLeftOut = entries.length - kept.length;
  if (!atPlausible) details.atGiven = Number.isFinite(alert.at) ? alert.at : String(alert.at);
  const source = alert.source.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'unknown';
  return {
    at: atPlausible ? at : now,
    severity: alert.severity,
    source,
    title: clip(alert.title) || '(no title)',
    details,
  };
}
