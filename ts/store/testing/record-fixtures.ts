// Records for store tests: an order, a fill and an income row with overridable fields, and two scripted trading days.
import type {
  AlgoOrderUpdateRecord,
  FillRecord,
  IncomeRecord,
  OrderUpdateRecord,
  RecordScope,
} from '../store-records.js';

const LIVE: RecordScope = { mode: 'live', account: 'main' };

/** An order state of BTCUSDT order 1001 (override any field). */
export function order(over: Partial<OrderUpdateRecord> = {}): OrderUpdateRecord {
  return {
    ...LIVE,
    symbol: 'BTCUSDT',
    orderId: '1001',
    clientOrderId: 'c-1001',
    side: 'BUY',
    positionSide: 'BOTH',
    type: 'LIMIT',
    timeInForce: 'GTC',
    status: 'NEW',
    executionType: 'NEW',
    price: '40000.10',
    origQty: '0.010',
    executedQty: '0',
    avgPrice: null,
    stopPrice: null,
    reduceOnly: false,
    createTime: 1_700_000_000_000,
    updateTime: 1_700_000_000_000,
    source: 'stream',
    ...over,
  };
}

/** A state of BTCUSDT conditional order 7001: a reduce-only STOP_MARKET sell, waiting (override any field). */
export function algoOrder(over: Partial<AlgoOrderUpdateRecord> = {}): AlgoOrderUpdateRecord {
  return {
    ...LIVE,
    symbol: 'BTCUSDT',
    algoId: '7001',
    clientAlgoId: 'sl-7001',
    algoType: 'CONDITIONAL',
    type: 'STOP_MARKET',
    side: 'SELL',
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    status: 'NEW',
    quantity: '0.002',
    triggerPrice: '38000.0',
    price: null,
    workingType: 'MARK_PRICE',
    reduceOnly: true,
    closePosition: false,
    actualOrderId: null,
    createTime: null,
    updateTime: 1_700_000_000_100,
    source: 'stream',
    ...over,
  };
}

/** A fill of order 1001. */
export function fill(over: Partial<FillRecord> = {}): FillRecord {
  return {
    ...LIVE,
    symbol: 'BTCUSDT',
    tradeId: '5001',
    orderId: '1001',
    clientOrderId: 'c-1001',
    side: 'BUY',
    positionSide: 'BOTH',
    price: '40000.10',
    qty: '0.010',
    quoteQty: '400.00100',
    realizedPnl: '0',
    commission: '0.16000040',
    commissionAsset: 'USDT',
    maker: true,
    time: 1_700_000_000_500,
    source: 'stream',
    ...over,
  };
}

/** A commission row of that fill. */
export function income(over: Partial<IncomeRecord> = {}): IncomeRecord {
  return {
    ...LIVE,
    symbol: 'BTCUSDT',
    incomeType: 'COMMISSION',
    income: '-0.16000040',
    asset: 'USDT',
    info: 'COMMISSION',
    time: 1_700_000_000_500,
    tranId: '9001',
    tradeId: '5001',
    ...over,
  };
}

/**
 * Two UTC days of scripted fills and funding with hand-computed results (see round-trips.test.ts
 * for the arithmetic): a long built in two fills, funding, a partial close, a flip to short that
 * splits its commission, funding, the short's close; and an ETH short whose commission is in BNB.
 */
export function scriptedDays(scope: RecordScope = LIVE): { fills: FillRecord[]; funding: IncomeRecord[] } {
  const t = (iso: string) => Date.parse(iso);
  let id = 0;
  const f = (
    symbol: string,
    iso: string,
    side: 'BUY' | 'SELL',
    qty: string,
    price: string,
    quoteQty: string,
    commission: string,
    realizedPnl: string,
    commissionAsset = 'USDT',
  ): FillRecord => {
    id += 1;
    return fill({
      ...scope,
      symbol,
      tradeId: String(id),
      orderId: String(100 + id),
      side,
      qty,
      price,
      quoteQty,
      commission,
      realizedPnl,
      commissionAsset,
      time: t(iso),
    });
  };
  const fills = [
    f('BTCUSDT', '2026-01-05T01:00:00Z', 'BUY', '0.010', '40000.0', '400.0', '0.16', '0'),
    f('BTCUSDT', '2026-01-05T01:30:00Z', 'BUY', '0.020', '40300.0', '806.0', '0.3224', '0'),
    f('BTCUSDT', '2026-01-05T09:00:00Z', 'SELL', '0.010', '41000.0', '410.0', '0.164', '8.0'),
    f('BTCUSDT', '2026-01-05T10:00:00Z', 'SELL', '0.030', '40900.0', '1227.0', '0.4908', '14.0'),
    f('BTCUSDT', '2026-01-06T03:00:00Z', 'BUY', '0.010', '41500.0', '415.0', '0.166', '-6.0'),
    f('ETHUSDT', '2026-01-06T04:00:00Z', 'SELL', '0.5', '2000.00', '1000.00', '0.0012', '0', 'BNB'),
    f('ETHUSDT', '2026-01-06T05:00:00Z', 'BUY', '0.5', '1990.00', '995.00', '0.0011', '5.0', 'BNB'),
  ];
  const funding = [
    income({
      ...scope,
      incomeType: 'FUNDING_FEE',
      income: '-0.6030',
      tranId: 'f1',
      tradeId: '',
      time: t('2026-01-05T08:00:00Z'),
    }),
    income({
      ...scope,
      incomeType: 'FUNDING_FEE',
      income: '0.4090',
      tranId: 'f2',
      tradeId: '',
      time: t('2026-01-06T00:00:00Z'),
    }),
  ];
  return { fills, funding };
}
