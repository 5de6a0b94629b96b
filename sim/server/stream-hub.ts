// The websocket side: Binance's routed stream paths, live subscriptions, user data, pings and limits.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../ts/log/logger.js';
import type { Json, StreamRoute } from '../contracts.js';
import type { EndedListenKey } from './listen-keys.js';
import type { ServerLimits } from './server-limits.js';
import { type ConnectionRoute, parseWsTarget, UpgradeRefusal, type WsTarget } from './ws-target.js';

/** A client sending more than this many bytes un-read is too slow; it is dropped, not buffered. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Largest client message accepted (a SUBSCRIBE of 1,024 long names fits easily). */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'] as const;
/** Binance's reply to a stream name it does not serve (code 2 of the live-subscription protocol). */
const INVALID_STREAM = 'Invalid request: invalid stream';

interface Connection {
  readonly id: number;
  readonly ws: WebSocket;
  readonly route: ConnectionRoute;
  combined: boolean;
  /** Market stream names, or listen keys on `/private`. */
  readonly streams: Set<string>;
  /** `/private`: the `events=` allow list (undefined: every event). */
  readonly events: ReadonlySet<string> | undefined;
  /** `/private`: opened with keys in its URL (closed when its last key ends). */
  readonly keyedAtOpen: boolean;
  readonly connectedAt: number;
  lastPingAt: number;
  lastPongAt: number;
  messageSecond: number;
  messagesThisSecond: number;
  /** Wall time until which market payloads are withheld (the `stallStreamsForMs` and `stallConnection` faults); 0 when not stalled. */
  stalledUntil: number;
}

/** A market stream as the hub needs it: its canonical name and route. */
export interface ResolvedStream {
  readonly name: string;
  readonly route: StreamRoute;
}

/** What the hub needs to accept streams and listen keys. */
export interface StreamDirectory {
  /** Resolves a name a client sent to a served stream, or a refusal reason. */
  resolveStream(name: string): ResolvedStream | { readonly refused: string };
  /** The account of a live listen key. */
  accountOf(listenKey: string): string | undefined;
}

export interface StreamHubOptions {
  readonly limits: ServerLimits;
  readonly directory: StreamDirectory;
  readonly logger: Logger;
  /** Simulator clock, for event times (`E`) the hub writes itself. */
  readonly clock: () => number;
  /** Called whenever the set of subscribed market streams may have changed. */
  readonly onDemandChange?: () => void;
  /** Wall clock for pings, ages and message rates (default `Date.now`). */
  readonly wallNow?: () => number;
}

