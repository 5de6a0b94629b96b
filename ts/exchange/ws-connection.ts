// One exchange websocket: open with a timeout, rate-limited and batched control requests matched
// by id, liveness watchdog (idle ping, dead after silence), raw frames handed on as bytes.
import WebSocket from 'ws';
import type { Logger } from '../log/logger.js';
import { type CancelDeadline, replyDeadline } from '../process/reply-deadline.js';
import {
  describeError,
  WsConnectionClosedError,
  WsControlError,
  WsControlTimeoutError,
  WsProtocolError,
} from './ws-errors.js';

/** Live-subscription methods of Binance market streams. */
export type ControlMethod = 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'LIST_SUBSCRIPTIONS';

/** Tunables of one connection (every client passes them through). */
export interface ConnectionSettings {
  /** Time allowed for the websocket handshake (ms). */
  openTimeoutMs: number;
  /** Time allowed for a control reply (ms); a late reply marks the connection broken. */
  controlTimeoutMs: number;
  /** Control messages sent per second at most; Binance disconnects above 10 incoming per second. */
  controlMessagesPerSecond: number;
  /** Most stream names in one SUBSCRIBE/UNSUBSCRIBE message. */
  maxParamsPerMessage: number;
  /** Send a ping after this long without any frame, ping or pong (ms; 0 disables). */
  idlePingMs: number;
  /** Terminate after this long without any frame, ping or pong (ms). */
  deadAfterMs: number;
  /** Largest frame accepted (bytes). */
  maxPayloadBytes: number;
}

/** Defaults: 5 control messages a second (half of Binance's limit), probes after 15 s of silence. */
export const DEFAULT_CONNECTION_SETTINGS: Readonly<ConnectionSettings> = {
  openTimeoutMs: 10_000,
  controlTimeoutMs: 10_000,
  controlMessagesPerSecond: 5,
  maxParamsPerMessage: 200,
  idlePingMs: 15_000,
  deadAfterMs: 60_000,
  maxPayloadBytes: 16 * 1024 * 1024,
};

/** Checks connection settings; a bad one throws a `RangeError` naming it. */
export function checkConnectionSettings(s: ConnectionSettings): void {
  const positive: (keyof ConnectionSettings)[] = [
    'openTimeoutMs',
    'controlTimeoutMs',
    'deadAfterMs',
    'maxPayloadBytes',
    'maxParamsPerMessage',
  ];
  for (const key of positive) {
    if (!(s[key] > 0)) throw new RangeError(`${key} must be > 0, got ${s[key]}`);
  }
  if (!(s.controlMessagesPerSecond > 0 && s.controlMessagesPerSecond < 10)) {
    throw new RangeError(`controlMessagesPerSecond must be in (0, 10), got ${s.controlMessagesPerSecond}`);
  }
  if (!(s.idlePingMs >= 0)) throw new RangeError(`idlePingMs must be >= 0, got ${s.idlePingMs}`);
}

/** Lifecycle of a connection. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

/** Counters and times of one connection. */
export interface ConnectionStatus {
  id: number;
  /** The URL with secrets (listenKey) redacted. */
  url: string;
  state: ConnectionState;
  openedAt: number | null;
  /** Data frames handed on (control replies excluded). */
  messages: number;
  lastMessageAt: number | null;
  controlMessagesSent: number;
  pingsReceived: number;
  pingsSent: number;
  /** Control replies that were malformed or matched no request (logged). */
  badReplies: number;
}

/** What a connection reports to its owner. */
export interface ConnectionHandlers {
  onFrame(frame: Buffer, connection: WsConnection): void;
  onClose(connection: WsConnection, reason: string, planned: boolean): void;
}

const BRACE = 0x7b;
const QUOTE = 0x22;
const CONTROL_KEYS = ['result', 'id', 'error', 'code'].map((k) => Buffer.from(`${k}"`, 'latin1'));

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Whether a frame is a control reply (`{"result":null,"id":1}`, `{"id":1,...}`,
 * `{"error":{...},"id":1}`, `{"code":2,"msg":...}`) rather than market data. Looks only at the first
 * key, without parsing: data frames of combined streams start with `"stream"`, raw events with `"e"`.
 */
export function isControlReply(frame: Buffer): boolean {
  let i = 0;
  while (isSpace(frame[i])) i += 1;
  if (frame[i] !== BRACE) return false;
  i += 1;
  while (isSpace(frame[i])) i += 1;
  if (frame[i] !== QUOTE) return false;
  i += 1;
  for (const key of CONTROL_KEYS) {
    if (frame.length >= i + key.length && frame.compare(key, 0, key.length, i, i + key.length) === 0)
      return true;
  }
  return false;
}

