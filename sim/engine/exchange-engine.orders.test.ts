// Order management beyond place/cancel: modify, batches, test orders, countdown cancel, self-trade
// prevention between the accounts' own orders, priceProtect, TRADE_LITE, leverage caps, asset mode.
import { describe, expect, it } from 'vitest';
import { parseUserEvent } from '../../ts/native/parse.js';
import { at, bytes, EngineHarness, field } from './testing/engine-harness.js';

const S = 'BTCUSDT';
const two = [
  { apiKey: 'key-1', apiSecret: 'secret-1' },
  { apiKey: 'key-2', apiSecret: 'secret-2' },
];

function order(h: EngineHarness, params: Record<string, string>, account = 'account-1') {
  return h.call('POST', '/fapi/v1/order', { symbol: S, newOrderRespType: 'RESULT', ...params }, account);
}

function book(h: EngineHarness): void {
  h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
}

describe('modify (PUT /fapi/v1/order)', () => {
  it('changes price and quantity with an AMENDMENT event, trades when it now crosses, refuses a no-op', () => {
    const h = new EngineHarness();
    book(h);
    const placed = order(h, {
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: '98.0',
      quantity: '2',
      selfTradePreventionMode: 'EXPIRE_MAKER',
    });
    const orderId = String(field(placed, 'orderId'));
    expect(field(placed, 'selfTradePreventionMode')).toBe('EXPIRE_MAKER');
    const modified = h.call('PUT', '/fapi/v1/order', {
      symbol: S,
      orderId,
      side: 'BUY',
      quantity: '3',
      price: '98.5',
    });
    // Binance: a modified order loses its self-trade prevention.
    expect(modified).toMatchObject({
      price: '98.50',
      origQty: '3.000',
      status: 'NEW',
      selfTradePreventionMode: 'NONE',
    });
    const amendment = h.eventsOf('ORDER_TRADE_UPDATE').at(-1)?.o as Record<string, unknown>;
    expect([amendment.x, amendment.X, amendment.p, amendment.q]).toEqual([
      'AMENDMENT',
      'NEW',
      '98.50',
      '3.000',
    ]);
    expect(
      h.code('PUT', '/fapi/v1/order', { symbol: S, orderId, side: 'BUY', quantity: '3', price: '98.5' }),
    ).toBe(-5027);
    expect(
      h.code('PUT', '/fapi/v1/order', { symbol: S, orderId, side: 'SELL', quantity: '3', price: '98.5' }),
    ).toBe(-1130);
    expect(
      h.code('PUT', '/fapi/v1/order', { symbol: S, orderId, side: 'BUY', quantity: '3', price: '98.55' }),
    ).toBe(-4014);
    expect(
      h.code('PUT', '/fapi/v1/order', { symbol: S, orderId: '1', side: 'BUY', quantity: '3', price: '98' }),
    ).toBe(-2013);
    // Moved across the ask it trades what crosses and rests the rest.
    const crossing = h.call('PUT', '/fapi/v1/order', {
      symbol: S,
      orderId,
      side: 'BUY',
      quantity: '12',
      price: '101.0',
    });
    expect(crossing).toMatchObject({ status: 'PARTIALLY_FILLED', executedQty: '10.000' });
    // A quantity at or below what has filled cancels it.
    const done = h.call('PUT', '/fapi/v1/order', {
      symbol: S,
      orderId,
      side: 'BUY',
      quantity: '10',
      price: '101.0',
    });
    expect(field(done, 'status')).toBe('CANCELED');
  });
});

