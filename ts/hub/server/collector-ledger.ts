// Data freshness per collector, kept after it leaves: frames merged and when it last delivered data.
import type { PeerSession } from './session.js';

/** What the hub remembers of one collector. */
export interface CollectorRecord {
  readonly peer: string;
  readonly peerId: number;
  readonly kind: string | undefined;
  frames: number;
  /** When it last delivered data: an Ingest frame merged, or a symbol list or ranks set. */
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

  /**
   * Notes data a collector delivered other than an Ingest frame (the universe collector's symbol
   * list and volume ranks), so its freshness says when it last did its job.
   */
  delivered(peer: string, at: number): void {
    const record = this.#records.get(peer);
    if (record !== undefined) record.lastIngestAt = at;
  }

  /** The record of a collector, for the data plane to update. */
  of(peer: string): CollectorRecord | undefined {
    return this.#records.get(peer);
  }

  all(): IterableIterator<CollectorRecord> {
    return this.#records.values();
  }
}
