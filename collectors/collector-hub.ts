// The part of the hub connection collectors use, and the Ingest frames they send through it, each under the hub's message cap.
import type { ServerError } from '../ts/hub/control-messages.js';
import type { HubClient } from '../ts/hub/hub-client.js';
import type { Logger } from '../ts/log/logger.js';
import type { IngestPushResult } from '../ts/native/hub.js';
import { IngestEncoder } from '../ts/native/hub.js';
import type { IntervalName } from '../ts/native/interval.js';
import { NativeError } from '../ts/native/native-error.js';
import type { BanList, Kline } from '../ts/native/records.js';

/** The hub as a collector sees it (a `HubClient` with a collector key). */
export type CollectorHub = Pick<
  HubClient,
  | 'state'
  | 'symbols'
  | 'peerId'
  | 'welcome'
  | 'onState'
  | 'onMessage'
  | 'sendIngest'
  | 'publishEvents'
  | 'cursorNext'
  | 'registerSlot'
  | 'releaseSlot'
  | 'fetchSymbols'
  | 'setSymbols'
  | 'ranks'
  | 'setRanks'
>;

/** Frame counters of an `IngestLink`. */
export interface IngestCounters {
  framesSent: number;
  framesDropped: number;
  recordsSent: number;
  /** Frames the hub refused whole (`bad_frame`, `oversized`, `forbidden`), as it reported them. */
  framesRefused: number;
  /** Records the hub refused inside frames it merged (`invalid_record`). */
  recordsRefused: number;
  /** Sends that waited for the next frame because the last one had just gone (the pacing under the hub's budget). */
  framesPaced: number;
  /** The hub's last refusal: code, message and what to do. */
  lastRefusal: string | null;
}

/** The cap when the hub has not said (protocol.md: 4 MiB). */
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * The most one record can add to an Ingest frame: a kline row is 120 bytes, 136–152 with the
 * `(symbol, interval)` group it opens (docs/protocol.md, Batching); ticks (64), positions (72)
 * and balances (about 120 with a 31-byte asset name) are smaller.
 */
export const MAX_RECORD_BYTES = 200;
/** The frame's envelope and vector headers, with room to spare. */
const FRAME_OVERHEAD_BYTES = 1024;
/**
 * Least time between two Ingest frames of a link, ms: at most 2,500 frames a second, half the
 * hub's budget of 5,000 messages a second per peer (docs/protocol.md), the rest for control
 * messages. A stream collector of 600 symbols gets more exchange messages than that; sent one
 * frame each, the hub dropped them and cut the connection for flooding. Closer frames wait (at
 * most a timer's millisecond) and leave as one.
 */
const MIN_FRAME_GAP_MS = 0.4;

/**
 * The fewest bytes of exchange JSON one record comes from (a REST kline row, a bookTicker or an
 * account position is 60–400 bytes): bounds how many records a raw body can add.
 */
const MIN_JSON_BYTES_PER_RECORD = 40;

/**
 * Where collectors push records: the encoder's push calls, each preceded by a flush when the
 * records could take the pending frame past the hub's cap, and long lists pushed in pieces. So a
 * burst (after a stall, a reconnect, a full backfill) leaves as several frames under the cap
 * instead of one the hub refuses.
 */
export class IngestSink {
  readonly #link: IngestLink;

  constructor(link: IngestLink) {
    this.#link = link;
  }

  /** Websocket `kline` / `bookTicker` messages (at most one record each), in pieces under the cap. */
  pushMarketEvents(messages: Buffer[]): IngestPushResult {
    const result: IngestPushResult = { added: 0, failures: [] };
    const piece = this.#link.recordBudget;
    for (let start = 0; start < messages.length; start += piece) {
      const chunk = messages.slice(start, start + piece);
      this.#link.makeRoom(chunk.length);
      const part = this.#link.currentEncoder.pushMarketEvents(chunk);
      result.added += part.added;
      for (const failure of part.failures) result.failures.push({ ...failure, index: failure.index + start });
    }
    return result;
  }

  pushKlines(symbolId: number, interval: IntervalName, klines: Kline[]): void {
    const piece = this.#link.recordBudget;
    for (let start = 0; start < klines.length; start += piece) {
      const chunk = klines.slice(start, start + piece);
      this.#link.makeRoom(chunk.length);
      this.#link.currentEncoder.pushKlines(symbolId, interval, chunk);
    }
  }

  pushRestKlines(symbolId: number, interval: IntervalName, body: Uint8Array, serverTimeMs: number): number {
    this.#link.makeRoom(this.#bound(body));
    return this.#link.currentEncoder.pushRestKlines(symbolId, interval, body, serverTimeMs);
  }

  pushRestBookTickers(body: Uint8Array): number {
    this.#link.makeRoom(this.#bound(body));
    return this.#link.currentEncoder.pushRestBookTickers(body);
  }

  /** Every symbol's mark price and funding from one `!markPrice@arr@1s` message. */
  pushMarkPrices(message: Uint8Array): number {
    this.#link.makeRoom(this.#bound(message));
    return this.#link.currentEncoder.pushMarkPrices(message);
  }

