// Orders on /fapi/v1/order: sweeps, fees and PnL by hand, maker fills from the tape, time in force, errors.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { parseAccount, parsePositionRisk, parseUserEvent } from '../../ts/native/parse.js';
import { at, bytes, EngineHarness, field } from './testing/engine-harness.js';
import { testSpec } from './testing/scripted-market.js';

const S = 'BTCUSDT';

function buy(h: EngineHarness, params: Record<string, string>) {
  return h.call('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', newOrderRespType: 'RESULT', ...params });
}
function sell(h: EngineHarness, params: Record<string, string>) {
  return h.call('POST', '/fapi/v1/order', { symbol: S, side: 'SELL', newOrderRespType: 'RESULT', ...params });
}

describe('market orders: sweep, fees, PnL (worked example)', () => {
  it('opens at two levels, values at mark, closes at two levels, exact to the last digit', () => {
    const h = new EngineHarness();
    h.market.setBook(
      S,
      [['99.0', '5']],
      [
        ['100.0', '0.5'],
        ['101.0', '0.5'],
        ['102.0', '5'],
      ],
    );
    const open = buy(h, { type: 'MARKET', quantity: '1' });
    // 0.5 @ 100.0 and 0.5 @ 101.0 → avg 100.5; fees 50×0.0005 = 0.025 and 50.5×0.0005 = 0.02525.
    expect(field(open, 'status')).toBe('FILLED');
    expect(field(open, 'executedQty')).toBe('1.000');
    expect(field(open, 'avgPrice')).toBe('100.50');
    expect(field(open, 'cumQuote')).toBe('100.50');
    expect(h.market.takerFills.map((f) => `${f.qty}@${f.price}:${f.buyerIsMaker}`)).toEqual([
      '0.5@100.0:false',
      '0.5@101.0:false',
    ]);
    const trades = h.call('GET', '/fapi/v1/userTrades', { symbol: S });
    expect(trades).toHaveLength(2);
    expect(field(at(trades, 0), 'commission')).toBe('0.02500000');
    expect(field(at(trades, 1), 'commission')).toBe('0.02525000');
    expect(field(at(trades, 1), 'price')).toBe('101.00');
    expect(field(at(trades, 0), 'maker')).toBe(false);

    h.market.setMark(S, '102');
    const truth = h.engine.accountTruth('account-1');
    // wallet = 10000 − 0.05025; unrealized = 1 × (102 − 100.5) = 1.5; IM = 102 / 20 = 5.1.
    expect(truth.walletBalances.USDT).toBe('9999.94975000');
    expect(truth.totalUnrealizedProfit).toBe('1.50000000');
    expect(truth.availableBalance).toBe('9996.34975000');
    const risk = h.call('GET', '/fapi/v3/positionRisk', { symbol: S });
    expect(field(at(risk, 0), 'entryPrice')).toBe('100.50');
    expect(field(at(risk, 0), 'breakEvenPrice')).toBe('100.55025');
    expect(field(at(risk, 0), 'unRealizedProfit')).toBe('1.50000000');
    expect(field(at(risk, 0), 'initialMargin')).toBe('5.10000000');
    expect(field(at(risk, 0), 'maintMargin')).toBe('0.40800000');

    h.market.setBook(
      S,
      [
        ['103.0', '0.4'],
        ['102.5', '2'],
      ],
      [['104.0', '5']],
    );
    const close = sell(h, { type: 'MARKET', quantity: '1' });
    expect(field(close, 'avgPrice')).toBe('102.70');
    // realized 0.4 × 2.5 + 0.6 × 2.0 = 2.2; fees 41.2×0.0005 + 61.5×0.0005 = 0.0206 + 0.03075;
    // 9999.94975 + 2.2 − 0.05135 = 10002.0984.
    const after = h.engine.accountTruth('account-1');
    expect(after.walletBalances.USDT).toBe('10002.09840000');
    expect(after.positions).toEqual([]);
    const rows = h.call('GET', '/fapi/v1/userTrades', { symbol: S });
    expect(rows).toHaveLength(4);
    expect(field(at(rows, 2), 'realizedPnl')).toBe('1.00000000');
    expect(field(at(rows, 3), 'realizedPnl')).toBe('1.20000000');
    expect(field(at(rows, 3), 'buyer')).toBe(false);
    const income = h.call('GET', '/fapi/v1/income', {});
    expect(
      (income as readonly unknown[]).map(
        (r) => `${field(r as never, 'incomeType')}:${field(r as never, 'income')}`,
      ),
    ).toEqual([
      'TRANSFER:10000.00000000',
      'COMMISSION:-0.02500000',
      'COMMISSION:-0.02525000',
      'REALIZED_PNL:1.00000000',
      'COMMISSION:-0.02060000',
      'REALIZED_PNL:1.20000000',
      'COMMISSION:-0.03075000',
    ]);
    // Digits of ids beyond 2^53, as Binance's funding fees have (written as bare numbers over HTTP).
    const tranIds = (income as readonly unknown[]).map((r) => BigInt(field(r as never, 'tranId') as string));
    expect(tranIds.every((id) => id > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect([...tranIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(tranIds);
    expect(new Set(tranIds).size).toBe(tranIds.length);
  });

  it('emits NEW, one TRADE per level and ACCOUNT_UPDATE that parse natively and agree with REST', () => {
    const h = new EngineHarness();
    h.market.setBook(
      S,
      [],
      [
        ['100.0', '0.5'],
        ['101.0', '0.5'],
      ],
    );
    h.market.setMark(S, '100.0');
    buy(h, { type: 'MARKET', quantity: '1', newClientOrderId: 'my-1' });
    const orders = h.eventsOf('ORDER_TRADE_UPDATE').map((e) => parseUserEvent(bytes(e)).orderUpdate);
    expect(
      orders.map((o) => `${o?.executionType}/${o?.status}/${o?.lastFilledQuantity}@${o?.lastFilledPrice}`),
    ).toEqual(['NEW/NEW/0.000@0.00', 'TRADE/PARTIALLY_FILLED/0.500@100.00', 'TRADE/FILLED/0.500@101.00']);
    const last = orders[2];
    expect(last?.clientOrderId).toBe('my-1');
    expect(last?.commission).toBe('0.02525000');
    expect(last?.commissionAsset).toBe('USDT');
    expect(last?.cumulativeFilledQuantity).toBe('1.000');
    expect(last?.averagePrice).toBe('100.50');
    expect(last?.isMaker).toBe(false);
    expect(last?.eventTime).toBe(h.clock.now());
    const updates = h.eventsOf('ACCOUNT_UPDATE').map((e) => parseUserEvent(bytes(e)).accountUpdate);
    expect(updates).toHaveLength(2);
    const final = updates[1];
    expect(final?.reason).toBe('ORDER');
    expect(final?.balances[0]?.walletBalance).toBe('9999.94975000');
    expect(final?.positions[0]?.position.amount).toBe('1.000');
    expect(final?.positions[0]?.position.entryPrice).toBe('100.50');
    expect(final?.positions[0]?.position.unrealizedPnl).toBe('-0.50000000');
    // REST agrees with the events.
    const account = parseAccount(bytes(h.call('GET', '/fapi/v3/account')));
    expect(account.balances[0]?.walletBalance).toBe('9999.94975000');
    expect(account.positions[0]?.position.amount).toBe('1.000');
    expect(account.positions[0]?.position.unrealizedPnl).toBe('-0.50000000');
    const v2 = parseAccount(bytes(h.call('GET', '/fapi/v2/account')));
    expect(v2.positions.find((p) => p.symbol === S)?.position.entryPrice).toBe('100.50');
    expect(v2.positions.find((p) => p.symbol === S)?.position.breakEvenPrice).toBe('100.55025');
    const risk = parsePositionRisk(bytes(h.call('GET', '/fapi/v3/positionRisk')));
    expect(risk[0]?.position.markPrice).toBe('100.00000000');
    expect(risk[0]?.position.entryPrice).toBe('100.50');
    const riskV2 = parsePositionRisk(bytes(h.call('GET', '/fapi/v2/positionRisk')));
    expect(riskV2[0]?.position.amount).toBe('1.000');
    const query = h.call('GET', '/fapi/v1/order', { symbol: S, origClientOrderId: 'my-1' });
    expect(field(query, 'orderId')).toBe(last === undefined ? 0 : Number(last.orderId));
    expect(field(query, 'status')).toBe('FILLED');
  });

  it('ACK returns the accepted order before matching; RESULT the outcome', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [], [['100.0', '5']]);
    const ack = h.call('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '0.1' });
    expect(field(ack, 'status')).toBe('NEW');
    expect(field(ack, 'executedQty')).toBe('0.000');
    const q = h.call('GET', '/fapi/v1/order', { symbol: S, orderId: String(field(ack, 'orderId')) });
    expect(field(q, 'status')).toBe('FILLED');
  });

  it('a market order larger than the book fills what there is and expires the rest', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [], [['100.0', '0.2']]);
    const r = buy(h, { type: 'MARKET', quantity: '0.5' });
    expect(field(r, 'status')).toBe('EXPIRED');
    expect(field(r, 'executedQty')).toBe('0.200');
  });
});

describe('limit orders and time in force', () => {
  it('a resting GTC buy fills from sell trades at its limit price as maker, partially then fully', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['98.0', '1']], [['100.0', '1']]);
    const placed = buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '99.0', quantity: '0.3' });
    expect(field(placed, 'status')).toBe('NEW');
    h.market.trade(S, '98.0', '1', 'BUY'); // a taker buy never fills a resting buy
    h.market.trade(S, '99.1', '1', 'SELL'); // above the limit
    h.market.trade(S, '99.0', '0.1', 'SELL');
    let q = h.call('GET', '/fapi/v1/openOrder', { symbol: S, orderId: String(field(placed, 'orderId')) });
    expect(field(q, 'status')).toBe('PARTIALLY_FILLED');
    expect(field(q, 'executedQty')).toBe('0.100');
    h.market.trade(S, '98.5', '0.5', 'SELL');
    q = h.call('GET', '/fapi/v1/order', { symbol: S, orderId: String(field(placed, 'orderId')) });
    expect(field(q, 'status')).toBe('FILLED');
    expect(field(q, 'avgPrice')).toBe('99.00');
    const trades = h.call('GET', '/fapi/v1/userTrades', { symbol: S });
    // maker fees: 9.9 × 0.0002 = 0.00198 and 19.8 × 0.0002 = 0.00396
    expect(field(at(trades, 0), 'commission')).toBe('0.00198000');
    expect(field(at(trades, 1), 'commission')).toBe('0.00396000');
    expect(field(at(trades, 1), 'price')).toBe('99.00');
    expect(field(at(trades, 1), 'maker')).toBe(true);
    expect(h.engine.accountTruth('account-1').walletBalances.USDT).toBe('9999.99406000');
    expect(h.market.takerFills).toEqual([]);
    const fills = h.eventsOf('ORDER_TRADE_UPDATE').map((e) => parseUserEvent(bytes(e)).orderUpdate);
    expect(fills.filter((o) => o?.executionType === 'TRADE').every((o) => o?.isMaker)).toBe(true);
  });

  it('two resting orders share one trade by price priority', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [], [['101.0', '1']]);
    const low = buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '99.0', quantity: '0.2' });
    const high = buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '99.5', quantity: '0.2' });
    h.market.trade(S, '99.0', '0.3', 'SELL');
    const qHigh = h.call('GET', '/fapi/v1/order', { symbol: S, orderId: String(field(high, 'orderId')) });
    const qLow = h.call('GET', '/fapi/v1/order', { symbol: S, orderId: String(field(low, 'orderId')) });
    expect(field(qHigh, 'executedQty')).toBe('0.200');
    expect(field(qLow, 'executedQty')).toBe('0.100');
  });

  it('a crossing GTC limit takes what crosses and rests the rest', () => {
    const h = new EngineHarness();
    h.market.setBook(
      S,
      [],
      [
        ['100.0', '0.1'],
        ['100.5', '0.1'],
        ['101.0', '1'],
      ],
    );
    const r = buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '100.5', quantity: '0.5' });
    expect(field(r, 'status')).toBe('PARTIALLY_FILLED');
    expect(field(r, 'executedQty')).toBe('0.200');
    expect(h.call('GET', '/fapi/v1/openOrders', { symbol: S })).toHaveLength(1);
  });

  it('IOC fills what crosses and expires the rest', () => {
    const h = new EngineHarness();
    h.market.setBook(
      S,
      [],
      [
        ['100.0', '0.1'],
        ['101.0', '1'],
      ],
    );
    const r = buy(h, { type: 'LIMIT', timeInForce: 'IOC', price: '100.0', quantity: '0.5' });
    expect(field(r, 'status')).toBe('EXPIRED');
    expect(field(r, 'executedQty')).toBe('0.100');
    expect(h.call('GET', '/fapi/v1/openOrders', { symbol: S })).toEqual([]);
  });

  it('FOK fills entirely or not at all', () => {
    const h = new EngineHarness();
    h.market.setBook(
      S,
      [],
      [
        ['100.0', '0.1'],
        ['100.5', '0.1'],
      ],
    );
    const none = buy(h, { type: 'LIMIT', timeInForce: 'FOK', price: '100.5', quantity: '0.3' });
    expect(field(none, 'status')).toBe('EXPIRED');
    expect(field(none, 'executedQty')).toBe('0.000');
    expect(h.market.takerFills).toEqual([]);
    const all = buy(h, { type: 'LIMIT', timeInForce: 'FOK', price: '100.5', quantity: '0.2' });
    expect(field(all, 'status')).toBe('FILLED');
    expect(field(all, 'avgPrice')).toBe('100.25');
  });

  it('GTX rests when it would not take and is refused with -5022 when it would', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '1']], [['100.0', '1']]);
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTX',
        price: '100.0',
        quantity: '0.1',
      }),
    ).toBe(-5022);
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTX',
        price: '99.0',
        quantity: '0.1',
      }),
    ).toBe(-5022);
    const ok = buy(h, { type: 'LIMIT', timeInForce: 'GTX', price: '99.9', quantity: '0.1' });
    expect(field(ok, 'status')).toBe('NEW');
    expect(field(ok, 'timeInForce')).toBe('GTX');
  });

  it('cancels one order, all orders, and refuses unknown ones', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [], [['101.0', '1']]);
    const a = buy(h, {
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: '99.0',
      quantity: '0.1',
      newClientOrderId: 'a',
    });
    buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '98.0', quantity: '0.1' });
    const c = h.call('DELETE', '/fapi/v1/order', { symbol: S, origClientOrderId: 'a' });
    expect(field(c, 'status')).toBe('CANCELED');
    expect(field(c, 'orderId')).toBe(field(a, 'orderId'));
    expect(h.code('DELETE', '/fapi/v1/order', { symbol: S, origClientOrderId: 'a' })).toBe(-2011);
    expect(h.code('DELETE', '/fapi/v1/order', { symbol: S, orderId: '123' })).toBe(-2011);
    expect(h.code('GET', '/fapi/v1/order', { symbol: S, orderId: '123' })).toBe(-2013);
    expect(h.code('GET', '/fapi/v1/openOrder', { symbol: S, origClientOrderId: 'a' })).toBe(-2013);
    expect(h.code('GET', '/fapi/v1/order', { symbol: S })).toBe(-1102);
    expect(h.call('DELETE', '/fapi/v1/allOpenOrders', { symbol: S })).toEqual({
      code: 200,
      msg: 'The operation of cancel all open order is done.',
    });
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toEqual([]);
    const all = h.call('GET', '/fapi/v1/allOrders', { symbol: S });
    expect((all as readonly unknown[]).map((o) => field(o as never, 'status'))).toEqual([
      'CANCELED',
      'CANCELED',
    ]);
    const canceled = h
      .eventsOf('ORDER_TRADE_UPDATE')
      .map((e) => parseUserEvent(bytes(e)).orderUpdate?.executionType);
    expect(canceled).toEqual(['NEW', 'NEW', 'CANCELED', 'CANCELED']);
  });

  it('generates a client order id and refuses a duplicate among open orders', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [], [['101.0', '1']]);
    const r = buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '99.0', quantity: '0.1' });
    expect(String(field(r, 'clientOrderId'))).toMatch(/^[0-9A-Za-z]{22}$/);
    buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '99.0', quantity: '0.1', newClientOrderId: 'dup' });
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: '99.0',
        quantity: '0.1',
        newClientOrderId: 'dup',
      }),
    ).toBe(-4116);
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'MARKET',
        quantity: '0.1',
        newClientOrderId: 'bad id!',
      }),
    ).toBe(-4015);
  });
});

