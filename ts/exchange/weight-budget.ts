// Paces a process's REST requests to the IP weight (alone, or leased from the host's coordinator) and the order-count limits, by kind.
import type { Logger } from '../log/logger.js';
import { type BudgetKind, budgetRank, type PerKind, zeroPerKind } from './budget-kinds.js';
import { ExchangeError } from './exchange-errors.js';
import { type Ranked, RankedQueue } from './ranked-queue.js';
import type { UsageHeaders, WeightLimits } from './rate-limits.js';
import type { Scheduler } from './scheduler.js';
import type { IpBlock, WeightCoordinator } from './weight-coordinator.js';

const MINUTE_MS = 60_000;
const TEN_SECONDS_MS = 10_000;
/** Consecutive sleeps without the clock advancing after which waiting requests fail. */
const MAX_STALLED_SLEEPS = 1000;
/** A grant that arrives after its minute ended is asked for again this many times, then paced locally. */
const MAX_LEASE_ATTEMPTS = 3;

/** A request that was waiting for weight when the process stopped (the budget was closed). */
export class BudgetClosedError extends ExchangeError {
  override readonly name = 'BudgetClosedError';
  constructor() {
    super('weight budget closed: the process is stopping');
  }
}

/** A granted request: settle it with `WeightBudget.settle` when its response (or failure) arrives. */
export interface WeightTicket {
  readonly weight: number;
  readonly kind: BudgetKind;
  readonly isOrder: boolean;
  /** The minute window (exchange time / 60 000) the request was sent in. */
  readonly minute: number;
  /** The 10-second window it was sent in. */
  readonly tenSeconds: number;
}

/**
 * How the weight is paced: `local` (this process alone, the whole paced limit), `coordinated`
 * (leased from the host's coordinator), `fallback` (meant to lease but cannot: the fallback share).
 */
export type BudgetMode = 'local' | 'coordinated' | 'fallback';

/** A snapshot for status pages and tests. */
export interface WeightBudgetStats {
  readonly limits: WeightLimits;
  readonly mode: BudgetMode;
  /** The IP group leased for, or null without a coordinator. */
  readonly group: string | null;
  readonly minute: number;
  /** Weight counted in the current minute: own requests plus what the exchange reported. */
  readonly usedWeight: number;
  /** This process's own weight in the current minute, by kind. */
  readonly usedByKind: PerKind;
  readonly inFlightWeight: number;
  readonly orders10s: number;
  readonly orders1m: number;
  /** Exchange time before which nothing is sent (after 429/418), or 0. */
  readonly blockedUntil: number;
  /** How many times a request waited for the next window. */
  readonly windowWaits: number;
  /** Requests that are not orders (cancels, reads) sent ahead of an order waiting for the order count. */
  readonly passedWaitingOrders: number;
  /** Requests waiting for weight now (locally or at the coordinator). */
  readonly waiting: number;
  /** Requests granted by the coordinator. */
  readonly leases: number;
  /** Requests paced to the fallback share because the coordinator could not be asked. */
  readonly fallbackGrants: number;
  /** Times this process fell back (the coordinator unreachable or refusing). */
  readonly fallbacks: number;
  /** 429 and 418 answers this process received. */
  readonly rateLimited: number;
  readonly banned: number;
  /** Blocks other processes of the IP reported through the coordinator. */
  readonly sharedBlocks: number;
}

/** Options of a {@link WeightBudget}. */
export interface WeightBudgetOptions {
  /** Estimated exchange time (ServerClock.now). */
  readonly now: () => number;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  /** Slack after a window boundary, for the residual error of the clock offset (default 250 ms). */
  readonly boundarySlackMs?: number;
  /**
   * Whether this process is meant to lease from a coordinator (`exchange.budget.coordinator`
   * "hub"): until one is attached and answering, it paces to `fallbackShare` of the limit.
   */
  readonly coordinated?: boolean;
  /** Share of the paced limit kept to while coordinated but unable to lease (default 0.25). */
  readonly fallbackShare?: number;
  /** Share of the paced limit only `order` requests may use; the coordinator enforces it (default 0). */
  readonly orderReserve?: number;
  /** After a failed lease, requests are paced locally this long before the coordinator is asked again (default 5 s). */
  readonly coordinatorRetryMs?: number;
  /** Leases asked at once (default 32); more requests wait here in priority order. */
  readonly maxOutstandingLeases?: number;
}

