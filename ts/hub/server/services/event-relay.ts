// The order-event relay: user-stream collectors publish exchange events, subscribed readers get them in order.
import type { ServerMessage } from '../../control-messages.js';
import type { HubMetrics } from '../../hub-metrics.js';
import type { PeerOutbox } from '../peer-outbox.js';
import type { Sessions } from '../sessions.js';
import type { Subscriptions } from '../subscriptions.js';
import { type OpTable, READERS } from './control-service.js';

/**
 * Relays `events.publish` to every peer that sent `events.subscribe`, one `seq` per publish. A
 * subscriber in snapshot mode (back-pressure) misses them: it sees the `seq` jump and reconciles
 * its orders by REST, as after a reconnect.
 */
export class EventRelay {
  readonly #subscribers = new Set<number>();
  readonly #sessions: Sessions;
  readonly #subscriptions: Subscriptions;
  readonly #outbox: PeerOutbox;
  readonly #metrics: HubMetrics;
  #seq = 0;

  constructor(sessions: Sessions, subscriptions: Subscriptions, outbox: PeerOutbox, metrics: HubMetrics) {
    this.#sessions = sessions;
    this.#subscriptions = subscriptions;
    this.#outbox = outbox;
    this.#metrics = metrics;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  forget(sessionId: number): void {
    this.#subscribers.delete(sessionId);
  }

  ops(): Pick<OpTable, 'events.publish' | 'events.subscribe'> {
    return {
      'events.subscribe': {
        roles: READERS,
        handle: (_message, { session, reply }) => {
          this.#subscribers.add(session.id);
          reply({ op: 'ok' });
        },
      },
      'events.publish': {
        roles: ['collector'],
        handle: (message, { id, reply }) => {
          this.#seq += 1;
          this.#metrics.eventsRelayed += message.events.length;
          const push: ServerMessage = { op: 'events', seq: this.#seq, events: message.events };
          for (const sessionId of this.#subscribers) {
            const session = this.#sessions.get(sessionId);
            if (session?.state !== 'ready' || session.closing) continue;
            if (this.#subscriptions.isPaused(sessionId)) {
              this.#metrics.eventsDropped += 1;
              continue;
            }
            this.#outbox.text(session, push);
            this.#metrics.eventDeliveries += 1;
          }
          // Fire and forget without an id; a reply only when the publisher asked for one.
          if (id !== undefined) reply({ op: 'ok' });
        },
      },
    };
  }
}
