// Binance USD-M market streams (/public or /market): streams spread over connections, live
// SUBSCRIBE/UNSUBSCRIBE, reconnect and resubscribe, gapless rotation; raw frames in per-turn batches.
import { Logger } from '../log/logger.js';
import { Backoff, type BackoffOptions } from './ws-backoff.js';
import { type ChannelState, type FeedGap, WsChannel } from './ws-channel.js';
import {
  type ConnectionSettings,
  checkConnectionSettings,
  DEFAULT_CONNECTION_SETTINGS,
  type WsConnection,
} from './ws-connection.js';
import {
  describeError,
  WsClientClosedError,
  WsConnectionClosedError,
  WsControlError,
  WsControlTimeoutError,
  WsInvalidStreamError,
  WsProtocolError,
  type WsReconnectExhaustedError,
} from './ws-errors.js';
import { FrameBatcher, type FramesHandler } from './ws-frame-batcher.js';

/** Binance's routed market paths: `/public` (bookTicker, depth), `/market` (aggTrade, kline, markPrice, forceOrder). */
export type MarketRoute = 'public' | 'market';

/** Options of a `MarketStreamClient`. */
export interface MarketStreamClientOptions {
  /** `wss://fstream.binance.com`, or `ws://127.0.0.1:<port>` of the simulator. */
  baseUrl: string;
  route: MarketRoute;
  /** Streams per connection (default 200; Binance allows 1,024). */
  maxStreamsPerConnection?: number;
  logger?: Logger;
  backoff?: BackoffOptions;
  /** Age at which a connection is replaced, make-before-break (default 23 h 30 min; Binance cuts at 24 h). */
  maxConnectionAgeMs?: number;
  /** Overlap of old and new connection during a rotation, and the dedup window after it (default 2 000 ms). */
  rotationOverlapMs?: number;
  /** Control messages per second per connection (default 5; Binance's limit is 10 incoming). */
  controlMessagesPerSecond?: number;
  /** Most stream names in one SUBSCRIBE/UNSUBSCRIBE (default 200). */
  maxParamsPerMessage?: number;
  /** Time allowed for a control reply (default 10 000 ms); a late reply drops the connection. */
  controlTimeoutMs?: number;
  /** Time allowed for the websocket handshake (default 10 000 ms). */
  openTimeoutMs?: number;
  /** Ping the server after this much silence (default 15 000 ms; 0 disables). */
  idlePingMs?: number;
  /**
   * Drop the connection after this long without a frame, ping or pong (default 60 000 ms). With
   * `idlePingMs` 0 keep it above Binance's 3-minute ping period.
   */
  deadAfterMs?: number;
  /** Largest frame accepted (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Random source of the backoff jitter (tests). */
  random?: () => number;
}

/** A connection whose data may have a hole: the streams it carries and the time span. */
export interface MarketStreamGap extends FeedGap {
  /** The client's connection slot (stable across reconnects). */
  slot: number;
  streams: string[];
}

/** A connection slot that gave up reconnecting; its streams are no longer subscribed. */
export interface MarketStreamFailure {
  slot: number;
  streams: string[];
  error: WsReconnectExhaustedError;
}

/** One connection slot as seen in `status()`. */
export interface MarketConnectionStatus {
  slot: number;
  state: ChannelState;
  streams: number;
  /** Id of the current websocket (changes on reconnect and rotation). */
  connectionId: number | null;
  url: string;
  openedAt: number | null;
  /** Data frames delivered by this slot over all its connections. */
  messages: number;
  lastMessageAt: number | null;
  reconnects: number;
  connectAttempts: number;
  failedAttempts: number;
  rotations: number;
  rotationFailures: number;
  duplicatesDropped: number;
}

/** A connection slot's activity, for a per-connection stall watch (cheaper than `status()`). */
export interface MarketSlotActivity {
  slot: number;
  state: ChannelState;
  /** Streams the slot carries (subscribed or being subscribed). */
  streams: number;
  /** When the slot last delivered a data frame, over all its connections (this machine's clock); null before the first. */
  lastFrameAt: number | null;
}

