// Liquidation and auto-deleveraging, worked by hand: margin, maintenance margin (second bracket, with cum),
// liquidation price, bankruptcy price, the fills, ADL of a profitable opposite position, the clearance fee.
import { describe, expect, it } from 'vitest';
import { at, EngineHarness, field } from './testing/engine-harness.js';

const S = 'BTCUSDT';
const accounts = [
  { apiKey: 'key-1', apiSecret: 'secret-1' },
  { apiKey: 'key-2', apiSecret: 'secret-2' },
];

function positionOf(h: EngineHarness, account: string) {
  return at(h.call('GET', '/fapi/v3/positionRisk', { symbol: S }, account), 0);
}

describe('liquidation of an isolated long in the second bracket', () => {
  it('liquidates at the computed price, fills the market, deleverages the short, clears the rest', () => {
    const h = new EngineHarness(accounts);
    // Account 2 sells 150 at 100.0: a cross short of 150 @ 100 (commission 15,000 × 0.0005 = 7.5).
    h.market.setBook(S, [['100.0', '1000']], [['100.1', '1000']]);
    const ioc = { type: 'LIMIT', timeInForce: 'IOC', price: '100.0' };
    h.call('POST', '/fapi/v1/order', { symbol: S, side: 'SELL', quantity: '150', ...ioc }, 'account-2');
    // Account 1: isolated, 20×, buys 600 at 100.0.
    h.call('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' });
    h.call('POST', '/fapi/v1/leverage', { symbol: S, leverage: '20' });
    h.market.setBook(S, [['99.9', '1000']], [['100.0', '1000']]);
    h.call('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', quantity: '600', ...ioc });
    // Notional 600 × 100 = 60,000: the second bracket (50,000–600,000: mmr 0.5 %, cum 50).
    // Isolated margin = 60,000 / 20 = 3,000; commission 60,000 × 0.0005 = 30.
    // Cross wallet = 10,000 − 3,000 − 30 = 6,970.
    expect(h.engine.accountTruth('account-1').crossWalletBalance).toBe('6970.00000000');
    expect(h.engine.accountTruth('account-1').positions[0]?.isolatedWallet).toBe('3000.00000000');

    // Liquidation price (Binance's formula, one-way long):
    //   (amount × entry − isolated wallet − cum) / (amount − amount × mmr)
    //   = (600 × 100 − 3,000 − 50) / (600 − 600 × 0.005) = 56,950 / 597 = 95.39363484…
    h.market.setMark(S, '95.40');
    h.engine.advance(h.clock.now());
    const before = positionOf(h, 'account-1');
    expect(field(before, 'liquidationPrice')).toBe('95.39363484');
    // At mark 95.40: margin = 3,000 + 600 × (95.40 − 100) = 240;
    // maintenance = 57,240 × 0.005 − 50 = 236.2 → still above: no liquidation, but a margin call
    // (236.2 / 240 = 98 % ≥ 80 %).
    expect(field(before, 'isolatedMargin')).toBe('240.00000000');
    expect(field(before, 'maintMargin')).toBe('236.20000000');
    expect(field(before, 'positionAmt')).toBe('600.000');
    const calls = h.eventsOf('MARGIN_CALL');
    expect(calls).toHaveLength(1);
    expect(at(field(calls[0] as never, 'p'), 0)).toMatchObject({
      s: S,
      ps: 'BOTH',
      mt: 'ISOLATED',
      mm: '236.20000000',
    });
    // ADL quantiles: the profitable short is first in line (4), the losing long last (0).
    expect(h.call('GET', '/fapi/v1/adlQuantile', {}, 'account-2')).toEqual([
      { symbol: S, adlQuantile: { LONG: 0, SHORT: 4, BOTH: 4 } },
    ]);
    expect(h.call('GET', '/fapi/v1/adlQuantile', { symbol: S })).toEqual([
      { symbol: S, adlQuantile: { LONG: 0, SHORT: 0, BOTH: 0 } },
    ]);

    // At mark 95.39: margin = 3,000 − 600 × 4.61 = 234; maintenance = 57,234 × 0.005 − 50 = 236.17.
    // 234 ≤ 236.17: liquidated.
    h.market.setBook(
      S,
      [
        ['95.30', '200'],
        ['95.10', '300'],
        ['94.90', '500'],
      ],
      [['95.50', '1000']],
    );
    h.market.setMark(S, '95.39');
    h.clearEvents();
    h.engine.advance(h.clock.now());
    // Bankruptcy price = entry − isolated wallet / amount = 100 − 3,000 / 600 = 95.00: the
    // liquidation order sells 600 IOC at 95.00 and takes 200 @ 95.30 and 300 @ 95.10 from the book
    // (94.90 is below it); the short of account 2 is deleveraged for the other 100 at 95.00.
    const report = h.engine.liquidations.reports[0];
    expect(report).toBeDefined();
    expect(report?.bankruptcyPrice.toString()).toBe('95.00');
    expect([report?.market, report?.adl, report?.insurance].map((d) => d?.normalize().toString())).toEqual([
      '500',
      '100',
      '0',
    ]);
    const tape = h.market.takerFills.map((f) => `${f.qty.normalize()}@${f.price}`);
    expect(tape.slice(-2)).toEqual(['200@95.30', '300@95.10']);
    expect(h.market.takerFills.some((f) => f.price.toString() === '95.00')).toBe(false); // ADL is no market trade
    // Realized: 200 × (95.30 − 100) + 300 × (95.10 − 100) + 100 × (95.00 − 100) = −940 − 1,470 − 500 = −2,910.
    // Commission on the market fills only: (19,060 + 28,530) × 0.0005 = 23.795.
    // The isolated wallet had 3,000: 3,000 − 2,910 = 90 comes back, less 23.795 = 66.205 left, which
    // goes to the insurance fund as the clearance fee. Account 1 has lost exactly its 3,000 of margin.
    expect(report?.clearanceFee.toString()).toBe('66.20500000');
    const truth = h.engine.accountTruth('account-1');
    expect(truth.positions).toEqual([]);
    expect(truth.crossWalletBalance).toBe('6970.00000000');
    const income = (h.call('GET', '/fapi/v1/income', {}) as { incomeType: string; income: string }[]).map(
      (r) => `${r.incomeType}:${r.income}`,
    );
    expect(income).toEqual([
      'TRANSFER:10000.00000000',
      'COMMISSION:-30.00000000',
      'REALIZED_PNL:-940.00000000',
      'COMMISSION:-9.53000000',
      'REALIZED_PNL:-1470.00000000',
      'COMMISSION:-14.26500000',
      'REALIZED_PNL:-500.00000000',
      'INSURANCE_CLEAR:-66.20500000',
    ]);
    // Account 2: short 150 → 50; realized (100 − 95) × 100 = +500 without fee.
    // Cross wallet = 10,000 − 7.5 + 500 = 10,492.5.
    const other = h.engine.accountTruth('account-2');
    expect(other.positions.map((p) => p.positionAmt)).toEqual(['-50']);
    expect(other.crossWalletBalance).toBe('10492.50000000');

    // The orders the exchange placed, as GET /fapi/v1/forceOrders lists them.
    const liquidation = h.call('GET', '/fapi/v1/forceOrders', { symbol: S });
    expect(liquidation).toHaveLength(1);
    expect(at(liquidation, 0)).toMatchObject({
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'IOC',
      price: '95.00',
      // (19,060 + 28,530 + 9,500) / 600 = 95.15
      avgPrice: '95.15',
      origQty: '600.000',
      executedQty: '600.000',
      status: 'FILLED',
      reduceOnly: true,
    });
    expect(String(field(at(liquidation, 0), 'clientOrderId'))).toMatch(/^autoclose-\d+$/);
    const adl = h.call('GET', '/fapi/v1/forceOrders', { autoCloseType: 'ADL' }, 'account-2');
    expect(at(adl, 0)).toMatchObject({
      side: 'BUY',
      price: '95.00',
      executedQty: '100.000',
      clientOrderId: 'adl_autoclose',
    });
    expect(h.call('GET', '/fapi/v1/forceOrders', { autoCloseType: 'ADL' })).toEqual([]);
    // The market's forceOrder streams get the liquidation; the user-data stream every step.
    expect(h.market.liquidations).toHaveLength(1);
    expect(h.market.liquidations[0]).toMatchObject({ symbol: S, side: 'SELL' });
    expect(h.market.liquidations[0]?.averagePrice.toString()).toBe('95.15000000');
    const updates = h.eventsOf('ORDER_TRADE_UPDATE').map((e) => {
      const o = e.o as Record<string, unknown>;
      return `${o.x}:${o.X}:${o.l}`;
    });
    expect(updates).toEqual([
      'NEW:NEW:0.000',
      'TRADE:PARTIALLY_FILLED:200.000',
      'TRADE:PARTIALLY_FILLED:300.000',
      'TRADE:FILLED:100.000',
    ]);
    expect(h.eventsOf('ACCOUNT_UPDATE').some((e) => (e.a as { m: string }).m === 'INSURANCE_CLEAR')).toBe(
      true,
    );
    expect(h.eventsOf('TRADE_LITE')).toHaveLength(3);
  });
});

