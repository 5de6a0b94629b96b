// A local Aliyun OSS server for tests: one bucket, PutObject/GetObject/HeadObject, V1 request signatures checked as OSS checks them.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One stored object. */
export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string | undefined;
  readonly etag: string;
  readonly lastModified: number;
}

/** One request the server saw and what it answered. */
export interface SeenRequest {
  readonly method: string;
  readonly key: string;
  readonly status: number;
  /** The OSS error code when refused (`SignatureDoesNotMatch`, ...). */
  readonly code: string | undefined;
}

export interface LocalOssOptions {
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Allowed clock difference (OSS allows 15 minutes). */
  readonly maxSkewMs?: number;
}

/** OSS's largest clock difference between a request's date and the server. */
const MAX_SKEW_MS = 15 * 60_000;

/**
 * Sub-resources that are part of the signed resource (the query keys OSS signs); every other query
 * parameter is not signed.
 */
const SUB_RESOURCES = new Set([
  'acl',
  'uploads',
  'location',
  'cors',
  'logging',
  'website',
  'referer',
  'lifecycle',
  'delete',
  'append',
  'tagging',
  'objectMeta',
  'uploadId',
  'partNumber',
  'security-token',
  'position',
  'img',
  'style',
  'styleName',
  'replication',
  'replicationProgress',
  'replicationLocation',
  'cname',
  'bucketInfo',
  'comp',
  'qos',
  'live',
  'status',
  'vod',
  'startTime',
  'endTime',
  'symlink',
  'x-oss-process',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'udf',
  'udfName',
  'udfImage',
  'udfId',
  'udfImageDesc',
  'udfApplication',
  'udfApplicationLog',
  'restore',
  'callback',
  'callback-var',
  'policy',
  'encryption',
  'versions',
  'versioning',
  'versionId',
]);

/**
 * The V1 string to sign: VERB, Content-MD5, Content-Type, Date (the `x-oss-date` header when sent,
 * else `Date`), the `x-oss-*` headers lower-cased and sorted as `name:value`, then the resource
 * `/<bucket>/<object>` with its signed sub-resources sorted.
 */
