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

/** The status of a collector built on one poll loop. */
export function pollStatus(
  kind: CollectorKind,
  loop: PollLoop,
  link: IngestLink,
  detail: Readonly<Record<string, number | string>> = {},
): CollectorStatus {
  const c = loop.counters;
  return {
    kind,
    running: loop.running,
    polls: c.polls,
    failures: c.failures,
    framesSent: link.counters.framesSent,
    framesDropped: link.counters.framesDropped,
    recordsSent: link.counters.recordsSent,
    lastSuccessAt: c.lastSuccessAt,
    lastError: c.lastError,
    detail,
  };
}
