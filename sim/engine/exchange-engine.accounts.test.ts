// Accounts: hedge vs one-way, isolated vs cross, settings and their refusals, funding, income, config errors.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../ts/log/logger.js';
import { parseAccount, parsePositionRisk, parseUserEvent } from '../../ts/native/parse.js';
import { EngineConfigError } from './engine-errors.js';
import { ExchangeEngine } from './exchange-engine.js';
import { at, bytes, EngineHarness, field, T0 } from './testing/engine-harness.js';
import { ManualClock, ScriptedMarket, testSpec } from './testing/scripted-market.js';

const S = 'BTCUSDT';
const HOUR = 3_600_000;

function order(h: EngineHarness, params: Record<string, string>) {
  return h.call('POST', '/fapi/v1/order', { symbol: S, newOrderRespType: 'RESULT', ...params });
}

describe('v3 position lists', () => {
  it('leave a flat symbol out unless it has an open order, as Binance does; v2 lists it at zero', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
    h.market.setMark(S, '100');
    const v3Symbols = () => [
      parseAccount(bytes(h.call('GET', '/fapi/v3/account'))).positions.map((p) => p.symbol),
      parsePositionRisk(bytes(h.call('GET', '/fapi/v3/positionRisk'))).map((p) => p.symbol),
    ];
    expect(v3Symbols()).toEqual([[], []]);
    order(h, { side: 'BUY', type: 'MARKET', quantity: '0.5' });
    expect(v3Symbols()).toEqual([[S], [S]]);
    order(h, { side: 'SELL', type: 'MARKET', quantity: '0.5', reduceOnly: 'true' });
    expect(v3Symbols()).toEqual([[], []]);
    const v2 = parsePositionRisk(bytes(h.call('GET', '/fapi/v2/positionRisk', { symbol: S })));
    expect(v2.map((p) => p.position.amount)).toEqual(['0.000']);
    // A resting order shows the flat symbol again (its margin is reported there).
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '90.0', quantity: '0.1' });
    expect(v3Symbols()).toEqual([[S], [S]]);
  });
});

