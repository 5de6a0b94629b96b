import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { BinanceApiError } from '../../ts/exchange/exchange-errors.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { BudgetClosedError } from '../../ts/exchange/weight-budget.js';
import { silentLogger } from '../../ts/log/logger.js';
import { VirtualClock } from '../engine/engine-clock.js';
import type { OrderIntent } from '../engine/events.js';
import { ExposureTracker } from '../engine/exposure-tracker.js';
import { StaticMarket } from '../risk/testing/static-views.js';
import { clientOrderId } from './client-order-ids.js';
import { OrderExecutor, UNLISTED_SYMBOL_STATUS } from './order-executor.js';
import { MemoryOrderJournal } from './order-journal.js';
import { OrderOutcomeUnknownError } from './order-sender.js';
import { SymbolRules } from './symbol-rules.js';
import type { Venue, VenueOrder } from './venue.js';

const T0 = Date.UTC(2026, 4, 8);

const intent: OrderIntent = {
  key: { strategy: 'test', symbol: 'BTCUSDT', time: T0 - 1 },
  leg: 0,
  symbol: 'BTCUSDT',
  side: 'BUY',
  quantity: Decimal.parse('1.000'),
  reduceOnly: false,
  execution: { kind: 'market' },
  referencePrice: Decimal.parse('100000'),
  reason: 'test',
};

/** An executor of BTCUSDT orders (step 0.001, price 100,000) on `venue`, with a journal in memory. */
function executorFor(
  venue: Venue,
  clock: VirtualClock,
  tracker: ExposureTracker,
  journal = new MemoryOrderJournal(),
): OrderExecutor {
  const market = new StaticMarket();
  market.set('BTCUSDT', '100000');
  return new OrderExecutor({
    venue,
    rules: new SymbolRules([{ symbol: 'BTCUSDT', stepSize: '0.001', minQty: '0.001', maxQty: '1000' }]),
    clock,
    journal,
    tracker,
    market,
    logger: silentLogger('executor'),
  });
}

