// The hub's counters and its ingest→broadcast latency histogram, for GET /status.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './hub-status.js';

/** Everything the hub counts. Reasons are stable labels (see docs/protocol.md). */
export class HubMetrics {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  ingestFrames = 0;
  recordsChanged = 0;
  /** Records that merged to no change (equal to what the book held). */
  recordsUnchanged = 0;
  /** Records older than what the book held (dropped by the merge rules). */
  recordsDropped = 0;
  /** Records the book refused as invalid (never merged). */
  recordsRefused = 0;
  /** Ingest frames whose records all changed nothing. */
  framesWithoutChange = 0;
  deltaFrames = 0;
  encodeFailures = 0;
  /** Snapshots sent because a subscriber asked (a gap or a reconnect). */
  snapshotsRequested = 0;
  snapshotsOnSubscribe = 0;
  snapshotsPeriodic = 0;
  snapshotsOnResume = 0;
  /** Snapshot requests answered at the next resume (the previous snapshot was still queued). */
  snapshotsDeferred = 0;
  backpressureSnapshotMode = 0;
  backpressureDisconnects = 0;
  backpressureResumes = 0;
  /** Exchange events relayed from user-stream collectors, and deliveries to subscribers. */
  eventsRelayed = 0;
  eventDeliveries = 0;
  /** Event deliveries skipped because the subscriber was in snapshot mode. */
  eventsDropped = 0;
  readonly rejected = new Map<string, number>();
  readonly closes = new Map<string, number>();
  readonly #latency = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Counts one refused input by reason. */
  reject(reason: string, count = 1): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + count);
  }

  /** Counts one connection closed by the hub, by reason. */
  closed(reason: string): void {
    this.closes.set(reason, (this.closes.get(reason) ?? 0) + 1);
  }

  /** Records one ingest→broadcast latency in microseconds. */
  recordLatencyUs(us: number): void {
    this.#latency.recordValue(Math.max(1, Math.min(60_000_000, Math.round(us))));
  }

  latency(): LatencySummary {
    const h = this.#latency;
    return {
      count: h.totalCount,
      p50: h.getValueAtPercentile(50),
      p90: h.getValueAtPercentile(90),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
    };
  }
}
