// Picks the hub transport: uWebSockets.js where its binary loads, else `ws`.
import type { Logger } from '../log/logger.js';
import type { HubTransport, TransportLimits } from './transport.js';
import { loadUws, UwsTransport } from './transport-uws.js';
import { WsTransport } from './transport-ws.js';

/** `auto` prefers uWS and falls back to ws (logged); `uws` fails when uWS cannot load. */
export type TransportChoice = 'auto' | 'uws' | 'ws';

/** Builds the chosen transport. */
export function createTransport(choice: TransportChoice, limits: TransportLimits, log: Logger): HubTransport {
  if (choice === 'ws') return new WsTransport(limits, log.child('ws'));
  const uws = loadUws();
  if (uws instanceof Error) {
    if (choice === 'uws') throw uws;
    const cause = uws.cause instanceof Error ? uws.cause.message : String(uws.cause);
    log.warn('uWebSockets.js unavailable, using ws', { reason: cause.split('\n')[0] });
    return new WsTransport(limits, log.child('ws'));
  }
  return new UwsTransport(limits, log.child('uws'));
}
