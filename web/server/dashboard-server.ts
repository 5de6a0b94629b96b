// The local dashboard server: the published site as static files, and the owner's live view behind a password.
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../ts/log/logger.js';
import { contentTypeOf } from '../../ts/publish/content-types.js';
import { OWNER_CSRF_HEADER } from '../ui/owner-types.js';
import { clientAddress, plainAddress } from './client-address.js';
import { isOwner, OWNER_REALM } from './owner-auth.js';
import { gatherOwnerLive, type OwnerSources } from './owner-live.js';

export interface DashboardServerOptions {
  readonly host: string;
  readonly port: number;
  /** The published site (the publisher's folder), served at `/`. */
  readonly publicDir: string;
  /** The built owner site, served at `/owner/` to the owner only. */
  readonly ownerDir: string;
  /** The owner's password (undefined: the owner view refuses everyone). */
  readonly ownerToken: string | undefined;
  readonly owner: OwnerSources;
  readonly logger: Logger;
  /** The clock of the wrong-password limit (tests move it). */
  readonly now?: () => number;
  /** Connections open at once at most (default {@link MAX_CONNECTIONS}); more are dropped on arrival. */
  readonly maxConnections?: number;
  /**
   * Addresses of reverse proxies in front of the server (`dashboard.trustedProxies`): a request
   * from one of them counts against the wrong-password limit of the client its `X-Forwarded-For`
   * names, not of the proxy (else one guesser locks everyone out). Default none: the header is
   * ignored.
   */
  readonly trustedProxies?: readonly string[];
}

const CommandSchema = z.strictObject({
  trader: z.string().regex(/^trader-\d{1,3}$/),
  state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']),
  reason: z.string().min(1).max(500),
});

/** Largest request body accepted (an owner command is a few hundred bytes). */
const MAX_BODY = 16_384;

/**
 * Wrong passwords one address may send within the window before it is refused (429) until the
 * window ends: the owner mistypes a few times, a guesser needs millions of tries.
 */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;
/** Addresses tracked at most, so a flood of addresses cannot grow the table without end. */
const MAX_TRACKED = 10_000;

/**
 * Connections open at once at most: a browser opens six, the owner's view and a few visitors
 * a few dozen; without a cap, idle connections from one client would use up the process's file
 * descriptors, the recorder's and the publisher's too on a machine that runs them together.
 */
export const MAX_CONNECTIONS = 256;
/** A client has this long to send a request's headers, and the whole request (slow senders hold a connection). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** A dropped connection is logged at most once in this window (a flood must not flood the log). */
const DROP_LOG_MS = 60_000;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/plain; charset=utf-8',
    ...headers,
  });
  response.end(body);
}

/** A request body, or why there is none: larger than {@link MAX_BODY}, or the client went away. */
type Body = { ok: true; text: string } | { ok: false; tooLarge: boolean; error: string };

