// A loopback HTTP server whose answers each test scripts (status, headers, body, delay, dropped connections).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it. */
export interface ScriptedRequest {
  readonly method: string;
  readonly path: string;
  /** The query string exactly as sent (without `?`). */
  readonly rawQuery: string;
  readonly query: URLSearchParams;
  /** The body exactly as sent. */
  readonly body: string;
  /** Query and body parameters merged (query wins, as on Binance). */
  readonly params: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** Which TCP connection carried it (1, 2, ...). */
  readonly connection: number;
}

/** What to answer. */
export interface ScriptedReply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
  /** Wait before answering, ms. */
  readonly delayMs?: number;
  /** Drop the connection instead of answering. */
  readonly destroy?: boolean;
}

export type ScriptedHandler = (request: ScriptedRequest) => ScriptedReply | Promise<ScriptedReply>;

/** A scripted HTTP server on 127.0.0.1 and an OS-chosen port. */
export class ScriptedServer {
  readonly requests: ScriptedRequest[] = [];
  readonly #routes = new Map<string, ScriptedHandler>();
  readonly #server: http.Server;
  #connections = 0;
  #url = '';

  private constructor() {
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#connections += 1;
      Object.defineProperty(socket, 'scriptedId', { value: this.#connections });
    });
  }

  /** Starts a server; routes are added with `on`. */
  static async start(): Promise<ScriptedServer> {
    const server = new ScriptedServer();
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    const address = server.#server.address() as AddressInfo;
    server.#url = `http://127.0.0.1:${address.port}`;
    return server;
  }

  get url(): string {
    return this.#url;
  }

  /** TCP connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Answers `method path` with `handler` (replacing an earlier one). */
  on(method: string, path: string, handler: ScriptedHandler): this {
    this.#routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Requests to `path` (any method unless given). */
  requestsTo(path: string, method?: string): ScriptedRequest[] {
    return this.requests.filter((r) => r.path === path && (method === undefined || r.method === method));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(rawQuery);
    const params = new URLSearchParams(body);
    for (const [k, v] of query) params.set(k, v);
    const connection = Number(Object.getOwnPropertyDescriptor(req.socket, 'scriptedId')?.value ?? 0);
    const request: ScriptedRequest = {
      method: req.method ?? 'GET',
      path,
      rawQuery,
      query,
      body,
      params,
      headers: req.headers,
      connection,
    };
    this.requests.push(request);
    const handler = this.#routes.get(`${request.method} ${path}`);
    const reply: ScriptedReply = handler
      ? await handler(request)
      : { status: 404, body: { code: -5000, msg: `no route ${request.method} ${path}` } };
    if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (reply.destroy === true) {
      req.socket.destroy();
      return;
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', ...reply.headers });
    res.end(text);
  }
}