  /** Mark prices and funding from a `premiumIndex` body (the fallback while the stream is down). */
  pushPremiumIndex(body: Uint8Array): number {
    this.#link.makeRoom(this.#bound(body));
    return this.#link.currentEncoder.pushPremiumIndex(body);
  }

  /** Latest traded prices (`ticker/price`): the ticks that correct open bars. */
  pushRestPriceTickers(body: Uint8Array): number {
    this.#link.makeRoom(this.#bound(body));
    return this.#link.currentEncoder.pushRestPriceTickers(body);
  }

  /**
   * An account body's positions and balances. With `completeAsOf` (a whole account, fetched at
   * that exchange time or later) they are marked as every non-flat position then, in the same
   * frame: v3 leaves flat symbols out, and the hub sets a held position the list lacks to flat.
   */
  pushAccount(body: Uint8Array, completeAsOf?: number): number {
    this.#link.makeRoom(this.#bound(body) + 1);
    const added = this.#link.currentEncoder.pushAccount(body);
    if (completeAsOf !== undefined) this.#link.currentEncoder.markPositionsComplete(completeAsOf);
    return added;
  }

  /** A positionRisk body's positions; `completeAsOf` as for {@link pushAccount} (every symbol's list only). */
  pushPositionRisk(body: Uint8Array, completeAsOf?: number): number {
    this.#link.makeRoom(this.#bound(body) + 1);
    const added = this.#link.currentEncoder.pushPositionRisk(body);
    if (completeAsOf !== undefined) this.#link.currentEncoder.markPositionsComplete(completeAsOf);
    return added;
  }

  pushUserEvent(message: Uint8Array): number {
    this.#link.makeRoom(this.#bound(message));
    return this.#link.currentEncoder.pushUserEvent(message);
  }

  setBanList(list: BanList): void {
    this.#link.makeRoom(1);
    this.#link.currentEncoder.setBanList(list);
  }

  /** Records waiting to be sent. */
  get pending(): number {
    return this.#link.currentEncoder.pending;
  }

  /** The most records a raw exchange body can hold. */
  #bound(body: Uint8Array): number {
    return Math.ceil(body.length / MIN_JSON_BYTES_PER_RECORD);
  }
}

/**
 * Keeps an `IngestEncoder` on the hub's symbol registry (ids are registry positions, so the encoder
 * is rebuilt when the hub's list stops being an extension of ours, e.g. after a hub restart with a
 * new universe) and sends its frames to the hub, each under the hub's message cap (the `welcome`
 * says it). Frames built while the hub is away are dropped and counted: collectors poll again, so
 * the next poll carries the current state. What the hub refuses is counted and kept for status.
 */
export class IngestLink {
  readonly #hub: CollectorHub;
  readonly #log: Logger;
  #symbols: string[] = [];
  #encoder = new IngestEncoder([]);
  readonly #sink = new IngestSink(this);
  readonly counters: IngestCounters = {
    framesSent: 0,
    framesDropped: 0,
    recordsSent: 0,
    framesRefused: 0,
    recordsRefused: 0,
    framesPaced: 0,
    lastRefusal: null,
  };
  readonly #unsubscribe: (() => void)[] = [];
  /** When the last frame was taken (`performance.now()`), for the pacing. */
  #lastFrameAt = Number.NEGATIVE_INFINITY;
  /** The timer that sends what waited for the pacing. */
  #paced: NodeJS.Timeout | undefined;

