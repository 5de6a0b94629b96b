// The gateway's HTTP server: authenticates every request with the peer's hub key, checks it against the protocol, and hands it to the claims.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import {
  GATEWAY_AUTH_WINDOW_MS,
  parseGatewayAuthorization,
  verifyRequestMac,
} from '../ts/gateway/gateway-auth.js';
import { GatewayRequestError } from '../ts/gateway/gateway-error.js';
import {
  GATEWAY_PATH,
  type GatewayErrorCode,
  OrderRefSchema,
  PlaceRequestSchema,
} from '../ts/gateway/gateway-protocol.js';
import type { PeerRole } from '../ts/hub/control-messages.js';
import { isLoopbackAddress } from '../ts/hub/hub-tls.js';
import { type KeyRing, keyAllowsName } from '../ts/hub/peer-keys.js';
import type { Logger } from '../ts/log/logger.js';
import type { OrderClaims } from './order-claims.js';

/** Largest request body accepted (an order is a few hundred bytes). */
const MAX_BODY_BYTES = 16 * 1024;

/** Options of {@link GatewayServer}. */
export interface GatewayServerOptions {
  readonly claims: OrderClaims;
  readonly keys: KeyRing;
  readonly logger: Logger;
  readonly host?: string;
  readonly port?: number;
  /**
   * HTTPS with this certificate and key (PEM); with `ca`, a client must show a certificate it
   * signed (mutual TLS, as the hub asks). Without TLS only loopback clients are served.
   */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer | undefined };
  /** Longest a request waits for its order's outcome before it is told to ask again (`outcome-unknown`). */
  readonly answerWithinMs?: number;
  /** Status fields added by the owner (claim log counters, mode). */
  readonly status?: () => Record<string, unknown>;
  readonly now?: () => number;
}

/** Requests refused, by error code, and requests answered. */
export interface GatewayServerStats {
  requests: number;
  answered: number;
  refused: Partial<Record<GatewayErrorCode, number>>;
}

/** Who sent an authenticated request. */
interface Caller {
  readonly peer: string;
  readonly role: PeerRole;
}

/**
 * `POST /v1/orders`, `GET|DELETE /v1/orders/<symbol>/<clientOrderId>`, `GET /v1/status`
 * (docs/protocol.md, "Gateway"). Every request carries `Authorization: Tributary key=…, peer=…,
 * time=…, mac=…` made with the peer's own key from the hub's key file; orders need the `trader`
 * role. Whatever a peer sends that is not the protocol is answered with a typed error, counted
 * by code and logged; nothing a peer sends stops the server.
 */
export class GatewayServer {
  readonly stats: GatewayServerStats = { requests: 0, answered: 0, refused: {} };
  readonly #o: GatewayServerOptions;
  readonly #server: Server;
  readonly #now: () => number;