/** Counters of the whole client. */
export interface MarketStreamStatus {
  route: MarketRoute;
  closed: boolean;
  streams: number;
  connections: MarketConnectionStatus[];
  messages: number;
  batches: number;
  reconnects: number;
  rotations: number;
  duplicatesDropped: number;
  /** Streams the server refused (removed from the subscription set). */
  refusedStreams: number;
  /** Slots that gave up reconnecting. */
  failedSlots: number;
  handlerErrors: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

const STREAM_NAME = /^[^\s/?&#"\\]+$/;

interface SlotHooks {
  log: Logger;
  batcher: FrameBatcher;
  onRefused(slot: StreamSlot, streams: string[], error: WsControlError): void;
  onGap(gap: MarketStreamGap): void;
  onFailed(slot: StreamSlot, error: WsReconnectExhaustedError): void;
}

/** One logical connection: the streams it should carry and the channel that carries them. */
class StreamSlot {
  readonly id: number;
  readonly desired = new Set<string>();
  readonly channel: WsChannel;
  readonly #hooks: SlotHooks;
  readonly #sent = new WeakMap<WsConnection, Set<string>>();
  readonly #acked = new WeakMap<WsConnection, Set<string>>();
  readonly #waiters = new Map<string, Waiter[]>();
  messages = 0;

  constructor(
    id: number,
    url: string,
    settings: ConnectionSettings,
    backoff: Backoff,
    options: { maxConnectionAgeMs: number; rotationOverlapMs: number; nextConnectionId: () => number },
    hooks: SlotHooks,
  ) {
    this.id = id;
    this.#hooks = hooks;
    const log = hooks.log.child(`slot${id}`);
    this.channel = new WsChannel({
      name: `market slot ${id}`,
      logger: log,
      settings,
      backoff,
      maxConnectionAgeMs: options.maxConnectionAgeMs,
      rotationOverlapMs: options.rotationOverlapMs,
      nextConnectionId: options.nextConnectionId,
      resolveUrl: () => Promise.resolve({ url, displayUrl: url }),
      prepare: (conn) => this.#reconcile(conn),
      onFrame: (frame) => {
        this.messages += 1;
        hooks.batcher.push(frame);
      },
      onLive: (event) => {
        const acked = this.#acked.get(event.connection);
        if (acked !== undefined) for (const s of acked) this.#settle(s);
        if (event.gap !== undefined) {
          hooks.onGap({ ...event.gap, slot: this.id, streams: [...this.desired] });
        }
      },
      onFailed: (error) => {
        this.#rejectAll(error);
        hooks.onFailed(this, error);
      },
    });
  }

  /** Adds streams; resolves when each is acknowledged on the delivering connection. */
  add(streams: readonly string[]): Promise<void> {
    for (const s of streams) this.desired.add(s);
    const waits = streams.map((s) => this.waitFor(s));
    for (const conn of this.channel.openConnections()) {
      this.#reconcile(conn).catch((error: unknown) => {
        // The connection is going down; the reconnect subscribes everything again.
        this.#hooks.log.warn('subscribe interrupted', { slot: this.id, error: describeError(error) });
      });
    }
    return Promise.all(waits).then(() => undefined);
  }

