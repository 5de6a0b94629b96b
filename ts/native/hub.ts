// Typed facade over the collector's IngestEncoder and the hub's HubBook.
import type {
  BalanceEntry,
  HubBookOptions,
  IngestManyResult,
  KlineEntry,
  MarkEntry,
  MergeStatsObject,
  ParseFailure,
  PositionEntry,
  RejectedRecord,
  TickEntry,
  TopicFailureObject,
  TopicFilterObject,
  TurnIssues,
} from '../../bindings/index.cjs';
import { binding, hotCalls } from './binding.js';
import type { IntervalName } from './interval.js';
import { sharedGather } from './message-gather.js';
import { callNative, NativeError } from './native-error.js';
import type { Balance, BanList, Kline, Mark, Position, PositionSide, Tick } from './records.js';

export type {
  BalanceEntry,
  HubBookOptions,
  IngestManyResult,
  KlineEntry,
  MarkEntry,
  MergeStatsObject,
  ParseFailure,
  PositionEntry,
  RejectedRecord,
  TickEntry,
  TopicFailureObject as TopicFailure,
};

/** Records added by a batch call, and the messages that could not be used. */
export interface IngestPushResult {
  added: number;
  failures: ParseFailure[];
}

/** A websocket message pushed and every pending record taken as one frame, in one native call. */
export interface FramedPush extends IngestPushResult {
  /** The Ingest frame, or null when nothing was pending and the message added nothing. */
  frame: Buffer | null;
  /** Why the pending records could not be encoded (the encoder dropped them), or null. */
  encodeError: NativeError | null;
}

/** One stream's Delta frame of a turn. */
export interface TopicFrame {
  stream: number;
  seq: number;
  frame: Buffer;
}

/**
 * How a turn's Delta frames come back: each with its own bytes, or as views over the book's
 * native scratch that its next turn call overwrites.
 */
export type TurnFramesAs = 'copies' | 'views';

/** The pending deltas as one Delta frame per stream with a matching delta. */
export interface TopicFramesResult {
  /** Deltas encoded, one per entity changed (before topic filtering). */
  deltas: number;
  frames: TopicFrame[];
  failures: TopicFailureObject[];
}

/** What one hub turn did: the merge's counts and refusals, and the frames to publish. */
export interface IngestTurnResult {
  changed: number;
  unchanged: number;
  dropped: number;
  refused: RejectedRecord[];
  undecodable: ParseFailure[];
  /** Deltas encoded: one per entity changed in the turn. */
  deltas: number;
  /** Deltas dropped because a newer version of the same entity came later in the turn. */
  superseded: number;
  frames: TopicFrame[];
  encodeFailures: TopicFailureObject[];
}

/** Stable labels of refused records (`RejectedRecord.code`). */
export type RefusalReason =
  | 'unknown_symbol'
  | 'time_in_future'
  | 'time_too_old'
  | 'invalid_kline'
  | 'invalid_tick'
  | 'invalid_mark'
  | 'unrepresentable'
  | 'symbol_out_of_range';

/** Entity kinds a subscription topic selects. */
export type TopicKind = 'kline' | 'tick' | 'position' | 'balance' | 'banlist' | 'mark';

/**
 * What a subscription stream carries: absent lists mean "every" (symbols registered later
 * included). Balances and the ban list are account-wide: only `kinds` selects them.
 */
export interface TopicFilter {
  symbols?: number[];
  kinds?: TopicKind[];
  intervals?: IntervalName[];
}

/**
 * The Delta frame encoding a stream's subscribers speak: 1, TRB1 frames with every changed
 * entity whole; 2, compact frames whose kline rows are differences from the version the
 * subscriber holds (docs/protocol.md, Compact Delta frames); 3, compact frames that also carry
 * their ticks as compact rows (Compact tick rows). Snapshots are TRB1 frames on all three.
 */
export type WireVersion = 1 | 2 | 3;

/**
 * Collector side: parses exchange payloads into records keyed by the hub's symbol ids and encodes
 * them as Ingest frames. Symbols the registry does not know are skipped and counted.
 */
