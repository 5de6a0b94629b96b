// Polls every symbol's best bid/ask and latest traded price inside the sub-windows of each second the hub assigned to this collector.
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, pollStatus } from '../collector-context.js';
import { PollLoop } from '../poll-loop.js';
import { TickSlotSchedule } from './tick-slot-schedule.js';

/** The hub's slot group for tick collectors. */
export const TICK_SLOT_GROUP = 'tick';

export interface TickPollerOptions {
  /** Upper bound on polls per second (each costs weight 7: bookTicker 5 + ticker/price 2), below the slot schedule's 8. */
  readonly maxPollsPerSecond: number;
}

/**
 * Registers with the hub for a slot `(k, N)` and polls `GET /fapi/v1/ticker/bookTicker` and
 * `GET /fapi/v2/ticker/price` (all symbols) only inside its windows, so N tick collectors
 * interleave evenly through each second. The book (bid/ask) is for execution; the traded price
 * is what corrects the hub's open bars (DESIGN.md 3.2): the hub merges the two separately.
 * The hub reassigns slots when a collector leaves; this one re-registers after every reconnect.
 */
export class TickPoller implements Collector {
  readonly kind = 'tick' as const;
  readonly #ctx: CollectorContext;
  readonly #minGapMs: number;
  readonly #loop: PollLoop;
  readonly #off: (() => void)[] = [];
  #schedule: TickSlotSchedule | undefined;
  #lastPoll: number | undefined;
  #registering = false;

  constructor(ctx: CollectorContext, options: TickPollerOptions) {
    this.#ctx = ctx;
    this.#minGapMs = 1000 / options.maxPollsPerSecond;
    this.#loop = new PollLoop(
      { intervalMs: this.#minGapMs, logger: ctx.logger, nextDelay: (now) => this.#delay(now) },
      () => this.#poll(),
    );
  }

  /** The slot in use, if registered: `{ index: k, count: N }`. */
  get slot(): { index: number; count: number } | undefined {
    return this.#schedule?.slot;
  }

  start(): void {
    const { hub } = this.#ctx;
    this.#off.push(
      hub.onState((state) => {
        if (state === 'ready') void this.#register();
        else this.#schedule = undefined;
      }),
      hub.onMessage((message) => {
        if (message.op === 'slot' && message.group === TICK_SLOT_GROUP) this.#assign(message.k, message.n);
      }),
    );
    if (hub.state === 'ready') void this.#register();
    this.#loop.start();
  }

  async stop(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    await this.#loop.stop();
    if (this.#ctx.hub.state === 'ready' && this.#schedule !== undefined) {
      try {
        await this.#ctx.hub.releaseSlot(TICK_SLOT_GROUP);
      } catch (error) {
        // The hub frees a slot when its holder disconnects anyway; this only says it happened late.
        this.#ctx.logger.info('tick slot not released before leaving; the hub frees it on disconnect', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  status(): CollectorStatus {
    return pollStatus(this.kind, this.#loop, this.#ctx.link, {
      slot:
        this.#schedule === undefined ? 'none' : `${this.#schedule.slot.index}/${this.#schedule.slot.count}`,
    });
  }

  #assign(k: number, n: number): void {
    this.#schedule = new TickSlotSchedule({ index: k, count: n });
    this.#ctx.logger.info('tick slot assigned', { k, n });
  }

  async #register(): Promise<void> {
    if (this.#registering) return;
    this.#registering = true;
    try {
      const { k, n } = await this.#ctx.hub.registerSlot(TICK_SLOT_GROUP);
      this.#assign(k, n);
    } catch (error) {
      this.#ctx.logger.warn('tick slot registration failed; retrying on the next poll', {
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.#registering = false;
    }
  }

  #delay(now: number): number {
    if (this.#schedule === undefined) return 250;
    // Spaced from the start of the last poll's window, not from when it ran, so polls stay at the
    // start of their windows instead of drifting later by each timer's lateness.
    const earliest =
      this.#lastPoll === undefined
        ? now
        : Math.max(now, this.#schedule.windowStart(this.#lastPoll) + this.#minGapMs - 1);
    return this.#schedule.nextPollTime(earliest, this.#lastPoll) - now;
  }

  async #poll(): Promise<void> {
    const { api, link } = this.#ctx;
    if (this.#schedule === undefined) {
      if (this.#ctx.hub.state === 'ready') await this.#register();
      return;
    }
    if (!link.ready || !this.#schedule.contains(Date.now())) return;
    this.#lastPoll = Date.now();
    // One after the other on one connection, both inside this collector's window.
    const book = await api.bookTicker();
    const traded = await api.tickerPrice();
    link.encoder.pushRestBookTickers(book.body);
    link.encoder.pushRestPriceTickers(traded.body);
    link.flush();
  }
}
