// A connection's state from accept to close: pending (not authenticated) or a peer (authenticated), as a union.
import type { PeerAgent, PeerRole } from '../control-messages.js';
import type { PeerBudget } from '../peer-budget.js';
import type { HubConnection } from '../transport.js';

/** Traffic counters of one connection. */
export interface Traffic {
  messagesIn: number;
  bytesIn: number;
  /** Binary messages received: the `frame` index an `error` names is this count at arrival. */
  binaryIn: number;
  messagesOut: number;
  bytesOut: number;
}

/** Input policing state of one connection (see `InputPolice`). */
export interface Policing {
  readonly budget: PeerBudget;
  /** Over-budget messages in the current one-second window (flood detection). */
  refusedWindowStart: number;
  refusedInWindow: number;
  /** `error` messages sent in the current one-second window, and those held back since the last one sent. */
  errorWindowStart: number;
  errorsInWindow: number;
  errorsSuppressed: number;
}

/** What every connection has, authenticated or not. */
interface ConnectionState {
  /** The transport's connection id (unique for the life of the process). */
  readonly id: number;
  readonly connection: HubConnection;
  readonly connectedAt: number;
  lastSeen: number;
  /** The hub decided to close it: nothing more it sends is processed. */
  closing: boolean;
  readonly traffic: Traffic;
  readonly policing: Policing;
}

/**
 * A connection that has not authenticated: it has the nonce of its `hello` and nothing else. It
 * has no name, role or key, so it cannot subscribe, ingest or appear as a peer.
 */
export interface PendingSession extends ConnectionState {
  readonly state: 'pending';
  readonly nonce: string;
  readonly authTimer: NodeJS.Timeout;
}

/** Who an authenticated peer is: the name it asked for, and the role and key id its key gives. */
export interface PeerIdentity {
  readonly peer: string;
  /** Stable for the name while the hub runs; credited as the source of its Ingest frames. */
  readonly peerId: number;
  readonly role: PeerRole;
  readonly key: string;
  /** Collector kind, shown in status. */
  readonly kind: string | undefined;
  /** What the peer said of its process (host, version, Node, start time), if anything. */
  readonly agent: PeerAgent | undefined;
}

/**
 * An authenticated peer. Its subscriptions live in `Subscriptions`, its slots in the `SlotTable`,
 * its event subscription in the `EventRelay`: each kept in one place, keyed by the session id.
 */
export interface PeerSession extends ConnectionState {
  readonly state: 'ready';
  readonly identity: PeerIdentity;
  ingestFrames: number;
  /** The peer's own counters as it last reported them (full status only). */
  report: Record<string, unknown> | null;
  reportedAt: number | null;
  /** Bytes of the latest snapshot sent per stream that the peer may not have read yet (back-pressure). */
  readonly snapshotsInFlight: Map<number, number>;
}

export type Session = PendingSession | PeerSession;

/** The label a log line uses for a session: its peer name, or its remote address while pending. */
export function sessionLabel(session: Session): string {
  return session.state === 'ready' ? session.identity.peer : session.connection.remoteAddress;
}
