// Number and time formatting for the dashboard: exact decimal strings rounded and grouped as text, never through floats.

/** Rounds a decimal string to `places` fraction digits (half away from zero), exactly, as text. */
export function roundDecimal(value: string, places: number): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (match === null) return value;
  const [, sign = '', whole = '0', fraction = ''] = match;
  if (fraction.length <= places) {
    const padded = fraction.padEnd(places, '0');
    return normalizeZero(`${sign}${whole}${places > 0 ? `.${padded}` : ''}`);
  }
  const kept = `${whole}${fraction.slice(0, places)}`;
  const roundUp = (fraction.charCodeAt(places) ?? 48) >= 53;
  let digits = kept;
  if (roundUp) digits = (BigInt(kept) + 1n).toString().padStart(kept.length, '0');
  const intPart = digits.slice(0, digits.length - places) || '0';
  const fracPart = places > 0 ? `.${digits.slice(digits.length - places)}` : '';
  return normalizeZero(`${sign}${intPart.replace(/^0+(?=\d)/, '')}${fracPart}`);
}

/** "-0.00" is shown as "0.00". */
function normalizeZero(text: string): string {
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** Groups the integer part in thousands: "-1234567.5" → "-1,234,567.5". */
export function groupThousands(value: string): string {
  const [whole = '', fraction] = value.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = sign === '' ? whole : whole.slice(1);
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** Money: two decimals, grouped, with a leading + for gains when `signed`. */
export function formatMoney(value: string | null, signed = false): string {
  if (value === null) return '—';
  const text = groupThousands(roundDecimal(value, 2));
  return signed && !text.startsWith('-') && !/^0(\.0+)?$/.test(text) ? `+${text}` : text;
}

/**
 * A price or quantity exactly (no rounding), grouped, without trailing fraction zeros: the hub's
 * wire carries each record's prices at one scale, so "80045.0" may arrive as "80045.00000000".
 */
export function formatExact(value: string | null): string {
  if (value === null) return '—';
  const trimmed = /^-?\d+\.\d+$/.test(value) ? value.replace(/\.?0+$/, '') : value;
  return groupThousands(trimmed === '-0' ? '0' : trimmed);
}

/** -1, 0 or 1 by a decimal string's sign. */
export function signOf(value: string | null): -1 | 0 | 1 {
  if (value === null) return 0;
  if (/^-?0*(\.0*)?$/.test(value.trim())) return 0;
  return value.trim().startsWith('-') ? -1 : 1;
}

/** `YYYY-MM-DD HH:MM` in UTC. */
export function formatTime(ms: number | null): string {
  if (ms === null) return '—';
  const date = new Date(ms);
  // Past Date's range (±8.64e15 ms) toISOString throws, and the page would show nothing at all.
  if (Number.isNaN(date.getTime())) return '—';
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/** A duration as "3.2 s", "4 min", "2 h", "5 d". */
export function formatAge(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