  waitFor(stream: string): Promise<void> {
    const conn = this.channel.connection;
    if (conn !== undefined && this.#acked.get(conn)?.has(stream) === true) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const list = this.#waiters.get(stream);
      if (list === undefined) this.#waiters.set(stream, [{ resolve, reject }]);
      else list.push({ resolve, reject });
    });
  }

  /** Removes streams and unsubscribes them on every open connection; rejects only if the server refuses. */
  async remove(streams: readonly string[]): Promise<void> {
    for (const s of streams) {
      this.desired.delete(s);
      this.#settle(s); // a pending subscribe is superseded, not failed
    }
    const work: Promise<unknown>[] = [];
    for (const conn of this.channel.openConnections()) {
      const sent = this.#sent.get(conn);
      const mine = streams.filter((s) => sent?.has(s) === true);
      for (const s of mine) {
        sent?.delete(s);
        this.#acked.get(conn)?.delete(s);
      }
      if (mine.length > 0) work.push(conn.request('UNSUBSCRIBE', mine));
    }
    const results = await Promise.allSettled(work);
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      // A connection that closed or stopped answering is replaced without these streams.
      if (r.reason instanceof WsConnectionClosedError || r.reason instanceof WsControlTimeoutError) continue;
      throw r.reason;
    }
  }

  rejectAll(error: Error): void {
    this.#rejectAll(error);
  }

  /** Resolves every pending subscribe (the slot is dropped because its streams were unsubscribed). */
  settleAll(): void {
    for (const stream of [...this.#waiters.keys()]) this.#settle(stream);
  }

  /** Subscribes on `conn` whatever it does not carry yet; throws if the connection failed meanwhile. */
  async #reconcile(conn: WsConnection): Promise<void> {
    let sent = this.#sent.get(conn);
    if (sent === undefined) {
      sent = new Set();
      this.#sent.set(conn, sent);
    }
    const add = [...this.desired].filter((s) => !sent.has(s));
    if (add.length === 0) return;
    for (const s of add) sent.add(s);
    try {
      await conn.request('SUBSCRIBE', add);
    } catch (error) {
      for (const s of add) sent.delete(s);
      if (error instanceof WsControlError) {
        const refused = add.filter((s) => this.desired.has(s));
        for (const s of refused) {
          this.desired.delete(s);
          this.#settle(s, error);
        }
        this.#hooks.onRefused(this, refused, error);
        return;
      }
      throw error;
    }
    let acked = this.#acked.get(conn);
    if (acked === undefined) {
      acked = new Set();
      this.#acked.set(conn, acked);
    }
    for (const s of add) if (sent.has(s)) acked.add(s);
    if (conn === this.channel.connection) for (const s of add) this.#settle(s);
  }

  #settle(stream: string, error?: Error): void {
    const list = this.#waiters.get(stream);
    if (list === undefined) return;
    this.#waiters.delete(stream);
    for (const w of list) {
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  #rejectAll(error: Error): void {
    const all = [...this.#waiters.values()].flat();
    this.#waiters.clear();
    for (const w of all) w.reject(error);
  }
}

/**
 * Binance USD-M market stream client. Streams are spread over as many connections as
 * `maxStreamsPerConnection` needs (`<baseUrl>/<route>/stream`, combined form, so every frame is a
 * `{"stream":..,"data":..}` envelope that the native parsers accept). Each connection reconnects with
 * jittered exponential backoff and resubscribes everything, reports a possible gap when it does, and
 * is rotated before 24 h without a gap (see `WsChannel` for the dedup rule). Frames are never parsed
 * here beyond recognising control replies; consumers get them as bytes, batched per event-loop turn.
 */
export class MarketStreamClient {
  readonly #baseUrl: string;
  readonly #route: MarketRoute;
  readonly #maxStreams: number;
  readonly #maxAgeMs: number;
  readonly #overlapMs: number;
  readonly #settings: ConnectionSettings;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #batcher: FrameBatcher;
  readonly #slots = new Map<number, StreamSlot>();
  readonly #slotOf = new Map<string, StreamSlot>();
  readonly #gapHandlers = new Set<(gap: MarketStreamGap) => void>();
  readonly #failureHandlers = new Set<(failure: MarketStreamFailure) => void>();
  #nextSlotId = 1;
  #nextConnectionId = 1;
  #closed = false;
  #refused = 0;
  #failedSlots = 0;
  #retiredStats = { messages: 0, reconnects: 0, rotations: 0, duplicatesDropped: 0 };

  constructor(options: MarketStreamClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    if (!/^wss?:\/\//.test(this.#baseUrl))
      throw new RangeError(`baseUrl must be ws:// or wss://, got ${options.baseUrl}`);
    this.#route = options.route;
    if (this.#route !== 'public' && this.#route !== 'market')
      throw new RangeError(`unknown route ${options.route}`);
    this.#maxStreams = options.maxStreamsPerConnection ?? 200;
    if (!(Number.isInteger(this.#maxStreams) && this.#maxStreams >= 1 && this.#maxStreams <= 1024)) {
      throw new RangeError(`maxStreamsPerConnection must be an integer in 1..1024, got ${this.#maxStreams}`);
    }
    this.#maxAgeMs = options.maxConnectionAgeMs ?? 23.5 * 3_600_000;
    if (!(this.#maxAgeMs > 0 && this.#maxAgeMs < 24 * 3_600_000)) {
      throw new RangeError(`maxConnectionAgeMs must be in (0, 24 h), got ${this.#maxAgeMs}`);
    }
    this.#overlapMs = options.rotationOverlapMs ?? 2_000;
    if (!(this.#overlapMs >= 0))
      throw new RangeError(`rotationOverlapMs must be >= 0, got ${this.#overlapMs}`);
    const d = DEFAULT_CONNECTION_SETTINGS;
    this.#settings = {
      openTimeoutMs: options.openTimeoutMs ?? d.openTimeoutMs,
      controlTimeoutMs: options.controlTimeoutMs ?? d.controlTimeoutMs,
      controlMessagesPerSecond: options.controlMessagesPerSecond ?? d.controlMessagesPerSecond,
      maxParamsPerMessage: options.maxParamsPerMessage ?? d.maxParamsPerMessage,
      idlePingMs: options.idlePingMs ?? d.idlePingMs,
      deadAfterMs: options.deadAfterMs ?? d.deadAfterMs,
      maxPayloadBytes: options.maxPayloadBytes ?? d.maxPayloadBytes,
    };
    checkConnectionSettings(this.#settings);
    this.#backoff = options.backoff ?? {};
    new Backoff(this.#backoff); // validates the settings now rather than at the first reconnect
    this.#random = options.random ?? Math.random;
    this.#log = options.logger ?? new Logger(`exchange.${this.#route}-stream`);
    this.#batcher = new FrameBatcher(this.#log);
  }

  /** The URL every connection opens. */
  get url(): string {
    return `${this.#baseUrl}/${this.#route}/stream`;
  }

  /**
   * Subscribes streams (`btcusdt@aggTrade`, `ethusdt@kline_1m`, ...), filling existing connections
   * before opening new ones. Resolves when every stream is acknowledged; rejects with
   * `WsControlError` for streams the server refuses (they are dropped), `WsInvalidStreamError`,
   * `WsReconnectExhaustedError` or `WsClientClosedError`. Already subscribed streams just wait.
   */
  subscribe(streams: readonly string[]): Promise<void> {
    if (this.#closed) return Promise.reject(new WsClientClosedError('MarketStreamClient'));
    for (const s of streams) if (!STREAM_NAME.test(s)) return Promise.reject(new WsInvalidStreamError(s));
    const waits: Promise<void>[] = [];
    const fresh: string[] = [];
    for (const s of new Set(streams)) {
      const slot = this.#slotOf.get(s);
      if (slot === undefined) fresh.push(s);
      else waits.push(slot.waitFor(s));
    }
    let next = 0;
    const assign = (slot: StreamSlot, part: string[]): void => {
      for (const s of part) this.#slotOf.set(s, slot);
      waits.push(slot.add(part));
    };
    for (const slot of this.#slots.values()) {
      if (next >= fresh.length) break;
      const room = this.#maxStreams - slot.desired.size;
      if (room <= 0) continue;
      const part = fresh.slice(next, next + room);
      next += part.length;
      assign(slot, part);
    }
    while (next < fresh.length) {
      const part = fresh.slice(next, next + this.#maxStreams);
      next += part.length;
      const slot = this.#newSlot();
      assign(slot, part);
      slot.channel.start();
    }
    if (fresh.length > 0) this.#log.info('subscribe', { streams: fresh.length, total: this.#slotOf.size });
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Unsubscribes streams; a connection left without streams is closed. Resolves when the server
   * acknowledged (or the connection carrying them is gone); rejects with `WsControlError` if refused.
   */
  async unsubscribe(streams: readonly string[]): Promise<void> {
    if (this.#closed) throw new WsClientClosedError('MarketStreamClient');
    const bySlot = new Map<StreamSlot, string[]>();
    for (const s of new Set(streams)) {
      const slot = this.#slotOf.get(s);
      if (slot === undefined) continue;
      this.#slotOf.delete(s);
      const list = bySlot.get(slot);
      if (list === undefined) bySlot.set(slot, [s]);
      else list.push(s);
    }
    const work: Promise<void>[] = [];
    for (const [slot, list] of bySlot) {
      if (list.length === slot.desired.size) {
        for (const s of list) slot.desired.delete(s);
        work.push(this.#dropSlot(slot, 'no streams left'));
      } else {
        work.push(slot.remove(list));
      }
    }
    if (bySlot.size > 0) this.#log.info('unsubscribe', { streams: streams.length, total: this.#slotOf.size });
    await Promise.all(work);
  }

  /** Asks every live connection for its subscriptions (`LIST_SUBSCRIPTIONS`) and returns the union, sorted. */
  async listSubscriptions(): Promise<string[]> {
    const all = new Set<string>();
    const replies = await Promise.all(
      [...this.#slots.values()].flatMap((slot) => {
        const conn = slot.channel.connection;
        return conn?.state === 'open' ? [conn.request('LIST_SUBSCRIPTIONS').then((r) => ({ r, conn }))] : [];
      }),
    );
    for (const { r, conn } of replies) {
      if (!Array.isArray(r) || !r.every((s): s is string => typeof s === 'string')) {
        throw new WsProtocolError(
          conn.displayUrl,
          `LIST_SUBSCRIPTIONS result is not a list of names: ${JSON.stringify(r)}`,
        );
      }
      for (const s of r) all.add(s);
    }
    return [...all].sort();
  }

  /** The streams currently wanted (subscribed or being subscribed), sorted. */
  streams(): string[] {
    return [...this.#slotOf.keys()].sort();
  }

  /** The connection slot carrying `stream` (stable across reconnects), or undefined when not subscribed. */
  slotOf(stream: string): number | undefined {
    return this.#slotOf.get(stream)?.id;
  }

  /**
   * When the connection slot `slot` last delivered a data frame (this machine's clock, ms): null
   * before its first, undefined for no such slot. Cheaper than `status()` for a per-slot check.
   */
  lastFrameAt(slot: number): number | null | undefined {
    const found = this.#slots.get(slot);
    return found === undefined ? undefined : found.channel.lastFrameAt;
  }

  /** Adds a consumer of raw frame batches; returns the function that removes it. */
  onMessages(handler: FramesHandler): () => void {
    return this.#batcher.add(handler);
  }

  /** Called after a connection came back from an unplanned loss: data may be missing (backfill via REST). */
  onPossibleGap(handler: (gap: MarketStreamGap) => void): () => void {
    this.#gapHandlers.add(handler);
    return () => {
      this.#gapHandlers.delete(handler);
    };
  }

  /** Called when a connection slot gave up reconnecting (its streams are dropped). */
  onFailure(handler: (failure: MarketStreamFailure) => void): () => void {
    this.#failureHandlers.add(handler);
    return () => {
      this.#failureHandlers.delete(handler);
    };
  }

  /** Rotates every live connection now (make-before-break), as at `maxConnectionAgeMs`. */
  async rotateAll(): Promise<void> {
    await Promise.all([...this.#slots.values()].map((slot) => slot.channel.rotateNow()));
  }

  /**
   * Drops every live connection so each reconnects: for connections that stay open, answering
   * pings, yet deliver nothing. Each comes back through its own backoff, resubscribes and reports
   * a possible gap (`onPossibleGap`). Connections not live now (connecting, waiting) are left to
   * their own retries. Returns how many were dropped.
   */
  reconnectAll(reason: string): number {
    if (this.#closed) return 0;
    let dropped = 0;
    for (const slot of this.#slots.values()) {
      if (slot.channel.state !== 'live') continue;
      slot.channel.reconnectNow(reason);
      dropped += 1;
    }
    return dropped;
  }

  /**
   * Drops the live connection of slot `slot` so it reconnects, as `reconnectAll` does for every
   * slot: for one connection that stays open, answering pings, yet delivers nothing while the
   * others deliver. It comes back through its own backoff, resubscribes and reports a possible gap
   * (`onPossibleGap`). Returns false, doing nothing, when the slot does not exist or is not live
   * (connecting or waiting: its own retries are under way) or the client is closed.
   */
  reconnectSlot(slot: number, reason: string): boolean {
    if (this.#closed) return false;
    const found = this.#slots.get(slot);
    if (found === undefined || found.channel.state !== 'live') return false;
    found.channel.reconnectNow(reason);
    return true;
  }

  /** Every connection slot with its state, stream count and last frame time, in slot order. */
  slotActivity(): MarketSlotActivity[] {
    return [...this.#slots.values()].map((slot) => ({
      slot: slot.id,
      state: slot.channel.state,
      streams: slot.desired.size,
      lastFrameAt: slot.channel.lastFrameAt,
    }));
  }

  status(): MarketStreamStatus {
    const connections: MarketConnectionStatus[] = [];
    let messages = this.#retiredStats.messages;
    let reconnects = this.#retiredStats.reconnects;
    let rotations = this.#retiredStats.rotations;
    let duplicatesDropped = this.#retiredStats.duplicatesDropped;
    for (const slot of this.#slots.values()) {
      const ch = slot.channel.status();
      messages += slot.messages;
      reconnects += ch.reconnects;
      rotations += ch.rotations;
      duplicatesDropped += ch.duplicatesDropped;
      connections.push({
        slot: slot.id,
        state: ch.state,
        streams: slot.desired.size,
        connectionId: ch.connection?.id ?? null,
        url: this.url,
        openedAt: ch.connection?.openedAt ?? null,
        messages: slot.messages,
        lastMessageAt: ch.lastFrameAt,
        reconnects: ch.reconnects,
        connectAttempts: ch.connectAttempts,
        failedAttempts: ch.failedAttempts,
        rotations: ch.rotations,
        rotationFailures: ch.rotationFailures,
        duplicatesDropped: ch.duplicatesDropped,
      });
    }
    const counts = this.#batcher.counts();
    return {
      route: this.#route,
      closed: this.#closed,
      streams: this.#slotOf.size,
      connections,
      messages,
      batches: counts.batches,
      reconnects,
      rotations,
      duplicatesDropped,
      refusedStreams: this.#refused,
      failedSlots: this.#failedSlots,
      handlerErrors: counts.handlerErrors,
    };
  }

  /** Closes every connection, rejects pending subscriptions and delivers frames already received. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new WsClientClosedError('MarketStreamClient');
    const slots = [...this.#slots.values()];
    for (const slot of slots) slot.rejectAll(error);
    await Promise.all(slots.map((slot) => slot.channel.close()));
    this.#batcher.flush();
    this.#log.info('closed', { connections: slots.length });
  }

  #newSlot(): StreamSlot {
    const id = this.#nextSlotId++;
    const slot = new StreamSlot(
      id,
      this.url,
      this.#settings,
      new Backoff(this.#backoff, this.#random),
      {
        maxConnectionAgeMs: this.#maxAgeMs,
        rotationOverlapMs: this.#overlapMs,
        nextConnectionId: () => this.#nextConnectionId++,
      },
      {
        log: this.#log,
        batcher: this.#batcher,
        onRefused: (s, streams, error) => {
          this.#refused += streams.length;
          for (const name of streams) if (this.#slotOf.get(name) === s) this.#slotOf.delete(name);
          this.#log.error('streams refused by the server', {
            slot: s.id,
            streams: streams.slice(0, 10).join(','),
            count: streams.length,
            error: error.message,
          });
          if (s.desired.size === 0) void this.#dropSlot(s, 'every stream refused');
        },
        onGap: (gap) => this.#emitGap(gap),
        onFailed: (s, error) => {
          this.#failedSlots += 1;
          const streams = [...s.desired];
          for (const name of streams) if (this.#slotOf.get(name) === s) this.#slotOf.delete(name);
          void this.#dropSlot(s, 'gave up reconnecting');
          for (const handler of this.#failureHandlers) {
            try {
              handler({ slot: s.id, streams, error });
            } catch (handlerError) {
              this.#log.error('failure handler threw', { error: describeError(handlerError) });
            }
          }
        },
      },
    );
    this.#slots.set(id, slot);
    return slot;
  }

  async #dropSlot(slot: StreamSlot, reason: string): Promise<void> {
    if (!this.#slots.delete(slot.id)) return;
    const ch = slot.channel.status();
    this.#retiredStats.messages += slot.messages;
    this.#retiredStats.reconnects += ch.reconnects;
    this.#retiredStats.rotations += ch.rotations;
    this.#retiredStats.duplicatesDropped += ch.duplicatesDropped;
    this.#log.info('closing connection slot', { slot: slot.id, reason });
    slot.settleAll();
    await slot.channel.close();
  }

  #emitGap(gap: MarketStreamGap): void {
    for (const handler of this.#gapHandlers) {
      try {
        handler(gap);
      } catch (error) {
        this.#log.error('gap handler threw', { error: describeError(error) });
      }
    }
  }
}