export class IngestEncoder {
  /** The native encoder, for the facade's own native calls that fill it (`StreamBars`). */
  readonly native: InstanceType<typeof binding.IngestEncoder>;
  /** `[added, failed]` of the last `pushMarketEvents`: a live view the native call writes. */
  readonly #pushCounts: Uint32Array;
  /** Where the native encoder writes each frame: a live view over native memory, copied out by `takeFrame`. */
  readonly #scratch: Uint8Array;

  /** `symbols` in the hub's registry order: the id of a symbol is its position. */
  constructor(symbols: string[]) {
    this.native = callNative(() => new binding.IngestEncoder(symbols));
    this.#pushCounts = this.native.pushCounts();
    this.#scratch = this.native.frameScratch();
  }

  addSymbols(symbols: string[]): void {
    callNative(() => this.native.addSymbols(symbols));
  }

  symbolId(symbol: string): number | null {
    return callNative(() => this.native.symbolId(symbol));
  }

  /** Websocket `kline` / `bookTicker` messages, in one native call. */
  pushMarketEvents(messages: Buffer[]): IngestPushResult {
    // The native call returns a number and writes its failure count to `#pushCounts`: a result
    // object built natively would cost more than parsing a message (docs/benchmarks-journal.md). Several
    // messages cross gathered into one buffer (an array costs a Node-API lookup per message).
    const added =
      messages.length === 1
        ? this.native.pushMarketEvent(messages[0] as Buffer)
        : this.#pushGathered(messages);
    return { added, failures: this.#pushCounts[1] === 0 ? [] : this.native.takeFailures() };
  }

  #pushGathered(messages: Buffer[]): number {
    const count = sharedGather.gather(messages);
    return callNative(() =>
      this.native.pushGatheredMarketEvents(sharedGather.bytes, sharedGather.ends, count),
    );
  }

  pushRestKlines(symbolId: number, interval: IntervalName, body: Uint8Array, serverTimeMs: number): number {
    return callNative(() => this.native.pushRestKlines(symbolId, interval, body, serverTimeMs));
  }

  /** Book ticks (bid/ask) of a `ticker/bookTicker` body: for execution, never for klines. */
  pushRestBookTickers(body: Uint8Array): number {
    return callNative(() => this.native.pushRestBookTickers(body));
  }

  /** Latest traded prices of a `ticker/price` body: ticks without a book that correct open bars. */
  pushRestPriceTickers(body: Uint8Array): number {
    return callNative(() => this.native.pushRestPriceTickers(body));
  }

  pushAccount(body: Uint8Array): number {
    return callNative(() => this.native.pushAccount(body));
  }

  pushPositionRisk(body: Uint8Array): number {
    return callNative(() => this.native.pushPositionRisk(body));
  }

  /**
   * Says the positions just pushed (a full account or positionRisk list) are every non-flat
   * position as of `asOf` (exchange ms, a time the exchange had surely reached when it made the
   * list): the hub sets every older position it holds that they leave out to flat.
   */
  markPositionsComplete(asOf: number): void {
    callNative(() => this.native.markPositionsComplete(asOf));
  }

  pushUserEvent(message: Uint8Array): number {
    return callNative(() => this.native.pushUserEvent(message));
  }

  /** Bars given as objects with exact decimal strings (a stream collector's bars go through `StreamBars` instead). */
  pushKlines(symbolId: number, interval: IntervalName, klines: Kline[]): void {
    callNative(() => this.native.pushKlines(symbolId, interval, klines));
  }

  pushTick(symbolId: number, tick: Tick): void {
    callNative(() => this.native.pushTick(symbolId, tick));
  }

  /** A mark price / funding record of a symbol (merged by `time`, newest wins). */
  pushMark(symbolId: number, mark: Mark): void {
    callNative(() => this.native.pushMark(symbolId, mark));
  }

  /** Every symbol's mark price and funding from one `!markPrice@arr@1s` message. */
  pushMarkPrices(message: Uint8Array): number {
    return callNative(() => this.native.pushMarkPrices(message));
  }