describe('batch orders', () => {
  it('places, modifies and cancels up to 5 / 10 at once, each succeeding or failing on its own', () => {
    const h = new EngineHarness();
    book(h);
    const batch = JSON.stringify([
      {
        symbol: S,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: '97.0',
        quantity: '1',
        newClientOrderId: 'b1',
      },
      { symbol: S, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '97.05', quantity: '1' },
      {
        symbol: S,
        side: 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 103,
        quantity: 1,
        newClientOrderId: 'b3',
      },
    ]);
    const placed = h.call('POST', '/fapi/v1/batchOrders', { batchOrders: batch });
    expect(placed).toHaveLength(3);
    expect(at(placed, 0)).toMatchObject({ clientOrderId: 'b1', status: 'NEW', price: '97.00' });
    expect(at(placed, 1)).toEqual({ code: -4014, msg: 'Price not increased by tick size.' });
    expect(at(placed, 2)).toMatchObject({ clientOrderId: 'b3', side: 'SELL' });
    const id1 = Number(field(at(placed, 0), 'orderId'));
    const modified = h.call('PUT', '/fapi/v1/batchOrders', {
      batchOrders: JSON.stringify([
        { symbol: S, orderId: id1, side: 'BUY', quantity: '2', price: '97.5' },
        { symbol: S, origClientOrderId: 'nope', side: 'BUY', quantity: '2', price: '97.5' },
      ]),
    });
    expect(at(modified, 0)).toMatchObject({ orderId: id1, origQty: '2.000', price: '97.50' });
    expect(at(modified, 1)).toEqual({ code: -2013, msg: 'Order does not exist.' });
    const canceled = h.call('DELETE', '/fapi/v1/batchOrders', {
      symbol: S,
      orderIdList: JSON.stringify([id1, 12345]),
    });
    expect(at(canceled, 0)).toMatchObject({ orderId: id1, status: 'CANCELED' });
    expect(at(canceled, 1)).toEqual({ code: -2011, msg: 'Unknown order sent.' });
    expect(
      at(h.call('DELETE', '/fapi/v1/batchOrders', { symbol: S, origClientOrderIdList: '["b3"]' }), 0),
    ).toMatchObject({ status: 'CANCELED' });
    const six = JSON.stringify(
      Array.from({ length: 6 }, () => ({ symbol: S, side: 'BUY', type: 'MARKET', quantity: '1' })),
    );
    expect(h.code('POST', '/fapi/v1/batchOrders', { batchOrders: six })).toBe(-4082);
    expect(
      h.code('DELETE', '/fapi/v1/batchOrders', {
        symbol: S,
        orderIdList: JSON.stringify(Array.from({ length: 11 }, (_, i) => i + 1)),
      }),
    ).toBe(-4032);
    expect(h.code('POST', '/fapi/v1/batchOrders', { batchOrders: 'not json' })).toBe(-1130);
    expect(h.code('DELETE', '/fapi/v1/batchOrders', { symbol: S })).toBe(-1102);
  });
});

