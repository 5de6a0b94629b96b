// System test: paper mode beside a real exchange trades on the engine inside the trader: no order reaches the exchange, and orders, fills, the ladder's stops and the account itself are recorded under paper-<instance>.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../ts/config/load-config.js';
import { Decimal } from '../ts/exact/decimal.js';
import { openSqliteStore } from '../ts/store/open-store.js';
import type { RecordScope } from '../ts/store/store-records.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { startStrategy, tradingSession } from './testing/trading-session.js';

const PAPER: RecordScope = { mode: 'paper', account: 'paper-3' };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
// Registered after the folders' cleanup, so it runs before it: the trader closes its store first.
const session = tradingSession();

describe('paper mode beside a real exchange (the engine in the trader)', () => {
  it('keeps every order off the exchange, records the orders, fills, ladder stops and the account as paper, and carries the account over a restart', async () => {
    const r = await CollectorRig.start({ collectors: { tick: { instances: 1, maxPollsPerSecond: 2 } } });
    session.rig = r;
    for (const kind of ['universe', 'tick', 'stream'] as const) await r.collector(kind);
    const trader = await r.trader(3);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-paper-in-process-'));
    dirs.push(dir);
    const sqlitePath = join(dir, 'records.sqlite');
    // The simulator stands in for Binance: the trader sees an exchange that is not the built-in one.
    const loaded: LoadedConfig = {
      ...r.loaded,
      config: {
        ...r.loaded.config,
        exchange: { ...r.loaded.config.exchange, kind: 'binance' },
        store: { ...r.loaded.config.store, sqlitePath, flushMs: 50 },
        recorder: { ...r.loaded.config.recorder, snapshotMs: 1000 },
      },
    };
    expect(loaded.config.trader.mode).toBe('paper');
    // Opens on the first closed minute (any move above −100 %), never closes by itself.
    const t = await startStrategy(
      trader,
      loaded,
      { strategyConfig: { symbols: ['BTCUSDT'], openAbove: '-1', closeBelow: '-100', notional: '500' } },
      3,
    );
    session.trading = t;
    expect(t.venue.name).toBe('simulator engine');
    await eventually(() => t.runtime.engine.stats.fills >= 1, 'the paper fill', 90_000);
    await eventually(
      () => t.account.position('BTCUSDT').amount.sign() > 0,
      'the long in the paper account',
      10_000,
    );

    let fillCount = 0;
    const store = await openSqliteStore(sqlitePath);
    try {
      // The ladder's stops follow the position within a check or two; the writer flushes every 50 ms.
      await eventually(
        async () => (await store.algoOrders(PAPER, { open: true })).length === 5,
        'the ladder’s five stops in the records',
        20_000,
      );
      const orders = await store.orders(PAPER);
      expect(orders.some((o) => o.symbol === 'BTCUSDT' && o.side === 'BUY' && o.status === 'FILLED')).toBe(
        true,
      );
      const fills = await store.fills(PAPER);
      fillCount = fills.length;
      expect(fills.length).toBeGreaterThanOrEqual(1);
      expect(fills.every((f) => f.symbol === 'BTCUSDT' && f.side === 'BUY')).toBe(true);
      // One ladder of the default five rungs, together the whole long.
      const stops = await store.algoOrders(PAPER, { open: true });
      expect(stops.every((s) => s.symbol === 'BTCUSDT' && s.side === 'SELL' && s.source === 'engine')).toBe(
        true,
      );
      const covered = stops.reduce((sum, s) => sum.add(Decimal.parse(s.quantity)), Decimal.ZERO);
      expect(covered.eq(t.account.position('BTCUSDT').amount)).toBe(true);
      // The account itself, as the recorder keeps an exchange account's: the snapshot shows the long
      // at its entry, the wallet and the equity; the day's row counts the fill and its commission.
      await eventually(
        async () => (await store.accountSummary(PAPER)).positions.length === 1,
        'a snapshot with the long',
        10_000,
      );
      const summary = await store.accountSummary(PAPER);
      const long = t.account.position('BTCUSDT');
      expect(summary.positions[0]).toMatchObject({ symbol: 'BTCUSDT', positionSide: 'BOTH' });
      expect(Decimal.parse(summary.positions[0]?.amount ?? '0').eq(long.amount)).toBe(true);
      expect(Decimal.parse(summary.positions[0]?.entryPrice ?? '0').eq(long.entryPrice)).toBe(true);
      expect(summary.positions[0]?.markPrice).not.toBeNull();
      const usdt = summary.balances.find((b) => b.asset === 'USDT');
      const commission = fills.reduce((sum, f) => sum.add(Decimal.parse(f.commission)), Decimal.ZERO);
      expect(commission.sign()).toBe(1);
      expect(Decimal.parse(usdt?.walletBalance ?? '0').eq(Decimal.parse('10000').sub(commission))).toBe(true);
      expect(summary.equity).not.toBeNull();
      const days = await store.dailyStats(PAPER);
      expect(days).toHaveLength(1);
      expect(days[0]).toMatchObject({ symbol: 'BTCUSDT', fills: fills.length });
      expect(Decimal.parse(days[0]?.commission ?? '0').eq(commission)).toBe(true);
    } finally {
      await store.close();
    }
    // Not one order or conditional order went to the exchange.
    const sent = r.requests.filter(
      (q) => q.method !== 'GET' && (q.path === '/fapi/v1/order' || q.path === '/fapi/v1/algoOrder'),
    );
    expect(sent).toEqual([]);

    // A restart. The paper engine ends with the trading side: its stops are recorded as cancelled
    // and a last snapshot is written. The next one carries the long and the wallet over from the
    // records and places a new ladder; the strategy, long already, orders nothing.
    const held = t.account.position('BTCUSDT');
    await t.stop();
    session.trading = undefined;
    const reopened = await openSqliteStore(sqlitePath);
    try {
      const ended = await reopened.algoOrders(PAPER);
      expect(ended.map((a) => a.status)).toEqual(Array(5).fill('CANCELED'));
      // And one stop a crashed engine would have left waiting (a clean stop cancels them).
      const [model] = ended;
      if (model === undefined) throw new Error('no stop');
      await reopened.write({
        algoOrderUpdates: [
          {
            ...model,
            algoId: '1',
            clientAlgoId: 'sl_crashed',
            status: 'NEW',
            updateTime: Date.now() - 1_000,
          },
        ],
      });
      const last = await reopened.accountSummary(PAPER);
      const restartedAt = Date.now();
      const again = await startStrategy(
        trader,
        loaded,
        { strategyConfig: { symbols: ['BTCUSDT'], openAbove: '-1', closeBelow: '-100', notional: '500' } },
        3,
      );
      session.trading = again;
      const carried = again.account.position('BTCUSDT');
      expect(carried.amount.eq(held.amount) && carried.entryPrice.eq(held.entryPrice)).toBe(true);
      await eventually(
        async () => (await reopened.algoOrders(PAPER, { open: true })).length === 5,
        'the new ladder’s five stops',
        20_000,
      );
      const states = (await reopened.algoOrders(PAPER)).map((a) => a.status).sort();
      expect(states).toEqual([...Array(5).fill('CANCELED'), 'EXPIRED', ...Array(5).fill('NEW')]);
      await eventually(
        async () => ((await reopened.accountSummary(PAPER)).time ?? 0) >= restartedAt,
        'a snapshot of the carried-over account',
        10_000,
      );
      const now = await reopened.accountSummary(PAPER);
      expect(now.balances.find((b) => b.asset === 'USDT')?.walletBalance).toBe(
        last.balances.find((b) => b.asset === 'USDT')?.walletBalance,
      );
      expect(now.positions.map((p) => [p.symbol, p.amount, p.entryPrice])).toEqual(
        last.positions.map((p) => [p.symbol, p.amount, p.entryPrice]),
      );
      expect((await reopened.fills(PAPER)).length).toBe(fillCount);
    } finally {
      await reopened.close();
    }
  }, 200_000);
});
