// Peer authentication: HMAC-SHA256 over the hub's nonce, the peer name and its role.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PeerRole } from './control-messages.js';

/** A fresh random nonce for one connection's `hello` (32 bytes, hex). */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

/** The MAC a peer sends in `auth`: hex HMAC-SHA256(secret, nonce + "\n" + peer + "\n" + role). */
export function authMac(secret: Uint8Array | string, nonce: string, peer: string, role: PeerRole): string {
  return createHmac('sha256', secret).update(`${nonce}\n${peer}\n${role}`).digest('hex');
}

/** Checks a peer's MAC in constant time (for equal lengths; the format check ensures 64 hex digits). */
export function verifyAuthMac(
  secret: Uint8Array | string,
  nonce: string,
  peer: string,
  role: PeerRole,
  mac: string,
): boolean {
  const expected = Buffer.from(authMac(secret, nonce, peer, role), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
