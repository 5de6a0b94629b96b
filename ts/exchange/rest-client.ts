// The Binance USD-M REST transport: keep-alive HTTP, signing, time sync, weight pacing, 429/418, retries.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Logger } from '../log/logger.js';
import { ENDPOINTS, type EndpointSpec, isSigned, needsApiKey } from './endpoints.js';
import {
  BinanceApiError,
  BinanceCode,
  ClientClosedError,
  ExchangeConfigError,
  IpBannedError,
  MalformedResponseError,
  RateLimitedError,
  TransportError,
  UnexpectedStatusError,
} from './exchange-errors.js';
import { int, objectAt, parseJson, ShapeError } from './json-shape.js';
import { readUsageHeaders, type UsageHeaders } from './rate-limits.js';
import { encodeParams, type RequestParams, RequestSigner } from './request-signer.js';
import { type RestClientConfig, type RestClientConfigInput, resolveRestConfig } from './rest-config.js';
import { type Scheduler, systemScheduler } from './scheduler.js';
import { SendSlots, SlotsClosedError } from './send-slots.js';
import { ServerClock, type TimeSample } from './server-clock.js';
import { WeightBudget } from './weight-budget.js';

/** A successful (2xx) response as received: the body bytes go unparsed to whoever needs them. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as received (hand it to the native parsers). */
  readonly body: Buffer;
  /** Weight and order counters the exchange reported. */
  readonly usage: UsageHeaders;
  /** The IP weight this client charged for the request. */
  readonly weight: number;
  /** Local ms when the request was written and when the response was complete. */
  readonly sentAt: number;
  readonly receivedAt: number;
  /** Estimated exchange time when the response was complete (for `parseRestKlines`' closed flag). */
  readonly serverTimeMs: number;
  /** Estimated exchange time when the request left: the exchange answered at or after it. */
  readonly serverSentAtMs: number;
}

/** Something an operator must hear about (wired to the alert channel by the process). */
export interface ExchangeAlert {
  readonly kind: 'ip-banned' | 'rate-limited';
  readonly message: string;
  /** Exchange time until which the client sends nothing. */
  readonly until: number;
}

/** Collaborators of a `RestClient`; all optional. */
export interface RestClientDeps {
  readonly logger?: Logger;
  /** Local clock and sleep (a virtual one in tests). */
  readonly scheduler?: Scheduler;
  /** A budget shared with other clients of this process (default: a budget of its own). */
  readonly budget?: WeightBudget;
  /** Called on 418 (and on a 429 that fails a request); must not throw. */
  readonly onAlert?: (alert: ExchangeAlert) => void;
}

/** Per-call options. */
export interface RequestOptions {
  /** Overrides `retries.maxAttempts` for this call (1 = no automatic retry). */
  readonly maxAttempts?: number;
  /**
   * Binance error codes the caller takes as an answer, not a failure (-4046 "No need to change
   * margin type."): such a refusal is still thrown, but logged at debug instead of warn.
   */
  readonly expectedCodes?: readonly number[];
}