  constructor(hub: CollectorHub, logger: Logger) {
    this.#hub = hub;
    this.#log = logger;
    this.#sync(hub.symbols);
    this.#unsubscribe.push(
      hub.onState((state) => {
        if (state === 'ready') this.#sync(hub.symbols);
      }),
      hub.onMessage((message) => {
        if (message.op === 'symbols') this.#sync(message.symbols);
        // Errors naming a frame (or records of one) are about data this link sent.
        else if (message.op === 'error' && (message.frame !== undefined || message.code === 'invalid_record'))
          this.#refused(message);
      }),
    );
  }

  /** Where to push records; re-read it after an `await`, the encoder behind it may have been rebuilt. */
  get encoder(): IngestSink {
    return this.#sink;
  }

  /** The encoder records go into now (the sink's; collectors push through {@link encoder}). */
  get currentEncoder(): IngestEncoder {
    return this.#encoder;
  }

  /** Symbol names in registry order (index = id). */
  get symbols(): readonly string[] {
    return this.#symbols;
  }

  /** The hub's id of `symbol`, or undefined when the registry does not list it. */
  symbolId(symbol: string): number | undefined {
    return this.#encoder.symbolId(symbol) ?? undefined;
  }

  /** Whether the hub is connected and has a registry. */
  get ready(): boolean {
    return this.#hub.state === 'ready' && this.#symbols.length > 0;
  }

  /** The hub's cap on one message. */
  get maxFrameBytes(): number {
    return this.#hub.welcome?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Records one frame may hold and stay under the cap whatever they are. */
  get recordBudget(): number {
    return Math.max(1, Math.floor((this.maxFrameBytes - FRAME_OVERHEAD_BYTES) / MAX_RECORD_BYTES));
  }

  /** Sends what is pending first when `records` more could take the frame past the cap. */
  makeRoom(records: number): void {
    const pending = this.#encoder.pending;
    if (pending > 0 && pending + records > this.recordBudget) this.#flushNow(Date.now());
  }

  #sync(symbols: readonly string[]): void {
    const extends_ =
      symbols.length >= this.#symbols.length && this.#symbols.every((s, i) => symbols[i] === s);
    if (extends_) {
      const added = symbols.slice(this.#symbols.length);
      if (added.length > 0) this.#encoder.addSymbols([...added]);
    } else {
      this.#log.warn('hub symbol registry changed order; rebuilding the encoder', {
        before: this.#symbols.length,
        after: symbols.length,
      });
      this.#encoder = new IngestEncoder([...symbols]);
    }
    this.#symbols = [...symbols];
  }

  /**
   * Sends every pending record as one Ingest frame; true when a frame went to the hub. Within
   * {@link MIN_FRAME_GAP_MS} of the last frame the records wait for the next one (false), sent
   * by a timer if nothing else comes.
   */
  flush(now: number = Date.now()): boolean {
    if (this.#tooSoon()) {
      this.#defer();
      return false;
    }
    return this.#flushNow(now);
  }

  /** Whether a frame of the pending records now would come within {@link MIN_FRAME_GAP_MS} of the last. */
  #tooSoon(): boolean {
    return this.#encoder.pending > 0 && this.#withinGap();
  }

  /** Whether now is within {@link MIN_FRAME_GAP_MS} of the last frame. */
  #withinGap(): boolean {
    return performance.now() - this.#lastFrameAt < MIN_FRAME_GAP_MS;
  }

  /** Leaves the pending records for the pacing timer (one at a time). */
  #defer(): void {
    this.counters.framesPaced += 1;
    if (this.#paced !== undefined) return;
    this.#paced = setTimeout(() => {
      this.#paced = undefined;
      this.#flushNow(Date.now());
    }, 1);
  }

  #flushNow(now: number): boolean {
    if (this.#paced !== undefined) {
      clearTimeout(this.#paced);
      this.#paced = undefined;
    }
    const records = this.#encoder.pending;
    let frame: Buffer | null;
    try {
      frame = this.#encoder.takeFrame(this.#hub.peerId, now);
    } catch (error) {
      if (!(error instanceof NativeError)) throw error;
      this.#unencodable(records, error);
      return false;
    }
    return this.#send(frame, records);
  }

  /**
   * One websocket message sent at once with whatever is pending, as one frame: push and take in
   * one native call, half the fixed cost of a push and a flush (a quiet stream sends its
   * messages one by one). Parse failures come back as from `encoder.pushMarketEvents`.
   */
  sendMarketEvent(message: Buffer, now: number = Date.now()): IngestPushResult {
    let pending = this.#encoder.pending;
    if (pending + 1 > this.recordBudget) {
      this.#flushNow(now);
      pending = 0;
    }
    if (this.#withinGap()) {
      // Too soon after the last frame: this one waits for the next, with what is pending.
      const result = this.#encoder.pushMarketEvents([message]);
      this.#defer();
      return result;
    }
    const { added, failures, frame, encodeError } = this.#encoder.pushAndTakeFrame(
      message,
      this.#hub.peerId,
      now,
    );
    if (encodeError !== null) this.#unencodable(pending + added, encodeError);
    else this.#send(frame, pending + added);
    return { added, failures };
  }

  /**
   * A value no frame can carry (far outside any price the exchange sends): the encoder dropped
   * the batch, so the next one goes out; this one is counted and logged, never retried.
   */
  #unencodable(records: number, error: NativeError): void {
    this.counters.framesDropped += 1;
    this.#log.error('ingest batch could not be encoded; dropped', {
      records,
      code: error.code,
      message: error.message,
    });
  }

  /** Sends one frame of `records` records under the hub's cap; true when it went to the hub. */
  #send(frame: Buffer | null, records: number): boolean {
    if (frame === null) return false;
    if (frame.length > this.maxFrameBytes) {
      // Only a raw body far larger than any the exchange sends can get here (makeRoom bounds the rest).
      this.counters.framesDropped += 1;
      this.#log.error('ingest frame over the hub cap not sent', {
        bytes: frame.length,
        cap: this.maxFrameBytes,
        records,
      });
      return false;
    }
    if (this.#hub.state !== 'ready' || !this.#hub.sendIngest(frame)) {
      this.counters.framesDropped += 1;
      return false;
    }
    this.#lastFrameAt = performance.now();
    this.counters.framesSent += 1;
    this.counters.recordsSent += records;
    return true;
  }

  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#paced !== undefined) clearTimeout(this.#paced);
    this.#paced = undefined;
  }

  #refused(error: ServerError): void {
    if (error.code === 'invalid_record') this.counters.recordsRefused += error.records ?? 1;
    else this.counters.framesRefused += 1 + (error.suppressed ?? 0);
    this.counters.lastRefusal = `${error.code}: ${error.message} (${error.hint})`;
  }
}
