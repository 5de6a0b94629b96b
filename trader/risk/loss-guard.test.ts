import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import { VirtualClock } from '../engine/engine-clock.js';
import type { OrderIntent } from '../engine/events.js';
import { TradingEngine } from '../engine/trading-engine.js';
import { MemoryOrderJournal } from '../execution/order-journal.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue, VenueOrder } from '../execution/venue.js';
import type { Strategy } from '../strategies/strategy-api.js';
import { LossGuard, percentAgainst } from './loss-guard.js';
import { PreTradeRisk } from './pre-trade-risk.js';
import { RiskEventLog } from './risk-events.js';
import { RiskState } from './risk-state.js';
import { MemoryRiskStateStore } from './risk-state-store.js';
import { StaticAccount, StaticMarket } from './testing/static-views.js';

function rig(
  store = new MemoryRiskStateStore(),
  market = new StaticMarket(),
  account = new StaticAccount(),
  tickSize?: (symbol: string) => Decimal | undefined,
) {
  let now = 1_000;
  const events = new RiskEventLog(silentLogger('events'));
  const state = new RiskState(store, events, silentLogger('state'), () => now);
  const closes: string[] = [];
  const busy = new Set<string>();
  const guard = new LossGuard({
    state,
    settings: defaultRiskSettings().lossGuard,
    account,
    market,
    events,
    logger: silentLogger('guard'),
    closer: { close: (symbol) => closes.push(symbol), busy: (symbol) => busy.has(symbol) },
    tickSize,
  });
  return {
    guard,
    state,
    closes,
    busy,
    market,
    account,
    store,
    events,
    check: (at: number) => {
      now = at;
      guard.check(at);
    },
  };
}

describe('percentAgainst', () => {
  it('measures the move against a long (price below entry) and a short (above)', () => {
    const d = Decimal.parse;
    expect(percentAgainst(d('1'), d('100'), d('93')).toString()).toBe('7.00000000');
    expect(percentAgainst(d('-1'), d('100'), d('107')).toString()).toBe('7.00000000');
    expect(percentAgainst(d('-1'), d('100'), d('93')).toString()).toBe('-7.00000000');
  });
});

