// The hub's transport seam: one websocket + HTTP server interface, built on uWebSockets.js or ws.

/** Close codes the hub uses (4000–4999 are the application's range). */
export const CloseCode = {
  /** The hub is shutting down. */
  goingAway: 1001,
  /** A message above the transport limit (`maxPayloadBytes`). */
  messageTooBig: 1009,
  /** A message before authentication, or a malformed auth message. */
  badRequest: 4400,
  /** Bad credentials (unknown or revoked key, wrong MAC), or the key was revoked while connected. */
  unauthorized: 4401,
  /** The key may not use the peer name asked for, or peer ids are exhausted. */
  forbidden: 4403,
  /** No auth within the auth timeout, or silent longer than the idle timeout. */
  timeout: 4408,
  /** Another connection authenticated with the same peer name. */
  replaced: 4409,
  /** The peer's send buffer passed the hard back-pressure bound. */
  slowConsumer: 4413,
  /** The peer kept exceeding its message or byte budget. */
  flood: 4429,
  /** A plain (non-TLS) connection from an address that is not loopback. */
  tlsRequired: 4426,
} as const;

/** Callbacks of one connection; the server sets them when the connection opens. */
export interface ConnectionHandlers {
  /** A whole websocket message; `data` is the peer's bytes (a copy the handler may keep). */
  message(data: Buffer, isBinary: boolean): void;
  /** The send buffer drained (below what it was when a send reported back-pressure). */
  drain(): void;
  /** The connection is gone; nothing may be sent on it any more. */
  close(code: number, reason: string): void;
}

/** One peer connection. Sends after close are ignored and return false. */
export interface HubConnection {
  /** Unique per transport for the life of the process. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly isOpen: boolean;
  sendBinary(data: Uint8Array): boolean;
  sendText(text: string): boolean;
  /** Runs `fn` with the connection corked, so every send inside goes out in one write. */
  cork(fn: () => void): void;
  /** Bytes queued to this peer and not yet written to the socket. */
  bufferedAmount(): number;
  /** Joins a broadcast topic of {@link HubTransport.publish}. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  close(code: number, reason: string): void;
}

/** A plain HTTP response for a GET route. */
export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
  /** Extra response headers (lower-case names). */
  headers?: Record<string, string>;
}

/** What a GET route may read of its request (synchronously: uWS frees the request afterwards). */
export interface HttpRequest {
  readonly path: string;
  /** The client's address as the transport reports it. */
  readonly remoteAddress: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
}

/** What the server needs from a transport. */
export interface HubTransport {
  /** `uws` or `ws`. */
  readonly name: string;
  /** True when the transport speaks TLS (wss:// and https://). */
  readonly secure: boolean;
  /** Called for every new websocket connection (any path); returns the connection's handlers. */
  onConnection(accept: (connection: HubConnection) => ConnectionHandlers): void;
  /** Serves `GET path` (exact match) with `handler`; other paths answer 404. */
  onGet(path: string, handler: (request: HttpRequest) => HttpReply): void;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /**
   * True when `publish` has copied `data` by the time it returns, so the caller may then reuse
   * those bytes; false when a connection may keep referring to them until they are written.
   */
  readonly publishCopies: boolean;
  /** Sends `data` as one binary message to every connection subscribed to `topic`. */
  publish(topic: string, data: Uint8Array): void;
  /**
   * Runs `fn` (a turn's publishes) with every subscriber corked, so what one subscriber gets in
   * the turn leaves in one write.
   */
  batch(fn: () => void): void;
  /** Stops listening and closes every connection with `code`. */
  close(code: number, reason: string): Promise<void>;
}

/** Limits a transport enforces itself. */
export interface TransportLimits {
  /**
   * Largest message accepted; a bigger one closes the connection with 1009. (uWS cuts a connection
   * without a close frame when a message passes its own limit, so it is given twice this and the
   * server closes with 1009 itself.)
   */
  maxPayloadBytes: number;
  /**
   * Bytes a connection may queue before the transport itself drops messages (uWS); the server
   * acts on its own, lower bounds long before this.
   */
  maxBackpressureBytes: number;
}

/** Thrown when a transport cannot start. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly transport: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${transport} transport: ${message}`, options);
  }
}
