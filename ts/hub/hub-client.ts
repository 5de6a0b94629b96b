// The hub client for collectors, traders and viewers: connect, authenticate, reconnect, requests, frames.
import WebSocket, { type RawData } from 'ws';
import { Logger } from '../log/logger.js';
import type { WireVersion } from '../native/hub.js';
import { hostName, processStartedAt, releaseVersion } from '../process/release-info.js';
import { type CancelDeadline, replyDeadline } from '../process/reply-deadline.js';
import {
  type ClientMessage,
  type ControlErrorCode,
  MAX_REPORT_CHARS,
  type PeerRole,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ServerMessage,
  ServerMessageError,
  type SubscriptionRequest,
  WIRE_SUBSCRIBE_VERSION,
  WIRE_TICK_ROWS_VERSION,
} from './control-messages.js';
import type { HubClientTls } from './hub-tls.js';
import { authMac } from './peer-auth.js';
import type { HubKeyCredentials } from './peer-keys.js';
import type { AlertWire } from './relayed-alerts.js';

/** Largest field of a report over the hub's limit that the reduced report still carries (characters of JSON). */
const REPORT_FIELD_KEPT_CHARS = 2048;

/** Where the client is. `ready` is emitted again after every reconnect: re-register then. */
export type HubClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed' | 'failed';

/** Reconnect policy: delays double from `initialMs` up to `maxMs`, with jitter, at most `maxAttempts` in a row. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** Options of a {@link HubClient}. */
export interface HubClientOptions {
  /** `ws://host:port/` of the hub (`wss://` when it speaks TLS). */
  url: string;
  /**
   * For `wss://`: the CA the hub's certificate must chain to (no other is trusted) and, for a hub
   * that requires one, this peer's certificate and key.
   */
  tls?: HubClientTls;
  /**
   * This peer's name (unique per peer; a second connection with the same name replaces the first).
   * The key must allow it.
   */
  peer: string;
  /** Collector kind (`kline`, `tick`, ...), shown in the hub's status. */
  kind?: string;
  /**
   * The peer's key (`tributary keys issue`): its id, and its secret, which is never logged or
   * sent (only the MAC travels). The key gives the role.
   */
  key: HubKeyCredentials;
  logger?: Logger;
  /** Default 5,000 ms. */
  requestTimeoutMs?: number;
  /** Open + hello + welcome must finish within this; default 5,000 ms. */
  connectTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
}

/** What the hub said when it accepted this peer. */
export interface Welcome {
  peerId: number;
  peer: string;
  /** The role the key gives. */
  role: PeerRole;
  /** The key's id. */
  key: string;
  hub: string;
  version: number;
  symbols: string[];
  symbolsVersion: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  /** Largest message the hub processes (split bigger data: docs/protocol.md, Batching). */
  maxMessageBytes: number;
}

/** The hub answered a request with `error`, or the request timed out or lost its connection. */
export class HubRequestError extends Error {
  override readonly name = 'HubRequestError';
  constructor(
    readonly op: string,
    readonly code: ControlErrorCode | 'timeout' | 'disconnected' | 'not_connected',
    message: string,
  ) {
    super(`${op}: ${code}: ${message}`);
  }
}

/** The client could not (re)connect: authentication refused, attempts exhausted, or closed. */
export class HubConnectionError extends Error {
  override readonly name = 'HubConnectionError';
}

/** A request without its `id` (the client numbers requests). */
export type HubRequest = ClientMessage extends infer M
  ? M extends ClientMessage
    ? Omit<M, 'id'>
    : never
  : never;

interface PendingRequest {
  op: string;
  resolve(message: ServerMessage): void;
  reject(error: Error): void;
  cancelDeadline: CancelDeadline;
}

/** Close codes after which retrying cannot help (the configuration is wrong). */
const FATAL_CLOSE_CODES = new Set([4401, 4403, 4426]);

/**
 * A connection to the hub that stays up: it authenticates (HMAC of the hub's nonce), reconnects
 * with jittered, bounded exponential backoff, keeps the link alive with pings, and detects a
 * silent hub. Binary frames are delivered in batches, one per event-loop turn.
 */