describe('OrderExecutor and exchange answers', () => {
  it('an unknown order resolved by a query stamped in microseconds counts once the account shows it', async () => {
    const clock = new VirtualClock(T0);
    let sent: VenueOrder | undefined;
    const venue = {
      name: 'fake',
      place: async (order: VenueOrder) => {
        sent = order;
        throw new OrderOutcomeUnknownError('place', order.symbol, order.clientOrderId, 'test: timeout');
      },
      // The order ran; the query's answer carries its update time in µs.
      query: async () =>
        ({
          status: 'FILLED',
          executedQty: Decimal.parse('1.000'),
          updateTime: (T0 + 5) * 1000,
        }) as unknown as OrderRecord,
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const tracker = new ExposureTracker();
    const executor = executorFor(venue, clock, tracker);
    await executor.submit(intent);
    expect(sent).toBeDefined();
    expect(await executor.resolveUnknown()).toBe(0);
    // The account shows the fill with its own (millisecond) time.
    const position = {
      amount: Decimal.parse('1.000'),
      entryPrice: Decimal.parse('100000'),
      updateTime: T0 + 5,
    };
    expect(tracker.expected('BTCUSDT', position).toString()).toBe('1.000');
  });

  it('holds no outcome of orders it is not placing: foreign orders and its own after they settled', async () => {
    const clock = new VirtualClock(T0);
    const listeners: ((u: Parameters<OrderExecutor['onOrderUpdate']>[0]) => void)[] = [];
    let sentId = '';
    const update = (clientOrderId: string) =>
      ({
        clientOrderId,
        symbol: 'BTCUSDT',
        side: 'BUY',
        executionType: 'TRADE',
        status: 'FILLED',
        lastFilledQuantity: '1.000',
        cumulativeFilledQuantity: '1.000',
      }) as Parameters<OrderExecutor['onOrderUpdate']>[0];
    const venue = {
      name: 'fake',
      // The fill's event comes while the placement is awaited, then the answer says FILLED too.
      place: async (order: VenueOrder) => {
        sentId = order.clientOrderId;
        for (const l of listeners) l(update(order.clientOrderId));
        return { status: 'FILLED', executedQty: order.quantity, updateTime: T0 } as unknown as OrderRecord;
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const executor = executorFor(venue, clock, new ExposureTracker());
    listeners.push((u) => executor.onOrderUpdate(u));
    await executor.submit(intent);
    // Its own order's event again after it settled, and a thousand orders it never sent.
    for (const l of listeners) l(update(sentId));
    for (let i = 0; i < 1000; i++) executor.onOrderUpdate(update(`stop-${i}`));
    expect(executor.stats.orders).toBe(1);
    expect(executor.heldOutcomes).toBe(0);
  });

  it('settles an order its stopping process never sent (the weight budget closed) as NOT_SENT, not as unknown', async () => {
    const clock = new VirtualClock(T0);
    const venue = {
      name: 'fake',
      place: async () => {
        throw new BudgetClosedError();
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const journal = new MemoryOrderJournal();
    const tracker = new ExposureTracker();
    const executor = executorFor(venue, clock, tracker, journal);
    await executor.submit(intent);
    expect(journal.unresolved()).toEqual([]);
    expect(journal.all().map((e) => e.status)).toEqual(['NOT_SENT']);
    expect(executor.stats.rejected).toBe(0);
    const flat = { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: T0 };
    expect(tracker.expected('BTCUSDT', flat).isZero()).toBe(true);
  });

  describe('orders a restart left working', () => {
    /** A journal holding one post-only buy sent before the restart, whose outcome it never learnt. */
    const journalWithLeftOrder = (): MemoryOrderJournal => {
      const journal = new MemoryOrderJournal();
      journal.begin({
        clientOrderId: 'left-1',
        symbol: 'BTCUSDT',
        side: 'BUY',
        quantity: '1.000',
        reduceOnly: false,
        kind: 'post-only',
        decidedAt: T0 - 60_000,
      });
      return journal;
    };
    /** A venue where the order rests, partly filled, until a cancel reaches it (or every cancel fails). */
    const venueWithLeftOrder = (cancels: 'work' | 'fail') => {
      let status = 'PARTIALLY_FILLED';
      const cancelled: string[] = [];
      const venue = {
        name: 'fake',
        query: async () =>
          ({ status, executedQty: Decimal.parse('0.400'), updateTime: T0 }) as unknown as OrderRecord,
        cancel: async (_symbol: string, clientOrderId: string) => {
          if (cancels === 'fail') throw new Error('test: exchange unreachable');
          cancelled.push(clientOrderId);
          status = 'CANCELED';
          return { status, executedQty: Decimal.parse('0.400'), updateTime: T0 } as unknown as OrderRecord;
        },
        onUserEvent: () => () => {},
      } as unknown as Venue;
      return { venue, cancelled };
    };

    /** A venue whose every query Binance refuses with `code` (a cancel fails too: nothing rests). */
    const venueWhoseQueryFails = (status: number, code: number, msg: string): Venue =>
      ({
        name: 'fake',
        query: async () => {
          throw new BinanceApiError(status, code, msg, 'GET', '/fapi/v1/order');
        },
        cancel: async () => {
          throw new Error('test: nothing to cancel');
        },
        onUserEvent: () => () => {},
      }) as unknown as Venue;

    it('cancels it before the strategy trades and settles it from the exchange', async () => {
      const journal = journalWithLeftOrder();
      const { venue, cancelled } = venueWithLeftOrder('work');
      const executor = executorFor(venue, new VirtualClock(T0), new ExposureTracker(), journal);
      expect(await executor.cancelLeftOpen()).toEqual({ cancelled: 1, open: 0 });
      expect(cancelled).toEqual(['left-1']);
      expect(journal.get('left-1')).toMatchObject({ status: 'CANCELED', executedQty: '0.400' });
      expect(journal.unresolved()).toEqual([]);
    });

    it('settles without a fill an order of a symbol the exchange no longer lists, so the trader can start', async () => {
      const journal = journalWithLeftOrder();
      const venue = venueWhoseQueryFails(400, -1121, 'Invalid symbol.');
      const executor = executorFor(venue, new VirtualClock(T0), new ExposureTracker(), journal);
      expect(await executor.cancelLeftOpen()).toEqual({ cancelled: 0, open: 0 });
      expect(journal.get('left-1')).toMatchObject({ status: UNLISTED_SYMBOL_STATUS, executedQty: '0' });
      expect(journal.unresolved()).toEqual([]);
    });

    it('keeps it unresolved, and the start fails, when the query fails otherwise', async () => {
      const journal = journalWithLeftOrder();
      const venue = venueWhoseQueryFails(503, -1007, 'Timeout waiting for response from backend server.');
      const executor = executorFor(venue, new VirtualClock(T0), new ExposureTracker(), journal);
      await expect(executor.cancelLeftOpen()).rejects.toThrow(/-1007/);
      expect(journal.unresolved().map((e) => e.clientOrderId)).toEqual(['left-1']);
    });

    it('keeps it unresolved, and says so, when the cancel fails', async () => {
      const journal = journalWithLeftOrder();
      const { venue } = venueWithLeftOrder('fail');
      const executor = executorFor(venue, new VirtualClock(T0), new ExposureTracker(), journal);
      expect(await executor.cancelLeftOpen()).toEqual({ cancelled: 0, open: 1 });
      expect(journal.unresolved().map((e) => e.clientOrderId)).toEqual(['left-1']);
    });
  });
});

describe('OrderExecutor and orders of unknown outcome', () => {
  it('sends nothing for a symbol while an unresolved order of it is still working, and releases the intent', async () => {
    const journal = new MemoryOrderJournal();
    // Left by the previous run; cancelLeftOpen could not cancel it.
    journal.begin({
      clientOrderId: 'm_left',
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1.000',
      reduceOnly: false,
      kind: 'post-only',
      decidedAt: T0 - 60_000,
    });
    const placed: VenueOrder[] = [];
    const venue = {
      name: 'fake',
      query: async () =>
        ({ status: 'NEW', executedQty: Decimal.ZERO, updateTime: T0 - 60_000 }) as unknown as OrderRecord,
      place: async (order: VenueOrder) => {
        placed.push(order);
        return { status: 'FILLED', executedQty: order.quantity, updateTime: T0 } as unknown as OrderRecord;
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const tracker = new ExposureTracker();
    const executor = executorFor(venue, new VirtualClock(T0), tracker, journal);
    await executor.submit(intent);
    expect(journal.unresolved().map((e) => e.clientOrderId)).toEqual(['m_left']);
    expect(placed).toEqual([]);
    expect(executor.stats.blocked).toBe(1);
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0);
  });

  it('still sends a reduce-only intent (a close) while an unresolved order of its symbol is working', async () => {
    const journal = new MemoryOrderJournal();
    journal.begin({
      clientOrderId: 'm_left',
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1.000',
      reduceOnly: false,
      kind: 'post-only',
      decidedAt: T0 - 60_000,
    });
    const placed: VenueOrder[] = [];
    const venue = {
      name: 'fake',
      query: async () =>
        ({ status: 'NEW', executedQty: Decimal.ZERO, updateTime: T0 - 60_000 }) as unknown as OrderRecord,
      place: async (order: VenueOrder) => {
        placed.push(order);
        return { status: 'FILLED', executedQty: order.quantity, updateTime: T0 } as unknown as OrderRecord;
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const executor = executorFor(venue, new VirtualClock(T0), new ExposureTracker(), journal);
    await executor.submit({ ...intent, side: 'SELL', reduceOnly: true });
    expect(placed.map((o) => [o.side, o.reduceOnly])).toEqual([['SELL', true]]);
    expect(executor.stats.blocked).toBe(0);
  });

  it('with the gateway unreachable, keeps the first order pending and releases a later intent that sent nothing', async () => {
    let gatewayUp = false;
    const placed: string[] = [];
    // What GatewayVenue does: an unreachable gateway is an unknown outcome, for place and for query.
    const venue = {
      name: 'fake via gateway',
      place: async (order: VenueOrder) => {
        placed.push(order.clientOrderId);
        throw new OrderOutcomeUnknownError('place', order.symbol, order.clientOrderId, 'gateway unreachable');
      },
      query: async (symbol: string, id: string) => {
        if (!gatewayUp) throw new OrderOutcomeUnknownError('place', symbol, id, 'gateway unreachable');
        return {
          status: 'FILLED',
          executedQty: Decimal.parse('1.000'),
          updateTime: T0 + 5,
        } as unknown as OrderRecord;
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const tracker = new ExposureTracker();
    const executor = executorFor(venue, new VirtualClock(T0 + 10), tracker);
    const at = (time: number, qty: string): OrderIntent => ({
      ...intent,
      key: { ...intent.key, time },
      quantity: Decimal.parse(qty),
    });
    await executor.submit(at(T0, '1.000')); // placed, outcome unknown (it did fill 1.000)
    await executor.submit(at(T0 + 1, '0.500')); // blocked by the unknown one: nothing sent
    expect(placed).toHaveLength(1);
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(1);
    gatewayUp = true;
    expect(await executor.resolveUnknown()).toBe(0);
    // The account shows the 1.000 filled; nothing else is on its way.
    const position = {
      amount: Decimal.parse('1.000'),
      entryPrice: Decimal.parse('100000'),
      updateTime: T0 + 6,
    };
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0);
    expect(tracker.expected('BTCUSDT', position).toNumber()).toBe(1);
  });

  it('a repeated decision taking over its order from before a restart releases what that order filled then', async () => {
    const decided: OrderIntent = { ...intent, key: { ...intent.key, time: T0 - 60_000 } };
    const id = clientOrderId({ key: decided.key, leg: 0, slice: 0, attempt: 0, kind: 'market' });
    const journal = new MemoryOrderJournal();
    journal.begin({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1.000',
      reduceOnly: false,
      kind: 'market',
      decidedAt: T0 - 60_000,
    });
    // Still working when the symbol's unknowns are resolved; filled (before this run sent
    // anything) by the time the repeated decision looks it up.
    const answers = ['NEW', 'FILLED'];
    const placed: VenueOrder[] = [];
    const venue = {
      name: 'fake',
      query: async () =>
        ({
          status: answers.shift() ?? 'FILLED',
          executedQty: Decimal.parse('1.000'),
          updateTime: T0 - 1,
        }) as unknown as OrderRecord,
      place: async (order: VenueOrder) => {
        placed.push(order);
        throw new Error('must not be sent again');
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const tracker = new ExposureTracker();
    const executor = executorFor(venue, new VirtualClock(T0), tracker, journal);
    await executor.submit(decided);
    expect(placed).toEqual([]);
    expect(journal.unresolved()).toEqual([]);
    // The account shows the 1.000 the order filled: the engine must expect 1.000, not 2.000.
    const position = { amount: Decimal.parse('1.000'), entryPrice: Decimal.parse('100000'), updateTime: T0 };
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0);
    expect(tracker.expected('BTCUSDT', position).toNumber()).toBe(1);
  });
});