describe('LossGuard', () => {
  it('force-closes a long 7 % under its entry, once, and again after the retry time if still open', () => {
    const r = rig();
    r.account.set('AAAUSDT', '1', '100');
    r.market.set('AAAUSDT', '93.01');
    r.check(1_000);
    expect(r.closes).toEqual([]);
    r.market.set('AAAUSDT', '93');
    r.check(1_500);
    expect(r.closes).toEqual(['AAAUSDT']);
    expect([...r.state.forceClosing().keys()]).toEqual(['AAAUSDT']);
    r.busy.add('AAAUSDT');
    r.check(2_000);
    r.busy.delete('AAAUSDT');
    r.check(3_000);
    expect(r.closes).toEqual(['AAAUSDT']);
    r.check(4_500); // retryMs (3 s) after the first close, still open, nothing on its way
    expect(r.closes).toEqual(['AAAUSDT', 'AAAUSDT']);
    expect(r.guard.resentCloses).toBe(1);
    r.account.set('AAAUSDT', '0', '0');
    r.check(5_000);
    expect(r.state.forceClosing().size).toBe(0);
  });

  it('names the positions it cannot price, which keep close-all from being judged, and logs only when they change', () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = new Logger('guard', {
      level: 'info',
      format: 'json',
      sink: (line) => logged.push(JSON.parse(line) as Record<string, unknown>),
    });
    const market = new StaticMarket();
    const account = new StaticAccount();
    const events = new RiskEventLog(silentLogger('events'));
    const state = new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => 1_000);
    const guard = new LossGuard({
      state,
      settings: { ...defaultRiskSettings().lossGuard, closeAllBelow: '-100' },
      account,
      market,
      events,
      logger,
      closer: { close: () => {}, busy: () => false },
    });
    account.set('AAAUSDT', '10', '100');
    market.set('AAAUSDT', '80'); // -200 USDT: under the -100 close-all line
    account.set('BBBUSDT', '1', '50'); // no price at all
    guard.check(1_000);
    guard.check(2_000);
    expect(guard.unpriced).toEqual(['BBBUSDT']);
    expect(state.closeAll).toBeNull();
    expect(logged.map((l) => l.msg)).toEqual([
      'close-all not judged: open positions without a price or entry',
    ]);
    market.set('BBBUSDT', '50');
    guard.check(3_000);
    expect(guard.unpriced).toEqual([]);
    expect(state.closeAll).not.toBeNull();
  });

  it('judges at the middle of bid and ask when the book has them, and force-closes a short 7 % above', () => {
    const r = rig();
    r.account.set('AAAUSDT', '-2', '100');
    r.market.set('AAAUSDT', '100', { bid: '106.9', ask: '107.1' });
    r.check(1_000);
    expect(r.closes).toEqual(['AAAUSDT']);
  });

  it('finishes a force-close after a restart even when the price has come back', () => {
    const store = new MemoryRiskStateStore();
    const first = rig(store);
    first.account.set('AAAUSDT', '1', '100');
    first.market.set('AAAUSDT', '92');
    first.check(1_000);
    expect(first.closes).toEqual(['AAAUSDT']);
    // Killed before the close filled; the price recovered meanwhile.
    const again = rig(store);
    again.account.set('AAAUSDT', '1', '100');
    again.market.set('AAAUSDT', '100');
    again.check(2_000);
    expect(again.closes).toEqual(['AAAUSDT']);
  });

  it('closes everything and goes REDUCING when total unrealized PnL reaches the limit; the state stays after', () => {
    const r = rig();
    r.account.set('AAAUSDT', '100', '100');
    r.account.set('BBBUSDT', '-100', '100');
    r.market.set('AAAUSDT', '85'); // -1,500 (15 % against: force-closed as well)
    r.market.set('BBBUSDT', '114.99'); // -1,499
    r.check(1_000);
    expect(r.state.closeAll).toBeNull();
    r.market.set('BBBUSDT', '115'); // -1,500: total -3,000
    r.check(1_100);
    expect(r.state.closeAll).not.toBeNull();
    expect(r.state.state).toBe('REDUCING');
    expect(r.closes.sort()).toEqual(['AAAUSDT', 'BBBUSDT']);
    r.account.set('AAAUSDT', '0', '0');
    r.account.set('BBBUSDT', '0', '0');
    r.check(1_200);
    expect(r.state.closeAll).toBeNull();
    expect(r.state.state).toBe('REDUCING');
    expect(r.events.stats().byKind).toMatchObject({ 'risk-action:close-all': 1, 'risk-action:state': 1 });
  });

  it('does not close a long on a last price of zero (no price, not a 100 % loss)', () => {
    const r = rig();
    r.account.set('AAAUSDT', '100', '100');
    r.market.set('AAAUSDT', '0');
    r.check(1_000);
    expect(r.closes).toEqual([]);
    expect(r.state.forceClosing().size).toBe(0);
    expect(r.state.closeAll).toBeNull();
    expect(r.state.state).toBe('ACTIVE');
  });

  it('sends nothing while HALTED, and closes once the owner lifts it', () => {
    const r = rig();
    r.state.setByOwner('HALTED', 'hands off');
    r.account.set('AAAUSDT', '1', '100');
    r.market.set('AAAUSDT', '90');
    r.check(1_000);
    expect(r.closes).toEqual([]);
    expect(r.state.forceClosing().has('AAAUSDT')).toBe(true);
    r.state.setByOwner('ACTIVE', 'go');
    r.check(1_500);
    expect(r.closes).toEqual(['AAAUSDT']);
  });

  it('sends a close anyway when the engine stays busy for five retry periods (an unknown order outcome)', () => {
    const r = rig();
    r.account.set('AAAUSDT', '1', '100');
    r.market.set('AAAUSDT', '90');
    r.busy.add('AAAUSDT');
    r.check(1_000);
    r.check(10_000);
    expect(r.closes).toEqual([]);
    r.check(16_001);
    expect(r.closes).toEqual(['AAAUSDT']);
  });
});

