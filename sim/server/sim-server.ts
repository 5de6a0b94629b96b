// The simulator's HTTP + websocket server: Binance's REST security, limits and faults around endpoints.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Decimal } from '../../ts/exact/decimal.js';
import { type Logger, silentLogger } from '../../ts/log/logger.js';
import {
  type AccountDirectory,
  type Endpoint,
  type Json,
  type MarketStreamListener,
  type Params,
  type RequestContext,
  SimRejection,
  type UserEventListener,
} from '../contracts.js';
import { illegal, requireInt } from '../request-params.js';
import { AdminApi } from './admin-api.js';
import {
  apiKeyFormatInvalid,
  apiKeyUnknown,
  bodyTooLarge,
  executionStatusUnknown,
  internalError,
  invalidSignature,
  ipBanned,
  timestampAhead,
  timestampOutsideRecvWindow,
  tooManyOrders,
  unknownRoute,
  weightExceeded,
} from './binance-errors.js';
import { FaultInjector, type FaultSpec } from './faults.js';
import { illegalCharacters, mergeParams } from './form-params.js';
import { listenKeyEndpoints } from './listen-key-endpoints.js';
import { type EndedListenKey, ListenKeyRegistry } from './listen-keys.js';
import { IpWeightLimiter, OrderRateLimiter } from './rate-limiters.js';
import { signatureMatches, signedPayload } from './request-signature.js';
import { resolveLimits, type ServerLimits } from './server-limits.js';
import type { SimulatorClock } from './sim-clock.js';
import { type ResolvedStream, StreamHub } from './stream-hub.js';

/** The market as the server uses it: stream payloads out, demand in, and the stale-data fault. */
export interface MarketStreamSource {
  /** A stream name a client sent, resolved to the served stream (canonical name, route) or refused. */
  resolveStream(name: string): ResolvedStream | { readonly refused: string };
  onStream(listener: MarketStreamListener): () => void;
  /** Which streams have subscribers: a predicate, and the list of them. */
  setStreamDemand(isWanted: (stream: string) => boolean, wanted: () => Iterable<string>): void;
  freeze(untilMs: number): void;
  /** The quiet-market fault (absent: it is refused): see `SimMarket.quiet`. */
  quiet?(untilMs: number): void;
  /** The market control of `POST /_sim/market` (absent: the route answers 404). */
  movePrice?(symbol: string, price: Decimal): Decimal;
  /** The `dropAggTrades` fault (absent: it is refused): see `SimMarket.dropAggTrades`. */
  dropAggTrades?(symbol: string, count: number): boolean;
  clearAggTradeDrops?(): void;
  aggTradeDrops?(): { pending: Record<string, number>; dropped: number };
}

/** The engine as the server uses it: user-data events per account. */
export interface UserEventSource {
  onUserEvent(listener: UserEventListener): () => void;
}

export interface SimServerOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  readonly host?: string;
  /** Port (default 0: an ephemeral port, read it from `port` after `start`). */
  readonly port?: number;
  readonly clock: SimulatorClock;
  /** The REST endpoints to mount (market's and engine's); listenKey endpoints are added. */
  readonly endpoints: readonly Endpoint[];
  readonly accounts: AccountDirectory;
  readonly market?: MarketStreamSource;
  readonly userEvents?: UserEventSource;
  readonly limits?: Partial<ServerLimits>;
  /** Faults standing from the start. */
  readonly faults?: FaultSpec;
  readonly logger?: Logger;
}

/** The server could not bind its address (the message says which, and why). */
/** One exchange request as the simulator received it (see `SimServer.onRequest`). */
export interface SimRequestRecord {
  readonly method: string;
  readonly path: string;
  /** The raw query string (without `?`) and form body. */
  readonly query: string;
  readonly body: string;
  /** The client's TCP port: one keep-alive connection per client, so it tells clients apart. */
  readonly remotePort: number;
  /** Simulator time of arrival, Unix ms. */
  readonly receivedAt: number;
}

