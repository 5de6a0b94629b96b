// Peer authentication: HMAC-SHA256 with the peer's own key over the hub's nonce (websocket) or a time (HTTP).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A nonce for one connection's `hello` (32 random bytes, hex). */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The MAC a peer sends in `auth`: hex HMAC-SHA256 keyed with its key's secret (the secret's UTF-8
 * bytes, as written) over `nonce + "\n" + keyId + "\n" + peer`.
 */
export function authMac(secret: string, nonce: string, keyId: string, peer: string): string {
  return createHmac('sha256', secret).update(`${nonce}\n${keyId}\n${peer}`).digest('hex');
}

/** Compares two hex MACs in constant time (for equal lengths; both come from format-checked hex). */
function sameMac(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/** Checks a peer's `auth` MAC. */
export function verifyAuthMac(
  secret: string,
  nonce: string,
  keyId: string,
  peer: string,
  mac: string,
): boolean {
  return sameMac(authMac(secret, nonce, keyId, peer), mac);
}

/** The HTTP authentication scheme of the full status document. */
export const STATUS_AUTH_SCHEME = 'Tributary';

/** How far an HTTP request's time may be from the hub's clock. */
export const STATUS_AUTH_WINDOW_MS = 30_000;

/** The MAC of an authenticated HTTP request: hex HMAC-SHA256(secret, `GET <path>\n<time>`). */
export function httpMac(secret: string, path: string, timeMs: number): string {
  return createHmac('sha256', secret).update(`GET ${path}\n${timeMs}`).digest('hex');
}

/**
 * The `Authorization` header value for `GET <path>` (the full status): the key id, the time
 * (Unix ms) and the MAC of both. The secret never travels.
 */
export function statusAuthorization(
  key: { id: string; secret: string },
  path: string,
  timeMs: number = Date.now(),
): string {
  return `${STATUS_AUTH_SCHEME} key=${key.id}, time=${timeMs}, mac=${httpMac(key.secret, path, timeMs)}`;
}

/** The parts of an `Authorization: Tributary key=…, time=…, mac=…` header. */
export interface HttpCredentials {
  key: string;
  time: number;
  mac: string;
}

/** Reads an `Authorization` header of the {@link STATUS_AUTH_SCHEME}; undefined when it is not one. */
export function parseStatusAuthorization(header: string | undefined): HttpCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^Tributary\s+key=([A-Za-z0-9._-]{1,64}),\s*time=(\d{1,16}),\s*mac=([0-9a-f]{64})\s*$/.exec(
    header,
  );
  if (match === null) return undefined;
  const [, key, time, mac] = match;
  if (key === undefined || time === undefined || mac === undefined) return undefined;
  return { key, time: Number(time), mac };
}

/** Checks the MAC of an HTTP request's credentials (the time window is the caller's). */
export function verifyHttpMac(secret: string, path: string, credentials: HttpCredentials): boolean {
  return sameMac(httpMac(secret, path, credentials.time), credentials.mac);
}
