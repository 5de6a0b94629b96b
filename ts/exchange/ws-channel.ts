// A logical websocket feed over successive connections: connect with bounded jittered backoff,
// reconnect on loss, and rotate before the exchange's 24 h limit without a gap (make-before-break).
import type { Logger } from '../log/logger.js';
import type { Backoff } from './ws-backoff.js';
import { type ConnectionSettings, type ConnectionStatus, WsConnection } from './ws-connection.js';
import { describeError, WsConnectionClosedError, WsReconnectExhaustedError } from './ws-errors.js';

/** Lifecycle of a channel. */
export type ChannelState = 'idle' | 'connecting' | 'live' | 'waiting' | 'failed' | 'closed';

/** Data may be missing between `lostAt` and `restoredAt` (the feed was down). */
export interface FeedGap {
  /** Why the previous connection ended. */
  reason: string;
  /** Last frame delivered before the loss (ms), or null if none ever was. */
  lastFrameAt: number | null;
  lostAt: number;
  restoredAt: number;
}

/** A connection of the channel became the one that delivers. */
export interface ChannelLiveEvent {
  kind: 'connected' | 'reconnected' | 'rotated';
  connection: WsConnection;
  /** Present on `reconnected`. */
  gap?: FeedGap;
}

/** Counters of a channel. */
export interface ChannelStatus {
  state: ChannelState;
  /** The delivering connection, if any. */
  connection: ConnectionStatus | null;
  connectAttempts: number;
  failedAttempts: number;
  reconnects: number;
  rotations: number;
  rotationFailures: number;
  duplicatesDropped: number;
  lastFrameAt: number | null;
}

/** What a channel needs from its owner. */
export interface WsChannelOptions {
  /** For logs and errors. */
  name: string;
  logger: Logger;
  settings: ConnectionSettings;
  backoff: Backoff;
  maxConnectionAgeMs: number;
  /** How long both connections run side by side during a rotation, and the dedup window after it. */
  rotationOverlapMs: number;
  nextConnectionId: () => number;
  /** The URL of the next connection (the user stream creates its listenKey here); `displayUrl` is redacted. */
  resolveUrl: () => Promise<{ url: string; displayUrl: string }>;
  /** Readies an open connection (subscribes its streams); a throw fails the attempt. */
  prepare: (connection: WsConnection) => Promise<void>;
  onFrame: (frame: Buffer) => void;
  onLive: (event: ChannelLiveEvent) => void;
  onFailed: (error: WsReconnectExhaustedError) => void;
}

const LEDGER_LIMIT = 200_000;
/** How late a dedup window's timer may fire, at least, before the window counts as stalled and is extended. */
const DEDUP_STALL_TOLERANCE_MS = 20;
/** Extensions of one dedup window at most. */
const DEDUP_MAX_EXTENSIONS = 5;

/** Rejects with a `WsConnectionClosedError` if `promise` takes longer than `ms` (its late result is ignored). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new WsConnectionClosedError(what, `no answer within ${ms} ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Frames (as byte strings, with multiplicity) that the old connection delivered while a rotation
 * overlapped it; each can cancel one byte-identical frame of the new connection.
 */
class FrameLedger {
  readonly #counts = new Map<string, number>();
  #size = 0;
  overflowed = false;

  record(frame: Buffer): void {
    if (this.#size >= LEDGER_LIMIT) {
      this.overflowed = true;
      return;
    }
    const key = frame.toString('latin1');
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#size += 1;
  }

  consume(frame: Buffer): boolean {
    const key = frame.toString('latin1');
    const count = this.#counts.get(key);
    if (count === undefined) return false;
    if (count === 1) this.#counts.delete(key);
    else this.#counts.set(key, count - 1);
    return true;
  }
}