describe('liquidation of cross positions', () => {
  it('closes every cross position when the cross margin balance reaches their maintenance margin', () => {
    const h = new EngineHarness([{ apiKey: 'key-1', apiSecret: 'secret-1', balances: { USDT: '100' } }]);
    h.call('POST', '/fapi/v1/leverage', { symbol: S, leverage: '50' });
    h.market.setBook(S, [['99.9', '1000']], [['100.0', '1000']]);
    // Long 40 @ 100: notional 4,000, initial margin 80, commission 2 → cross wallet 98.
    h.call('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '40' });
    // Maintenance at mark m: 40 × m × 0.004; balance 98 + 40 × (m − 100).
    // Equal where 98 + 40m − 4,000 = 0.16m → m = 3,902 / 39.84 = 97.9417…: at 97.95 it holds.
    h.market.setMark(S, '97.95');
    h.engine.advance(h.clock.now());
    expect(h.engine.liquidations.reports).toHaveLength(0);
    expect(field(positionOf(h, 'account-1'), 'liquidationPrice')).toBe('97.94176707');
    h.market.setBook(S, [['97.90', '1000']], [['98.00', '1000']]);
    h.market.setMark(S, '97.94');
    h.engine.advance(h.clock.now());
    // Bankruptcy = 100 − 98 / 40 = 97.55; the book takes all 40 at 97.90:
    // realized 40 × (97.90 − 100) = −84, commission 3,916 × 0.0005 = 1.958; wallet 98 − 84 − 1.958 = 12.042.
    // Clearance fee = min(12.042, 3,916 × 1.25 % = 48.95) = 12.042: the wallet ends at 0.
    const report = h.engine.liquidations.reports[0];
    expect(report?.bankruptcyPrice.toString()).toBe('97.60');
    expect(report?.market.normalize().toString()).toBe('40');
    expect(report?.clearanceFee.toString()).toBe('12.04200000');
    expect(h.engine.accountTruth('account-1').crossWalletBalance).toBe('0.00000000');
  });
});
