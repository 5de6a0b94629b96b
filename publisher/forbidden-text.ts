// Text that must never appear in a published byte (secrets, keys, internal hosts and addresses), and the scan for it.

/** One forbidden string with a label that can be logged (the label, never the text). */
export interface ForbiddenText {
  readonly label: string;
  readonly text: string;
}

/**
 * Secrets shorter than this are not looked for: a two-letter "secret" matches everywhere and
 * protects nothing (the logger's redaction draws the same line).
 */
export const MIN_FORBIDDEN_LENGTH = 6;

/** The first forbidden string found in `body` (as UTF-8 text), or undefined. */
export function findForbidden(
  body: Uint8Array,
  forbidden: readonly ForbiddenText[],
): ForbiddenText | undefined {
  const text = new TextDecoder().decode(body);
  return forbidden.find((f) => f.text.length >= MIN_FORBIDDEN_LENGTH && text.includes(f.text));
}

/**
 * The forbidden strings of an address: the URL as written, its `host:port`, and the host itself
 * unless it is a bare loopback name too common to be a leak (`localhost`).
 */
export function forbiddenAddress(label: string, url: string): ForbiddenText[] {
  const out: ForbiddenText[] = [{ label, text: url }];
  try {
    const parsed = new URL(url);
    out.push({ label: `${label} host:port`, text: parsed.host });
    if (parsed.hostname !== 'localhost') out.push({ label: `${label} host`, text: parsed.hostname });
  } catch {
    // Not a URL: the text as written is all there is to look for.
  }
  return out;
}