  /** Mark prices and funding from a `GET /fapi/v1/premiumIndex` body (the stream's fallback). */
  pushPremiumIndex(body: Uint8Array): number {
    return callNative(() => this.native.pushPremiumIndex(body));
  }

  pushPosition(symbolId: number, position: Position): void {
    callNative(() => this.native.pushPosition(symbolId, position));
  }

  pushBalance(balance: Balance): void {
    callNative(() => this.native.pushBalance(balance));
  }

  setBanList(list: BanList): void {
    this.native.setBanList(list);
  }

  /** Records waiting to be sent. */
  get pending(): number {
    return this.native.pending;
  }

  /** Records skipped so far because their symbol is not registered. */
  get unknownSymbols(): number {
    return this.native.unknownSymbols;
  }

  /** One Ingest frame with every waiting record, or null when there is none. */
  takeFrame(source: number, sentAt: number): Buffer | null {
    return this.#frameOfLength(callNative(() => this.native.takeFrameToScratch(source, sentAt)));
  }

  /**
   * `pushMarketEvents([message])` then `takeFrame(source, sentAt)` in one native call, half the
   * per-call cost of the two: how a lone websocket message (a quiet stream) goes out. Never
   * throws for an encode failure: the push's result comes back with `encodeError`.
   */
  pushAndTakeFrame(message: Buffer, source: number, sentAt: number): FramedPush {
    let length = 0;
    let encodeError: NativeError | null = null;
    try {
      length = callNative(() => this.native.pushMarketEventAndTakeFrame(message, source, sentAt));
    } catch (error) {
      if (!(error instanceof NativeError)) throw error;
      encodeError = error;
    }
    const added = this.#pushCounts[0] ?? 0;
    const failures = this.#pushCounts[1] === 0 ? [] : this.native.takeFailures();
    return { added, failures, frame: this.#frameOfLength(length), encodeError };
  }

  /** The frame the native encoder just wrote into the scratch (or held, when larger). */
  #frameOfLength(length: number): Buffer | null {
    if (length === 0) return null;
    if (length > this.#scratch.length) return this.native.takeHeldFrame();
    // A copy into a pooled Buffer costs a tenth of a Buffer made natively (docs/benchmarks-journal.md).
    const frame = Buffer.allocUnsafe(length);
    frame.set(this.#scratch.subarray(0, length));
    return frame;
  }
}

/** A turn's frames from the native flat list `[stream, seq, frame, ...]`. */
function topicFrames(flat: unknown[]): TopicFrame[] {
  const frames: TopicFrame[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    frames.push({ stream: flat[i] as number, seq: flat[i + 1] as number, frame: flat[i + 2] as Buffer });
  }
  return frames;
}

/**
 * The hub's book: merges Ingest frames from every collector by the data's own exchange time and
 * yields Delta frames (only what changed) and Snapshot frames (everything), per subscription topic.
 *
 * Every record is checked before it enters the book: its symbol id must be registered
 * (`symbols` / `addSymbols`), its exchange times must lie within `maxFutureMs` ahead of and
 * `maxAgeMs` behind the hub's clock, and the book must be able to encode the result. What fails
 * is refused with a {@link RefusalReason}, counted (`stats().refused`) and never changes the book.
 *
 * One call per hub turn: {@link HubBook.ingestTurn}. Snapshots of any size:
 * {@link HubBook.topicSnapshotFrames}.
 */
export class HubBook {
  readonly #native: InstanceType<typeof binding.HubBook>;
  /** Changed, unchanged, dropped and refused bars of the last `mergeRestKlines`: a live view. */
  readonly #restCounts: Uint32Array;
  /**
   * Changed, unchanged, dropped, deltas, refused, undecodable, encode failures and superseded deltas of the last
   * `ingestTurn` / `ingestFrom` / `takeTopicFrames` (and a ninth, 1 when the turn's frames spilled):
   * a live view the native calls write, so a turn returns no native object (building one costs
   * more than merging a one-update frame).
   */
  readonly #turnCounts: Uint32Array;
  /** Where a turn call writes its Delta frames back to back: a live view over native memory. */
  readonly #turnScratch: Uint8Array;
  /** `[stream, seq, length]` of each frame in `#turnScratch`: a live view over native memory. */
  readonly #turnIndex: Float64Array;
  /** This book's handle for the raw one-frame turn (`hotCalls.hubIngestOne`). */
  readonly #hot: number;

  constructor(options: HubBookOptions = {}) {
    this.#native = callNative(() => new binding.HubBook(options));
    this.#restCounts = this.#native.restCounts();
    this.#turnCounts = this.#native.turnCounts();
    this.#turnScratch = this.#native.turnScratch();
    this.#turnIndex = this.#native.turnFrameIndex();
    this.#hot = this.#native.hotHandle();
  }

  /** Appends symbols to the registry: a symbol's id is its position; ids only grow. */
  addSymbols(symbols: string[]): void {
    callNative(() => this.#native.addSymbols(symbols));
  }

  /** Symbols registered. */
  get symbolCount(): number {
    return this.#native.symbolCount;
  }

  /**
   * One hub turn in one native call: merges every Ingest frame of the turn, crediting frame `i` to
   * peer `sources[i]` (whatever the frame claims) and to the hub's clock `now` (which records' times
   * are checked against), then encodes one Delta frame per topic with a matching change.
   * Refused records (`refused`, each with its frame index and reason) and undecodable frames
   * (`undecodable`) are reported, never thrown; `frames` are ready to publish.
   *
   * `framesAs`: `'copies'` (the default) gives each frame its own bytes; `'views'` gives Buffers
   * over the book's native scratch, which the book's next turn call overwrites: for a caller that
   * hands them at once to something that copies them (a transport whose `publish` copies).
   */
  ingestTurn(
    frames: Buffer[],
    sources: number[],
    now: number,
    framesAs: TurnFramesAs = 'copies',
  ): IngestTurnResult {
    // A turn of one frame (every turn at low rates) goes without the two arrays, whose conversion
    // costs more than merging a one-update frame, and through the raw Node-API call, without
    // napi-rs's per-call bookkeeping.
    const count = callNative(() =>
      frames.length === 1 && sources.length === 1
        ? hotCalls.hubIngestOne(this.#hot, frames[0] as Buffer, sources[0] as number, now)
        : this.#native.ingestTurnToScratch(frames, sources, now),
    );
    const counts = this.#turnCounts;
    const issues = this.#issues();
    return {
      changed: counts[0] ?? 0,
      unchanged: counts[1] ?? 0,
      dropped: counts[2] ?? 0,
      refused: issues?.refused ?? [],
      undecodable: issues?.undecodable ?? [],
      deltas: counts[3] ?? 0,
      superseded: counts[7] ?? 0,
      frames: this.#turnFrames(count, framesAs),
      encodeFailures: issues?.encodeFailures ?? [],
    };
  }

  /**
   * The `count` frames of the last turn call, each copied out of the native scratch into a pooled
   * Buffer (a transport may keep a frame queued after `publish` returns), or as a Buffer over the
   * scratch itself when the caller asked for views; a turn too large for the scratch spilled and
   * comes as Buffers made natively.
   */
  #turnFrames(count: number, framesAs: TurnFramesAs): TopicFrame[] {
    if (count === 0) return [];
    if (this.#turnCounts[8] === 1) return topicFrames(this.#native.takeSpilledFrames());
    const index = this.#turnIndex;
    const scratch = this.#turnScratch;
    const frames: TopicFrame[] = [];
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = index[i * 3 + 2] as number;
      let frame: Buffer;
      if (framesAs === 'views') {
        frame = Buffer.from(scratch.buffer, scratch.byteOffset + offset, length);
      } else {
        // A copy into a pooled Buffer costs a tenth of a Buffer made natively (docs/benchmarks-journal.md).
        frame = Buffer.allocUnsafe(length);
        frame.set(scratch.subarray(offset, offset + length));
      }
      offset += length;
      frames.push({ stream: index[i * 3] as number, seq: index[i * 3 + 1] as number, frame });
    }
    return frames;
  }

  /** The refusals and failures of the last turn call, taken only when its counts show any. */
  #issues(): TurnIssues | undefined {
    const counts = this.#turnCounts;
    if ((counts[4] ?? 0) + (counts[5] ?? 0) + (counts[6] ?? 0) === 0) return undefined;
    return this.#native.takeTurnIssues();
  }

  /**
   * The Snapshot of a topic as of its current seq, as chunk frames (each at most the chunk budget,
   * default 1 MiB) to send in order, back to back; a subscriber applies them once all arrived.
   * Throws `unknown_stream` for no such topic.
   */
  topicSnapshotFrames(stream: number, sentAt: number): Buffer[] {
    return callNative(() => this.#native.topicSnapshotFrames(stream, sentAt));
  }

  /**
   * Parses and merges raw websocket `kline` / `bookTicker` messages in one native call: the path
   * for a collector running as a task inside the hub's process (no Ingest frame in between).
   * Needs the registry; unknown symbols are skipped.
   */
  mergeMarketEvents(messages: Buffer[], source: number, receivedAt: number): IngestManyResult {
    const count = sharedGather.gather(messages);
    return callNative(() =>
      this.#native.mergeGatheredMarketEvents(
        sharedGather.bytes,
        sharedGather.ends,
        count,
        source,
        receivedAt,
      ),
    );
  }

  /** Parses and merges raw user-data messages (`ACCOUNT_UPDATE` positions and balances). */
  mergeUserEvents(messages: Buffer[], source: number, receivedAt: number): IngestManyResult {
    const count = sharedGather.gather(messages);
    return callNative(() =>
      this.#native.mergeGatheredUserEvents(sharedGather.bytes, sharedGather.ends, count, source, receivedAt),
    );
  }

  /** Parses and merges a `GET /fapi/v1/klines` body for one series. */
  mergeRestKlines(
    symbolId: number,
    interval: IntervalName,
    body: Uint8Array,
    serverTimeMs: number,
    source: number,
    receivedAt: number,
  ): IngestManyResult {
    // The native call writes its counts into `#restCounts` (native memory) and returns how many
    // bars it refused: a JS result built here costs less than a native one per poll. It is the raw
    // Node-API call, without napi-rs's per-call bookkeeping (a tenth of a 45-row poll's work).
    const refused = callNative(() =>
      hotCalls.hubMergeRestKlines(this.#hot, symbolId, interval, body, serverTimeMs, source, receivedAt),
    );
    const counts = this.#restCounts;
    return {
      changed: counts[0] ?? 0,
      unchanged: counts[1] ?? 0,
      dropped: counts[2] ?? 0,
      rejected: refused === 0 ? [] : this.#native.takeRejected(),
      failures: [],
    };
  }

  /**
   * Merges a turn's Ingest frames in one native call, crediting frame `i` to `sources[i]` (the id
   * the hub gave its sender) whatever the frame claims; undecodable frames are listed in
   * `failures`. Their deltas wait for {@link HubBook.takeTopicFrames} (`ingestTurn` does both).
   */
  ingestFrom(frames: Buffer[], sources: number[], receivedAt: number): IngestManyResult {
    callNative(() => this.#native.ingestFrom(frames, sources, receivedAt));
    const counts = this.#turnCounts;
    const issues = this.#issues();
    return {
      changed: counts[0] ?? 0,
      unchanged: counts[1] ?? 0,
      dropped: counts[2] ?? 0,
      rejected: issues?.refused ?? [],
      failures: issues?.undecodable ?? [],
    };
  }

  /**
   * Merges one Ingest frame from peer `source` at the hub's clock `receivedAt`; its deltas wait.
   * An undecodable frame throws a {@link NativeError} with the codec's reason.
   */
  ingest(frame: Buffer, source: number, receivedAt: number): IngestManyResult {
    const result = this.ingestFrom([frame], [source], receivedAt);
    const failure = result.failures[0];
    if (failure !== undefined) throw new NativeError(failure.code, failure.message);
    return result;
  }

  get pendingDeltas(): number {
    return this.#native.pendingDeltas;
  }

  /** Drops the pending deltas without encoding them (nobody subscribed); returns how many. */
  discardDeltas(): number {
    return callNative(() => hotCalls.hubDiscardDeltas(this.#hot));
  }

  /** Every pending delta as one Delta frame of `stream` numbered `seq`; null when nothing changed. */
  takeDeltaFrame(stream: number, seq: number, sentAt: number): Buffer | null {
    return callNative(() => this.#native.takeDeltaFrame(stream, seq, sentAt));
  }

  /** A Snapshot frame of everything, or of `symbols` only (plus balances and the ban list), in one frame. */
  snapshotFrame(stream: number, seq: number, sentAt: number, symbols?: number[]): Buffer {
    return callNative(() => this.#native.snapshotFrame(stream, seq, sentAt, symbols));
  }

  /** Adds subscription stream `stream` (not 0) whose Delta frames use `wire`; its seq starts at 0. */
  addTopic(stream: number, filter: TopicFilter, wire: WireVersion = 1): void {
    const native: TopicFilterObject = {};
    if (filter.symbols !== undefined) native.symbols = filter.symbols;
    if (filter.kinds !== undefined) native.kinds = filter.kinds;
    if (filter.intervals !== undefined) native.intervals = filter.intervals;
    callNative(() => this.#native.addTopic(stream, native, wire));
  }

  /** The hub turn of the last publication of stream frames (1 before the first). */
  get turn(): number {
    return this.#native.turn;
  }

  /** Bars whose last published version is kept as the base of their next wire-2 row. */
  get klineBases(): number {
    return this.#native.klineBases;
  }

  /** Removes a stream; false when it did not exist. */
  removeTopic(stream: number): boolean {
    return this.#native.removeTopic(stream);
  }

  /** The seq of the stream's last Delta frame (0 before the first); null for no such stream. */
  topicSeq(stream: number): number | null {
    return this.#native.topicSeq(stream);
  }

  /**
   * The pending deltas as one Delta frame per stream with a matching delta (each numbered with
   * its stream's next seq), encoded in one native call; clears the pending deltas.
   */
  takeTopicFrames(sentAt: number): TopicFramesResult {
    const count = this.#native.takeTopicFramesToScratch(sentAt);
    return {
      deltas: this.#turnCounts[3] ?? 0,
      frames: this.#turnFrames(count, 'copies'),
      failures: this.#issues()?.encodeFailures ?? [],
    };
  }

  /**
   * The Snapshot frame of a stream as of its current seq in one frame; throws `unknown_stream` for
   * no such stream and `too_large` past the 16 MiB frame limit (use {@link HubBook.topicSnapshotFrames}).
   */
  topicSnapshotFrame(stream: number, sentAt: number): Buffer {
    return callNative(() => this.#native.topicSnapshotFrame(stream, sentAt));
  }

  klines(symbolId: number, interval: IntervalName): KlineEntry[] {
    return callNative(() => this.#native.klines(symbolId, interval));
  }

  tick(symbolId: number): TickEntry | null {
    return this.#native.tick(symbolId);
  }

  /** Mark price, index price and funding of a symbol, with who supplied them. */
  mark(symbolId: number): MarkEntry | null {
    return this.#native.mark(symbolId);
  }

  position(symbolId: number, side: PositionSide): PositionEntry | null {
    return callNative(() => this.#native.position(symbolId, side));
  }

  balance(asset: string): BalanceEntry | null {
    return callNative(() => this.#native.balance(asset));
  }

  banList(): BanList {
    return this.#native.banList();
  }

  /** The merge book's counters per entity kind, and the records refused so far by reason. */
  stats(): MergeStatsObject {
    return this.#native.stats();
  }
}
