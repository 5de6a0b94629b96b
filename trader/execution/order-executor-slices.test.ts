// Intents executed by several orders: what the settled ones filled counts once, and the slices add up to the whole.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { BinanceApiError, TransportError } from '../../ts/exchange/exchange-errors.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { silentLogger } from '../../ts/log/logger.js';
import { VirtualClock } from '../engine/engine-clock.js';
import type { OrderIntent } from '../engine/events.js';
import { ExposureTracker } from '../engine/exposure-tracker.js';
import { StaticMarket } from '../risk/testing/static-views.js';
import { OrderExecutor } from './order-executor.js';
import { MemoryOrderJournal } from './order-journal.js';
import { SymbolRules } from './symbol-rules.js';
import type { Venue, VenueOrder } from './venue.js';
import { VolumeProfile } from './volume-profile.js';

const T0 = Date.UTC(2026, 4, 8);

const base: OrderIntent = {
  key: { strategy: 'test', symbol: 'BTCUSDT', time: T0 - 1 },
  leg: 0,
  symbol: 'BTCUSDT',
  side: 'BUY',
  quantity: Decimal.parse('1.000'),
  reduceOnly: false,
  execution: { kind: 'twap', durationMs: 0, slices: 2 },
  referencePrice: Decimal.parse('100000'),
  reason: 'test',
};

const filled = (order: VenueOrder): OrderRecord =>
  ({ status: 'FILLED', executedQty: order.quantity, updateTime: T0 }) as unknown as OrderRecord;

function executorFor(
  venue: Venue,
  tracker: ExposureTracker,
  journal = new MemoryOrderJournal(),
  extra: { minNotional?: string; profile?: VolumeProfile; quote?: boolean; clock?: VirtualClock } = {},
): OrderExecutor {
  const market = new StaticMarket();
  market.set('BTCUSDT', '100000', extra.quote ? { bid: '99999.9', ask: '100000.1' } : undefined);
  return new OrderExecutor({
    venue,
    rules: new SymbolRules([
      {
        symbol: 'BTCUSDT',
        tickSize: '0.1',
        stepSize: '0.001',
        minQty: '0.001',
        maxQty: '1000',
        ...(extra.minNotional === undefined ? {} : { minNotional: extra.minNotional }),
      },
    ]),
    clock: extra.clock ?? new VirtualClock(T0),
    journal,
    tracker,
    market,
    logger: silentLogger('executor'),
    volumeProfile: () => extra.profile,
  });
}

