// The klines mode's bar fill model: resting limits fill on later bars that trade through their price, stops fire where a bar reaches them, nothing looks ahead.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import { VirtualClock } from '../../trader/engine/engine-clock.js';
import type { BarEvent } from '../../trader/engine/events.js';
import type { Strategy, StrategyContext } from '../../trader/strategies/strategy-api.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { BinanceApiError } from '../../ts/exchange/exchange-errors.js';
import { silentLogger } from '../../ts/log/logger.js';
import { DrivenMarket } from '../venues/driven-market.js';
import { EngineVenue } from '../venues/engine-venue.js';
import { specFromPrice } from '../venues/symbol-specs.js';
import { summarize } from './backtest-report.js';
import { type BacktestOutcome, runBacktest } from './backtest-runner.js';
import { KlineFills, type KlinePrices } from './kline-fills.js';
import { SimulatorOpenOrders } from './open-orders.js';

const START = Date.UTC(2026, 4, 8);
const MINUTE = 60_000;
/** Not a simulator symbol: its rules come from the data (tick 0.1 from "100.0"; BTCUSDT's step 0.001 and 100 USDT minimum). */
const SYMBOL = 'XYZUSDT';

/** [open, high, low, close] of one minute. */
type Bar = readonly [string, string, string, string];