export class SimServerStartError extends Error {
  override readonly name = 'SimServerStartError';
}

/** Two endpoints claim the same method and path: a wiring bug, refused at construction. */
export class EndpointConflictError extends Error {
  override readonly name = 'EndpointConflictError';
}

/** Binance's recvWindow default and maximum. */
const RECV_WINDOW_DEFAULT = 5_000;
const RECV_WINDOW_MAX = 60_000;
const API_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;
/** Query strings and bodies are ASCII once percent-encoded; anything else is refused as -1100. */
const RAW_PARAMS_PATTERN = /^[\x21-\x7e]*$/;

/**
 * One HTTP server carrying the REST API, the websocket streams (upgrade on the same port) and the
 * `/_sim/` admin API. Start it with `SimServer.start(options)`.
 */
export class SimServer {
  readonly host: string;
  readonly faults: FaultInjector;
  readonly listenKeys: ListenKeyRegistry;
  readonly limits: ServerLimits;
  readonly #clock: SimulatorClock;
  readonly #log: Logger;
  readonly #accounts: AccountDirectory;
  readonly #routes = new Map<string, Map<string, Endpoint>>();
  readonly #weights: IpWeightLimiter;
  readonly #orders: OrderRateLimiter;
  readonly #hub: StreamHub;
  readonly #admin: AdminApi;
  readonly #http: Server;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #pendingDelays = new Set<NodeJS.Timeout>();
  readonly #startedAt = Date.now();
  #housekeeping: NodeJS.Timeout | undefined;
  #port = 0;
  #stopped = false;
  /** `rateLimited` / `banned`: requests answered 429 / 418 (a client pacing right sees none). */
  readonly #counters = { requests: 0, rejected: 0, internalErrors: 0, rateLimited: 0, banned: 0 };
  readonly #requestListeners = new Set<(request: SimRequestRecord) => void>();