describe('filters and refusals', () => {
  const base = { symbol: S, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '100.0', quantity: '0.1' };
  const cases: Array<[string, Record<string, string>, number]> = [
    ['unknown symbol', { symbol: 'NOPEUSDT' }, -1121],
    ['too many quantity decimals', { quantity: '0.0001' }, -1111],
    ['too many price decimals', { price: '100.001' }, -1111],
    ['zero quantity', { quantity: '0' }, -4003],
    ['quantity above max', { quantity: '1001', price: '100.0' }, -4005],
    ['price off tick', { price: '100.05' }, -4014],
    ['price below min', { price: '5.0' }, -4013],
    ['price above max', { price: '5000000', side: 'SELL' }, -4002],
    ['buy above mark × multiplierUp', { price: '105.1' }, -4016],
    ['sell below mark × multiplierDown', { side: 'SELL', price: '94.9' }, -4024],
    ['notional below minimum', { quantity: '0.01' }, -4164],
    ['conditional type on /order', { type: 'STOP_MARKET', stopPrice: '101' }, -4120],
    ['unknown type', { type: 'ICEBERG' }, -1116],
    ['missing quantity', { quantity: '' }, -1102],
    ['missing timeInForce', { timeInForce: '' }, -1102],
    ['bad side', { side: 'UP' }, -1117],
    ['garbage price', { price: '1e5' }, -1130],
    ['positionSide LONG in one-way', { positionSide: 'LONG' }, -4061],
    ['reduceOnly with no position', { reduceOnly: 'true' }, -2022],
  ];
  for (const [name, override, code] of cases) {
    it(`${name} → ${code}`, () => {
      const h = new EngineHarness();
      h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
      const params: Record<string, string> = { ...base, ...override };
      for (const [k, v] of Object.entries(params)) if (v === '') delete params[k];
      expect(h.code('POST', '/fapi/v1/order', params)).toBe(code);
    });
  }

  it('margin insufficient → -2019, counting open orders; a reduce-only order needs no margin', () => {
    // 20 USDT at 20× carries 400 USDT of notional: 3 @ 100 = 15 of margin fits, 2 more @ 100 do not.
    const h = new EngineHarness([{ apiKey: 'k', apiSecret: 's', balances: { USDT: '20' } }]);
    h.market.setBook(S, [['99.0', '100']], [['101.0', '100']]);
    buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '100.0', quantity: '3' });
    expect(h.code('POST', '/fapi/v1/order', { ...base, quantity: '2' })).toBe(-2019);
    expect(h.code('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '2' })).toBe(
      -2019,
    );
    const ok = buy(h, { type: 'LIMIT', timeInForce: 'GTC', price: '100.0', quantity: '1' });
    expect(field(ok, 'status')).toBe('NEW');
    expect(h.engine.accountTruth('account-1').availableBalance).toBe('0.00000000');
  });

  it('MARKET_LOT_SIZE bounds market orders; LOT_SIZE limits; min quantity and step are separate', () => {
    const spec = testSpec({ minQty: Decimal.parse('0.01'), marketMinQty: Decimal.parse('0.01') });
    const h = new EngineHarness([{ apiKey: 'k', apiSecret: 's', balances: { USDT: '10000000' } }], [spec]);
    h.market.setBook(S, [], [['100.0', '1000']]);
    expect(
      h.code('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '121' }),
    ).toBe(-4005);
    expect(
      h.code('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '0.005' }),
    ).toBe(-4004);
    const step = testSpec({ stepSize: Decimal.parse('0.01'), marketStepSize: Decimal.parse('0.01') });
    const h2 = new EngineHarness([{ apiKey: 'k', apiSecret: 's' }], [step]);
    expect(
      h2.code('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '0.105' }),
    ).toBe(-4023);
  });

  it('reduce-only orders are exempt from the notional minimum and cannot grow a position', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    buy(h, { type: 'MARKET', quantity: '0.1' });
    const small = sell(h, { type: 'MARKET', quantity: '0.01', reduceOnly: 'true' });
    expect(field(small, 'status')).toBe('FILLED');
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'MARKET',
        quantity: '0.1',
        reduceOnly: 'true',
      }),
    ).toBe(-2022);
    // A reduce-only sell larger than the position closes only the position.
    const over = sell(h, { type: 'MARKET', quantity: '0.5', reduceOnly: 'true' });
    expect(field(over, 'executedQty')).toBe('0.090');
    expect(field(over, 'status')).toBe('EXPIRED');
    expect(h.engine.accountTruth('account-1').positions).toEqual([]);
  });

  it('a one-way order that crosses zero flips the position at the fill price', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['100.0', '10']], [['100.0', '10']]);
    buy(h, { type: 'MARKET', quantity: '0.1' });
    h.market.setBook(S, [['110.0', '10']], [['111.0', '10']]);
    sell(h, { type: 'MARKET', quantity: '0.3' });
    const p = h.engine.accountTruth('account-1').positions[0];
    expect(p?.positionAmt).toBe('-0.2');
    expect(p?.entryPrice).toBe('110');
    const trades = h.call('GET', '/fapi/v1/userTrades', { symbol: S });
    expect(field(at(trades, 1), 'realizedPnl')).toBe('1.00000000');
  });
});
