// Data freshness per collector, kept after it leaves: frames merged and when the last one arrived.
import type { PeerSession } from './session.js';

/** What the hub remembers of one collector. */
export interface CollectorRecord {
  readonly peer: string;
  readonly peerId: number;
  readonly kind: string | undefined;
  frames: number;
  lastIngestAt: number | null;
}

/** Collectors by peer name; a record is made when a collector first authenticates and never dropped. */
export class CollectorLedger {
  readonly #records = new Map<string, CollectorRecord>();

  /** Notes a collector that authenticated (keeps its history when it comes back). */
  arrived(session: PeerSession): void {
    const { peer, peerId, kind, role } = session.identity;
    if (role !== 'collector' || this.#records.has(peer)) return;
    this.#records.set(peer, { peer, peerId, kind, frames: 0, lastIngestAt: null });
  }

  /** The record of a collector, for the data plane to update. */
  of(peer: string): CollectorRecord | undefined {
    return this.#records.get(peer);
  }

  all(): IterableIterator<CollectorRecord> {
    return this.#records.values();
  }
}
