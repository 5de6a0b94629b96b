// The `gateway` section: the order gateway that lets redundant traders place one order per signal (or split it), where it listens and how it places.
import { z } from 'zod';
import {
  expecting,
  flag,
  integer,
  oneOf,
  type SectionSettings,
  section,
  text,
  url,
} from './config-fields.js';

/**
 * `first`: the first trader to send a signal's order has it placed, whole; the same order from the
 * other traders is answered with that order (DESIGN.md 6, seed 000's `take_open`). `split`: every
 * member places its own 1/N share of its order.
 */
export const GATEWAY_MODES = ['first', 'split'] as const;

/** The `gateway` section. */
export const gatewaySection = section({
  enabled: flag()
    .default(false)
    .describe(
      'Route the orders of live and testnet traders through the gateway; `tributary up` then starts it',
    ),
  host: text().default('127.0.0.1').describe('Address the gateway listens on (loopback by default)'),
  port: integer(0, 65_535).default(7710).describe('Port the gateway listens on'),
  url: url(['http', 'https'])
    .optional()
    .describe('Where traders reach the gateway; derived from host, port and tls when absent'),
  tls: flag()
    .default(false)
    .describe(
      "HTTPS with the fleet's certificates in hub.tls: the gateway presents hub.tls.cert and asks traders for theirs (when hub.tls.peerCertificates is required); traders trust only hub.tls.ca. Without it the gateway serves loopback only",
    ),
  mode: oneOf(GATEWAY_MODES)
    .default('first')
    .describe('first: one order per signal, whoever sends it first; split: each member trades 1/N'),
  members: z
    .array(text(), { error: expecting('a list of peer names') })
    .default([])
    .describe(
      'split mode: the traders sharing each order, in order (their peer names, e.g. trader-0); N is their number',
    ),
  claimLog: text()
    .default('.tributary/gateway/claims.jsonl')
    .describe('The durable claim log (append-only, fsynced): claims survive a restart'),
  placeWithinMs: integer(1000, 3_600_000)
    .default(60_000)
    .describe(
      'A claimed signal is placed only within this long of its claim (also after a restart); later it expires, unplaced',
    ),
  retentionMs: integer(60_000, 90 * 86_400_000)
    .default(7 * 86_400_000)
    .describe('Claims older than this are dropped from the log when the gateway starts'),
  requestTimeoutMs: integer(1000, 600_000)
    .default(30_000)
    .describe('How long a trader waits for one gateway answer before asking again (same order id)'),
});

export type GatewaySettings = SectionSettings<typeof gatewaySection>;

/** Where traders reach the gateway. */
export function gatewayUrl(settings: Pick<GatewaySettings, 'url' | 'host' | 'port' | 'tls'>): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return settings.url ?? `${settings.tls ? 'https' : 'http'}://${host}:${settings.port}`;
}
