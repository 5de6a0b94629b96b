// One IP group's request weight at the hub: the processes' leases counted per exchange minute, served by kind, blocks after 429/418.
import { type BudgetKind, budgetRank, type PerKind, zeroPerKind } from '../../exchange/budget-kinds.js';
import { effectiveRank, RankedQueue } from '../../exchange/ranked-queue.js';

const MINUTE_MS = 60_000;
/** The rollover service order kept for the status document. */
const MAX_ROLLOVER_ENTRIES = 32;

/** One request for weight, as the group sees it. */
export interface WeightAsk<R> {
  /** The asking session (its leases are dropped when it leaves). */
  readonly session: number;
  readonly kind: BudgetKind;
  readonly weight: number;
  /** The exchange minute asked for. */
  readonly minute: number;
  /** Whatever the caller needs to answer it (the reply). */
  readonly reply: R;
}

/** A granted ask and the minute it is granted in. */
export interface WeightGrant<R> {
  readonly ask: WeightAsk<R>;
  readonly minute: number;
  /** Windows it waited (0: granted in the minute it asked for). */
  readonly waitedWindows: number;
}

/** A group as the status documents show it. */
export interface WeightGroupStatus {
  group: string;
  /** The weight per minute the group paces to (the smallest its processes declared). */
  limit: number;
  /** Of it, what only `order` requests may take. */
  reserve: number;
  /** The current exchange minute (ms / 60 000), and the weight counted in it. */
  minute: number;
  used: number;
  /** Granted in the current minute, by kind. */
  granted: PerKind;
  /** The highest `X-MBX-USED-WEIGHT-1M` a process reported in this minute (counts every process of the IP). */
  reported: number;
  /** Asks held now, by kind. */
  waiting: PerKind;
  /** The minute before: its minute number, weight counted and granted by kind. */
  previous: { minute: number; used: number; granted: PerKind } | null;
  /** Since the hub started, by kind: asks, weight granted, asks that had to wait, most windows one waited. */
  asks: PerKind;
  weight: PerKind;
  held: PerKind;
  maxWaitWindows: PerKind;
  /** When the exchange last refused the IP: the block in force (exchange ms) and its kind, or null. */
  block: { until: number; kind: 'rate-limited' | 'banned' } | null;
  /** 429 and 418 answers reported by the group's processes. */
  rateLimited: number;
  banned: number;
  /** Processes leasing now. */
  members: number;
  /** At the last minute boundary with asks held: the order they were served in (kind, rank competed with). */
  lastRollover: { minute: number; served: { kind: BudgetKind; rank: number }[] } | null;
}

/**
 * The weight of one IP group (the processes of one host) per exchange UTC minute. Asks fit while
 * the minute's count (granted, or the exchange's own higher report) stays within the limit, and the
 * last `reserve` of it only for `order` asks (which the exchange's report may hold back only once
 * it passes the limit by a reserve). The rest wait in a {@link RankedQueue}: by kind
 * (`order` … `universe`), one rank up for every minute boundary that passed them over (so none
 * starves), oldest first within a rank; at every boundary (or the end of a block) the queue is
 * served in that order until the head does not fit. A new ask that competes worse than (or equal
 * to) the head of the queue waits behind it. Pure: the service feeds it times and answers grants.
 */
