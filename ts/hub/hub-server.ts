// The hub server: authenticates peers, merges collectors' Ingest frames, serves topics, cursors, slots and status.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger } from '../log/logger.js';
import {
  type IngestManyResult,
  MergeBook,
  type MergeStatsObject,
  type TopicFramesResult,
} from '../native/hub.js';
import { NativeError } from '../native/native-error.js';
import {
  type ClientMessage,
  ControlError,
  type ControlErrorCode,
  type PeerRole,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
} from './control-messages.js';
import { HubMetrics, type LatencySummary } from './hub-metrics.js';
import { LogThrottle } from './log-throttle.js';
import { newNonce, verifyAuthMac } from './peer-auth.js';
import { type BudgetLimits, PeerBudget } from './peer-budget.js';
import { CursorLimitError, PollCursor } from './poll-cursor.js';
import { type Slot, SlotTable } from './slot-table.js';
import { SymbolDirectory } from './symbol-directory.js';
import { type NormalisedFilter, nativeFilter, normaliseFilter, StreamTable } from './topic-streams.js';
import { CloseCode, type HubConnection, type HubTransport } from './transport.js';
import { createTransport, type TransportChoice } from './transport-select.js';

/** Back-pressure bounds on a subscriber's queued bytes. */
export interface BackpressureLimits {
  /** Above this the subscriber goes to snapshot mode: its deltas are dropped. */
  snapshotModeBytes: number;
  /** Above this the subscriber is disconnected (4413). */
  disconnectBytes: number;
  /** A subscriber in snapshot mode resumes (with fresh snapshots) once drained below this. */
  resumeBytes: number;
}

/** Options of {@link HubServer.start}. */
export interface HubServerOptions {
  /** The shared secret every peer's MAC is checked against. Never logged. */
  secret: Uint8Array | string;
  /** Default `127.0.0.1` (loopback). */
  host?: string;
  /** Default 0 (any free port; read {@link HubServer.port}). */
  port?: number;
  /** Default `auto`: uWebSockets.js where it loads, else ws. */
  transport?: TransportChoice;
  /** The symbol registry at start (a universe collector may replace the active list later). */
  symbols?: readonly string[];
  /** Bars kept per (symbol, interval); default 45. */
  klineWindow?: number;
  logger?: Logger;
  /** A connection must authenticate within this; default 5,000 ms. */
  authTimeoutMs?: number;
  /** The hub sends `heartbeat` this often; default 5,000 ms. */
  heartbeatMs?: number;
  /** A peer silent for this long is closed (4408); default 3 heartbeats. */
  idleTimeoutMs?: number;
  /** Full snapshots of every stream this often, for reconciliation; 0 turns them off. Default 30,000 ms. */
  snapshotIntervalMs?: number;
  /** Largest message the hub processes; a bigger one is refused and counted (`oversized`). Default 4 MiB. */
  maxMessageBytes?: number;
  /** Transport limit: a bigger message closes the connection (1009). Default 16 MiB + 4 KiB. */
  maxPayloadBytes?: number;
  backpressure?: Partial<BackpressureLimits>;
  /** Per-peer flood budget. Default 5,000 messages/s, 64 MiB/s, 2 s burst. */
  budget?: Partial<BudgetLimits>;
  /** Refused (over-budget) messages per second after which a peer is disconnected (4429). Default 1,000. */
  floodDisconnectPerSecond?: number;
  /** Streams one subscriber may hold; default 64. */
  maxStreamsPerPeer?: number;
}

type SessionState = 'hello' | 'ready' | 'closed';

/** One connection from accept to close. */
interface Session {
  readonly id: number;
  readonly connection: HubConnection;
  readonly nonce: string;
  readonly connectedAt: number;
  readonly budget: PeerBudget;
  state: SessionState;
  /** The hub decided to close it: nothing more it sends is processed. */
  closing: boolean;
  peer: string | undefined;
  role: PeerRole | undefined;
  kind: string | undefined;
  peerId: number;
  lastSeen: number;
  mode: 'live' | 'snapshot';
  readonly streams: Set<number>;
  readonly slotGroups: Set<string>;
  /** Receives relayed exchange events (`events.subscribe`). */
  wantsEvents: boolean;
  report: Record<string, unknown> | null;
  reportedAt: number | null;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  ingestFrames: number;
  refusedWindowStart: number;
  refusedInWindow: number;
  errorWindowStart: number;
  errorsInWindow: number;
  authTimer: NodeJS.Timeout | undefined;
}

/** What the hub remembers of a collector after it leaves (data freshness). */
interface CollectorRecord {
  peer: string;
  peerId: number;
  kind: string | undefined;
  frames: number;
  lastIngestAt: number | null;
}

/**
 * The Ingest frames of the current turn, as parallel arrays: `frames` and `sources` go to the
 * native merge as they are (no per-turn copy), `sessions` and `arrivals` serve the bookkeeping.
 */
class IngestBatch {
  readonly frames: Buffer[] = [];
  readonly sources: number[] = [];
  readonly sessions: Session[] = [];
  /** `performance.now()` at each frame's arrival (the status latency histogram). */
  readonly arrivals: number[] = [];

  get size(): number {
    return this.frames.length;
  }

  add(frame: Buffer, session: Session, arrival: number): void {
    this.frames.push(frame);
    this.sources.push(session.peerId);
    this.sessions.push(session);
    this.arrivals.push(arrival);
  }
}