/** Reads the body up to {@link MAX_BODY}; past it stops reading (the caller answers 413 and closes). */
function readBody(request: IncomingMessage): Promise<Body> {
  return new Promise((resolvePromise) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY) {
        request.off('data', onData);
        request.pause();
        resolvePromise({ ok: false, tooLarge: true, error: `body larger than ${MAX_BODY} bytes` });
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolvePromise({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    request.on('error', (error) => resolvePromise({ ok: false, tooLarge: false, error: error.message }));
    // After 'end' this changes nothing; without it a client gone mid-body would leave this pending.
    request.on('close', () =>
      resolvePromise({ ok: false, tooLarge: false, error: 'the client closed before the body ended' }),
    );
  });
}

/**
 * Serves the public dashboard exactly as published (so what the owner sees locally is what the
 * public sees on object storage) and, under `/owner/`, the live view: every request there must
 * carry the owner's password (`Authorization: Bearer <token>`, or HTTP Basic with any user name);
 * anything else gets 401. State changes (`POST /owner/api/trading-state`) also need the
 * `x-tributary-owner` header, which a page on another site cannot send.
 */
export class DashboardServer {
  readonly #o: DashboardServerOptions;
  readonly #server: Server;
  readonly #publicRoot: string;
  readonly #ownerRoot: string;
  #url: string | undefined;
  /**
   * Requests refused, by reason (for the log and tests): without or with a wrong password, the
   * owner view closed, from an address refused after repeated wrong passwords, and requests that
   * are malformed (a path or URL that cannot be read, a bad or oversized command).
   */
  readonly refused = {
    noCredentials: 0,
    badCredentials: 0,
    closed: 0,
    limited: 0,
    badRequests: 0,
    /** Connections dropped on arrival because {@link MAX_CONNECTIONS} were open. */
    tooManyConnections: 0,
  };
  #dropLoggedAt = Number.NEGATIVE_INFINITY;
  /** Wrong passwords per remote address: how many, since when (the window's start). */
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #now: () => number;
  readonly #trustedProxies: ReadonlySet<string>;

  constructor(options: DashboardServerOptions) {
    this.#o = options;
    this.#trustedProxies = new Set((options.trustedProxies ?? []).map(plainAddress));
    this.#publicRoot = resolve(options.publicDir);
    this.#ownerRoot = resolve(options.ownerDir);
    this.#now = options.now ?? Date.now;
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.#o.logger.error('dashboard request failed', { path: request.url ?? '', reason });
        if (!response.headersSent) send(response, 500, 'internal error');
        else response.end();
      });
    });
    this.#server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
    this.#server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.#server.requestTimeout = REQUEST_TIMEOUT_MS;
    this.#server.on('drop', (dropped) => this.#dropped(dropped?.remoteAddress));
  }

  /** Counts a connection dropped at the cap, and says so once a window. */
  #dropped(address: string | undefined): void {
    this.refused.tooManyConnections++;
    const now = this.#now();
    if (now - this.#dropLoggedAt < DROP_LOG_MS) return;
    this.#dropLoggedAt = now;
    this.#o.logger.warn('dashboard: connections dropped, too many open', {
      maxConnections: this.#server.maxConnections,
      dropped: this.refused.tooManyConnections,
      address: address ?? '',
    });
  }

  /** `http://host:port` once listening. */
  get url(): string {
    if (this.#url === undefined) throw new Error('not started');
    return this.#url;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolvePromise, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => resolvePromise());
    });
    const { port } = this.#server.address() as AddressInfo;
    const host = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    this.#url = `http://${host}:${port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolvePromise) => this.#server.close(() => resolvePromise()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://local').pathname);
    } catch {
      path = '\0';
    }
    // A URL that does not parse, bad escapes, or a NUL (no file name holds one) is the client's
    // fault: 400, counted, logged at debug only so a stranger cannot fill the log (its errors are
    // the owner's alerts).
    if (path.includes('\0')) {
      this.refused.badRequests++;
      this.#o.logger.debug('dashboard: unreadable request path', { url: request.url ?? '' });
      send(response, 400, 'bad path');
      return;
    }
    if (path === '/owner' || path.startsWith('/owner/')) {
      await this.#owner(request, response, path);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    await this.#static(response, this.#publicRoot, path, request.method === 'HEAD', 'no-cache');
  }

  async #owner(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const challenge = { 'www-authenticate': `Basic realm="${OWNER_REALM}", charset="UTF-8"` };
    if (this.#o.ownerToken === undefined) {
      this.refused.closed++;
      send(response, 401, 'the owner view is closed: set TRIBUTARY_OWNER_TOKEN', challenge);
      return;
    }
    const header = request.headers.authorization;
    const from = clientAddress(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
      this.#trustedProxies,
    );
    const blockedForMs = this.#blockedFor(from);
    if (blockedForMs > 0) {
      // Not even the right password is checked: a different answer would reveal a right guess.
      this.refused.limited++;
      send(response, 429, 'too many wrong passwords from this address: try again later', {
        'retry-after': String(Math.ceil(blockedForMs / 1000)),
      });
      return;
    }
    if (!isOwner(header, this.#o.ownerToken)) {
      if (header === undefined) this.refused.noCredentials++;
      else {
        this.refused.badCredentials++;
        this.#o.logger.warn('owner view: wrong password', { from });
        this.#failed(from);
      }
      send(response, 401, 'the owner view needs the owner password', challenge);
      return;
    }
    const noStore = { 'cache-control': 'no-store' };
    if (path === '/owner') {
      send(response, 301, '', { location: '/owner/', ...noStore });
      return;
    }
    if (path === '/owner/api/live' && request.method === 'GET') {
      const live = await gatherOwnerLive(this.#o.owner);
      send(response, 200, JSON.stringify(live), { 'content-type': 'application/json', ...noStore });
      return;
    }
    if (path === '/owner/api/trading-state') {
      await this.#command(request, response);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    await this.#static(
      response,
      this.#ownerRoot,
      path.slice('/owner'.length),
      request.method === 'HEAD',
      'no-store',
    );
  }

  /** How long `from` is still refused after repeated wrong passwords (0: not refused). */
  #blockedFor(from: string): number {
    const entry = this.#failures.get(from);
    if (entry === undefined) return 0;
    const left = entry.since + FAILURE_WINDOW_MS - this.#now();
    if (left <= 0) {
      this.#failures.delete(from);
      return 0;
    }
    return entry.count >= MAX_FAILURES ? left : 0;
  }

  /** Counts a wrong password from `from`; the one that reaches the limit is logged once. */
  #failed(from: string): void {
    const now = this.#now();
    let entry = this.#failures.get(from);
    if (entry === undefined) {
      if (this.#failures.size >= MAX_TRACKED) {
        for (const [address, old] of this.#failures)
          if (old.since + FAILURE_WINDOW_MS <= now) this.#failures.delete(address);
        // Still full: forget the oldest window (Map keeps insertion order).
        const oldest = this.#failures.keys().next();
        if (this.#failures.size >= MAX_TRACKED && oldest.done !== true) this.#failures.delete(oldest.value);
      }
      entry = { count: 0, since: now };
      this.#failures.set(from, entry);
    }
    entry.count++;
    if (entry.count === MAX_FAILURES)
      this.#o.logger.warn('owner view: address refused after repeated wrong passwords', {
        from,
        failures: entry.count,
        forMs: entry.since + FAILURE_WINDOW_MS - now,
      });
  }

  /** Refuses a command body larger than {@link MAX_BODY} with 413 and closes the connection (the rest is never read). */
  #tooLarge(request: IncomingMessage, response: ServerResponse, size: string): void {
    this.refused.badRequests++;
    this.#o.logger.warn('owner command refused: body too large', { size, max: MAX_BODY });
    response.on('finish', () => request.socket.destroy());
    send(response, 413, `the body is larger than ${MAX_BODY} bytes`, { connection: 'close' });
  }

  /** Refuses a command that is not JSON or not a command: 400 saying why, counted and logged. */
  #badCommand(response: ServerResponse, why: string): void {
    this.refused.badRequests++;
    this.#o.logger.warn('owner command refused: bad command', { reason: why });
    send(response, 400, `bad command: ${why}`);
  }

  async #command(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') {
      send(response, 405, 'POST only', { allow: 'POST' });
      return;
    }
    if (
      request.headers[OWNER_CSRF_HEADER] !== '1' ||
      !(request.headers['content-type'] ?? '').startsWith('application/json')
    ) {
      send(response, 403, `needs content-type application/json and ${OWNER_CSRF_HEADER}: 1`);
      return;
    }
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > MAX_BODY) {
      this.#tooLarge(request, response, String(declared));
      return;
    }
    const body = await readBody(request);
    if (!body.ok) {
      if (body.tooLarge) this.#tooLarge(request, response, 'streamed');
      else this.refused.badRequests++;
      // A client that went away has no one to answer.
      return;
    }
    let parsed: z.infer<typeof CommandSchema>;
    try {
      const result = CommandSchema.safeParse(JSON.parse(body.text));
      if (!result.success) {
        this.#badCommand(
          response,
          result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
        return;
      }
      parsed = result.data;
    } catch (error) {
      this.#badCommand(response, error instanceof Error ? error.message : String(error));
      return;
    }
    this.#o.logger.warn('owner command from the live view', {
      trader: parsed.trader,
      state: parsed.state,
      reason: parsed.reason,
    });
    const outcome = await this.#o.owner.trading.command(parsed.trader, parsed.state, parsed.reason);
    send(response, outcome.applied ? 200 : 202, JSON.stringify(outcome), {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
  }

  async #static(
    response: ServerResponse,
    root: string,
    path: string,
    head: boolean,
    cache: string,
  ): Promise<void> {
    const relative = path === '' || path.endsWith('/') ? `${path}index.html` : path;
    const file = resolve(join(root, relative));
    if (file !== root && !file.startsWith(root + sep)) {
      send(response, 404, 'not found');
      return;
    }
    let body: Buffer;
    try {
      // A link inside the folder may point anywhere (a secrets file): only files that really are
      // inside it are served. The root is resolved per request: the publisher may create it later.
      const real = await realpath(file);
      const realRoot = await realpath(root);
      if (!real.startsWith(realRoot + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
      if (!(await stat(real)).isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      body = await readFile(real);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A name too long for a file, or a link loop, cannot be a file here either.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP') {
        send(response, 404, 'not found');
        return;
      }
      throw error;
    }
    const immutable = relative.startsWith('/assets/') && cache !== 'no-store';
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': contentTypeOf(file),
      'content-length': String(body.length),
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : cache,
    });
    response.end(head ? undefined : body);
  }
}
