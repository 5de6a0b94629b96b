// Test support: a local HTTP server serving data.binance.vision's paths (files, .CHECKSUMs, Range requests), with faults a test arms.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface ArchiveRequest {
  readonly path: string;
  readonly range: string | undefined;
  readonly status: number;
  readonly time: number;
}

/** A fault for the next request(s) of one path. */
export type ArchiveFault =
  /** Answer with this status (and Retry-After seconds when given). */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  /** Send the headers and this many body bytes, then destroy the connection. */
  | { readonly kind: 'cut'; readonly afterBytes: number }
  /** Send the body with one byte flipped (the checksum will not match). */
  | { readonly kind: 'corrupt' }
  /** Ignore a Range header and send the whole file with 200. */
  | { readonly kind: 'ignore-range' };

/**
 * Serves `/data/...` paths from memory exactly as the archive does: 200 with the whole file, 206
 * with `Content-Range` for `Range: bytes=N-`, 416 past the end, 404 for what it does not hold.
 * `publish` adds a file and its `.CHECKSUM` (`<sha256>  <name>`). Faults are armed per path and
 * used up in order.
 */
export class ArchiveServer {
  readonly requests: ArchiveRequest[] = [];
  readonly #files = new Map<string, Buffer>();
  readonly #faults = new Map<string, ArchiveFault[]>();
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ArchiveServer> {
    const server = createServer();
    const archive = new ArchiveServer(server);
    server.on('request', (req, res) => archive.#handle(req.url ?? '/', req.headers.range, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return archive;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Serves `bytes` at `path` (no leading slash) and its checksum at `path.CHECKSUM`. */
  publish(path: string, bytes: Buffer, checksum?: string): void {
    this.#files.set(`/${path}`, bytes);
    const name = path.slice(path.lastIndexOf('/') + 1);
    const digest = checksum ?? createHash('sha256').update(bytes).digest('hex');
    this.#files.set(`/${path}.CHECKSUM`, Buffer.from(`${digest}  ${name}\n`));
  }

  /** Arms `fault` for the next request of `path` (faults of one path are used in the order armed). */
  fault(path: string, fault: ArchiveFault, times = 1): void {
    const list = this.#faults.get(`/${path}`) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.#faults.set(`/${path}`, list);
  }

  /** Requests of one path. */
  of(path: string): ArchiveRequest[] {
    return this.requests.filter((r) => r.path === `/${path}`);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #handle(path: string, range: string | undefined, res: import('node:http').ServerResponse): void {
    const record = (status: number) => this.requests.push({ path, range, status, time: Date.now() });
    const fault = this.#faults.get(path)?.shift();
    if (fault?.kind === 'status') {
      record(fault.status);
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      res.writeHead(fault.status, headers).end();
      return;
    }
    const file = this.#files.get(path);
    if (file === undefined) {
      record(404);
      res.writeHead(404).end('Not Found');
      return;
    }
    let body = file;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    const m = range === undefined || fault?.kind === 'ignore-range' ? null : /^bytes=(\d+)-$/.exec(range);
    if (m !== null) {
      const start = Number(m[1]);
      if (start >= file.length) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
        return;
      }
      body = file.subarray(start);
      status = 206;
      headers['content-range'] = `bytes ${start}-${file.length - 1}/${file.length}`;
    }
    if (fault?.kind === 'corrupt') {
      body = Buffer.from(body);
      body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff;
    }
    headers['content-length'] = String(body.length);
    record(status);
    res.writeHead(status, headers);
    if (fault?.kind === 'cut') {
      res.write(body.subarray(0, fault.afterBytes), () => {
        // The bytes are out; the connection ends (FIN, so they are delivered) before the rest.
        res.socket?.end();
      });
      return;
    }
    res.end(body);
  }
}
