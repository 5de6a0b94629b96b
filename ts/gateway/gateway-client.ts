// A trader's client of the order gateway: signed requests, answers checked, and the same request asked again (bounded) while the answer is unknown.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import type { HubClientTls } from '../hub/hub-tls.js';
import type { Logger } from '../log/logger.js';
import { type GatewayCredentials, gatewayAuthorization } from './gateway-auth.js';
import { GatewayRequestError, GatewayUnreachableError } from './gateway-error.js';
import {
  GATEWAY_PATH,
  GatewayErrorBodySchema,
  type OrderAnswer,
  OrderAnswerSchema,
  type OrderRef,
  type PlaceAnswer,
  PlaceAnswerSchema,
  type PlaceRequest,
} from './gateway-protocol.js';

/** Options of a {@link GatewayClient}. */
export interface GatewayClientOptions {
  /** The gateway's base URL (`http://host:port`, or `https://` for a gateway with TLS). */
  readonly url: string;
  /** For `https://`: the CA the gateway's certificate must chain to (no other is trusted), and this trader's certificate. */
  readonly tls?: HubClientTls | undefined;
  readonly credentials: GatewayCredentials;
  readonly logger: Logger;
  /** How long one request may take before it is asked again (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Requests per call before giving up (default 12). */
  readonly maxAttempts?: number;
  /** Longest a call keeps asking, in total (default 120 s). */
  readonly maxTotalMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The status document: an object (its fields are documented in docs/protocol.md). */
const StatusSchema = z.record(z.string(), z.unknown());

/** Codes after which asking again with the same request may succeed. */
const RETRYABLE = new Set(['outcome-unknown', 'internal']);

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

/**
 * Calls the gateway for one trader. Every call is idempotent on the gateway's side (an order is
 * claimed by its client order id), so a call whose answer is lost — the gateway restarting, a
 * timeout, `outcome-unknown` — is simply asked again, with backoff, within `maxAttempts` and
 * `maxTotalMs`; each retry is logged. A definitive refusal is a {@link GatewayRequestError}; a
 * gateway that stays unreachable is a {@link GatewayUnreachableError}.
 */
export class GatewayClient {
  readonly url: string;
  readonly #o: GatewayClientOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: GatewayClientOptions) {
    this.#o = options;
    this.url = options.url.replace(/\/+$/, '');
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** `POST /v1/orders`. */
  place(order: PlaceRequest): Promise<PlaceAnswer> {
    return this.#call('POST', `${GATEWAY_PATH}/orders`, JSON.stringify(order), PlaceAnswerSchema);
  }

  /** `GET /v1/orders/<symbol>/<clientOrderId>`. */
  query(ref: OrderRef): Promise<OrderAnswer> {
    return this.#call('GET', orderPath(ref), '', OrderAnswerSchema);
  }

  /** `DELETE /v1/orders/<symbol>/<clientOrderId>`. */
  cancel(ref: OrderRef): Promise<OrderAnswer> {
    return this.#call('DELETE', orderPath(ref), '', OrderAnswerSchema);
  }

  /** `GET /v1/status`: the gateway's mode and counters (any role's key may read it). */
  status(): Promise<Record<string, unknown>> {
    return this.#call('GET', `${GATEWAY_PATH}/status`, '', StatusSchema);
  }

  async #call<S extends z.ZodType>(
    method: string,
    path: string,
    body: string,
    schema: S,
  ): Promise<z.output<S>> {
    const maxAttempts = this.#o.maxAttempts ?? 12;
    const deadline = this.#now() + (this.#o.maxTotalMs ?? 120_000);
    let last: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(method, path, body, schema);
      } catch (error) {
        if (error instanceof GatewayRequestError && !RETRYABLE.has(error.code)) throw error;
        last = error;
      }
      if (attempt >= maxAttempts || this.#now() >= deadline) break;
      const wait = Math.min(2000, 100 * 2 ** Math.min(attempt, 5));
      this.#o.logger.warn('gateway answer unknown; asking again with the same request', {
        method,
        path,
        attempt,
        waitMs: wait,
        error: describe(last),
      });
      await this.#sleep(wait);
    }
    throw new GatewayUnreachableError(
      `${method} ${this.url}${path}: no answer after ${maxAttempts} attempts or ${this.#o.maxTotalMs ?? 120_000} ms: ${describe(last)}`,
      { cause: last },
    );
  }

  async #once<S extends z.ZodType>(
    method: string,
    path: string,
    body: string,
    schema: S,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = {
      authorization: gatewayAuthorization(this.#o.credentials, { method, path, body }, this.#now()),
    };
    if (body !== '') headers['content-type'] = 'application/json';
    const response = await exchange(
      `${this.url}${path}`,
      method,
      headers,
      body,
      this.#o.requestTimeoutMs ?? 30_000,
      this.#o.tls,
    );
    const text = response.text;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new GatewayRequestError('internal', `HTTP ${response.status} with a body that is not JSON`);
    }
    if (response.status !== 200) {
      const refusal = GatewayErrorBodySchema.safeParse(json);
      if (!refusal.success)
        throw new GatewayRequestError('internal', `HTTP ${response.status} with an unknown error body`);
      throw new GatewayRequestError(refusal.data.error, refusal.data.message, refusal.data.exchange);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new GatewayRequestError('internal', 'an answer that does not follow the protocol');
    return parsed.data;
  }
}

/** One HTTP(S) request and its whole answer; rejects on a network failure or after `timeoutMs`. */
function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  tls: HubClientTls | undefined,
): Promise<{ status: number; text: string }> {
  const secure = url.startsWith('https:');
  const options = {
    method,
    headers: body === '' ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    signal: AbortSignal.timeout(timeoutMs),
    ...(secure && tls !== undefined ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body === '' ? undefined : body);
  });
}

function orderPath(ref: OrderRef): string {
  return `${GATEWAY_PATH}/orders/${encodeURIComponent(ref.symbol)}/${encodeURIComponent(ref.clientOrderId)}`;
}