interface QueuedRequest {
  method: ControlMethod;
  params: string[];
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

interface PendingReply {
  method: ControlMethod;
  params: string[];
  requests: QueuedRequest[];
  cancelDeadline: CancelDeadline;
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One websocket to the exchange. Control requests are queued and sent at most
 * `controlMessagesPerSecond` times a second; consecutive requests of the same method are merged into
 * one message (up to `maxParamsPerMessage` names) and every caller gets the shared reply. Frames other
 * than control replies go to `onFrame` untouched. The connection never reconnects by itself; its owner
 * (`WsChannel`) does.
 */
export class WsConnection {
  readonly id: number;
  readonly url: string;
  readonly displayUrl: string;
  readonly #settings: ConnectionSettings;
  readonly #log: Logger;
  readonly #handlers: ConnectionHandlers;
  #ws: WebSocket | undefined;
  #state: ConnectionState = 'connecting';
  #closing = false;
  #closeReason = '';
  #openedAt: number | null = null;
  #lastActivityAt = 0;
  #lastPingSentAt = 0;
  #messages = 0;
  #lastMessageAt: number | null = null;
  #controlSent = 0;
  #pingsReceived = 0;
  #pingsSent = 0;
  #badReplies = 0;
  #nextId = 1;
  #nextSendAt = 0;
  readonly #queue: QueuedRequest[] = [];
  readonly #pending = new Map<number, PendingReply>();
  #pumpTimer: NodeJS.Timeout | undefined;
  #livenessTimer: NodeJS.Timeout | undefined;
  readonly #closed: Promise<void>;
  #resolveClosed: () => void = () => {};
  #rejectOpen: (() => void) | undefined;

