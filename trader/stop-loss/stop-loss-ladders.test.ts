import { describe, expect, it } from 'vitest';
import { defaultRiskSettings, type StopLossSettings } from '../../ts/config/risk-config.js';
import { readTributaryConfig } from '../../ts/config/tributary-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { BinanceApiError } from '../../ts/exchange/exchange-errors.js';
import { BudgetClosedError } from '../../ts/exchange/weight-budget.js';
import { silentLogger } from '../../ts/log/logger.js';
import { VirtualClock } from '../engine/engine-clock.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { OrderRateMeter, OrderRateUsage } from '../risk/order-rate.js';
import type { RiskEvent } from '../risk/risk-events.js';
import { RiskState } from '../risk/risk-state.js';
import { MemoryRiskStateStore } from '../risk/risk-state-store.js';
import { StaticAccount } from '../risk/testing/static-views.js';
import { coverage } from './ladder-decision.js';
import { parseLadderStopId } from './ladder-ids.js';
import { StopLossLadders } from './stop-loss-ladders.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from './stop-orders.js';

const d = Decimal.parse;
const T0 = 1_000_000;

/** One request waiting in the fake limiter. */
interface Waiting {
  readonly isOrder: boolean;
  readonly run: () => void;
  readonly fail: (error: Error) => void;
}

/**
 * An exchange behind an account's order-rate limiter, as `WeightBudget` paces it: requests wait in
 * one queue served from its head, orders at most `per10s` per 10 s window (the head waits for the
 * next window, holding back everything behind it), each answered `latencyMs` after it leaves.
 * Stops over `maxQty` are refused (-4005) as Binance refuses them; `refuse` lists symbols whose
 * every placement is refused; `stuck` stops the limiter letting anything through.
 */
class LimitedExchange implements StopOrderVenue, OrderRateMeter {
  readonly open = new Map<string, StopOrder>();
  readonly queue: Waiting[] = [];
  readonly refuse = new Set<string>();
  /** When each refused symbol's placement was answered by the exchange (after leaving the queue). */
  readonly refusedAt = new Map<string, number>();
  placements = 0;
  stuck = false;
  per10s: number;
  #window = -1;
  #count = 0;
  #pumpAt: number | undefined;

  constructor(
    readonly clock: VirtualClock,
    per10s: number,
    readonly maxQty = d('1000'),
    readonly latencyMs = 20,
  ) {
    this.per10s = per10s;
  }

  /** Fails every waiting request unsent, as `WeightBudget.close` does when the process stops. */
  close(): void {
    for (const waiting of this.queue.splice(0)) waiting.fail(new BudgetClosedError());
  }

  /** Lifts the limit and lets everything waiting through (so a test can stop the ladders). */
  release(): void {
    this.stuck = false;
    this.per10s = Number.MAX_SAFE_INTEGER;
    this.#pump();
  }

  placeStop(r: StopOrderRequest): Promise<StopOrder> {
    return this.#enqueue(true, () => {
      this.placements += 1;
      if (this.refuse.has(r.symbol)) {
        if (!this.refusedAt.has(r.symbol)) this.refusedAt.set(r.symbol, this.clock.now());
        throw new BinanceApiError(400, -2019, 'Margin is insufficient.', 'POST', '/fapi/v1/algoOrder');
      }
      if (r.quantity.gt(this.maxQty))
        throw new BinanceApiError(
          400,
          -4005,
          'Quantity greater than max quantity.',
          'POST',
          '/fapi/v1/algoOrder',
        );
      const stop: StopOrder = { ...r, status: 'NEW', reduceOnly: true, updateTime: this.clock.now() };
      this.open.set(r.clientAlgoId, stop);
      return stop;
    });
  }

  cancelStop(_symbol: string, id: string): Promise<void> {
    return this.#enqueue(false, () => {
      this.open.delete(id);
    });
  }

  openStops(symbol?: string): Promise<StopOrder[]> {
    return this.#enqueue(false, () =>
      [...this.open.values()].filter((s) => symbol === undefined || s.symbol === symbol),
    );
  }

  of(symbol: string): StopOrder[] {
    return [...this.open.values()].filter((s) => s.symbol === symbol);
  }

  usage(): OrderRateUsage {
    return { count10s: this.#count, limit10s: this.per10s, count1m: 0, limit1m: null };
  }

  record(): void {}

  holding(): boolean {
    return this.queue.length > 0;
  }

  #enqueue<T>(isOrder: boolean, answer: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        isOrder,
        fail: reject,
        run: () =>
          this.clock.schedule(this.clock.now() + this.latencyMs, () => {
            try {
              resolve(answer());
            } catch (error) {
              reject(error);
            }
          }),
      });
      this.#pump();
    });
  }

  #pump(): void {
    const now = this.clock.now();
    for (;;) {
      const head = this.queue[0];
      if (head === undefined || this.stuck) return;
      const window = Math.floor(now / 10_000);
      if (window !== this.#window) {
        this.#window = window;
        this.#count = 0;
      }
      if (head.isOrder && this.#count >= this.per10s) {
        const at = (window + 1) * 10_000;
        if (this.#pumpAt !== at) {
          this.#pumpAt = at;
          this.clock.schedule(at, () => this.#pump());
        }
        return;
      }
      if (head.isOrder) this.#count += 1;
      this.queue.shift();
      head.run();
    }
  }
}