  private constructor(options: SimServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.#clock = options.clock;
    this.#log = options.logger ?? silentLogger('sim.server');
    this.#accounts = options.accounts;
    this.limits = resolveLimits(options.limits);
    this.#weights = new IpWeightLimiter(this.limits);
    this.#orders = new OrderRateLimiter(this.limits);
    this.listenKeys = new ListenKeyRegistry(this.limits.listenKeyValidityMs);
    const market = options.market;
    this.#hub = new StreamHub({
      limits: this.limits,
      directory: {
        resolveStream: (name) =>
          market === undefined
            ? { refused: 'the simulator runs without a market' }
            : market.resolveStream(name),
        accountOf: (key) => this.listenKeys.accountOf(key),
      },
      logger: this.#log.child('ws'),
      clock: () => this.#clock.now(),
      ...(market === undefined
        ? {}
        : {
            onDemandChange: () =>
              market.setStreamDemand(
                (s) => this.#hub.wants(s),
                () => this.#hub.wantedStreams(),
              ),
          }),
    });
    const endListenKey = (ended: EndedListenKey): void => {
      this.#hub.endListenKey(ended);
    };
    for (const endpoint of [...options.endpoints, ...listenKeyEndpoints(this.listenKeys, endListenKey)]) {
      this.#mount(endpoint);
    }
    this.faults = new FaultInjector({
      dropWebsockets: () => this.#hub.dropAll(),
      stallStreams: (forMs) => this.#hub.stallMarketStreams(forMs),
      stallConnection: (stream, forMs) => this.#hub.stallConnectionsOf(stream, forMs),
      clearStreamStalls: () => this.#hub.clearStalls(),
      servesStream: (stream) => this.#hub.servesStream(stream),
      expireListenKeys: () => {
        const ended = this.listenKeys.expireAll();
        for (const key of ended) this.#hub.endListenKey(key);
        return ended.length;
      },
      ...(market === undefined
        ? {}
        : {
            freezeMarket: (untilMs: number) => market.freeze(untilMs),
            ...(market.quiet === undefined
              ? {}
              : { quietMarket: (untilMs: number) => market.quiet?.(untilMs) }),
            ...(market.dropAggTrades === undefined
              ? {}
              : {
                  dropAggTrades: (symbol: string, count: number) =>
                    market.dropAggTrades?.(symbol, count) ?? false,
                  clearAggTradeDrops: () => market.clearAggTradeDrops?.(),
                  aggTradeDrops: () => market.aggTradeDrops?.() ?? { pending: {}, dropped: 0 },
                }),
          }),
      setClockSkew: (skewMs) => this.#clock.setSkew(skewMs),
      clockSkewMs: () => this.#clock.skewMs,
      now: () => this.#clock.now(),
    });
    if (options.faults !== undefined) this.faults.apply(options.faults);
    const movePrice = market?.movePrice?.bind(market);
    this.#admin = new AdminApi({
      faults: this.faults,
      health: () => this.#health(),
      logger: this.#log.child('admin'),
      ...(movePrice === undefined ? {} : { movePrice }),
    });
    if (market !== undefined) {
      market.setStreamDemand(
        (s) => this.#hub.wants(s),
        () => this.#hub.wantedStreams(),
      );
      this.#unsubscribe.push(
        market.onStream((route, stream, payload) => this.#hub.publishMarket(route, stream, payload)),
      );
    }
    if (options.userEvents !== undefined) {
      this.#unsubscribe.push(
        options.userEvents.onUserEvent((accountId, event) => {
          const key = this.listenKeys.keyOf(accountId);
          if (key !== undefined) this.#hub.publishUser(key, event);
        }),
      );
    }
    this.#http = createServer({ keepAlive: true }, (req, res) => {
      this.#serve(req, res).catch((error: unknown) => {
        // #serve answers every failure itself; reaching here means writing the answer failed.
        this.#log.error('response failed', { error: error instanceof Error ? error.message : String(error) });
        res.destroy();
      });
    });
    this.#http.keepAliveTimeout = 65_000;
    this.#http.on('upgrade', (req, socket, head) => this.#hub.handleUpgrade(req, socket, head));
    this.#http.on('clientError', (error, socket) => {
      this.#log.info('malformed HTTP request', { error: error.message });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Builds the server and listens; resolves once the port is bound. */
  static async start(options: SimServerOptions): Promise<SimServer> {
    const server = new SimServer(options);
    try {
      await server.#listen(options.port ?? 0);
    } catch (error) {
      // Port taken or host invalid: release the market and engine subscriptions made above.
      for (const unsubscribe of server.#unsubscribe) unsubscribe();
      await server.#hub.close();
      throw new SimServerStartError(
        `cannot listen on ${server.host}:${options.port ?? 0}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return server;
  }

  /** Requests served and refused since start (`GET /_sim/health` shows the same). */
  get counters(): {
    readonly requests: number;
    readonly rejected: number;
    readonly internalErrors: number;
    readonly rateLimited: number;
    readonly banned: number;
  } {
    return { ...this.#counters };
  }

  get port(): number {
    return this.#port;
  }

  /** `http://host:port`, the REST base URL. */
  get restUrl(): string {
    return `http://${this.#urlHost()}:${this.#port}`;
  }

  /** `ws://host:port`, the websocket base URL (append `/market/ws`, `/private/ws/<key>`, ...). */
  get wsUrl(): string {
    return `ws://${this.#urlHost()}:${this.#port}`;
  }

  /** Applies a fault request (the same as `POST /_sim/faults`). */
  applyFaults(spec: FaultSpec): void {
    this.faults.apply(spec);
  }

  /** Stops listening, closes every connection and timer. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#housekeeping !== undefined) clearInterval(this.#housekeeping);
    for (const timer of this.#pendingDelays) clearTimeout(timer);
    this.#pendingDelays.clear();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await this.#hub.close();
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeAllConnections();
    await closed;
    this.#log.info('server stopped', { requests: this.#counters.requests });
  }

  #urlHost(): string {
    return this.host.includes(':') ? `[${this.host}]` : this.host;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#http.once('error', onError);
      this.#http.listen(port, this.host, () => {
        this.#http.off('error', onError);
        resolve();
      });
    });
    this.#http.on('error', (error) => this.#log.error('server error', { error: error.message }));
    this.#port = (this.#http.address() as AddressInfo).port;
    this.#housekeeping = setInterval(() => this.#runHousekeeping(), this.limits.housekeepingIntervalMs);
    this.#housekeeping.unref();
    this.#log.info('listening', { rest: this.restUrl, ws: this.wsUrl });
  }

  #runHousekeeping(): void {
    try {
      for (const ended of this.listenKeys.expireDue()) {
        const closed = this.#hub.endListenKey(ended);
        this.#log.info('listenKey expired', { account: ended.accountId, connections: closed });
      }
      this.#hub.housekeeping();
      this.#weights.prune(this.#clock.now());
    } catch (error) {
      this.#log.error('housekeeping failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #mount(endpoint: Endpoint): void {
    let byMethod = this.#routes.get(endpoint.path);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#routes.set(endpoint.path, byMethod);
    }
    if (byMethod.has(endpoint.method)) {
      throw new EndpointConflictError(`two endpoints for ${endpoint.method} ${endpoint.path}`);
    }
    byMethod.set(endpoint.method, endpoint);
  }

  #health(): Json {
    return {
      status: 'ok',
      serverTime: this.#clock.now(),
      clockSkewMs: this.#clock.skewMs,
      uptimeMs: Date.now() - this.#startedAt,
      restUrl: this.restUrl,
      wsUrl: this.wsUrl,
      requests: { ...this.#counters },
      listenKeys: this.listenKeys.size,
      websocket: this.#hub.stats(),
    };
  }

  /**
   * Calls `listener` for every exchange request as it arrives (admin requests excluded), before
   * any check: what tests and operators use to see who asked what, and when. Returns an
   * unsubscribe function; a throwing listener is logged and ignored.
   */
  onRequest(listener: (request: SimRequestRecord) => void): () => void {
    this.#requestListeners.add(listener);
    return () => {
      this.#requestListeners.delete(listener);
    };
  }

  #notifyRequest(record: SimRequestRecord): void {
    for (const listener of this.#requestListeners) {
      try {
        listener(record);
      } catch (error) {
        this.#log.warn('request listener failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#counters.requests += 1;
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : rawUrl.slice(queryAt + 1);
    const method = req.method ?? 'GET';
    let body: string | undefined;
    try {
      body = await this.#readBody(req);
    } catch (error) {
      // The client went away mid-body: nothing to answer, and not a server fault.
      this.#counters.rejected += 1;
      this.#log.info('request body aborted', {
        error: error instanceof Error ? error.message : String(error),
      });
      res.destroy();
      return;
    }
    if (body === undefined) {
      this.#reject(res, bodyTooLarge(this.limits.maxBodyBytes), {}, true);
      return;
    }
    if (path.startsWith('/_sim/')) {
      try {
        const answer = this.#admin.handle(method, path, body);
        this.#write(res, answer.status, answer.body, {});
      } catch (error) {
        this.#counters.internalErrors += 1;
        this.#log.error('admin request failed', {
          error: error instanceof Error ? error.message : String(error),
        });
        this.#reject(res, internalError(), {}, false);
      }
      return;
    }
    if (this.#requestListeners.size > 0) {
      this.#notifyRequest({
        method,
        path,
        query: rawQuery,
        body,
        remotePort: req.socket.remotePort ?? 0,
        receivedAt: this.#clock.now(),
      });
    }
    const delay = this.faults.latencyMs();
    if (delay > 0) await this.#sleep(delay);
    if (res.destroyed || this.#stopped) return;
    const headers: Record<string, string> = {};
    try {
      const { result, endpoint } = this.#process(req, method, path, rawQuery, body, headers);
      this.#write(res, 200, serializeJson(result, endpoint.bareIntegers), headers);
    } catch (error) {
      if (error instanceof SimRejection) {
        this.#reject(res, error, headers, false);
        return;
      }
      this.#counters.internalErrors += 1;
      this.#log.error('handler failed', {
        method,
        path: path.slice(0, 200),
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      this.#reject(res, internalError(), headers, false);
    }
  }

  /** The request pipeline; returns the handler's JSON and its endpoint, or throws a SimRejection (headers filled as it goes). */
  #process(
    req: IncomingMessage,
    method: string,
    path: string,
    rawQuery: string,
    rawBody: string,
    headers: Record<string, string>,
  ): { result: Json; endpoint: Endpoint } {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const now = this.#clock.now();
    const forcedBan = this.faults.takeForcedBan(now);
    const bannedUntil = forcedBan ?? this.#weights.bannedUntil(ip, now);
    if (bannedUntil !== undefined) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil((bannedUntil - now) / 1000)));
      throw ipBanned(bannedUntil);
    }
    const forcedLimit = this.faults.takeForcedRateLimit(now);
    if (forcedLimit !== undefined) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil(forcedLimit / 1000)));
      throw weightExceeded(this.limits.requestWeightPerMinute);
    }
    const endpoint = this.#routes.get(path)?.get(method);
    if (endpoint === undefined) throw unknownRoute(method, path);
    if (!RAW_PARAMS_PATTERN.test(rawQuery)) throw illegalCharacters();
    const formBody = isFormBody(req) ? rawBody : '';
    if (!RAW_PARAMS_PATTERN.test(formBody.replace(/[\r\n]+$/, ''))) throw illegalCharacters();
    const params = mergeParams(rawQuery, formBody.replace(/[\r\n]+$/, ''));
    const weight = endpoint.weight(params);
    if (!Number.isSafeInteger(weight) || weight < 0) {
      // An endpoint bug, not a client error: answered 500 and logged by #serve.
      throw new Error(`${method} ${path} computed an invalid weight ${weight}`);
    }
    const verdict = this.#weights.charge(ip, weight, now);
    headers['X-MBX-USED-WEIGHT-1M'] = String(verdict.used);
    if (verdict.kind === 'banned') {
      headers['Retry-After'] = String(Math.max(1, Math.ceil((verdict.untilMs - now) / 1000)));
      this.#log.warn('IP banned for exceeding the request weight', { ip, untilMs: verdict.untilMs });
      throw ipBanned(verdict.untilMs);
    }
    if (verdict.kind === 'limited') {
      headers['Retry-After'] = String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
      throw weightExceeded(this.limits.requestWeightPerMinute);
    }
    const accountId = this.#authenticate(req, endpoint, params, rawQuery, formBody, now);
    if (endpoint.countsAsOrder && accountId !== null) {
      const orders = this.#orders.charge(accountId, now, endpoint.orderCount?.(params));
      headers['X-MBX-ORDER-COUNT-10S'] = String(orders.count10s);
      headers['X-MBX-ORDER-COUNT-1M'] = String(orders.count1m);
      if (orders.exceeded !== undefined) throw tooManyOrders(orders.exceeded.limit, orders.exceeded.per);
    }
    const ctx: RequestContext = { params, accountId, now };
    if (!endpoint.countsAsOrder) return { result: endpoint.handle(ctx), endpoint };
    let result: Json;
    try {
      result = endpoint.handle(ctx);
    } catch (error) {
      if (this.faults.takeUnknownStatus()) {
        this.#log.info('503 fault: order refused by the engine, answered as unknown', { path });
        throw executionStatusUnknown();
      }
      throw error;
    }
    if (this.faults.takeUnknownStatus()) {
      this.#log.info('503 fault: order placed, answered as unknown', { path });
      throw executionStatusUnknown();
    }
    return { result, endpoint };
  }

  /** Checks the API key and, for USER_DATA/TRADE, timestamp, recvWindow and signature. */
  #authenticate(
    req: IncomingMessage,
    endpoint: Endpoint,
    params: Params,
    rawQuery: string,
    rawBody: string,
    now: number,
  ): string | null {
    if (endpoint.security === 'NONE') return null;
    const header = req.headers['x-mbx-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    if (apiKey === undefined || !API_KEY_PATTERN.test(apiKey)) throw apiKeyFormatInvalid();
    const credentials = this.#accounts.credentials(apiKey);
    if (credentials === undefined) throw apiKeyUnknown();
    if (endpoint.security !== 'USER_DATA' && endpoint.security !== 'TRADE') return credentials.accountId;
    const timestamp = requireInt(params, 'timestamp', 0);
    const recvWindowText = params.recvWindow;
    let recvWindow = RECV_WINDOW_DEFAULT;
    if (recvWindowText !== undefined && recvWindowText !== '') {
      recvWindow = Number(recvWindowText);
      if (!/^\d{1,6}$/.test(recvWindowText) || recvWindow <= 0 || recvWindow > RECV_WINDOW_MAX) {
        throw illegal('recvWindow', recvWindowText);
      }
    }
    if (timestamp > now + 1000) throw timestampAhead();
    if (timestamp < now - recvWindow) throw timestampOutsideRecvWindow();
    const signature = params.signature;
    if (signature === undefined || signature === '') {
      throw new SimRejection(
        400,
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
      );
    }
    if (!signatureMatches(credentials.secret, signedPayload(rawQuery, rawBody), signature)) {
      throw invalidSignature();
    }
    return credentials.accountId;
  }

  #reject(
    res: ServerResponse,
    rejection: SimRejection,
    headers: Record<string, string>,
    close: boolean,
  ): void {
    this.#counters.rejected += 1;
    if (rejection.status === 429) this.#counters.rateLimited += 1;
    if (rejection.status === 418) this.#counters.banned += 1;
    if (rejection.status >= 500 || rejection.status === 418) {
      this.#log.info('request refused', { status: rejection.status, code: rejection.code });
    } else {
      this.#log.debug('request refused', {
        status: rejection.status,
        code: rejection.code,
        msg: rejection.message,
      });
    }
    if (close) headers.Connection = 'close';
    this.#write(
      res,
      rejection.status,
      JSON.stringify({ code: rejection.code, msg: rejection.message }),
      headers,
    );
    if (close) res.on('finish', () => res.socket?.destroy());
  }

  #write(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  }

  /** The whole body as text, or undefined when it is larger than allowed (reading stops there). */
  async #readBody(req: IncomingMessage): Promise<string | undefined> {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (Number.isFinite(declared) && declared > this.limits.maxBodyBytes) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > this.limits.maxBodyBytes) return undefined;
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('latin1');
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.#pendingDelays.add(timer);
    });
  }
}

/** Binance reads form bodies only; a body of another type is ignored, as it is there. */
function isFormBody(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type === undefined || type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/**
 * `json` as the response body, with the digit strings of the `bareIntegers` fields written as bare
 * numbers (as Binance writes ids too large for a double; see `Endpoint.bareIntegers`).
 */
export function serializeJson(json: Json, bareIntegers: readonly string[] | undefined): string {
  const text = JSON.stringify(json);
  if (bareIntegers === undefined || bareIntegers.length === 0) return text;
  const names = bareIntegers.map((name) => name.replace(/[^A-Za-z0-9_]/g, '')).join('|');
  return text.replace(new RegExp(`"(${names})":"(-?\\d+)"`, 'g'), '"$1":$2');
}
