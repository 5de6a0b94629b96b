// The hub's options and their defaults (docs/protocol.md gives the same numbers).
import type { Logger } from '../../log/logger.js';
import type { HubServerTls } from '../hub-tls.js';
import type { BudgetLimits } from '../peer-budget.js';
import type { KeyRing } from '../peer-keys.js';
import type { TransportChoice } from '../transport-select.js';
import type { BackpressureLimits } from './backpressure.js';

/** Options of {@link HubServer.start}. */
export interface HubServerOptions {
  /** The keys peers authenticate with (a watched key file's ring, or one built in memory). */
  keys: KeyRing;
  /** Default `127.0.0.1` (loopback). */
  host?: string;
  /** Default 0 (any free port; read {@link HubServer.port}). */
  port?: number;
  /** Default `auto`: uWebSockets.js where it loads, else ws. */
  transport?: TransportChoice;
  /**
   * TLS files: with them the hub speaks TLS only (and with a CA, requires peers' certificates);
   * without them it accepts plain connections from loopback addresses only.
   */
  tls?: HubServerTls;
  /** The symbol registry at start (a universe collector may replace the active list later). */
  symbols?: readonly string[];
  /** Bars kept per (symbol, interval); default 45. */
  klineWindow?: number;
  logger?: Logger;
  /** A connection must authenticate within this; default 5,000 ms. */
  authTimeoutMs?: number;
  /** The hub sends `heartbeat` this often; default 5,000 ms. */
  heartbeatMs?: number;
  /** A peer silent for this long is closed (4408); default 3 heartbeats. */
  idleTimeoutMs?: number;
  /** Full snapshots of every stream this often, for reconciliation; 0 turns them off. Default 30,000 ms. */
  snapshotIntervalMs?: number;
  /** Largest message the hub processes; a bigger one is refused and counted (`oversized`). Default 4 MiB. */
  maxMessageBytes?: number;
  /** Transport limit: a bigger message closes the connection (1009). Default 16 MiB + 4 KiB. */
  maxPayloadBytes?: number;
  backpressure?: Partial<BackpressureLimits>;
  /** Per-peer flood budget. Default 5,000 messages/s, 64 MiB/s, 2 s burst. */
  budget?: Partial<BudgetLimits>;
  /** Refused (over-budget) messages per second after which a peer is disconnected (4429). Default 1,000. */
  floodDisconnectPerSecond?: number;
  /** Streams one subscriber may hold; default 64. */
  maxStreamsPerPeer?: number;
}

/** 1 MiB. */
export const MIB = 1024 * 1024;

/** The limits of {@link HubServerOptions} with their defaults applied. */
export function limitsOf(options: HubServerOptions) {
  const maxMessageBytes = options.maxMessageBytes ?? 4 * MIB;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  return {
    maxMessageBytes,
    maxPayloadBytes: Math.max(options.maxPayloadBytes ?? 16 * MIB + 4096, maxMessageBytes + 1024),
    heartbeatMs,
    idleTimeoutMs: options.idleTimeoutMs ?? 3 * heartbeatMs,
    authTimeoutMs: options.authTimeoutMs ?? 5_000,
    backpressure: {
      snapshotModeBytes: options.backpressure?.snapshotModeBytes ?? 4 * MIB,
      disconnectBytes: options.backpressure?.disconnectBytes ?? 64 * MIB,
      resumeBytes: options.backpressure?.resumeBytes ?? 256 * 1024,
    },
    budget: {
      messagesPerSecond: options.budget?.messagesPerSecond ?? 5_000,
      bytesPerSecond: options.budget?.bytesPerSecond ?? 64 * MIB,
      burstSeconds: options.budget?.burstSeconds ?? 2,
    },
    floodDisconnectPerSecond: options.floodDisconnectPerSecond ?? 1_000,
  };
}
