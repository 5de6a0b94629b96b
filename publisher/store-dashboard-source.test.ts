// The publisher over a real SQLite records store: the documents equal what the store holds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import type {
  DailyDocument,
  RoundTripsDocument,
  SummaryDocument,
  SymbolsDocument,
} from '../ts/publish/dashboard-documents.js';
import { openSqliteStore } from '../ts/store/open-store.js';
import type { RecordStore } from '../ts/store/record-store.js';
import type { FillRecord, RecordScope } from '../ts/store/store-records.js';
import { algoOrder, fill, income, order, scriptedDays } from '../ts/store/testing/record-fixtures.js';
import { buildDocuments, type DocumentLimits } from './document-builder.js';
import { fillKinds, StoreDashboardSource } from './store-dashboard-source.js';

const SCOPE: RecordScope = { mode: 'paper', account: 'paper-0' };
const NOW = Date.parse('2026-01-06T12:00:00Z');
const LIMITS: DocumentLimits = {
  equityDays: 30,
  equityPoints: 2000,
  dailyDays: 90,
  roundTrips: 200,
  largeLossThreshold: '-5',
  largeLosses: 50,
  chartInterval: '15m',
  chartCandles: 300,
  chartSymbols: 20,
  chartDays: 30,
};

let dir: string;
let store: RecordStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'publisher-store-'));
  store = await openSqliteStore(join(dir, 'records.sqlite'));
  const { fills, funding } = scriptedDays(SCOPE);
  await store.write({
    fills,
    income: funding,
    orderUpdates: [
      order({
        ...SCOPE,
        symbol: 'BTCUSDT',
        orderId: 's1',
        clientOrderId: 'sl-1',
        type: 'STOP_MARKET',
        side: 'SELL',
        stopPrice: '38000.0',
        reduceOnly: true,
        createTime: NOW - 3_600_000,
        updateTime: NOW - 3_600_000,
      }),
    ],
    balances: [
      {
        ...SCOPE,
        time: NOW - 60_000,
        asset: 'USDT',
        walletBalance: '10021.5',
        availableBalance: '9800',
        unrealizedPnl: '3.25',
      },
    ],
    positions: [
      {
        ...SCOPE,
        time: NOW - 60_000,
        symbol: 'BTCUSDT',
        positionSide: 'BOTH',
        amount: '0.010',
        entryPrice: '41500.0',
        markPrice: '41825.0',
        unrealizedPnl: '3.25',
      },
    ],
    equity: [
      { ...SCOPE, time: NOW - 120_000, walletBalance: '10020', unrealizedPnl: '1', equity: '10021' },
      { ...SCOPE, time: NOW - 60_000, walletBalance: '10021.5', unrealizedPnl: '3.25', equity: '10024.75' },
    ],
  });
  await store.rebuildDerived(SCOPE);
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function source(
  scope: RecordScope = SCOPE,
  watchedSymbols?: (limit: number) => Promise<readonly string[]>,
): StoreDashboardSource {
  return new StoreDashboardSource({
    store,
    scope,
    ...(watchedSymbols === undefined ? {} : { watchedSymbols }),
    asset: 'USDT',
    strategies: ['demo'],
    candles: undefined,
    status: async () => ({
      hubSeenAt: null,
      hubUptimeMs: null,
      hubLatencyUs: null,
      processes: [],
      collectors: [],
      tradingStates: [],
    }),
  });
}

describe('StoreDashboardSource', () => {
  it('builds documents whose figures are the store’s', async () => {
    const docs = await buildDocuments(source(), LIMITS, NOW);
    const summary = docs.get('summary.json') as SummaryDocument;
    expect(summary).toMatchObject({
      walletBalance: '10021.5',
      unrealizedPnl: '3.25',
      availableBalance: '9800',
      equity: '10024.75',
      openPositions: 1,
      mode: 'paper',
    });
    const totals = await store.dailyTotals(SCOPE);
    const daily = docs.get('daily.json') as DailyDocument;
    expect(daily.days.map((d) => [d.day, d.realizedPnl, d.commission, d.funding])).toEqual(
      totals.map((d) => [d.day, d.realizedPnl, d.commission, d.funding]),
    );
    const today = totals.find((d) => d.day === '2026-01-06');
    expect(summary.todayCommission).toBe(today?.commission);

    const trips = await store.roundTrips(SCOPE);
    const published = docs.get('round-trips.json') as RoundTripsDocument;
    expect(published.roundTrips.length).toBe(trips.length);
    expect(new Set(published.roundTrips.map((t) => t.net))).toEqual(new Set(trips.map((t) => t.netPnl)));
    const losses = await store.largeLosses(SCOPE, '-5');
    expect(published.largeLosses.map((t) => t.net)).toEqual(losses.map((t) => t.netPnl));

    const symbols = docs.get('symbols.json') as SymbolsDocument;
    const all = await store.symbolPnl(SCOPE);
    for (const row of all.filter((r) => r.symbol !== '')) {
      const s = symbols.symbols.find((x) => x.symbol === row.symbol);
      expect(s?.windows.all).toMatchObject({
        realizedPnl: row.realizedPnl,
        commission: row.commission,
        funding: row.funding,
      });
    }
    const positions = docs.get('positions.json') as { positions: { symbol: string; stopPrices: string[] }[] };
    expect(positions.positions).toEqual([
      expect.objectContaining({ symbol: 'BTCUSDT', stopPrices: ['38000.0'] }),
    ]);
    const chart = docs.get('charts/BTCUSDT.json') as {
      trades: { kind: string }[];
      stops: { price: string }[];
    };
    expect(chart.stops.map((s) => s.price)).toEqual(['38000.0']);
  });
});

