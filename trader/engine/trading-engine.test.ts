import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { MemoryOrderJournal } from '../execution/order-journal.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue, VenueOrder } from '../execution/venue.js';
import { PreTradeRisk } from '../risk/pre-trade-risk.js';
import { RiskEventLog } from '../risk/risk-events.js';
import { RiskState } from '../risk/risk-state.js';
import { MemoryRiskStateStore } from '../risk/risk-state-store.js';
import { StaticAccount, StaticMarket } from '../risk/testing/static-views.js';
import type { Strategy } from '../strategies/strategy-api.js';
import { VirtualClock } from './engine-clock.js';
import type { RiskGate } from './risk-gate.js';
import { TradingEngine } from './trading-engine.js';

const T0 = Date.UTC(2026, 4, 8);
type OrderUpdate = NonNullable<UserEventObject['orderUpdate']>;

/** A venue that fills every order at once at 100,000 and whose user events the test emits. */
function fakeVenue(now: () => number) {
  const listeners = new Set<(event: UserEventObject) => void>();
  const placed: VenueOrder[] = [];
  const emit = (event: UserEventObject): void => {
    for (const l of listeners) l(event);
  };
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
    onUserEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { venue, emit, placed };
}

/** A trade event of `clientOrderId` as the exchange sends it. */
function trade(clientOrderId: string, side: 'BUY' | 'SELL', qty: string, time: number): UserEventObject {
  const orderUpdate: OrderUpdate = {
    eventTime: time,
    transactionTime: time,
    symbol: 'BTCUSDT',
    clientOrderId,
    side,
    orderType: 'MARKET',
    timeInForce: 'GTC',
    originalQuantity: qty,
    price: '0',
    averagePrice: '100000',
    executionType: 'TRADE',
    status: 'FILLED',
    orderId: '1',
    lastFilledQuantity: qty,
    cumulativeFilledQuantity: qty,
    lastFilledPrice: '100000',
    tradeTime: time,
    tradeId: '7',
    isMaker: false,
    reduceOnly: true,
    workingType: 'CONTRACT_PRICE',
    originalOrderType: 'STOP_MARKET',
    positionSide: 'BOTH',
    closePosition: false,
    realizedProfit: '0',
  };
  return { kind: 'orderTradeUpdate', eventType: 'ORDER_TRADE_UPDATE', eventTime: time, orderUpdate };
}

function rig(journal = new MemoryOrderJournal(), options: { risk?: RiskGate; logger?: Logger } = {}) {
  const clock = new VirtualClock(T0);
  const market = new StaticMarket();
  market.set('BTCUSDT', '100000');
  const account = new StaticAccount();
  const { venue, emit, placed } = fakeVenue(() => clock.now());
  const strategy: Strategy = {
    requirements: { symbols: ['BTCUSDT'], intervals: ['1m'], warmupBars: 0, ticks: false },
  };
  const engine = new TradingEngine({
    name: 'test',
    strategy,
    market,
    account,
    venue,
    rules: new SymbolRules([
      { symbol: 'BTCUSDT', tickSize: '0.1', stepSize: '0.001', minQty: '0.001', maxQty: '1000' },
    ]),
    clock,
    journal,
    logger: options.logger ?? silentLogger('engine'),
    ...(options.risk === undefined ? {} : { risk: options.risk }),
  });
  return { engine, account, emit, clock, placed };
}

