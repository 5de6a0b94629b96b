// Fills the aggTrade id gaps of a stream collector's bars from REST aggTrades by id: paged, weight-paced, bounded, counted.
import { ClientClosedError, IpBannedError, RateLimitedError } from '../../ts/exchange/exchange-errors.js';
import { type Scheduler, systemScheduler } from '../../ts/exchange/scheduler.js';
import type { UsdmApi } from '../../ts/exchange/usdm-api.js';
import type { Logger } from '../../ts/log/logger.js';
import type { StreamBars } from '../../ts/native/bar-aggregator.js';
import type { IngestEncoder } from '../../ts/native/hub.js';

/** Where the bars a backfill completes go: the collector's hub link, which keeps frames under the hub's cap. */
export interface BarSink {
  readonly currentEncoder: IngestEncoder;
  /** Records one frame may hold. */
  readonly recordBudget: number;
  makeRoom(records: number): void;
  flush(): boolean;
}

/** The one REST call a backfill makes (`UsdmApi` has it; paced by its client's weight budget). */
export type AggTradesApi = Pick<UsdmApi, 'aggTrades'>;

export interface TradeBackfillOptions {
  /** Intervals each symbol's bars build: a trade closes at most one bar of each. */
  readonly intervals: number;
  /** Trades asked for per page (Binance allows 1 to 1000; default 1000). */
  readonly pageLimit?: number;
  /** Pages one hold may fetch before it is given up (default 10: 10,000 trades, weight 200). */
  readonly maxPages?: number;
  /** Tries per page, counting failed requests and pages that bring no missing id (default 3). */
  readonly maxAttempts?: number;
  /** Wait before the second try of a page, doubled for each later one (default 500 ms). */
  readonly retryDelayMs?: number;
  /** Trades a hold may put aside before it is given up (default 50,000). */
  readonly maxHeldTrades?: number;
  /** How long a hold may last before it is given up (default 60 s): bars do not close meanwhile. */
  readonly maxHoldMs?: number;
  /**
   * After a lost connection, how long the stream has to show (by its next trade's id) whether
   * trades were lost before REST is asked (default 2 s): a busy symbol answers by itself, free.
   */
  readonly probeMs?: number;
  readonly scheduler?: Scheduler;
}

/** How a hold ended: every id applied in order, or given up (the gap applied, its bars withheld). */
export type HoldOutcome = 'healed' | 'released';

/** What the backfills did since the collector started. */
export interface TradeBackfillCounters {
  /**
   * Tasks started (a symbol's bars began holding: an id gap in the stream, or a lost connection
   * after which the ids following the last one are checked), and how they ended. A hold that
   * ends while another begins under the same task counts once here; the bars' own counters
   * (`StreamBars.holdStats`) count every hold.
   */
  tasks: number;
  healed: number;
  released: number;
  /** REST aggTrades pages fetched, and requests that failed (each logged). */
  pages: number;
  pageFailures: number;
  /** Pages that brought no missing id (the exchange not there yet, or never: bounded by maxAttempts). */
  stalls: number;
  /** Rows fetched, rows already seen (stream or an earlier page: not counted twice), trades applied from them. */
  tradesFetched: number;
  duplicates: number;
  tradesBackfilled: number;
  /** Id gaps applied as gaps (holds given up), and trades the aggregator refused while resuming. */
  gapsApplied: number;
  rejected: number;
}

const DEFAULTS = {
  pageLimit: 1000,
  maxPages: 10,
  maxAttempts: 3,
  retryDelayMs: 500,
  maxHeldTrades: 50_000,
  maxHoldMs: 60_000,
  probeMs: 2_000,
};

/**
 * Drives the holds of a stream collector's {@link StreamBars} (one task per holding symbol): it
 * applies the trades put aside as soon as their ids follow on, fetches the missing ids from
 * `GET /fapi/v1/aggTrades?fromId=` page by page through the collector's REST client (so its
 * weight budget paces every request), and gives a hold up — logged and counted, the gap then
 * applied as without holding — when a bound is hit: pages, tries, trades put aside, or time.
 * `onSettled` hears how each hold ended (the collector then refreshes the symbol's bars by REST).
 */
