import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { VirtualClock } from '../engine/engine-clock.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue } from '../execution/venue.js';
import { RiskEventLog } from '../risk/risk-events.js';
import { RiskState } from '../risk/risk-state.js';
import { MemoryRiskStateStore } from '../risk/risk-state-store.js';
import { OrderTimeouts } from './order-timeouts.js';

const T0 = Date.UTC(2026, 4, 8);

/** A NEW post-only order of `clientOrderId` as ORDER_TRADE_UPDATE reports it, stamped `time`. */
function placed(clientOrderId: string, time: number): UserEventObject {
  return {
    kind: 'orderTradeUpdate',
    eventType: 'ORDER_TRADE_UPDATE',
    eventTime: time,
    orderUpdate: {
      eventTime: time,
      transactionTime: time,
      symbol: 'BTCUSDT',
      clientOrderId,
      side: 'BUY',
      orderType: 'LIMIT',
      timeInForce: 'GTX',
      originalQuantity: '1',
      price: '100000',
      averagePrice: '0',
      executionType: 'NEW',
      status: 'NEW',
      orderId: '1',
      lastFilledQuantity: '0',
      cumulativeFilledQuantity: '0',
      lastFilledPrice: '0',
      tradeTime: time,
      isMaker: false,
      reduceOnly: false,
      workingType: 'CONTRACT_PRICE',
      originalOrderType: 'LIMIT',
      positionSide: 'BOTH',
      closePosition: false,
      realizedProfit: '0',
    },
  };
}

function rig() {
  const clock = new VirtualClock(T0);
  const cancelled: string[] = [];
  const venue = {
    cancel: async (symbol: string, clientOrderId: string) => {
      cancelled.push(clientOrderId);
      return {
        symbol,
        clientOrderId,
        origQty: Decimal.parse('1'),
        executedQty: Decimal.ZERO,
        reduceOnly: false,
        status: 'CANCELED',
      } as unknown as OrderRecord;
    },
    openOrders: async () => [],
  } as unknown as Venue;
  const events = new RiskEventLog(silentLogger('events'));
  const timeouts = new OrderTimeouts({
    venue,
    rules: new SymbolRules([{ symbol: 'BTCUSDT', stepSize: '0.001', minQty: '0.001', maxQty: '1000' }]),
    settings: defaultRiskSettings().orderTimeouts,
    state: new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => clock.now()),
    clock,
    events,
    logger: silentLogger('timeouts'),
    isWorking: () => false,
    resend: () => {},
  });
  return { clock, timeouts, cancelled };
}

describe('OrderTimeouts and exchange times', () => {
  it('an order whose event is stamped in microseconds still times out', async () => {
    const { clock, timeouts, cancelled } = rig();
    timeouts.onUserEvent(placed('m_micros', T0 * 1000));
    clock.advanceTo(T0 + 3_000);
    timeouts.check(clock.now());
    await Promise.resolve();
    expect(cancelled).toEqual(['m_micros']);
  });

  it('an order whose event is stamped in seconds is not cancelled at once', async () => {
    const { clock, timeouts, cancelled } = rig();
    timeouts.onUserEvent(placed('m_seconds', Math.floor(T0 / 1000)));
    clock.advanceTo(T0 + 1_000);
    timeouts.check(clock.now());
    await Promise.resolve();
    expect(cancelled).toEqual([]);
    expect(timeouts.stats.implausibleTimes).toBe(1);
  });
});
