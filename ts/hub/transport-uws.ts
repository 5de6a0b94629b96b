// The hub transport on uWebSockets.js (npm @trufflesuite/uws-js-unofficial), loaded where its binary works.
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
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

type UwsModule = typeof Uws;

/** What each uWS socket carries: the connection object that wraps it. */
interface SocketData {
  connection: UwsConnection | undefined;
}

let cached: UwsModule | Error | undefined;

/**
 * Loads the native uWS binary for this platform and Node ABI directly (not the package's entry
 * point, which silently substitutes its own pure-JS emulation when the binary fails). Returns the
 * error when it cannot load, so the caller can fall back to `ws` and say why.
 */
export function loadUws(): UwsModule | Error {
  if (cached !== undefined) return cached;
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    const require = createRequire(import.meta.url);
    cached = require(`@trufflesuite/uws-js-unofficial/binaries/${file}`) as UwsModule;
  } catch (error) {
    cached = new TransportError('uws', `cannot load ${file}`, { cause: error });
  }
  return cached;
}

let nextConnectionId = 1;

/** How long a closing connection may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 2_000;

class UwsConnection implements HubConnection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly #ws: Uws.WebSocket<SocketData>;
  #open = true;
  #gone = false;

  constructor(ws: Uws.WebSocket<SocketData>) {
    this.#ws = ws;
    this.remoteAddress = Buffer.from(ws.getRemoteAddressAsText()).toString();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  sendBinary(data: Uint8Array): boolean {
    // 2 means uWS dropped the message (over its own back-pressure limit): report it as not sent.
    return this.#open && this.#ws.send(data, true) !== 2;
  }

  sendText(text: string): boolean {
    return this.#open && this.#ws.send(text, false) !== 2;
  }

  cork(fn: () => void): void {
    if (!this.#open) return;
    this.#ws.cork(fn);
  }

  bufferedAmount(): number {
    return this.#open ? this.#ws.getBufferedAmount() : 0;
  }

  subscribe(topic: string): void {
    if (this.#open) this.#ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (this.#open) this.#ws.unsubscribe(topic);
  }

  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    this.#ws.end(code, reason);
    // A peer that never reads (its close frame queued behind what it did not read) is cut.
    setTimeout(() => {
      if (!this.#gone) this.#ws.close();
    }, CLOSE_GRACE_MS).unref();
  }

  /** The transport's close callback ran: the socket is gone. */
  markGone(): void {
    this.#open = false;
    this.#gone = true;
  }
}

/** uWebSockets.js implementation of {@link HubTransport}. */
export class UwsTransport implements HubTransport {
  readonly name = 'uws';
  readonly secure: boolean;
  /** uWS copies a published message into its topic tree (or writes it) before `publish` returns. */
  readonly publishCopies = true;
  readonly #uws: UwsModule;
  readonly #app: Uws.TemplatedApp;
  readonly #log: Logger;
  readonly #routes = new Map<string, (request: HttpRequest) => HttpReply>();
  readonly #connections = new Set<UwsConnection>();
  #listenSocket: Uws.us_listen_socket | undefined;
  #accept: ((connection: HubConnection) => ConnectionHandlers) | undefined;
  readonly #handlers = new Map<UwsConnection, ConnectionHandlers>();
  readonly #closeWaiters = new Set<() => void>();

