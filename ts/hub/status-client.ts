// Reads the hub's full status document over HTTP(S), signed with a viewer or admin key, checked against its schema.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type HubStatus, HubStatusSchema } from './hub-status.js';
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

/** `http(s)://host:port/status/full` for a hub at `ws(s)://host:port/`. */
export function fullStatusUrl(hubUrl: string): string {
  const url = new URL(hubUrl);
  url.protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
  url.pathname = '/status/full';
  url.search = '';
  return url.toString();
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
  const secure = url.startsWith('https:');
  const timeoutMs = source.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const options = {
      headers: { authorization: statusAuthorization(source.key, '/status/full') },
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
        const parsed = HubStatusSchema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          reject(
            new StatusReadError(
              url,
              `not a full status document (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}); is the hub of another version?`,
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