/** Lets promise continuations run (the ladders' awaits) after the virtual clock ran its tasks. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Ladders on `exchange` for `symbols` (each one lot step of 0.001, market maxQty `marketMaxQty`). */
async function rig(
  exchange: LimitedExchange,
  symbols: readonly string[],
  more: Partial<StopLossSettings> = {},
  marketMaxQty = '1000',
) {
  const clock = exchange.clock;
  const events: RiskEvent[] = [];
  const sink = { emit: (e: RiskEvent) => events.push(e) };
  const account = new StaticAccount();
  const rules = new SymbolRules(
    symbols.map((symbol) => ({
      symbol,
      tickSize: '0.01',
      stepSize: '0.001',
      minQty: '0.001',
      maxQty: '1000',
      marketStepSize: '0.001',
      marketMinQty: '0.001',
      marketMaxQty,
    })),
  );
  const state = new RiskState(new MemoryRiskStateStore(), sink, silentLogger('state'), () => clock.now());
  const ladders = new StopLossLadders({
    venue: exchange,
    rules,
    account,
    state,
    settings: { ...defaultRiskSettings().stopLoss, ...more },
    clock,
    events: sink,
    logger: silentLogger('stop-loss'),
    orderRate: exchange,
  });
  const started = ladders.start();
  await run(clock, 100);
  await started;
  const failures = () => events.filter((e) => e.kind === 'stop-loss-failure');
  return { clock, events, failures, account, ladders };
}

/** Advances the virtual clock by `ms` in 50 ms steps, letting the ladders' promises run at each. */
async function run(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  while (clock.now() < end) {
    clock.advanceTo(Math.min(end, clock.now() + 50));
    await settle();
  }
}

/** Whether every one of `symbols` has stops covering its whole position. */
function allCovered(exchange: LimitedExchange, account: StaticAccount, symbols: readonly string[]): boolean {
  return symbols.every((s) => coverage(exchange.of(s), account.position(s).amount).eq(d('1')));
}

const many = (n: number) => Array.from({ length: n }, (_, i) => `S${i}USDT`);

