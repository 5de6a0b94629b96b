// Picks the hub transport: uWebSockets.js where its binary loads, else `ws`.
import type { Logger } from '../log/logger.js';
import type { LoadedServerTls } from './hub-tls.js';
import { type HubTransport, TransportError, type TransportLimits } from './transport.js';
import { loadUws, UwsTransport } from './transport-uws.js';
import { WsTransport } from './transport-ws.js';

/** `auto` prefers uWS and falls back to ws (logged); `uws` fails when uWS cannot load. */
export type TransportChoice = 'auto' | 'uws' | 'ws';

/** Builds the chosen transport (speaking TLS when `tls` is given). */
export function createTransport(
  choice: TransportChoice,
  limits: TransportLimits,
  log: Logger,
  tls?: LoadedServerTls,
): HubTransport {
  if (choice === 'ws') return new WsTransport(limits, log.child('ws'), tls);
  if (tls?.ca !== undefined) {
    // uSockets (uWS 20.30) verifies a certificate a peer offers but accepts a peer that offers
    // none, and exposes no certificate to check afterwards: it cannot require peer certificates.
    const reason = 'this uWebSockets.js build cannot require peer certificates (hub.tls.ca)';
    if (choice === 'uws') throw new TransportError('uws', reason);
    log.warn('using ws: mutual TLS asked for', {
      reason,
      hint: 'set hub.tls.peerCertificates to "not-asked" to keep uWS (peers then prove themselves by their keys alone)',
    });
    return new WsTransport(limits, log.child('ws'), tls);
  }
  const uws = loadUws();
  if (uws instanceof Error) {
    if (choice === 'uws') throw uws;
    const cause = uws.cause instanceof Error ? uws.cause.message : String(uws.cause);
    log.warn('uWebSockets.js unavailable, using ws', {
      reason: cause.split('\n')[0],
      node: process.versions.node,
    });
    return new WsTransport(limits, log.child('ws'), tls);
  }
  return new UwsTransport(limits, log.child('uws'), tls);
}