interface Overlap {
  phase: 'overlap';
  candidate: WsConnection;
  buffer: Buffer[];
  ledger: FrameLedger;
  ready: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface Dedup {
  phase: 'dedup';
  ledger: FrameLedger;
}

/**
 * One logical feed. Frames of the delivering connection go to `onFrame` as they arrive.
 *
 * Rotation (make-before-break) when a connection reaches `maxConnectionAgeMs`: a candidate connection
 * is opened and prepared while the old one keeps delivering; the candidate's frames are held back.
 * After `rotationOverlapMs` the candidate becomes the delivering connection and the old one is closed.
 * **Dedup rule:** a frame of the new connection is dropped when it is byte-identical to a frame the old
 * connection delivered since the candidate was opened, each old frame cancelling at most one new one,
 * until `rotationOverlapMs` after the switch. Binance serialises an event once per stream, so the same
 * event reaches both connections as the same bytes; an event is thus delivered exactly once across
 * the switch, whichever connection was ahead.
 */
export class WsChannel {
  readonly #o: WsChannelOptions;
  readonly #log: Logger;
  #state: ChannelState = 'idle';
  #live: WsConnection | undefined;
  #liveSince = 0;
  #rotation: Overlap | Dedup | undefined;
  #waitTimer: NodeJS.Timeout | undefined;
  #rotationTimer: NodeJS.Timeout | undefined;
  #dedupTimer: NodeJS.Timeout | undefined;
  #lastFrameAt: number | null = null;
  #lostAt = 0;
  #lostReason = '';
  #connectAttempts = 0;
  #failedAttempts = 0;
  #reconnects = 0;
  #rotations = 0;
  #rotationFailures = 0;
  #rotationFailuresInRow = 0;
  #duplicatesDropped = 0;
  #lastError = '';