/** One peer in `GET /status`. */
export interface PeerStatus {
  peerId: number;
  peer: string;
  role: PeerRole;
  kind: string | null;
  connection: number;
  remote: string;
  connectedAt: number;
  lastSeen: number;
  mode: 'live' | 'snapshot';
  streams: number[];
  slots: Record<string, { k: number; n: number }>;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  ingestFrames: number;
  bufferedBytes: number;
  /** The peer's own counters (collector or trader status) as it last reported them, and when. */
  report: Record<string, unknown> | null;
  reportedAt: number | null;
}

/** The document `GET /status` serves (and the `status` op returns). */
export interface HubStatus {
  hub: string;
  version: number;
  transport: string;
  startedAt: number;
  now: number;
  uptimeMs: number;
  symbols: { count: number; active: number; version: number };
  peers: PeerStatus[];
  /** Unauthenticated connections (waiting for `auth`). */
  pending: number;
  collectors: Array<{
    peer: string;
    peerId: number;
    kind: string | null;
    connected: boolean;
    frames: number;
    lastIngestAt: number | null;
    ageMs: number | null;
  }>;
  streams: Array<{ stream: number; filter: NormalisedFilter; seq: number; subscribers: number }>;
  messages: { in: number; out: number; bytesIn: number; bytesOut: number };
  merge: {
    ingestFrames: number;
    recordsChanged: number;
    recordsUnchanged: number;
    recordsDropped: number;
    framesWithoutChange: number;
    deltaFrames: number;
    encodeFailures: number;
    book: MergeStatsObject;
  };
  /** Relayed exchange events (order updates): how many, how many deliveries, to how many peers. */
  events: { relayed: number; deliveries: number; subscribers: number };
  rejected: Record<string, number>;
  closed: Record<string, number>;
  snapshots: { requested: number; onSubscribe: number; periodic: number; onResume: number };
  backpressure: { snapshotMode: number; disconnects: number; resumes: number; inSnapshotModeNow: number };
  latencyUs: LatencySummary;
  cursors: Record<string, number>;
  slots: Record<string, number[]>;
  ranks: { count: number; updatedAt: number | null };
}

const MIB = 1024 * 1024;

/** Messages that answer a request (and so may carry its id). */
type ReplyMessage = Exclude<ServerMessage, { op: 'hello' | 'heartbeat' | 'mode' | 'events' }>;

function topicName(stream: number): string {
  return `s${stream}`;
}

/**
 * The hub (DESIGN.md 4). Start with {@link HubServer.start}; stop with {@link HubServer.close}.
 * Wire and control protocol: docs/protocol.md, "Transport, authentication and services".
 */
export class HubServer {
  /** The merge book (read it for checks; only the server writes it). */
  readonly book: MergeBook;
  readonly symbols: SymbolDirectory;
  /** Random id of this hub instance, sent in `hello` and `welcome`. */
  readonly instance = randomBytes(8).toString('hex');
  readonly metrics = new HubMetrics();
  readonly #log: Logger;
  readonly #throttle = new LogThrottle();
  readonly #secret: Uint8Array | string;
  readonly #transport: HubTransport;
  readonly #host: string;
  readonly #cursor = new PollCursor();
  readonly #slots = new SlotTable();
  readonly #streams = new StreamTable();
  readonly #sessions = new Map<number, Session>();
  #eventSeq = 0;
  readonly #byPeer = new Map<string, Session>();
  readonly #peerIds = new Map<string, number>();
  readonly #collectors = new Map<string, CollectorRecord>();
  readonly #startedAt = Date.now();
  readonly #authTimeoutMs: number;
  readonly #heartbeatMs: number;
  readonly #idleTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #backpressure: BackpressureLimits;
  readonly #budget: BudgetLimits;
  readonly #floodDisconnectPerSecond: number;
  readonly #maxStreamsPerPeer: number;
  readonly #timers: NodeJS.Timeout[] = [];
  #pending = new IngestBatch();
  #turnScheduled = false;
  #ranks: string[] = [];
  #ranksUpdatedAt: number | null = null;
  #port = 0;
  #closed = false;