describe('hedge mode', () => {
  it('keeps LONG and SHORT apart, requires the side, refuses reduceOnly and over-closing', () => {
    const h = new EngineHarness([{ apiKey: 'k', apiSecret: 's', positionMode: 'hedge' }]);
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    h.market.setMark(S, '100');
    expect(h.call('GET', '/fapi/v1/positionSide/dual')).toEqual({ dualSidePosition: true });
    order(h, { side: 'BUY', positionSide: 'LONG', type: 'MARKET', quantity: '1' });
    order(h, { side: 'SELL', positionSide: 'SHORT', type: 'MARKET', quantity: '0.5' });
    expect(h.code('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '1' })).toBe(
      -4061,
    );
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        positionSide: 'BOTH',
        type: 'MARKET',
        quantity: '1',
      }),
    ).toBe(-4061);
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'SELL',
        positionSide: 'LONG',
        type: 'MARKET',
        quantity: '0.1',
        reduceOnly: 'true',
      }),
    ).toBe(-1106);
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'SELL',
        positionSide: 'LONG',
        type: 'MARKET',
        quantity: '2',
      }),
    ).toBe(-2022);
    const close = order(h, { side: 'SELL', positionSide: 'LONG', type: 'MARKET', quantity: '0.4' });
    expect(field(close, 'positionSide')).toBe('LONG');
    const risk = parsePositionRisk(bytes(h.call('GET', '/fapi/v2/positionRisk', { symbol: S })));
    expect(
      risk.map(
        (r) => `${r.position.side}:${r.position.amount}:${r.position.entryPrice}:${r.position.unrealizedPnl}`,
      ),
    ).toEqual(['LONG:0.600:100.00:0.00000000', 'SHORT:-0.500:99.00:-0.50000000']);
    // realized on the LONG: (99 − 100) × 0.4 = −0.4
    const trades = h.call('GET', '/fapi/v1/userTrades', { symbol: S });
    expect(field(at(trades, 2), 'realizedPnl')).toBe('-0.40000000');
    expect(field(at(trades, 2), 'positionSide')).toBe('LONG');
    const v3 = parseAccount(bytes(h.call('GET', '/fapi/v3/account')));
    expect(v3.positions.map((p) => p.position.side)).toEqual(['LONG', 'SHORT']);
  });

  it('position mode changes: no-op -4059, refused with a position -4068 or open orders -4067', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
    expect(h.code('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'false' })).toBe(-4059);
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '98.0', quantity: '0.1' });
    expect(h.code('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).toBe(-4067);
    h.call('DELETE', '/fapi/v1/allOpenOrders', { symbol: S });
    order(h, { side: 'BUY', type: 'MARKET', quantity: '0.1' });
    expect(h.code('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).toBe(-4068);
    order(h, { side: 'SELL', type: 'MARKET', quantity: '0.1' });
    h.call('POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL',
      symbol: S,
      side: 'SELL',
      type: 'STOP_MARKET',
      triggerPrice: '90.0',
      quantity: '0.1',
    });
    expect(h.code('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).toBe(-4067);
    h.call('DELETE', '/fapi/v1/algoOpenOrders', { symbol: S });
    expect(h.call('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).toEqual({
      code: 200,
      msg: 'success',
    });
    expect(h.call('GET', '/fapi/v1/positionSide/dual')).toEqual({ dualSidePosition: true });
  });
});

describe('leverage and margin type', () => {
  it('leverage 1..maxLeverage, -4028 otherwise, with ACCOUNT_CONFIG_UPDATE', () => {
    const h = new EngineHarness();
    // 7× is offered up to the 10× bracket, whose cap is 230,000,000 USDT.
    expect(h.call('POST', '/fapi/v1/leverage', { symbol: S, leverage: '7' })).toEqual({
      leverage: 7,
      maxNotionalValue: '230000000',
      symbol: S,
    });
    expect(h.code('POST', '/fapi/v1/leverage', { symbol: S, leverage: '0' })).toBe(-4028);
    expect(h.code('POST', '/fapi/v1/leverage', { symbol: S, leverage: '126' })).toBe(-4028);
    const config = h.eventsOf('ACCOUNT_CONFIG_UPDATE');
    expect(config).toEqual([{ e: 'ACCOUNT_CONFIG_UPDATE', E: T0, T: T0, ac: { s: S, l: 7 } }]);
    expect(parseUserEvent(bytes(config[0] ?? null)).kind).toBe('other');
    const v2 = h.call('GET', '/fapi/v2/positionRisk', { symbol: S });
    expect(field(at(v2, 0), 'leverage')).toBe('7');
  });

  it('margin type: -4046 no-op, -4047 with open orders, -4048 with a position', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
    expect(h.code('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'CROSSED' })).toBe(-4046);
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '98.0', quantity: '0.1' });
    expect(h.code('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' })).toBe(-4047);
    h.call('DELETE', '/fapi/v1/allOpenOrders', { symbol: S });
    order(h, { side: 'BUY', type: 'MARKET', quantity: '0.1' });
    expect(h.code('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' })).toBe(-4048);
    expect(h.code('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'BOTH' })).toBe(-1130);
  });

  it('isolated: margin moves into the position wallet, PnL and release come back, funding hits the isolated wallet', () => {
    const h = new EngineHarness();
    h.call('POST', '/fapi/v1/leverage', { symbol: S, leverage: '10' });
    h.call('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' });
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    h.market.setMark(S, '100');
    order(h, { side: 'BUY', type: 'MARKET', quantity: '1' });
    // margin 100 / 10 = 10 into the isolated wallet; taker fee 0.05 from the cross wallet.
    let t = h.engine.accountTruth('account-1');
    expect(t.positions[0]?.isolatedWallet).toBe('10.00000000');
    expect(t.crossWalletBalance).toBe('9989.95000000');
    expect(t.walletBalances.USDT).toBe('9999.95000000');
    h.market.setBook(S, [['110.0', '10']], [['111.0', '10']]);
    h.market.setMark(S, '110');
    order(h, { side: 'SELL', type: 'MARKET', quantity: '0.5' });
    // realized 0.5 × 10 = 5 → isolated 15; half of it (7.5) released; fee 55 × 0.0005 = 0.0275.
    t = h.engine.accountTruth('account-1');
    expect(t.positions[0]?.isolatedWallet).toBe('7.50000000');
    expect(t.crossWalletBalance).toBe('9997.42250000');
    expect(t.walletBalances.USDT).toBe('10004.92250000');
    const risk = parsePositionRisk(bytes(h.call('GET', '/fapi/v3/positionRisk')));
    expect(risk[0]?.position.isolatedWallet).toBe('7.50000000');
    const raw = at(h.call('GET', '/fapi/v3/positionRisk'), 0);
    // isolatedMargin = wallet + unrealized 0.5 × (110 − 100) = 12.5
    expect(field(raw, 'isolatedMargin')).toBe('12.50000000');
    // liquidation where 7.5 + 0.5 (p − 100) = 0.5 × p × 0.004 → p = 42.5 / 0.498
    expect(field(raw, 'liquidationPrice')).toBe('85.34136546');
    const v2 = parsePositionRisk(bytes(h.call('GET', '/fapi/v2/positionRisk')));
    expect(v2[0]?.position.isolatedWallet).toBe('7.50000000');
    expect(field(at(h.call('GET', '/fapi/v2/positionRisk'), 0), 'marginType')).toBe('isolated');
    h.market.setFundingRate(S, '0.0001');
    h.clearEvents();
    h.clock.time = T0 + 7 * HOUR; // 08:00 UTC
    h.engine.advance(h.clock.now());
    // funding −0.5 × 110 × 0.0001 = −0.0055, from the isolated wallet
    t = h.engine.accountTruth('account-1');
    expect(t.positions[0]?.isolatedWallet).toBe('7.49450000');
    expect(t.crossWalletBalance).toBe('9997.42250000');
    const update = parseUserEvent(bytes(h.eventsOf('ACCOUNT_UPDATE')[0] ?? null)).accountUpdate;
    expect(update?.reason).toBe('FUNDING_FEE');
    expect(update?.positions[0]?.position.isolatedWallet).toBe('7.49450000');
    expect(update?.balances[0]?.walletBalance).toBe('10004.91700000');
  });
});