  /**
   * Throws a {@link TransportError} when the uWS binary does not load; see {@link loadUws}. With
   * `tls`, an SSLApp: TLS only. (With a CA, uSockets refuses a peer certificate the CA did not
   * sign but accepts a peer that sends none, so `createTransport` never builds this with a CA.)
   */
  constructor(limits: TransportLimits, log: Logger, tls?: LoadedServerTls) {
    const uws = loadUws();
    if (uws instanceof Error) throw uws;
    this.#uws = uws;
    this.#log = log;
    this.secure = tls !== undefined;
    this.#app =
      tls === undefined
        ? uws.App()
        : uws.SSLApp({
            cert_file_name: tls.files.certFile,
            key_file_name: tls.files.keyFile,
            ...(tls.files.caFile === undefined ? {} : { ca_file_name: tls.files.caFile }),
          });
    this.#app.ws<SocketData>('/*', {
      // uWS cuts a connection whose message passes this without a close frame (the peer sees 1006):
      // twice the limit lets the server see such a message and close with 1009 as documented.
      maxPayloadLength: 2 * limits.maxPayloadBytes,
      maxBackpressure: limits.maxBackpressureBytes,
      closeOnBackpressureLimit: 0,
      // The hub runs its own heartbeat and idle timeout, the same on both transports.
      idleTimeout: 0,
      sendPingsAutomatically: false,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => {
        res.upgrade<SocketData>(
          { connection: undefined },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => this.#opened(ws),
      message: (ws, message, isBinary) => {
        const connection = ws.getUserData().connection;
        if (connection === undefined) return;
        // uWS neuters the ArrayBuffer when this callback returns: copy before keeping it.
        this.#handlers.get(connection)?.message(Buffer.from(new Uint8Array(message)), isBinary);
      },
      drain: (ws) => {
        const connection = ws.getUserData().connection;
        if (connection !== undefined) this.#handlers.get(connection)?.drain();
      },
      close: (ws, code, message) => {
        const connection = ws.getUserData().connection;
        if (connection === undefined) return;
        connection.markGone();
        this.#connections.delete(connection);
        const handlers = this.#handlers.get(connection);
        this.#handlers.delete(connection);
        handlers?.close(code, Buffer.from(message).toString());
        if (this.#connections.size === 0) {
          for (const resolve of this.#closeWaiters) resolve();
          this.#closeWaiters.clear();
        }
      },
    });
    this.#app.any('/*', (res, req) => {
      const path = req.getUrl();
      const route = req.getMethod() === 'get' ? this.#routes.get(path) : undefined;
      // Headers are read inside the handler: uWS frees the request when it returns.
      const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
      const reply: HttpReply = route
        ? route({ path, remoteAddress, header: (name) => req.getHeader(name) || undefined })
        : { status: 404, contentType: 'application/json', body: '{"error":"not_found"}' };
      res.cork(() => {
        res.writeStatus(`${reply.status} ${STATUS_CODES[reply.status] ?? ''}`);
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.writeHeader(name, value);
        res.writeHeader('content-type', reply.contentType).end(reply.body);
      });
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
      this.#app.listen(host, port, (socket) => {
        if (socket === false) {
          reject(new TransportError(this.name, `cannot listen on ${host}:${port}`));
          return;
        }
        this.#listenSocket = socket;
        resolve(this.#uws.us_socket_local_port(socket));
      });
    });
  }

  publish(topic: string, data: Uint8Array): void {
    this.#app.publish(topic, data, true);
  }

  batch(fn: () => void): void {
    // uWS queues published messages per subscriber and writes them corked by itself.
    fn();
  }

  async close(code: number, reason: string): Promise<void> {
    if (this.#listenSocket !== undefined) {
      this.#uws.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = undefined;
    }
    if (this.#connections.size > 0) {
      const closed = new Promise<void>((resolve) => {
        this.#closeWaiters.add(resolve);
        setTimeout(resolve, 1_000).unref();
      });
      for (const connection of this.#connections) connection.close(code, reason);
      await closed;
    }
    // Keep-alive HTTP sockets and the loop handle go with the app (newer uWS builds only).
    const app = this.#app as Uws.TemplatedApp & { close?: () => void };
    if (typeof app.close === 'function') app.close();
  }

  #opened(ws: Uws.WebSocket<SocketData>): void {
    const connection = new UwsConnection(ws);
    ws.getUserData().connection = connection;
    const accept = this.#accept;
    if (accept === undefined) {
      connection.close(1011, 'not accepting connections');
      return;
    }
    this.#connections.add(connection);
    this.#handlers.set(connection, accept(connection));
    this.#log.debug('connection opened', { connection: connection.id, remote: connection.remoteAddress });
  }
}
