import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { MemoryOrderJournal } from '../execution/order-journal.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue, VenueOrder } from '../execution/venue.js';
import { RiskEventLog } from '../risk/risk-events.js';
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
