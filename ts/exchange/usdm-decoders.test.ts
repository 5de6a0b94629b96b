// Tests of the response decoders: exact decimals, optional fields, and typed errors for wrong shapes.
import { describe, expect, it } from 'vitest';
import { ShapeError } from './json-shape.js';
import {
  decodeAlgoOrder,
  decodeIncomes,
  decodeLeverage,
  decodeListenKey,
  decodeOrder,
  decodeRateLimits,
} from './usdm-decoders.js';

const ORDER = {
  orderId: 22542179,
  symbol: 'BTCUSDT',
  status: 'NEW',
  clientOrderId: 'testOrder',
  price: '0.10',
  avgPrice: '0.00000',
  origQty: '10',
  executedQty: '0',
  cumQuote: '0',
  timeInForce: 'GTC',
  type: 'TRAILING_STOP_MARKET',
  reduceOnly: false,
  closePosition: false,
  side: 'SELL',
  positionSide: 'SHORT',
  stopPrice: '9300',
  updateTime: 1566818724722,
};

describe('usdm decoders', () => {
  it('decodes an order with exact decimals, keeping the exchange scale', () => {
    const o = decodeOrder(ORDER);
    expect(o.price.toString()).toBe('0.10');
    expect(o.avgPrice?.toString()).toBe('0.00000');
    expect(o.positionSide).toBe('SHORT');
    expect(o.time).toBeNull();
    expect(o.updateTime).toBe(1566818724722);
  });

  it('names the field of a wrong shape', () => {
    expect(() => decodeOrder({ ...ORDER, origQty: 10 })).toThrow(ShapeError);
    expect(() => decodeOrder({ ...ORDER, origQty: 10 })).toThrow(
      '$.origQty: expected a decimal string, got number',
    );
    expect(() => decodeOrder({ ...ORDER, side: 'HOLD' })).toThrow('$.side: unexpected value "HOLD"');
    expect(() => decodeOrder([ORDER])).toThrow('$: expected an object, got an array');
    expect(() => decodeOrder({ ...ORDER, orderId: 1.5 })).toThrow('$.orderId');
  });

  it("decodes algo orders with Binance's empty strings for unset decimals", () => {
    const a = decodeAlgoOrder({
      algoId: 2146760,
      clientAlgoId: 'sl_1',
      algoType: 'CONDITIONAL',
      orderType: 'TAKE_PROFIT',
      symbol: 'BNBUSDT',
      side: 'SELL',
      positionSide: 'BOTH',
      timeInForce: 'GTC',
      quantity: '0.01',
      algoStatus: 'NEW',
      actualOrderId: '',
      triggerPrice: '750.000',
      price: '750.000',
      reduceOnly: false,
      activatePrice: '',
      callbackRate: '',
      createTime: 1750485492076,
      updateTime: 1750485492076,
      triggerTime: 0,
    });
    expect(a.triggerPrice?.toString()).toBe('750.000');
    expect(a.activatePrice).toBeNull();
    expect(a.actualOrderId).toBeNull();
  });

  it('decodes income rows, rate limits, leverage and listen keys', () => {
    const [row] = decodeIncomes([
      {
        symbol: '',
        incomeType: 'TRANSFER',
        income: '-0.37500000',
        asset: 'USDT',
        info: 'TRANSFER',
        time: 1570608000000,
        tranId: 9689322392,
        tradeId: '',
      },
    ]);
    expect(row?.income.toString()).toBe('-0.37500000');
    expect(row?.tranId).toBe('9689322392');
    expect(
      decodeRateLimits({
        rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 }],
      }),
    ).toEqual([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 }]);
    // A limit or window below 1 is no limit to pace to (a 0 would become one request a minute).
    for (const [limit, intervalNum, where] of [
      [0, 1, 'limit'],
      [-1, 1, 'limit'],
      [2400, 0, 'intervalNum'],
    ] as const) {
      const decoding = () =>
        decodeRateLimits({
          rateLimits: [{ rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum, limit }],
        });
      expect(decoding).toThrow(ShapeError);
      expect(decoding).toThrow(`$.rateLimits[0].${where}: expected a positive integer`);
    }
    expect(
      decodeLeverage({ leverage: 21, maxNotionalValue: 'INF', symbol: 'BTCUSDT' }).maxNotionalValue,
    ).toBeNull();
    expect(() => decodeListenKey({ listenKey: '' })).toThrow(ShapeError);
  });
});
