// The data plane: collectors' Ingest frames merged once per turn, Delta frames published per stream, snapshots sent under back-pressure.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../log/logger.js';
import type { HubBook, IngestTurnResult } from '../../native/hub.js';
import { NativeError } from '../../native/native-error.js';
import type { HubMetrics } from '../hub-metrics.js';
import type { HubTransport } from '../transport.js';
import type { Backpressure } from './backpressure.js';
import type { CollectorLedger } from './collector-ledger.js';
import type { InputPolice } from './input-police.js';
import type { PeerOutbox } from './peer-outbox.js';
import { tellRefusedRecords } from './record-refusals.js';
import type { PeerSession } from './session.js';
import type { Sessions } from './sessions.js';
import { type Subscriptions, topicName } from './subscriptions.js';

/**
 * The Ingest frames of the current turn, as parallel arrays: `frames` and `sources` go to the
 * native merge as they are (no per-turn copy); the rest serves the bookkeeping and the errors.
 */
class IngestBatch {
  readonly frames: Buffer[] = [];
  readonly sources: number[] = [];
  readonly sessions: PeerSession[] = [];
  /** Each frame's index among its sender's binary messages (the `frame` an `error` names). */
  readonly numbers: number[] = [];
  /** `performance.now()` at each frame's arrival (the status latency histogram). */
  readonly arrivals: number[] = [];

  get size(): number {
    return this.frames.length;
  }

  add(frame: Buffer, session: PeerSession, arrival: number): void {
    this.frames.push(frame);
    this.sources.push(session.identity.peerId);
    this.sessions.push(session);
    this.numbers.push(session.traffic.binaryIn);
    this.arrivals.push(arrival);
  }
}

/**
 * Once per event-loop turn: all Ingest frames received in the turn go to the book in one native
 * call (`HubBook.ingestTurn`: every record checked against the registry, the time window and the
 * wire's range, merged, and one Delta frame per stream with changes encoded), and the frames are
 * published to each stream's transport topic; then the bookkeeping: counters, refusals told to the
 * sender of their frame, collector freshness, back-pressure of every subscriber that got bytes.
 * Snapshots (on subscribe, on request, periodic, on resume) go out as chunk frames of at most
 * 1 MiB, back to back, through the outbox, so they count against back-pressure as well.
 */
export class DataPlane {
  readonly #book: HubBook;
  readonly #transport: HubTransport;
  readonly #subscriptions: Subscriptions;
  readonly #backpressure: Backpressure;
  readonly #outbox: PeerOutbox;
  readonly #police: InputPolice;
  readonly #sessions: Sessions;
  readonly #ledger: CollectorLedger;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  /**
   * This turn's frames. Each turn takes a new batch rather than emptying one: V8 sets an array's
   * length to 0 in a runtime call and drops its backing store anyway, so reuse kept no capacity
   * and cost five calls a turn (a fresh batch took 100–110 ns less a turn, warm, in a direct
   * comparison; docs/benchmarks-journal.md, "Native code kept warm between frames").
   */
  #pending = new IngestBatch();
  #turnScheduled = false;
  #closed = false;

  constructor(parts: {
    book: HubBook;
    transport: HubTransport;
    subscriptions: Subscriptions;
    backpressure: Backpressure;
    outbox: PeerOutbox;
    police: InputPolice;
    sessions: Sessions;
    ledger: CollectorLedger;
    metrics: HubMetrics;
    log: Logger;
  }) {
    this.#book = parts.book;
    this.#transport = parts.transport;
    this.#subscriptions = parts.subscriptions;
    this.#backpressure = parts.backpressure;
    this.#outbox = parts.outbox;
    this.#police = parts.police;
    this.#sessions = parts.sessions;
    this.#ledger = parts.ledger;
    this.#metrics = parts.metrics;
    this.#log = parts.log;
  }