export function ossStringToSign(
  method: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  bucket: string,
  key: string,
  query: URLSearchParams,
): string {
  const header = (name: string): string => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(',') : (value ?? '');
  };
  const ossHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${header(name).trim()}`);
  const signed = [...query.keys()].filter((k) => SUB_RESOURCES.has(k)).sort();
  const resource =
    `/${bucket}/${key}` +
    (signed.length === 0
      ? ''
      : `?${signed.map((k) => (query.get(k) === '' ? k : `${k}=${query.get(k)}`)).join('&')}`);
  return [
    method.toUpperCase(),
    header('content-md5'),
    header('content-type'),
    header('x-oss-date') || header('date'),
    ...ossHeaders,
    resource,
  ].join('\n');
}

function ossError(code: string, message: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n' +
    `  <Code>${code}</Code>\n  <Message>${message}</Message>\n` +
    `  <RequestId>${randomUUID().replaceAll('-', '').toUpperCase()}</RequestId>\n  <HostId>local-oss</HostId>\n</Error>\n`
  );
}

/**
 * A single-bucket OSS server on loopback. Requests may name the object path-style
 * (`/<bucket>/<key>`, what ali-oss sends to an IP endpoint) or as the whole path (a custom domain
 * bound to the bucket, ali-oss's `cname`). Every request must carry a valid V1 signature of the
 * configured key, a date within 15 minutes, and (when sent) a Content-MD5 equal to the body's;
 * otherwise it is refused with OSS's error code and XML body. `failWith` makes it answer every
 * request with an error, to test retries.
 */
export class LocalOssServer {
  readonly #options: LocalOssOptions;
  readonly #server: Server;
  readonly objects = new Map<string, StoredObject>();
  readonly requests: SeenRequest[] = [];
  #failure: { status: number; code: string } | undefined;
  #url: string | undefined;

  constructor(options: LocalOssOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => this.#handle(request, Buffer.concat(chunks), response));
    });
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    if (this.#url === undefined) throw new Error('not started');
    return this.#url;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Answers every request with `status` (e.g. 503 ServiceUnavailable) until called with undefined. */
  failWith(failure: { status: number; code: string } | undefined): void {
    this.#failure = failure;
  }

  /** Puts seen since `from` (an index into {@link requests}) that were stored. */
  storedSince(from: number): string[] {
    return this.requests.slice(from).flatMap((r) => (r.method === 'PUT' && r.status === 200 ? [r.key] : []));
  }

  #reply(
    response: ServerResponse,
    seen: { method: string; key: string },
    status: number,
    code?: string,
    message?: string,
  ): void {
    this.requests.push({ ...seen, status, code });
    if (code === undefined) return;
    response.writeHead(status, { 'content-type': 'application/xml', 'x-oss-request-id': randomUUID() });
    response.end(seen.method === 'HEAD' ? undefined : ossError(code, message ?? code));
  }

  #handle(request: IncomingMessage, body: Buffer, response: ServerResponse): void {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://local');
    const path = decodeURIComponent(url.pathname);
    const { bucket } = this.#options;
    const key = path.startsWith(`/${bucket}/`) ? path.slice(bucket.length + 2) : path.slice(1);
    const seen = { method, key };
    if (this.#failure !== undefined) {
      this.#reply(response, seen, this.#failure.status, this.#failure.code, 'injected failure');
      return;
    }
    const refused = this.#checkSignature(method, request, key, url.searchParams, body);
    if (refused !== undefined) {
      this.#reply(response, seen, 403, refused.code, refused.message);
      return;
    }
    if (key === '') {
      this.#reply(response, seen, 400, 'InvalidObjectName', 'an object key is required');
      return;
    }
    if (method === 'PUT') {
      const etag = `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
      const cacheControl = request.headers['cache-control'];
      this.objects.set(key, {
        body,
        contentType: request.headers['content-type'] ?? 'application/octet-stream',
        cacheControl,
        etag,
        lastModified: Date.now(),
      });
      this.requests.push({ ...seen, status: 200, code: undefined });
      response.writeHead(200, { etag, 'x-oss-request-id': randomUUID(), 'content-length': '0' });
      response.end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      const object = this.objects.get(key);
      if (object === undefined) {
        this.#reply(response, seen, 404, 'NoSuchKey', 'The specified key does not exist.');
        return;
      }
      this.requests.push({ ...seen, status: 200, code: undefined });
      response.writeHead(200, {
        etag: object.etag,
        'content-type': object.contentType,
        'content-length': String(object.body.length),
        'last-modified': new Date(object.lastModified).toUTCString(),
        ...(object.cacheControl === undefined ? {} : { 'cache-control': object.cacheControl }),
      });
      response.end(method === 'HEAD' ? undefined : object.body);
      return;
    }
    this.#reply(response, seen, 405, 'MethodNotAllowed', `${method} is not served here`);
  }

  #checkSignature(
    method: string,
    request: IncomingMessage,
    key: string,
    query: URLSearchParams,
    body: Buffer,
  ): { code: string; message: string } | undefined {
    const authorization = request.headers.authorization;
    const match = /^OSS ([^:\s]+):(\S+)$/.exec(authorization ?? '');
    if (match === null) return { code: 'AccessDenied', message: 'no OSS V1 Authorization header' };
    const [, id, signature] = match;
    if (id !== this.#options.accessKeyId)
      return { code: 'InvalidAccessKeyId', message: 'The OSS Access Key Id you provided does not exist.' };
    const ossDate = request.headers['x-oss-date'];
    const dateText = (Array.isArray(ossDate) ? ossDate[0] : ossDate) ?? request.headers.date;
    const date = dateText === undefined ? Number.NaN : Date.parse(dateText);
    if (Number.isNaN(date)) return { code: 'AccessDenied', message: 'the request has no valid date' };
    if (Math.abs(Date.now() - date) > (this.#options.maxSkewMs ?? MAX_SKEW_MS))
      return {
        code: 'RequestTimeTooSkewed',
        message: 'The difference between the request time and the server is too large.',
      };
    const md5 = request.headers['content-md5'];
    if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64'))
      return { code: 'InvalidDigest', message: 'The Content-MD5 you specified is not valid.' };
    const expected = createHmac('sha1', this.#options.accessKeySecret)
      .update(ossStringToSign(method, request.headers, this.#options.bucket, key, query))
      .digest();
    const given = Buffer.from(signature ?? '', 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return {
        code: 'SignatureDoesNotMatch',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
    return undefined;
  }
}
