import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import { DEFAULT_SYMBOLS } from '../../sim/symbols.js';
import { VirtualClock } from '../../trader/engine/engine-clock.js';
import type { OrderIntent } from '../../trader/engine/events.js';
import { ExposureTracker } from '../../trader/engine/exposure-tracker.js';
import { clientOrderId } from '../../trader/execution/client-order-ids.js';
import { OrderExecutor } from '../../trader/execution/order-executor.js';
import { FileOrderJournal } from '../../trader/execution/order-journal.js';
import { SymbolRules } from '../../trader/execution/symbol-rules.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BacktestMarketData } from '../backtest/backtest-market-data.js';
import { DrivenMarket } from './driven-market.js';
import { EngineVenue } from './engine-venue.js';
import { ruleFields } from './symbol-specs.js';

const T0 = Date.UTC(2026, 4, 8);

function rig(journalPath: string) {
  const clock = new VirtualClock(T0);
  const market = new DrivenMarket(DEFAULT_SYMBOLS, T0);
  market.setLastTrade('BTCUSDT', '100000.00', true, T0);
  const sim = new ExchangeEngine({
    market,
    clock,
    accounts: [{ apiKey: 'k', apiSecret: 's' }],
    logger: silentLogger('sim'),
  });
  const venue = new EngineVenue(sim, 'account-1', () => clock.now());
  const executor = new OrderExecutor({
    venue,
    rules: new SymbolRules(DEFAULT_SYMBOLS.map(ruleFields)),
    clock,
    journal: new FileOrderJournal(journalPath, silentLogger('journal')),
    tracker: new ExposureTracker(),
    market: new BacktestMarketData(['BTCUSDT'], market, 8),
    logger: silentLogger('executor'),
  });
  return { sim, venue, executor };
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
});
