// Binance USD-M user data stream on /private: listenKey lifecycle (create, keep alive, recreate),
// reconnects that report a possible gap, raw event bytes in per-turn batches.
import { Logger } from '../log/logger.js';
import { Backoff, type BackoffOptions } from './ws-backoff.js';
import { type ChannelState, type FeedGap, WsChannel } from './ws-channel.js';
import {
  type ConnectionSettings,
  type ConnectionStatus,
  checkConnectionSettings,
  DEFAULT_CONNECTION_SETTINGS,
} from './ws-connection.js';
import { describeError, WsClientClosedError, type WsReconnectExhaustedError } from './ws-errors.js';
import { FrameBatcher, type FramesHandler } from './ws-frame-batcher.js';

/**
 * The listenKey endpoints a stream uses (`POST/PUT /fapi/v1/listenKey`; never `DELETE`, see
 * {@link UserDataStream.close}); the REST client implements them.
 */
export interface ListenKeyApi {
  /** Creates a key, or returns the active one with its validity extended to 60 min. */
  createListenKey(): Promise<string>;
  /** Extends the key's validity to 60 min; fails with code -1125 when the key does not exist. */
  keepAliveListenKey(key: string): Promise<void>;
}

/**
 * Events asked for on the private socket. Binance treats `events` as an allow list: an event not
 * named is never sent, `listenKeyExpired` included, so it is always added.
 */
export const DEFAULT_USER_EVENTS: readonly string[] = [
  'ACCOUNT_UPDATE',
  'ORDER_TRADE_UPDATE',
  'ALGO_UPDATE',
  'ACCOUNT_CONFIG_UPDATE',
  'MARGIN_CALL',
  'CONDITIONAL_ORDER_TRIGGER_REJECT',
  'TRADE_LITE',
  'listenKeyExpired',
];

/** Options of a `UserDataStream`. */
export interface UserDataStreamOptions {
  api: ListenKeyApi;
  /** `wss://fstream.binance.com`, or `ws://127.0.0.1:<port>` of the simulator. */
  baseUrl: string;
  logger?: Logger;
  /** Event names for the `events` allow list (default `DEFAULT_USER_EVENTS`). */
  events?: readonly string[];
  /** Keepalive period (default 30 min; a key lives 60 min). */
  keepAliveIntervalMs?: number;
  /** Delay before retrying a keepalive that failed for another reason than a missing key (default 60 s). */
  keepAliveRetryMs?: number;
  /** Consecutive failed keepalives after which the key is recreated (default 5). */
  maxKeepAliveFailures?: number;
  /** Whether a keepalive error means the key is gone (default: an error whose `code` is -1125). */
  isListenKeyGone?: (error: unknown) => boolean;
  backoff?: BackoffOptions;
  /** Age at which the connection is replaced, make-before-break (default 23 h 30 min). */
  maxConnectionAgeMs?: number;
  /** Overlap of old and new connection during a rotation (default 2 000 ms). */
  rotationOverlapMs?: number;
  openTimeoutMs?: number;
  /** Ping the server after this much silence (default 15 000 ms; 0 disables). */
  idlePingMs?: number;
  /** Drop the connection after this long without a frame, ping or pong (default 60 000 ms). */
  deadAfterMs?: number;
  maxPayloadBytes?: number;
  random?: () => number;
}

/** Why account data may be missing; the consumer reconciles through REST (account, positionRisk). */
export interface UserStreamGap extends FeedGap {
  /** Whether the reconnect runs on a different listenKey than before (the old one expired or was gone). */
  newListenKey: boolean;
}

/** Counters of the user data stream. */
export interface UserDataStreamStatus {
  state: ChannelState | 'idle';
  connection: ConnectionStatus | null;
  messages: number;
  batches: number;
  lastMessageAt: number | null;
  reconnects: number;
  rotations: number;
  duplicatesDropped: number;
  listenKeysCreated: number;
  listenKeyCreateFailures: number;
  keepAlives: number;
  keepAliveFailures: number;
  listenKeyExpiredEvents: number;
  handlerErrors: number;
}

const EXPIRED_MARKER = Buffer.from('"listenKeyExpired"', 'latin1');