  constructor(options: WsChannelOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  get state(): ChannelState {
    return this.#state;
  }

  /** The delivering connection, if one is live. */
  get connection(): WsConnection | undefined {
    return this.#state === 'live' || this.#state === 'connecting' ? this.#live : undefined;
  }

  /** The connections that are open now (delivering and rotation candidate). */
  openConnections(): WsConnection[] {
    const list: WsConnection[] = [];
    if (this.#live?.state === 'open') list.push(this.#live);
    if (this.#rotation?.phase === 'overlap' && this.#rotation.candidate.state === 'open') {
      list.push(this.#rotation.candidate);
    }
    return list;
  }

  /** Starts connecting (once). */
  start(): void {
    if (this.#state !== 'idle') throw new Error(`${this.#o.name}: started twice`);
    void this.#attempt('connected');
  }

  /** Drops the delivering connection so the channel reconnects (e.g. its listenKey expired). */
  reconnectNow(reason: string): void {
    if (this.#state === 'live' && this.#live !== undefined) {
      this.#log.info('reconnecting on request', { channel: this.#o.name, reason });
      this.#live.terminate(reason);
    }
  }

  /**
   * Rotates now instead of at `maxConnectionAgeMs` (tests, operators). Resolves when this rotation
   * switched or failed; if one is still running (or in its dedup window), another is queued after it.
   */
  rotateNow(): Promise<void> {
    return this.#rotate();
  }

  /** When the delivering connection last brought a data frame (this machine's clock); null before the first. */
  get lastFrameAt(): number | null {
    return this.#lastFrameAt;
  }

  status(): ChannelStatus {
    return {
      state: this.#state,
      connection: this.#live?.status() ?? null,
      connectAttempts: this.#connectAttempts,
      failedAttempts: this.#failedAttempts,
      reconnects: this.#reconnects,
      rotations: this.#rotations,
      rotationFailures: this.#rotationFailures,
      duplicatesDropped: this.#duplicatesDropped,
      lastFrameAt: this.#lastFrameAt,
    };
  }

  /** Stops everything: timers, the delivering connection and any rotation candidate. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    for (const t of [this.#waitTimer, this.#rotationTimer, this.#dedupTimer])
      if (t !== undefined) clearTimeout(t);
    const conns: WsConnection[] = [];
    if (this.#live !== undefined) conns.push(this.#live);
    if (this.#rotation?.phase === 'overlap') {
      if (this.#rotation.timer !== undefined) clearTimeout(this.#rotation.timer);
      conns.push(this.#rotation.candidate);
    }
    this.#live = undefined;
    this.#rotation = undefined;
    await Promise.all(conns.map((c) => c.close('client closed')));
  }

  // A method, not an inline comparison: TypeScript would keep a narrowing of `#state` across awaits.
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #newConnection(url: string, displayUrl: string): WsConnection {
    return new WsConnection(this.#o.nextConnectionId(), url, displayUrl, this.#o.settings, this.#log, {
      onFrame: (frame, conn) => this.#onFrame(frame, conn),
      onClose: (conn, reason, planned) => this.#onClosed(conn, reason, planned),
    });
  }

  async #attempt(kind: 'connected' | 'reconnected'): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'connecting';
    this.#connectAttempts += 1;
    let conn: WsConnection | undefined;
    try {
      const { url, displayUrl } = await withTimeout(
        this.#o.resolveUrl(),
        this.#o.settings.openTimeoutMs,
        `${this.#o.name}: URL`,
      );
      if (this.#state !== 'connecting') return;
      conn = this.#newConnection(url, displayUrl);
      // Delivering from the first frame: data that arrives between a SUBSCRIBE reply and the end of
      // `prepare` must not be lost.
      this.#live = conn;
      this.#log.info('connecting', {
        channel: this.#o.name,
        connection: conn.id,
        url: displayUrl,
        attempt: this.#o.backoff.failures + 1,
      });
      await conn.open();
      await this.#o.prepare(conn);
      if (conn.state !== 'open') throw new WsConnectionClosedError(displayUrl, conn.closeReason);
    } catch (error) {
      if (conn !== undefined) {
        if (this.#live === conn) this.#live = undefined;
        conn.terminate(`attempt failed: ${describeError(error)}`);
      }
      if (this.#state !== 'connecting') return;
      this.#failedAttempts += 1;
      this.#lastError = describeError(error);
      this.#retry(kind, 'connection attempt failed');
      return;
    }
    if (this.#state !== 'connecting') {
      void conn.close('client closed');
      return;
    }
    const now = Date.now();
    this.#state = 'live';
    this.#liveSince = now;
    this.#scheduleRotation(this.#o.maxConnectionAgeMs);
    const event: ChannelLiveEvent = { kind, connection: conn };
    if (kind === 'reconnected') {
      event.gap = {
        reason: this.#lostReason,
        lastFrameAt: this.#lastFrameAt,
        lostAt: this.#lostAt,
        restoredAt: now,
      };
    }
    this.#log.info(kind === 'connected' ? 'connected' : 'reconnected', {
      channel: this.#o.name,
      connection: conn.id,
      downMs: kind === 'reconnected' ? now - this.#lostAt : undefined,
    });
    this.#o.onLive(event);
  }

  /** Counts a failure and waits the backoff delay before the next attempt, or gives up. */
  #retry(kind: 'connected' | 'reconnected', what: string): void {
    const delay = this.#o.backoff.fail();
    if (this.#o.backoff.exhausted) {
      this.#state = 'failed';
      const error = new WsReconnectExhaustedError(this.#o.name, this.#o.backoff.failures, this.#lastError);
      this.#log.error('giving up', { channel: this.#o.name, error: error.message });
      this.#o.onFailed(error);
      return;
    }
    this.#state = 'waiting';
    this.#log.warn(what, {
      channel: this.#o.name,
      failures: this.#o.backoff.failures,
      maxAttempts: this.#o.backoff.settings.maxAttempts,
      retryInMs: delay,
      error: this.#lastError,
    });
    this.#waitTimer = setTimeout(() => {
      this.#waitTimer = undefined;
      void this.#attempt(kind);
    }, delay);
  }