describe('TradingEngine and exchange fills', () => {
  it('a fill of an order it did not send (a ladder stop triggering) leaves its pending quantity alone', async () => {
    const { engine, account, emit } = rig();
    await engine.start();
    account.set('BTCUSDT', '1.000', '100000', T0 - 10);
    // A stop-loss ladder stop triggers: its market order is the exchange's, not the engine's.
    emit(trade('sl_stop_fired', 'SELL', '0.200', T0 + 1));
    await engine.idle();
    // The account shows it a moment later.
    account.set('BTCUSDT', '0.800', '100000', T0 + 1);
    expect(engine.tracker.expected('BTCUSDT', account.position('BTCUSDT')).toString()).toBe('0.800');
    // Nothing of the engine's is on its way: the risk side must not see the symbol as busy.
    expect(engine.tracker.pending('BTCUSDT').isZero()).toBe(true);
  });

  it('a fill stamped in microseconds counts once the account shows it, not forever', async () => {
    const { engine, account, emit, clock, placed } = rig();
    await engine.start();
    engine.submitTarget('test', 'BTCUSDT', Decimal.parse('1'), 'open');
    await engine.idle();
    const id = placed[0]?.clientOrderId ?? '';
    expect(id).not.toBe('');
    // Its trade event carries a time in µs (a unit change, a broken relay).
    emit(trade(id, 'BUY', '1.000', (clock.now() + 5) * 1000));
    await engine.idle();
    // The account reflects the fill with its own (millisecond) time.
    account.set('BTCUSDT', '1.000', '100000', clock.now() + 5);
    expect(engine.tracker.expected('BTCUSDT', account.position('BTCUSDT')).toString()).toBe('1.000');
  });

  it('a fill of an order sent before a restart counts until the account shows it, without touching pending', async () => {
    // The previous process journaled a resting order that is still open at the restart.
    const journal = new MemoryOrderJournal();
    journal.begin({
      clientOrderId: 'x-before-restart',
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.500',
      reduceOnly: false,
      kind: 'post-only',
      decidedAt: T0 - 60_000,
    });
    const { engine, account, emit } = rig(journal);
    await engine.start();
    account.set('BTCUSDT', '0', '0', T0 - 10);
    emit(trade('x-before-restart', 'BUY', '0.500', T0 + 1));
    await engine.idle();
    expect(engine.tracker.pending('BTCUSDT').isZero()).toBe(true);
    expect(engine.tracker.expected('BTCUSDT', account.position('BTCUSDT')).toString()).toBe('0.500');
    account.set('BTCUSDT', '0.500', '100000', T0 + 1);
    expect(engine.tracker.expected('BTCUSDT', account.position('BTCUSDT')).toString()).toBe('0.500');
    expect(engine.stats.fillsElsewhere).toBe(1);
  });

  it('a decision repeated after a restart, found filled in the journal, is counted once', async () => {
    const journal = new MemoryOrderJournal();
    const first = rig(journal);
    await first.engine.start();
    first.engine.submitTarget('test', 'BTCUSDT', Decimal.parse('1'), 'open');
    await first.engine.idle();
    const id = first.placed[0]?.clientOrderId ?? '';
    expect(journal.get(id)?.status).toBe('FILLED');
    first.emit(trade(id, 'BUY', '1.000', T0 + 2));
    await first.engine.idle();
    first.engine.stop();

    // The restarted process decides the same at the same time, before the account shows the fill.
    const second = rig(journal);
    await second.engine.start();
    second.account.set('BTCUSDT', '0', '0', T0 - 10);
    second.engine.submitTarget('test', 'BTCUSDT', Decimal.parse('1'), 'open');
    await second.engine.idle();
    expect(second.placed).toHaveLength(0);
    expect(second.engine.executor.stats.skippedRepeats).toBe(1);
    expect(second.engine.tracker.pending('BTCUSDT').isZero()).toBe(true);
    expect(second.engine.tracker.expected('BTCUSDT', second.account.position('BTCUSDT')).toString()).toBe(
      '1.000',
    );
    second.account.set('BTCUSDT', '1.000', '100000', T0 + 2);
    expect(second.engine.tracker.expected('BTCUSDT', second.account.position('BTCUSDT')).toString()).toBe(
      '1.000',
    );
  });

  it('a decision repeated in the same run leaves no pending quantity behind', async () => {
    const { engine, account, emit, placed } = rig();
    await engine.start();
    account.set('BTCUSDT', '0', '0', T0 - 10);
    const signal = (target: string) => {
      engine.queue.push({
        type: 'signal',
        key: { strategy: 'test', symbol: 'BTCUSDT', time: T0 },
        target: Decimal.parse(target),
        execution: { kind: 'market' },
        reason: 'test',
      });
      void engine.queue.drain();
    };
    signal('1');
    await engine.idle();
    const id = placed[0]?.clientOrderId ?? '';
    emit(trade(id, 'BUY', '1.000', T0 + 2));
    await engine.idle();
    // A second target under the same decision key maps to the same client id: not sent again.
    signal('2');
    await engine.idle();
    expect(placed).toHaveLength(1);
    expect(engine.executor.stats.skippedRepeats).toBe(1);
    expect(engine.tracker.pending('BTCUSDT').isZero()).toBe(true);
    account.set('BTCUSDT', '1.000', '100000', T0 + 2);
    expect(engine.tracker.expected('BTCUSDT', account.position('BTCUSDT')).toString()).toBe('1.000');
  });
});

