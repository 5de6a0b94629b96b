// Keeps secrets out of the logs: fields with a secret's name, and every registered secret value wherever it appears in a line.

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Field names (lower case, letters and digits only) whose value is always a secret. */
const SECRET_NAMES = new Set([
  'key',
  'mac',
  'authorization',
  'cookie',
  'credential',
  'credentials',
  'passphrase',
]);

/** Endings of field names whose value is a secret (`apiKey`, `hubSecret`, `peer_token`, `x-mbx-apikey`). */
const SECRET_ENDINGS = [
  'secret',
  'password',
  'token',
  'apikey',
  'privatekey',
  'secretkey',
  'peerkey',
  'listenkey',
  'signature',
];

/** Whether a field called `name` holds a secret (compared without case, `_` or `-`). */
export function isSecretFieldName(name: string): boolean {
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_NAMES.has(plain) || SECRET_ENDINGS.some((ending) => plain.endsWith(ending));
}

/**
 * Secrets shorter than this are not masked by value: masking every "ab" in every line would garble
 * the logs and hide nothing (such a value is guessed faster than read). Fields with a secret's name
 * are masked whatever their length.
 */
export const MIN_MASKED_SECRET_LENGTH = 8;

/** Every form a registered secret may take in a JSON line, longest first. */
const secretForms: string[] = [];

/**
 * Registers a secret value (an API key or secret, the hub secret, a peer's key, a listenKey): from
 * now on every log line of this process has it masked, wherever it appears — a field, a nested
 * object, a message, an error text. Call it as soon as the secret is read.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_MASKED_SECRET_LENGTH) return;
  // As written, as escaped inside a JSON string, and as escaped inside a URL.
  for (const form of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) {
    if (!secretForms.includes(form)) secretForms.push(form);
  }
  secretForms.sort((a, b) => b.length - a.length);
}

/** `line` with every registered secret replaced by `[redacted]`. */
export function maskSecretValues(line: string): string {
  let masked = line;
  for (const form of secretForms) {
    if (masked.includes(form)) masked = masked.replaceAll(form, REDACTED);
  }
  return masked;
}

/** Nesting deeper than this is cut (a log field is a small record, never a graph). */
const MAX_DEPTH = 8;

/**
 * A copy of a log record with the value of every secret-named field replaced, at any depth, and
 * errors turned into plain `{ type, message, stack }` records (whose texts the value mask then sees).
 */
export function redactFields(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) {
    return redactFields({ type: value.name, message: value.message, stack: value.stack }, depth);
  }
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = isSecretFieldName(key) && item !== undefined ? REDACTED : redactFields(item, depth + 1);
  }
  return copy;
}