  /** Queues one binary message of a peer for this turn's merge (collectors only). */
  ingest(session: PeerSession, frame: Buffer): void {
    if (session.identity.role !== 'collector') {
      this.#police.refuseAndTell(
        session,
        'forbidden',
        'forbidden',
        `a ${session.identity.role} key may not send frames`,
        {
          frame: session.traffic.binaryIn,
          hint: 'only collector keys send Ingest frames',
        },
      );
      return;
    }
    this.#pending.add(frame, session, performance.now());
    if (!this.#turnScheduled) {
      this.#turnScheduled = true;
      setImmediate(() => this.#turn());
    }
  }

  /**
   * Sends the current snapshot of `stream` (its chunk frames, back to back) to one peer, unless
   * back-pressure defers it (the peer has not read the previous one, or is in snapshot mode: it
   * gets a fresh one when it drains). Returns the snapshot's seq, or undefined when deferred.
   */
  sendSnapshot(session: PeerSession, stream: number): number | undefined {
    if (!this.#backpressure.mayQueueSnapshot(session, stream)) return undefined;
    const chunks = this.#book.topicSnapshotFrames(stream, Date.now());
    this.#sendChunks(session, stream, chunks);
    return this.#subscriptions.seq(stream);
  }

  /** A fresh snapshot of each stream for a peer that resumed from snapshot mode. */
  resendSnapshots(session: PeerSession, streams: number[]): void {
    const now = Date.now();
    for (const stream of streams) {
      if (session.closing) return;
      const chunks = this.#snapshotChunks(stream, now);
      if (chunks === undefined) continue;
      this.#metrics.snapshotsOnResume += 1;
      this.#sendChunks(session, stream, chunks);
    }
  }

  /** A full snapshot of every stream to its live subscribers, for reconciliation. */
  publishSnapshots(): void {
    const now = Date.now();
    const sent: Array<{ stream: number; sizes: number[] }> = [];
    this.#transport.batch(() => {
      for (const stream of this.#subscriptions.streams()) {
        const chunks = this.#snapshotChunks(stream.id, now);
        if (chunks === undefined) continue;
        const topic = topicName(stream.id);
        for (const chunk of chunks) this.#transport.publish(topic, chunk);
        this.#metrics.snapshotsPeriodic += 1;
        sent.push({ stream: stream.id, sizes: chunks.map((c) => c.length) });
      }
    });
    for (const { stream, sizes } of sent) {
      const bytes = sizes.reduce((a, b) => a + b, 0);
      for (const sessionId of this.#subscriptions.subscribersOf(stream)) {
        const session = this.#liveSession(sessionId);
        if (session === undefined) continue;
        this.#backpressure.snapshotQueued(session, stream, bytes);
        for (const size of sizes) this.#outbox.published(session, size);
      }
    }
  }

  /** Stops merging (the hub is closing). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Records the snapshot's bytes as the peer's allowance, then queues its chunks: back-pressure,
   * asked once they are all queued, counts only what goes beyond the allowance.
   */
  #sendChunks(session: PeerSession, stream: number, chunks: Buffer[]): void {
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.length;
    this.#backpressure.snapshotQueued(session, stream, bytes);
    session.connection.cork(() => this.#outbox.frames(session, chunks));
  }

  #snapshotChunks(stream: number, now: number): Buffer[] | undefined {
    try {
      return this.#book.topicSnapshotFrames(stream, now);
    } catch (error) {
      if (!(error instanceof NativeError)) throw error;
      this.#metrics.encodeFailures += 1;
      this.#log.error('snapshot could not be encoded', { stream, code: error.code, message: error.message });
      return undefined;
    }
  }

  /** The session of a stream's subscriber when it is live (ready, not closing, not paused). */
  #liveSession(sessionId: number): PeerSession | undefined {
    const session = this.#sessions.get(sessionId);
    if (session?.state !== 'ready' || session.closing || this.#subscriptions.isPaused(sessionId))
      return undefined;
    return session;
  }

  #turn(): void {
    this.#turnScheduled = false;
    const batch = this.#pending;
    if (batch.size === 0) return;
    this.#pending = new IngestBatch();
    if (!this.#closed) this.#merge(batch);
  }

  /** One turn's batch merged, its Delta frames published, and the bookkeeping after them. */
  #merge(batch: IngestBatch): void {
    const now = Date.now();
    // The frames are published at once and used for their lengths after: where the transport
    // copies what it publishes, they need no bytes of their own.
    const framesAs = this.#transport.publishCopies ? 'views' : 'copies';
    const turn = this.#book.ingestTurn(batch.frames, batch.sources, now, framesAs);
    if (turn.frames.length > 0) {
      this.#transport.batch(() => {
        for (const { stream, frame } of turn.frames) this.#transport.publish(topicName(stream), frame);
      });
    }
    // The bookkeeping comes after the publish: on ws the writes leave as the batch ends, before it.
    // uWS writes a publish when its loop hook drains the topic tree, after this callback; deferring
    // the bookkeeping past that hook gave no net gain: it still takes one of the cores the
    // subscribers are waiting for (docs/benchmarks-journal.md, "Where the 20k msg/s gap is spent").
    const published = performance.now();
    this.#afterIngest(batch, turn, now);
    this.#afterPublish(turn);
    for (const arrival of batch.arrivals) this.#metrics.recordLatencyUs((published - arrival) * 1000);
  }

  /** Counts the turn's merge, tells senders what was refused, and updates collector freshness. */
  #afterIngest(batch: IngestBatch, result: IngestTurnResult, receivedAt: number): void {
    const m = this.#metrics;
    let failed: Set<number> | undefined;
    for (const failure of result.undecodable) {
      failed ??= new Set();
      failed.add(failure.index);
      const session = batch.sessions[failure.index];
      if (session === undefined) continue;
      this.#police.refuseAndTell(
        session,
        `frame_${failure.code}`,
        'bad_frame',
        `${failure.code}: ${failure.message}`,
        {
          frame: batch.numbers[failure.index] ?? 0,
        },
      );
    }
    if (result.refused.length > 0) {
      const unattributed = tellRefusedRecords(result.refused, batch, this.#police);
      if (unattributed > 0) {
        m.reject('record_unattributed', unattributed);
        this.#log.error('refused records name no frame of their turn', {
          records: unattributed,
          frames: batch.size,
        });
      }
    }
    const merged = batch.size - (failed?.size ?? 0);
    m.ingestFrames += merged;
    m.recordsChanged += result.changed;
    m.recordsUnchanged += result.unchanged;
    m.recordsDropped += result.dropped;
    m.recordsRefused += result.refused.length;
    if (result.changed === 0) m.framesWithoutChange += merged;
    let lastSession: PeerSession | undefined;
    let lastRecord: ReturnType<CollectorLedger['of']>;
    for (let index = 0; index < batch.size; index++) {
      const session = batch.sessions[index];
      if (session === undefined || failed?.has(index) === true) continue;
      session.ingestFrames += 1;
      // A turn's frames mostly come from a few collectors: look each one up once.
      if (session !== lastSession) {
        lastSession = session;
        lastRecord = this.#ledger.of(session.identity.peer);
      }
      if (lastRecord !== undefined) {
        lastRecord.frames += 1;
        lastRecord.lastIngestAt = receivedAt;
      }
    }
  }

  /** Logs frames that could not be encoded, counts what went out, and checks each subscriber's back-pressure. */
  #afterPublish(turn: IngestTurnResult): void {
    for (const failure of turn.encodeFailures) {
      this.#metrics.encodeFailures += 1;
      this.#log.error('delta frame could not be encoded; subscribers will see a gap', {
        stream: failure.stream,
        seq: failure.seq,
        code: failure.code,
        message: failure.message,
      });
    }
    for (const { stream, frame } of turn.frames) {
      this.#metrics.deltaFrames += 1;
      // A plain loop, not a generator: this runs for every subscriber of every frame of every turn.
      for (const sessionId of this.#subscriptions.subscribersOf(stream)) {
        const session = this.#liveSession(sessionId);
        if (session !== undefined) this.#outbox.published(session, frame.length);
      }
    }
  }
}