describe('GTD orders', () => {
  const gtd = (goodTillDate: string) => ({
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTD',
    price: '98.0',
    quantity: '1',
    goodTillDate,
  });

  it('rest until goodTillDate (milliseconds dropped), then expire with an ORDER_TRADE_UPDATE', () => {
    const h = new EngineHarness();
    book(h);
    const expiry = h.clock.now() + 3_600_000 + 999;
    const placed = order(h, gtd(String(expiry)));
    const whole = expiry - 999;
    expect(placed).toMatchObject({ status: 'NEW', timeInForce: 'GTD', goodTillDate: whole });
    expect(h.eventsOf('ORDER_TRADE_UPDATE').at(-1)?.o).toMatchObject({ f: 'GTD', gtd: whole });
    h.clock.advance(3_600_000 - 1);
    h.engine.advance(h.clock.now());
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toHaveLength(1);
    h.clock.advance(1);
    h.engine.advance(h.clock.now());
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toEqual([]);
    expect(h.eventsOf('ORDER_TRADE_UPDATE').at(-1)?.o).toMatchObject({
      x: 'EXPIRED',
      X: 'EXPIRED',
      f: 'GTD',
    });
    expect(
      h.call('GET', '/fapi/v1/order', { symbol: S, orderId: String(field(placed, 'orderId')) }),
    ).toMatchObject({
      status: 'EXPIRED',
      goodTillDate: whole,
    });
  });

  it("refuses a missing or too-near goodTillDate, and GTD on conditional orders, with Binance's codes", () => {
    const h = new EngineHarness();
    book(h);
    const now = h.clock.now();
    expect(h.code('POST', '/fapi/v1/order', { symbol: S, ...gtd('') })).toBe(-1102);
    // Later than now + 600 s is required: exactly 600 s (after dropping milliseconds) is refused.
    expect(h.code('POST', '/fapi/v1/order', { symbol: S, ...gtd(String(now + 600_999)) })).toBe(-5040);
    expect(h.code('POST', '/fapi/v1/order', { symbol: S, ...gtd('253402300799000') })).toBe(-5040);
    expect(order(h, gtd(String(now + 601_000)))).toMatchObject({ status: 'NEW' });
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'BUY',
        type: 'STOP',
        timeInForce: 'GTD',
        triggerPrice: '102',
        price: '102',
        quantity: '1',
      }),
    ).toBe(-1130);
  });

  it('refuses unknown self-trade prevention and price-match modes, and price match on market orders', () => {
    const h = new EngineHarness();
    book(h);
    const limit = { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1' };
    expect(
      h.code('POST', '/fapi/v1/order', { symbol: S, ...limit, price: '98', selfTradePreventionMode: 'X' }),
    ).toBe(-5039);
    expect(h.code('POST', '/fapi/v1/order', { symbol: S, ...limit, priceMatch: 'BEST' })).toBe(-5037);
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'MARKET',
        quantity: '1',
        priceMatch: 'QUEUE',
      }),
    ).toBe(-5038);
    const matched = order(h, { ...limit, priceMatch: 'QUEUE' });
    expect(matched).toMatchObject({ price: '99.00', priceMatch: 'QUEUE' });
    expect(h.eventsOf('ORDER_TRADE_UPDATE').at(-1)?.o).toMatchObject({ pm: 'QUEUE' });
  });
});

describe('test orders and countdown cancel', () => {
  it('checks a test order like a real one and places nothing', () => {
    const h = new EngineHarness();
    book(h);
    const tested = h.call('POST', '/fapi/v1/order/test', {
      symbol: S,
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: '98.0',
      quantity: '1',
    });
    expect(tested).toMatchObject({ orderId: 0, status: 'NEW', price: '98.00', origQty: '1.000' });
    expect(
      h.code('POST', '/fapi/v1/order/test', {
        symbol: S,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: '98.03',
        quantity: '1',
      }),
    ).toBe(-4014);
    expect(
      h.code('POST', '/fapi/v1/order/test', { symbol: S, side: 'BUY', type: 'STOP_MARKET', quantity: '1' }),
    ).toBe(-4120);
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it("cancels a symbol's open orders when the countdown is not renewed, and not when it is stopped", () => {
    const h = new EngineHarness();
    book(h);
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '98.0', quantity: '1' });
    expect(h.call('POST', '/fapi/v1/countdownCancelAll', { symbol: S, countdownTime: '2000' })).toEqual({
      symbol: S,
      countdownTime: '2000',
    });
    h.clock.advance(1_500);
    h.engine.advance(h.clock.now());
    h.call('POST', '/fapi/v1/countdownCancelAll', { symbol: S, countdownTime: '2000' }); // heartbeat
    h.clock.advance(1_500);
    h.engine.advance(h.clock.now());
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toHaveLength(1);
    h.clock.advance(600);
    h.engine.advance(h.clock.now());
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toEqual([]);
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '98.0', quantity: '1' });
    h.call('POST', '/fapi/v1/countdownCancelAll', { symbol: S, countdownTime: '1000' });
    h.call('POST', '/fapi/v1/countdownCancelAll', { symbol: S, countdownTime: '0' });
    h.clock.advance(5_000);
    h.engine.advance(h.clock.now());
    expect(h.call('GET', '/fapi/v1/openOrders', {})).toHaveLength(1);
  });
});

