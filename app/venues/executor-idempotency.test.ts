import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS } from '../../sim/symbols.js';
import { VirtualClock } from '../../trader/engine/engine-clock.js';
import type { OrderIntent } from '../../trader/engine/events.js';
import { ExposureTracker } from '../../trader/engine/exposure-tracker.js';
import { clientOrderId } from '../../trader/execution/client-order-ids.js';
import { OrderExecutor } from '../../trader/execution/order-executor.js';
import { FileOrderJournal } from '../../trader/execution/order-journal.js';
import { OrderOutcomeUnknownError } from '../../trader/execution/order-sender.js';
import { SymbolRules } from '../../trader/execution/symbol-rules.js';
import type { Venue, VenueOrder } from '../../trader/execution/venue.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BacktestMarketData } from '../backtest/backtest-market-data.js';
import { DrivenMarket } from './driven-market.js';
import { ruleFields } from './symbol-specs.js';
import { engineRig } from './testing/engine-rig.js';

const T0 = Date.UTC(2026, 4, 8);

/** How the next placement goes wrong: lost before the exchange, or run and its answer lost. */
type LostAnswer = 'never-sent' | 'ran';

function rig(journalPath: string, lose?: LostAnswer) {
  const { clock, market, engine: sim, venue } = engineRig(T0);
  let lost = lose;
  // The venue answers the next placement with an unknown outcome, as a 503 -1007 or a timeout would.
  const flaky: Venue = {
    name: venue.name,
    place: async (order: VenueOrder) => {
      if (lost === undefined) return venue.place(order);
      const how = lost;
      lost = undefined;
      if (how === 'ran') await venue.place(order);
      throw new OrderOutcomeUnknownError('place', order.symbol, order.clientOrderId, `test: ${how}`);
    },
    cancel: (symbol, id) => venue.cancel(symbol, id),
    query: (symbol, id) => venue.query(symbol, id),
    openOrders: (symbol) => venue.openOrders(symbol),
    applySettings: (settings, symbols) => venue.applySettings(settings, symbols),
    positionMode: () => venue.positionMode(),
    onUserEvent: (listener) => venue.onUserEvent(listener),
  };
  const tracker = new ExposureTracker();
  const executor = new OrderExecutor({
    venue: flaky,
    rules: new SymbolRules(DEFAULT_SYMBOLS.map(ruleFields)),
    clock,
    journal: new FileOrderJournal(journalPath, silentLogger('journal')),
    tracker,
    market: new BacktestMarketData(['BTCUSDT'], market, 8),
    logger: silentLogger('executor'),
  });
  return { sim, venue, executor, tracker, clock };
}

const intent: OrderIntent = {
  key: { strategy: 'demo', symbol: 'BTCUSDT', time: T0 - 1 },
  leg: 0,
  symbol: 'BTCUSDT',
  side: 'BUY',
  quantity: Decimal.parse('0.010'),
  reduceOnly: false,
  execution: { kind: 'market' },
  referencePrice: Decimal.parse('100000'),
  reason: 'test',
};

describe('order ids and the journal', () => {
  it('sends one decision once, even when it is submitted again after a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tributary-journal-')), 'orders.jsonl');
    const first = rig(path);
    await first.executor.submit(intent);
    await first.executor.submit(intent);
    expect(first.executor.stats).toMatchObject({ orders: 1, skippedRepeats: 1 });
    // A restarted trader reloads the journal: the same decision is not sent again.
    const again = rig(path);
    await again.executor.submit(intent);
    expect(again.executor.stats).toMatchObject({ orders: 0, skippedRepeats: 1 });
    const truth = first.sim.accountTruth('account-1');
    expect(truth.positions.map((p) => p.positionAmt)).toEqual(['0.01']);
  });

  it('resolves an order journaled before a crash by its client id before sending anything else', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tributary-journal-')), 'orders.jsonl');
    const { venue } = rig(path);
    const id = clientOrderId({ key: intent.key, leg: 0, slice: 0, attempt: 0, kind: 'market' });
    // The crash: journaled, sent, and the answer lost.
    const crashed = new FileOrderJournal(path, silentLogger('journal'));
    crashed.begin({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.010',
      reduceOnly: false,
      kind: 'market',
      decidedAt: T0,
    });
    await venue.place({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: Decimal.parse('0.010'),
      reduceOnly: false,
      clientOrderId: id,
    });
    crashed.close();
    // A fresh executor on the same journal and the same exchange account.
    const restarted = rig(path);
    const sameExchange = new OrderExecutor({
      venue,
      rules: new SymbolRules(DEFAULT_SYMBOLS.map(ruleFields)),
      clock: new VirtualClock(T0),
      journal: new FileOrderJournal(path, silentLogger('journal')),
      tracker: new ExposureTracker(),
      market: new BacktestMarketData(['BTCUSDT'], new DrivenMarket(DEFAULT_SYMBOLS, T0), 8),
      logger: silentLogger('executor'),
    });
    expect(await sameExchange.resolveUnknown('BTCUSDT')).toBe(0);
    await sameExchange.submit(intent);
    expect(sameExchange.stats.orders).toBe(0);
    expect(restarted.executor.stats.orders).toBe(0);
  });

  it('an order that never reached the exchange stops counting as pending once a query says so', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tributary-journal-')), 'orders.jsonl');
    const { executor, tracker, sim } = rig(path, 'never-sent');
    await executor.submit(intent);
    expect(executor.stats.unknown).toBe(1);
    // Unknown: the engine must not decide as if the position stayed where it was.
    expect(tracker.pending('BTCUSDT').eq(Decimal.parse('0.01'))).toBe(true);
    expect(await executor.resolveUnknown()).toBe(0);
    // Never executed: the engine's expected position is the exchange's again (flat), so the
    // strategy's next decision sends the order instead of waiting for a fill that never comes.
    expect(tracker.pending('BTCUSDT').isZero()).toBe(true);
    const flat = { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: T0 };
    expect(tracker.expected('BTCUSDT', flat).isZero()).toBe(true);
    expect(sim.accountTruth('account-1').positions).toEqual([]);
  });

  it('an order that ran counts its fill once: from the query, and not again from late trade events', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tributary-journal-')), 'orders.jsonl');
    const { executor, tracker, sim, clock } = rig(path, 'ran');
    await executor.submit(intent);
    expect(await executor.resolveUnknown()).toBe(0);
    expect(tracker.pending('BTCUSDT').isZero()).toBe(true);
    // The position the engine holds may not show the fill yet: the expected one does.
    const stale = { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: T0 - 1 };
    expect(tracker.expected('BTCUSDT', stale).eq(Decimal.parse('0.01'))).toBe(true);
    // The order's trade event arrives after the query: not counted a second time.
    tracker.filled('BTCUSDT', Decimal.parse('0.010'), clock.now(), executorOrderId());
    expect(tracker.expected('BTCUSDT', stale).eq(Decimal.parse('0.01'))).toBe(true);
    const now = { amount: Decimal.parse('0.010'), entryPrice: Decimal.ZERO, updateTime: clock.now() };
    expect(tracker.expected('BTCUSDT', now).eq(Decimal.parse('0.01'))).toBe(true);
    expect(sim.accountTruth('account-1').positions.map((p) => p.positionAmt)).toEqual(['0.01']);
  });
});

function executorOrderId(): string {
  return clientOrderId({ key: intent.key, leg: 0, slice: 0, attempt: 0, kind: 'market' });
}