  constructor(
    id: number,
    url: string,
    displayUrl: string,
    settings: ConnectionSettings,
    logger: Logger,
    handlers: ConnectionHandlers,
  ) {
    this.id = id;
    this.url = url;
    this.displayUrl = displayUrl;
    this.#settings = settings;
    this.#log = logger;
    this.#handlers = handlers;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** When the handshake completed (ms), or null. */
  get openedAt(): number | null {
    return this.#openedAt;
  }

  /** Why the connection closed ('' while it is open). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Opens the socket; rejects with `WsConnectionClosedError` on failure or after `openTimeoutMs`. */
  open(): Promise<void> {
    if (this.#ws !== undefined) throw new Error(`connection ${this.id} opened twice`);
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url, {
        perMessageDeflate: false,
        // Frames go on as bytes to the native parsers, which reject malformed input themselves.
        skipUTF8Validation: true,
        maxPayload: this.#settings.maxPayloadBytes,
        handshakeTimeout: this.#settings.openTimeoutMs,
      });
      this.#ws = ws;
      let settled = false;
      const timer = setTimeout(() => {
        this.terminate(`handshake timed out after ${this.#settings.openTimeoutMs} ms`);
      }, this.#settings.openTimeoutMs);
      const fail = (): void => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(new WsConnectionClosedError(this.displayUrl, this.#closeReason || 'closed before open'));
      };
      this.#rejectOpen = fail;
      ws.on('open', () => {
        clearTimeout(timer);
        if (this.#state !== 'connecting') return;
        this.#state = 'open';
        this.#openedAt = Date.now();
        this.#lastActivityAt = this.#openedAt;
        this.#startLiveness();
        settled = true;
        resolve();
      });
      ws.on('message', (data) => this.#onMessage(toBuffer(data)));
      ws.on('ping', () => {
        this.#pingsReceived += 1;
        this.#lastActivityAt = Date.now();
      });
      ws.on('pong', () => {
        this.#lastActivityAt = Date.now();
      });
      ws.on('error', (error) => {
        // ws always follows 'error' with 'close'; keep the cause for the close reason.
        if (this.#closeReason === '') this.#closeReason = describeError(error);
        this.#log.warn('websocket error', {
          connection: this.id,
          url: this.displayUrl,
          error: describeError(error),
        });
      });
      ws.on('close', (code, reason) => {
        const text = reason.toString('utf8');
        this.#finish(this.#closeReason || `closed by peer (code ${code}${text ? `: ${text}` : ''})`);
        fail();
      });
    });
  }

  /**
   * Sends a control request and resolves with the reply's `result`. Rejects with `WsControlError`
   * (the server refused), `WsControlTimeoutError` (no reply: the connection is then terminated) or
   * `WsConnectionClosedError`. More names than `maxParamsPerMessage` go in several messages.
   */
  request(method: ControlMethod, params: readonly string[] = []): Promise<unknown> {
    if (this.#state !== 'open') {
      return Promise.reject(new WsConnectionClosedError(this.displayUrl, this.#closeReason || 'not open'));
    }
    const max = this.#settings.maxParamsPerMessage;
    const chunks: string[][] = [];
    if (params.length === 0) chunks.push([]);
    for (let i = 0; i < params.length; i += max) chunks.push(params.slice(i, i + max));
    const parts = chunks.map(
      (chunk) =>
        new Promise<unknown>((resolve, reject) => {
          this.#queue.push({ method, params: chunk, resolve, reject });
        }),
    );
    this.#pump();
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : Promise.all(parts);
  }

  /** Closes with a normal close frame (planned: the owner does not reconnect); resolves when closed. */
  close(reason: string): Promise<void> {
    if (this.#state === 'closed') return this.#closed;
    this.#closing = true;
    if (this.#closeReason === '') this.#closeReason = reason;
    const ws = this.#ws;
    if (ws === undefined || this.#state === 'connecting') {
      this.terminate(reason);
      return this.#closed;
    }
    ws.close(1000, reason.slice(0, 100));
    // A peer that never answers the close frame must not keep the socket forever.
    const fallback = setTimeout(() => ws.terminate(), 1_000);
    void this.#closed.then(() => clearTimeout(fallback));
    return this.#closed;
  }

  /** Drops the socket at once (unplanned unless `close` was called first). */
  terminate(reason: string): void {
    if (this.#state === 'closed') return;
    if (this.#closeReason === '') this.#closeReason = reason;
    this.#ws?.terminate();
    this.#finish(reason);
  }

  /** Resolves once the connection is closed. */
  whenClosed(): Promise<void> {
    return this.#closed;
  }

  status(): ConnectionStatus {
    return {
      id: this.id,
      url: this.displayUrl,
      state: this.#state,
      openedAt: this.#openedAt,
      messages: this.#messages,
      lastMessageAt: this.#lastMessageAt,
      controlMessagesSent: this.#controlSent,
      pingsReceived: this.#pingsReceived,
      pingsSent: this.#pingsSent,
      badReplies: this.#badReplies,
    };
  }

  #onMessage(frame: Buffer): void {
    const now = Date.now();
    this.#lastActivityAt = now;
    if (this.#state !== 'open') return;
    if (isControlReply(frame)) {
      this.#onReply(frame);
      return;
    }
    this.#messages += 1;
    this.#lastMessageAt = now;
    this.#handlers.onFrame(frame, this);
  }

  #onReply(frame: Buffer): void {
    let reply: unknown;
    try {
      reply = JSON.parse(frame.toString('utf8'));
    } catch (error) {
      const err = new WsProtocolError(this.displayUrl, `control reply is not JSON (${describeError(error)})`);
      this.#badReplies += 1;
      this.#log.warn('bad control reply', { connection: this.id, error: err.message });
      return;
    }
    if (!isRecord(reply)) {
      this.#badReplies += 1;
      this.#log.warn('bad control reply', { connection: this.id, error: 'not an object' });
      return;
    }
    const nested = isRecord(reply.error) ? reply.error : undefined;
    const code = nested?.code ?? reply.code;
    const msg = nested?.msg ?? reply.msg;
    const isError = nested !== undefined || (reply.code !== undefined && reply.result === undefined);
    const id = reply.id;
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined || typeof id !== 'number') {
      this.#badReplies += 1;
      this.#log.warn('control reply matches no request', {
        connection: this.id,
        id: typeof id === 'number' || typeof id === 'string' ? id : null,
        code: typeof code === 'number' ? code : null,
        msg: typeof msg === 'string' ? msg : null,
      });
      return;
    }
    this.#pending.delete(id);
    pending.cancelDeadline();
    if (isError) {
      const error = new WsControlError(
        pending.method,
        pending.params,
        typeof code === 'number' ? code : undefined,
        typeof msg === 'string' ? msg : JSON.stringify(reply),
        this.displayUrl,
      );
      this.#log.warn('control request refused', { connection: this.id, id, error: error.message });
      for (const r of pending.requests) r.reject(error);
      return;
    }
    for (const r of pending.requests) r.resolve(reply.result);
  }

  /** Sends the head of the queue if the rate allows, merging same-method requests behind it. */
  #pump(): void {
    if (this.#state !== 'open' || this.#queue.length === 0 || this.#pumpTimer !== undefined) return;
    const now = Date.now();
    const wait = this.#nextSendAt - now;
    if (wait > 0) {
      this.#pumpTimer = setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const head = this.#queue.shift();
    if (head === undefined) return;
    const requests = [head];
    const params = [...head.params];
    if (head.method !== 'LIST_SUBSCRIPTIONS') {
      for (;;) {
        const next = this.#queue[0];
        if (next === undefined || next.method !== head.method) break;
        if (params.length + next.params.length > this.#settings.maxParamsPerMessage) break;
        this.#queue.shift();
        requests.push(next);
        params.push(...next.params);
      }
    }
    const id = this.#nextId++;
    const message =
      head.method === 'LIST_SUBSCRIPTIONS'
        ? JSON.stringify({ method: head.method, id })
        : JSON.stringify({ method: head.method, params, id });
    const cancelDeadline = replyDeadline(this.#settings.controlTimeoutMs, () => this.#replyTimedOut(id));
    this.#pending.set(id, { method: head.method, params, requests, cancelDeadline });
    this.#controlSent += 1;
    this.#nextSendAt = now + 1000 / this.#settings.controlMessagesPerSecond;
    this.#log.debug('control request', {
      connection: this.id,
      method: head.method,
      id,
      streams: params.length,
    });
    this.#ws?.send(message, (error) => {
      if (error) this.terminate(`send failed: ${describeError(error)}`);
    });
    if (this.#queue.length > 0) this.#pump();
  }

  #replyTimedOut(id: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    const error = new WsControlTimeoutError(
      pending.method,
      id,
      this.#settings.controlTimeoutMs,
      this.displayUrl,
    );
    this.#log.warn('control reply timed out; dropping the connection', {
      connection: this.id,
      error: error.message,
    });
    for (const r of pending.requests) r.reject(error);
    this.terminate(error.message);
  }