describe('orders of the simulated accounts meet each other', () => {
  it('trades a taker against another account’s resting order at its price', () => {
    const h = new EngineHarness(two);
    book(h);
    // Account 2 bids 100.0, better than the book's 99.0: account 1's sell meets it first.
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '100.0', quantity: '3' }, 'account-2');
    const sell = order(h, { side: 'SELL', type: 'MARKET', quantity: '5' });
    expect(field(sell, 'avgPrice')).toBe('99.60'); // (3 × 100 + 2 × 99) / 5 = 498 / 5
    const maker = h.call('GET', '/fapi/v1/userTrades', { symbol: S }, 'account-2');
    expect(at(maker, 0)).toMatchObject({ price: '100.00', qty: '3.000', maker: true, buyer: true });
    expect(h.engine.accountTruth('account-2').positions[0]?.positionAmt).toBe('3');
    expect(h.engine.accountTruth('account-1').positions[0]?.positionAmt).toBe('-5');
  });

  for (const [mode, makerStatus, takerStatus, filled] of [
    ['NONE', 'FILLED', 'FILLED', '3.000'],
    // The maker expires; the taker finds nothing else at its price and rests.
    ['EXPIRE_MAKER', 'EXPIRED_IN_MATCH', 'NEW', '0.000'],
    ['EXPIRE_TAKER', 'NEW', 'EXPIRED_IN_MATCH', '0.000'],
    ['EXPIRE_BOTH', 'EXPIRED_IN_MATCH', 'EXPIRED_IN_MATCH', '0.000'],
  ] as const) {
    it(`self-trade prevention ${mode}: maker ${makerStatus}, taker ${takerStatus}`, () => {
      const h = new EngineHarness();
      h.market.setBook(S, [['90.0', '10']], [['101.0', '10']]);
      const maker = order(h, {
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: '100.0',
        quantity: '3',
      });
      const taker = order(h, {
        side: 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: '100.0',
        quantity: '3',
        selfTradePreventionMode: mode,
      });
      expect(field(taker, 'status')).toBe(takerStatus);
      expect(field(taker, 'executedQty')).toBe(filled);
      const makerNow = h.call('GET', '/fapi/v1/order', {
        symbol: S,
        orderId: String(field(maker, 'orderId')),
      });
      expect(field(makerNow, 'status')).toBe(makerStatus);
      if (mode !== 'NONE') {
        const expired = h
          .eventsOf('ORDER_TRADE_UPDATE')
          .filter((e) => (e.o as { X: string }).X === 'EXPIRED_IN_MATCH');
        expect(expired.every((e) => (e.o as { x: string }).x === 'EXPIRED')).toBe(true);
      } else {
        // A self-trade: both sides of the account, net flat, each fill charged.
        expect(h.engine.accountTruth('account-1').positions).toEqual([]);
        expect(h.call('GET', '/fapi/v1/userTrades', { symbol: S })).toHaveLength(2);
      }
    });
  }
});

