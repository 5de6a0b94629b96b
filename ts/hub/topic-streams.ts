// Subscription streams: one stream per distinct normalised filter, shared by its subscribers.
import { randomInt } from 'node:crypto';
import type { TopicFilter, TopicKind, WireVersion } from '../native/hub.js';
import { INTERVALS, type IntervalName } from '../native/interval.js';
import { ControlError, type SubscriptionRequest, TOPIC_KINDS } from './control-messages.js';
import type { SymbolDirectory } from './symbol-directory.js';

/** A filter in canonical form: sorted lists, `null` for "every". */
export interface NormalisedFilter {
  symbols: number[] | null;
  kinds: TopicKind[] | null;
  intervals: IntervalName[] | null;
}

/** The canonical key of a filter: equal filters, however written, have equal keys. */
export function filterKey(filter: NormalisedFilter): string {
  return JSON.stringify([filter.symbols, filter.kinds, filter.intervals]);
}

/** The native form of a filter. */
export function nativeFilter(filter: NormalisedFilter): TopicFilter {
  const native: TopicFilter = {};
  if (filter.symbols !== null) native.symbols = filter.symbols;
  if (filter.kinds !== null) native.kinds = filter.kinds;
  if (filter.intervals !== null) native.intervals = filter.intervals;
  return native;
}

/**
 * Resolves a subscription's symbol names to ids and sorts every list; a list naming every kind or
 * every interval becomes `null` ("every"), so it shares the stream of `'*'`. An unknown symbol is
 * a `unknown_symbol` {@link ControlError}.
 */
export function normaliseFilter(
  request: SubscriptionRequest,
  directory: SymbolDirectory,
  id?: number,
): NormalisedFilter {
  let symbols: number[] | null = null;
  if (request.symbols !== '*') {
    const ids = new Set<number>();
    for (const name of request.symbols) {
      const symbolId = directory.id(name);
      if (symbolId === undefined) throw new ControlError('unknown_symbol', `unknown symbol ${name}`, id);
      ids.add(symbolId);
    }
    symbols = [...ids].sort((a, b) => a - b);
  }
  const kinds = request.kinds === '*' ? null : TOPIC_KINDS.filter((k) => request.kinds.includes(k));
  const intervals = request.intervals === '*' ? null : INTERVALS.filter((i) => request.intervals.includes(i));
  return {
    symbols,
    kinds: kinds === null || kinds.length === TOPIC_KINDS.length ? null : kinds,
    intervals: intervals === null || intervals.length === INTERVALS.length ? null : intervals,
  };
}

/** One subscription stream. */
export interface Stream {
  readonly id: number;
  readonly key: string;
  readonly filter: NormalisedFilter;
  /** The Delta frame encoding of its frames (its subscribers asked for it). */
  readonly wire: WireVersion;
  /** Session ids of the subscribers. */
  readonly subscribers: Set<number>;
}

/**
 * The streams of one hub instance: one per distinct normalised filter and wire version (the
 * same filter in two encodings is two streams, each with its own seq). Ids start at a random
 * base and only grow, so a stream id is never reused within an instance and a client that
 * reconnects to a restarted hub does not mistake a new stream for the one its book followed
 * before.
 */
export class StreamTable {
  readonly #byKey = new Map<string, Stream>();
  readonly #byId = new Map<number, Stream>();
  #nextId = randomInt(1, 2 ** 31);

  /** The stream of `filter` in `wire` with `subscriber` added; `created` when the stream is new. */
  acquire(
    filter: NormalisedFilter,
    wire: WireVersion,
    subscriber: number,
  ): { stream: Stream; created: boolean } {
    const key = `${filterKey(filter)}/${wire}`;
    let stream = this.#byKey.get(key);
    const created = stream === undefined;
    if (stream === undefined) {
      const id = this.#nextId;
      this.#nextId = this.#nextId >= 0xffff_fffe ? 1 : this.#nextId + 1;
      stream = { id, key, filter, wire, subscribers: new Set() };
      this.#byKey.set(key, stream);
      this.#byId.set(id, stream);
    }
    stream.subscribers.add(subscriber);
    return { stream, created };
  }

  /** Removes `subscriber`; returns true when the stream lost its last subscriber and is gone. */
  release(streamId: number, subscriber: number): boolean {
    const stream = this.#byId.get(streamId);
    if (stream === undefined || !stream.subscribers.delete(subscriber)) return false;
    if (stream.subscribers.size > 0) return false;
    this.#byId.delete(streamId);
    this.#byKey.delete(stream.key);
    return true;
  }

  get(streamId: number): Stream | undefined {
    return this.#byId.get(streamId);
  }

  all(): IterableIterator<Stream> {
    return this.#byId.values();
  }

  get size(): number {
    return this.#byId.size;
  }
}
