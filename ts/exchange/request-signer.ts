// HMAC-SHA256 request signing for Binance signed endpoints, over the exact bytes that are sent.
import { createHmac } from 'node:crypto';

/** Request parameters in the order they are sent; `undefined` values are left out. */
export type RequestParams = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * Encodes parameters as `application/x-www-form-urlencoded` in insertion order. Values are
 * percent-encoded, and the signature is computed over this same string, so what is signed is
 * exactly what is sent.
 */
export function encodeParams(params: RequestParams): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.join('&');
}

/** Hex HMAC-SHA256 of `payload` with `secret` (Binance's `signature` parameter). */
export function hmacSha256Hex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

/** The parts of a signed request as sent: query string and form body, `signature` last. */
export interface SignedPayload {
  readonly query: string;
  readonly body: string;
}

/**
 * Signs requests with one API secret. The secret lives in a private field so it never appears in
 * logs, JSON or inspection of the client.
 */
export class RequestSigner {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  /** Signature of `totalParams` = query string concatenated with the body (Binance's rule). */
  signature(query: string, body = ''): string {
    return hmacSha256Hex(this.#secret, query + body);
  }

  /**
   * Appends `signature` as the last parameter of the body when there is one, else of the query.
   */
  sign(query: string, body: string): SignedPayload {
    const signature = this.signature(query, body);
    if (body.length > 0) return { query, body: `${body}&signature=${signature}` };
    return { query: query.length > 0 ? `${query}&signature=${signature}` : `signature=${signature}`, body };
  }

  /** Never reveal the secret through `JSON.stringify` or `util.inspect`. */
  toJSON(): string {
    return 'RequestSigner(***)';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'RequestSigner(***)';
  }
}