describe('OrderExecutor with intents of several orders', () => {
  it('a TWAP whose second slice cannot be sent releases only what was not filled', async () => {
    const tracker = new ExposureTracker();
    let sends = 0;
    const venue = {
      name: 'fake',
      place: async (order: VenueOrder) => {
        sends += 1;
        if (sends === 1) {
          // the engine books the slice's trade event as it arrives
          tracker.filled('BTCUSDT', order.quantity, T0 + 1, order.clientOrderId);
          return filled(order);
        }
        // the network is down: the request never left (not an unknown outcome)
        throw new TransportError('POST', '/fapi/v1/order', 'network', false, 'ECONNREFUSED');
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const executor = executorFor(venue, tracker);
    await executor.submit(base);
    expect(sends).toBe(2);
    // 0.5 filled, 0.5 never sent: nothing should be pending any more.
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0);
    // The account shows the 0.5 filled (after the fill): the engine must expect 0.5, not 0.
    const position = {
      amount: Decimal.parse('0.500'),
      entryPrice: Decimal.parse('100000'),
      updateTime: T0 + 2,
    };
    expect(tracker.expected('BTCUSDT', position).toNumber()).toBe(0.5);
  });

  it('a post-only order partly filled whose taker remainder cannot be sent counts the maker fill once', async () => {
    const tracker = new ExposureTracker();
    let sends = 0;
    const venue = {
      name: 'fake',
      place: async (order: VenueOrder) => {
        sends += 1;
        if (sends === 1) {
          tracker.filled('BTCUSDT', Decimal.parse('0.400'), T0 + 1, order.clientOrderId);
          return {
            status: 'CANCELED',
            executedQty: Decimal.parse('0.400'),
            updateTime: T0,
          } as unknown as OrderRecord;
        }
        throw new TransportError('POST', '/fapi/v1/order', 'network', false, 'ECONNREFUSED');
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const executor = executorFor(venue, tracker, new MemoryOrderJournal(), { quote: true });
    await executor.submit({ ...base, execution: { kind: 'post-only' } });
    expect(sends).toBe(2);
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0);
  });

  it('a post-only order partly filled whose end cannot be read keeps its intent pending until a query reads it', async () => {
    const tracker = new ExposureTracker();
    const clock = new VirtualClock(T0);
    let queryUp = false;
    let executor: OrderExecutor | undefined;
    const venue = {
      name: 'fake',
      place: async (order: VenueOrder) => {
        // 0.300 fills while it rests: the engine books the trade event, the executor sees it
        tracker.filled('BTCUSDT', Decimal.parse('0.300'), T0 + 1, order.clientOrderId);
        executor?.onOrderUpdate({
          clientOrderId: order.clientOrderId,
          symbol: 'BTCUSDT',
          side: 'BUY',
          executionType: 'TRADE',
          status: 'PARTIALLY_FILLED',
          lastFilledQuantity: '0.300',
          cumulativeFilledQuantity: '0.300',
        } as Parameters<OrderExecutor['onOrderUpdate']>[0]);
        return { status: 'NEW', executedQty: Decimal.ZERO, updateTime: T0 } as unknown as OrderRecord;
      },
      cancel: async () => {
        throw new TransportError('DELETE', '/fapi/v1/order', 'network', false, 'ECONNREFUSED');
      },
      query: async () => {
        if (!queryUp) throw new TransportError('GET', '/fapi/v1/order', 'network', false, 'ECONNREFUSED');
        return {
          status: 'CANCELED',
          executedQty: Decimal.parse('0.300'),
          updateTime: T0 + 1,
        } as unknown as OrderRecord;
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    executor = executorFor(venue, tracker, new MemoryOrderJournal(), { quote: true, clock });
    let done = false;
    const run = executor
      .submit({ ...base, execution: { kind: 'post-only', timeoutMs: 1_000 } })
      .finally(() => {
        done = true;
      });
    for (let t = T0; !done && t <= T0 + 10_000; t += 500) {
      clock.advanceTo(t);
      await new Promise((r) => setImmediate(r));
    }
    await run;
    // The maker may still be working: 0.700 stays pending, no taker was sent.
    expect(executor.stats.unknown).toBe(1);
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0.7);
    queryUp = true;
    expect(await executor.resolveUnknown()).toBe(0);
    expect(tracker.pending('BTCUSDT').toNumber()).toBe(0);
  });

  it('a VWAP sends a rest below the notional minimum with the slice before it, not alone', async () => {
    // Volume profile 45 % / 45 % / 10 % over three one-minute buckets.
    const minute = 60_000;
    const profile = new VolumeProfile(minute, [T0, T0 + minute, T0 + 2 * minute], [45, 45, 10]);
    const sent: string[] = [];
    const venue = {
      name: 'fake',
      place: async (order: VenueOrder) => {
        // the exchange's MIN_NOTIONAL (-4164) at price 100,000
        if (order.quantity.mul(Decimal.parse('100000')).lt(Decimal.parse('200')))
          throw new BinanceApiError(
            400,
            -4164,
            "Order's notional must be no smaller than 200",
            'POST',
            '/fapi/v1/order',
          );
        sent.push(order.quantity.toString());
        return filled(order);
      },
      onUserEvent: () => () => {},
    } as unknown as Venue;
    const clock = new VirtualClock(T0);
    const executor = executorFor(venue, new ExposureTracker(), new MemoryOrderJournal(), {
      minNotional: '200',
      profile,
      clock,
    });
    let done = false;
    const run = executor
      .submit({
        ...base,
        quantity: Decimal.parse('0.010'),
        execution: { kind: 'vwap', durationMs: 3 * minute, slices: 3 },
      })
      .finally(() => {
        done = true;
      });
    for (let t = T0; !done && t <= T0 + 4 * minute; t += 1_000) {
      clock.advanceTo(t);
      await new Promise((r) => setImmediate(r));
    }
    await run;
    expect(sent.length).toBeGreaterThan(0);
    const total = sent.reduce((a, q) => a.add(Decimal.parse(q)), Decimal.ZERO);
    expect(total.toNumber()).toBe(0.01);
  });
});