/** A 1m klines dump of `bars` from START (dump layout with its header). */
function klinesFile(bars: readonly Bar[]): string {
  const rows = [
    'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
  ];
  bars.forEach(([o, h, l, c], m) => {
    const open = START + m * MINUTE;
    rows.push(`${open},${o},${h},${l},${c},10.000,${open + MINUTE - 1},1000.0,10,5.000,500.0,0`);
  });
  const dir = mkdtempSync(join(tmpdir(), 'tributary-kline-fills-'));
  const file = join(dir, `${SYMBOL}-1m-2026-05-08.csv`);
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

/** A strategy that asks for `targets[i]` (post-only) at the close of bar i, when given. */
function scripted(targets: ReadonlyMap<number, string>, timeoutMs = 3_600_000): Strategy {
  let bar = -1;
  return {
    requirements: { symbols: [SYMBOL], intervals: ['1m'], warmupBars: 0, ticks: false },
    onBar(ctx: StrategyContext, _event: BarEvent) {
      bar += 1;
      const target = targets.get(bar);
      if (target === undefined) return;
      ctx.setTarget(SYMBOL, Decimal.parse(target), {
        reason: `bar ${bar}`,
        execution: { kind: 'post-only', timeoutMs },
      });
    },
  };
}

const fillsOf = (out: BacktestOutcome) =>
  out.recorder.fills.map((f) => ({
    minute: (f.time - START) / MINUTE,
    side: f.side,
    qty: f.quantity.toString(),
    price: f.price.toString(),
    maker: f.maker,
    commission: f.commission.toString(),
    pnl: f.realizedPnl.toString(),
  }));

describe('klines backtest: resting limit orders', () => {
  it('fill on a later bar that trades through the price, not on the decision bar nor on a touch, at the price, as maker', async () => {
    const file = klinesFile([
      // 0: the decision bar. Its low (98.0) is below the order the strategy places at its close: a
      // model that looked into it would fill the order here.
      ['100.0', '100.5', '98.0', '100.0'],
      // 1: the low touches the buy at 99.9 (close 100.0 → bid 99.9) and goes no lower: no fill.
      ['100.0', '100.2', '99.9', '100.0'],
      // 2: the low goes through 99.9: BUY 2.000 @ 99.9 (maker), booked at the bar's close.
      ['100.0', '100.1', '99.8', '100.5'],
      // 3: the strategy asked for flat at 2's close: SELL 2.000 post-only at the ask, 100.5. The
      // high touches it: no fill.
      ['100.5', '100.5', '100.3', '100.4'],
      // 4: the high goes through 100.5: SELL 2.000 @ 100.5 (maker).
      ['100.4', '100.7', '100.4', '100.6'],
      ['100.6', '100.6', '100.6', '100.6'],
    ]);
    const out = await runBacktest({
      strategyName: 'scripted',
      strategy: scripted(
        new Map([
          [0, '2'],
          [2, '0'],
        ]),
      ),
      files: [file],
    });
    // Commission at the maker rate 0.0002: 199.8 × 0.0002 = 0.03996; 201.0 × 0.0002 = 0.0402.
    expect(fillsOf(out)).toEqual([
      {
        minute: 3 - 1 / MINUTE,
        side: 'BUY',
        qty: '2.000',
        price: '99.9',
        maker: true,
        commission: '0.03996000',
        pnl: '0.00000000',
      },
      {
        minute: 5 - 1 / MINUTE,
        side: 'SELL',
        qty: '2.000',
        price: '100.5',
        maker: true,
        commission: '0.04020000',
        pnl: '1.20000000',
      },
    ]);
    expect(out.recorder.orders.map((o) => [o.type, o.side, o.price, o.status])).toEqual([
      ['LIMIT_GTX', 'BUY', '99.9', 'FILLED'],
      ['LIMIT_GTX', 'SELL', '100.5', 'FILLED'],
    ]);
    // The report's accounting: (100.5 − 99.9) × 2 = 1.2 realized, 0.08016 fees, one winning trip.
    expect(out.realized).toBe('1.20000000');
    expect(out.fees).toBe('0.08016000');
    expect(out.finalEquity).toBe('10001.11984000');
    const summary = summarize(out);
    expect(summary).toMatchObject({
      fills: 2,
      roundTrips: 1,
      winRate: 1,
      pnl: '1.11984000',
      realizedPnl: '1.20000000',
      fees: '0.08016000',
      openPositionsAtEnd: 0,
    });
  }, 10_000);

  it('fill a bar that opens through the price at the order’s own price (it rested in the book the market passed)', async () => {
    const file = klinesFile([
      ['100.0', '100.0', '100.0', '100.0'],
      // Opens at 99.0, below the buy at 99.9 placed at 0's close, and never trades back up to it.
      ['99.0', '99.5', '98.5', '99.2'],
      ['99.2', '99.2', '99.2', '99.2'],
    ]);
    const out = await runBacktest({
      strategyName: 'scripted',
      strategy: scripted(new Map([[0, '2']])),
      files: [file],
    });
    expect(fillsOf(out)).toEqual([
      {
        minute: 2 - 1 / MINUTE,
        side: 'BUY',
        qty: '2.000',
        price: '99.9',
        maker: true,
        commission: '0.03996000',
        pnl: '0.00000000',
      },
    ]);
  }, 10_000);

  it('do not fill from a bar after the order timed out inside it: its remainder goes at the open as taker', async () => {
    const file = klinesFile([
      ['100.0', '100.0', '100.0', '100.0'],
      // Trades through 99.9, but the post-only order's 2.5 s ran out at 00:01:02.5.
      ['100.0', '100.0', '99.0', '99.5'],
      ['99.5', '99.5', '99.5', '99.5'],
    ]);
    const out = await runBacktest({
      strategyName: 'scripted',
      strategy: scripted(new Map([[0, '2']]), 2_500),
      files: [file],
    });
    expect(out.recorder.orders.map((o) => [o.type, o.status, o.executedQty])).toEqual([
      ['LIMIT_GTX', 'CANCELED', '0.000'],
      ['MARKET', 'FILLED', '2.000'],
    ]);
    // The market order meets the book at the bar's open (ask 100.0), not the bar's low, at the
    // taker rate: 200.0 × 0.0005 = 0.1.
    expect(fillsOf(out)).toEqual([
      {
        minute: 1 + 2_500 / MINUTE,
        side: 'BUY',
        qty: '2.000',
        price: '100.0',
        maker: false,
        commission: '0.10000000',
        pnl: '0.00000000',
      },
    ]);
  }, 10_000);
});

/** A simulator engine on a driven market with one account, a venue on it and the fill model listening. */
function rig(price = '100.0') {
  const clock = new VirtualClock(START);
  const market = new DrivenMarket([specFromPrice(SYMBOL, price)], START);
  market.setLastTrade(SYMBOL, price, false, START);
  const sim = new ExchangeEngine({
    market,
    clock,
    accounts: [{ apiKey: 'k', apiSecret: 's', balances: { USDT: '10000' } }],
    logger: silentLogger('sim'),
  });
  const venue = new EngineVenue(sim, 'account-1', () => clock.now());
  const orders = new SimulatorOpenOrders();
  const fills = new KlineFills(market, orders);
  const trades: Array<{ side: string; price: string; qty: string; maker: boolean; id: string }> = [];
  venue.onUserEvent((event) => {
    orders.onUserEvent(event);
    const u = event.orderUpdate;
    if (u?.executionType === 'TRADE')
      trades.push({
        side: u.side,
        price: u.lastFilledPrice,
        qty: u.lastFilledQuantity,
        maker: u.isMaker,
        id: u.clientOrderId,
      });
  });
  const bar = async (minute: number, [open, high, low, close]: Bar) => {
    const prices: KlinePrices = { open, high, low, close };
    const closeTime = START + (minute + 1) * MINUTE - 1;
    clock.advanceTo(closeTime);
    await fills.replay(SYMBOL, prices, START + minute * MINUTE, closeTime, async () => {});
    market.setLastTrade(SYMBOL, close, false, closeTime);
    sim.advance(closeTime);
  };
  const limit = (id: string, side: 'BUY' | 'SELL', price: string, timeInForce: 'GTC' | 'GTX' = 'GTC') =>
    venue.place({
      symbol: SYMBOL,
      side,
      type: 'LIMIT',
      price: Decimal.parse(price),
      quantity: Decimal.parse('2'),
      timeInForce,
      reduceOnly: false,
      clientOrderId: id,
    });
  return { clock, market, venue, orders, fills, trades, bar, limit };
}

describe('klines backtest: the bar walk on the simulator', () => {
  it('refuses a post-only order that would take at the close’s touch (-5022), as Binance does', async () => {
    const r = rig();
    // The touch after a close of 100.0: bid 99.9, ask 100.0.
    const refused = await r.limit('gtx-cross', 'BUY', '100.0', 'GTX').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BinanceApiError);
    expect((refused as BinanceApiError).code).toBe(-5022);
    await expect(r.limit('gtx-rest', 'BUY', '99.9', 'GTX')).resolves.toMatchObject({ status: 'NEW' });
  });

  it('fills sells when the high goes above them, buys when the low goes below, each at its price', async () => {
    const r = rig();
    await r.limit('buy-99.5', 'BUY', '99.5');
    await r.limit('buy-99.0', 'BUY', '99.0');
    await r.limit('sell-100.5', 'SELL', '100.5');
    r.clock.advanceTo(START + MINUTE);
    // The high 100.6 (0.6 from the open, nearer than the low) comes first and passes 100.5; the low
    // 99.0 then passes 99.5 and only touches 99.0, which stays.
    await r.bar(1, ['100.0', '100.6', '99.0', '100.2']);
    expect(r.trades).toEqual([
      { side: 'SELL', price: '100.5', qty: '2.000', maker: true, id: 'sell-100.5' },
      { side: 'BUY', price: '99.5', qty: '2.000', maker: true, id: 'buy-99.5' },
    ]);
    expect((await r.venue.openOrders(SYMBOL)).map((o) => o.clientOrderId)).toEqual(['buy-99.0']);
    expect(r.fills.stats).toMatchObject({ limitLevels: 2, deferredLevels: 0 });
  });

  it('holds back a bar’s fill that an order placed inside the bar would take by price priority', async () => {
    const r = rig();
    await r.limit('early', 'BUY', '99.0');
    // Placed 30 s into bar 1: that bar's low may have come before it.
    r.clock.advanceTo(START + MINUTE + 30_000);
    await r.limit('late', 'BUY', '99.5');
    await r.bar(1, ['100.0', '100.0', '98.0', '99.8']);
    expect(r.trades).toEqual([]);
    expect(r.fills.stats.deferredLevels).toBe(1);
    // Bar 2 opened after both: both fill, the better price first.
    await r.bar(2, ['99.8', '99.8', '98.5', '99.0']);
    expect(r.trades.map((t) => [t.id, t.price, t.maker])).toEqual([
      ['late', '99.5', true],
      ['early', '99.0', true],
    ]);
  });

  it('fires a stop where the bar reaches its trigger, or at the open when the bar opens beyond it', async () => {
    const r = rig();
    await r.venue.place({
      symbol: SYMBOL,
      side: 'BUY',
      type: 'MARKET',
      quantity: Decimal.parse('2'),
      reduceOnly: false,
      clientOrderId: 'open-long',
    });
    r.trades.length = 0;
    await r.venue.placeStop({
      symbol: SYMBOL,
      side: 'SELL',
      quantity: Decimal.parse('1'),
      triggerPrice: Decimal.parse('98.0'),
      workingType: 'CONTRACT_PRICE',
      clientAlgoId: 'stop-98',
    });
    await r.venue.placeStop({
      symbol: SYMBOL,
      side: 'SELL',
      quantity: Decimal.parse('1'),
      triggerPrice: Decimal.parse('96.0'),
      workingType: 'CONTRACT_PRICE',
      clientAlgoId: 'stop-96',
    });
    // Bar 1 stays above both triggers (its close never went near them either).
    await r.bar(1, ['100.0', '100.0', '98.1', '99.0']);
    expect(r.trades).toEqual([]);
    // Bar 2 goes down to 97.5: the 98.0 stop fires there and sells into a bid at 98.0.
    await r.bar(2, ['99.0', '99.0', '97.5', '97.8']);
    expect(r.trades).toEqual([{ side: 'SELL', price: '98.0', qty: '1.000', maker: false, id: 'stop-98' }]);
    // Bar 3 opens at 95.0, beyond the 96.0 stop: it fires at the open and sells at 95.0.
    await r.bar(3, ['95.0', '95.5', '94.8', '95.2']);
    expect(r.trades.slice(1)).toEqual([
      { side: 'SELL', price: '95.0', qty: '1.000', maker: false, id: 'stop-96' },
    ]);
  });

  it('follows the simulator’s open orders per symbol: limits until they end, fixed-trigger stops while they wait', async () => {
    const r = rig();
    expect(r.orders.watches(SYMBOL)).toBe(false);
    await r.limit('rest', 'BUY', '99.0');
    await r.limit('gone', 'BUY', '98.0');
    expect([...r.orders.limits(SYMBOL)].map((o) => [o.side, o.price.toString()])).toEqual([
      ['BUY', '99.0'],
      ['BUY', '98.0'],
    ]);
    await r.venue.cancel(SYMBOL, 'gone');
    expect([...r.orders.limits(SYMBOL)].map((o) => o.price.toString())).toEqual(['99.0']);
    expect(r.orders.rests(SYMBOL)).toBe(true);
    expect(r.orders.rests('BTCUSDT')).toBe(false);
    // A sell stop fires on a fall to 97.0; a buy stop on a rise to 103.0.
    await r.venue.placeStop({
      symbol: SYMBOL,
      side: 'SELL',
      quantity: Decimal.parse('1'),
      triggerPrice: Decimal.parse('97.0'),
      workingType: 'CONTRACT_PRICE',
      clientAlgoId: 'down',
    });
    await r.venue.placeStop({
      symbol: SYMBOL,
      side: 'BUY',
      quantity: Decimal.parse('1'),
      triggerPrice: Decimal.parse('103.0'),
      workingType: 'CONTRACT_PRICE',
      clientAlgoId: 'up',
    });
    expect(r.orders.waits(SYMBOL)).toBe(true);
    expect(['97.1', '97.0', '96.5', '102.9', '103.0'].map((p) => r.orders.reached(SYMBOL, p))).toEqual([
      false,
      true,
      true,
      false,
      true,
    ]);
    await r.venue.cancelStop(SYMBOL, 'down');
    expect(r.orders.reached(SYMBOL, '96.5')).toBe(false);
    expect(r.orders.reached(SYMBOL, '103.0')).toBe(true);
    // The resting buy fills on a bar that trades through 99.0: no limit is left, the stop still waits.
    r.clock.advanceTo(START + MINUTE);
    await r.bar(1, ['100.0', '100.0', '98.5', '99.5']);
    expect(r.trades.map((t) => t.id)).toEqual(['rest']);
    expect(r.orders.rests(SYMBOL)).toBe(false);
    expect(r.orders.watches(SYMBOL)).toBe(true);
    await r.venue.cancelStop(SYMBOL, 'up');
    expect(r.orders.watches(SYMBOL)).toBe(false);
  });
});