describe('LossGuard on absurd quotes', () => {
  it('a one-sided absurd quote (bid 1e-18) is no price: no force-close of a long, no close-all', () => {
    const r = rig();
    r.account.set('AAAUSDT', '100', '100');
    r.account.set('BBBUSDT', '10', '100');
    r.market.set('AAAUSDT', '100', { bid: '0.000000000000000001', ask: '100.01' });
    r.market.set('BBBUSDT', '100', { bid: '99.99', ask: '100.01' });
    r.check(1_000);
    // Its mid (~50) would put the long 50 % under its entry and the account 5,000 USDT down.
    expect(r.closes).toEqual([]);
    expect(r.state.forceClosing().size).toBe(0);
    expect(r.state.closeAll).toBeNull();
    expect(r.state.state).toBe('ACTIVE');
    expect(r.guard.refusedQuotes).toBe(1);
    // Judged at the last trade instead: the account is flat on it.
    expect(r.guard.unrealizedPnl.isZero()).toBe(true);
  });

  it('a side under one tick, a crossed book or a mid far from the last trade is no price either', () => {
    const tick = Decimal.parse('0.01');
    const r = rig(undefined, undefined, undefined, () => tick);
    r.account.set('AAAUSDT', '1', '0.02');
    // A narrow quote, but its bid is under one tick: 0.005 is 75 % under the entry of 0.02.
    r.market.set('AAAUSDT', '0.02', { bid: '0.005', ask: '0.0055' });
    r.check(1_000);
    r.account.set('BBBUSDT', '1', '100');
    r.market.set('BBBUSDT', '100', { bid: '92.5', ask: '92.4' }); // crossed
    r.check(2_000);
    r.market.set('BBBUSDT', '100', { bid: '70', ask: '70.1' }); // 30 % from the last trade of 100
    r.check(3_000);
    expect(r.closes).toEqual([]);
    expect(r.guard.refusedQuotes).toBe(5);
    // Without a last trade a refused quote leaves the position unpriced (close-all not judged).
    r.market.prices.delete('BBBUSDT');
    r.market.quotes.set('BBBUSDT', { bid: Decimal.parse('92.5'), ask: Decimal.parse('92.4') });
    r.check(4_000);
    expect(r.guard.unpriced).toEqual(['BBBUSDT']);
    expect(r.closes).toEqual([]);
  });
});

/** A venue that fills every order at once. */
function fillingVenue(now: () => number) {
  const placed: VenueOrder[] = [];
  const venue: Venue = {
    name: 'fake',
    place: async (order: VenueOrder): Promise<OrderRecord> => {
      placed.push(order);
      return {
        symbol: order.symbol,
        clientOrderId: order.clientOrderId,
        side: order.side,
        type: order.type,
        status: 'FILLED',
        origQty: order.quantity,
        executedQty: order.quantity,
        reduceOnly: order.reduceOnly,
        updateTime: now(),
      } as unknown as OrderRecord;
    },
    cancel: async () => {
      throw new Error('not used');
    },
    query: async () => null,
    openOrders: async () => [],
    applySettings: async () => [],
    positionMode: async () => false,
    onUserEvent: () => () => undefined,
  };
  return { venue, placed };
}

