// Parsing Binance request parameters (query string and form body) with Binance's error codes.
import { type Params, SimRejection } from '../contracts.js';

/** Most parameters a Binance request can carry; more is refused as -1101. */
const MAX_PARAMS = 100;
/** Longest name or value accepted; longer is refused as -1100. */
const MAX_FIELD_CHARS = 4096;

/** -1100: a parameter that is not valid percent-encoded UTF-8, or an absurd length. */
export function illegalCharacters(): SimRejection {
  return new SimRejection(400, -1100, 'Illegal characters found in a parameter.');
}

/**
 * Decodes `a=1&b=2` form text into pairs. Malformed percent escapes and invalid UTF-8 are -1100,
 * a repeated name is -1101 (Binance refuses duplicates rather than picking one).
 */
export function parseForm(text: string, into: Map<string, string> = new Map()): Map<string, string> {
  if (text === '') return into;
  const pairs = text.split('&');
  if (pairs.length + into.size > MAX_PARAMS) {
    throw new SimRejection(400, -1101, 'Too many parameters sent for this endpoint.');
  }
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    if (rawName.length > MAX_FIELD_CHARS || rawValue.length > MAX_FIELD_CHARS) throw illegalCharacters();
    const name = decode(rawName);
    const value = decode(rawValue);
    if (name === '') throw illegalCharacters();
    if (into.has(name)) {
      throw new SimRejection(
        400,
        -1101,
        `Duplicate values for a parameter detected: '${name.slice(0, 64)}'.`,
      );
    }
    into.set(name, value);
  }
  return into;
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // A bad escape such as `%zz` or a lone surrogate: the client sent something that is not text.
    throw illegalCharacters();
  }
}

/** The query string and the form body merged into one parameter set (a name in both is -1101). */
export function mergeParams(rawQuery: string, rawBody: string): Params {
  const merged = parseForm(rawBody, parseForm(rawQuery));
  return Object.freeze(Object.fromEntries(merged));
}