/**
 * Serves `/public` and `/market` market streams (raw `/ws...` and combined `/stream?streams=`), user
 * data on `/private` (listen keys in the URL or subscribed later, several per connection, filtered
 * by `events=`), and Binance's live-subscription protocol, with its limits: streams per connection,
 * client messages per second, server pings with a pong deadline, and a maximum age. A stream the
 * simulator does not serve, or one asked for on the wrong route, is refused, never left silent.
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
  /** The latest end of any stall: publishing checks connections only while it lies ahead. */
  #stallsUntil = 0;
  readonly #counters = {
    connected: 0,
    refused: 0,
    refusedStreams: 0,
    rateDropped: 0,
    slowDropped: 0,
    pongDropped: 0,
    aged: 0,
    stalledFramesWithheld: 0,
  };

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
    let target: WsTarget;
    let streams: string[];
    try {
      target = parseWsTarget(req.url ?? '/', this.#limits.wsMaxStreams);
      streams = this.#checkNames(target.route, target.names, (name, reason) => {
        throw new UpgradeRefusal(400, 2, `${INVALID_STREAM}: ${name.slice(0, 100)} (${reason})`);
      });
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
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, target, streams));
  }

  /** Sends a market payload to the connections subscribed to `stream` on `route`. */
  publishMarket(route: StreamRoute, stream: string, payload: Json): void {
    const subscribers = this.#subscribers.get(route)?.get(stream);
    if (subscribers === undefined || subscribers.size === 0) return;
    let raw: string | undefined;
    let combined: string | undefined;
    const stallCheck = this.#stallsUntil > 0 ? this.#wallNow() : Number.POSITIVE_INFINITY;
    for (const connection of subscribers) {
      if (connection.stalledUntil > stallCheck) {
        // Withheld for good, as Binance's stalled connections never deliver what they missed.
        this.#counters.stalledFramesWithheld += 1;
        continue;
      }
      if (connection.combined) {
        combined ??= JSON.stringify({ stream, data: payload });
        this.#send(connection, combined);
      } else {
        raw ??= JSON.stringify(payload);
        this.#send(connection, raw);
      }
    }
  }

  /** Sends a user-data event to the connections listening to `listenKey`, honouring their `events=`. */
  publishUser(listenKey: string, event: Json): void {
    const connections = this.#byListenKey.get(listenKey);
    if (connections === undefined) return;
    const type = eventType(event);
    for (const connection of connections) {
      if (connection.events !== undefined && !connection.events.has(type)) continue;
      this.#sendUser(connection, listenKey, event);
    }
  }

  /**
   * Ends a key on every connection listening to it: `listenKeyExpired` first when it expired, then
   * the key is dropped; a connection opened with keys in its URL is closed when it has none left.
   */
  endListenKey(ended: EndedListenKey): number {
    const connections = this.#byListenKey.get(ended.listenKey);
    if (connections === undefined) return 0;
    const count = connections.size;
    for (const connection of [...connections]) {
      if (ended.reason === 'expired') {
        this.#publishUserTo(connection, ended.listenKey, {
          e: 'listenKeyExpired',
          // USD-M futures sends this event time as a string (unlike every other event).
          E: String(this.#options.clock()),
          listenKey: ended.listenKey,
        });
      }
      this.#unsubscribe(connection, [ended.listenKey]);
      if (connection.streams.size === 0 && connection.keyedAtOpen) {
        connection.ws.close(1000, ended.reason === 'expired' ? 'listenKey expired' : 'listenKey closed');
        this.#detach(connection);
      }
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

  /** Every market stream some connection subscribes to. */
  wantedStreams(): string[] {
    const names: string[] = [];
    for (const byStream of this.#subscribers.values()) names.push(...byStream.keys());
    return names;
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

  /**
   * The `stallStreamsForMs` fault: every `/public` and `/market` connection open now delivers no
   * market payload for `forMs` (wall time) while it stays open, answers pings and control
   * messages, and keeps its subscriptions; what is published meanwhile is never sent to it.
   * Connections opened later deliver as usual, so a client that reconnects is cured. Returns how
   * many connections stalled.
   */
  stallMarketStreams(forMs: number): number {
    const until = this.#wallNow() + forMs;
    let stalled = 0;
    for (const connection of this.#connections) {
      if (connection.route === 'private') continue;
      connection.stalledUntil = until;
      stalled += 1;
    }
    this.#stallsUntil = Math.max(this.#stallsUntil, until);
    this.#log.info('market stream connections stalled', { connections: stalled, forMs });
    return stalled;
  }

  /**
   * The `stallConnection` fault: as `stallMarketStreams`, for the `/public` or `/market`
   * connections open now that subscribe to `stream` only (its canonical name on its route); every
   * other connection delivers on. Returns how many stalled (0 for a stream nobody subscribes to or
   * the simulator does not serve).
   */
  stallConnectionsOf(stream: string, forMs: number): number {
    const resolved = this.#options.directory.resolveStream(stream);
    if ('refused' in resolved) return 0;
    const until = this.#wallNow() + forMs;
    let stalled = 0;
    for (const connection of this.#subscribers.get(resolved.route)?.get(resolved.name) ?? []) {
      connection.stalledUntil = until;
      stalled += 1;
    }
    if (stalled > 0) this.#stallsUntil = Math.max(this.#stallsUntil, until);
    this.#log.info('market stream connection stalled', {
      stream: resolved.name,
      connections: stalled,
      forMs,
    });
    return stalled;
  }

  /** Ends every connection stall now (`DELETE /_sim/faults`): stalled connections deliver again. */
  clearStalls(): void {
    for (const connection of this.#connections) connection.stalledUntil = 0;
    this.#stallsUntil = 0;
  }

  /** Whether `stream` is a market stream the simulator serves (on either route). */
  servesStream(stream: string): boolean {
    return !('refused' in this.#options.directory.resolveStream(stream));
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
    return {
      connections: this.#connections.size,
      marketStreams: streams,
      listenKeys: this.#byListenKey.size,
      ...this.#counters,
    };
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

  /**
   * Resolves the names a client sent for a connection on `route`: market stream names to their
   * canonical spelling on that route, listen keys to live keys. Calls `refuse` for the first bad one.
   */
  #checkNames(
    route: ConnectionRoute,
    names: readonly string[],
    refuse: (name: string, reason: string) => never,
  ): string[] {
    const out: string[] = [];
    for (const name of names) {
      if (typeof name !== 'string' || name === '') refuse(String(name), 'empty name');
      if (route === 'private') {
        if (this.#options.directory.accountOf(name) === undefined) {
          throw new UpgradeRefusal(400, -1125, 'This listenKey does not exist.');
        }
        out.push(name);
        continue;
      }
      const resolved = this.#options.directory.resolveStream(name);
      if ('refused' in resolved) refuse(name, resolved.refused);
      if (resolved.route !== route) {
        refuse(name, `served on /${resolved.route}, not /${route}`);
      }
      out.push(resolved.name);
    }
    return out;
  }

  #attach(ws: WebSocket, target: WsTarget, streams: readonly string[]): void {
    const now = this.#wallNow();
    if (
      target.route === 'private' &&
      streams.some((k) => this.#options.directory.accountOf(k) === undefined)
    ) {
      // A key ended between the upgrade check and now.
      ws.close(1008, 'listenKey does not exist');
      return;
    }
    const connection: Connection = {
      id: this.#nextId++,
      ws,
      route: target.route,
      combined: target.combined,
      streams: new Set(),
      events: target.events,
      keyedAtOpen: target.route === 'private' && streams.length > 0,
      connectedAt: now,
      lastPingAt: now,
      lastPongAt: now,
      messageSecond: Math.floor(now / 1000),
      messagesThisSecond: 0,
      stalledUntil: 0,
    };
    this.#connections.add(connection);
    this.#counters.connected += 1;
    this.#subscribe(connection, streams);
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
      streams: streams.length,
    });
  }

  #detach(connection: Connection): void {
    if (!this.#connections.delete(connection)) return;
    this.#unsubscribe(connection, [...connection.streams]);
  }

  #subscribe(connection: Connection, streams: readonly string[]): void {
    let changed = false;
    for (const stream of streams) {
      if (connection.streams.has(stream)) continue;
      connection.streams.add(stream);
      const index = this.#indexOf(connection);
      let set = index.get(stream);
      if (set === undefined) {
        set = new Set();
        index.set(stream, set);
        changed = connection.route !== 'private';
      }
      set.add(connection);
    }
    if (changed) this.#options.onDemandChange?.();
  }

  #unsubscribe(connection: Connection, streams: readonly string[]): void {
    let changed = false;
    for (const stream of streams) {
      if (!connection.streams.delete(stream)) continue;
      const index = this.#indexOf(connection);
      const set = index.get(stream);
      set?.delete(connection);
      if (set !== undefined && set.size === 0) {
        index.delete(stream);
        changed = connection.route !== 'private';
      }
    }
    if (changed) this.#options.onDemandChange?.();
  }

  #indexOf(connection: Connection): Map<string, Set<Connection>> {
    if (connection.route === 'private') return this.#byListenKey;
    const index = this.#subscribers.get(connection.route);
    if (index === undefined) throw new Error(`no index for route ${connection.route}`);
    return index;
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

  /** Sends `event` of `listenKey` to one connection if its `events=` allow it. */
  #publishUserTo(connection: Connection, listenKey: string, event: Json): void {
    if (connection.events !== undefined && !connection.events.has(eventType(event))) return;
    this.#sendUser(connection, listenKey, event);
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
        this.#subscription(connection, method, params, id);
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

  /** SUBSCRIBE / UNSUBSCRIBE: all names are checked first; one bad name refuses the whole request. */
  #subscription(
    connection: Connection,
    method: 'SUBSCRIBE' | 'UNSUBSCRIBE',
    params: string[],
    id: Json,
  ): void {
    let names: string[];
    try {
      // Leaving a stream one holds needs no check (an expired key can still be unsubscribed).
      const toCheck = method === 'UNSUBSCRIBE' ? params.filter((p) => !connection.streams.has(p)) : params;
      const held = method === 'UNSUBSCRIBE' ? params.filter((p) => connection.streams.has(p)) : [];
      names = [
        ...held,
        ...this.#checkNames(connection.route, toCheck, (name, reason) => {
          throw new StreamRefused(name, reason);
        }),
      ];
    } catch (error) {
      if (error instanceof StreamRefused || error instanceof UpgradeRefusal) {
        this.#counters.refusedStreams += 1;
        this.#log.info('stream refused', {
          connection: connection.id,
          route: connection.route,
          stream: error instanceof StreamRefused ? error.stream.slice(0, 100) : 'listenKey',
          reason: error.message,
        });
        this.#error(connection, 2, INVALID_STREAM, id);
        return;
      }
      throw error;
    }
    if (method === 'UNSUBSCRIBE') {
      this.#unsubscribe(connection, names);
    } else {
      const added = new Set(names.filter((s) => !connection.streams.has(s))).size;
      if (connection.streams.size + added > this.#limits.wsMaxStreams) {
        this.#error(
          connection,
          2,
          `Invalid request: too many streams; at most ${this.#limits.wsMaxStreams} per connection`,
          id,
        );
        return;
      }
      this.#subscribe(connection, names);
    }
    this.#reply(connection, { result: null, id });
  }
}

/** A stream name refused during SUBSCRIBE (answered as Binance's code 2, logged with the reason). */
class StreamRefused extends Error {
  override readonly name = 'StreamRefused';
  constructor(
    readonly stream: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** The `e` of a user-data event (empty when it has none). */
function eventType(event: Json): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return '';
  const type = (event as { readonly [key: string]: Json }).e;
  return typeof type === 'string' ? type : '';
}
