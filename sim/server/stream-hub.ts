// The websocket side: Binance's routed stream paths, live subscriptions, user data, pings and limits.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../ts/log/logger.js';
import type { Json, StreamRoute } from '../contracts.js';
import type { EndedListenKey } from './listen-keys.js';
import type { ServerLimits } from './server-limits.js';

/** Where a connection is attached: a market route, or a user data stream. */
type ConnectionRoute = StreamRoute | 'private';

/** A client sending more than this many bytes un-read is too slow; it is dropped, not buffered. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Largest client message accepted (a SUBSCRIBE of 1,024 long names fits easily). */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'] as const;

interface Connection {
  readonly id: number;
  readonly ws: WebSocket;
  readonly route: ConnectionRoute;
  combined: boolean;
  readonly streams: Set<string>;
  /** For `/private` connections: the listen key and its account. */
  readonly listenKey: string | undefined;
  readonly accountId: string | undefined;
  readonly connectedAt: number;
  lastPingAt: number;
  lastPongAt: number;
  messageSecond: number;
  messagesThisSecond: number;
}

/** What the hub needs to resolve `/private` connections. */
export interface ListenKeyLookup {
  accountOf(listenKey: string): string | undefined;
}

export interface StreamHubOptions {
  readonly limits: ServerLimits;
  readonly listenKeys: ListenKeyLookup;
  readonly logger: Logger;
  /** Simulator clock, for event times (`E`) the hub writes itself. */
  readonly clock: () => number;
  /** Called whenever the set of subscribed market streams may have changed. */
  readonly onDemandChange?: () => void;
  /** Wall clock for pings, ages and message rates (default `Date.now`). */
  readonly wallNow?: () => number;
}

/** A path a client may connect to, parsed. */
interface Target {
  readonly route: ConnectionRoute;
  readonly combined: boolean;
  readonly streams: readonly string[];
  readonly listenKey?: string;
}