function hasCode(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/** The default `isListenKeyGone`: Binance's -1125 "This listenKey does not exist." */
export function isListenKeyMissingError(error: unknown): boolean {
  return hasCode(error, -1125);
}

/**
 * The user data stream at `<baseUrl>/private/ws?listenKey=<key>&events=<E1>/<E2>/...`. Every
 * (re)connection first calls `createListenKey` (which returns the active key, extended, or a new one);
 * the key is kept alive every `keepAliveIntervalMs`. On `listenKeyExpired`, on a keepalive that says
 * the key is gone and on any disconnect it recreates the key, reconnects with bounded backoff and
 * reports a possible gap. Events are delivered as raw bytes in per-turn batches; the
 * `listenKeyExpired` event itself is handled here and not delivered.
 */
export class UserDataStream {
  readonly #api: ListenKeyApi;
  readonly #baseUrl: string;
  readonly #events: readonly string[];
  readonly #keepAliveIntervalMs: number;
  readonly #keepAliveRetryMs: number;
  readonly #maxKeepAliveFailures: number;
  readonly #isGone: (error: unknown) => boolean;
  readonly #log: Logger;
  readonly #batcher: FrameBatcher;
  readonly #channel: WsChannel;
  readonly #gapHandlers = new Set<(gap: UserStreamGap) => void>();
  readonly #failureHandlers = new Set<(error: WsReconnectExhaustedError) => void>();
  #started = false;
  #closed = false;
  /** The key believed valid (cleared when it is known to be gone). */
  #key: string | undefined;
  /** The last key created, kept to tell a replaced key from the same one returned again. */
  #lastKey: string | undefined;
  #keyReplaced = false;
  #keepAliveTimer: NodeJS.Timeout | undefined;
  #keepAliveFailuresInRow = 0;
  #startWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #messages = 0;
  #lastMessageAt: number | null = null;
  #keysCreated = 0;
  #keyCreateFailures = 0;
  #keepAlives = 0;
  #keepAliveFailures = 0;
  #expiredEvents = 0;
  #nextConnectionId = 1;

  constructor(options: UserDataStreamOptions) {
    this.#api = options.api;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    if (!/^wss?:\/\//.test(this.#baseUrl))
      throw new RangeError(`baseUrl must be ws:// or wss://, got ${options.baseUrl}`);
    const events = [...(options.events ?? DEFAULT_USER_EVENTS)];
    if (!events.includes('listenKeyExpired')) events.push('listenKeyExpired');
    for (const e of events)
      if (!/^[A-Za-z_]+$/.test(e)) throw new RangeError(`invalid event name ${JSON.stringify(e)}`);
    this.#events = events;
    this.#keepAliveIntervalMs = options.keepAliveIntervalMs ?? 30 * 60_000;
    this.#keepAliveRetryMs = options.keepAliveRetryMs ?? 60_000;
    this.#maxKeepAliveFailures = options.maxKeepAliveFailures ?? 5;
    if (!(this.#keepAliveIntervalMs > 0 && this.#keepAliveIntervalMs < 60 * 60_000)) {
      throw new RangeError(`keepAliveIntervalMs must be in (0, 60 min), got ${this.#keepAliveIntervalMs}`);
    }
    if (!(this.#keepAliveRetryMs > 0)) throw new RangeError(`keepAliveRetryMs must be > 0`);
    if (!(Number.isInteger(this.#maxKeepAliveFailures) && this.#maxKeepAliveFailures >= 1)) {
      throw new RangeError(`maxKeepAliveFailures must be an integer >= 1`);
    }
    this.#isGone = options.isListenKeyGone ?? isListenKeyMissingError;
    this.#log = options.logger ?? new Logger('exchange.user-stream');
    this.#batcher = new FrameBatcher(this.#log);
    const d = DEFAULT_CONNECTION_SETTINGS;
    const settings: ConnectionSettings = {
      ...d,
      openTimeoutMs: options.openTimeoutMs ?? d.openTimeoutMs,
      idlePingMs: options.idlePingMs ?? d.idlePingMs,
      deadAfterMs: options.deadAfterMs ?? d.deadAfterMs,
      maxPayloadBytes: options.maxPayloadBytes ?? d.maxPayloadBytes,
    };
    checkConnectionSettings(settings);
    const maxAge = options.maxConnectionAgeMs ?? 23.5 * 3_600_000;
    if (!(maxAge > 0 && maxAge < 24 * 3_600_000))
      throw new RangeError(`maxConnectionAgeMs must be in (0, 24 h)`);
    this.#channel = new WsChannel({
      name: 'user data stream',
      logger: this.#log,
      settings,
      backoff: new Backoff(options.backoff ?? {}, options.random ?? Math.random),
      maxConnectionAgeMs: maxAge,
      rotationOverlapMs: options.rotationOverlapMs ?? 2_000,
      nextConnectionId: () => this.#nextConnectionId++,
      resolveUrl: () => this.#resolveUrl(),
      prepare: () => Promise.resolve(),
      onFrame: (frame) => this.#onFrame(frame),
      onLive: (event) => {
        if (event.kind === 'connected') {
          for (const w of this.#startWaiters.splice(0)) w.resolve();
        }
        if (event.gap !== undefined) {
          const gap: UserStreamGap = { ...event.gap, newListenKey: this.#keyReplaced };
          this.#keyReplaced = false;
          this.#emitGap(gap);
        }
      },
      onFailed: (error) => {
        this.#stopKeepAlive();
        for (const w of this.#startWaiters.splice(0)) w.reject(error);
        for (const handler of this.#failureHandlers) {
          try {
            handler(error);
          } catch (handlerError) {
            this.#log.error('failure handler threw', { error: describeError(handlerError) });
          }
        }
      },
    });
  }

  /**
   * Creates the listenKey, connects and starts the keepalive. Resolves once the first connection is
   * open; rejects with `WsReconnectExhaustedError` if every attempt failed, or `WsClientClosedError`.
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new WsClientClosedError('UserDataStream'));
    if (this.#started) return Promise.reject(new Error('UserDataStream started twice'));
    this.#started = true;
    const started = new Promise<void>((resolve, reject) => this.#startWaiters.push({ resolve, reject }));
    this.#channel.start();
    return started;
  }

  /** Adds a consumer of raw event batches; returns the function that removes it. */
  onMessages(handler: FramesHandler): () => void {
    return this.#batcher.add(handler);
  }

  /** Called after every reconnect: account events may be missing, reconcile through REST. */
  onPossibleGap(handler: (gap: UserStreamGap) => void): () => void {
    this.#gapHandlers.add(handler);
    return () => {
      this.#gapHandlers.delete(handler);
    };
  }

  /** Called when reconnecting was given up (the stream is stopped). */
  onFailure(handler: (error: WsReconnectExhaustedError) => void): () => void {
    this.#failureHandlers.add(handler);
    return () => {
      this.#failureHandlers.delete(handler);
    };
  }

  /** Replaces the connection now, make-before-break (as at `maxConnectionAgeMs`). */
  rotateNow(): Promise<void> {
    return this.#channel.rotateNow();
  }

  status(): UserDataStreamStatus {
    const ch = this.#channel.status();
    const counts = this.#batcher.counts();
    return {
      state: ch.state,
      connection: ch.connection,
      messages: this.#messages,
      batches: counts.batches,
      lastMessageAt: this.#lastMessageAt,
      reconnects: ch.reconnects,
      rotations: ch.rotations,
      duplicatesDropped: ch.duplicatesDropped,
      listenKeysCreated: this.#keysCreated,
      listenKeyCreateFailures: this.#keyCreateFailures,
      keepAlives: this.#keepAlives,
      keepAliveFailures: this.#keepAliveFailures,
      listenKeyExpiredEvents: this.#expiredEvents,
      handlerErrors: counts.handlerErrors,
    };
  }

  /**
   * Stops the keepalive, closes the socket and delivers what was received. The listenKey is left to
   * lapse (60 min after its last keepalive), never deleted: a USD-M account has one active key,
   * which every stream of the account is handed (another user-stream collector, another program
   * on the same account), and a DELETE would close all of their streams.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopKeepAlive();
    for (const w of this.#startWaiters.splice(0)) w.reject(new WsClientClosedError('UserDataStream'));
    await this.#channel.close();
    this.#batcher.flush();
    this.#key = undefined;
    this.#log.info('closed; the listenKey is left to lapse (other streams of the account may use it)');
  }

  async #resolveUrl(): Promise<{ url: string; displayUrl: string }> {
    let key: string;
    try {
      key = await this.#api.createListenKey();
    } catch (error) {
      this.#keyCreateFailures += 1;
      throw error;
    }
    if (typeof key !== 'string' || key.length === 0)
      throw new TypeError('createListenKey returned an empty key');
    this.#keysCreated += 1;
    if (this.#lastKey !== undefined && this.#lastKey !== key) this.#keyReplaced = true;
    const fresh = this.#key !== key;
    this.#key = key;
    this.#lastKey = key;
    // A created (or re-created) key is valid for 60 min from now: restart the keepalive period.
    if (fresh || this.#keepAliveTimer === undefined) this.#scheduleKeepAlive(this.#keepAliveIntervalMs);
    const events = this.#events.join('/');
    return {
      url: `${this.#baseUrl}/private/ws?listenKey=${encodeURIComponent(key)}&events=${events}`,
      displayUrl: `${this.#baseUrl}/private/ws?listenKey=<redacted>&events=${events}`,
    };
  }

  #onFrame(frame: Buffer): void {
    if (frame.includes(EXPIRED_MARKER) && this.#isExpiredEvent(frame)) return;
    this.#messages += 1;
    this.#lastMessageAt = Date.now();
    this.#batcher.push(frame);
  }

  /** Handles a `listenKeyExpired` event; false if the frame only mentions the name. */
  #isExpiredEvent(frame: Buffer): boolean {
    let event: unknown;
    try {
      event = JSON.parse(frame.toString('utf8'));
    } catch {
      return false; // not JSON: delivered as is, the consumer's parser counts and logs it
    }
    if (typeof event !== 'object' || event === null) return false;
    const body =
      'data' in event && typeof event.data === 'object' && event.data !== null ? event.data : event;
    if (!('e' in body) || body.e !== 'listenKeyExpired') return false;
    this.#expiredEvents += 1;
    const expired = 'listenKey' in body && typeof body.listenKey === 'string' ? body.listenKey : undefined;
    if (expired !== undefined && this.#key !== undefined && expired !== this.#key) {
      this.#log.info('listenKeyExpired for a previous key; ignored');
      return true;
    }
    this.#log.warn('listenKey expired; recreating it and reconnecting');
    this.#key = undefined;
    this.#channel.reconnectNow('listenKeyExpired');
    return true;
  }

  #scheduleKeepAlive(delay: number): void {
    this.#stopKeepAlive();
    if (this.#closed) return;
    this.#keepAliveTimer = setTimeout(() => {
      this.#keepAliveTimer = undefined;
      void this.#keepAlive();
    }, delay);
  }

  #stopKeepAlive(): void {
    if (this.#keepAliveTimer !== undefined) clearTimeout(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
  }

  async #keepAlive(): Promise<void> {
    const key = this.#key;
    if (key === undefined || this.#closed) {
      // Between keys (reconnecting): the next created key restarts the period.
      this.#scheduleKeepAlive(this.#keepAliveIntervalMs);
      return;
    }
    try {
      await this.#api.keepAliveListenKey(key);
      if (this.#closed) return;
      this.#keepAlives += 1;
      this.#keepAliveFailuresInRow = 0;
      this.#log.debug('listenKey kept alive');
      if (this.#keepAliveTimer === undefined) this.#scheduleKeepAlive(this.#keepAliveIntervalMs);
    } catch (error) {
      if (this.#closed) return;
      this.#keepAliveFailures += 1;
      if (this.#key !== key) return; // replaced meanwhile; the new key has its own schedule
      if (this.#isGone(error)) {
        this.#log.warn('listenKey is gone; recreating it and reconnecting', { error: describeError(error) });
        this.#recreateKey('listenKey gone (keepalive)');
        return;
      }
      this.#keepAliveFailuresInRow += 1;
      if (this.#keepAliveFailuresInRow >= this.#maxKeepAliveFailures) {
        this.#log.error('keepalive keeps failing; recreating the listenKey', {
          failures: this.#keepAliveFailuresInRow,
          error: describeError(error),
        });
        this.#recreateKey('keepalive kept failing');
        return;
      }
      this.#log.warn('keepalive failed; retrying', {
        failures: this.#keepAliveFailuresInRow,
        maxFailures: this.#maxKeepAliveFailures,
        retryInMs: this.#keepAliveRetryMs,
        error: describeError(error),
      });
      this.#scheduleKeepAlive(this.#keepAliveRetryMs);
    }
  }

  #recreateKey(reason: string): void {
    this.#keepAliveFailuresInRow = 0;
    this.#key = undefined;
    this.#scheduleKeepAlive(this.#keepAliveIntervalMs);
    this.#channel.reconnectNow(reason);
  }

  #emitGap(gap: UserStreamGap): void {
    this.#log.warn('possible gap in account events', {
      reason: gap.reason,
      downMs: gap.restoredAt - gap.lostAt,
      newListenKey: gap.newListenKey,
    });
    for (const handler of this.#gapHandlers) {
      try {
        handler(gap);
      } catch (error) {
        this.#log.error('gap handler threw', { error: describeError(error) });
      }
    }
  }
}
