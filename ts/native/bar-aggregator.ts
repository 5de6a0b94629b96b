// Typed facade over the native bar aggregator: bars as objects (BarAggregator), or straight into a collector's Ingest batch (StreamBars).
import type {
  AggregatorStatsObject,
  BackfillPageObject,
  BarObject,
  HoldStatsObject,
  IdGapObject,
  RejectedMessage,
  StreamBarsResult,
} from '../../bindings/index.cjs';
import { binding } from './binding.js';
import type { IngestEncoder } from './hub.js';
import type { IntervalName } from './interval.js';
import { sharedGather } from './message-gather.js';
import { callNative } from './native-error.js';

export type { AggregatorStatsObject, BackfillPageObject, BarObject, HoldStatsObject, StreamBarsResult };

/** What one {@link BarAggregator.pushMessages} batch did. */
export interface AggregatorBatchResult {
  /** Bars the batch closed (empty bars included), grouped by interval, in time order. */
  closed: BarObject[];
  /** Aggregate trade ids that never arrived: backfill those bars (REST klines). */
  gaps: IdGapObject[];
  rejected: RejectedMessage[];
  accepted: number;
  duplicates: number;
  late: number;
}

/**
 * Builds bars of one symbol for several intervals from raw `aggTrade` websocket messages, equal
 * field for field to the exchange's own klines. Duplicate and late trades are dropped and counted;
 * an id gap is reported so the collector can backfill the affected bars through REST klines.
 */
export class BarAggregator {
  readonly #native: InstanceType<typeof binding.Aggregator>;
  /** Accepted, duplicates, late, closed, gaps, rejected of the last batch: a live view. */
  readonly #counts: Uint32Array;

  /** `intervals` defaults to 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d. */
  constructor(symbol: string, intervals?: IntervalName[]) {
    this.#native = callNative(() => new binding.Aggregator(symbol, intervals));
    this.#counts = this.#native.batchCounts();
  }