  private constructor(options: GatewayServerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const tls = options.tls;
    this.#server =
      tls === undefined
        ? createServer(handle)
        : createTlsServer(
            {
              cert: tls.cert,
              key: tls.key,
              ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: true }),
            },
            handle,
          );
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: GatewayServerOptions): Promise<GatewayServer> {
    const server = new GatewayServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.#o.host ?? '127.0.0.1';
    return `${this.#o.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests += 1;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    try {
      const body = await readBody(req);
      // Plain HTTP carries orders and their answers unprotected: from this machine only (as the hub).
      const remote = req.socket.remoteAddress ?? '';
      if (this.#o.tls === undefined && !isLoopbackAddress(remote))
        throw new GatewayRequestError(
          'tls-required',
          `plain requests are served from loopback only, this one came from ${remote}: set gateway.tls (and hub.tls) to serve other machines`,
        );
      if (method === 'GET' && path === `${GATEWAY_PATH}/health`) return this.#reply(res, 200, { ok: true });
      const caller = this.#authenticate(req, method, path, body);
      const answer = await this.#route(caller, method, path, body);
      this.#reply(res, 200, answer);
    } catch (error) {
      const refusal =
        error instanceof GatewayRequestError
          ? error
          : new GatewayRequestError('internal', 'the gateway failed on this request; see its log');
      this.stats.refused[refusal.code] = (this.stats.refused[refusal.code] ?? 0) + 1;
      const fields = {
        method,
        path: path.slice(0, 200),
        remote: req.socket.remoteAddress ?? null,
        error: refusal.message.slice(0, 300),
        ...(error instanceof GatewayRequestError ? {} : { cause: describe(error) }),
      };
      if (refusal.code === 'internal') this.#o.logger.error('request failed', fields);
      else if (refusal.code === 'outcome-unknown') this.#o.logger.info('request answered: ask again', fields);
      else this.#o.logger.warn('request refused', fields);
      this.#reply(res, refusal.status, refusal.body());
    }
  }

  #authenticate(req: IncomingMessage, method: string, path: string, body: string): Caller {
    const header = req.headers.authorization;
    const fields = parseGatewayAuthorization(typeof header === 'string' ? header : undefined);
    if (fields === undefined)
      throw new GatewayRequestError(
        'unauthenticated',
        'send Authorization: Tributary key=<key id>, peer=<name>, time=<ms>, mac=<hex> (docs/protocol.md, Gateway)',
      );
    const key = this.#o.keys.lookup(fields.key);
    if (key === undefined)
      throw new GatewayRequestError(
        'unknown-peer',
        `key ${fields.key} (peer ${fields.peer}) is not in the gateway's key file or is revoked; issue one: tributary keys issue --role trader --peer ${fields.peer}`,
      );
    if (Math.abs(this.#now() - fields.time) > GATEWAY_AUTH_WINDOW_MS)
      throw new GatewayRequestError(
        'stale-request',
        `request time ${fields.time} is more than ${GATEWAY_AUTH_WINDOW_MS} ms from the gateway's clock`,
      );
    if (!verifyRequestMac(key.secret, { method, path, body }, fields))
      throw new GatewayRequestError(
        'bad-signature',
        `the MAC of key ${fields.key} does not match this request`,
      );
    if (!keyAllowsName(key, fields.peer))
      throw new GatewayRequestError('forbidden', `key ${fields.key} may not use the name ${fields.peer}`);
    return { peer: fields.peer, role: key.role };
  }

  async #route(caller: Caller, method: string, path: string, body: string): Promise<unknown> {
    const url = new URL(path, 'http://gateway');
    const parts = url.pathname.split('/').filter((p) => p.length > 0);
    if (parts[0] !== GATEWAY_PATH.slice(1))
      throw new GatewayRequestError('no-such-endpoint', `${method} ${url.pathname}`);
    if (parts[1] === 'status' && parts.length === 2 && method === 'GET') return this.status();
    if (parts[1] !== 'orders') throw new GatewayRequestError('no-such-endpoint', `${method} ${url.pathname}`);
    if (caller.role !== 'trader')
      throw new GatewayRequestError(
        'forbidden',
        `orders need a trader key; this key's role is ${caller.role}`,
      );
    if (parts.length === 2 && method === 'POST') {
      const request = check(PlaceRequestSchema, parseJson(body));
      return this.#bounded(this.#o.claims.place(caller.peer, request));
    }
    if (parts.length === 4 && (method === 'GET' || method === 'DELETE')) {
      const ref = check(OrderRefSchema, {
        symbol: decodePart(parts[2] ?? '', 'symbol'),
        clientOrderId: decodePart(parts[3] ?? '', 'clientOrderId'),
      });
      return this.#bounded(
        method === 'GET' ? this.#o.claims.query(caller.peer, ref) : this.#o.claims.cancel(caller.peer, ref),
      );
    }
    throw new GatewayRequestError('no-such-endpoint', `${method} ${url.pathname}`);
  }

  /** The answer of `work`, or `outcome-unknown` when it takes longer than the answer window (it goes on). */
  async #bounded<T>(work: Promise<T>): Promise<T> {
    const within = this.#o.answerWithinMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GatewayRequestError(
              'outcome-unknown',
              `still placing after ${within} ms; ask again with the same client order id`,
            ),
          ),
        within,
      );
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
      // A placement that ends after the answer went out is still recorded; its error is logged by the claims.
      work.catch(() => undefined);
    }
  }

  /** The status document: the owner's fields (mode, claim log), the claims' and the server's counters. */
  status(): Record<string, unknown> {
    return {
      ...this.#o.status?.(),
      claims: this.#o.claims.stats,
      server: this.stats,
    };
  }

  #reply(res: ServerResponse, status: number, body: unknown): void {
    if (status === 200) this.stats.answered += 1;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new GatewayRequestError('too-large', `bodies are at most ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (error) =>
      reject(new GatewayRequestError('bad-request', `the body was cut off: ${describe(error)}`)),
    );
    // A peer that goes away mid-body: refused (and counted) rather than left waiting for an end.
    req.on('close', () => {
      if (!req.complete) reject(new GatewayRequestError('bad-request', 'the body was cut off'));
    });
  });
}

/** A percent-decoded path segment; a broken escape (`%E0%A4%A`) is the request's fault, not the gateway's. */
function decodePart(part: string, field: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw new GatewayRequestError(
      'bad-request',
      `${field}: the path segment is not percent-encoded text: ${describe(error)}`,
    );
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new GatewayRequestError('bad-request', `the body is not JSON: ${describe(error)}`);
  }
}

function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new GatewayRequestError('bad-request', issues.join('; ').slice(0, 500));
  }
  return parsed.data;
}
