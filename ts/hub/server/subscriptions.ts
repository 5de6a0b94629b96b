// Subscription state in one place: the stream table, the book's native topics and the transport's topics, kept consistent.
import type { HubBook, WireVersion } from '../../native/hub.js';
import { type NormalisedFilter, nativeFilter, type Stream, StreamTable } from '../topic-streams.js';
import type { HubConnection } from '../transport.js';
import type { PeerSession } from './session.js';

/** The transport topic a stream's deltas and periodic snapshots are published on. */
export function topicName(stream: number): string {
  return `s${stream}`;
}

/** What a subscriber holds: its streams, and whether back-pressure has paused it. */
interface Subscriber {
  readonly connection: HubConnection;
  readonly streams: Set<number>;
  paused: boolean;
}

/**
 * The only owner of subscription state. A stream exists in the `StreamTable` exactly while it has
 * subscribers, and then also as a native topic of the book (which numbers and encodes its frames);
 * a subscriber's connection is on a stream's transport topic exactly while it holds the stream and
 * is not paused. Every change goes through here, so the three never disagree.
 */
export class Subscriptions {
  readonly #book: HubBook;
  readonly #streams = new StreamTable();
  readonly #subscribers = new Map<number, Subscriber>();

  constructor(book: HubBook) {
    this.#book = book;
  }

  /**
   * Adds `session` to the stream of `filter` in `wire` (created, with its native topic, when new).
   * Returns the stream, its current seq, whether it was new, and whether the session already
   * held it.
   */
  join(
    session: PeerSession,
    filter: NormalisedFilter,
    wire: WireVersion,
  ): { stream: number; seq: number; created: boolean; again: boolean } {
    const { stream, created } = this.#streams.acquire(filter, wire, session.id);
    if (created) this.#book.addTopic(stream.id, nativeFilter(filter), wire);
    const subscriber = this.#subscriber(session);
    const again = subscriber.streams.has(stream.id);
    subscriber.streams.add(stream.id);
    if (!subscriber.paused) subscriber.connection.subscribe(topicName(stream.id));
    return { stream: stream.id, seq: this.#book.topicSeq(stream.id) ?? 0, created, again };
  }

  /** Takes `sessionId` off `stream`; the stream (and its native topic) goes with its last subscriber. */
  leave(sessionId: number, stream: number): boolean {
    const subscriber = this.#subscribers.get(sessionId);
    if (subscriber === undefined || !subscriber.streams.delete(stream)) return false;
    subscriber.connection.unsubscribe(topicName(stream));
    if (this.#streams.release(stream, sessionId)) this.#book.removeTopic(stream);
    return true;
  }

  /** Everything of a closed session. */
  forget(sessionId: number): void {
    const subscriber = this.#subscribers.get(sessionId);
    if (subscriber === undefined) return;
    for (const stream of [...subscriber.streams]) this.leave(sessionId, stream);
    this.#subscribers.delete(sessionId);
  }

  holds(sessionId: number, stream: number): boolean {
    return this.#subscribers.get(sessionId)?.streams.has(stream) ?? false;
  }

  /** The session's streams (empty for none). */
  streamsOf(sessionId: number): number[] {
    const subscriber = this.#subscribers.get(sessionId);
    return subscriber === undefined ? [] : [...subscriber.streams];
  }

  countOf(sessionId: number): number {
    return this.#subscribers.get(sessionId)?.streams.size ?? 0;
  }

  /** Session ids subscribed to `stream`. */
  subscribersOf(stream: number): ReadonlySet<number> {
    return this.#streams.get(stream)?.subscribers ?? new Set();
  }

  streams(): IterableIterator<Stream> {
    return this.#streams.all();
  }

  /** The seq of the stream's last Delta frame (0 before the first). */
  seq(stream: number): number {
    return this.#book.topicSeq(stream) ?? 0;
  }

  isPaused(sessionId: number): boolean {
    return this.#subscribers.get(sessionId)?.paused ?? false;
  }

  /** Back-pressure: takes the session off its streams' transport topics (its deltas are dropped). */
  pause(session: PeerSession): boolean {
    const subscriber = this.#subscriber(session);
    if (subscriber.paused) return false;
    subscriber.paused = true;
    for (const stream of subscriber.streams) subscriber.connection.unsubscribe(topicName(stream));
    return true;
  }

  /** Puts a paused session back on its streams' topics; returns the streams (each needs a fresh snapshot). */
  resume(session: PeerSession): number[] {
    const subscriber = this.#subscribers.get(session.id);
    if (subscriber === undefined || !subscriber.paused) return [];
    subscriber.paused = false;
    for (const stream of subscriber.streams) subscriber.connection.subscribe(topicName(stream));
    return [...subscriber.streams];
  }

  /** Sessions paused now. */
  pausedCount(): number {
    let paused = 0;
    for (const subscriber of this.#subscribers.values()) if (subscriber.paused) paused += 1;
    return paused;
  }

  #subscriber(session: PeerSession): Subscriber {
    let subscriber = this.#subscribers.get(session.id);
    if (subscriber === undefined) {
      subscriber = { connection: session.connection, streams: new Set(), paused: false };
      this.#subscribers.set(session.id, subscriber);
    }
    return subscriber;
  }
}
