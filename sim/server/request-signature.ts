// HMAC-SHA256 request signatures as Binance computes and checks them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmacSha256Hex } from '../../ts/exchange/request-signer.js';

/**
 * Whether `signature` is the HMAC of `payload`. Compared in constant time so the check leaks nothing
 * about how much of a guessed signature was right; hex case is ignored as Binance does.
 */
export function signatureMatches(secret: string, payload: string, signature: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = createHmac('sha256', secret).update(payload, 'utf8').digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * `totalParams` without the `signature` pair: Binance signs the query string concatenated with the
 * body (no `&` between them), exactly as sent, so the pair is cut out of the raw text, not rebuilt.
 */
export function signedPayload(rawQuery: string, rawBody: string): string {
  return withoutSignature(rawQuery) + withoutSignature(rawBody);
}

function withoutSignature(raw: string): string {
  if (raw === '' || !raw.includes('signature=')) return raw;
  return raw
    .split('&')
    .filter((pair) => !pair.startsWith('signature='))
    .join('&');
}

/** `params` form-encoded in order with `signature` appended: a signed request as a client sends it. */
export function signedQuery(secret: string, params: Readonly<Record<string, string | number>>): string {
  const query = new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  return `${query}&signature=${hmacSha256Hex(secret, query)}`;
}
