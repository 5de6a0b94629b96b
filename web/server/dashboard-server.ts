// The local dashboard server: the published site as static files, and the owner's live view behind a password.
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../ts/log/logger.js';
import { contentTypeOf } from '../../ts/publish/content-types.js';
import { OWNER_CSRF_HEADER } from '../ui/owner-types.js';
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
}

const CommandSchema = z.strictObject({
  trader: z.string().regex(/^trader-\d{1,3}$/),
  state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']),
  reason: z.string().min(1).max(500),
});

/** Largest request body accepted (an owner command is a few hundred bytes). */
const MAX_BODY = 16_384;

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

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
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
  /** Requests refused for want of the password, by reason (for the log and tests). */
  readonly refused = { noCredentials: 0, badCredentials: 0, closed: 0 };

  constructor(options: DashboardServerOptions) {
    this.#o = options;
    this.#publicRoot = resolve(options.publicDir);
    this.#ownerRoot = resolve(options.ownerDir);
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.#o.logger.error('dashboard request failed', { path: request.url ?? '', reason });
        if (!response.headersSent) send(response, 500, 'internal error');
        else response.end();
      });
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
    const url = new URL(request.url ?? '/', 'http://local');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
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
    if (!isOwner(header, this.#o.ownerToken)) {
      if (header === undefined) this.refused.noCredentials++;
      else {
        this.refused.badCredentials++;
        this.#o.logger.warn('owner view: wrong password', { from: request.socket.remoteAddress ?? '' });
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
    let parsed: z.infer<typeof CommandSchema>;
    try {
      const result = CommandSchema.safeParse(JSON.parse(await readBody(request)));
      if (!result.success) {
        send(
          response,
          400,
          `bad command: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
        return;
      }
      parsed = result.data;
    } catch (error) {
      send(response, 400, `bad command: ${error instanceof Error ? error.message : String(error)}`);
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
      if (!(await stat(file)).isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      body = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
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
