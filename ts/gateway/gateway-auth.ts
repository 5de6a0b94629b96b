// Gateway request authentication: HMAC-SHA256 with the peer's own hub key over the method, path, time, peer name and body.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The `Authorization` scheme (the hub's, with the peer name and body hash added). */
export const GATEWAY_AUTH_SCHEME = 'Tributary';

/** How far a request's time may be from the gateway's clock. */
export const GATEWAY_AUTH_WINDOW_MS = 30_000;

/** A peer's credentials: its hub key (`tributary keys`) and the name it uses. */
export interface GatewayCredentials {
  readonly keyId: string;
  readonly secret: string;
  readonly peer: string;
}

/** What a request is signed over. */
export interface SignedRequest {
  readonly method: string;
  /** Path with query string, as sent. */
  readonly path: string;
  readonly body: string;
}

/**
 * The MAC of a request: hex HMAC-SHA256(secret, `<METHOD> <path>\n<time>\n<peer>\n<sha256(body)>`).
 * The body's hash is in it so a captured header cannot carry another order.
 */
export function requestMac(secret: string, request: SignedRequest, timeMs: number, peer: string): string {
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  return createHmac('sha256', secret)
    .update(`${request.method.toUpperCase()} ${request.path}\n${timeMs}\n${peer}\n${bodyHash}`)
    .digest('hex');
}

/** The `Authorization` header value of `request` for `credentials` at `timeMs`. */
export function gatewayAuthorization(
  credentials: GatewayCredentials,
  request: SignedRequest,
  timeMs: number = Date.now(),
): string {
  const mac = requestMac(credentials.secret, request, timeMs, credentials.peer);
  return `${GATEWAY_AUTH_SCHEME} key=${credentials.keyId}, peer=${credentials.peer}, time=${timeMs}, mac=${mac}`;
}

/** The parts of a gateway `Authorization` header. */
export interface GatewayAuthFields {
  readonly key: string;
  readonly peer: string;
  readonly time: number;
  readonly mac: string;
}

/** Reads a gateway `Authorization` header; undefined when it is absent or not one. */
export function parseGatewayAuthorization(header: string | undefined): GatewayAuthFields | undefined {
  if (header === undefined) return undefined;
  const match =
    /^Tributary\s+key=([A-Za-z0-9._-]{1,64}),\s*peer=([A-Za-z0-9._:@-]{1,64}),\s*time=(\d{1,16}),\s*mac=([0-9a-f]{64})\s*$/.exec(
      header,
    );
  if (match === null) return undefined;
  const [, key, peer, time, mac] = match;
  if (key === undefined || peer === undefined || time === undefined || mac === undefined) return undefined;
  return { key, peer, time: Number(time), mac };
}

/** Whether `fields.mac` is the MAC of `request` under `secret` (constant-time comparison). */
export function verifyRequestMac(secret: string, request: SignedRequest, fields: GatewayAuthFields): boolean {
  const expected = Buffer.from(requestMac(secret, request, fields.time, fields.peer), 'hex');
  const given = Buffer.from(fields.mac, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