describe('StoreDashboardSource stops', () => {
  it('shows the waiting conditional orders (a ladder’s stops) with the older stop orders, and charts each one’s span', async () => {
    const placed = NOW - 1_800_000;
    const stop = (algoId: string, triggerPrice: string, over: Parameters<typeof algoOrder>[0] = {}) =>
      algoOrder({
        ...SCOPE,
        algoId,
        clientAlgoId: `sl-${algoId}`,
        triggerPrice,
        updateTime: placed,
        ...over,
      });
    await store.write({
      algoOrderUpdates: [
        stop('a1', '39400.0'),
        stop('a2', '39200.0'),
        stop('a3', '39000.0'),
        stop('a4', '40000.0'),
        // Cancelled when the ladder was replaced; the other triggered: neither protects anything now.
        stop('a3', '39000.0', { status: 'CANCELED', updateTime: placed + 600_000 }),
        stop('a4', '40000.0', { status: 'TRIGGERED', actualOrderId: '77', updateTime: placed + 900_000 }),
        // A trailing stop not yet armed has no trigger price to show.
        stop('a5', '0', { type: 'TRAILING_STOP_MARKET', triggerPrice: null }),
      ],
    });
    const docs = await buildDocuments(source(), LIMITS, NOW);
    const positions = docs.get('positions.json') as { positions: { symbol: string; stopPrices: string[] }[] };
    expect(positions.positions).toEqual([
      expect.objectContaining({ symbol: 'BTCUSDT', stopPrices: ['38000.0', '39200.0', '39400.0'] }),
    ]);
    // The chart draws what its candles cover (none here: only the stops still waiting at `now`).
    const chart = docs.get('charts/BTCUSDT.json') as { stops: { price: string }[] };
    expect(chart.stops.map((x) => x.price).sort()).toEqual(['38000.0', '39200.0', '39400.0']);
    // Each stop's span, from its first state to the one that ended it.
    const levels = await source().stopLevels('BTCUSDT', NOW - 30 * 86_400_000);
    const spans = levels.map(
      (x) => `${x.price} ${x.from - placed} ${x.to === null ? 'open' : x.to - placed}`,
    );
    expect(spans.sort()).toEqual([
      `38000.0 ${NOW - 3_600_000 - placed} open`,
      '39000.0 0 600000',
      '39200.0 0 open',
      '39400.0 0 open',
      '40000.0 0 900000',
    ]);
  });
});

describe('StoreDashboardSource summary', () => {
  it('takes unrealized PnL and equity from the snapshot’s equity point when the balance lacks them', async () => {
    // A snapshot from the hub's book: the user stream's ACCOUNT_UPDATE balance carries no unrealized
    // PnL (stored as 0); the positions and the equity point of the same minute do.
    const at = NOW;
    await store.write({
      balances: [
        {
          ...SCOPE,
          time: at,
          asset: 'USDT',
          walletBalance: '10030',
          availableBalance: null,
          unrealizedPnl: '0',
        },
      ],
      positions: [
        {
          ...SCOPE,
          time: at,
          symbol: 'BTCUSDT',
          positionSide: 'BOTH',
          amount: '0.010',
          entryPrice: '41500.0',
          markPrice: '42000.0',
          unrealizedPnl: '5.00',
        },
      ],
      equity: [{ ...SCOPE, time: at, walletBalance: '10030', unrealizedPnl: '5.00', equity: '10035.00' }],
    });
    const docs = await buildDocuments(source(), LIMITS, NOW);
    const summary = docs.get('summary.json') as SummaryDocument;
    const equity = docs.get('equity.json') as { points: { equity: string }[] };
    expect([summary.walletBalance, summary.unrealizedPnl, summary.equity]).toEqual([
      '10030',
      '5.00',
      '10035.00',
    ]);
    expect(summary.equity).toBe(equity.points.at(-1)?.equity);
  });
});

