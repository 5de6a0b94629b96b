// Subscriptions as control ops: `subscribe` (stream + snapshot), `unsubscribe`, `snapshot` (after a gap).

import type { Logger } from '../../../log/logger.js';
import { ControlError } from '../../control-messages.js';
import type { HubMetrics } from '../../hub-metrics.js';
import type { SymbolDirectory } from '../../symbol-directory.js';
import { normaliseFilter } from '../../topic-streams.js';
import type { DataPlane } from '../data-plane.js';
import type { Subscriptions } from '../subscriptions.js';
import { type OpTable, READERS } from './control-service.js';

/** Serves the subscription ops over `Subscriptions` (the state) and the `DataPlane` (the snapshots). */
export class SubscriptionService {
  readonly #subscriptions: Subscriptions;
  readonly #dataPlane: DataPlane;
  readonly #symbols: SymbolDirectory;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  readonly #maxStreamsPerPeer: number;

  constructor(parts: {
    subscriptions: Subscriptions;
    dataPlane: DataPlane;
    symbols: SymbolDirectory;
    metrics: HubMetrics;
    log: Logger;
    maxStreamsPerPeer: number;
  }) {
    this.#subscriptions = parts.subscriptions;
    this.#dataPlane = parts.dataPlane;
    this.#symbols = parts.symbols;
    this.#metrics = parts.metrics;
    this.#log = parts.log;
    this.#maxStreamsPerPeer = parts.maxStreamsPerPeer;
  }

  ops(): Pick<OpTable, 'subscribe' | 'unsubscribe' | 'snapshot'> {
    return {
      subscribe: {
        roles: READERS,
        handle: (message, { session, id, reply }) => {
          const filter = normaliseFilter(message, this.#symbols, id);
          if (this.#subscriptions.countOf(session.id) >= this.#maxStreamsPerPeer) {
            throw new ControlError('forbidden', `at most ${this.#maxStreamsPerPeer} streams per peer`, id);
          }
          const wire = message.wire ?? 1;
          const joined = this.#subscriptions.join(session, filter, wire);
          reply({ op: 'subscribed', stream: joined.stream, seq: joined.seq, wire });
          // The same filter again is answered like a snapshot request; a new one gets its first snapshot.
          if (joined.again) this.#metrics.snapshotsRequested += 1;
          else this.#metrics.snapshotsOnSubscribe += 1;
          this.#dataPlane.sendSnapshot(session, joined.stream);
          this.#log.info('subscribed', {
            peer: session.identity.peer,
            stream: joined.stream,
            wire,
            created: joined.created,
            seq: joined.seq,
          });
        },
      },
      unsubscribe: {
        roles: READERS,
        handle: (message, { session, id, reply }) => {
          if (!this.#subscriptions.leave(session.id, message.stream)) {
            throw new ControlError('unknown_stream', `not subscribed to stream ${message.stream}`, id);
          }
          reply({ op: 'unsubscribed', stream: message.stream });
        },
      },
      snapshot: {
        roles: READERS,
        handle: (message, { session, id, reply }) => {
          if (!this.#subscriptions.holds(session.id, message.stream)) {
            throw new ControlError('unknown_stream', `not subscribed to stream ${message.stream}`, id);
          }
          this.#metrics.snapshotsRequested += 1;
          let seq: number | undefined;
          session.connection.cork(() => {
            seq = this.#dataPlane.sendSnapshot(session, message.stream);
            // Deferred (snapshot mode): a fresh snapshot of every stream comes when the peer drains.
            if (seq === undefined) reply({ op: 'ok' });
            else reply({ op: 'snapshot', stream: message.stream, seq });
          });
        },
      },
    };
  }
}
