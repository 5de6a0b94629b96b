// The alert relay: every process's alerts (and the hub's own) to the peers that subscribed, with the recent ones kept for a subscriber that comes back.
import type { ServerMessage } from '../../control-messages.js';
import type { AlertWire, RelayedAlert } from '../../relayed-alerts.js';
import type { PeerOutbox } from '../peer-outbox.js';
import type { Sessions } from '../sessions.js';
import { ANY, type OpTable } from './control-service.js';

/** Alerts kept for replay (a recorder restarting replays what it missed while away). */
export const KEPT_ALERTS = 1000;
/** Most alerts in one replay message. */
const REPLAY_CHUNK = 100;

/** Counters for the hub's status. */
export interface AlertRelayStats {
  readonly relayed: number;
  readonly deliveries: number;
  readonly subscribers: number;
  readonly kept: number;
}

/**
 * Relays `alerts.publish` from any peer (stamped with the peer's name as its key gives it, so no
 * peer can speak for another) and the hub's own alerts (`publishLocal`) to every peer that sent
 * `alerts.subscribe`, each alert numbered by `seq`. The last {@link KEPT_ALERTS} are kept: a
 * subscriber gets those after `after` (all of them without it) before the live ones, so a recorder
 * that restarts or reconnects stores what was raised meanwhile (the store's key makes a repeat a
 * duplicate). Alerts are few and small: they are sent even to a subscriber in snapshot mode.
 */
export class AlertRelay {
  readonly #subscribers = new Set<number>();
  readonly #sessions: Sessions;
  readonly #outbox: PeerOutbox;
  readonly #kept: RelayedAlert[] = [];
  #seq = 0;
  #relayed = 0;
  #deliveries = 0;

  constructor(sessions: Sessions, outbox: PeerOutbox) {
    this.#sessions = sessions;
    this.#outbox = outbox;
  }

  stats(): AlertRelayStats {
    return {
      relayed: this.#relayed,
      deliveries: this.#deliveries,
      subscribers: this.#subscribers.size,
      kept: this.#kept.length,
    };
  }

  forget(sessionId: number): void {
    this.#subscribers.delete(sessionId);
  }

  /** Relays alerts raised inside the hub process itself (its watch over peers and data). */
  publishLocal(peer: string, alerts: readonly AlertWire[]): void {
    this.#relay(peer, alerts);
  }

  ops(): Pick<OpTable, 'alerts.publish' | 'alerts.subscribe'> {
    return {
      'alerts.subscribe': {
        roles: ['viewer', 'admin'],
        handle: (message, { session, reply }) => {
          reply({ op: 'ok' });
          const after = message.after ?? 0;
          const missed = this.#kept.filter((a) => a.seq > after);
          for (let i = 0; i < missed.length; i += REPLAY_CHUNK) {
            this.#outbox.text(session, { op: 'alerts', alerts: missed.slice(i, i + REPLAY_CHUNK) });
            this.#deliveries += 1;
          }
          this.#subscribers.add(session.id);
        },
      },
      'alerts.publish': {
        roles: ANY,
        handle: (message, { session, id, reply }) => {
          this.#relay(session.identity.peer, message.alerts);
          if (id !== undefined) reply({ op: 'ok' });
        },
      },
    };
  }

  #relay(peer: string, alerts: readonly AlertWire[]): void {
    const stamped = alerts.map((a): RelayedAlert => {
      this.#seq += 1;
      return { ...a, seq: this.#seq, peer };
    });
    this.#relayed += stamped.length;
    this.#kept.push(...stamped);
    if (this.#kept.length > KEPT_ALERTS) this.#kept.splice(0, this.#kept.length - KEPT_ALERTS);
    const push: ServerMessage = { op: 'alerts', alerts: stamped };
    for (const sessionId of this.#subscribers) {
      const session = this.#sessions.get(sessionId);
      if (session?.state !== 'ready' || session.closing) continue;
      this.#outbox.text(session, push);
      this.#deliveries += 1;
    }
  }
}