describe('StoreDashboardSource charts', () => {
  const watched = async (limit: number) => ['XRPUSDT', 'BTCUSDT', 'ETHUSDT'].slice(0, limit);

  it('charts the watched markets while nothing is traded or held, and only then', async () => {
    const fresh = source({ mode: 'paper', account: 'paper-7' }, watched);
    expect(await fresh.chartSymbols(NOW - 30 * 86_400_000, 2)).toEqual(['XRPUSDT', 'BTCUSDT']);
    const documents = await buildDocuments(fresh, LIMITS, NOW);
    expect([...documents.keys()].filter((path) => path.startsWith('charts/'))).toEqual([
      'charts/XRPUSDT.json',
      'charts/BTCUSDT.json',
      'charts/ETHUSDT.json',
    ]);
    const traded = source(SCOPE, watched);
    const symbols = await traded.chartSymbols(NOW - 30 * 86_400_000, 20);
    expect(symbols).toContain('BTCUSDT');
    expect(symbols).not.toContain('XRPUSDT');
  });
});

/** A scope of its own, empty before each test writes to it (the seeded one is `SCOPE`). */
const FRESH: RecordScope = { mode: 'paper', account: 'paper-9' };
let nextTradeId = 0;
const freshFill = (over: Partial<FillRecord>): FillRecord => {
  nextTradeId += 1;
  return fill({ ...FRESH, tradeId: String(nextTradeId), orderId: String(1000 + nextTradeId), ...over });
};

describe('StoreDashboardSource symbols', () => {
  it('counts a symbol’s fills in "trades" (the page’s "Fills all"), as daily.json does, not its round trips', async () => {
    // One long built in 3 fills and closed in 2: five fills, one round trip.
    const t = NOW - 3_600_000;
    await store.write({
      fills: [
        freshFill({ side: 'BUY', qty: '0.010', price: '40000', quoteQty: '400', time: t }),
        freshFill({ side: 'BUY', qty: '0.010', price: '40000', quoteQty: '400', time: t + 1000 }),
        freshFill({ side: 'BUY', qty: '0.010', price: '40000', quoteQty: '400', time: t + 2000 }),
        freshFill({
          side: 'SELL',
          qty: '0.015',
          price: '40100',
          quoteQty: '601.5',
          realizedPnl: '1.5',
          time: t + 3000,
        }),
        freshFill({
          side: 'SELL',
          qty: '0.015',
          price: '40100',
          quoteQty: '601.5',
          realizedPnl: '1.5',
          time: t + 4000,
        }),
      ],
    });
    await store.rebuildDerived(FRESH);
    const docs = await buildDocuments(source(FRESH), LIMITS, NOW);
    const daily = docs.get('daily.json') as DailyDocument;
    const symbols = docs.get('symbols.json') as SymbolsDocument;
    expect(daily.days.find((d) => d.day === '2026-01-06')?.trades).toBe(5);
    const btc = symbols.symbols.find((s) => s.symbol === 'BTCUSDT')?.windows;
    expect([btc?.['1d'].trades, btc?.all.trades]).toEqual([5, 5]);
  });
});

describe('StoreDashboardSource round trips', () => {
  it('publishes each trip’s funding, so pnl − commission + funding is its net', async () => {
    const t = NOW - 20 * 3_600_000;
    await store.write({
      fills: [
        freshFill({ side: 'BUY', qty: '1', price: '100', quoteQty: '100', commission: '0.5', time: t }),
        freshFill({
          side: 'SELL',
          qty: '1',
          price: '110',
          quoteQty: '110',
          commission: '0.5',
          realizedPnl: '10',
          time: t + 10 * 3_600_000,
        }),
      ],
      income: [
        income({
          ...FRESH,
          incomeType: 'FUNDING_FEE',
          income: '-3',
          tranId: 'fund-1',
          tradeId: '',
          time: Date.parse('2026-01-06T00:00:00Z'),
        }),
      ],
    });
    await store.rebuildDerived(FRESH);
    const docs = await buildDocuments(source(FRESH), LIMITS, NOW);
    const trips = (docs.get('round-trips.json') as RoundTripsDocument).roundTrips;
    expect(trips.map((x) => [x.pnl, x.commission, x.funding, x.net])).toEqual([['10', '1.0', '-3', '6.0']]);
    for (const x of trips)
      expect(
        Decimal.parse(x.pnl).sub(Decimal.parse(x.commission)).add(Decimal.parse(x.funding)).toString(),
      ).toBe(Decimal.parse(x.net).toString());
  });
});