  #startLiveness(): void {
    const { idlePingMs, deadAfterMs } = this.#settings;
    const shortest = idlePingMs > 0 ? Math.min(idlePingMs, deadAfterMs) : deadAfterMs;
    const every = Math.max(5, Math.min(5_000, Math.floor(shortest / 4)));
    this.#livenessTimer = setInterval(() => this.#checkLiveness(), every);
  }

  #checkLiveness(): void {
    if (this.#state !== 'open') return;
    const now = Date.now();
    const idle = now - this.#lastActivityAt;
    if (idle >= this.#settings.deadAfterMs) {
      // As for a reply timer: after a stall of this process, frames that arrived meanwhile are read
      // in the poll phase, after this timer; the connection is judged once they were (in the check
      // phase of this loop turn, before the interval can fire again).
      setImmediate(() => this.#confirmSilence());
      return;
    }
    const { idlePingMs } = this.#settings;
    if (idlePingMs > 0 && idle >= idlePingMs && now - this.#lastPingSentAt >= idlePingMs) {
      this.#lastPingSentAt = now;
      this.#pingsSent += 1;
      this.#ws?.ping();
    }
  }

  /** Drops the connection when it is still silent past `deadAfterMs` once pending reads were done. */
  #confirmSilence(): void {
    if (this.#state !== 'open') return;
    const idle = Date.now() - this.#lastActivityAt;
    if (idle >= this.#settings.deadAfterMs) {
      this.#log.warn('connection silent; dropping it', {
        connection: this.id,
        url: this.displayUrl,
        idleMs: idle,
      });
      this.terminate(`no frame, ping or pong for ${idle} ms`);
    }
  }

  #finish(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#closeReason === '') this.#closeReason = reason;
    if (this.#pumpTimer !== undefined) clearTimeout(this.#pumpTimer);
    if (this.#livenessTimer !== undefined) clearInterval(this.#livenessTimer);
    const error = new WsConnectionClosedError(this.displayUrl, this.#closeReason);
    for (const pending of this.#pending.values()) {
      pending.cancelDeadline();
      for (const r of pending.requests) r.reject(error);
    }
    this.#pending.clear();
    for (const r of this.#queue.splice(0)) r.reject(error);
    this.#rejectOpen?.();
    this.#resolveClosed();
    this.#handlers.onClose(this, this.#closeReason, this.#closing);
  }
}
