// A paper trader's or recorded backtest's records: the engine's conditional orders (a ladder's stops) stored as its scope's stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreTradeRecorder } from '../../trader/execution/store-trade-recorder.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { openSqliteStore } from '../../ts/store/open-store.js';
import type { RecordScope } from '../../ts/store/store-records.js';
import { recordEngineStops } from './engine-venue.js';
import { engineRig } from './testing/engine-rig.js';

const T0 = Date.UTC(2026, 4, 8);
const SCOPE: RecordScope = { mode: 'paper', account: 'paper-0' };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('recordEngineStops', () => {
  it('stores each state of the paper engine’s conditional orders under the paper scope', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-paper-records-'));
    dirs.push(dir);
    const store = await openSqliteStore(join(dir, 'records.sqlite'));
    const writer = new BufferedRecordWriter(store, { flushMs: 10, maxBatch: 100, logger: silentLogger('w') });
    const { clock, venue } = engineRig(T0);
    recordEngineStops(venue, new StoreTradeRecorder(writer, SCOPE));

    await venue.placeStop({
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: Decimal.parse('0.002'),
      triggerPrice: Decimal.parse('95000.0'),
      workingType: 'MARK_PRICE',
      clientAlgoId: 'sl_g1_1',
    });
    await writer.flush();
    const [placed] = await store.algoOrders(SCOPE, { open: true });
    expect(placed).toMatchObject({
      symbol: 'BTCUSDT',
      clientAlgoId: 'sl_g1_1',
      type: 'STOP_MARKET',
      side: 'SELL',
      status: 'NEW',
      quantity: '0.002',
      source: 'engine',
    });
    expect(Decimal.parse(placed?.triggerPrice ?? '0').eq(Decimal.parse('95000'))).toBe(true);

    clock.advanceTo(T0 + 1_000);
    await venue.cancelStop('BTCUSDT', 'sl_g1_1');
    await writer.close();
    expect(await store.algoOrders(SCOPE, { open: true })).toEqual([]);
    expect((await store.algoOrderUpdates(SCOPE)).map((a) => a.status)).toEqual(['NEW', 'CANCELED']);
    await store.close();
  });
});
