// A paper account's records: the engine's funding, commission and realized PnL reach the scope's income and daily rows once each; resting orders end cancelled with the trader.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { VenueOrder } from '../../trader/execution/venue.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { openSqliteStore } from '../../ts/store/open-store.js';
import type { RecordScope } from '../../ts/store/store-records.js';
import { PaperAccountRecords } from './paper-account-records.js';
import { cancelRestingOrders } from './paper-venue.js';
import { engineRig } from './testing/engine-rig.js';

const SCOPE: RecordScope = { mode: 'paper', account: 'paper-0' };
const HOUR = 3_600_000;
/** A minute before the 08:00 UTC funding time. */
const T0 = Date.UTC(2026, 11, 7, 7, 59, 0);
const d = Decimal.parse;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function paperRecords() {
  const rig = engineRig(T0);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-paper-records-'));
  const store = await openSqliteStore(join(dir, 'records.sqlite'));
  const writer = new BufferedRecordWriter(store, { flushMs: 50, maxBatch: 1000, logger: silentLogger() });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  cleanups.push(() => writer.close());
  const records = new PaperAccountRecords({
    engine: rig.engine,
    accountId: 'account-1',
    market: rig.market,
    incomeSince: (startTime) => rig.venue.incomeSince(startTime),
    store,
    writer,
    scope: SCOPE,
    everyMs: 1_000,
    logger: silentLogger(),
  });
  return { ...rig, store, writer, records };
}

/** A BUY of 0.010 BTCUSDT on the paper engine: at market, or resting as `limit` says. */
function buy(
  p: Awaited<ReturnType<typeof paperRecords>>,
  clientOrderId: string,
  limit?: Partial<VenueOrder>,
) {
  return p.venue.place({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'MARKET',
    quantity: d('0.010'),
    reduceOnly: false,
    clientOrderId,
    ...limit,
  });
}

describe('PaperAccountRecords', () => {
  it('writes the income the engine booked (funding in the daily rows), each row once, and not the starting wallet', async () => {
    const p = await paperRecords();
    await buy(p, 'open-1');
    p.market.setFundingRate('BTCUSDT', d('0.001'));
    p.clock.advanceTo(T0 + 2 * 60_000);
    p.engine.advance(p.clock.now());
    await p.records.round();
    await p.writer.flush();

    const income = await p.store.income(SCOPE);
    expect(income.map((row) => row.incomeType).sort()).toEqual(['COMMISSION', 'FUNDING_FEE']);
    const funding = income.find((row) => row.incomeType === 'FUNDING_FEE');
    // A long pays: −0.010 × the mark × 0.001.
    expect(funding?.symbol).toBe('BTCUSDT');
    expect(d(funding?.income ?? '0').sign()).toBe(-1);
    const days = await p.store.dailyStats(SCOPE);
    expect(days.map((day) => [day.symbol, day.funding])).toEqual([['BTCUSDT', funding?.income]]);

    // The next rounds write nothing again; the next funding time books one more row.
    await p.records.round();
    await p.writer.flush();
    expect(await p.store.income(SCOPE)).toHaveLength(2);
    p.clock.advanceTo(T0 + 8 * HOUR + 2 * 60_000);
    p.engine.advance(p.clock.now());
    await p.records.round();
    await p.writer.flush();
    const after = await p.store.income(SCOPE);
    expect(after.filter((row) => row.incomeType === 'FUNDING_FEE')).toHaveLength(2);
    expect(after).toHaveLength(3);
  });
});

describe('cancelRestingOrders', () => {
  it('cancels every order resting in the paper engine and returns each as the executor records a settled one', async () => {
    const p = await paperRecords();
    await buy(p, 'rest-1', { type: 'LIMIT', price: d('90000.00'), timeInForce: 'GTX' });
    expect(await p.venue.openOrders()).toHaveLength(1);
    const ended = await cancelRestingOrders(p.venue);
    expect(ended).toEqual([
      expect.objectContaining({
        clientOrderId: 'rest-1',
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT_GTX',
        quantity: '0.010',
        price: '90000.00',
        status: 'CANCELED',
        executedQty: '0.000',
      }),
    ]);
    expect(ended[0]?.reason).toMatch(/paper trader stopped/);
    expect(await p.venue.openOrders()).toEqual([]);
  });
});