describe('StopLossLadders behind the order-rate limit', () => {
  it('raises no failure for ladders waiting their turn in the limiter, while they queue and drain', async () => {
    // 100 positions opened at once: 500 stops at 50 orders per 10 s take ~100 s to place, far past
    // the 5 s grace; every ladder is waiting, none is refused.
    const symbols = many(100);
    const exchange = new LimitedExchange(new VirtualClock(T0), 50);
    const { clock, failures, account, ladders } = await rig(exchange, symbols);
    for (const s of symbols) account.set(s, '1', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 20_000);
    expect(failures()).toEqual([]);
    // Still queued 20 s in, past the grace, and said to be.
    expect(exchange.holding()).toBe(true);
    expect(ladders.watch.queued().length).toBeGreaterThan(0);
    await run(clock, 120_000);
    expect(exchange.queue.length).toBe(0);
    expect(allCovered(exchange, account, symbols)).toBe(true);
    expect(failures()).toEqual([]);
    expect(ladders.watch.underCovered()).toEqual([]);
    await ladders.stop();
  }, 60_000);

  it('still alerts at once for a ladder the exchange refused among the queued ones', async () => {
    const symbols = many(60);
    const exchange = new LimitedExchange(new VirtualClock(T0), 50);
    exchange.refuse.add('S7USDT');
    const { clock, failures, account, ladders } = await rig(exchange, symbols);
    for (const s of symbols) account.set(s, '1', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 90_000);
    const refusedAt = exchange.refusedAt.get('S7USDT');
    expect(refusedAt).toBeDefined();
    const bad = failures().filter((e) => e.symbol === 'S7USDT');
    expect(bad.length).toBeGreaterThan(0);
    // Within the grace of the exchange's answer, not the queued bound.
    expect((bad[0]?.at ?? Number.POSITIVE_INFINITY) - (refusedAt ?? 0)).toBeLessThanOrEqual(5_000);
    expect(failures().filter((e) => e.symbol !== 'S7USDT')).toEqual([]);
    await ladders.stop();
  }, 60_000);

  it('alerts when the limiter stops letting anything through (a stuck queue is a failure)', async () => {
    const symbols = many(20);
    const exchange = new LimitedExchange(new VirtualClock(T0), 50);
    const { clock, failures, account, ladders } = await rig(exchange, symbols);
    exchange.stuck = true;
    for (const s of symbols) account.set(s, '1', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 30_000);
    expect(failures()).toEqual([]);
    // Nothing through for a whole order window and the grace: every position is reported, long
    // before the queued bound of 5 minutes.
    await run(clock, 60_000);
    expect(new Set(failures().map((e) => e.symbol))).toEqual(new Set(symbols));
    exchange.release();
    await run(clock, 1_000);
    await ladders.stop();
  }, 60_000);

  it('stops without waiting for the limiter once the waiting requests are failed unsent, and raises no failure', async () => {
    // 100 ladders queued behind 50 orders per 10 s: a stop that waited for them would take ~100 s.
    const symbols = many(100);
    const exchange = new LimitedExchange(new VirtualClock(T0), 50);
    const { clock, failures, account, ladders } = await rig(exchange, symbols);
    for (const s of symbols) account.set(s, '1', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 5_000);
    expect(exchange.queue.length).toBeGreaterThan(0);
    let stopped = false;
    const stopping = ladders.stop().then(() => {
      stopped = true;
    });
    exchange.close();
    // The requests already at the exchange are answered; nothing waits for the next window.
    await run(clock, 1_000);
    expect(stopped).toBe(true);
    await stopping;
    expect(failures()).toEqual([]);
    expect(exchange.queue.length).toBe(0);
  }, 60_000);

  it('bounds a queue that drains too slowly by queuedGraceMs', async () => {
    // 2 orders per 10 s for 30 ladders: a 12-minute drain, past the 5-minute bound.
    const symbols = many(30);
    const exchange = new LimitedExchange(new VirtualClock(T0), 2);
    const { clock, failures, account, ladders } = await rig(exchange, symbols);
    for (const s of symbols) account.set(s, '1', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 290_000);
    expect(failures()).toEqual([]);
    await run(clock, 20_000);
    expect(failures().length).toBeGreaterThan(0);
    expect(failures()[0]?.detail).toMatch(/queued bound 300000 ms/);
    exchange.release();
    await run(clock, 1_000);
    await ladders.stop();
  }, 60_000);

  it('bounds the queue by the configured risk.stopLoss.queuedGraceMs', async () => {
    // The same slow drain, with the bound set to 1 minute in the configuration.
    const configured = readTributaryConfig({ risk: { stopLoss: { queuedGraceMs: 60_000 } } }, 'test');
    const symbols = many(30);
    const exchange = new LimitedExchange(new VirtualClock(T0), 2);
    const { clock, failures, account, ladders } = await rig(exchange, symbols, configured.risk.stopLoss);
    for (const s of symbols) account.set(s, '1', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 55_000);
    expect(failures()).toEqual([]);
    await run(clock, 10_000);
    expect(failures().length).toBeGreaterThan(0);
    expect(failures()[0]?.detail).toMatch(/queued bound 60000 ms/);
    exchange.release();
    await run(clock, 1_000);
    await ladders.stop();
  }, 60_000);
});