interface Waiter {
  readonly weight: number;
  readonly kind: BudgetKind;
  readonly isOrder: boolean;
  readonly resolve: (ticket: WeightTicket) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One budget shared by every caller of a client (or several clients of one process). The exchange
 * counts weight per UTC minute of its own clock, so `now` is the estimated exchange time.
 * Requests wait in priority order of their kind (`order` first, `universe` last; one rank up for
 * every window a request waited, so none starves). Alone, a request whose weight would exceed the
 * minute's budget waits for the next window; with a coordinator, each request's weight is leased
 * from it, so the processes of one IP share one limit, and when the coordinator cannot be asked
 * the process paces to its fallback share and counts it. The exchange's `X-MBX-USED-WEIGHT-1M`
 * header (which counts every process on the IP) raises the local count, never lowers it.
 */
export class WeightBudget {
  readonly #now: () => number;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  readonly #boundarySlackMs: number;
  readonly #coordinated: boolean;
  readonly #fallbackShare: number;
  readonly #orderReserve: number;
  readonly #coordinatorRetryMs: number;
  readonly #maxOutstanding: number;
  readonly #waiting = new RankedQueue<Waiter>();
  #limits: WeightLimits;
  #coordinator: WeightCoordinator | undefined;
  #minute = -1;
  #tenSeconds = -1;
  #used = 0;
  #usedByKind = zeroPerKind();
  #inFlight = 0;
  #orders10s = 0;
  #orders1m = 0;
  #inFlightOrders = 0;
  /** The exchange's used weight last reported for `#headerMinute`. */
  #headerUsed = 0;
  #headerMinute = -1;
  #blockedUntil = 0;
  #blockKind: 'rate-limited' | 'banned' = 'rate-limited';
  #pumping = false;
  #closed = false;
  /** Requests whose lease is being asked (failed at once by `close`). */
  readonly #leasing = new Set<Waiter>();
  #outstanding = 0;
  #slotListeners: (() => void)[] = [];
  /** Local time before which the coordinator is not asked (after a failed lease). */
  #fallbackUntil = 0;
  /** Why the process paces to its fallback share, while it does (logged once per change). */
  #fallbackReason: string | null = null;
  readonly #counts = {
    windowWaits: 0,
    passedWaitingOrders: 0,
    leases: 0,
    fallbackGrants: 0,
    fallbacks: 0,
    rateLimited: 0,
    banned: 0,
    sharedBlocks: 0,
  };

  /**
   * `options.now` is exchange time (ServerClock.now); `scheduler.sleep` does the waiting. Waits are
   * computed in exchange time and slept in local time; both run at the same rate.
   */
  constructor(limits: WeightLimits, options: WeightBudgetOptions) {
    this.#limits = limits;
    this.#now = options.now;
    this.#scheduler = options.scheduler;
    this.#log = options.log;
    this.#boundarySlackMs = options.boundarySlackMs ?? 250;
    this.#coordinated = options.coordinated ?? false;
    this.#fallbackShare = options.fallbackShare ?? 0.25;
    this.#orderReserve = options.orderReserve ?? 0;
    this.#coordinatorRetryMs = options.coordinatorRetryMs ?? 5_000;
    this.#maxOutstanding = options.maxOutstandingLeases ?? 32;
  }

