// Back-pressure: bounds on what a peer may have queued, counting every byte sent to it; snapshot mode and the hard cut.
import type { Logger } from '../../log/logger.js';
import type { ServerMessage } from '../control-messages.js';
import type { HubMetrics } from '../hub-metrics.js';
import { CloseCode } from '../transport.js';
import type { OutboundGuard } from './peer-outbox.js';
import { type PeerSession, type Session, sessionLabel } from './session.js';
import type { Subscriptions } from './subscriptions.js';

/** Back-pressure bounds on a peer's queued bytes, beyond the snapshots it may still be reading. */
export interface BackpressureLimits {
  /** Above this the peer goes to snapshot mode: its deltas and events are dropped. */
  snapshotModeBytes: number;
  /** Above this the peer is disconnected (4413). */
  disconnectBytes: number;
  /** A peer in snapshot mode resumes (with fresh snapshots) once drained below this. */
  resumeBytes: number;
}

/** What back-pressure does to a session, supplied by the hub's other parts. */
export interface BackpressureActions {
  close(session: Session, code: number, reason: string): void;
  send(session: PeerSession, message: ServerMessage): void;
  /** Sends a fresh snapshot of each stream (a resumed peer dropped deltas while paused). */
  resendSnapshots(session: PeerSession, streams: number[]): void;
}

/**
 * Keeps every peer's queue bounded. The queue a peer may have is the snapshots it was sent and has
 * not read yet (at most one per stream: asking again for a stream whose snapshot is still queued
 * waits for the next resume instead) plus `snapshotModeBytes` of anything else; past that it is
 * switched to snapshot mode (taken off its streams, its deltas and events dropped) and resumes with
 * fresh snapshots once it drained below `resumeBytes`; past `disconnectBytes` beyond its snapshots
 * it is disconnected with 4413. Replies, snapshots, events and deltas all count: the outbox asks
 * after every send.
 */
export class Backpressure implements OutboundGuard {
  readonly limits: BackpressureLimits;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  readonly #subscriptions: Subscriptions;
  #actions: BackpressureActions | undefined;

  constructor(limits: BackpressureLimits, metrics: HubMetrics, log: Logger, subscriptions: Subscriptions) {
    this.limits = limits;
    this.#metrics = metrics;
    this.#log = log;
    this.#subscriptions = subscriptions;
  }

  /** Wires what back-pressure does (the data plane and the sessions come after it). */
  actWith(actions: BackpressureActions): void {
    this.#actions = actions;
  }

  afterSend(session: PeerSession): void {
    if (session.closing) return;
    const buffered = session.connection.bufferedAmount();
    const excess = buffered - this.#snapshotBytes(session, buffered);
    if (excess > this.limits.disconnectBytes) {
      this.#cut(session, buffered);
      return;
    }
    if (excess > this.limits.snapshotModeBytes) this.pause(session, buffered);
  }

  refused(session: Session): void {
    // The transport's own limit sits far above ours: reaching it means our bound did not hold.
    this.#log.error('transport refused to queue more for a peer; disconnecting it', {
      peer: sessionLabel(session),
      buffered: session.connection.bufferedAmount(),
    });
    this.#metrics.backpressureDisconnects += 1;
    this.#actions?.close(session, CloseCode.slowConsumer, 'slow consumer');
  }

  /**
   * Whether a snapshot of `stream` may be sent now. When the previous one is still queued, the
   * peer is put in snapshot mode instead, and gets a fresh snapshot when it has drained.
   */
  mayQueueSnapshot(session: PeerSession, stream: number): boolean {
    if (this.#subscriptions.isPaused(session.id)) return false;
    const buffered = session.connection.bufferedAmount();
    this.#snapshotBytes(session, buffered);
    if (!session.snapshotsInFlight.has(stream)) return true;
    this.#metrics.snapshotsDeferred += 1;
    this.pause(session, buffered);
    return false;
  }

  /** Records a snapshot queued for `session` (the allowance it may have queued unread). */
  snapshotQueued(session: PeerSession, stream: number, bytes: number): void {
    session.snapshotsInFlight.set(stream, bytes);
  }

  /** Snapshot mode: the peer leaves its streams' topics and is told. */
  pause(session: PeerSession, buffered: number = session.connection.bufferedAmount()): void {
    if (!this.#subscriptions.pause(session)) return;
    this.#metrics.backpressureSnapshotMode += 1;
    this.#log.warn('slow peer switched to snapshot mode', { peer: session.identity.peer, buffered });
    this.#actions?.send(session, { op: 'mode', mode: 'snapshot', reason: 'backpressure' });
  }

  /** A paused peer that drained goes live again with a fresh snapshot of each of its streams. */
  resumeIfDrained(session: PeerSession): void {
    if (session.closing || !this.#subscriptions.isPaused(session.id)) return;
    const buffered = session.connection.bufferedAmount();
    if (buffered > this.limits.resumeBytes) return;
    session.snapshotsInFlight.clear();
    const streams = this.#subscriptions.resume(session);
    this.#metrics.backpressureResumes += 1;
    this.#log.info('peer drained, back to live', { peer: session.identity.peer, streams: streams.length });
    session.connection.cork(() => {
      this.#actions?.send(session, { op: 'mode', mode: 'live', reason: 'drained' });
      this.#actions?.resendSnapshots(session, streams);
    });
  }

  /** Bytes of unread snapshots the peer is allowed; forgotten once its queue is nearly empty. */
  #snapshotBytes(session: PeerSession, buffered: number): number {
    if (session.snapshotsInFlight.size === 0) return 0;
    if (buffered <= this.limits.resumeBytes) {
      session.snapshotsInFlight.clear();
      return 0;
    }
    let total = 0;
    for (const bytes of session.snapshotsInFlight.values()) total += bytes;
    return total;
  }

  #cut(session: PeerSession, buffered: number): void {
    this.#metrics.backpressureDisconnects += 1;
    this.#log.warn('slow peer disconnected', { peer: session.identity.peer, buffered });
    this.#actions?.close(session, CloseCode.slowConsumer, 'slow consumer');
  }
}
