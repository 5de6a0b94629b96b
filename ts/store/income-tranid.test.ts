// Binance income rows as the store receives them (GET /fapi/v1/income → decodeIncomes → incomeFromRest → write).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJson } from '../exchange/json-shape.js';
import { decodeIncomes } from '../exchange/usdm-decoders.js';
import { incomeFromRest } from './exchange-records.js';
import { openSqliteStore } from './open-store.js';
import type { SqlRecordStore } from './sql/sql-record-store.js';
import type { RecordScope } from './store-records.js';

const SCOPE: RecordScope = { mode: 'live', account: 'main' };

let dir: string;
let store: SqlRecordStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'income-tranid-'));
  store = await openSqliteStore(join(dir, 'records.sqlite'));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('funding income with real Binance tranIds', () => {
  it('stores FUNDING_FEE rows whose tranId is beyond 2^53 (as Binance sends them), each once', async () => {
    // Two funding payments as GET /fapi/v1/income returns them: tranIds of 19 digits (a JSON number;
    // e.g. 6725918796342150260 on BTCUSDT 2023-01-31, quoted in ccxt/ccxt#16764). They differ by 4,
    // less than a double's spacing there (1024), so as JS numbers they are the same value.
    const body = Buffer.from(
      '[{"symbol":"BTCUSDT","incomeType":"FUNDING_FEE","income":"-10.37434190","asset":"USDT","time":1675123200000,"info":"FUNDING_FEE","tranId":6725918796342150260,"tradeId":""},' +
        '{"symbol":"ETHUSDT","incomeType":"FUNDING_FEE","income":"-1.00000000","asset":"USDT","time":1675123200000,"info":"FUNDING_FEE","tranId":6725918796342150264,"tradeId":""}]',
    );
    const rows = decodeIncomes(parseJson(body)).map((i) => incomeFromRest(SCOPE, i));
    await store.write({ income: rows });
    const stored = await store.income(SCOPE, { incomeType: 'FUNDING_FEE' });
    expect(stored.map((r) => [r.symbol, r.income]).sort()).toEqual([
      ['BTCUSDT', '-10.37434190'],
      ['ETHUSDT', '-1.00000000'],
    ]);
  });
});
