// Reads the hub's status documents over HTTP(S): the full one signed with a viewer or admin key, the public health one; each checked against its schema.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { z } from 'zod';
import { type HubHealth, HubHealthSchema, type HubStatus, HubStatusSchema } from './hub-status.js';
import type { HubClientTls } from './hub-tls.js';
import { statusAuthorization } from './peer-auth.js';
import type { HubKeyCredentials } from './peer-keys.js';

/** The full status could not be read: unreachable, refused, or not a status document. */
export class StatusReadError extends Error {
  override readonly name = 'StatusReadError';
  constructor(
    readonly url: string,
    message: string,
    /** The HTTP status when the hub answered. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(`${url}: ${message}`, options);
  }
}

/** `http(s)://host:port/<path>` for a hub at `ws(s)://host:port/`. */
function statusUrl(hubUrl: string, path: '/status' | '/status/full'): string {
  const url = new URL(hubUrl);
  url.protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
  url.pathname = path;
  url.search = '';
  return url.toString();
}

/** `http(s)://host:port/status/full` for a hub at `ws(s)://host:port/`. */
export function fullStatusUrl(hubUrl: string): string {
  return statusUrl(hubUrl, '/status/full');
}

/** Where and how to read a hub's full status. */
export interface StatusSource {
  /** The hub's `ws(s)://` or `http(s)://` address. */
  hubUrl: string;
  /** A viewer or admin key. */
  key: HubKeyCredentials;
  /** For https: the CA to trust for the hub's certificate, and this client's certificate. */
  tls?: HubClientTls | undefined;
  /** Default 5,000 ms. */
  timeoutMs?: number;
}

/** GETs `/status/full` once and returns the document, or throws a {@link StatusReadError}. */
export function readFullStatus(source: StatusSource): Promise<HubStatus> {
  const url = fullStatusUrl(source.hubUrl);
  return readDocument(
    url,
    { authorization: statusAuthorization(source.key, '/status/full') },
    source,
    HubStatusSchema,
    'a full status document',
  );
}

/**
 * GETs the public `/status` once (no key; over https the CA and this host's certificate, which a
 * hub asking for peer certificates wants from every client), or throws a {@link StatusReadError}.
 */
export function readHealthStatus(source: Omit<StatusSource, 'key'>): Promise<HubHealth> {
  const url = statusUrl(source.hubUrl, '/status');
  return readDocument(url, {}, source, HubHealthSchema, 'a health status document');
}

function readDocument<S extends z.ZodType>(
  url: string,
  headers: Record<string, string>,
  source: Omit<StatusSource, 'key' | 'hubUrl'>,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  const secure = url.startsWith('https:');
  const timeoutMs = source.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const options = {
      headers,
      timeout: timeoutMs,
      ...(secure && source.tls !== undefined
        ? { ca: source.tls.ca, cert: source.tls.cert, key: source.tls.key }
        : {}),
    };
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) =>
        reject(new StatusReadError(url, error.message, res.statusCode, { cause: error })),
      );
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          let message = body.slice(0, 200);
          try {
            const parsed = JSON.parse(body) as { message?: unknown };
            if (typeof parsed.message === 'string') message = parsed.message;
          } catch {
            // Not JSON: the start of the body is the message.
          }
          reject(new StatusReadError(url, `HTTP ${res.statusCode}: ${message}`, res.statusCode));
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch (error) {
          reject(new StatusReadError(url, 'the answer is not JSON', 200, { cause: error }));
          return;
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          reject(
            new StatusReadError(
              url,
              `not ${what} (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}); is the hub of another version?`,
              200,
            ),
          );
          return;
        }
        resolve(parsed.data);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new StatusReadError(url, error.message, undefined, { cause: error })));
    req.end();
  });
}
