// The hub transport on the `ws` library over node:http: the portable fallback for uWebSockets.js.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log/logger.js';
import type { LoadedServerTls } from './hub-tls.js';
import {
  type ConnectionHandlers,
  type HttpReply,
  type HttpRequest,
  type HubConnection,
  type HubTransport,
  TransportError,
  type TransportLimits,
} from './transport.js';

/** How long a closing connection may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 2_000;

let nextConnectionId = 1;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

class WsConnection implements HubConnection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly topics = new Set<string>();
  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  readonly #transport: WsTransport;
  #open = true;

  constructor(ws: WebSocket, socket: Duplex, request: IncomingMessage, transport: WsTransport) {
    this.#ws = ws;
    this.#socket = socket;
    this.#transport = transport;
    this.remoteAddress = request.socket.remoteAddress ?? 'unknown';
  }

  get isOpen(): boolean {
    return this.#open;
  }

  markClosed(): void {
    this.#open = false;
    for (const topic of this.topics) this.#transport.leave(topic, this);
    this.topics.clear();
  }

  sendBinary(data: Uint8Array): boolean {
    if (!this.#open) return false;
    this.#ws.send(data, { binary: true });
    return true;
  }

  sendText(text: string): boolean {
    if (!this.#open) return false;
    this.#ws.send(text, { binary: false });
    return true;
  }

  cork(fn: () => void): void {
    // Corking the TCP socket turns the turn's writes into one writev on uncork.
    this.#socket.cork();
    try {
      fn();
    } finally {
      this.#socket.uncork();
    }
  }

  corkSocket(): void {
    this.#socket.cork();
  }

  uncorkSocket(): void {
    this.#socket.uncork();
  }

  bufferedAmount(): number {
    // ws counts the socket's pending writes and its own queue.
    return this.#open ? this.#ws.bufferedAmount : 0;
  }

  subscribe(topic: string): void {
    if (!this.#open || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.#transport.join(topic, this);
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.#transport.leave(topic, this);
  }

  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#ws.close(code, reason);
    // A peer that never answers the close handshake (or cannot, behind a full buffer) is cut.
    setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

/** `ws` + node:http (node:https with TLS) implementation of {@link HubTransport}. */
export class WsTransport implements HubTransport {
  readonly name = 'ws';
  readonly secure: boolean;
  /** `ws` queues a reference to the message on a corked or busy socket until it is written. */
  readonly publishCopies = false;
  readonly #log: Logger;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #routes = new Map<string, (request: HttpRequest) => HttpReply>();
  readonly #topics = new Map<string, Set<WsConnection>>();
  readonly #connections = new Set<WsConnection>();
  readonly #closeWaiters = new Map<WsConnection, () => void>();
  #accept: ((connection: HubConnection) => ConnectionHandlers) | undefined;

  /** With `tls`, speaks TLS only; with `tls.ca`, also requires a client certificate signed by it. */
  constructor(limits: TransportLimits, log: Logger, tls?: LoadedServerTls) {
    this.#log = log;
    this.secure = tls !== undefined;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxPayloadBytes,
      perMessageDeflate: false,
    });
    const serve = (request: IncomingMessage, response: ServerResponse): void => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const route = request.method === 'GET' ? this.#routes.get(path) : undefined;
      const header = (name: string): string | undefined => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const remoteAddress = request.socket.remoteAddress ?? 'unknown';
      const reply: HttpReply = route
        ? route({ path, header, remoteAddress })
        : { status: 404, contentType: 'application/json', body: '{"error":"not_found"}' };
      response.writeHead(reply.status, { ...reply.headers, 'content-type': reply.contentType });
      response.end(reply.body);
    };
    if (tls === undefined) {
      this.#http = createServer(serve);
    } else {
      const verifyPeers = tls.ca !== undefined;
      this.#http = createTlsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(verifyPeers ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          minVersion: 'TLSv1.2',
        },
        serve,
      );
      this.#http.on('tlsClientError', (error: Error, socket) => {
        // A peer without a certificate the CA signed, or one that does not trust ours.
        this.#log.warn('TLS handshake refused', { remote: socket.remoteAddress, error: error.message });
      });
    }
    this.#http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#wss.handleUpgrade(request, socket, head, (ws) => this.#opened(ws, socket, request));
    });
  }

  onConnection(accept: (connection: HubConnection) => ConnectionHandlers): void {
    this.#accept = accept;
  }

  onGet(path: string, handler: (request: HttpRequest) => HttpReply): void {
    this.#routes.set(path, handler);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void =>
        reject(new TransportError(this.name, `cannot listen on ${host}:${port}`, { cause: error }));
      this.#http.once('error', failed);
      this.#http.listen(port, host, () => {
        this.#http.off('error', failed);
        const address = this.#http.address();
        if (address === null || typeof address === 'string') {
          reject(new TransportError(this.name, 'listening socket has no TCP address'));
          return;
        }
        resolve(address.port);
      });
    });
  }

  publish(topic: string, data: Uint8Array): void {
    const members = this.#topics.get(topic);
    if (members === undefined) return;
    for (const connection of members) connection.sendBinary(data);
  }

  batch(fn: () => void): void {
    const corked = [...this.#connections].filter((c) => c.topics.size > 0);
    for (const connection of corked) connection.corkSocket();
    try {
      fn();
    } finally {
      for (const connection of corked) connection.uncorkSocket();
    }
  }

  join(topic: string, connection: WsConnection): void {
    let members = this.#topics.get(topic);
    if (members === undefined) {
      members = new Set();
      this.#topics.set(topic, members);
    }
    members.add(connection);
  }

  leave(topic: string, connection: WsConnection): void {
    const members = this.#topics.get(topic);
    if (members === undefined) return;
    members.delete(connection);
    if (members.size === 0) this.#topics.delete(topic);
  }

  async close(code: number, reason: string): Promise<void> {
    const closing = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          connection.close(code, reason);
          const cut = setTimeout(() => {
            connection.terminate();
            resolve();
          }, 500);
          cut.unref();
          this.#closeWaiters.set(connection, () => {
            clearTimeout(cut);
            resolve();
          });
        }),
    );
    await Promise.all(closing);
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  #opened(ws: WebSocket, socket: Duplex, request: IncomingMessage): void {
    const connection = new WsConnection(ws, socket, request, this);
    const accept = this.#accept;
    if (accept === undefined) {
      ws.close(1011, 'not accepting connections');
      return;
    }
    if (socket instanceof Socket) socket.setNoDelay(true);
    this.#connections.add(connection);
    const handlers = accept(connection);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      handlers.message(toBuffer(data), isBinary);
    });
    socket.on('drain', () => {
      if (connection.isOpen) handlers.drain();
    });
    ws.on('error', (error: Error) => {
      // ws closes the connection after an error (for example 1009 for an oversized message);
      // the close handler below does the bookkeeping.
      this.#log.debug('connection error', { connection: connection.id, error: error.message });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      connection.markClosed();
      this.#connections.delete(connection);
      handlers.close(code, reason.toString());
      this.#closeWaiters.get(connection)?.();
      this.#closeWaiters.delete(connection);
    });
  }
}