  #onFrame(frame: Buffer, conn: WsConnection): void {
    const rotation = this.#rotation;
    if (conn === this.#live) {
      if (rotation?.phase === 'overlap') rotation.ledger.record(frame);
      else if (rotation?.phase === 'dedup' && rotation.ledger.consume(frame)) {
        this.#duplicatesDropped += 1;
        return;
      }
      this.#deliver(frame);
      return;
    }
    if (rotation?.phase === 'overlap' && conn === rotation.candidate) rotation.buffer.push(frame);
    // Anything else comes from a connection already replaced or abandoned: its events are (or will
    // be) delivered by the connection that replaced it.
  }

  #deliver(frame: Buffer): void {
    this.#lastFrameAt = Date.now();
    this.#o.onFrame(frame);
  }

  #onClosed(conn: WsConnection, reason: string, planned: boolean): void {
    if (this.#state === 'closed') return;
    const rotation = this.#rotation;
    if (rotation?.phase === 'overlap' && rotation.candidate === conn) {
      // `#rotate` sees the failure through its awaits or after its overlap sleep.
      this.#log.warn('rotation candidate closed', { channel: this.#o.name, connection: conn.id, reason });
      return;
    }
    // Failed attempts are handled by `#attempt`; replaced connections are expected to close.
    if (conn !== this.#live || this.#state !== 'live') return;
    if (rotation?.phase === 'overlap') {
      if (rotation.ready && rotation.candidate.state === 'open') {
        this.#log.warn('connection lost during rotation; switching to the prepared one', {
          channel: this.#o.name,
          connection: conn.id,
          reason,
        });
        this.#switch();
        return;
      }
      if (rotation.timer !== undefined) clearTimeout(rotation.timer);
      this.#rotation = undefined;
      rotation.candidate.terminate('rotation abandoned: the old connection was lost');
    }
    if (this.#rotationTimer !== undefined) clearTimeout(this.#rotationTimer);
    const now = Date.now();
    this.#live = undefined;
    this.#lostAt = now;
    this.#lostReason = reason;
    this.#reconnects += 1;
    this.#lastError = reason;
    if (now - this.#liveSince >= this.#o.backoff.settings.resetAfterMs) this.#o.backoff.reset();
    this.#log.warn('connection lost', { channel: this.#o.name, connection: conn.id, reason, planned });
    this.#retry('reconnected', 'reconnecting');
  }

  #scheduleRotation(delay: number): void {
    if (this.#rotationTimer !== undefined) clearTimeout(this.#rotationTimer);
    this.#rotationTimer = setTimeout(() => {
      this.#rotationTimer = undefined;
      void this.#rotate();
    }, delay);
  }

  async #rotate(): Promise<void> {
    const old = this.#live;
    if (this.#state !== 'live' || old === undefined) return;
    if (this.#rotation !== undefined) {
      // A rotation (or its dedup window) is still running; try again once it is over.
      this.#scheduleRotation(this.#o.rotationOverlapMs + 1);
      return;
    }
    let rotation: Overlap | undefined;
    try {
      const { url, displayUrl } = await withTimeout(
        this.#o.resolveUrl(),
        this.#o.settings.openTimeoutMs,
        `${this.#o.name}: URL`,
      );
      if (this.#state !== 'live' || this.#live !== old || this.#rotation !== undefined) return;
      rotation = {
        phase: 'overlap',
        candidate: this.#newConnection(url, displayUrl),
        buffer: [],
        ledger: new FrameLedger(),
        ready: false,
        timer: undefined,
      };
      this.#rotation = rotation;
      const { candidate } = rotation;
      this.#log.info('rotating', { channel: this.#o.name, from: old.id, to: candidate.id, url: displayUrl });
      await candidate.open();
      await this.#o.prepare(candidate);
      if (candidate.state !== 'open') throw new WsConnectionClosedError(displayUrl, candidate.closeReason);
      rotation.ready = true;
      const current = rotation;
      await new Promise<void>((resolve) => {
        current.timer = setTimeout(resolve, this.#o.rotationOverlapMs);
      });
      if (this.#rotation !== rotation) return; // switched early (old connection lost) or closed
      if (candidate.state !== 'open') throw new WsConnectionClosedError(displayUrl, candidate.closeReason);
      this.#switch();
    } catch (error) {
      if (this.#isClosed()) return;
      if (rotation !== undefined) {
        if (this.#rotation === rotation) this.#rotation = undefined;
        rotation.candidate.terminate(`rotation failed: ${describeError(error)}`);
      }
      this.#rotationFailures += 1;
      this.#rotationFailuresInRow += 1;
      const delay = this.#o.backoff.delayFor(this.#rotationFailuresInRow);
      this.#log.warn('rotation failed; the old connection keeps delivering', {
        channel: this.#o.name,
        error: describeError(error),
        retryInMs: delay,
      });
      // Retried until it works or the old connection ends (the exchange cuts it at 24 h), after which
      // the ordinary bounded reconnect takes over.
      if (this.#state === 'live' && this.#live === old) this.#scheduleRotation(delay);
    }
  }

  /**
   * Ends `dedup` after `rotationOverlapMs` of a responsive event loop. A stall (GC, a saturated
   * machine) lets the timer expire while the new connection's copies of old frames wait unread in its
   * socket: a timer that fires late (by more than a quarter of the window, at least 20 ms) opens a
   * fresh window, at most `DEDUP_MAX_EXTENSIONS` times so a machine that is always late still
   * rotates; the window closes in the check phase, after the poll phase has read whatever arrived
   * before the timer fired.
   */
  #armDedupWindow(dedup: Dedup, extensions = 0): void {
    if (this.#dedupTimer !== undefined) clearTimeout(this.#dedupTimer);
    const deadline = Date.now() + this.#o.rotationOverlapMs;
    this.#dedupTimer = setTimeout(() => {
      this.#dedupTimer = undefined;
      if (this.#rotation !== dedup) return;
      const lateMs = Date.now() - deadline;
      const tolerance = Math.max(DEDUP_STALL_TOLERANCE_MS, this.#o.rotationOverlapMs / 4);
      if (lateMs > tolerance && extensions < DEDUP_MAX_EXTENSIONS) {
        this.#log.warn('event loop stalled in a rotation dedup window; window extended', {
          channel: this.#o.name,
          lateMs,
          extension: extensions + 1,
        });
        this.#armDedupWindow(dedup, extensions + 1);
        return;
      }
      setImmediate(() => {
        if (this.#rotation === dedup) this.#rotation = undefined;
      });
    }, this.#o.rotationOverlapMs);
  }

  /** Makes the prepared candidate the delivering connection and closes the old one. */
  #switch(): void {
    const rotation = this.#rotation;
    if (rotation?.phase !== 'overlap') return;
    if (rotation.timer !== undefined) clearTimeout(rotation.timer);
    const old = this.#live;
    const next = rotation.candidate;
    const dedup: Dedup = { phase: 'dedup', ledger: rotation.ledger };
    this.#live = next;
    this.#liveSince = Date.now();
    this.#rotation = dedup;
    if (rotation.ledger.overflowed) {
      this.#log.warn('rotation overlap exceeded the dedup ledger; duplicates may pass', {
        channel: this.#o.name,
      });
    }
    for (const frame of rotation.buffer) {
      if (dedup.ledger.consume(frame)) this.#duplicatesDropped += 1;
      else this.#deliver(frame);
    }
    this.#armDedupWindow(dedup);
    this.#rotations += 1;
    this.#rotationFailuresInRow = 0;
    this.#scheduleRotation(this.#o.maxConnectionAgeMs);
    this.#log.info('rotated', {
      channel: this.#o.name,
      from: old?.id,
      to: next.id,
      held: rotation.buffer.length,
    });
    if (old !== undefined) void old.close('rotated');
    this.#o.onLive({ kind: 'rotated', connection: next });
  }
}
