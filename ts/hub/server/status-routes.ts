// The status documents over HTTP: `GET /status` public, `GET /status/full` for requests signed with a viewer or admin key.
import type { Logger } from '../../log/logger.js';
import type { HubMetrics } from '../hub-metrics.js';
import { isLoopbackAddress, PLAIN_REFUSED } from '../hub-tls.js';
import {
  parseStatusAuthorization,
  STATUS_AUTH_SCHEME,
  STATUS_AUTH_WINDOW_MS,
  verifyHttpMac,
} from '../peer-auth.js';
import type { KeyRing } from '../peer-keys.js';
import type { HttpReply, HttpRequest, HubTransport } from '../transport.js';
import { FULL_STATUS_ROLES } from './services/peer-service.js';
import type { StatusBuilder } from './status-builder.js';

/** The public health document's path. */
export const HEALTH_PATH = '/status';
/** The full document's path (authenticated). */
export const FULL_STATUS_PATH = '/status/full';

function json(status: number, body: unknown, headers?: Record<string, string>): HttpReply {
  return {
    status,
    contentType: 'application/json',
    body: JSON.stringify(body),
    ...(headers === undefined ? {} : { headers }),
  };
}

/**
 * Serves the two documents. A full-status request carries
 * `Authorization: Tributary key=<id>, time=<unix ms>, mac=<hex HMAC-SHA256(secret, "GET /status/full\n" + time)>`:
 * the key must be active and of role viewer or admin, the time within 30 s of the hub's clock, and
 * each MAC is accepted once (a replayed header is refused).
 */
export class StatusRoutes {
  readonly #status: StatusBuilder;
  readonly #keys: KeyRing;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  /** MACs already accepted, with when they stop mattering (their time leaves the window). */
  readonly #seen = new Map<string, number>();

  constructor(status: StatusBuilder, keys: KeyRing, metrics: HubMetrics, log: Logger) {
    this.#status = status;
    this.#keys = keys;
    this.#metrics = metrics;
    this.#log = log;
  }

  register(transport: HubTransport): void {
    // Without TLS, status is served to this machine only, like the websocket (hub-tls.ts).
    const plainRemote = (request: HttpRequest): boolean =>
      !transport.secure && !isLoopbackAddress(request.remoteAddress);
    const refusedPlain = (): HttpReply => this.#refuse(403, 'http_tls_required', PLAIN_REFUSED.reason);
    transport.onGet(HEALTH_PATH, (request) =>
      plainRemote(request) ? refusedPlain() : json(200, this.#status.health()),
    );
    transport.onGet(FULL_STATUS_PATH, (request) =>
      plainRemote(request) ? refusedPlain() : this.#full(request),
    );
  }

  #full(request: HttpRequest): HttpReply {
    const challenge = { 'www-authenticate': `${STATUS_AUTH_SCHEME} realm="hub"` };
    const credentials = parseStatusAuthorization(request.header('authorization'));
    if (credentials === undefined) {
      return this.#refuse(
        401,
        'http_no_credentials',
        'sign the request with a viewer or admin key',
        challenge,
      );
    }
    const now = Date.now();
    const key = this.#keys.lookup(credentials.key);
    if (key === undefined || !verifyHttpMac(key.secret, FULL_STATUS_PATH, credentials)) {
      return this.#refuse(401, 'http_bad_mac', 'unknown or revoked key, or wrong MAC', challenge);
    }
    if (Math.abs(now - credentials.time) > STATUS_AUTH_WINDOW_MS) {
      return this.#refuse(
        401,
        'http_stale',
        `time must be within ${STATUS_AUTH_WINDOW_MS} ms of the hub's clock`,
        challenge,
      );
    }
    this.#forgetOld(now);
    if (this.#seen.has(credentials.mac)) {
      return this.#refuse(
        401,
        'http_replay',
        'this signature was already used; sign each request anew',
        challenge,
      );
    }
    this.#seen.set(credentials.mac, credentials.time + STATUS_AUTH_WINDOW_MS);
    if (!FULL_STATUS_ROLES.includes(key.role)) {
      return this.#refuse(
        403,
        'http_forbidden',
        `the full status is for viewer and admin keys; ${key.id} is ${key.role}`,
      );
    }
    return json(200, this.#status.full());
  }

  #refuse(status: number, reason: string, message: string, headers?: Record<string, string>): HttpReply {
    this.#metrics.reject(reason);
    this.#log.debug('status request refused', { reason });
    return json(status, { error: reason.replace(/^http_/, ''), message }, headers);
  }

  #forgetOld(now: number): void {
    if (this.#seen.size < 256) return;
    for (const [mac, until] of this.#seen) if (until < now) this.#seen.delete(mac);
  }
}
