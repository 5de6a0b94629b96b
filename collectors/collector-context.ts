// What a collector is built from: the exchange API, the hub link and a logger.
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import type { Logger } from '../ts/log/logger.js';
import type { CollectorKind, CollectorStatus } from './collector.js';
import type { CollectorHub, IngestLink } from './collector-hub.js';
import type { PollLoop } from './poll-loop.js';

/** The collaborators every collector kind receives. */
export interface CollectorContext {
  readonly api: UsdmApi;
  readonly hub: CollectorHub;
  readonly link: IngestLink;
  readonly logger: Logger;
}

/** What a collector knows of its own work; the frame counters come from its `IngestLink`. */
export interface WorkCounters {
  readonly running: boolean;
  readonly polls: number;
  readonly failures: number;
  readonly lastSuccessAt: number | null;
  readonly lastError: string | null;
}

/** A collector's status: its own counters, its link's frame counters and kind-specific `detail`. */
export function collectorStatus(
  kind: CollectorKind,
  work: WorkCounters,
  link: IngestLink,
  detail: Readonly<Record<string, number | string>> = {},
): CollectorStatus {
  return {
    kind,
    ...work,
    framesSent: link.counters.framesSent,
    framesDropped: link.counters.framesDropped,
    recordsSent: link.counters.recordsSent,
    detail,
  };
}

/** The status of a collector built on one poll loop. */
export function pollStatus(
  kind: CollectorKind,
  loop: PollLoop,
  link: IngestLink,
  detail: Readonly<Record<string, number | string>> = {},
): CollectorStatus {
  const c = loop.counters;
  return collectorStatus(
    kind,
    {
      running: loop.running,
      polls: c.polls,
      failures: c.failures,
      lastSuccessAt: c.lastSuccessAt,
      lastError: c.lastError,
    },
    link,
    detail,
  );
}
