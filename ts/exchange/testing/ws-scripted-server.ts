// Test helper: a loopback websocket server that answers like Binance's market and private paths,
// scripted by each test (refusals, reply delays, drops, lag, rate-limit enforcement).
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { waitUntil } from '../../testing/wait-until.js';

/** A control message the server received. */
export interface ReceivedControl {
  at: number;
  method: string;
  params: string[];
  id: number;
}

/** The server side of one client connection. */
export interface ServerConnection {
  index: number;
  socket: WebSocket;
  path: string;
  query: URLSearchParams;
  openedAt: number;
  streams: Set<string>;
  control: ReceivedControl[];
  pongs: number;
  closed: boolean;
  /** Delay applied to data sent to this connection (ms). */
  lagMs: number;
}

/** Behaviour knobs, changeable while the server runs. */
export interface ScriptedServerOptions {
  /** Answer client pings (ws default true); false imitates a dead peer. */
  autoPong?: boolean;
  /** Delay before control replies (ms). */
  replyDelayMs?: number;
  /** Never answer control messages. */
  ignoreControl?: boolean;
  /** Refuse a SUBSCRIBE whose params match. */
  refuse?: (params: string[]) => boolean;
  /** Reject this many upcoming handshakes with HTTP 503. */
  rejectHandshakes?: number;
  /** Data lag per connection index (ms). */
  lagFor?: (index: number) => number;
  /** Runs right after a control reply was sent (a test stalls the process there). */
  afterReply?: () => void;
}

/** Binance closes a connection that sends more than 10 messages in a second; so does this server. */
const MAX_INCOMING_PER_SECOND = 10;

export class ScriptedServer {
  readonly url: string;
  readonly connections: ServerConnection[] = [];
  readonly handshakeAttempts: number[] = [];
  readonly rateViolations: number[] = [];
  options: ScriptedServerOptions;
  readonly #wss: WebSocketServer;

  private constructor(wss: WebSocketServer, options: ScriptedServerOptions) {
    this.#wss = wss;
    this.options = options;
    const { port } = wss.address() as AddressInfo;
    this.url = `ws://127.0.0.1:${port}`;
    wss.on('connection', (socket, request) => this.#onConnection(socket, request));
  }

  static start(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
    return new Promise((resolve, reject) => {
      let server: ScriptedServer | undefined;
      const wss = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        autoPong: options.autoPong ?? true,
        verifyClient: (_info, done) => {
          server?.handshakeAttempts.push(Date.now());
          const reject = server?.options.rejectHandshakes ?? 0;
          if (server !== undefined && reject > 0) {
            server.options.rejectHandshakes = reject - 1;
            done(false, 503, 'Service Unavailable');
            return;
          }
          done(true);
        },
      });
      wss.once('error', reject);
      wss.once('listening', () => {
        server = new ScriptedServer(wss, options);
        resolve(server);
      });
    });
  }

  /** Connections that are still open. */
  open(): ServerConnection[] {
    return this.connections.filter((c) => !c.closed);
  }

  /**
   * Sends `{"stream":<stream>,"data":<data>}` to every open connection subscribed to `stream` (the
   * same bytes to each, as Binance does); returns how many got it.
   */
  publish(stream: string, data: unknown): number {
    const text = JSON.stringify({ stream, data });
    let count = 0;
    for (const c of this.open()) {
      if (!c.streams.has(stream)) continue;
      count += 1;
      this.#send(c, text);
    }
    return count;
  }

  /** Sends a text frame to every open connection whose path starts with `pathPrefix`. */
  sendRaw(pathPrefix: string, text: string): number {
    let count = 0;
    for (const c of this.open()) {
      if (!c.path.startsWith(pathPrefix)) continue;
      count += 1;
      this.#send(c, text);
    }
    return count;
  }

  close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }

  #send(c: ServerConnection, text: string): void {
    if (c.lagMs > 0) {
      setTimeout(() => {
        if (!c.closed) c.socket.send(text);
      }, c.lagMs);
    } else {
      c.socket.send(text);
    }
  }

  #onConnection(socket: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'ws://127.0.0.1');
    const index = this.connections.length;
    const c: ServerConnection = {
      index,
      socket,
      path: url.pathname,
      query: url.searchParams,
      openedAt: Date.now(),
      streams: new Set(url.searchParams.get('streams')?.split('/').filter(Boolean) ?? []),
      control: [],
      pongs: 0,
      closed: false,
      lagMs: this.options.lagFor?.(index) ?? 0,
    };
    this.connections.push(c);
    const incoming: number[] = [];
    socket.on('pong', () => {
      c.pongs += 1;
    });
    socket.on('close', () => {
      c.closed = true;
    });
    socket.on('message', (data) => {
      const now = Date.now();
      incoming.push(now);
      while (incoming.length > 0 && (incoming[0] ?? now) <= now - 1000) incoming.shift();
      if (incoming.length > MAX_INCOMING_PER_SECOND) {
        this.rateViolations.push(now);
        socket.close(1008, 'too many requests');
        return;
      }
      const msg = JSON.parse(String(data)) as { method: string; params?: string[]; id: number };
      const params = msg.params ?? [];
      c.control.push({ at: now, method: msg.method, params, id: msg.id });
      if (this.options.ignoreControl === true) return;
      const reply = (): void => {
        if (c.closed) return;
        if (msg.method === 'SUBSCRIBE') {
          if (this.options.refuse?.(params) === true) {
            socket.send(
              JSON.stringify({ error: { code: 2, msg: 'Invalid request: unknown stream' }, id: msg.id }),
            );
            return;
          }
          for (const s of params) c.streams.add(s);
          socket.send(JSON.stringify({ result: null, id: msg.id }));
        } else if (msg.method === 'UNSUBSCRIBE') {
          for (const s of params) c.streams.delete(s);
          socket.send(JSON.stringify({ result: null, id: msg.id }));
        } else if (msg.method === 'LIST_SUBSCRIPTIONS') {
          socket.send(JSON.stringify({ result: [...c.streams], id: msg.id }));
        } else {
          socket.send(
            JSON.stringify({ error: { code: 2, msg: `unknown method ${msg.method}` }, id: msg.id }),
          );
        }
      };
      const answer = (): void => {
        reply();
        this.options.afterReply?.();
      };
      const delay = this.options.replyDelayMs ?? 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  }
}

/** Re-exported for the websocket tests, which import their helpers from here. */
export { waitUntil };