export class TradeBackfill {
  readonly counters: TradeBackfillCounters = {
    tasks: 0,
    healed: 0,
    released: 0,
    pages: 0,
    pageFailures: 0,
    stalls: 0,
    tradesFetched: 0,
    duplicates: 0,
    tradesBackfilled: 0,
    gapsApplied: 0,
    rejected: 0,
  };
  /** The last failure, for the collector's status. */
  lastError: string | null = null;
  readonly #api: AggTradesApi;
  readonly #sink: BarSink;
  readonly #log: Logger;
  readonly #options: Required<Omit<TradeBackfillOptions, 'scheduler'>>;
  readonly #scheduler: Scheduler;
  readonly #onSettled: (symbol: string, outcome: HoldOutcome) => void;
  /** The symbols with a hold being driven, and their bars. */
  readonly #tasks = new Map<string, StreamBars>();
  #running = true;

  constructor(
    api: AggTradesApi,
    sink: BarSink,
    logger: Logger,
    options: TradeBackfillOptions,
    onSettled: (symbol: string, outcome: HoldOutcome) => void,
  ) {
    this.#api = api;
    this.#sink = sink;
    this.#log = logger;
    this.#onSettled = onSettled;
    this.#scheduler = options.scheduler ?? systemScheduler;
    const { scheduler: _, ...rest } = options;
    this.#options = { ...DEFAULTS, ...rest };
    const limit = this.#options.pageLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new RangeError(`pageLimit must be an integer from 1 to 1000, got ${limit}`);
    }
  }

  /** Symbols whose hold is being driven now. */
  get holding(): number {
    return this.#tasks.size;
  }

  /** Trades put aside over every holding symbol. */
  get heldTrades(): number {
    let held = 0;
    for (const bars of this.#tasks.values()) held += bars.heldTrades;
    return held;
  }

  /**
   * After trades of `symbol` were pushed: when its bars hold, applies what now follows on and
   * makes sure a task fills the rest.
   */
  follow(symbol: string, bars: StreamBars): void {
    if (!bars.holding) return;
    if (!this.#tasks.has(symbol)) {
      this.#log.warn('aggTrade ids missing; holding later trades and fetching the missing ones by REST', {
        symbol,
        missingFrom: bars.missingFrom,
        missingUntil: bars.missingUntil,
      });
      this.#start(symbol, bars, false);
    }
    this.#apply(bars);
  }

  /**
   * A connection carrying `symbol`'s aggTrades was lost and restored at `restoredAt`. Returns true
   * when a hold now checks the ids after the last one (the next stream trade, else REST, says what
   * was lost); false when the bars could only mark the loss incomplete (no trade seen yet).
   */
  followLoss(symbol: string, bars: StreamBars, restoredAt: number): boolean {
    if (!bars.expectAfterLoss(restoredAt)) return false;
    if (!this.#tasks.has(symbol)) this.#start(symbol, bars, true);
    return true;
  }

  /** Stops driving holds (no request is sent after this; holds stay as they are). */
  stop(): void {
    this.#running = false;
  }

  #start(symbol: string, bars: StreamBars, probe: boolean): void {
    this.counters.tasks += 1;
    this.#tasks.set(symbol, bars);
    void this.#run(symbol, bars, probe).catch((error: unknown) => {
      // #run catches what it expects; anything else is a defect: logged, the hold given up.
      this.#tasks.delete(symbol);
      this.#fail(`backfill of ${symbol} failed unexpectedly`, error);
      this.#release(symbol, bars, 'unexpected failure');
    });
  }

  async #run(symbol: string, bars: StreamBars, probe: boolean): Promise<void> {
    const o = this.#options;
    const started = this.#scheduler.now();
    let pages = 0;
    let tries = 0;
    if (probe) await this.#scheduler.sleep(o.probeMs);
    for (;;) {
      if (!this.#running) return;
      this.#apply(bars);
      if (!bars.holding) {
        this.#settle(symbol, 'healed');
        return;
      }
      const reason =
        bars.heldTrades > o.maxHeldTrades
          ? `more than ${o.maxHeldTrades} trades held`
          : this.#scheduler.now() - started > o.maxHoldMs
            ? `held longer than ${o.maxHoldMs} ms`
            : pages >= o.maxPages
              ? `${o.maxPages} pages fetched`
              : tries >= o.maxAttempts
                ? `${o.maxAttempts} tries brought no missing id`
                : undefined;
      const from = bars.missingFrom;
      if (reason !== undefined || from === null) {
        this.#release(symbol, bars, reason ?? 'nothing to fetch');
        return;
      }
      if (tries > 0) await this.#scheduler.sleep(o.retryDelayMs * 2 ** (tries - 1));
      const progressed = await this.#fetchPage(symbol, bars, from);
      if (!this.#running) return;
      if (progressed === 'fatal') {
        this.#release(symbol, bars, 'the exchange refuses requests now');
        return;
      }
      if (progressed === 'fetched') pages += 1;
      tries = progressed === 'fetched' && bars.missingFrom !== from ? 0 : tries + 1;
    }
  }

  /** Fetches one page from `fromId` and adds it; says whether it arrived (or the exchange refuses all). */
  async #fetchPage(
    symbol: string,
    bars: StreamBars,
    fromId: number,
  ): Promise<'fetched' | 'failed' | 'fatal'> {
    const limit = this.#options.pageLimit;
    let body: Buffer;
    try {
      body = (await this.#api.aggTrades({ symbol, fromId, limit })).body;
    } catch (error) {
      this.counters.pageFailures += 1;
      this.#fail(`aggTrades page of ${symbol} from id ${fromId} failed`, error);
      const fatal =
        error instanceof IpBannedError ||
        error instanceof RateLimitedError ||
        error instanceof ClientClosedError;
      return fatal ? 'fatal' : 'failed';
    }
    this.counters.pages += 1;
    if (!bars.holding) return 'fetched'; // the stream filled the gap meanwhile
    try {
      const page = bars.addBackfillPage(body, limit);
      this.counters.tradesFetched += page.rows;
      this.counters.duplicates += page.duplicates;
    } catch (error) {
      this.counters.pageFailures += 1;
      this.#fail(`aggTrades page of ${symbol} from id ${fromId} refused`, error);
      return 'failed';
    }
    this.#apply(bars);
    if (bars.holding && bars.missingFrom === fromId) {
      this.counters.stalls += 1;
      this.#log.warn('aggTrades page brought no missing id', { symbol, fromId });
    }
    return 'fetched';
  }

  /** Applies what can be applied now, in pieces whose bars fit one frame each. */
  #apply(bars: StreamBars): void {
    const intervals = Math.max(1, this.#options.intervals);
    const piece = Math.max(1, Math.floor(this.#sink.recordBudget / intervals) - 1);
    for (;;) {
      this.#sink.makeRoom((piece + 1) * intervals);
      const r = bars.resume(this.#sink.currentEncoder, piece);
      this.counters.tradesBackfilled += r.backfilled;
      this.counters.gapsApplied += r.gaps.length;
      this.counters.rejected += r.rejected.length;
      if (r.accepted + r.rejected.length < piece) break;
    }
    this.#sink.flush();
  }

  #release(symbol: string, bars: StreamBars, reason: string): void {
    const missingFrom = bars.missingFrom;
    const missingUntil = bars.missingUntil;
    const held = bars.heldTrades;
    bars.release();
    this.#apply(bars);
    this.#log.warn('aggTrade backfill given up; the gap stays and the bars it spans come from REST klines', {
      symbol,
      reason,
      missingFrom,
      missingUntil,
      held,
    });
    this.#settle(symbol, 'released');
  }

  #settle(symbol: string, outcome: HoldOutcome): void {
    this.#tasks.delete(symbol);
    if (outcome === 'healed') this.counters.healed += 1;
    else this.counters.released += 1;
    this.#onSettled(symbol, outcome);
  }

  #fail(what: string, error: unknown): void {
    this.lastError = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    this.#log.warn(what, { error: this.lastError });
  }
}