export class WeightLedger<R> {
  readonly group: string;
  readonly #declared = new Map<number, { limit: number; reserve: number }>();
  readonly #queue = new RankedQueue<WeightAsk<R>>();
  #limit = 0;
  #reserve = 0;
  #minute = -1;
  #granted = 0;
  #grantedByKind = zeroPerKind();
  #reported = 0;
  #previous: WeightGroupStatus['previous'] = null;
  #blockedUntil = 0;
  /**
   * A block whose end no tick has looked at yet. The wake for it is due at its end even when the
   * clock has already passed it by the time the wake is computed (a stall between an ask and its
   * schedule): judged by the clock alone, such a wake would wait for the next minute.
   */
  #blockUnserved = false;
  #blockKind: 'rate-limited' | 'banned' = 'rate-limited';
  #lastRollover: WeightGroupStatus['lastRollover'] = null;
  readonly #totals = {
    asks: zeroPerKind(),
    weight: zeroPerKind(),
    held: zeroPerKind(),
    maxWait: zeroPerKind(),
  };
  #rateLimited = 0;
  #banned = 0;

  constructor(group: string) {
    this.group = group;
  }

  /** Asks held now. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Held asks of `session`. */
  heldOf(session: number): number {
    let n = 0;
    for (const entry of this.#queue.entries()) if (entry.item.session === session) n += 1;
    return n;
  }

  /** What a session paces to; the group keeps to the smallest limit and the largest reserve declared. */
  declare(session: number, limit: number, reserve: number): void {
    this.#declared.set(session, { limit, reserve: Math.min(reserve, Math.floor(limit / 2)) });
    this.#recompute();
  }

  /** A session left: its declaration and held asks go (nobody is waiting for their answers). */
  forget(session: number): void {
    this.#declared.delete(session);
    this.#queue.removeWhere((ask) => ask.session === session);
    this.#recompute();
  }

  /** Sessions that declared. */
  get members(): number {
    return this.#declared.size;
  }

  /**
   * An ask at exchange time `now`, with the exchange's used-weight header last seen in that minute
   * (`used`, or null). Returns every grant it makes possible: a newer minute first serves the
   * asks held from the one before, then this one, if it fits.
   */
  ask(ask: WeightAsk<R>, used: number | null, now: number): WeightGrant<R>[] {
    const grants = this.tick(now);
    this.#totals.asks[ask.kind] += 1;
    if (used !== null && ask.minute === this.#minute) this.#reported = Math.max(this.#reported, used);
    const head = this.#queue.peek();
    const competes = head === undefined || budgetRank(ask.kind) < effectiveRank(head);
    if (competes && now >= this.#blockedUntil && this.#fits(ask.kind, ask.weight)) {
      grants.push(this.#grant(ask, 0));
      return grants;
    }
    this.#totals.held[ask.kind] += 1;
    this.#queue.push(ask, budgetRank(ask.kind));
    return grants;
  }

  /**
   * The exchange clock reached `now`: a new minute starts counting afresh and the held asks are
   * served in order; so are they when a block ended. Returns the grants.
   */
  tick(now: number): WeightGrant<R>[] {
    if (now >= this.#blockedUntil) this.#blockUnserved = false;
    const minute = Math.floor(now / MINUTE_MS);
    if (minute <= this.#minute)
      return now >= this.#blockedUntil && this.#queue.size > 0 ? this.#serve(false) : [];
    if (this.#minute >= 0) {
      this.#previous = { minute: this.#minute, used: this.#used(), granted: { ...this.#grantedByKind } };
      this.#queue.passOver();
    }
    this.#minute = minute;
    this.#granted = 0;
    this.#grantedByKind = zeroPerKind();
    this.#reported = 0;
    return now >= this.#blockedUntil ? this.#serve(true) : [];
  }

  /** The exchange refused a process of the group: nothing is granted before `until`. True when it extends the block. */
  block(until: number, kind: 'rate-limited' | 'banned'): boolean {
    if (kind === 'banned') this.#banned += 1;
    else this.#rateLimited += 1;
    if (until <= this.#blockedUntil) return false;
    this.#blockedUntil = until;
    this.#blockUnserved = true;
    this.#blockKind = kind;
    return true;
  }

  /**
   * Exchange time the held asks next need a look (the end of a block, else the next minute), or
   * null. A block's end stays the wake until a tick at or after it has served the queue, so a time
   * already past means "now".
   */
  nextWakeAt(now: number, slackMs: number): number | null {
    if (this.#queue.size === 0) return null;
    if (now < this.#blockedUntil || this.#blockUnserved) return this.#blockedUntil;
    return (this.#minute + 1) * MINUTE_MS + slackMs;
  }

  /** The group for the status documents, as of exchange time `now`. */
  status(now: number): WeightGroupStatus {
    const waiting = zeroPerKind();
    for (const entry of this.#queue.entries()) waiting[entry.item.kind] += 1;
    return {
      group: this.group,
      limit: this.#limit,
      reserve: this.#reserve,
      minute: this.#minute,
      used: this.#used(),
      granted: { ...this.#grantedByKind },
      reported: this.#reported,
      waiting,
      previous: this.#previous,
      asks: { ...this.#totals.asks },
      weight: { ...this.#totals.weight },
      held: { ...this.#totals.held },
      maxWaitWindows: { ...this.#totals.maxWait },
      block: this.#blockedUntil > now ? { until: this.#blockedUntil, kind: this.#blockKind } : null,
      rateLimited: this.#rateLimited,
      banned: this.#banned,
      members: this.#declared.size,
      lastRollover: this.#lastRollover,
    };
  }

  #used(): number {
    return Math.max(this.#granted, this.#reported);
  }

  #recompute(): void {
    if (this.#declared.size === 0) return; // keep the last known limit for the status
    let limit = Number.POSITIVE_INFINITY;
    let reserve = 0;
    for (const d of this.#declared.values()) {
      limit = Math.min(limit, d.limit);
      reserve = Math.max(reserve, d.reserve);
    }
    this.#limit = limit;
    this.#reserve = Math.min(reserve, Math.floor(limit / 2));
  }

  #fits(kind: BudgetKind, weight: number): boolean {
    const used = this.#used();
    // A request heavier than the whole budget still goes, alone, in a fresh window.
    if (used === 0) return true;
    if (kind !== 'order') return used + weight <= this.#limit - this.#reserve;
    // Orders may use the whole limit. The exchange's header can run past what the group granted
    // (requests a process sent before it leased, other users of the IP): that excess may not hold
    // an order back, so orders go on while the grants fit and the header stays within one more
    // reserve, well inside the margin between the paced limit and the exchange's own.
    return this.#granted + weight <= this.#limit && this.#reported + weight <= this.#limit + this.#reserve;
  }

  #grant(ask: WeightAsk<R>, waitedWindows: number): WeightGrant<R> {
    this.#granted += ask.weight;
    this.#grantedByKind[ask.kind] += ask.weight;
    this.#totals.weight[ask.kind] += ask.weight;
    this.#totals.maxWait[ask.kind] = Math.max(this.#totals.maxWait[ask.kind], waitedWindows);
    return { ask, minute: this.#minute, waitedWindows };
  }

  /** Serves held asks in order while the head fits; strict, so a big head is never overtaken. */
  #serve(rollover: boolean): WeightGrant<R>[] {
    const grants: WeightGrant<R>[] = [];
    const served: { kind: BudgetKind; rank: number }[] = [];
    for (;;) {
      const head = this.#queue.peek();
      if (head === undefined || !this.#fits(head.item.kind, head.item.weight)) break;
      this.#queue.remove(head);
      if (served.length < MAX_ROLLOVER_ENTRIES)
        served.push({ kind: head.item.kind, rank: effectiveRank(head) });
      grants.push(this.#grant(head.item, Math.max(head.passes, this.#minute - head.item.minute)));
    }
    if (rollover && served.length > 0) this.#lastRollover = { minute: this.#minute, served };
    return grants;
  }
}
