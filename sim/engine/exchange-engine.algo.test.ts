// Conditional orders through /fapi/v1/algoOrder: triggers, trailing stops, closePosition, events, refusals.
import { describe, expect, it } from 'vitest';
import { parseUserEvent } from '../../ts/native/parse.js';
import { bytes, EngineHarness, field } from './testing/engine-harness.js';

const S = 'BTCUSDT';

function algo(h: EngineHarness, params: Record<string, string>) {
  return h.call('POST', '/fapi/v1/algoOrder', { algoType: 'CONDITIONAL', symbol: S, ...params });
}

function algoStatuses(h: EngineHarness): string[] {
  return h.eventsOf('ALGO_UPDATE').map((e) => parseUserEvent(bytes(e)).algoUpdate?.status ?? '?');
}

function longOne(h: EngineHarness): void {
  h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
  h.call('POST', '/fapi/v1/order', { symbol: S, side: 'BUY', type: 'MARKET', quantity: '1' });
}

describe('conditional orders', () => {
  it('STOP_MARKET closePosition: waits, triggers on the tape, closes the whole position, reports every step', () => {
    const h = new EngineHarness();
    longOne(h);
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'SELL',
        type: 'STOP_MARKET',
        triggerPrice: '101.0',
        closePosition: 'true',
      }),
    ).toBe(-2021);
    const placed = algo(h, {
      side: 'SELL',
      type: 'STOP_MARKET',
      triggerPrice: '95.0',
      closePosition: 'true',
      clientAlgoId: 'stop-1',
    });
    expect(field(placed, 'algoStatus')).toBe('NEW');
    expect(field(placed, 'triggerPrice')).toBe('95.00');
    expect(field(placed, 'closePosition')).toBe(true);
    h.clearEvents();
    h.market.trade(S, '96.0', '1', 'SELL');
    expect(algoStatuses(h)).toEqual([]);
    h.market.setBook(
      S,
      [
        ['94.5', '0.4'],
        ['94.0', '5'],
      ],
      [['95.5', '5']],
    );
    h.market.trade(S, '95.0', '1', 'SELL');
    expect(algoStatuses(h)).toEqual(['TRIGGERING', 'TRIGGERED', 'FINISHED']);
    const finished = parseUserEvent(bytes(h.eventsOf('ALGO_UPDATE')[2] ?? null)).algoUpdate;
    expect(finished?.clientAlgoId).toBe('stop-1');
    expect(finished?.executedQuantity).toBe('1.000');
    // 0.4 @ 94.5 + 0.6 @ 94.0 = 94.2 on average
    expect(finished?.averagePrice).toBe('94.20');
    expect(finished?.actualOrderType).toBe('MARKET');
    const orders = h.eventsOf('ORDER_TRADE_UPDATE').map((e) => parseUserEvent(bytes(e)).orderUpdate);
    expect(orders.map((o) => o?.executionType)).toEqual(['NEW', 'TRADE', 'TRADE']);
    expect(orders[0]?.originalOrderType).toBe('STOP_MARKET');
    expect(orders[0]?.closePosition).toBe(true);
    expect(orders[0]?.stopPrice).toBe('95.00');
    expect(finished?.orderId).toBe(orders[0]?.orderId);
    expect(h.engine.accountTruth('account-1').positions).toEqual([]);
    const q = h.call('GET', '/fapi/v1/algoOrder', { clientAlgoId: 'stop-1' });
    expect(field(q, 'algoStatus')).toBe('FINISHED');
    expect(field(q, 'actualOrderId')).toBe(orders[0]?.orderId);
    expect(h.call('GET', '/fapi/v1/openAlgoOrders', { symbol: S })).toEqual([]);
    expect(h.call('GET', '/fapi/v1/allAlgoOrders', { symbol: S })).toHaveLength(1);
  });

  it('TAKE_PROFIT places a limit order at its price when the trigger is reached', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'BUY',
        type: 'TAKE_PROFIT',
        triggerPrice: '101.0',
        price: '95.0',
        quantity: '0.1',
      }),
    ).toBe(-2021);
    algo(h, { side: 'BUY', type: 'TAKE_PROFIT', triggerPrice: '96.0', price: '95.0', quantity: '0.1' });
    h.market.setBook(S, [['95.0', '10']], [['96.0', '10']]);
    h.market.trade(S, '96.0', '0.1', 'SELL');
    const open = h.call('GET', '/fapi/v1/openOrders', { symbol: S });
    expect(open).toHaveLength(1);
    const order = (open as readonly unknown[])[0] as never;
    expect(field(order, 'type')).toBe('LIMIT');
    expect(field(order, 'origType')).toBe('TAKE_PROFIT');
    expect(field(order, 'price')).toBe('95.00');
    expect(algoStatuses(h)).toEqual(['NEW', 'TRIGGERING', 'TRIGGERED']);
    h.market.trade(S, '95.0', '1', 'SELL');
    expect(algoStatuses(h)).toEqual(['NEW', 'TRIGGERING', 'TRIGGERED', 'FINISHED']);
  });

  it('a price-matched TAKE_PROFIT takes its limit price from the book when it triggers, with its STP mode', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['101.0', '10']]);
    // Binance: priceMatch "can't be passed together with price"; only LIMIT/STOP/TAKE_PROFIT take it.
    const base = { side: 'BUY', type: 'TAKE_PROFIT', triggerPrice: '96.0', quantity: '0.1' };
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        ...base,
        price: '95.0',
        priceMatch: 'QUEUE',
      }),
    ).toBe(-1106);
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'BUY',
        type: 'TAKE_PROFIT_MARKET',
        triggerPrice: '96.0',
        quantity: '0.1',
        priceMatch: 'QUEUE',
      }),
    ).toBeLessThan(0);
    const placed = algo(h, { ...base, priceMatch: 'QUEUE', selfTradePreventionMode: 'EXPIRE_MAKER' });
    expect(field(placed, 'priceMatch')).toBe('QUEUE');
    expect(field(placed, 'selfTradePreventionMode')).toBe('EXPIRE_MAKER');
    h.market.setBook(S, [['95.5', '10']], [['96.0', '10']]);
    h.market.trade(S, '96.0', '0.1', 'SELL');
    const open = h.call('GET', '/fapi/v1/openOrders', { symbol: S });
    expect(open).toHaveLength(1);
    const order = (open as readonly unknown[])[0] as never;
    // QUEUE: the best bid of a buy's own side when it triggered.
    expect(field(order, 'price')).toBe('95.50');
    expect(field(order, 'priceMatch')).toBe('QUEUE');
    expect(field(order, 'selfTradePreventionMode')).toBe('EXPIRE_MAKER');
    const update = parseUserEvent(bytes(h.eventsOf('ALGO_UPDATE')[0] ?? null)).algoUpdate;
    expect(update?.status).toBe('NEW');
  });

  it('TRAILING_STOP_MARKET activates at activatePrice, follows the high, fires callbackRate % below it', () => {
    const h = new EngineHarness();
    longOne(h);
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'SELL',
        type: 'TRAILING_STOP_MARKET',
        activatePrice: '99.0',
        callbackRate: '1',
        quantity: '1',
        reduceOnly: 'true',
      }),
    ).toBe(-2021);
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'SELL',
        type: 'TRAILING_STOP_MARKET',
        callbackRate: '1',
        closePosition: 'true',
      }),
    ).toBe(-4136);
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'SELL',
        type: 'TRAILING_STOP_MARKET',
        callbackRate: '25',
        quantity: '1',
      }),
    ).toBe(-1130);
    const placed = algo(h, {
      side: 'SELL',
      type: 'TRAILING_STOP_MARKET',
      activatePrice: '105.0',
      callbackRate: '1',
      quantity: '1',
      reduceOnly: 'true',
    });
    expect(field(placed, 'callbackRate')).toBe('1');
    expect(field(placed, 'activatePrice')).toBe('105.00');
    const id = String(field(placed, 'algoId'));
    const level = () => field(h.call('GET', '/fapi/v1/algoOrder', { algoId: id }), 'triggerPrice');
    h.market.trade(S, '104.0', '1', 'BUY');
    expect(level()).toBe('0.00');
    h.market.trade(S, '105.0', '1', 'BUY'); // activated: 105 × 0.99 = 103.95 → 103.9 on the tick grid
    expect(level()).toBe('103.90');
    h.market.trade(S, '110.0', '1', 'BUY'); // 110 × 0.99 = 108.9
    expect(level()).toBe('108.90');
    h.market.trade(S, '109.0', '1', 'SELL');
    expect(field(h.call('GET', '/fapi/v1/algoOrder', { algoId: id }), 'algoStatus')).toBe('NEW');
    h.market.setBook(S, [['108.9', '5']], [['109.0', '5']]);
    h.market.trade(S, '108.9', '1', 'SELL');
    expect(field(h.call('GET', '/fapi/v1/algoOrder', { algoId: id }), 'algoStatus')).toBe('FINISHED');
    expect(h.engine.accountTruth('account-1').positions).toEqual([]);
    const trades = h.call('GET', '/fapi/v1/userTrades', { symbol: S });
    // realized (108.9 − 100) × 1
    expect(field((trades as readonly never[])[1] ?? null, 'realizedPnl')).toBe('8.90000000');
    const events = h.eventsOf('ALGO_UPDATE').map((e) => parseUserEvent(bytes(e)).algoUpdate);
    expect(events[0]?.callbackRate).toBe('1');
  });

  it('MARK_PRICE orders trigger from the mark price on advance()', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    h.market.setMark(S, '100');
    algo(h, {
      side: 'BUY',
      type: 'STOP_MARKET',
      triggerPrice: '102.0',
      quantity: '0.1',
      workingType: 'MARK_PRICE',
    });
    h.market.setLast(S, '103');
    h.engine.advance(h.clock.now());
    expect(algoStatuses(h)).toEqual(['NEW']);
    h.market.setMark(S, '102');
    h.engine.advance(h.clock.now());
    expect(algoStatuses(h)).toEqual(['NEW', 'TRIGGERING', 'TRIGGERED', 'FINISHED']);
    expect(h.engine.accountTruth('account-1').positions[0]?.positionAmt).toBe('0.1');
  });

  it('a triggered order the matching engine refuses makes the algo order REJECTED with the reason', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    algo(h, { side: 'SELL', type: 'STOP_MARKET', triggerPrice: '95.0', closePosition: 'true' });
    h.market.trade(S, '95.0', '1', 'SELL');
    const rejected = parseUserEvent(bytes(h.eventsOf('ALGO_UPDATE')[2] ?? null)).algoUpdate;
    expect(rejected?.status).toBe('REJECTED');
    expect(rejected?.rejectReason).toBe('ReduceOnly Order is rejected.');
  });

  it('cancel, cancel-all, lookups and refusals', () => {
    const h = new EngineHarness();
    h.market.setBook(S, [['99.0', '10']], [['100.0', '10']]);
    const a = algo(h, {
      side: 'SELL',
      type: 'STOP_MARKET',
      triggerPrice: '90.0',
      quantity: '0.1',
      clientAlgoId: 'x1',
    });
    algo(h, { side: 'SELL', type: 'STOP_MARKET', triggerPrice: '91.0', quantity: '0.1' });
    expect(
      h.code('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: S,
        side: 'SELL',
        type: 'STOP_MARKET',
        triggerPrice: '89.0',
        quantity: '0.1',
        clientAlgoId: 'x1',
      }),
    ).toBe(-4116);
    expect(h.call('GET', '/fapi/v1/openAlgoOrders', {})).toHaveLength(2);
    expect(h.call('DELETE', '/fapi/v1/algoOrder', { algoId: String(field(a, 'algoId')) })).toEqual({
      algoId: field(a, 'algoId'),
      clientAlgoId: 'x1',
      code: '200',
      msg: 'success',
    });
    expect(h.code('DELETE', '/fapi/v1/algoOrder', { algoId: String(field(a, 'algoId')) })).toBe(-2011);
    expect(h.code('DELETE', '/fapi/v1/algoOrder', { algoId: '42' })).toBe(-2011);
    expect(h.code('GET', '/fapi/v1/algoOrder', { algoId: '42' })).toBe(-2013);
    expect(h.code('GET', '/fapi/v1/algoOrder', {})).toBe(-1102);
    h.call('DELETE', '/fapi/v1/algoOpenOrders', { symbol: S });
    expect(h.call('GET', '/fapi/v1/openAlgoOrders', { symbol: S })).toEqual([]);
    expect(algoStatuses(h)).toEqual(['NEW', 'NEW', 'CANCELED', 'CANCELED']);
    const refusals: Array<[Record<string, string>, number]> = [
      [{ side: 'SELL', type: 'STOP_MARKET', quantity: '0.1' }, -1102],
      [{ side: 'SELL', type: 'STOP', triggerPrice: '90.0', quantity: '0.1' }, -1102],
      [{ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '90.05', quantity: '0.1' }, -4014],
      [{ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '90.0', quantity: '0.0001' }, -1111],
      [{ side: 'SELL', type: 'STOP_MARKET', triggerPrice: '90.0', quantity: '0.01' }, -4164],
      [{ side: 'SELL', type: 'LIMIT', triggerPrice: '90.0', quantity: '0.1' }, -1116],
      [
        {
          side: 'SELL',
          type: 'STOP',
          triggerPrice: '90.0',
          price: '90.0',
          quantity: '0.1',
          closePosition: 'true',
        },
        -4136,
      ],
      [
        { side: 'SELL', type: 'STOP_MARKET', triggerPrice: '90.0', quantity: '0.1', positionSide: 'SHORT' },
        -4061,
      ],
      [{ symbol: 'XUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: '90.0', quantity: '0.1' }, -1121],
      [{ algoType: 'VP', side: 'SELL', type: 'STOP_MARKET', triggerPrice: '90.0', quantity: '0.1' }, -1130],
    ];
    for (const [params, code] of refusals) {
      expect(
        h.code('POST', '/fapi/v1/algoOrder', { algoType: 'CONDITIONAL', symbol: S, ...params }),
        JSON.stringify(params),
      ).toBe(code);
    }
  });
});

describe('ALGO_UPDATE times', () => {
  it("carries the change's own time as its transaction time (REST's updateTime), even when sent later", () => {
    const h = new EngineHarness();
    // A clock that moves on every reading: work between a change and its event takes time.
    const read = h.clock.now.bind(h.clock);
    let ticks = 0;
    h.clock.now = () => read() + ticks++;
    const placed = algo(h, { side: 'SELL', type: 'STOP_MARKET', triggerPrice: '95.0', quantity: '1' });
    h.call('DELETE', '/fapi/v1/algoOrder', { algoId: String(field(placed, 'algoId')) });
    const rest = h.call('GET', '/fapi/v1/algoOrder', { algoId: String(field(placed, 'algoId')) });
    const [created, cancelled] = h.eventsOf('ALGO_UPDATE') as Array<{ T: number; E: number }>;
    expect(created?.T).toBe(field(placed, 'updateTime'));
    expect(cancelled?.T).toBe(field(rest, 'updateTime'));
    expect(cancelled?.E).toBeGreaterThan(cancelled?.T ?? Number.POSITIVE_INFINITY);
  });
});