describe('fills, leverage caps and asset mode', () => {
  it('sends TRADE_LITE before each ORDER_TRADE_UPDATE trade', () => {
    const h = new EngineHarness();
    book(h);
    order(h, { side: 'BUY', type: 'MARKET', quantity: '2', newClientOrderId: 'lite-1' });
    const types = h.events.map((e) => (e.event as { e: string }).e);
    expect(types).toEqual(['ORDER_TRADE_UPDATE', 'TRADE_LITE', 'ORDER_TRADE_UPDATE', 'ACCOUNT_UPDATE']);
    const lite = h.eventsOf('TRADE_LITE')[0];
    expect(lite).toMatchObject({ s: S, c: 'lite-1', S: 'BUY', L: '101.0', m: false });
    expect(parseUserEvent(bytes(lite ?? null)).kind).toBe('other');
  });

  it('refuses a position beyond what the leverage allows (-2027), at placement and on leverage change', () => {
    const h = new EngineHarness([{ apiKey: 'k', apiSecret: 's', balances: { USDT: '1000000' } }]);
    h.market.setBook(S, [['99.0', '100000']], [['100.0', '100000']]);
    // At 125× the first bracket's cap is 50,000 USDT: 600 × 100 = 60,000 is too much.
    h.call('POST', '/fapi/v1/leverage', { symbol: S, leverage: '125' });
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: '99.0',
        quantity: '600',
      }),
    ).toBe(-2027);
    h.call('POST', '/fapi/v1/leverage', { symbol: S, leverage: '100' });
    order(h, { side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '100.0', quantity: '600' });
    expect(h.code('POST', '/fapi/v1/leverage', { symbol: S, leverage: '125' })).toBe(-2027);
    const risk = at(h.call('GET', '/fapi/v2/positionRisk', { symbol: S }), 0);
    expect(field(risk, 'maxNotionalValue')).toBe('600000');
  });

  it('places a price-matched limit order at the book level it names', () => {
    const h = new EngineHarness();
    h.market.setBook(
      S,
      [
        ['99.0', '1'],
        ['98.9', '1'],
        ['98.8', '1'],
        ['98.7', '1'],
        ['98.6', '1'],
      ],
      [['101.0', '1']],
    );
    const queued = order(h, {
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      priceMatch: 'QUEUE_5',
    });
    expect(field(queued, 'price')).toBe('98.60');
    expect(
      h.code('POST', '/fapi/v1/order', {
        symbol: S,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '1',
        price: '99',
        priceMatch: 'QUEUE',
      }),
    ).toBe(-1106);
  });

  it('switches Multi-Assets mode with ACCOUNT_CONFIG_UPDATE, refusing it with isolated symbols', () => {
    const h = new EngineHarness();
    expect(h.call('GET', '/fapi/v1/multiAssetsMargin', {})).toEqual({ multiAssetsMargin: false });
    expect(h.call('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })).toEqual({
      code: 200,
      msg: 'success',
    });
    expect(h.eventsOf('ACCOUNT_CONFIG_UPDATE').at(-1)).toMatchObject({ ai: { j: true } });
    expect(h.code('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })).toBe(-4171);
    expect(h.code('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' })).toBe(-4168);
    h.call('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'false' });
    h.call('POST', '/fapi/v1/marginType', { symbol: S, marginType: 'ISOLATED' });
    expect(h.code('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })).toBe(-4167);
  });
});

describe('priceProtect', () => {
  it('holds a triggered conditional order while the last price is more than 5 % off the mark', () => {
    const h = new EngineHarness();
    book(h);
    order(h, { side: 'BUY', type: 'MARKET', quantity: '1' });
    const stop = {
      algoType: 'CONDITIONAL',
      symbol: S,
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: '1',
      triggerPrice: '95.0',
      reduceOnly: 'true',
    };
    h.call('POST', '/fapi/v1/algoOrder', { ...stop, priceProtect: 'TRUE', clientAlgoId: 'protected' });
    h.call('POST', '/fapi/v1/algoOrder', { ...stop, clientAlgoId: 'plain' });
    // A print at 90 with the mark still at 100: 10 % apart.
    h.market.setMark(S, '100');
    h.market.trade(S, '90.0', '0.001', 'SELL');
    const status = (id: string) =>
      field(h.call('GET', '/fapi/v1/algoOrder', { clientAlgoId: id }), 'algoStatus');
    expect(status('plain')).not.toBe('NEW');
    expect(status('protected')).toBe('NEW');
    // Once the mark follows (within 5 %), the protected order triggers too.
    h.market.setMark(S, '92');
    h.market.trade(S, '90.0', '0.001', 'SELL');
    expect(status('protected')).not.toBe('NEW');
  });
});
