// Places a new stop-loss ladder, confirms it by reading the exchange's list back, and only then cancels the old stops.
import type { StopLossSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { hasBinanceCode } from '../../ts/exchange/exchange-errors.js';
import type { Logger } from '../../ts/log/logger.js';
import type { EngineClock } from '../engine/engine-clock.js';
import type { OrderSide } from '../engine/events.js';
import { OrderOutcomeUnknownError } from '../execution/order-sender.js';
import type { OrderRateMeter } from '../risk/order-rate.js';
import type { RiskEventSink } from '../risk/risk-events.js';
import type { KnownStops } from './known-stops.js';
import { type GenerationClock, ladderStopId } from './ladder-ids.js';
import type { LadderRung } from './ladder-plan.js';
import {
  ORDER_WOULD_TRIGGER,
  type StopOrder,
  type StopOrderRequest,
  type StopOrderVenue,
} from './stop-orders.js';

/** Counters the placer adds to. */
export interface PlacerStats {
  laddersPlaced: number;
  stopsPlaced: number;
  stopsCancelled: number;
  passedRungs: number;
  notConfirmed: number;
}

/** What the placer works with. */
export interface LadderPlacerDeps {
  readonly venue: StopOrderVenue;
  readonly settings: StopLossSettings;
  readonly clock: EngineClock;
  readonly events: RiskEventSink;
  readonly logger: Logger;
  readonly known: KnownStops;
  readonly gens: GenerationClock;
  readonly stats: PlacerStats;
  /** Reports a stop-loss failure. */
  readonly fail: (symbol: string, detail: string) => void;
  readonly closePassed?:
    | ((symbol: string, side: OrderSide, quantity: Decimal, reason: string) => void)
    | undefined;
  readonly orderRate?: OrderRateMeter | undefined;
}

/** How a replacement ended: `ok` when the new ladder is confirmed and the old stops are gone. */
export interface PlaceOutcome {
  readonly ok: boolean;
  /** The generation of the confirmed new ladder, if one was. */
  readonly generation: string | null;
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The acting half of the ladders: a new ladder under a new generation, placed stop by stop (an
 * unknown outcome is left to the read-back, a stop refused because its price is passed (-2021)
 * has its quantity closed at market), confirmed by reading the exchange's list until every stop is
 * in it (missing ones placed again with the same id), and only then the old stops cancelled.
 */
export class LadderPlacer {
  readonly #d: LadderPlacerDeps;
  readonly #known: KnownStops;
  readonly #stats: PlacerStats;
  readonly #gens: GenerationClock;

  constructor(deps: LadderPlacerDeps) {
    this.#d = deps;
    this.#known = deps.known;
    this.#stats = deps.stats;
    this.#gens = deps.gens;
  }

  /**
   * Places the planned ladder, confirms it by reading the exchange's list back, then cancels `old`
   * (from its front first when the open-stop limit needs room before the whole ladder fits).
   */
  async replace(
    symbol: string,
    plan: readonly LadderRung[],
    reason: string,
    old: readonly StopOrder[],
  ): Promise<PlaceOutcome> {
    const generation = this.#gens.next(this.#d.clock.now());
    const requests = plan.map(
      (r): StopOrderRequest => ({
        symbol,
        side: r.side,
        quantity: r.quantity,
        triggerPrice: r.triggerPrice,
        workingType: this.#d.settings.workingType,
        clientAlgoId: ladderStopId(generation, r.rung, r.part),
      }),
    );
    this.#d.logger.info('placing a stop-loss ladder', { symbol, generation, reason, stops: requests.length });
    // Make before break within the exchange's open-stop limit: what fits beside the old stops is
    // placed at once, largest first; past the limit, one old stop goes (from the front of `old`)
    // for each new one, so the coverage never drops by more than one old stop at a time.
    const pending = [...requests].sort((a, b) => b.quantity.cmp(a.quantity));
    const outcomes = new Map<StopOrderRequest, string>();
    let remaining = old;
    let open = old.length;
    let madeRoom = 0;
    while (pending.length > 0) {
      const room = this.#d.settings.maxOpenStops - open;
      if (room > 0) {
        const batch = pending.splice(0, room);
        const results = await Promise.all(batch.map((r) => this.#place(r)));
        const refused: string[] = [];
        for (const [i, o] of results.entries()) {
          outcomes.set(batch[i] as StopOrderRequest, o);
          if (o === 'placed' || o === 'unknown') open += 1;
          else if (o !== 'passed') refused.push(o);
        }
        if (refused.length > 0 && pending.length > 0) {
          this.#d.fail(
            symbol,
            `ladder ${generation}: ${refused.join('; ')}; ${pending.length} stops not placed, the previous stops stay`,
          );
          return { ok: false, generation: null };
        }
        continue;
      }
      const next = remaining[0];
      if (next === undefined || !(await this.cancel(symbol, [next]))) {
        this.#d.fail(
          symbol,
          `ladder ${generation}: no room made for ${pending.length} more stops; the previous stops stay`,
        );
        return { ok: false, generation: null };
      }
      remaining = remaining.slice(1);
      open -= 1;
      madeRoom += 1;
    }
    if (madeRoom > 0)
      this.#d.logger.info('made room for a stop-loss ladder within the open-stop limit', {
        symbol,
        generation,
        cancelled: madeRoom,
        limit: this.#d.settings.maxOpenStops,
      });
    const outcomeOf = (r: StopOrderRequest): string => outcomes.get(r) ?? 'not sent';
    const expected = requests.filter((r) => outcomeOf(r) === 'placed' || outcomeOf(r) === 'unknown');
    const problems = requests
      .map(outcomeOf)
      .filter((o) => o !== 'placed' && o !== 'unknown' && o !== 'passed');
    const passed = requests.filter((r) => outcomeOf(r) === 'passed');
    if (passed.length > 0) this.#passed(symbol, passed);
    if (expected.length === 0) {
      if (passed.length === 0)
        this.#d.fail(symbol, `no stop of ladder ${generation} was placed: ${problems.join('; ')}`);
      return { ok: passed.length > 0, generation: null };
    }
    const confirmed = await this.#confirm(symbol, expected);
    if (!confirmed || problems.length > 0) {
      this.#stats.notConfirmed += 1;
      this.#d.fail(
        symbol,
        `ladder ${generation} not confirmed (${problems.length > 0 ? problems.join('; ') : 'stops missing from the exchange list'}); the previous stops stay`,
      );
      return { ok: false, generation: null };
    }
    this.#stats.laddersPlaced += 1;
    this.#d.logger.info('stop-loss ladder confirmed', {
      symbol,
      generation,
      stops: expected.map((r) => `${r.quantity.toString()}@${r.triggerPrice.toString()}`).join(' '),
      replacing: remaining.length,
    });
    return { ok: await this.cancel(symbol, remaining), generation };
  }

  /** One stop: placed, passed (-2021), unknown (the read-back decides), or what went wrong. */
  async #place(request: StopOrderRequest): Promise<'placed' | 'passed' | 'unknown' | string> {
    this.#d.orderRate?.record(this.#d.clock.now());
    try {
      const stop = await this.#d.venue.placeStop(request);
      this.#stats.stopsPlaced += 1;
      this.#known.update(stop, this.#d.clock.now());
      return 'placed';
    } catch (error) {
      if (hasBinanceCode(error, ORDER_WOULD_TRIGGER)) return 'passed';
      if (error instanceof OrderOutcomeUnknownError) return 'unknown';
      return `${request.clientAlgoId}: ${message(error)}`;
    }
  }

  /** Reads the symbol's list until every expected stop is in it (placing again, same id, what is missing). */
  async #confirm(symbol: string, expected: readonly StopOrderRequest[]): Promise<boolean> {
    const attempts = this.#d.settings.confirmAttempts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let listed: StopOrder[];
      try {
        listed = this.#known.replace(symbol, await this.#d.venue.openStops(symbol));
      } catch (error) {
        this.#d.logger.warn('reading stops back failed', { symbol, attempt, error: message(error) });
        await this.#sleep(100 * attempt);
        continue;
      }
      const ids = new Set(listed.map((s) => s.clientAlgoId));
      const missing = expected.filter((r) => !ids.has(r.clientAlgoId));
      if (missing.length === 0) return true;
      if (attempt === attempts) break;
      this.#d.logger.warn('stops missing from the exchange list; placing them again with the same ids', {
        symbol,
        attempt,
        missing: missing.map((r) => r.clientAlgoId).join(' '),
      });
      await this.#sleep(100 * attempt);
      for (const r of missing) await this.#place(r);
    }
    return false;
  }

  /**
   * Cancels stops, all at once: until the last old stop is gone, a dip could fill rungs of both
   * ladders and close more than either intends, so the overlap lasts one round trip, not one per
   * stop. True when every one is gone.
   */
  async cancel(symbol: string, stops: readonly StopOrder[]): Promise<boolean> {
    const done = await Promise.all(
      stops.map(async (stop) => {
        try {
          await this.#d.venue.cancelStop(symbol, stop.clientAlgoId);
          this.#stats.stopsCancelled += 1;
          this.#known.remove(symbol, stop.clientAlgoId);
          return true;
        } catch (error) {
          this.#d.fail(symbol, `cancelling ${stop.clientAlgoId} failed: ${message(error)}`);
          return false;
        }
      }),
    );
    return done.every((ok) => ok);
  }

  #passed(symbol: string, passed: readonly StopOrderRequest[]): void {
    let quantity = Decimal.ZERO;
    for (const r of passed) quantity = quantity.add(r.quantity);
    this.#stats.passedRungs += passed.length;
    const side = passed[0]?.side ?? 'SELL';
    const reason = `stops at ${passed.map((r) => r.triggerPrice.toString()).join(', ')} would trigger at once: ${quantity.toString()} closed at market`;
    this.#d.events.emit({
      kind: 'risk-action',
      action: 'stop-passed',
      symbol,
      reason,
      at: this.#d.clock.now(),
    });
    if (this.#d.closePassed === undefined) {
      this.#d.fail(symbol, `${reason}, but nothing here can close it`);
      return;
    }
    this.#d.closePassed(symbol, side, quantity, reason);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#d.clock.schedule(this.#d.clock.now() + ms, resolve);
    });
  }
}