describe('TradingEngine and risk refusals', () => {
  it('counts every refusal and leaves its lines to the risk event log: one a minute per symbol and rule, not one per order', async () => {
    const lines: string[] = [];
    const logger = new Logger('trader', { level: 'info', format: 'json', sink: (line) => lines.push(line) });
    const events = new RiskEventLog(logger.child('risk'));
    // A gate refusing as PreTradeRisk does before the account has reported a balance.
    const risk: RiskGate = {
      check: (intent, ctx) => {
        events.emit({
          kind: 'risk-action',
          action: 'refuse',
          symbol: intent.symbol,
          reason: 'balance-unknown: no balance reported yet',
          at: ctx.now,
        });
        return { allowed: false, rule: 'balance-unknown', reason: 'no balance reported yet' };
      },
    };
    const { engine, clock, placed } = rig(undefined, { risk, logger: logger.child('engine') });
    await engine.start();
    // A strategy that asks again on every tick: fifty decisions in five seconds.
    for (let i = 1; i <= 50; i++) {
      clock.advanceTo(T0 + i * 100);
      engine.submitTarget('strategy', 'BTCUSDT', Decimal.parse(`0.${String(i).padStart(3, '0')}`), 'signal');
      await engine.idle();
    }
    expect(placed).toEqual([]);
    expect(engine.stats.refusedByRisk).toBe(50);
    expect(events.stats().suppressed).toBe(49);
    const warnings = lines
      .map((l) => JSON.parse(l) as { level: string; msg: string })
      .filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.msg)).toEqual(['risk refuse']);
  });
});

/** A venue that accepts every order and leaves it resting (accepted, no fill reported: still in flight). */
function restingVenue(now: () => number) {
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
        status: 'NEW',
        origQty: order.quantity,
        executedQty: '0',
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

const SYMBOLS = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'];

/** Three symbols at 100 behind `PreTradeRisk` with maxTotalNotional 20,000 (10,000 a symbol); orders rest. */
function limitRig(strategy: Strategy) {
  const clock = new VirtualClock(T0);
  const market = new StaticMarket();
  for (const s of SYMBOLS) market.set(s, '100');
  const account = new StaticAccount();
  account.equityValue = Decimal.parse('100000');
  const preTrade = {
    ...defaultRiskSettings().preTrade,
    maxTotalNotional: '20000',
    maxSymbolNotional: '10000',
  };
  const events = new RiskEventLog(silentLogger('events'));
  const state = new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => clock.now());
  const gate = new PreTradeRisk({ state, settings: preTrade, events });
  const { venue, placed } = restingVenue(() => clock.now());
  const engine = new TradingEngine({
    name: 'test',
    strategy,
    market,
    account,
    venue,
    rules: new SymbolRules(
      SYMBOLS.map((symbol) => ({ symbol, tickSize: '0.01', stepSize: '1', minQty: '1', maxQty: '100000' })),
    ),
    clock,
    journal: new MemoryOrderJournal(),
    logger: silentLogger('engine'),
    risk: gate,
  });
  return { engine, placed, gate, market };
}

/** Lets the queue and the executor run (resting market orders keep the executor busy: no idle()). */
async function settle(engine: TradingEngine): Promise<void> {
  await engine.queue.drain();
  await new Promise((r) => setTimeout(r, 20));
}

const notionalAt100 = (placed: readonly VenueOrder[]): number =>
  placed.reduce((sum, o) => sum + Number(o.quantity) * 100, 0);

describe('TradingEngine and the total notional limit (20,000 USDT)', () => {
  it('one bar that opens 9,000 USDT in each of three symbols puts 18,000 on the book, not 27,000', async () => {
    const strategy: Strategy = {
      requirements: { symbols: SYMBOLS, intervals: ['1m'], warmupBars: 0, ticks: false },
      onBar: (ctx, bar) => {
        if (bar.symbol !== 'AAAUSDT') return;
        for (const s of SYMBOLS) ctx.setTarget(s, Decimal.parse('90'), { reason: 'factor weights' });
      },
    };
    const { engine, placed, gate } = limitRig(strategy);
    await engine.start();
    engine.push({
      type: 'bar',
      symbol: 'AAAUSDT',
      interval: '1m',
      openTime: T0 - 60_000,
      closeTime: T0 - 1,
      open: 100,
      high: 100,
      low: 100,
      close: 100,
      volume: 1,
      time: T0,
    });
    await settle(engine);
    // Every signal of the bar is judged before the first order event reaches the executor: an
    // approved leg must count from its approval, or each is judged against a flat book.
    expect(notionalAt100(placed)).toBe(18_000);
    expect(gate.refusals['max-total-notional']).toBe(1);
    // Handed to the executor, each counts once (the approval's count is taken over, not added to).
    expect(engine.tracker.pending('AAAUSDT').toString()).toBe('90');
    expect(engine.tracker.pending('CCCUSDT').isZero()).toBe(true);
  });

  it('an order resting in another symbol the account shows flat counts toward the total', async () => {
    const strategy: Strategy = {
      requirements: { symbols: SYMBOLS, intervals: ['1m'], warmupBars: 0, ticks: false },
    };
    const { engine, placed, gate } = limitRig(strategy);
    await engine.start();
    // Decisions one after the other, each fully submitted before the next is judged.
    for (const s of SYMBOLS) {
      engine.submitTarget('strategy', s, Decimal.parse('90'), 'open');
      await settle(engine);
    }
    // The orders rest (accepted, not filled): the account is flat, but 27,000 USDT would be on its way.
    expect(notionalAt100(placed)).toBe(18_000);
    expect(gate.refusals['max-total-notional']).toBe(1);
  });
});