/** A refused upgrade: the HTTP status and Binance-style body written before the socket is closed. */
class UpgradeRefusal extends Error {
  override readonly name = 'UpgradeRefusal';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Binance writes symbols in stream names in lower case; the rest (`aggTrade`, `kline_1m`) is kept. */
export function normaliseStream(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name.toLowerCase() : name.slice(0, at).toLowerCase() + name.slice(at);
}

/**
 * Serves `/public` and `/market` market streams (raw `/ws...` and combined `/stream?streams=`), user
 * data on `/private`, and Binance's live-subscription protocol, with its limits: streams per
 * connection, client messages per second, server pings with a pong deadline, and a maximum age.
 */
export class StreamHub {
  readonly #options: StreamHubOptions;
  readonly #limits: ServerLimits;
  readonly #log: Logger;
  readonly #wallNow: () => number;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  /** route → stream → subscribed connections. */
  readonly #subscribers = new Map<StreamRoute, Map<string, Set<Connection>>>([
    ['public', new Map()],
    ['market', new Map()],
  ]);
  readonly #byListenKey = new Map<string, Set<Connection>>();
  #nextId = 1;
  readonly #counters = { connected: 0, refused: 0, rateDropped: 0, slowDropped: 0, pongDropped: 0, aged: 0 };

  constructor(options: StreamHubOptions) {
    this.#options = options;
    this.#limits = options.limits;
    this.#log = options.logger;
    this.#wallNow = options.wallNow ?? Date.now;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /** Takes over an HTTP upgrade request on the server's port. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let target: Target;
    try {
      target = this.#parseTarget(req.url ?? '/');
    } catch (error) {
      this.#counters.refused += 1;
      const refusal =
        error instanceof UpgradeRefusal ? error : new UpgradeRefusal(400, -1000, 'Malformed websocket URL.');
      this.#log.info('websocket upgrade refused', {
        url: (req.url ?? '').slice(0, 200),
        reason: refusal.message,
      });
      const body = JSON.stringify({ code: refusal.code, msg: refusal.message });
      socket.end(
        `HTTP/1.1 ${refusal.status} ${refusal.status === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, target));
  }

  /** Sends a market payload to the connections subscribed to `stream` on `route`. */
  publishMarket(route: StreamRoute, stream: string, payload: Json): void {
    const subscribers = this.#subscribers.get(route)?.get(stream);
    if (subscribers === undefined || subscribers.size === 0) return;
    let raw: string | undefined;
    let combined: string | undefined;
    for (const connection of subscribers) {
      if (connection.combined) {
        combined ??= JSON.stringify({ stream, data: payload });
        this.#send(connection, combined);
      } else {
        raw ??= JSON.stringify(payload);
        this.#send(connection, raw);
      }
    }
  }

  /** Sends a user-data event to the connections of `listenKey` (the account's live key). */
  publishUser(listenKey: string, event: Json): void {
    const connections = this.#byListenKey.get(listenKey);
    if (connections === undefined) return;
    for (const connection of connections) this.#sendUser(connection, listenKey, event);
  }

  /** Tells the connections of an ended key (`listenKeyExpired` when it expired) and closes them. */
  endListenKey(ended: EndedListenKey): number {
    const connections = this.#byListenKey.get(ended.listenKey);
    if (connections === undefined) return 0;
    const count = connections.size;
    for (const connection of [...connections]) {
      if (ended.reason === 'expired') {
        this.#sendUser(connection, ended.listenKey, {
          e: 'listenKeyExpired',
          // USD-M futures sends this event time as a string (unlike every other event).
          E: String(this.#options.clock()),
          listenKey: ended.listenKey,
        });
      }
      connection.ws.close(1000, ended.reason === 'expired' ? 'listenKey expired' : 'listenKey closed');
      this.#detach(connection);
    }
    return count;
  }

  /** Whether any connection (on any route) subscribes to `stream`: the market's demand predicate. */
  wants(stream: string): boolean {
    for (const byStream of this.#subscribers.values()) {
      if ((byStream.get(stream)?.size ?? 0) > 0) return true;
    }
    return false;
  }

  /** Closes every connection now (the `dropWebsockets` fault); returns how many. */
  dropAll(): number {
    const count = this.#connections.size;
    for (const connection of [...this.#connections]) {
      connection.ws.terminate();
      this.#detach(connection);
    }
    return count;
  }

  /** Pings, pong deadlines and the maximum connection age; called by the server's housekeeping timer. */
  housekeeping(): void {
    const now = this.#wallNow();
    for (const connection of [...this.#connections]) {
      if (now - connection.connectedAt >= this.#limits.wsMaxConnectionAgeMs) {
        this.#counters.aged += 1;
        connection.ws.close(1000, 'connection age limit');
        this.#detach(connection);
      } else if (now - connection.lastPongAt > this.#limits.wsPongTimeoutMs) {
        this.#counters.pongDropped += 1;
        this.#log.info('websocket dropped: no pong', { connection: connection.id });
        connection.ws.terminate();
        this.#detach(connection);
      } else if (now - connection.lastPingAt >= this.#limits.wsPingIntervalMs) {
        connection.lastPingAt = now;
        connection.ws.ping();
      }
    }
  }

  /** Connection and subscription counts for `/_sim/health`. */
  stats(): Json {
    let streams = 0;
    for (const byStream of this.#subscribers.values()) streams += byStream.size;
    return { connections: this.#connections.size, marketStreams: streams, ...this.#counters };
  }

  /** Closes every connection and the websocket server. */
  async close(): Promise<void> {
    for (const connection of [...this.#connections]) {
      connection.ws.close(1001, 'server shutting down');
      connection.ws.terminate();
      this.#detach(connection);
    }
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #parseTarget(rawUrl: string): Target {
    const url = new URL(rawUrl, 'http://localhost');
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const [first, second, ...rest] = segments;
    const decoded = (parts: readonly string[]): string[] =>
      parts
        .join('/')
        .split('/')
        .filter((s) => s !== '')
        .map((s) => normaliseStream(decodeURIComponent(s)));
    const streamsParam = url.searchParams.get('streams');
    if (first === 'private') {
      const key =
        url.searchParams.get('listenKey') ??
        (second === 'ws' && rest.length === 1 && rest[0] !== undefined
          ? decodeURIComponent(rest[0])
          : undefined) ??
        (second === 'stream' && streamsParam !== null ? streamsParam : undefined);
      if ((second !== 'ws' && second !== 'stream') || key === undefined || key === '') {
        throw new UpgradeRefusal(404, -1125, 'This listenKey does not exist.');
      }
      if (this.#options.listenKeys.accountOf(key) === undefined) {
        throw new UpgradeRefusal(400, -1125, 'This listenKey does not exist.');
      }
      return { route: 'private', combined: second === 'stream', streams: [], listenKey: key };
    }
    // A connection without a routed path gets only /public data, as on Binance.
    const routed = first === 'public' || first === 'market';
    const route: StreamRoute = first === 'market' ? 'market' : 'public';
    const kind = routed ? second : first;
    const tail = routed ? rest : second === undefined ? rest : [second, ...rest];
    let streams: string[];
    if (kind === 'ws') {
      streams = decoded(tail);
    } else if (kind === 'stream' && tail.length === 0) {
      streams = streamsParam === null ? [] : decoded([streamsParam]);
    } else {
      throw new UpgradeRefusal(404, -1000, `Unknown websocket path ${url.pathname.slice(0, 200)}`);
    }
    if (streams.length > this.#limits.wsMaxStreams) {
      throw new UpgradeRefusal(
        400,
        -1000,
        `Too many streams; at most ${this.#limits.wsMaxStreams} per connection.`,
      );
    }
    return { route, combined: kind === 'stream', streams };
  }

  #attach(ws: WebSocket, target: Target): void {
    const now = this.#wallNow();
    const accountId =
      target.listenKey === undefined ? undefined : this.#options.listenKeys.accountOf(target.listenKey);
    if (target.listenKey !== undefined && accountId === undefined) {
      // The key ended between the upgrade check and now.
      ws.close(1008, 'listenKey does not exist');
      return;
    }
    const connection: Connection = {
      id: this.#nextId++,
      ws,
      route: target.route,
      combined: target.combined,
      streams: new Set(),
      listenKey: target.listenKey,
      accountId,
      connectedAt: now,
      lastPingAt: now,
      lastPongAt: now,
      messageSecond: Math.floor(now / 1000),
      messagesThisSecond: 0,
    };
    this.#connections.add(connection);
    this.#counters.connected += 1;
    if (target.listenKey !== undefined) {
      let set = this.#byListenKey.get(target.listenKey);
      if (set === undefined) {
        set = new Set();
        this.#byListenKey.set(target.listenKey, set);
      }
      set.add(connection);
    }
    this.#subscribe(connection, target.streams);
    ws.on('pong', () => {
      connection.lastPongAt = this.#wallNow();
    });
    ws.on('message', (data, isBinary) => this.#onMessage(connection, data, isBinary));
    ws.on('close', () => this.#detach(connection));
    ws.on('error', (error) => {
      this.#log.info('websocket error', { connection: connection.id, error: error.message });
      this.#detach(connection);
    });
    this.#log.debug('websocket connected', {
      connection: connection.id,
      route: target.route,
      streams: target.streams.length,
    });
  }

  #detach(connection: Connection): void {
    if (!this.#connections.delete(connection)) return;
    this.#unsubscribe(connection, [...connection.streams]);
    if (connection.listenKey !== undefined) {
      const set = this.#byListenKey.get(connection.listenKey);
      set?.delete(connection);
      if (set !== undefined && set.size === 0) this.#byListenKey.delete(connection.listenKey);
    }
  }

  #subscribe(connection: Connection, streams: readonly string[]): void {
    let changed = false;
    const byStream = connection.route === 'private' ? undefined : this.#subscribers.get(connection.route);
    for (const stream of streams) {
      if (connection.streams.has(stream)) continue;
      connection.streams.add(stream);
      if (byStream === undefined) continue;
      let set = byStream.get(stream);
      if (set === undefined) {
        set = new Set();
        byStream.set(stream, set);
        changed = true;
      }
      set.add(connection);
    }
    if (changed) this.#options.onDemandChange?.();
  }

  #unsubscribe(connection: Connection, streams: readonly string[]): void {
    let changed = false;
    const byStream = connection.route === 'private' ? undefined : this.#subscribers.get(connection.route);
    for (const stream of streams) {
      if (!connection.streams.delete(stream) || byStream === undefined) continue;
      const set = byStream.get(stream);
      set?.delete(connection);
      if (set !== undefined && set.size === 0) {
        byStream.delete(stream);
        changed = true;
      }
    }
    if (changed) this.#options.onDemandChange?.();
  }

  #send(connection: Connection, text: string): void {
    if (connection.ws.readyState !== connection.ws.OPEN) return;
    if (connection.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#counters.slowDropped += 1;
      this.#log.warn('websocket dropped: client too slow', {
        connection: connection.id,
        bufferedBytes: connection.ws.bufferedAmount,
      });
      connection.ws.terminate();
      this.#detach(connection);
      return;
    }
    connection.ws.send(text);
  }

  #sendUser(connection: Connection, listenKey: string, event: Json): void {
    this.#send(connection, JSON.stringify(connection.combined ? { stream: listenKey, data: event } : event));
  }

  #reply(connection: Connection, message: Json): void {
    this.#send(connection, JSON.stringify(message));
  }

  #error(connection: Connection, code: number, msg: string, id: Json): void {
    this.#reply(connection, { error: { code, msg }, id });
  }

  #onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    const second = Math.floor(this.#wallNow() / 1000);
    if (second !== connection.messageSecond) {
      connection.messageSecond = second;
      connection.messagesThisSecond = 0;
    }
    connection.messagesThisSecond += 1;
    if (connection.messagesThisSecond > this.#limits.wsMaxMessagesPerSecond) {
      this.#counters.rateDropped += 1;
      this.#log.info('websocket dropped: too many messages', { connection: connection.id });
      connection.ws.close(1008, 'Too many messages');
      this.#detach(connection);
      return;
    }
    if (isBinary) {
      this.#error(connection, 3, 'Invalid JSON: binary frames are not accepted', null);
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : data instanceof ArrayBuffer
        ? Buffer.from(data).toString('utf8')
        : data.toString('utf8');
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (error) {
      this.#error(
        connection,
        3,
        `Invalid JSON: ${error instanceof Error ? error.message : 'parse error'}`,
        null,
      );
      return;
    }
    this.#handleRequest(connection, request);
  }

  #handleRequest(connection: Connection, request: unknown): void {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.#error(connection, 2, 'Invalid request: expected a JSON object', null);
      return;
    }
    const body = request as Record<string, unknown>;
    const rawId = body.id;
    if (
      rawId !== undefined &&
      rawId !== null &&
      !(typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0)
    ) {
      this.#error(connection, 2, 'Invalid request: request ID must be an unsigned integer', null);
      return;
    }
    const id: Json = typeof rawId === 'number' ? rawId : null;
    const method = body.method;
    if (method === undefined) {
      this.#error(connection, 2, 'Invalid request: missing field `method`', id);
      return;
    }
    if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
      this.#error(
        connection,
        2,
        `Invalid request: unknown variant \`${String(method).slice(0, 40)}\`, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')}`,
        id,
      );
      return;
    }
    const params = body.params ?? [];
    if (!Array.isArray(params)) {
      this.#error(connection, 2, 'Invalid request: params must be an array', id);
      return;
    }
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!params.every((p): p is string => typeof p === 'string' && p !== '' && p.length <= 200)) {
          this.#error(connection, 2, 'Invalid request: stream names must be non-empty strings', id);
          return;
        }
        const streams = params.map(normaliseStream);
        if (method === 'UNSUBSCRIBE') {
          this.#unsubscribe(connection, streams);
        } else {
          const added = new Set(streams.filter((s) => !connection.streams.has(s))).size;
          if (connection.streams.size + added > this.#limits.wsMaxStreams) {
            this.#error(
              connection,
              2,
              `Invalid request: too many streams; at most ${this.#limits.wsMaxStreams} per connection`,
              id,
            );
            return;
          }
          this.#subscribe(connection, streams);
        }
        this.#reply(connection, { result: null, id });
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        this.#reply(connection, { result: [...connection.streams], id });
        return;
      case 'SET_PROPERTY':
      case 'GET_PROPERTY': {
        const [name, value] = params as unknown[];
        if (typeof name !== 'string') {
          this.#error(connection, 2, 'Invalid request: property name must be a string', id);
          return;
        }
        if (name !== 'combined') {
          this.#error(connection, 0, 'Unknown property', id);
          return;
        }
        if (method === 'GET_PROPERTY') {
          this.#reply(connection, { result: connection.combined, id });
          return;
        }
        if (typeof value !== 'boolean') {
          this.#error(connection, 1, 'Invalid value type: expected Boolean', id);
          return;
        }
        connection.combined = value;
        this.#reply(connection, { result: null, id });
        return;
      }
    }
  }
}
