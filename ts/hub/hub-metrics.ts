// The hub's counters and its ingest→broadcast latency histogram, for GET /status.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './hub-status.js';

/** The histogram's ceiling: a latency past a minute is recorded as a minute. */
const LATENCY_MAX_US = 60_000_000;
/** Latencies held before they are folded into the histogram together. */
const LATENCY_BATCH = 256;

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
    highestTrackableValue: LATENCY_MAX_US,
    numberOfSignificantValueDigits: 3,
  });
  /**
   * Latencies not yet in the histogram. A hub turn records one or a few; folded in one at a time,
   * each finds the histogram's lines evicted by the other processes since the last turn, so they
   * wait here and go in together (docs/benchmarks-journal.md, "The hub turn timed stage by stage").
   */
  readonly #pendingLatency = new Float64Array(LATENCY_BATCH);
  #pendingCount = 0;

  /** Counts one refused input by reason. */
  reject(reason: string, count = 1): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + count);
  }

  /** Counts one connection closed by the hub, by reason. */
  closed(reason: string): void {
    this.closes.set(reason, (this.closes.get(reason) ?? 0) + 1);
  }

  /** Records one ingest→broadcast latency in microseconds (clamped to 1 µs … 60 s). */
  recordLatencyUs(us: number): void {
    this.#pendingLatency[this.#pendingCount] = us;
    this.#pendingCount += 1;
    if (this.#pendingCount === LATENCY_BATCH) this.#foldLatency();
  }

  /** The latency histogram's summary, every recorded latency included. */
  latency(): LatencySummary {
    this.#foldLatency();
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

  #foldLatency(): void {
    const pending = this.#pendingLatency;
    for (let i = 0; i < this.#pendingCount; i++) {
      this.#latency.recordValue(Math.max(1, Math.min(LATENCY_MAX_US, Math.round(pending[i] as number))));
    }
    this.#pendingCount = 0;
  }
}