describe('funding', () => {
  it('pays −amount × mark × rate once per funding time, credited or debited to the cross wallet', () => {
    const h = new EngineHarness([
      { apiKey: 'a', apiSecret: 's' },
      { apiKey: 'b', apiSecret: 's' },
    ]);
    h.market.setBook(S, [['100.0', '10']], [['100.0', '10']]);
    order(h, { side: 'BUY', type: 'MARKET', quantity: '1' });
    h.call('POST', '/fapi/v1/order', { symbol: S, side: 'SELL', type: 'MARKET', quantity: '2' }, 'account-2');
    h.market.setMark(S, '102');
    h.market.setFundingRate(S, '0.0001');
    const before1 = h.engine.accountTruth('account-1').walletBalances.USDT;
    const before2 = h.engine.accountTruth('account-2').walletBalances.USDT;
    h.engine.advance(T0 + 7 * HOUR - 1);
    expect(h.engine.accountTruth('account-1').walletBalances.USDT).toBe(before1);
    h.clearEvents();
    h.clock.time = T0 + 7 * HOUR;
    h.engine.advance(h.clock.now());
    h.engine.advance(h.clock.now() + 1000);
    // long 1 pays 1 × 102 × 0.0001 = 0.0102; short 2 receives 0.0204
    expect(before1).toBe('9999.95000000');
    expect(h.engine.accountTruth('account-1').walletBalances.USDT).toBe('9999.93980000');
    expect(h.engine.accountTruth('account-2').walletBalances.USDT).toBe('9999.92040000');
    const income = h.call('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE' });
    expect(income).toHaveLength(1);
    expect(field(at(income, 0), 'income')).toBe('-0.01020000');
    expect(field(at(income, 0), 'symbol')).toBe(S);
    expect(
      field(at(h.call('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE' }, 'account-2'), 0), 'income'),
    ).toBe('0.02040000');
    const events = h.eventsOf('ACCOUNT_UPDATE').map((e) => parseUserEvent(bytes(e)).accountUpdate);
    expect(events.map((e) => `${e?.reason}:${e?.balances[0]?.walletBalance}`)).toEqual([
      'FUNDING_FEE:9999.93980000',
    ]);
    expect(before2).toBe('9999.90000000');
    // Two funding times passed in one step settle twice.
    h.clock.time = T0 + 23 * HOUR;
    h.engine.advance(h.clock.now());
    expect(h.call('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE' })).toHaveLength(3);
    expect(h.engine.nextFundingTime(T0)).toBe(T0 + 7 * HOUR);
  });
});