export class HubClient {
  readonly #options: HubClientOptions;
  readonly #log: Logger;
  /** The fields the last reduced report left out (`''`: none yet), so the warning is logged once per change. */
  #reportOmitted = '';
  readonly #backoff: BackoffOptions;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #stateListeners = new Set<(state: HubClientState, welcome: Welcome | undefined) => void>();
  readonly #frameListeners = new Set<(frames: Buffer[]) => void>();
  readonly #messageListeners = new Set<(message: ServerMessage) => void>();
  readonly #pending = new Map<number, PendingRequest>();
  #state: HubClientState = 'idle';
  #welcome: Welcome | undefined;
  #symbols: string[] = [];
  #ws: WebSocket | undefined;
  #nextId = 1;
  #frames: Buffer[] = [];
  #flushScheduled = false;
  #keepAlive: NodeJS.Timeout | undefined;
  #lastHeard = 0;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #firstReady: { resolve(w: Welcome): void; reject(e: Error): void } | undefined;
  #reconnects = 0;

  constructor(options: HubClientOptions) {
    this.#options = options;
    this.#log = (options.logger ?? new Logger('hub-client')).child(options.peer);
    this.#backoff = {
      initialMs: options.backoff?.initialMs ?? 200,
      maxMs: options.backoff?.maxMs ?? 5_000,
      maxAttempts: options.backoff?.maxAttempts ?? 10_000,
    };
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  }

  get state(): HubClientState {
    return this.#state;
  }

  /** The welcome of the current connection (undefined while not ready). */
  get welcome(): Welcome | undefined {
    return this.#state === 'ready' ? this.#welcome : undefined;
  }

  /** The id the hub gave this peer (the `source` of its frames); 0 before the first welcome. */
  get peerId(): number {
    return this.#welcome?.peerId ?? 0;
  }

  /** The hub's symbol list in id order, as last received (welcome or `symbols` push). */
  get symbols(): readonly string[] {
    return this.#symbols;
  }

  /** Reconnections since start. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /**
   * Resolves with the state once the first connection attempt has ended (`ready`, or for now not:
   * `reconnecting`, `failed`, `closed`), or after `timeoutMs`; at once when it already has. A
   * reader that would take a client still connecting at start for an unreachable hub waits here.
   */
  firstAttempt(timeoutMs: number): Promise<HubClientState> {
    if (this.#state !== 'idle' && this.#state !== 'connecting') return Promise.resolve(this.#state);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(this.#state);
      }, timeoutMs);
      const off = this.onState((state) => {
        if (state === 'idle' || state === 'connecting') return;
        clearTimeout(timer);
        off();
        resolve(state);
      });
    });
  }

  /** Called on every state change (`ready` with the welcome). Returns an unsubscribe function. */
  onState(listener: (state: HubClientState, welcome: Welcome | undefined) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Called once per event-loop turn with the binary frames received in it, in order. */
  onFrames(listener: (frames: Buffer[]) => void): () => void {
    this.#frameListeners.add(listener);
    return () => this.#frameListeners.delete(listener);
  }

  /** Called for every hub message that is not a reply: `symbols`, `slot`, `mode`, `heartbeat`, `error`. */
  onMessage(listener: (message: ServerMessage) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  /**
   * Starts the connection loop; resolves with the first welcome. Rejects when the hub refuses the
   * credentials, the attempts run out, or the client is closed first.
   */
  connect(): Promise<Welcome> {
    if (this.#state === 'ready' && this.#welcome !== undefined) return Promise.resolve(this.#welcome);
    if (this.#state === 'closed' || this.#state === 'failed') {
      return Promise.reject(new HubConnectionError(`client is ${this.#state}`));
    }
    const first = new Promise<Welcome>((resolve, reject) => {
      const previous = this.#firstReady;
      this.#firstReady = {
        resolve: (w) => {
          previous?.resolve(w);
          resolve(w);
        },
        reject: (e) => {
          previous?.reject(e);
          reject(e);
        },
      };
    });
    if (this.#running === undefined) this.#running = this.#loop();
    return first;
  }

  /** Closes the connection and stops reconnecting; pending requests fail with `disconnected`. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    this.#wake?.();
    this.#ws?.close(1000, 'client closing');
    this.#firstReady?.reject(new HubConnectionError('client closed'));
    this.#firstReady = undefined;
    await this.#running;
  }

  /**
   * Drops the current connection (when it is of no use, say a subscription it cannot get); the
   * connection loop reconnects with its backoff, and `ready` comes again. Nothing when not connected.
   */
  dropConnection(reason: string): void {
    const ws = this.#ws;
    if (ws === undefined || this.#state === 'closed') return;
    this.#log.warn('dropping the hub connection to reconnect', { reason });
    ws.terminate();
  }

  /** Sends a control request and resolves with its reply; rejects with a {@link HubRequestError}. */
  request(message: HubRequest, timeoutMs = this.#requestTimeoutMs): Promise<ServerMessage> {
    const ws = this.#ws;
    if (this.#state !== 'ready' || ws === undefined) {
      return Promise.reject(new HubRequestError(message.op, 'not_connected', `client is ${this.#state}`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const cancelDeadline = replyDeadline(timeoutMs, () => {
        this.#pending.delete(id);
        reject(new HubRequestError(message.op, 'timeout', `no reply within ${timeoutMs} ms`));
      });
      this.#pending.set(id, { op: message.op, resolve, reject, cancelDeadline });
      ws.send(JSON.stringify({ ...message, id }));
    });
  }

  /** Sends one Ingest frame; false when not connected (the caller keeps or drops its data). */
  sendIngest(frame: Uint8Array): boolean {
    if (this.#state !== 'ready' || this.#ws === undefined) return false;
    this.#ws.send(frame, { binary: true });
    return true;
  }

  /**
   * Relays raw exchange events (order updates from the user data stream) to the hub's event
   * subscribers; fire and forget like `sendIngest`. False when not connected.
   */
  publishEvents(events: readonly Buffer[]): boolean {
    if (this.#state !== 'ready' || this.#ws === undefined || events.length === 0) return false;
    this.#ws.send(JSON.stringify({ op: 'events.publish', events: events.map((e) => e.toString('utf8')) }));
    return true;
  }

  /**
   * Reports this peer's own counters to the hub, which shows them in `/status` (fire and forget;
   * false when not connected).
   */
  report(status: object): boolean {
    if (this.#state !== 'ready' || this.#ws === undefined) return false;
    // Serialised once: its length decides whether it goes whole.
    const text = JSON.stringify(status);
    const sent =
      text.length <= MAX_REPORT_CHARS ? text : JSON.stringify(this.#reducedReport(status, text.length));
    this.#ws.send(`{"op":"report","status":${sent}}`);
    return true;
  }

  /**
   * A report the hub would refuse whole, without its large fields: the hub shows the rest, and
   * which fields were left out (`omitted`) and how large it was (`reportChars`); logged when the
   * fields left out change, not every report.
   */
  #reducedReport(status: object, chars: number): Record<string, unknown> {
    const kept: Record<string, unknown> = {};
    const omitted: string[] = [];
    for (const [key, value] of Object.entries(status)) {
      if ((JSON.stringify(value) ?? '').length <= REPORT_FIELD_KEPT_CHARS) kept[key] = value;
      else omitted.push(key);
    }
    const reduced = { ...kept, omitted, reportChars: chars };
    const sent =
      JSON.stringify(reduced).length <= MAX_REPORT_CHARS
        ? reduced
        : { omitted: Object.keys(status), reportChars: chars };
    const named = sent.omitted.join(',');
    if (named !== this.#reportOmitted) {
      this.#reportOmitted = named;
      this.#log.warn("status report over the hub's limit; its large fields are left out", {
        chars,
        limit: MAX_REPORT_CHARS,
        omitted: named,
      });
    }
    return sent;
  }

  /** Asks the hub for relayed exchange events (`op: 'events'` messages through `onMessage`). */
  async subscribeEvents(): Promise<void> {
    this.#expect(await this.request({ op: 'events.subscribe' }), 'ok');
  }

  /**
   * Publishes alerts this process raised; resolves when the hub took them (relayed to the
   * recorder). Needs a hub of protocol version 5 (`welcome.version`).
   */
  async publishAlerts(alerts: readonly AlertWire[]): Promise<void> {
    this.#expect(await this.request({ op: 'alerts.publish', alerts: [...alerts] }), 'ok');
  }

  /**
   * Asks the hub for every process's alerts (`op: 'alerts'` messages through `onMessage`): first
   * those it kept with a `seq` after `after` (all it kept without), then each as it is raised.
   */
  async subscribeAlerts(after?: number): Promise<void> {
    this.#expect(
      await this.request(
        after === undefined ? { op: 'alerts.subscribe' } : { op: 'alerts.subscribe', after },
      ),
      'ok',
    );
  }

  /** Bytes queued to the hub and not yet written (the caller's own back-pressure signal). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  // ── typed helpers over request() ───────────────────────────────────────────────────────

  async ping(): Promise<number> {
    return this.#expect(await this.request({ op: 'ping' }), 'pong').time;
  }

  /**
   * The next symbol to poll for `kind` (DESIGN.md 4, cursor). With `count`, the next position in
   * `[0, count)` of the caller's own list instead (the cursor wraps there; `symbol` is empty).
   */
  async cursorNext(
    kind: string,
    count?: number,
  ): Promise<{ index: number; count: number; symbolId: number; symbol: string }> {
    const request =
      count === undefined
        ? { op: 'cursor.next' as const, kind }
        : { op: 'cursor.next' as const, kind, count };
    const reply = this.#expect(await this.request(request), 'cursor');
    return { index: reply.index, count: reply.count, symbolId: reply.symbolId, symbol: reply.symbol };
  }

  /** Registers in a slot group (default `tick`); later changes arrive as `slot` messages. */
  async registerSlot(group = 'tick'): Promise<{ k: number; n: number }> {
    const reply = this.#expect(await this.request({ op: 'slot.register', group }), 'slot');
    return { k: reply.k, n: reply.n };
  }

  async releaseSlot(group = 'tick'): Promise<void> {
    this.#expect(await this.request({ op: 'slot.release', group }), 'ok');
  }

  /**
   * Subscribes; the stream's Snapshot frame follows the reply. `request.wire` is sent only to a
   * hub of protocol 5 or later (an older one would refuse the field and speaks wire 1 only), and
   * 3 only to a hub of protocol 6 or later (an older one is asked for 2); `wire` in the result is
   * the encoding the stream's Delta frames use.
   */
  async subscribe(request: SubscriptionRequest): Promise<{ stream: number; seq: number; wire: WireVersion }> {
    const { wire: asked, ...filter } = request;
    const version = this.#welcome?.version ?? 0;
    const wire = asked === 3 && version < WIRE_TICK_ROWS_VERSION ? 2 : asked;
    const message =
      wire === undefined || version < WIRE_SUBSCRIBE_VERSION
        ? { op: 'subscribe' as const, ...filter }
        : { op: 'subscribe' as const, ...filter, wire };
    const reply = this.#expect(await this.request(message), 'subscribed');
    return { stream: reply.stream, seq: reply.seq, wire: reply.wire ?? 1 };
  }

  async unsubscribe(stream: number): Promise<void> {
    this.#expect(await this.request({ op: 'unsubscribe', stream }), 'unsubscribed');
  }

  /** Asks for a stream's snapshot; the Snapshot frame arrives before the reply. */
  async snapshot(stream: number): Promise<void> {
    const reply = await this.request({ op: 'snapshot', stream });
    if (reply.op !== 'snapshot' && reply.op !== 'ok') this.#unexpected('snapshot', reply);
  }

  async fetchSymbols(): Promise<{ symbols: string[]; version: number }> {
    const reply = this.#expect(await this.request({ op: 'symbols' }), 'symbols');
    this.#symbols = reply.symbols;
    return { symbols: reply.symbols, version: reply.version };
  }

  /** Sets the active symbol universe (the universe collector). */
  async setSymbols(symbols: string[]): Promise<void> {
    this.#expect(await this.request({ op: 'symbols.set', symbols }), 'ok');
  }

  /** Symbols by 24 h volume, highest first (the hot-kline collectors' filter). */
  async ranks(top?: number): Promise<{ symbols: string[]; updatedAt: number | null }> {
    const reply = this.#expect(
      await this.request(top === undefined ? { op: 'ranks' } : { op: 'ranks', top }),
      'ranks',
    );
    return { symbols: reply.symbols, updatedAt: reply.updatedAt };
  }

  async setRanks(symbols: string[]): Promise<void> {
    this.#expect(await this.request({ op: 'ranks.set', symbols }), 'ok');
  }

  /** The status document the key may read: `full` for viewer and admin keys, else `health`. */
  async status(): Promise<{ scope: 'health' | 'full'; status: unknown }> {
    const reply = this.#expect(await this.request({ op: 'status' }), 'status');
    return { scope: reply.scope, status: reply.status };
  }

  #expect<O extends ServerMessage['op']>(reply: ServerMessage, op: O): Extract<ServerMessage, { op: O }> {
    if (reply.op !== op) this.#unexpected(op, reply);
    return reply as Extract<ServerMessage, { op: O }>;
  }

  #unexpected(expected: string, reply: ServerMessage): never {
    throw new HubRequestError(expected, 'internal', `unexpected reply ${reply.op}`);
  }

  // ── connection loop ────────────────────────────────────────────────────────────────────

  #setState(state: HubClientState): void {
    if (this.#state === state && state !== 'ready') return;
    this.#state = state;
    const welcome = state === 'ready' ? this.#welcome : undefined;
    for (const listener of this.#stateListeners) {
      try {
        listener(state, welcome);
      } catch (error) {
        this.#log.error('state listener failed', {
          state,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#isClosed()) {
      this.#setState(failures === 0 && this.#reconnects === 0 ? 'connecting' : 'reconnecting');
      const outcome = await this.#session();
      if (this.#isClosed()) break;
      if (outcome.fatal) {
        this.#log.error('hub refused this peer; not retrying', {
          code: outcome.code,
          reason: outcome.reason,
        });
        this.#fail(new HubConnectionError(`hub refused the connection (${outcome.code} ${outcome.reason})`));
        return;
      }
      failures = outcome.wasReady ? 1 : failures + 1;
      if (outcome.wasReady) this.#reconnects += 1;
      if (failures > this.#backoff.maxAttempts) {
        this.#fail(new HubConnectionError(`gave up after ${this.#backoff.maxAttempts} attempts`));
        return;
      }
      const ceiling = Math.min(
        this.#backoff.maxMs,
        this.#backoff.initialMs * 2 ** Math.min(failures - 1, 20),
      );
      const delay = Math.round(ceiling * (0.5 + Math.random() * 0.5));
      this.#log.warn('hub connection lost, reconnecting', {
        attempt: failures,
        delayMs: delay,
        code: outcome.code,
        reason: outcome.reason,
      });
      this.#setState('reconnecting');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #fail(error: HubConnectionError): void {
    this.#setState('failed');
    this.#firstReady?.reject(error);
    this.#firstReady = undefined;
  }

  /** One connection from open to close. */
  #session(): Promise<{ wasReady: boolean; fatal: boolean; code: number; reason: string }> {
    return new Promise((resolve) => {
      let wasReady = false;
      let settled = false;
      const tls = this.#options.tls;
      const ws = new WebSocket(this.#options.url, {
        perMessageDeflate: false,
        maxPayload: 64 * 1024 * 1024,
        ...(tls === undefined ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key }),
      });
      this.#ws = ws;
      const connectTimer = setTimeout(() => {
        this.#log.warn('hub did not welcome in time', { timeoutMs: this.#connectTimeoutMs });
        ws.terminate();
      }, this.#connectTimeoutMs);
      const finish = (code: number, reason: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearInterval(this.#keepAlive);
        this.#keepAlive = undefined;
        this.#ws = undefined;
        this.#flushFrames();
        for (const [id, pending] of this.#pending) {
          pending.cancelDeadline();
          pending.reject(new HubRequestError(pending.op, 'disconnected', `connection closed (${code})`));
          this.#pending.delete(id);
        }
        resolve({ wasReady, fatal: FATAL_CLOSE_CODES.has(code), code, reason });
      };
      ws.on('error', (error: Error) => {
        // A certificate the CA did not sign (or a hub that refused ours) needs a person: say so.
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (
          /CERT|SSL|TLS|SELF_SIGNED|VERIFY|ALTNAME/.test(code) ||
          /certificate|handshake/i.test(error.message)
        ) {
          this.#log.warn('TLS with the hub failed', { error: error.message, code });
        } else {
          this.#log.debug('hub socket error', { error: error.message });
        }
      });
      ws.on('close', (code: number, reason: Buffer) => finish(code, reason.toString()));
      ws.on('message', (data: RawData, isBinary: boolean) => {
        this.#lastHeard = Date.now();
        const bytes = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        if (isBinary) {
          this.#frames.push(bytes);
          if (!this.#flushScheduled) {
            this.#flushScheduled = true;
            setImmediate(() => this.#flushFrames());
          }
          return;
        }
        const message = parseServerMessage(bytes.toString('utf8'));
        if (message instanceof ServerMessageError) {
          this.#log.warn('unreadable hub message', { error: message.message });
          return;
        }
        if (message.op === 'hello') {
          const { peer, kind, key } = this.#options;
          if (message.version !== PROTOCOL_VERSION) {
            this.#log.warn('hub speaks another protocol version', {
              hub: message.version,
              client: PROTOCOL_VERSION,
            });
          }
          const mac = authMac(key.secret, message.nonce, key.id, peer);
          const agent = {
            host: hostName(),
            version: releaseVersion,
            node: process.versions.node,
            pid: process.pid,
            startedAt: processStartedAt,
          };
          const auth: Record<string, unknown> = { op: 'auth', key: key.id, peer, mac };
          if (kind !== undefined) auth.kind = kind;
          // A version 2 hub refuses fields it does not know: `agent` only from version 3 on.
          if (message.version >= 3) auth.agent = agent;
          ws.send(JSON.stringify(auth));
          return;
        }
        if (message.op === 'welcome') {
          clearTimeout(connectTimer);
          wasReady = true;
          this.#welcome = {
            peerId: message.peerId,
            peer: message.peer,
            role: message.role,
            key: message.key,
            hub: message.hub,
            version: message.version,
            symbols: message.symbols,
            symbolsVersion: message.symbolsVersion,
            heartbeatMs: message.heartbeatMs,
            idleTimeoutMs: message.idleTimeoutMs,
            maxMessageBytes: message.maxMessageBytes,
          };
          this.#symbols = message.symbols;
          this.#startKeepAlive(ws, this.#welcome);
          this.#log.info('connected to hub', {
            hub: message.hub,
            role: message.role,
            peerId: message.peerId,
            symbols: message.symbols.length,
          });
          this.#setState('ready');
          this.#firstReady?.resolve(this.#welcome);
          this.#firstReady = undefined;
          return;
        }
        this.#onServerMessage(message);
      });
    });
  }

  #startKeepAlive(ws: WebSocket, welcome: Welcome): void {
    this.#lastHeard = Date.now();
    const every = Math.max(50, Math.floor(welcome.idleTimeoutMs / 3));
    clearInterval(this.#keepAlive);
    const silent = (): boolean => Date.now() - this.#lastHeard > welcome.idleTimeoutMs;
    this.#keepAlive = setInterval(() => {
      // The hub sends a heartbeat every heartbeatMs: silence past its idle timeout means a dead link,
      // judged in the check phase, after the poll phase read what arrived during a stall of this process.
      if (silent()) {
        setImmediate(() => {
          if (!silent() || ws.readyState !== WebSocket.OPEN) return;
          this.#log.warn('hub silent, dropping the connection', { silentMs: Date.now() - this.#lastHeard });
          ws.terminate();
        });
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send('{"op":"ping"}');
    }, every);
    this.#keepAlive.unref();
  }

  #onServerMessage(message: ServerMessage): void {
    const id = 'id' in message ? message.id : undefined;
    if (id !== undefined) {
      const pending = this.#pending.get(id);
      if (pending !== undefined) {
        this.#pending.delete(id);
        pending.cancelDeadline();
        if (message.op === 'error')
          pending.reject(new HubRequestError(pending.op, message.code, message.message));
        else pending.resolve(message);
        return;
      }
    }
    if (message.op === 'symbols') this.#symbols = message.symbols;
    if (message.op === 'error')
      this.#log.warn('hub reported an error', {
        code: message.code,
        message: message.message,
        hint: message.hint,
        frame: message.frame ?? null,
        suppressed: message.suppressed ?? 0,
      });
    if (message.op === 'pong') return;
    for (const listener of this.#messageListeners) {
      try {
        listener(message);
      } catch (error) {
        this.#log.error('message listener failed', {
          op: message.op,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  #flushFrames(): void {
    this.#flushScheduled = false;
    if (this.#frames.length === 0) return;
    const frames = this.#frames;
    this.#frames = [];
    for (const listener of this.#frameListeners) {
      try {
        listener(frames);
      } catch (error) {
        this.#log.error('frame listener failed', {
          frames: frames.length,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
}
