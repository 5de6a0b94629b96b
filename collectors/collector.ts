// What every collector kind shares: its name, lifecycle and the status it reports to the hub and the log.

// The kinds live in ts/ so the configuration's checks and the deploy inventory share the list.
import type { CollectorKind } from '../ts/config/collector-kinds.js';

export { COLLECTOR_KINDS, type CollectorKind, isCollectorKind } from '../ts/config/collector-kinds.js';

/** Counters every collector keeps; `detail` carries kind-specific ones. */
export interface CollectorStatus {
  readonly kind: CollectorKind;
  readonly running: boolean;
  /** Exchange requests or stream batches handled. */
  readonly polls: number;
  readonly failures: number;
  /** Ingest frames handed to the hub, and those dropped because the hub was not connected. */
  readonly framesSent: number;
  readonly framesDropped: number;
  readonly recordsSent: number;
  /** Local ms of the last successful poll, or null. */
  readonly lastSuccessAt: number | null;
  readonly lastError: string | null;
  readonly detail: Readonly<Record<string, number | string>>;
}

/** A running collector. `start` returns at once; `stop` waits for work in flight. */
export interface Collector {
  readonly kind: CollectorKind;
  start(): void;
  stop(): Promise<void>;
  status(): CollectorStatus;
}