  private constructor(options: HubServerOptions, transport: HubTransport, log: Logger) {
    this.#log = log;
    this.#secret = options.secret;
    this.#transport = transport;
    this.#host = options.host ?? '127.0.0.1';
    this.book = new MergeBook(options.klineWindow === undefined ? {} : { klineWindow: options.klineWindow });
    this.symbols = new SymbolDirectory(options.symbols ?? []);
    this.#authTimeoutMs = options.authTimeoutMs ?? 5_000;
    this.#heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 3 * this.#heartbeatMs;
    this.#maxMessageBytes = options.maxMessageBytes ?? 4 * MIB;
    this.#backpressure = {
      snapshotModeBytes: options.backpressure?.snapshotModeBytes ?? 4 * MIB,
      disconnectBytes: options.backpressure?.disconnectBytes ?? 64 * MIB,
      resumeBytes: options.backpressure?.resumeBytes ?? 256 * 1024,
    };
    this.#budget = {
      messagesPerSecond: options.budget?.messagesPerSecond ?? 5_000,
      bytesPerSecond: options.budget?.bytesPerSecond ?? 64 * MIB,
      burstSeconds: options.budget?.burstSeconds ?? 2,
    };
    this.#floodDisconnectPerSecond = options.floodDisconnectPerSecond ?? 1_000;
    this.#maxStreamsPerPeer = options.maxStreamsPerPeer ?? 64;
    transport.onConnection((connection) => this.#accept(connection));
    transport.onGet('/status', () => ({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify(this.status()),
    }));
    this.#timers.push(setInterval(() => this.#heartbeat(), this.#heartbeatMs));
    const snapshotIntervalMs = options.snapshotIntervalMs ?? 30_000;
    if (snapshotIntervalMs > 0)
      this.#timers.push(setInterval(() => this.#periodicSnapshots(), snapshotIntervalMs));
    // Subscribers in snapshot mode are checked often, so a drained one resumes promptly even
    // where the transport's drain event does not fire (it fires only after a refused send).
    this.#timers.push(setInterval(() => this.#resumeDrained(), 100));
    for (const timer of this.#timers) timer.unref();
  }

  /** Starts a hub listening on `host:port`; resolves once it accepts connections. */
  static async start(options: HubServerOptions): Promise<HubServer> {
    const log = options.logger ?? new Logger('hub');
    const maxMessageBytes = options.maxMessageBytes ?? 4 * MIB;
    const disconnectBytes = options.backpressure?.disconnectBytes ?? 64 * MIB;
    const transport = createTransport(
      options.transport ?? 'auto',
      {
        maxPayloadBytes: Math.max(options.maxPayloadBytes ?? 16 * MIB + 4096, maxMessageBytes + 1024),
        // Far above the hub's own bound, so uWS never drops a message before the hub acts.
        maxBackpressureBytes: 2 * disconnectBytes,
      },
      log,
    );
    const hub = new HubServer(options, transport, log);
    try {
      hub.#port = await transport.listen(hub.#host, options.port ?? 0);
    } catch (error) {
      await hub.close();
      throw error;
    }
    log.info('hub listening', {
      host: hub.#host,
      port: hub.#port,
      transport: transport.name,
      hub: hub.instance,
      symbols: hub.symbols.names.length,
    });
    return hub;
  }

  get port(): number {
    return this.#port;
  }

  get transportName(): string {
    return this.#transport.name;
  }

  /** `ws://host:port/` of the hub. */
  get url(): string {
    return `ws://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.#port}/`;
  }

  /** Replaces the active symbol list (config or an operator); pushes `symbols` to every peer on change. */
  setSymbols(names: readonly string[]): boolean {
    const changed = this.symbols.setActive(names);
    if (changed) this.#broadcastSymbols();
    return changed;
  }

  /** Stops accepting, closes every connection (1001) and the timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const session of this.#sessions.values()) clearTimeout(session.authTimer);
    await this.#transport.close(CloseCode.goingAway, 'hub shutting down');
    this.#log.info('hub closed', { hub: this.instance });
  }

  /** The status document of `GET /status`. */
  status(): HubStatus {
    const now = Date.now();
    const peers: PeerStatus[] = [];
    let pending = 0;
    let inSnapshotMode = 0;
    for (const s of this.#sessions.values()) {
      if (s.state !== 'ready' || s.peer === undefined || s.role === undefined) {
        pending += 1;
        continue;
      }
      if (s.mode === 'snapshot') inSnapshotMode += 1;
      const slots: Record<string, { k: number; n: number }> = {};
      for (const group of s.slotGroups) {
        const slot = this.#slots.slotOf(group, s.id);
        if (slot !== undefined) slots[group] = { k: slot.k, n: slot.n };
      }
      peers.push({
        peerId: s.peerId,
        peer: s.peer,
        role: s.role,
        kind: s.kind ?? null,
        connection: s.id,
        remote: s.connection.remoteAddress,
        connectedAt: s.connectedAt,
        lastSeen: s.lastSeen,
        mode: s.mode,
        streams: [...s.streams],
        slots,
        messagesIn: s.messagesIn,
        bytesIn: s.bytesIn,
        messagesOut: s.messagesOut,
        ingestFrames: s.ingestFrames,
        bufferedBytes: s.connection.bufferedAmount(),
        report: s.report,
        reportedAt: s.reportedAt,
      });
    }
    const m = this.metrics;
    return {
      hub: this.instance,
      version: PROTOCOL_VERSION,
      transport: this.#transport.name,
      startedAt: this.#startedAt,
      now,
      uptimeMs: now - this.#startedAt,
      symbols: {
        count: this.symbols.names.length,
        active: this.symbols.active.length,
        version: this.symbols.version,
      },
      peers,
      pending,
      collectors: [...this.#collectors.values()].map((c) => ({
        peer: c.peer,
        peerId: c.peerId,
        kind: c.kind ?? null,
        connected: this.#byPeer.get(c.peer)?.role === 'collector',
        frames: c.frames,
        lastIngestAt: c.lastIngestAt,
        ageMs: c.lastIngestAt === null ? null : now - c.lastIngestAt,
      })),
      streams: [...this.#streams.all()].map((s) => ({
        stream: s.id,
        filter: s.filter,
        seq: this.book.topicSeq(s.id) ?? 0,
        subscribers: s.subscribers.size,
      })),
      messages: { in: m.messagesIn, out: m.messagesOut, bytesIn: m.bytesIn, bytesOut: m.bytesOut },
      merge: {
        ingestFrames: m.ingestFrames,
        recordsChanged: m.recordsChanged,
        recordsUnchanged: m.recordsUnchanged,
        recordsDropped: m.recordsDropped,
        framesWithoutChange: m.framesWithoutChange,
        deltaFrames: m.deltaFrames,
        encodeFailures: m.encodeFailures,
        book: this.book.stats(),
      },
      events: {
        relayed: m.eventsRelayed,
        deliveries: m.eventDeliveries,
        subscribers: [...this.#sessions.values()].filter((x) => x.wantsEvents).length,
      },
      rejected: Object.fromEntries(m.rejected),
      closed: Object.fromEntries(m.closes),
      snapshots: {
        requested: m.snapshotsRequested,
        onSubscribe: m.snapshotsOnSubscribe,
        periodic: m.snapshotsPeriodic,
        onResume: m.snapshotsOnResume,
      },
      backpressure: {
        snapshotMode: m.backpressureSnapshotMode,
        disconnects: m.backpressureDisconnects,
        resumes: m.backpressureResumes,
        inSnapshotModeNow: inSnapshotMode,
      },
      latencyUs: m.latency(),
      cursors: this.#cursor.snapshot(),
      slots: this.#slots.groups(),
      ranks: { count: this.#ranks.length, updatedAt: this.#ranksUpdatedAt },
    };
  }

  // ── connections ────────────────────────────────────────────────────────────────────────

  #accept(connection: HubConnection) {
    const now = Date.now();
    const session: Session = {
      id: connection.id,
      connection,
      nonce: newNonce(),
      connectedAt: now,
      budget: new PeerBudget(this.#budget, now),
      state: 'hello',
      closing: false,
      peer: undefined,
      role: undefined,
      kind: undefined,
      peerId: 0,
      lastSeen: now,
      mode: 'live',
      streams: new Set(),
      slotGroups: new Set(),
      wantsEvents: false,
      report: null,
      reportedAt: null,
      messagesIn: 0,
      bytesIn: 0,
      messagesOut: 0,
      ingestFrames: 0,
      refusedWindowStart: now,
      refusedInWindow: 0,
      errorWindowStart: now,
      errorsInWindow: 0,
      authTimer: undefined,
    };
    this.#sessions.set(session.id, session);
    session.authTimer = setTimeout(() => {
      if (session.state !== 'hello') return;
      this.#refuse(session, 'auth_timeout', 'no auth before the timeout');
      this.#close(session, CloseCode.timeout, 'auth timeout');
    }, this.#authTimeoutMs);
    session.authTimer.unref();
    this.#send(session, { op: 'hello', nonce: session.nonce, version: PROTOCOL_VERSION, hub: this.instance });
    return {
      message: (data: Buffer, isBinary: boolean) => this.#onMessage(session, data, isBinary),
      drain: () => this.#maybeResume(session),
      close: (code: number, reason: string) => this.#onClose(session, code, reason),
    };
  }

  #onClose(session: Session, code: number, reason: string): void {
    clearTimeout(session.authTimer);
    session.state = 'closed';
    this.#sessions.delete(session.id);
    if (session.peer !== undefined && this.#byPeer.get(session.peer) === session)
      this.#byPeer.delete(session.peer);
    for (const stream of session.streams) this.#leaveStream(session, stream);
    session.streams.clear();
    for (const [group, changed] of this.#slots.releaseAll(session.id)) this.#pushSlots(group, changed);
    this.#log.info('peer disconnected', {
      peer: session.peer ?? null,
      role: session.role ?? null,
      connection: session.id,
      code,
      reason: reason.slice(0, 80),
    });
  }

  #close(session: Session, code: number, reason: string): void {
    if (session.state === 'closed' || session.closing) return;
    session.closing = true;
    this.metrics.closed(reason.replaceAll(' ', '_'));
    session.connection.close(code, reason);
  }

  #send(session: Session, message: ServerMessage): void {
    if (session.connection.sendText(JSON.stringify(message))) {
      session.messagesOut += 1;
      this.metrics.messagesOut += 1;
    }
  }

  /** Counts a refused input, logs a sample (rate-limited per reason and peer). */
  #refuse(session: Session, reason: string, detail: string, count = 1): void {
    this.metrics.reject(reason, count);
    const key = `${reason}:${session.peer ?? session.connection.remoteAddress}`;
    const suppressed = this.#throttle.allow(key, Date.now());
    if (suppressed !== undefined) {
      this.#log.warn('refused input', {
        reason,
        detail: detail.slice(0, 200),
        peer: session.peer ?? null,
        connection: session.id,
        remote: session.connection.remoteAddress,
        suppressed,
      });
    }
  }

  /** Sends an `error` reply, at most 20 a second per peer (a flood of bad input gets no flood back). */
  #replyError(session: Session, code: ControlErrorCode, message: string, id?: number): void {
    const now = Date.now();
    if (now - session.errorWindowStart >= 1_000) {
      session.errorWindowStart = now;
      session.errorsInWindow = 0;
    }
    session.errorsInWindow += 1;
    if (session.errorsInWindow > 20) return;
    this.#send(
      session,
      id === undefined ? { op: 'error', code, message } : { op: 'error', id, code, message },
    );
  }

  #onMessage(session: Session, data: Buffer, isBinary: boolean): void {
    if (session.state === 'closed' || session.closing) return;
    const now = Date.now();
    session.lastSeen = now;
    session.messagesIn += 1;
    session.bytesIn += data.length;
    this.metrics.messagesIn += 1;
    this.metrics.bytesIn += data.length;
    if (data.length > this.#maxMessageBytes) {
      this.#refuse(session, 'oversized', `${data.length} bytes > ${this.#maxMessageBytes}`);
      if (session.state === 'hello') this.#close(session, CloseCode.badRequest, 'oversized before auth');
      else
        this.#replyError(
          session,
          'oversized',
          `message of ${data.length} bytes exceeds ${this.#maxMessageBytes}`,
        );
      return;
    }
    if (!session.budget.take(data.length, now)) {
      this.#onFlood(session, now);
      return;
    }
    if (session.state === 'hello') {
      this.#authenticate(session, data, isBinary);
      return;
    }
    if (isBinary) {
      if (session.role !== 'collector') {
        this.#refuse(session, 'forbidden', `binary frame from a ${session.role ?? 'peer'}`);
        this.#replyError(session, 'forbidden', 'only collectors send frames');
        return;
      }
      this.#pending.add(data, session, performance.now());
      if (!this.#turnScheduled) {
        this.#turnScheduled = true;
        setImmediate(() => this.#turn());
      }
      return;
    }
    const message = parseClientMessage(data.toString('utf8'));
    if (message instanceof ControlError) {
      this.#refuse(session, message.code, message.message);
      this.#replyError(session, message.code, message.message, message.id);
      return;
    }
    try {
      this.#dispatch(session, message);
    } catch (error) {
      if (error instanceof ControlError) {
        this.#refuse(session, error.code, error.message);
        this.#replyError(session, error.code, error.message, error.id);
        return;
      }
      // A failure of the hub itself: counted, logged with context, answered; the hub keeps serving.
      const text = error instanceof Error ? error.message : String(error);
      this.metrics.reject('internal');
      this.#log.error('control op failed', { op: message.op, peer: session.peer ?? null, error: text });
      this.#replyError(session, 'internal', `${message.op} failed: ${text}`, message.id);
    }
  }

  #onFlood(session: Session, now: number): void {
    if (now - session.refusedWindowStart >= 1_000) {
      session.refusedWindowStart = now;
      session.refusedInWindow = 0;
    }
    session.refusedInWindow += 1;
    this.#refuse(session, 'flood', 'over the message/byte budget');
    if (session.refusedInWindow === 1)
      this.#replyError(session, 'throttled', 'over budget: messages are being dropped');
    if (session.refusedInWindow > this.#floodDisconnectPerSecond)
      this.#close(session, CloseCode.flood, 'flood');
  }

  #authenticate(session: Session, data: Buffer, isBinary: boolean): void {
    const message = isBinary ? undefined : parseClientMessage(data.toString('utf8'));
    if (message === undefined || message instanceof ControlError || message.op !== 'auth') {
      const detail =
        message === undefined
          ? 'binary frame'
          : message instanceof ControlError
            ? message.message
            : message.op;
      this.#refuse(session, 'unauthenticated', `before auth: ${detail}`);
      this.#replyError(session, 'not_authenticated', 'the first message must be auth');
      this.#close(session, CloseCode.badRequest, 'not authenticated');
      return;
    }
    if (!verifyAuthMac(this.#secret, session.nonce, message.peer, message.role, message.mac)) {
      this.#refuse(session, 'bad_mac', `auth failed for ${message.peer}`);
      this.#replyError(session, 'not_authenticated', 'authentication failed', message.id);
      this.#close(session, CloseCode.unauthorized, 'bad credentials');
      return;
    }
    clearTimeout(session.authTimer);
    const previous = this.#byPeer.get(message.peer);
    if (previous !== undefined && previous !== session) {
      this.#log.warn('peer reconnected, closing its previous connection', {
        peer: message.peer,
        previous: previous.id,
        connection: session.id,
      });
      this.#close(previous, CloseCode.replaced, 'replaced');
    }
    let peerId = this.#peerIds.get(message.peer);
    if (peerId === undefined) {
      peerId = this.#peerIds.size + 1;
      if (peerId > 0xffff) {
        this.#refuse(session, 'too_many_peers', 'peer ids exhausted');
        this.#close(session, CloseCode.forbidden, 'too many peers');
        return;
      }
      this.#peerIds.set(message.peer, peerId);
    }
    session.state = 'ready';
    session.peer = message.peer;
    session.role = message.role;
    session.kind = message.kind;
    session.peerId = peerId;
    this.#byPeer.set(message.peer, session);
    if (message.role === 'collector' && !this.#collectors.has(message.peer)) {
      this.#collectors.set(message.peer, {
        peer: message.peer,
        peerId,
        kind: message.kind,
        frames: 0,
        lastIngestAt: null,
      });
    }
    const welcome: ServerMessage = {
      op: 'welcome',
      peerId,
      peer: message.peer,
      role: message.role,
      version: PROTOCOL_VERSION,
      hub: this.instance,
      symbols: [...this.symbols.names],
      symbolsVersion: this.symbols.version,
      heartbeatMs: this.#heartbeatMs,
      idleTimeoutMs: this.#idleTimeoutMs,
    };
    if (message.id !== undefined) welcome.id = message.id;
    this.#send(session, welcome);
    this.#log.info('peer authenticated', {
      peer: message.peer,
      role: message.role,
      kind: message.kind ?? null,
      peerId,
      connection: session.id,
      remote: session.connection.remoteAddress,
    });
  }

  // ── control ops ────────────────────────────────────────────────────────────────────────

  #require(session: Session, roles: readonly PeerRole[], op: string, id: number | undefined): void {
    if (session.role === undefined || !roles.includes(session.role)) {
      throw new ControlError('forbidden', `${op} is for ${roles.join(' and ')} peers`, id);
    }
  }

  #reply(session: Session, id: number | undefined, message: ReplyMessage): void {
    this.#send(session, id === undefined ? message : { ...message, id });
  }

  #dispatch(session: Session, message: ClientMessage): void {
    const id = message.id;
    switch (message.op) {
      case 'auth':
        throw new ControlError('already_authenticated', 'this connection is already authenticated', id);
      case 'ping':
        this.#reply(session, id, { op: 'pong', time: Date.now() });
        return;
      case 'symbols':
        this.#reply(session, id, {
          op: 'symbols',
          symbols: [...this.symbols.names],
          version: this.symbols.version,
        });
        return;
      case 'symbols.set': {
        this.#require(session, ['collector'], message.op, id);
        const changed = this.symbols.setActive(message.symbols);
        this.#log.info('symbol universe set', {
          peer: session.peer ?? null,
          active: message.symbols.length,
          changed,
        });
        this.#reply(session, id, { op: 'ok' });
        if (changed) this.#broadcastSymbols();
        return;
      }
      case 'cursor.next': {
        this.#require(session, ['collector'], message.op, id);
        const active = this.symbols.active;
        if (active.length === 0) throw new ControlError('no_symbols', 'the symbol universe is empty', id);
        let index: number;
        try {
          index = this.#cursor.next(message.kind, active.length);
        } catch (error) {
          if (error instanceof CursorLimitError) throw new ControlError('forbidden', error.message, id);
          throw error;
        }
        const symbolId = active[index] ?? 0;
        this.#reply(session, id, {
          op: 'cursor',
          kind: message.kind,
          index,
          count: active.length,
          symbolId,
          symbol: this.symbols.name(symbolId) ?? '',
        });
        return;
      }
      case 'slot.register': {
        this.#require(session, ['collector'], message.op, id);
        const changed = this.#slots.register(message.group, session.id);
        session.slotGroups.add(message.group);
        const own = this.#slots.slotOf(message.group, session.id);
        if (own !== undefined)
          this.#reply(session, id, { op: 'slot', group: message.group, k: own.k, n: own.n });
        this.#pushSlots(
          message.group,
          changed.filter((s) => s.member !== session.id),
        );
        return;
      }
      case 'slot.release': {
        this.#require(session, ['collector'], message.op, id);
        session.slotGroups.delete(message.group);
        this.#pushSlots(message.group, this.#slots.release(message.group, session.id));
        this.#reply(session, id, { op: 'ok' });
        return;
      }
      case 'subscribe':
        this.#require(session, ['trader', 'viewer'], message.op, id);
        this.#subscribe(session, message, id);
        return;
      case 'unsubscribe': {
        this.#require(session, ['trader', 'viewer'], message.op, id);
        if (!session.streams.has(message.stream)) {
          throw new ControlError('unknown_stream', `not subscribed to stream ${message.stream}`, id);
        }
        session.streams.delete(message.stream);
        this.#leaveStream(session, message.stream);
        this.#reply(session, id, { op: 'unsubscribed', stream: message.stream });
        return;
      }
      case 'snapshot': {
        this.#require(session, ['trader', 'viewer'], message.op, id);
        if (!session.streams.has(message.stream)) {
          throw new ControlError('unknown_stream', `not subscribed to stream ${message.stream}`, id);
        }
        this.metrics.snapshotsRequested += 1;
        if (session.mode === 'snapshot') {
          // It gets fresh snapshots of every stream when it drains; sending more now adds to the pile.
          this.#reply(session, id, { op: 'ok' });
          return;
        }
        const frame = this.book.topicSnapshotFrame(message.stream, Date.now());
        const seq = this.book.topicSeq(message.stream) ?? 0;
        session.connection.cork(() => {
          this.#sendFrame(session, frame);
          this.#reply(session, id, { op: 'snapshot', stream: message.stream, seq });
        });
        return;
      }
      case 'ranks': {
        const symbols = message.top === undefined ? this.#ranks : this.#ranks.slice(0, message.top);
        this.#reply(session, id, { op: 'ranks', symbols: [...symbols], updatedAt: this.#ranksUpdatedAt });
        return;
      }
      case 'ranks.set': {
        this.#require(session, ['collector'], message.op, id);
        const unknown = message.symbols.find((s) => this.symbols.id(s) === undefined);
        if (unknown !== undefined) throw new ControlError('unknown_symbol', `unknown symbol ${unknown}`, id);
        this.#ranks = [...message.symbols];
        this.#ranksUpdatedAt = Date.now();
        this.#reply(session, id, { op: 'ok' });
        return;
      }
      case 'status':
        this.#reply(session, id, { op: 'status', status: this.status() });
        return;
      case 'report':
        session.report = message.status;
        session.reportedAt = Date.now();
        if (id !== undefined) this.#reply(session, id, { op: 'ok' });
        return;
      case 'events.subscribe':
        this.#require(session, ['trader', 'viewer'], message.op, id);
        session.wantsEvents = true;
        this.#reply(session, id, { op: 'ok' });
        return;
      case 'events.publish': {
        this.#require(session, ['collector'], message.op, id);
        this.#eventSeq += 1;
        this.metrics.eventsRelayed += message.events.length;
        const push: ServerMessage = { op: 'events', seq: this.#eventSeq, events: message.events };
        for (const other of this.#sessions.values()) {
          if (!other.wantsEvents || other.closing) continue;
          this.#send(other, push);
          this.metrics.eventDeliveries += 1;
        }
        // Fire-and-forget without an id; a reply only when the publisher asked for one.
        if (id !== undefined) this.#reply(session, id, { op: 'ok' });
        return;
      }
    }
  }

  #subscribe(session: Session, request: ClientMessage & { op: 'subscribe' }, id: number | undefined): void {
    const filter = normaliseFilter(request, this.symbols, id);
    if (session.streams.size >= this.#maxStreamsPerPeer) {
      throw new ControlError('forbidden', `at most ${this.#maxStreamsPerPeer} streams per peer`, id);
    }
    const { stream, created } = this.#streams.acquire(filter, session.id);
    if (created) this.book.addTopic(stream.id, nativeFilter(filter));
    if (session.streams.has(stream.id)) {
      // Same filter again: answer with the stream and a fresh snapshot, nothing else changes.
      this.metrics.snapshotsRequested += 1;
    }
    session.streams.add(stream.id);
    const seq = this.book.topicSeq(stream.id) ?? 0;
    this.#reply(session, id, { op: 'subscribed', stream: stream.id, seq });
    if (session.mode === 'snapshot') return;
    session.connection.subscribe(topicName(stream.id));
    this.metrics.snapshotsOnSubscribe += 1;
    this.#sendFrame(session, this.book.topicSnapshotFrame(stream.id, Date.now()));
    this.#log.info('subscribed', { peer: session.peer ?? null, stream: stream.id, created, seq });
  }

  #leaveStream(session: Session, streamId: number): void {
    session.connection.unsubscribe(topicName(streamId));
    if (this.#streams.release(streamId, session.id)) this.book.removeTopic(streamId);
  }

  #sendFrame(session: Session, frame: Uint8Array): void {
    if (session.connection.sendBinary(frame)) {
      session.messagesOut += 1;
      this.metrics.messagesOut += 1;
      this.metrics.bytesOut += frame.length;
    }
  }

  #pushSlots(group: string, changed: Slot[]): void {
    for (const slot of changed) {
      const member = this.#sessions.get(slot.member);
      if (member !== undefined) this.#send(member, { op: 'slot', group, k: slot.k, n: slot.n });
    }
  }

  #broadcastSymbols(): void {
    const message: ServerMessage = {
      op: 'symbols',
      symbols: [...this.symbols.names],
      version: this.symbols.version,
    };
    for (const session of this.#sessions.values()) {
      if (session.state === 'ready') this.#send(session, message);
    }
  }

  // ── ingest turn ────────────────────────────────────────────────────────────────────────

  /**
   * Once per event-loop turn: merge every Ingest frame of the turn (one native call), encode one
   * Delta frame per stream with changes (one native call) and publish them; the bookkeeping comes
   * after the publish, so it never delays what subscribers wait for.
   */
  #turn(): void {
    this.#turnScheduled = false;
    const batch = this.#pending;
    if (batch.size === 0) return;
    this.#pending = new IngestBatch();
    if (this.#closed) return;
    const receivedAt = Date.now();
    const result = this.book.ingestFrom(batch.frames, batch.sources, receivedAt);
    const taken = this.book.takeTopicFrames(Date.now());
    if (taken.frames.length > 0) {
      this.#transport.batch(() => {
        for (const { stream, frame } of taken.frames) this.#transport.publish(topicName(stream), frame);
      });
    }
    const published = performance.now();
    this.#afterIngest(batch, result, receivedAt);
    this.#afterPublish(taken);
    const m = this.metrics;
    for (const arrival of batch.arrivals) m.recordLatencyUs((published - arrival) * 1000);
  }

  /** Counts the turn's merge, answers frames the codec refused, and updates collector freshness. */
  #afterIngest(batch: IngestBatch, result: IngestManyResult, receivedAt: number): void {
    const m = this.metrics;
    let failed: Set<number> | undefined;
    for (const failure of result.failures) {
      failed ??= new Set();
      failed.add(failure.index);
      const session = batch.sessions[failure.index];
      if (session === undefined) continue;
      this.#refuse(session, `frame_${failure.code}`, failure.message);
      this.#replyError(session, 'bad_frame', `${failure.code}: ${failure.message}`);
    }
    if (result.rejected.length > 0) {
      m.reject('invalid_record', result.rejected.length);
      const key = 'invalid_record';
      const suppressed = this.#throttle.allow(key, receivedAt);
      if (suppressed !== undefined) {
        this.#log.warn('merge book refused records', {
          count: result.rejected.length,
          first: result.rejected[0]?.message.slice(0, 200) ?? null,
          suppressed,
        });
      }
    }
    const merged = batch.size - (failed?.size ?? 0);
    m.ingestFrames += merged;
    m.recordsChanged += result.changed;
    m.recordsUnchanged += result.unchanged;
    m.recordsDropped += result.dropped;
    if (result.changed === 0) m.framesWithoutChange += merged;
    let lastSession: Session | undefined;
    let lastRecord: CollectorRecord | undefined;
    for (let index = 0; index < batch.size; index++) {
      const session = batch.sessions[index];
      if (session === undefined || failed?.has(index) === true) continue;
      session.ingestFrames += 1;
      // A turn's frames mostly come from a few collectors: look each one up once.
      if (session !== lastSession) {
        lastSession = session;
        lastRecord = session.peer === undefined ? undefined : this.#collectors.get(session.peer);
      }
      if (lastRecord !== undefined) {
        lastRecord.frames += 1;
        lastRecord.lastIngestAt = receivedAt;
      }
    }
  }

  /** Logs frames that could not be encoded, counts what went out, and checks each subscriber's back-pressure. */
  #afterPublish(taken: TopicFramesResult): void {
    for (const failure of taken.failures) {
      this.metrics.encodeFailures += 1;
      this.#log.error('delta frame could not be encoded; subscribers will see a gap', {
        stream: failure.stream,
        seq: failure.seq,
        code: failure.code,
        message: failure.message,
      });
    }
    if (taken.frames.length === 0) return;
    const touched = new Set<Session>();
    for (const { stream, frame } of taken.frames) {
      this.metrics.deltaFrames += 1;
      const subscribers = this.#streams.get(stream)?.subscribers;
      if (subscribers === undefined) continue;
      for (const sessionId of subscribers) {
        const session = this.#sessions.get(sessionId);
        if (session === undefined || session.mode !== 'live') continue;
        session.messagesOut += 1;
        this.metrics.messagesOut += 1;
        this.metrics.bytesOut += frame.length;
        touched.add(session);
      }
    }
    for (const session of touched) this.#checkBackpressure(session);
  }

  #checkBackpressure(session: Session): void {
    const buffered = session.connection.bufferedAmount();
    if (buffered > this.#backpressure.disconnectBytes) {
      this.metrics.backpressureDisconnects += 1;
      this.#log.warn('slow subscriber disconnected', { peer: session.peer ?? null, buffered });
      this.#close(session, CloseCode.slowConsumer, 'slow consumer');
      return;
    }
    if (session.mode === 'live' && buffered > this.#backpressure.snapshotModeBytes) {
      session.mode = 'snapshot';
      for (const stream of session.streams) session.connection.unsubscribe(topicName(stream));
      this.metrics.backpressureSnapshotMode += 1;
      this.#log.warn('slow subscriber switched to snapshot mode', { peer: session.peer ?? null, buffered });
      this.#send(session, { op: 'mode', mode: 'snapshot', reason: 'backpressure' });
    }
  }

  /** A subscriber in snapshot mode that drained gets a fresh snapshot of each stream and goes live. */
  #maybeResume(session: Session): void {
    if (session.mode !== 'snapshot' || session.state !== 'ready') return;
    if (session.connection.bufferedAmount() > this.#backpressure.resumeBytes) return;
    session.mode = 'live';
    this.metrics.backpressureResumes += 1;
    const now = Date.now();
    session.connection.cork(() => {
      this.#send(session, { op: 'mode', mode: 'live', reason: 'drained' });
      for (const stream of session.streams) {
        session.connection.subscribe(topicName(stream));
        this.metrics.snapshotsOnResume += 1;
        this.#sendFrame(session, this.book.topicSnapshotFrame(stream, now));
      }
    });
    this.#log.info('subscriber drained, back to live', { peer: session.peer ?? null });
  }

  #resumeDrained(): void {
    for (const session of this.#sessions.values()) {
      if (session.mode === 'snapshot') this.#maybeResume(session);
    }
  }

  // ── timers ─────────────────────────────────────────────────────────────────────────────

  #heartbeat(): void {
    const now = Date.now();
    for (const session of this.#sessions.values()) {
      if (session.state !== 'ready') continue;
      if (now - session.lastSeen > this.#idleTimeoutMs) {
        this.#refuse(session, 'idle', `silent for ${now - session.lastSeen} ms`);
        this.#close(session, CloseCode.timeout, 'idle timeout');
        continue;
      }
      this.#send(session, { op: 'heartbeat', time: now });
    }
  }

  #periodicSnapshots(): void {
    this.#transport.batch(() => this.#publishSnapshots(Date.now()));
  }

  #publishSnapshots(now: number): void {
    for (const stream of this.#streams.all()) {
      let frame: Buffer;
      try {
        frame = this.book.topicSnapshotFrame(stream.id, now);
      } catch (error) {
        if (!(error instanceof NativeError)) throw error;
        this.metrics.encodeFailures += 1;
        this.#log.error('periodic snapshot failed', {
          stream: stream.id,
          code: error.code,
          message: error.message,
        });
        continue;
      }
      this.#transport.publish(topicName(stream.id), frame);
      this.metrics.snapshotsPeriodic += 1;
      for (const sessionId of stream.subscribers) {
        const session = this.#sessions.get(sessionId);
        if (session !== undefined && session.mode === 'live') {
          session.messagesOut += 1;
          this.metrics.messagesOut += 1;
          this.metrics.bytesOut += frame.length;
        }
      }
    }
  }
}