describe('TradingEngine and a flip under the symbol limit', () => {
  it('judges the opening leg after the approved closing leg, counted once (10,000 USDT a symbol)', async () => {
    const strategy: Strategy = {
      requirements: { symbols: SYMBOLS, intervals: ['1m'], warmupBars: 0, ticks: false },
    };
    const { engine, placed, gate } = limitRig(strategy);
    const account = engine.context.account as StaticAccount;
    account.set('AAAUSDT', '-90', '100', T0 - 10);
    await engine.start();
    // Close 90 (reduce-only), open 95: 9,500 USDT after both. (The orders rest: the executor
    // sends the opening leg once the closing one is done, so count the approvals.)
    engine.submitTarget('strategy', 'AAAUSDT', Decimal.parse('95'), 'flip');
    await settle(engine);
    expect(engine.stats.orders).toBe(2);
    expect(placed.map((o) => `${o.side} ${o.quantity.toString()} ${o.reduceOnly}`)).toEqual(['BUY 90 true']);
    expect(engine.tracker.expected('AAAUSDT', account.position('AAAUSDT')).toString()).toBe('95');
    expect(gate.refusals['max-symbol-notional']).toBe(0);
    // 101 after the flip would be over the limit.
    account.set('CCCUSDT', '-90', '100', T0 - 10);
    engine.submitTarget('strategy', 'CCCUSDT', Decimal.parse('101'), 'flip');
    await settle(engine);
    expect(gate.refusals['max-symbol-notional']).toBe(1);
  });
});

describe('TradingEngine without a last trade price', () => {
  it('sizes at the mid of a sane quote, and sends a close with no price at all', async () => {
    const strategy: Strategy = {
      requirements: { symbols: SYMBOLS, intervals: ['1m'], warmupBars: 0, ticks: false },
    };
    const { engine, placed, market } = limitRig(strategy);
    const account = engine.context.account as StaticAccount;
    await engine.start();
    // AAA: a book with a bid and an ask but no trade yet.
    market.prices.delete('AAAUSDT');
    market.quotes.set('AAAUSDT', { bid: Decimal.parse('99.99'), ask: Decimal.parse('100.01') });
    engine.submitTarget('strategy', 'AAAUSDT', Decimal.parse('5'), 'open');
    await settle(engine);
    expect(placed.map((o) => `${o.symbol} ${o.side} ${o.quantity.toString()}`)).toEqual(['AAAUSDT BUY 5']);
    // BBB: a position, and neither a trade nor a quote. Opening is not planned; closing is.
    market.prices.delete('BBBUSDT');
    account.set('BBBUSDT', '3', '100', T0 - 10);
    engine.submitTarget('strategy', 'BBBUSDT', Decimal.parse('4'), 'grow');
    await settle(engine);
    expect(placed).toHaveLength(1);
    expect(engine.stats.unpricedSignals).toBe(1);
    expect(engine.stats.unsentSignals).toBe(1);
    engine.submitTarget('risk', 'BBBUSDT', Decimal.ZERO, 'force-close');
    await settle(engine);
    expect(
      placed.slice(1).map((o) => `${o.symbol} ${o.side} ${o.quantity.toString()} ${o.reduceOnly}`),
    ).toEqual(['BBBUSDT SELL 3 true']);
    // A quote with a side under one tick is no price: nothing opens on it.
    market.prices.delete('CCCUSDT');
    market.quotes.set('CCCUSDT', {
      bid: Decimal.parse('0.000000000000000001'),
      ask: Decimal.parse('100.01'),
    });
    engine.submitTarget('strategy', 'CCCUSDT', Decimal.parse('5'), 'open');
    await settle(engine);
    expect(placed).toHaveLength(2);
  });

  it('reports a signal of which nothing could be sent to its listeners', async () => {
    const { engine, account } = rig();
    await engine.start();
    const unsent: string[] = [];
    engine.onUnsent((signal, why) => unsent.push(`${signal.key.strategy} ${signal.key.symbol}: ${why}`));
    // A dust position under one step: the close's only leg is below the step after snapping.
    account.set('BTCUSDT', '0.0004', '100000', T0 - 10);
    engine.submitTarget('risk', 'BTCUSDT', Decimal.ZERO, 'force-close');
    engine.submitTarget('risk', 'XYZUSDT', Decimal.ZERO, 'force-close');
    await engine.idle();
    expect(unsent).toEqual([
      'risk BTCUSDT: quantity is below one step after snapping',
      'risk XYZUSDT: the exchange does not list XYZUSDT',
    ]);
    expect(engine.stats.unsentSignals).toBe(2);
  });
});
