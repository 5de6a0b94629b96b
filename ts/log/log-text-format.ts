// Renders one JSON log line as a line for people at a terminal: `time LEVEL component: message key=value ...`.

/** Keys every line has; the rest are the event's fields. */
const HEADER_KEYS = new Set(['time', 'level', 'component', 'msg']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The readable form of a JSON log line (as written by `Logger`, secrets already masked). A line that
 * is not a JSON object is returned as it is.
 */
export function textLogLine(jsonLine: string): string {
  let record: unknown;
  try {
    record = JSON.parse(jsonLine);
  } catch {
    return jsonLine;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return jsonLine;
  const fields = record as Record<string, unknown>;
  const level = String(fields.level ?? '').toUpperCase();
  let line = `${String(fields.time ?? '')} ${level.padEnd(5)} ${String(fields.component ?? '')}: ${String(fields.msg ?? '')}`;
  for (const [key, value] of Object.entries(fields)) {
    if (!HEADER_KEYS.has(key)) line += ` ${key}=${fieldText(value)}`;
  }
  return line;
}