interface Received {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** Binance's shortest IP ban: taken when a 418 gives no `Retry-After`, or one of 0. */
const DEFAULT_BAN_MS = 120_000;
/** Bounds of a 13-digit Unix ms time (2001-09-09 to 2286-11-20). */
const MIN_MS_TIME = 1e12;
const MAX_MS_TIME = 1e13;

function snippet(body: Buffer): string {
  return body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ');
}

/**
 * The longest wait a `Retry-After` is taken for: Binance's IP bans last from 2 minutes to 3 days.
 * A longer one (a date years ahead, ten million seconds) is cut to it, and logged: left whole it
 * would stop the process for months, and past 24.8 days a timer fires at once instead.
 */
export const MAX_RETRY_AFTER_MS = 3 * 24 * 3_600_000;

/**
 * Parses `Retry-After` (seconds, or an HTTP date) into ms; `null` when absent or unreadable.
 */
export function parseRetryAfter(headers: IncomingHttpHeaders, nowMs: number): number | null {
  const raw = headers['retry-after'];
  if (raw === undefined) return null;
  if (/^\d{1,7}$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * One connection pool to one Binance REST base URL. Every request is paced by the shared
 * `WeightBudget`, signed requests carry `recvWindow` + `timestamp` from the synced `ServerClock`,
 * and failures become typed errors. Idempotent endpoints are retried (bounded, logged) after 5xx,
 * transport failures and 429s; writes are never resent here (see `UsdmApi` for their recovery).
 */
export class RestClient {
  readonly clock: ServerClock;
  readonly budget: WeightBudget;
  readonly #config: RestClientConfig;
  readonly #signer: RequestSigner | null;
  readonly #log: Logger;
  /** The local clock and sleep this client waits with. */
  readonly scheduler: Scheduler;
  readonly #onAlert: (alert: ExchangeAlert) => void;
  readonly #agent: http.Agent;
  /** One per agent socket: see `#sendWhenFree`. */
  readonly #slots: SendSlots;
  readonly #transport: typeof http | typeof https;
  readonly #hostname: string;
  readonly #port: number;
  readonly #basePath: string;
  #closed = false;
  /** A budget this client made (a shared one is closed by its owner). */
  readonly #ownBudget: boolean;

  constructor(config: RestClientConfigInput | RestClientConfig, deps: RestClientDeps = {}) {
    this.#config = resolveRestConfig(config);
    this.#signer = this.#config.apiSecret === null ? null : new RequestSigner(this.#config.apiSecret);
    this.#log = deps.logger ?? new Logger('exchange.rest');
    this.scheduler = deps.scheduler ?? systemScheduler;
    const log = this.#log;
    this.#onAlert =
      deps.onAlert ??
      ((alert) => {
        log.error('exchange alert', { kind: alert.kind, until: alert.until, alert: alert.message });
      });
    const url = new URL(this.#config.baseUrl);
    const secure = url.protocol === 'https:';
    this.#transport = secure ? https : http;
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    this.#basePath = url.pathname === '/' ? '' : url.pathname;
    const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: this.#config.maxSockets };
    this.#slots = new SendSlots(this.#config.maxSockets);
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.clock = new ServerClock(this.scheduler, () => this.#timeSample(), this.#log.child('clock'));
    const { coordinated, fallbackShare, orderReserve, ...limits } = this.#config.weightBudget;
    this.#ownBudget = deps.budget === undefined;
    this.budget =
      deps.budget ??
      new WeightBudget(limits, {
        now: () => this.clock.now(),
        scheduler: this.scheduler,
        log: this.#log.child('budget'),
        coordinated,
        fallbackShare,
        orderReserve,
      });
  }

  /** The validated configuration without the secret. */
  get settings(): Omit<RestClientConfig, 'apiSecret'> & { readonly hasSecret: boolean } {
    const { apiSecret, ...rest } = this.#config;
    return { ...rest, hasSecret: apiSecret !== null };
  }

  /** Measures the server-time offset now (GET /fapi/v1/time, round-trip midpoint). */
  syncTime(): Promise<void> {
    return this.clock.sync();
  }

  /**
   * Closes the keep-alive sockets; later requests fail with `ClientClosedError`, and requests
   * waiting for weight in a budget of the client's own fail at once (`BudgetClosedError`).
   */
  close(): void {
    this.#closed = true;
    this.#slots.close();
    if (this.#ownBudget) this.budget.close();
    this.#agent.destroy();
  }

  /**
   * Sends one request to `endpoint` and returns the 2xx response, or throws a typed error:
   * `BinanceApiError` (with `RateLimitedError` / `IpBannedError` for 429 / 418),
   * `UnexpectedStatusError`, `TransportError`, `ClientClosedError`.
   */
  async request(
    endpoint: EndpointSpec,
    params: RequestParams = {},
    options: RequestOptions = {},
  ): Promise<RawResponse> {
    const maxAttempts = options.maxAttempts ?? this.#config.retries.maxAttempts;
    const weight = endpoint.weight(params);
    let resynced = false;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      if (this.#closed) throw new ClientClosedError(endpoint);
      this.#failFastWhenBlocked(endpoint);
      const ticket = await this.budget.acquire(weight, endpoint.budgetKind, endpoint.countsAsOrder);
      let received: Received;
      try {
        received = await this.#sendWhenFree(endpoint, params);
      } catch (error) {
        this.budget.settle(ticket, null);
        if (error instanceof TransportError && endpoint.idempotent && attempt < maxAttempts) {
          await this.#backoff(endpoint, attempt, maxAttempts, error.message);
          continue;
        }
        throw error;
      }
      const usage = readUsageHeaders(received.headers);
      this.budget.settle(ticket, usage);
      this.#log.debug('response', {
        method: endpoint.method,
        path: endpoint.path,
        status: received.status,
        weight,
        usedWeight1m: usage.usedWeight1m,
        ms: received.receivedAt - received.sentAt,
      });
      if (received.status >= 200 && received.status < 300) {
        return {
          ...received,
          usage,
          weight,
          serverTimeMs: received.receivedAt + this.clock.offsetMs,
          serverSentAtMs: received.sentAt + this.clock.offsetMs,
        };
      }
      const error = this.#errorOf(endpoint, received);
      if (received.status === 418) throw this.#banned(endpoint, received, error);
      if (received.status === 429) {
        const limited = this.#rateLimited(endpoint, received, error);
        const waitMs = limited.until - this.clock.now();
        if (
          endpoint.idempotent &&
          attempt < maxAttempts &&
          waitMs <= this.#config.retries.maxRateLimitWaitMs
        ) {
          this.#log.warn('rate limited; retrying after Retry-After', {
            method: endpoint.method,
            path: endpoint.path,
            attempt,
            maxAttempts,
            waitMs,
          });
          continue; // the budget holds the request until the block ends
        }
        this.#onAlert({ kind: 'rate-limited', message: limited.message, until: limited.until });
        throw limited;
      }
      if (error instanceof BinanceApiError && error.code === BinanceCode.INVALID_TIMESTAMP && !resynced) {
        // Rejected before execution, so resending with a fresh timestamp is safe even for orders.
        resynced = true;
        attempt -= 1;
        this.#log.warn('timestamp outside recvWindow (-1021); resyncing server time and retrying once', {
          method: endpoint.method,
          path: endpoint.path,
          offsetMs: this.clock.offsetMs,
        });
        await this.clock.sync();
        continue;
      }
      if (endpoint.idempotent && attempt < maxAttempts && this.#retryable(received.status, error)) {
        await this.#backoff(endpoint, attempt, maxAttempts, error.message);
        continue;
      }
      const expected =
        error instanceof BinanceApiError && options.expectedCodes?.includes(error.code) === true;
      this.#log[expected ? 'debug' : 'warn']('request failed', {
        method: endpoint.method,
        path: endpoint.path,
        status: received.status,
        code: error instanceof BinanceApiError ? error.code : null,
        msg: error instanceof BinanceApiError ? error.msg : error.bodySnippet,
        attempt,
      });
      throw error;
    }
  }

  /**
   * A block longer than `maxRateLimitWaitMs` (an IP ban lasts minutes to days) fails the request
   * at once, without sending it, instead of holding the caller.
   */
  #failFastWhenBlocked(endpoint: EndpointSpec): void {
    const block = this.budget.block;
    if (block === null) return;
    const remaining = block.until - this.clock.now();
    if (remaining <= this.#config.retries.maxRateLimitWaitMs) return;
    const msg = `not sent: requests are blocked for another ${remaining} ms`;
    throw block.kind === 'banned'
      ? new IpBannedError(-1003, msg, endpoint.method, endpoint.path, remaining, block.until)
      : new RateLimitedError(-1003, msg, endpoint.method, endpoint.path, remaining, block.until);
  }

  #retryable(status: number, error: BinanceApiError | UnexpectedStatusError): boolean {
    if (status >= 500 || status === 408) return true;
    return (
      error instanceof BinanceApiError &&
      (error.code === BinanceCode.DISCONNECTED ||
        error.code === BinanceCode.UNEXPECTED_RESPONSE ||
        error.code === BinanceCode.TIMEOUT ||
        error.code === BinanceCode.SERVER_BUSY)
    );
  }

  async #backoff(
    endpoint: EndpointSpec,
    attempt: number,
    maxAttempts: number,
    reason: string,
  ): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.#config.retries;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    this.#log.warn('request failed; retrying', {
      method: endpoint.method,
      path: endpoint.path,
      attempt,
      maxAttempts,
      delayMs: delay,
      reason: reason.slice(0, 200),
    });
    await this.scheduler.sleep(delay);
  }

  #errorOf(endpoint: EndpointSpec, received: Received): BinanceApiError | UnexpectedStatusError {
    try {
      const o = objectAt(parseJson(received.body), '$');
      const code = int(o, 'code');
      const msg = o.fields.msg;
      if (typeof msg !== 'string') throw new ShapeError('$.msg', 'expected a string');
      return new BinanceApiError(received.status, code, msg, endpoint.method, endpoint.path);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      return new UnexpectedStatusError(
        received.status,
        endpoint.method,
        endpoint.path,
        snippet(received.body),
      );
    }
  }

  #rateLimited(
    endpoint: EndpointSpec,
    received: Received,
    error: BinanceApiError | UnexpectedStatusError,
  ): RateLimitedError {
    const now = this.clock.now();
    // Without Retry-After the weight window is what was exceeded: wait for the next minute.
    const retryAfterMs = this.#retryAfterMs(endpoint, received) ?? 60_000 - (now % 60_000) + 250;
    const until = now + retryAfterMs;
    const code = error instanceof BinanceApiError ? error.code : -1003;
    // The account's order count (-1015) limits this account, not the IP: only the weight is shared.
    const shared = code !== BinanceCode.TOO_MANY_ORDERS;
    this.budget.blockUntil(until, `429 on ${endpoint.method} ${endpoint.path}`, 'rate-limited', shared);
    const msg = error instanceof BinanceApiError ? error.msg : error.bodySnippet;
    return new RateLimitedError(code, msg, endpoint.method, endpoint.path, retryAfterMs, until);
  }

  /** The answer's `Retry-After` in ms, at most {@link MAX_RETRY_AFTER_MS}; null without one. */
  #retryAfterMs(endpoint: EndpointSpec, received: Received): number | null {
    const parsed = parseRetryAfter(received.headers, received.receivedAt);
    if (parsed === null || parsed <= MAX_RETRY_AFTER_MS) return parsed;
    this.#log.warn('Retry-After beyond the longest ban the exchange gives; waiting that long instead', {
      method: endpoint.method,
      path: endpoint.path,
      retryAfter: received.headers['retry-after'],
      waitMs: MAX_RETRY_AFTER_MS,
    });
    return MAX_RETRY_AFTER_MS;
  }

  #banned(
    endpoint: EndpointSpec,
    received: Received,
    error: BinanceApiError | UnexpectedStatusError,
  ): IpBannedError {
    const now = this.clock.now();
    let retryAfterMs = this.#retryAfterMs(endpoint, received) ?? DEFAULT_BAN_MS;
    if (retryAfterMs <= 0) {
      // A ban of no time is no answer (a short one is kept: the simulator bans for seconds);
      // sending at once would meet the ban and lengthen it, so wait Binance's shortest ban.
      this.#log.warn('418 Retry-After of 0 or in the past; waiting the shortest ban (2 minutes) instead', {
        method: endpoint.method,
        path: endpoint.path,
        retryAfter: received.headers['retry-after'],
        waitMs: DEFAULT_BAN_MS,
      });
      retryAfterMs = DEFAULT_BAN_MS;
    }
    const until = now + retryAfterMs;
    this.budget.blockUntil(until, `418 on ${endpoint.method} ${endpoint.path}`, 'banned');
    const code = error instanceof BinanceApiError ? error.code : -1003;
    const msg = error instanceof BinanceApiError ? error.msg : error.bodySnippet;
    const banned = new IpBannedError(code, msg, endpoint.method, endpoint.path, retryAfterMs, until);
    this.#log.error('IP banned by the exchange (418); sending nothing until the ban ends', {
      method: endpoint.method,
      path: endpoint.path,
      retryAfterMs,
      until,
      msg,
    });
    this.#onAlert({ kind: 'ip-banned', message: banned.message, until });
    return banned;
  }

  /**
   * Sends once a socket is free, signing only then: a request signed while others held every
   * socket waited in the agent's queue with its timestamp ageing. The server clock is synced
   * before a slot is taken (the sync is a request of its own and needs one).
   */
  async #sendWhenFree(endpoint: EndpointSpec, params: RequestParams): Promise<Received> {
    if (isSigned(endpoint)) await this.#ensureClock();
    let release: () => void;
    try {
      release = await this.#slots.acquire();
    } catch (error) {
      if (error instanceof SlotsClosedError) throw new ClientClosedError(endpoint);
      throw error;
    }
    try {
      return await this.#send(endpoint, this.#payload(endpoint, params));
    } finally {
      release();
    }
  }

  #payload(endpoint: EndpointSpec, params: RequestParams): { query: string; body: string } {
    const inBody = endpoint.method === 'POST' || endpoint.method === 'PUT';
    if (!isSigned(endpoint)) {
      const encoded = encodeParams(params);
      return inBody ? { query: '', body: encoded } : { query: encoded, body: '' };
    }
    if (this.#signer === null) {
      throw new ExchangeConfigError('apiSecret', `is required for ${endpoint.method} ${endpoint.path}`);
    }
    const encoded = encodeParams({
      ...params,
      recvWindow: this.#config.recvWindow,
      timestamp: Math.round(this.clock.now()),
    });
    return this.#signer.sign(inBody ? '' : encoded, inBody ? encoded : '');
  }

  async #ensureClock(): Promise<void> {
    if (!this.clock.isStale(this.#config.timeSyncMaxAgeMs)) return;
    const first = this.clock.syncedAt === null;
    try {
      await this.clock.sync();
    } catch (error) {
      // Without any measurement a signed request would likely fail -1021 anyway: report the cause.
      if (first) throw error;
      this.#log.warn('server time resync failed; keeping the previous offset', {
        offsetMs: this.clock.offsetMs,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async #timeSample(): Promise<TimeSample> {
    const response = await this.request(ENDPOINTS.time);
    try {
      const serverTime = int(objectAt(parseJson(response.body), '$'), 'serverTime');
      // Unix ms has 13 digits from 2001 to 2286: more or fewer is µs or seconds, and an offset
      // taken from it would stamp every signed request and mark every open kline closed.
      if (serverTime < MIN_MS_TIME || serverTime >= MAX_MS_TIME)
        throw new ShapeError('$.serverTime', `${serverTime} is not a Unix time in ms (13 digits)`);
      return { sentAt: response.sentAt, serverTime, receivedAt: response.receivedAt };
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      throw new MalformedResponseError('GET', ENDPOINTS.time.path, error.message, snippet(response.body));
    }
  }

  #send(endpoint: EndpointSpec, payload: { query: string; body: string }): Promise<Received> {
    const { method } = endpoint;
    const path = `${this.#basePath}${endpoint.path}${payload.query.length > 0 ? `?${payload.query}` : ''}`;
    const headers: Record<string, string> = { 'User-Agent': 'tributary' };
    if (needsApiKey(endpoint)) {
      if (this.#config.apiKey === null) {
        return Promise.reject(
          new ExchangeConfigError('apiKey', `is required for ${method} ${endpoint.path}`),
        );
      }
      headers['X-MBX-APIKEY'] = this.#config.apiKey;
    }
    if (payload.body.length > 0) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(payload.body));
    }
    const timeoutMs = this.#config.timeouts.requestMs;
    const maxBody = this.#config.maxBodyBytes;
    return new Promise<Received>((resolve, reject) => {
      let settled = false;
      let written = false;
      let timedOut = false;
      let sentAt = this.scheduler.now();
      const fail = (reason: TransportError['reason'], detail: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new TransportError(method, endpoint.path, reason, written, detail, { cause }));
      };
      const req = this.#transport.request(
        { hostname: this.#hostname, port: this.#port, path, method, headers, agent: this.#agent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBody) {
              fail('too-large', `response body exceeds ${maxBody} bytes`);
              req.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks, size),
              sentAt,
              receivedAt: this.scheduler.now(),
            });
          });
          res.on('error', (error) => fail(timedOut ? 'timeout' : 'network', error.message, error));
          res.on('close', () => {
            if (!res.complete) fail(timedOut ? 'timeout' : 'network', 'connection closed mid-response');
          });
        },
      );
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error(`no complete response within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('finish', () => {
        written = true;
        sentAt = this.scheduler.now();
      });
      req.on('error', (error) => {
        const closed = this.#closed;
        fail(timedOut ? 'timeout' : closed ? 'closed' : 'network', error.message, error);
      });
      req.end(payload.body.length > 0 ? payload.body : undefined);
    });
  }
}
