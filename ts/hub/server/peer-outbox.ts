// Every byte the hub sends a peer goes through here: counted, and checked against back-pressure after each send.
import type { ReplyMessage, ServerMessage } from '../control-messages.js';
import type { HubMetrics } from '../hub-metrics.js';
import type { PeerSession, Session } from './session.js';

/** What the outbox asks after each send to an authenticated peer. */
export interface OutboundGuard {
  /** The peer's queue grew: switch it to snapshot mode or cut it when past the bounds. */
  afterSend(session: PeerSession): void;
  /** The transport refused to queue more for an open connection (its own hard limit). */
  refused(session: Session): void;
}

/**
 * Sends JSON messages and binary frames to one session and counts them. Replies, snapshots, events
 * and pushes all come through here, so back-pressure sees every byte, not only published deltas.
 */
export class PeerOutbox {
  readonly #metrics: HubMetrics;
  #guard: OutboundGuard | undefined;

  constructor(metrics: HubMetrics) {
    this.#metrics = metrics;
  }

  /** Wires the back-pressure guard (it needs the outbox itself, so it comes after construction). */
  guardWith(guard: OutboundGuard): void {
    this.#guard = guard;
  }

  /** Sends one control message. */
  text(session: Session, message: ServerMessage): void {
    const text = JSON.stringify(message);
    this.#sent(session, session.connection.sendText(text), Buffer.byteLength(text));
  }

  /** Sends the reply to request `id` (a push when `id` is undefined). */
  reply(session: Session, id: number | undefined, message: ReplyMessage): void {
    this.text(session, id === undefined ? message : { ...message, id });
  }

  /** Sends one binary frame (a snapshot) to one peer. */
  frame(session: PeerSession, frame: Uint8Array): void {
    this.#sent(session, session.connection.sendBinary(frame), frame.length);
  }

  /**
   * Sends the chunk frames of one snapshot back to back, and asks back-pressure once they are all
   * queued: asked after the first chunk, it could see the socket drained and forget the
   * snapshot's allowance while the rest is still to come.
   */
  frames(session: PeerSession, frames: readonly Uint8Array[]): void {
    for (const frame of frames) {
      if (session.closing) return;
      if (!session.connection.sendBinary(frame)) {
        if (session.connection.isOpen && !session.closing) this.#guard?.refused(session);
        return;
      }
      this.#count(session, frame.length);
    }
    this.#guard?.afterSend(session);
  }

  /** Counts a frame the transport published to `session` through a topic, and checks its queue. */
  published(session: PeerSession, bytes: number): void {
    this.#count(session, bytes);
    this.#guard?.afterSend(session);
  }

  #sent(session: Session, accepted: boolean, bytes: number): void {
    if (!accepted) {
      if (session.connection.isOpen && !session.closing) this.#guard?.refused(session);
      return;
    }
    this.#count(session, bytes);
    if (session.state === 'ready') this.#guard?.afterSend(session);
  }

  #count(session: Session, bytes: number): void {
    session.traffic.messagesOut += 1;
    session.traffic.bytesOut += bytes;
    this.#metrics.messagesOut += 1;
    this.#metrics.bytesOut += bytes;
  }
}