describe('income history', () => {
  it('filters by symbol, type, time, and pages with limit', () => {
    const specs = [testSpec(), testSpec({ symbol: 'ETHUSDT', baseAsset: 'ETH' })];
    const h = new EngineHarness([{ apiKey: 'k', apiSecret: 's' }], specs);
    h.market.setBook(S, [['100.0', '10']], [['100.0', '10']]);
    h.market.setBook('ETHUSDT', [['100.0', '10']], [['100.0', '10']]);
    h.clock.time = T0 + 1000;
    order(h, { side: 'BUY', type: 'MARKET', quantity: '1' });
    h.clock.time = T0 + 2000;
    h.call('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    h.clock.time = T0 + 3000;
    order(h, { side: 'SELL', type: 'MARKET', quantity: '1' });
    const all = h.call('GET', '/fapi/v1/income', {});
    expect((all as readonly unknown[]).map((r) => field(r as never, 'incomeType'))).toEqual([
      'TRANSFER',
      'COMMISSION',
      'COMMISSION',
      'REALIZED_PNL',
      'COMMISSION',
    ]);
    expect(field(at(all, 0), 'symbol')).toBe('');
    expect(field(at(all, 3), 'income')).toBe('0.00000000');
    expect(h.call('GET', '/fapi/v1/income', { symbol: 'ETHUSDT' })).toHaveLength(1);
    expect(h.call('GET', '/fapi/v1/income', { incomeType: 'COMMISSION', symbol: S })).toHaveLength(2);
    expect(
      h.call('GET', '/fapi/v1/income', { startTime: String(T0 + 2000), endTime: String(T0 + 2999) }),
    ).toHaveLength(1);
    expect(h.call('GET', '/fapi/v1/income', { limit: '2', page: '2' })).toEqual([at(all, 2), at(all, 3)]);
    expect(h.call('GET', '/fapi/v1/income', { incomeType: 'INSURANCE_CLEAR' })).toEqual([]);
    expect(h.code('GET', '/fapi/v1/income', { limit: '1001' })).toBe(-1130);
    expect(h.code('GET', '/fapi/v1/income', { incomeType: 'NOPE' })).toBe(-1130);
    // Without start/end only the last 7 days count.
    h.clock.time = T0 + 8 * 24 * HOUR;
    expect(h.call('GET', '/fapi/v1/income', {})).toEqual([]);
    expect(h.call('GET', '/fapi/v1/income', { startTime: String(T0) })).toHaveLength(5);
  });
});

describe('account views and configuration', () => {
  it('a fresh account: v3/v2 account and balance bodies parse and show the configured balances', () => {
    const h = new EngineHarness([{ apiKey: 'k', apiSecret: 's', balances: { USDT: '1234.5', BNB: '2' } }]);
    const v3 = parseAccount(bytes(h.call('GET', '/fapi/v3/account')));
    expect(v3.balances.map((b) => `${b.asset}:${b.walletBalance}`)).toEqual([
      'USDT:1234.50000000',
      'BNB:2.00000000',
    ]);
    expect(v3.positions).toEqual([]);
    const v2 = parseAccount(bytes(h.call('GET', '/fapi/v2/account')));
    expect(v2.positions.map((p) => `${p.symbol}:${p.position.side}:${p.position.amount}`)).toEqual([
      'BTCUSDT:BOTH:0.000',
    ]);
    const balance = h.call('GET', '/fapi/v3/balance');
    expect(field(at(balance, 0), 'availableBalance')).toBe('1234.50000000');
    expect(String(field(at(balance, 0), 'accountAlias'))).toMatch(/^[A-Z][a-z]{3}$/);
    expect(h.call('GET', '/fapi/v1/commissionRate', { symbol: S })).toEqual({
      symbol: S,
      makerCommissionRate: '0.0002',
      takerCommissionRate: '0.0005',
    });
    const brackets = h.call('GET', '/fapi/v1/leverageBracket', { symbol: S }) as {
      brackets: {
        bracket: number;
        initialLeverage: number;
        notionalFloor: number;
        notionalCap: number;
        maintMarginRatio: number;
        cum: number;
      }[];
    };
    expect(brackets.brackets).toHaveLength(12);
    expect(brackets.brackets.slice(0, 3)).toEqual([
      {
        bracket: 1,
        initialLeverage: 125,
        notionalFloor: 0,
        notionalCap: 50_000,
        maintMarginRatio: 0.004,
        cum: 0,
      },
      // cum = 0 + 50,000 × (0.005 − 0.004) = 50
      {
        bracket: 2,
        initialLeverage: 100,
        notionalFloor: 50_000,
        notionalCap: 600_000,
        maintMarginRatio: 0.005,
        cum: 50,
      },
      // cum = 50 + 600,000 × (0.0065 − 0.005) = 950
      {
        bracket: 3,
        initialLeverage: 75,
        notionalFloor: 600_000,
        notionalCap: 3_000_000,
        maintMarginRatio: 0.0065,
        cum: 950,
      },
    ]);
    // Every floor is the cap before it, and cum keeps the maintenance margin continuous there.
    for (let i = 1; i < brackets.brackets.length; i++) {
      const [a, b] = [brackets.brackets[i - 1], brackets.brackets[i]];
      expect(b?.notionalFloor).toBe(a?.notionalCap);
      const floor = b?.notionalFloor ?? 0;
      expect(floor * (b?.maintMarginRatio ?? 0) - (b?.cum ?? 0)).toBeCloseTo(
        floor * (a?.maintMarginRatio ?? 0) - (a?.cum ?? 0),
        6,
      );
    }
    expect(h.call('GET', '/fapi/v1/leverageBracket')).toHaveLength(1);
    expect(h.code('GET', '/fapi/v1/leverageBracket', { symbol: 'NOPEUSDT' })).toBe(-1121);
    expect(h.engine.credentials('k')).toEqual({ accountId: 'account-1', secret: 's' });
    expect(h.engine.credentials('nope')).toBeUndefined();
    expect(h.code('GET', '/fapi/v3/account', {}, 'account-9')).toBe(-2015);
  });

  it('config errors name the field', () => {
    const clock = new ManualClock(T0);
    const market = new ScriptedMarket([testSpec()], clock);
    const make = (accounts: ConstructorParameters<typeof ExchangeEngine>[0]['accounts']) => () =>
      new ExchangeEngine({ market, clock, accounts, logger: silentLogger() });
    expect(make([{ apiKey: 'a', apiSecret: 's', makerFee: '0.1%' }])).toThrow(EngineConfigError);
    expect(make([{ apiKey: 'a', apiSecret: 's', makerFee: '0.1%' }])).toThrow('accounts[0].makerFee');
    expect(make([{ apiKey: 'a', apiSecret: 's', takerFee: '1.5' }])).toThrow('accounts[0].takerFee');
    expect(
      make([
        { apiKey: 'a', apiSecret: 's' },
        { apiKey: 'a', apiSecret: 't' },
      ]),
    ).toThrow('accounts[1].apiKey');
    expect(make([{ apiKey: 'a', apiSecret: 's', balances: { USDT: '-1' } }])).toThrow(
      'accounts[0].balances.USDT',
    );
    expect(make([{ apiKey: 'a', apiSecret: 's', defaultLeverage: 0 }])).toThrow(
      'accounts[0].defaultLeverage',
    );
    const seeded = (positions: { symbol: string; amount: string; entryPrice: string }[], hedge = false) =>
      make([
        { apiKey: 'a', apiSecret: 's', positions, ...(hedge ? { positionMode: 'hedge' as const } : {}) },
      ]);
    expect(seeded([{ symbol: 'NOPEUSDT', amount: '1', entryPrice: '100' }])).toThrow(
      'accounts[0].positions[0].symbol',
    );
    expect(
      seeded([
        { symbol: S, amount: '1', entryPrice: '100' },
        { symbol: S, amount: '1', entryPrice: '100' },
      ]),
    ).toThrow('accounts[0].positions[1].symbol');
    expect(seeded([{ symbol: S, amount: '0', entryPrice: '100' }])).toThrow(
      'accounts[0].positions[0].amount',
    );
    expect(seeded([{ symbol: S, amount: '1', entryPrice: '0' }])).toThrow(
      'accounts[0].positions[0].entryPrice',
    );
    expect(seeded([{ symbol: S, amount: '1', entryPrice: '100' }], true)).toThrow(
      'accounts[0].positions[0].symbol',
    );
    expect(
      () =>
        new ExchangeEngine({
          market,
          clock,
          accounts: [{ apiKey: 'a', apiSecret: 's' }],
          idOffset: -1,
          logger: silentLogger(),
        }),
    ).toThrow('idOffset');
  });

  it('moves every id range up by idOffset, so an engine replacing another does not repeat its ids', () => {
    const firstOrderId = (idOffset: number) => {
      const h = new EngineHarness([{ apiKey: 'a', apiSecret: 's' }], [testSpec()], idOffset);
      h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
      h.market.setMark(S, '100');
      return (order(h, { side: 'BUY', type: 'MARKET', quantity: '0.1' }) as { orderId: number }).orderId;
    };
    expect(firstOrderId(1_000_000_000_000) - firstOrderId(0)).toBe(1_000_000_000_000);
  });

  it('starts with the configured positions: valued at the mark, closed against their entry, no income for them', () => {
    const h = new EngineHarness([
      {
        apiKey: 'key-1',
        apiSecret: 'secret-1',
        balances: { USDT: '9990' },
        positions: [{ symbol: S, amount: '-0.5', entryPrice: '110' }],
      },
    ]);
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    h.market.setMark(S, '100');
    const truth = h.engine.accountTruth('account-1');
    expect(truth.positions).toMatchObject([
      {
        symbol: S,
        positionSide: 'BOTH',
        positionAmt: '-0.5',
        entryPrice: '110',
        unrealizedPnl: '5.00000000',
      },
    ]);
    expect(truth.walletBalances.USDT).toBe('9990.00000000');
    // Bought back at the ask: realized (110 − 100) × 0.5 = 5 against the seeded entry.
    order(h, { side: 'BUY', type: 'MARKET', quantity: '0.5', reduceOnly: 'true' });
    const income = h.call('GET', '/fapi/v1/income', { incomeType: 'REALIZED_PNL' }) as { income: string }[];
    expect(income.map((i) => i.income)).toEqual(['5.00000000']);
    expect(h.engine.accountTruth('account-1').positions).toEqual([]);
  });

  it('every endpoint is declared with its Binance weight and security', () => {
    const h = new EngineHarness();
    const table = h.engine
      .endpoints()
      .map((e) => `${e.method} ${e.path} ${e.security} ${e.weight({})} ${e.countsAsOrder}`);
    expect(table).toContain('POST /fapi/v1/order TRADE 0 true');
    expect(table).toContain('GET /fapi/v1/order USER_DATA 1 false');
    expect(table).toContain('DELETE /fapi/v1/order TRADE 1 false');
    expect(table).toContain('GET /fapi/v1/openOrders USER_DATA 40 false');
    expect(table).toContain('GET /fapi/v1/allOrders USER_DATA 5 false');
    expect(table).toContain('GET /fapi/v1/income USER_DATA 30 false');
    expect(table).toContain('GET /fapi/v3/account USER_DATA 5 false');
    expect(table).toContain('GET /fapi/v1/positionSide/dual USER_DATA 30 false');
    expect(table).toContain('GET /fapi/v1/commissionRate USER_DATA 20 false');
    expect(table).toContain('GET /fapi/v1/leverageBracket USER_DATA 1 false');
    expect(table).toContain('POST /fapi/v1/algoOrder TRADE 0 true');
    expect(table).toContain('PUT /fapi/v1/order TRADE 1 true');
    expect(table).toContain('POST /fapi/v1/order/test TRADE 0 false');
    expect(table).toContain('POST /fapi/v1/batchOrders TRADE 5 true');
    expect(table).toContain('PUT /fapi/v1/batchOrders TRADE 5 true');
    expect(table).toContain('DELETE /fapi/v1/batchOrders TRADE 1 false');
    expect(table).toContain('POST /fapi/v1/countdownCancelAll TRADE 10 false');
    expect(table).toContain('GET /fapi/v1/adlQuantile USER_DATA 5 false');
    expect(table).toContain('GET /fapi/v1/forceOrders USER_DATA 50 false');
    expect(table).toContain('GET /fapi/v1/multiAssetsMargin USER_DATA 30 false');
    expect(table).toContain('POST /fapi/v1/multiAssetsMargin TRADE 1 false');
    const batch = h.engine.endpoints().find((e) => e.path === '/fapi/v1/batchOrders' && e.method === 'POST');
    expect(batch?.orderCount?.({})).toEqual({ tenSeconds: 5, minute: 1 });
    const forceOrders = h.engine.endpoints().find((e) => e.path === '/fapi/v1/forceOrders');
    expect(forceOrders?.weight({ symbol: S })).toBe(20);
    const openOrders = h.engine.endpoints().find((e) => e.path === '/fapi/v1/openOrders');
    expect(openOrders?.weight({ symbol: S })).toBe(1);
    expect(new Set(table.map((t) => t.split(' ').slice(0, 2).join(' '))).size).toBe(table.length);
    expect(table).toHaveLength(37);
  });
});