  /** Replaces the limits (from exchangeInfo `rateLimits`). */
  setLimits(limits: WeightLimits): void {
    this.#limits = limits;
    this.#log.info('weight budget limits set', {
      perMinute: limits.perMinute,
      ordersPer10s: limits.ordersPer10s,
      ordersPerMinute: limits.ordersPerMinute,
    });
  }

  get limits(): WeightLimits {
    return this.#limits;
  }

  /**
   * Leases weight from `coordinator` from now on and applies the blocks the IP's other processes
   * report through it. Returns a function that detaches it again.
   */
  attachCoordinator(coordinator: WeightCoordinator): () => void {
    this.#coordinator = coordinator;
    const off = coordinator.onBlock((block) => {
      this.#counts.sharedBlocks += 1;
      this.#block(block, false);
    });
    this.#log.info('weight budget leases from the coordinator', { group: coordinator.group });
    this.#kick();
    return () => {
      off();
      if (this.#coordinator === coordinator) this.#coordinator = undefined;
    };
  }

  /**
   * Waits until `weight` of `kind` may be sent (and, for orders, the order limits allow it) and no
   * block is in force, then counts it. Bounded: fails only if the clock stops advancing.
   */
  acquire(weight: number, kind: BudgetKind, isOrder = false): Promise<WeightTicket> {
    if (this.#closed) return Promise.reject(new BudgetClosedError());
    return new Promise<WeightTicket>((resolve, reject) => {
      this.#waiting.push({ weight, kind, isOrder, resolve, reject }, budgetRank(kind));
      this.#kick();
    });
  }

  /**
   * The process is stopping: every request still waiting for weight (here or at the coordinator)
   * fails at once with {@link BudgetClosedError}, and so does every later one, so a stop never
   * waits for the next window.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#leasing) waiter.reject(new BudgetClosedError());
    this.#leasing.clear();
    for (const entry of this.#waiting.removeWhere(() => true)) entry.item.reject(new BudgetClosedError());
  }

  /** Records the outcome of a granted request; `usage` is null when no response arrived. */
  settle(ticket: WeightTicket, usage: UsageHeaders | null): void {
    this.#inFlight = Math.max(0, this.#inFlight - ticket.weight);
    if (ticket.isOrder) this.#inFlightOrders = Math.max(0, this.#inFlightOrders - 1);
    if (usage === null) return;
    this.#roll(this.#now());
    // Only a response to a request sent in the current window describes the current window.
    if (ticket.minute === this.#minute) {
      if (usage.usedWeight1m !== null) {
        this.#used = Math.max(this.#used, usage.usedWeight1m + this.#inFlight);
        this.#headerUsed = Math.max(
          this.#headerMinute === this.#minute ? this.#headerUsed : 0,
          usage.usedWeight1m,
        );
        this.#headerMinute = this.#minute;
      }
      if (usage.orderCount1m !== null) {
        this.#orders1m = Math.max(this.#orders1m, usage.orderCount1m + this.#inFlightOrders);
      }
    }
    if (ticket.tenSeconds === this.#tenSeconds && usage.orderCount10s !== null) {
      this.#orders10s = Math.max(this.#orders10s, usage.orderCount10s + this.#inFlightOrders);
    }
  }

  /**
   * The exchange refused a request (429 Retry-After, 418 ban): nothing is admitted before exchange
   * time `until`. `shared` (the IP's weight, not this account's order count) tells the IP's other
   * processes through the coordinator.
   */
  blockUntil(
    until: number,
    reason: string,
    kind: 'rate-limited' | 'banned' = 'rate-limited',
    shared = true,
  ): void {
    if (kind === 'banned') this.#counts.banned += 1;
    else this.#counts.rateLimited += 1;
    const block: IpBlock = { until, kind, reason };
    this.#block(block, true);
    if (shared) this.#coordinator?.reportBlock(block);
  }

  /** The block in force, if any: until when (exchange time) and why. */
  get block(): { readonly until: number; readonly kind: 'rate-limited' | 'banned' } | null {
    return this.#blockedUntil > this.#now() ? { until: this.#blockedUntil, kind: this.#blockKind } : null;
  }

  /** Exchange time before which nothing is sent, or 0. */
  get blockedUntil(): number {
    return this.#blockedUntil;
  }

  stats(): WeightBudgetStats {
    this.#roll(this.#now());
    return {
      limits: this.#limits,
      mode: this.#mode(),
      group: this.#coordinator?.group ?? null,
      minute: this.#minute,
      usedWeight: this.#used,
      usedByKind: { ...this.#usedByKind },
      inFlightWeight: this.#inFlight,
      orders10s: this.#orders10s,
      orders1m: this.#orders1m,
      blockedUntil: this.#blockedUntil,
      waiting: this.#waiting.size + this.#outstanding,
      ...this.#counts,
    };
  }

  #mode(): BudgetMode {
    if (!this.#coordinated) return 'local';
    const leasing = this.#coordinator?.available === true && this.#fallbackReason === null;
    return leasing ? 'coordinated' : 'fallback';
  }

  #block(block: IpBlock, own: boolean): void {
    if (block.until <= this.#blockedUntil) return;
    this.#blockedUntil = block.until;
    this.#blockKind = block.kind;
    this.#log.warn(own ? 'requests blocked' : 'requests blocked: another process of this IP was refused', {
      until: block.until,
      waitMs: block.until - this.#now(),
      reason: block.reason,
      kind: block.kind,
    });
  }

  #roll(now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    if (minute !== this.#minute) {
      // Requests still waiting when a window ends move one rank up (no kind starves).
      if (this.#minute >= 0) this.#waiting.passOver();
      this.#minute = minute;
      this.#used = 0;
      this.#usedByKind = zeroPerKind();
      this.#orders1m = 0;
    }
    const tenSeconds = Math.floor(now / TEN_SECONDS_MS);
    if (tenSeconds !== this.#tenSeconds) {
      this.#tenSeconds = tenSeconds;
      this.#orders10s = 0;
    }
  }

  #nextMinuteWait(now: number): number {
    return (this.#minute + 1) * MINUTE_MS - now + this.#boundarySlackMs;
  }

  /** Milliseconds until an order fits the order limits, or 0. */
  #orderWait(now: number): number {
    const { ordersPer10s, ordersPerMinute } = this.#limits;
    if (ordersPerMinute !== null && this.#orders1m + 1 > ordersPerMinute) return this.#nextMinuteWait(now);
    if (ordersPer10s !== null && this.#orders10s + 1 > ordersPer10s) {
      return (this.#tenSeconds + 1) * TEN_SECONDS_MS - now + this.#boundarySlackMs;
    }
    return 0;
  }

  /** Milliseconds until `weight` fits `perMinute` in this window, or 0. */
  #weightWait(weight: number, perMinute: number, now: number): number {
    // A request heavier than the whole budget still goes, alone, in a fresh window.
    if (weight > 0 && this.#used > 0 && this.#used + weight > perMinute) return this.#nextMinuteWait(now);
    return 0;
  }

  /** Whether a request that is not an order may go at once: leased, or within the local weight. */
  #fitsNow(waiter: Waiter, now: number): boolean {
    return this.#leasable(waiter) || this.#weightWait(waiter.weight, this.#localLimit(), now) === 0;
  }

  #kick(): void {
    if (!this.#pumping) void this.#pump();
  }

  #leasable(waiter: Waiter): boolean {
    return (
      waiter.weight > 0 &&
      this.#coordinator?.available === true &&
      this.#scheduler.now() >= this.#fallbackUntil
    );
  }

  /** Serves waiting requests in priority order until none is left or the head must wait. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    let stalled = 0;
    try {
      while (this.#waiting.size > 0 && !this.#closed) {
        const now = this.#now();
        this.#roll(now);
        let entry = this.#waiting.peek();
        if (entry === undefined) break;
        let wait = 0;
        if (now < this.#blockedUntil) wait = this.#blockedUntil - now;
        else if (entry.item.isOrder) wait = this.#orderWait(now);
        if (wait > 0 && now >= this.#blockedUntil) {
          // The account's order count holds back orders only: a cancel or a read behind a waiting
          // order goes now when its weight fits (a cancelled stop must not outlive its
          // replacement for a window, nor a timed-out order stay on the book).
          const other = this.#waiting.peek((w) => !w.isOrder);
          if (other !== undefined && this.#fitsNow(other.item, now)) {
            entry = other;
            wait = 0;
            this.#counts.passedWaitingOrders += 1;
          }
        }
        const waiter = entry.item;
        if (wait === 0 && this.#leasable(waiter)) {
          if (this.#outstanding >= this.#maxOutstanding) {
            await new Promise<void>((resolve) => this.#slotListeners.push(resolve));
            continue;
          }
          this.#waiting.remove(entry);
          this.#countOrder(waiter);
          this.#outstanding += 1;
          void this.#lease(entry);
          continue;
        }
        if (wait === 0) {
          wait = this.#weightWait(waiter.weight, this.#localLimit(), now);
          // Paced to the fallback share: look again soon, so a coordinator that answers again is used.
          if (wait > 0 && this.#coordinator !== undefined) wait = Math.min(wait, this.#coordinatorRetryMs);
        }
        if (wait === 0) {
          this.#waiting.remove(entry);
          this.#countOrder(waiter);
          this.#admitLocally(waiter);
          continue;
        }
        if (now >= this.#blockedUntil) {
          this.#counts.windowWaits += 1;
          this.#log.info('weight budget full; waiting for the next window', {
            weight: waiter.weight,
            kind: waiter.kind,
            used: this.#used,
            perMinute: this.#localLimit(),
            isOrder: waiter.isOrder,
            waitMs: wait,
          });
        }
        await this.#scheduler.sleep(wait);
        // Each wait ends at a window boundary or the end of a block, so a handful of rounds always
        // suffices while the clock advances; the bound only guards against a stopped clock.
        stalled = this.#now() > now ? 0 : stalled + 1;
        if (stalled >= MAX_STALLED_SLEEPS) this.#failAll('the clock did not advance across 1000 waits');
      }
    } finally {
      this.#pumping = false;
    }
  }

  #failAll(why: string): void {
    for (const entry of this.#waiting.removeWhere(() => true)) {
      entry.item.reject(new ExchangeError(`weight budget: ${why}`));
    }
  }

  /** The limit paced to here: the whole limit alone, the fallback share when meant to lease. */
  #localLimit(): number {
    if (!this.#coordinated) return this.#limits.perMinute;
    return Math.max(1, Math.floor(this.#limits.perMinute * this.#fallbackShare));
  }

  #countOrder(waiter: Waiter): void {
    if (!waiter.isOrder) return;
    this.#orders10s += 1;
    this.#orders1m += 1;
    this.#inFlightOrders += 1;
  }

  #admitLocally(waiter: Waiter): void {
    if (this.#coordinated && waiter.weight > 0) {
      this.#counts.fallbackGrants += 1;
      const reason =
        this.#coordinator === undefined
          ? 'no coordinator in this process'
          : !this.#coordinator.available
            ? 'the coordinator is not connected'
            : (this.#fallbackReason ?? 'a lease failed');
      if (reason !== this.#fallbackReason) {
        if (this.#fallbackReason === null) this.#counts.fallbacks += 1;
        this.#fallbackReason = reason;
        // A process without a hub connection (gateway, publisher) always paces this way, and every
        // process does for its first requests, sent before its hub connection is up: info, not a
        // warning. Losing a coordinator that granted leases is the warning.
        const level = this.#coordinator === undefined || this.#counts.leases === 0 ? 'info' : 'warn';
        this.#log[level]('weight coordinator unavailable; pacing to the fallback share', {
          reason,
          perMinute: this.#localLimit(),
        });
      }
    }
    this.#grant(waiter, this.#minute);
  }

  #grant(waiter: Waiter, minute: number): void {
    this.#used += waiter.weight;
    this.#usedByKind[waiter.kind] += waiter.weight;
    this.#inFlight += waiter.weight;
    waiter.resolve({
      weight: waiter.weight,
      kind: waiter.kind,
      isOrder: waiter.isOrder,
      minute,
      tenSeconds: this.#tenSeconds,
    });
  }

  /**
   * Leases one request's weight. A failure sends it back to the queue, and for `coordinatorRetryMs`
   * every request is paced here at the fallback share before the coordinator is asked again.
   */
  async #lease(entry: Ranked<Waiter>): Promise<void> {
    const waiter = entry.item;
    const coordinator = this.#coordinator;
    this.#leasing.add(waiter);
    try {
      if (coordinator === undefined) throw new ExchangeError('the coordinator was detached');
      for (let attempt = 1; ; attempt++) {
        const at = this.#now();
        const grant = await coordinator.lease({
          kind: waiter.kind,
          weight: waiter.weight,
          at,
          limit: this.#limits.perMinute,
          reserve: Math.floor(this.#limits.perMinute * this.#orderReserve),
          used: this.#headerMinute === Math.floor(at / MINUTE_MS) ? this.#headerUsed : null,
        });
        if (!this.#leasing.has(waiter)) return; // closed meanwhile: already failed
        let now = this.#now();
        const start = grant.minute * MINUTE_MS;
        // Granted in a later window than asked: start after its boundary, with the clock's slack.
        if (start > at && now < start + this.#boundarySlackMs) {
          await this.#scheduler.sleep(start + this.#boundarySlackMs - now);
          if (!this.#leasing.has(waiter)) return; // closed meanwhile: already failed
          now = this.#now();
        }
        if (now < this.#blockedUntil) {
          // A block arrived meanwhile: wait it out in the queue and lease again after it.
          this.#uncountOrder(waiter);
          this.#waiting.restore(entry);
          return;
        }
        if (Math.floor(now / MINUTE_MS) === grant.minute) {
          this.#roll(now);
          this.#counts.leases += 1;
          if (this.#fallbackReason !== null) {
            this.#log.info('weight coordinator answers again; leasing', {
              fallbackGrants: this.#counts.fallbackGrants,
            });
            this.#fallbackReason = null;
          }
          this.#grant(waiter, grant.minute);
          return;
        }
        // The grant's window ended before it could be used: ask again (bounded), then pace here.
        if (attempt >= MAX_LEASE_ATTEMPTS) throw new ExchangeError('grants kept arriving after their window');
      }
    } catch (error) {
      if (!this.#leasing.has(waiter)) return; // closed meanwhile: already failed
      const reason = error instanceof Error ? error.message : String(error);
      this.#fallbackUntil = this.#scheduler.now() + this.#coordinatorRetryMs;
      if (this.#fallbackReason !== reason) {
        if (this.#fallbackReason === null) this.#counts.fallbacks += 1;
        this.#fallbackReason = reason;
        this.#log.warn('weight lease failed; pacing to the fallback share', {
          reason,
          perMinute: this.#localLimit(),
          retryMs: this.#coordinatorRetryMs,
        });
      }
      this.#uncountOrder(waiter);
      this.#waiting.restore(entry);
    } finally {
      this.#leasing.delete(waiter);
      this.#outstanding -= 1;
      const listeners = this.#slotListeners;
      this.#slotListeners = [];
      for (const listener of listeners) listener();
      this.#kick();
    }
  }

  #uncountOrder(waiter: Waiter): void {
    if (!waiter.isOrder) return;
    this.#orders10s = Math.max(0, this.#orders10s - 1);
    this.#orders1m = Math.max(0, this.#orders1m - 1);
    this.#inFlightOrders = Math.max(0, this.#inFlightOrders - 1);
  }
}
