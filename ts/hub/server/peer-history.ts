// Per peer name, since the hub started: how often it connected and how often its process restarted.
import type { PeerIdentity } from './session.js';

interface History {
  connections: number;
  restarts: number;
  /** The process the peer last connected from (`pid@startedAt`), if it said. */
  process: string | undefined;
}

/** Counts connections and process restarts per peer name (a new `agent.startedAt`/pid is a restart). */
export class PeerHistory {
  readonly #byName = new Map<string, History>();

  /** A peer authenticated. */
  arrived(identity: PeerIdentity): void {
    const process =
      identity.agent === undefined ? undefined : `${identity.agent.pid}@${identity.agent.startedAt}`;
    const history = this.#byName.get(identity.peer);
    if (history === undefined) {
      this.#byName.set(identity.peer, { connections: 1, restarts: 0, process });
      return;
    }
    history.connections += 1;
    if (process !== undefined && history.process !== undefined && process !== history.process)
      history.restarts += 1;
    if (process !== undefined) history.process = process;
  }

  /** Connections and restarts of `peer` (zeros for a name never seen). */
  of(peer: string): { connections: number; restarts: number } {
    const history = this.#byName.get(peer);
    return { connections: history?.connections ?? 0, restarts: history?.restarts ?? 0 };
  }
}