describe('StopLossLadders with a rung over maxQty', () => {
  it('places the rung as several stops at its trigger, each within maxQty, and keeps that ladder', async () => {
    // 700 / 5 = 140 per rung over a market maxQty of 120: each rung goes as two stops of 70.
    const exchange = new LimitedExchange(new VirtualClock(T0), 1_000, d('120'));
    const { clock, failures, account, ladders } = await rig(exchange, ['BIGUSDT'], {}, '120');
    account.set('BIGUSDT', '700', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 2_000);
    const stops = exchange.of('BIGUSDT');
    expect(failures()).toEqual([]);
    expect(stops).toHaveLength(10);
    for (const s of stops) expect(s.quantity.lte(d('120'))).toBe(true);
    expect(coverage(stops, d('700')).toString()).toBe('700.000');
    const byRung = new Map<number, StopOrder[]>();
    for (const s of stops) {
      const slot = parseLadderStopId(s.clientAlgoId);
      if (slot === undefined) throw new Error(`not a ladder stop: ${s.clientAlgoId}`);
      byRung.set(slot.rung, [...(byRung.get(slot.rung) ?? []), s]);
    }
    expect([...byRung.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const parts of byRung.values()) {
      expect(parts).toHaveLength(2);
      expect(parts[0]?.triggerPrice?.eq(parts[1]?.triggerPrice ?? d('0'))).toBe(true);
    }
    // Reconciles after it keep the split ladder: no new generation, nothing placed again.
    const placed = exchange.placements;
    await run(clock, 40_000);
    expect(exchange.placements).toBe(placed);
    expect(
      exchange
        .of('BIGUSDT')
        .map((s) => s.clientAlgoId)
        .sort(),
    ).toEqual(stops.map((s) => s.clientAlgoId).sort());
    expect(ladders.stats.laddersPlaced).toBe(1);
    await ladders.stop();
  });

  it('gives a position needing more stops than the symbol may hold the largest ladder it may hold, reported once, the rest alerted', async () => {
    // 1,300 at a maxQty of 120: 5 rungs of 260, 3 stops each, 15 stops against maxOpenStops 10.
    const exchange = new LimitedExchange(new VirtualClock(T0), 1_000, d('120'));
    const { clock, failures, account, ladders } = await rig(exchange, ['HUGEUSDT'], {}, '120');
    account.set('HUGEUSDT', '1300', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 3_000);
    // Ten stops of exactly maxQty, two at each rung's trigger: 1,200 of the 1,300 protected.
    const stops = exchange.of('HUGEUSDT');
    expect(stops).toHaveLength(10);
    for (const s of stops) expect(s.quantity.toString()).toBe('120.000');
    expect(coverage(stops, d('1300')).toString()).toBe('1200.000');
    const rungs = stops.map((s) => parseLadderStopId(s.clientAlgoId)?.rung).sort();
    expect(rungs).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    const capped = failures().filter((e) => e.detail.includes('needs 15 stop orders'));
    expect(capped).toHaveLength(1);
    expect(capped[0]?.detail).toBe(
      'a ladder for 1300 needs 15 stop orders of at most 120.000 each, more than the 10 allowed: 10 stops cover 1200.000 of it; the rest has no stop: reduce the position',
    );
    expect(ladders.stats.capped).toBe(1);
    expect(ladders.stats.laddersPlaced).toBe(1);
    // Later reconciles keep that ladder (no churn) and do not report it again; the unprotected
    // rest is alerted by the coverage watch.
    const placed = exchange.placements;
    await run(clock, 40_000);
    expect(exchange.placements).toBe(placed);
    expect(failures().filter((e) => e.detail.includes('needs 15 stop orders'))).toHaveLength(1);
    expect(failures().some((e) => e.detail.startsWith('stops cover 1200.000 of 1300'))).toBe(true);
    // The position shrinks under the cap: a full ladder replaces the capped one.
    account.set('HUGEUSDT', '1000', '100');
    ladders.positionsMaybeChanged();
    await run(clock, 5_000);
    expect(coverage(exchange.of('HUGEUSDT'), d('1000')).toString()).toBe('1000.000');
    expect(ladders.stats.laddersPlaced).toBe(2);
    await ladders.stop();
  });
});