  /** Applies a batch of raw messages in order in one native call; bad ones are listed, not thrown. */
  pushMessages(messages: Buffer[]): AggregatorBatchResult {
    // The counts come through `#counts` (native memory) and the lists only when there are any:
    // a native result object would cost more than aggregating the batch's trades.
    const count = sharedGather.gather(messages);
    const listed = callNative(() => this.#native.pushGathered(sharedGather.bytes, sharedGather.ends, count));
    const counts = this.#counts;
    const details = listed === 0 ? undefined : this.#native.takeBatchDetails();
    return {
      closed: details?.closed ?? [],
      gaps: details?.gaps ?? [],
      rejected: details?.rejected ?? [],
      accepted: counts[0] ?? 0,
      duplicates: counts[1] ?? 0,
      late: counts[2] ?? 0,
    };
  }

  /** Closes bars whose window ended at or before `nowMs` (empty bars included). */
  advanceTo(nowMs: number): BarObject[] {
    return callNative(() => this.#native.advanceTo(nowMs));
  }

  openBar(interval: IntervalName): BarObject | null {
    return callNative(() => this.#native.openBar(interval));
  }

  stats(): AggregatorStatsObject {
    return this.#native.stats();
  }
}

/**
 * A stream collector's bars of one symbol, built from raw aggTrade messages and put straight into
 * its {@link IngestEncoder}'s batch without leaving native code. Only bars whose every trade the
 * collector saw are sent: bars opening at or after `completeFrom`, which starts at the
 * subscription time and moves forward past an aggTrade id gap that was not healed (to just after
 * the trade that revealed it) and past a lost connection ({@link StreamBars.markIncompleteUntil}).
 * Closed bars are final at the hub; the REST pollers and backfill supply the bars withheld here.
 *
 * With `holdGaps`, an id gap does not cost bars: the trade that revealed it and every later one
 * are put aside (a hold) while the collector fetches the missing ids by REST
 * ({@link StreamBars.missingFrom}, {@link StreamBars.addBackfillPage}); {@link StreamBars.resume}
 * then applies them in id order, each once, so every bar equals the exchange's. No bar closes by
 * time during a hold. {@link StreamBars.release} gives a hold up (the gap is applied as without
 * holding).
 */
export class StreamBars {
  readonly #native: InstanceType<typeof binding.StreamBars>;

  /**
   * `intervals` defaults to 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d; trades are complete from
   * `completeFromMs` (when the collector subscribed); `holdGaps` turns holds on.
   */
  constructor(
    symbol: string,
    intervals: IntervalName[] | undefined,
    completeFromMs: number,
    holdGaps = false,
  ) {
    this.#native = callNative(() => new binding.StreamBars(symbol, intervals, completeFromMs, holdGaps));
  }

  /**
   * Applies a batch of raw messages in order in one native call; the complete bars they closed and
   * each interval's open bar go into `encoder`'s batch. Bad messages are listed, not thrown;
   * `gaps` lists aggTrade ids that never arrived and were applied past (without a hold); `held`
   * counts trades put aside by a hold.
   */
  pushMessages(messages: Buffer[], encoder: IngestEncoder): StreamBarsResult {
    const count = sharedGather.gather(messages);
    return callNative(() =>
      this.#native.pushGathered(sharedGather.bytes, sharedGather.ends, count, encoder.native),
    );
  }

  /** Closes bars whose window ended at or before `nowMs` and puts the complete ones into `encoder`'s batch. */
  advanceTo(nowMs: number, encoder: IngestEncoder): StreamBarsResult {
    return callNative(() => this.#native.advanceTo(nowMs, encoder.native));
  }

  /** Trades before `timeMs` may be missing (a connection lost and restored then); never moves back. */
  markIncompleteUntil(timeMs: number): void {
    this.#native.markIncompleteUntil(timeMs);
  }

  /**
   * A lost connection was restored at `restoredAtMs`: true when a hold now waits until the next
   * stream trade or a REST page says which ids were lost; false when trades before it were marked
   * incomplete instead (no hold, or no trade applied yet).
   */
  expectAfterLoss(restoredAtMs: number): boolean {
    return this.#native.expectAfterLoss(restoredAtMs);
  }

  /**
   * Adds a `GET /fapi/v1/aggTrades` body fetched for the hold; `limit` is the page size asked
   * for (a shorter page: the exchange has nothing later yet). Throws a {@link NativeError} when
   * the body is not an aggTrades array (nothing changes then).
   */
  addBackfillPage(body: Uint8Array, limit: number): BackfillPageObject {
    return callNative(() => this.#native.addBackfillPage(body, limit));
  }

  /**
   * Applies up to `maxTrades` of the trades put aside, in id order, while ids follow each other
   * (all of them once released); the hold ends when nothing is left or known missing.
   */
  resume(encoder: IngestEncoder, maxTrades: number): StreamBarsResult {
    return this.#native.resume(encoder.native, maxTrades);
  }

  /** Gives the hold up; false when none is on. */
  release(): boolean {
    return this.#native.release();
  }

  /** Whether a hold is on. */
  get holding(): boolean {
    return this.#native.holding;
  }

  /** Trades put aside, not applied yet. */
  get heldTrades(): number {
    return this.#native.heldTrades;
  }

  /** The `fromId` to fetch while a hold waits for missing ids; null otherwise. */
  get missingFrom(): number | null {
    return this.#native.missingFrom;
  }

  /** The last missing id when known; null otherwise. */
  get missingUntil(): number | null {
    return this.#native.missingUntil;
  }

  holdStats(): HoldStatsObject {
    return this.#native.holdStats();
  }

  /** Bars opening before this time (Unix ms) are not sent. */
  get completeFrom(): number {
    return this.#native.completeFrom;
  }

  /**
   * Complete closed bars kept for {@link StreamBars.resend}: exactly those sent (never a withheld
   * one), per interval the last `max(2, ⌈30 min ÷ interval⌉)`, at most 32 (208 bytes each).
   */
  get retainedBars(): number {
    return this.#native.retainedBars;
  }

  /**
   * Pushes the kept complete closed bars (per interval, oldest first) and each interval's open bar
   * (when complete and no hold is on) into `encoder`'s batch again, for a hub that lost them (a
   * restart: frames built while it was away were dropped). Returns the bars pushed, at most
   * {@link StreamBars.retainedBars} plus one per interval. Harmless to a hub that has them: a
   * closed bar is final there, and an identical copy changes nothing.
   */
  resend(encoder: IngestEncoder): number {
    return this.#native.resend(encoder.native);
  }

  openBar(interval: IntervalName): BarObject | null {
    return callNative(() => this.#native.openBar(interval));
  }

  stats(): AggregatorStatsObject {
    return this.#native.stats();
  }
}