describe('LossGuard through the engine', () => {
  it('a force-close judged at the mid is sent when the book holds a bid and ask but no trade', async () => {
    const T0 = Date.UTC(2026, 4, 8);
    const clock = new VirtualClock(T0);
    const market = new StaticMarket();
    const account = new StaticAccount();
    const events = new RiskEventLog(silentLogger('events'));
    const state = new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => clock.now());
    const settings = defaultRiskSettings();
    const { venue, placed } = fillingVenue(() => clock.now());
    const strategy: Strategy = {
      requirements: { symbols: ['AAAUSDT'], intervals: ['15m'], warmupBars: 0, ticks: false },
    };
    const engine = new TradingEngine({
      name: 'test',
      strategy,
      market,
      account,
      venue,
      rules: new SymbolRules([
        { symbol: 'AAAUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', maxQty: '1000' },
      ]),
      clock,
      journal: new MemoryOrderJournal(),
      logger: silentLogger('engine'),
      risk: new PreTradeRisk({ state, settings: settings.preTrade, events }),
    });
    const guard = new LossGuard({
      state,
      settings: settings.lossGuard,
      account,
      market,
      events,
      logger: silentLogger('guard'),
      closer: {
        close: (symbol, reason) => engine.submitTarget('risk', symbol, Decimal.ZERO, reason),
        busy: (symbol) => !engine.tracker.pending(symbol).isZero(),
      },
    });
    await engine.start();
    account.set('AAAUSDT', '1', '100', T0 - 10);
    // A bookTicker but no trade yet (no 1m bar either): the guard prices the long at the mid, 90.
    market.quotes.set('AAAUSDT', { bid: Decimal.parse('89.99'), ask: Decimal.parse('90.01') });
    guard.check(clock.now());
    await engine.idle();
    expect([...state.forceClosing().keys()]).toEqual(['AAAUSDT']);
    expect(placed.map((o) => `${o.side} ${o.quantity.toString()} ${o.reduceOnly}`)).toEqual([
      'SELL 1.000 true',
    ]);
    expect(engine.stats.unsentSignals).toBe(0);
  });
});

describe('close-all and the owner', () => {
  it("the owner's ACTIVE ends a close-all still running: what the strategy opens next is not closed at market", () => {
    let now = 1_000_000;
    const settings = defaultRiskSettings();
    const events = new RiskEventLog(silentLogger('events'));
    const state = new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => now);
    const market = new StaticMarket();
    const account = new StaticAccount();
    account.equityValue = Decimal.parse('100000');
    const closes: string[] = [];
    const guard = new LossGuard({
      state,
      settings: settings.lossGuard,
      account,
      market,
      events,
      logger: silentLogger('guard'),
      closer: { close: (s) => closes.push(s), busy: () => false },
    });
    const gate = new PreTradeRisk({ state, settings: settings.preTrade, events });
    const opening: OrderIntent = {
      key: { strategy: 's', symbol: 'CCCUSDT', time: now },
      leg: 0,
      symbol: 'CCCUSDT',
      side: 'BUY',
      quantity: Decimal.parse('1'),
      reduceOnly: false,
      execution: { kind: 'market' },
      referencePrice: Decimal.parse('100'),
      reason: 'strategy',
    };
    // Two losing longs: −3,005 in total trips close-all.
    market.set('AAAUSDT', '70');
    market.set('BBBUSDT', '95');
    account.set('AAAUSDT', '100', '100');
    account.set('BBBUSDT', '1', '100');
    guard.check(now);
    expect(state.closeAll).not.toBeNull();
    expect(state.state).toBe('REDUCING');
    // AAA is closed; BBB's close does not complete (its orders keep failing).
    account.set('AAAUSDT', '0', '0');
    now += 1_000;
    guard.check(now);
    expect(state.closeAll).not.toBeNull();
    // The owner switches back to ACTIVE; the strategy opens CCC.
    state.setByOwner('ACTIVE', 'resume');
    expect(state.closeAll).toBeNull();
    market.set('CCCUSDT', '100');
    expect(gate.check(opening, { market, account, now }).allowed).toBe(true);
    account.set('CCCUSDT', '1', '100');
    closes.length = 0;
    now += 5_000;
    guard.check(now);
    // Not "open, then close at market" for ever; BBB, −5, is left to the owner and the rules.
    expect(closes).toEqual([]);
    expect(state.state).toBe('ACTIVE');
  });
});