describe('StoreDashboardSource chart markers', () => {
  it('marks a break-even close (realized PnL exactly 0) as an exit', async () => {
    const t = NOW - 3_600_000;
    await store.write({
      fills: [
        freshFill({ side: 'BUY', qty: '1', price: '100', quoteQty: '100', time: t }),
        // The stop moved to break-even is hit: closes the whole long at the entry price.
        freshFill({
          side: 'SELL',
          qty: '1',
          price: '100',
          quoteQty: '100',
          realizedPnl: '0',
          time: t + 60_000,
        }),
      ],
    });
    const trades = await source(FRESH).trades('BTCUSDT', NOW - 86_400_000);
    expect(trades.map((x) => x.kind)).toEqual(['entry', 'exit']);
  });

  it('decides by the position each fill found, including the fills before the chart’s span', async () => {
    const t = NOW - 3_600_000;
    await store.write({
      fills: [
        // Opened 10 days ago, before the span: the later SELL at break-even still closes it.
        freshFill({ side: 'BUY', qty: '2', price: '100', quoteQty: '200', time: NOW - 10 * 86_400_000 }),
        freshFill({ side: 'SELL', qty: '1', price: '100', quoteQty: '100', time: t }),
        // Flips: closes the last 1 of the long and opens a short of 1 (drawn as an exit).
        freshFill({ side: 'SELL', qty: '2', price: '100', quoteQty: '200', time: t + 1000 }),
        freshFill({ side: 'SELL', qty: '1', price: '100', quoteQty: '100', time: t + 2000 }),
        freshFill({ side: 'BUY', qty: '2', price: '100', quoteQty: '200', time: t + 3000 }),
      ],
    });
    const trades = await source(FRESH).trades('BTCUSDT', NOW - 86_400_000);
    expect(trades.map((x) => x.kind)).toEqual(['exit', 'exit', 'entry', 'exit']);
  });

  it('reads hedge-mode sides: a SELL on LONG and a BUY on SHORT are exits, whatever their PnL', () => {
    const row = (side: 'BUY' | 'SELL', positionSide: string, realizedPnl = '0') => ({
      side,
      positionSide,
      qty: '1',
      realizedPnl,
    });
    expect(
      fillKinds([
        row('BUY', 'LONG'),
        row('SELL', 'SHORT'),
        row('SELL', 'LONG', '0'),
        row('BUY', 'SHORT', '0'),
        // One-way, from flat, with PnL: it closed a position opened before the stored history.
        row('SELL', 'BOTH', '4'),
        row('BUY', 'BOTH'),
      ]),
    ).toEqual(['entry', 'entry', 'exit', 'exit', 'exit', 'entry']);
  });
});

describe('StoreDashboardSource chart symbols', () => {
  it('charts every symbol with an open position, then the latest traded, when more traded than charts allowed', async () => {
    // 25 symbols traded in the last 3 days; the only open position is on ZECUSDT.
    const t = NOW - 3_600_000;
    const fills: FillRecord[] = [];
    for (let i = 0; i < 25; i++) {
      const symbol = `A${String(i).padStart(2, '0')}USDT`;
      fills.push(freshFill({ symbol, side: 'BUY', qty: '1', price: '10', quoteQty: '10', time: t + i }));
      fills.push(
        freshFill({
          symbol,
          side: 'SELL',
          qty: '1',
          price: '11',
          quoteQty: '11',
          realizedPnl: '1',
          time: t + 100 + i,
        }),
      );
    }
    fills.push(
      freshFill({ symbol: 'ZECUSDT', side: 'BUY', qty: '1', price: '50', quoteQty: '50', time: t + 50 }),
    );
    await store.write({
      fills,
      positions: [
        {
          ...FRESH,
          time: NOW - 60_000,
          symbol: 'ZECUSDT',
          positionSide: 'BOTH',
          amount: '1',
          entryPrice: '50',
          markPrice: '51',
          unrealizedPnl: '1',
        },
      ],
      balances: [
        {
          ...FRESH,
          time: NOW - 60_000,
          asset: 'USDT',
          walletBalance: '1000',
          availableBalance: '900',
          unrealizedPnl: '1',
        },
      ],
    });
    const charted = await source(FRESH).chartSymbols(NOW - 3 * 86_400_000, LIMITS.chartSymbols);
    const latest = Array.from({ length: 19 }, (_, i) => `A${String(24 - i).padStart(2, '0')}USDT`);
    expect(charted).toEqual(['ZECUSDT', ...latest]);
  });
});
