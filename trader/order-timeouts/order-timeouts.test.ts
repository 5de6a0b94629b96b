import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { BinanceApiError } from '../../ts/exchange/exchange-errors.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { shareClientOrderId } from '../../ts/gateway/gateway-protocol.js';
import { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { VirtualClock } from '../engine/engine-clock.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue } from '../execution/venue.js';
import { RiskEventLog } from '../risk/risk-events.js';
import { RiskState } from '../risk/risk-state.js';
import { MemoryRiskStateStore } from '../risk/risk-state-store.js';
import { OrderTimeouts } from './order-timeouts.js';

const T0 = Date.UTC(2026, 4, 8);
/** A post-only order's id as the executor makes them (`m_` and 20 base-36 digits). */
const DECISION = 'm_0123456789abcdefghij';

/** A NEW post-only order of `clientOrderId` as ORDER_TRADE_UPDATE reports it, stamped `time`. */
function placed(clientOrderId: string, time: number, symbol = 'BTCUSDT', status = 'NEW'): UserEventObject {
  return {
    kind: 'orderTradeUpdate',
    eventType: 'ORDER_TRADE_UPDATE',
    eventTime: time,
    orderUpdate: {
      eventTime: time,
      transactionTime: time,
      symbol,
      clientOrderId,
      side: 'BUY',
      orderType: 'LIMIT',
      timeInForce: 'GTX',
      originalQuantity: '1',
      price: '100000',
      averagePrice: '0',
      executionType: status === 'NEW' ? 'NEW' : 'TRADE',
      status,
      orderId: '1',
      lastFilledQuantity: '0',
      cumulativeFilledQuantity: status === 'FILLED' ? '1' : '0',
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

/** A resting post-only order as the exchange's open orders list it. */
function record(clientOrderId: string, symbol = 'BTCUSDT', status = 'NEW'): OrderRecord {
  return {
    symbol,
    orderId: 1,
    clientOrderId,
    status,
    side: 'BUY',
    positionSide: 'BOTH',
    type: 'LIMIT',
    origType: 'LIMIT',
    timeInForce: 'GTX',
    price: Decimal.parse('100000'),
    avgPrice: null,
    origQty: Decimal.parse('1'),
    executedQty: Decimal.ZERO,
    cumQuote: null,
    stopPrice: null,
    reduceOnly: false,
    closePosition: false,
    priceMatch: null,
    selfTradePreventionMode: null,
    time: T0,
    updateTime: T0,
  };
}

function unknownOrder(): BinanceApiError {
  return new BinanceApiError(400, -2011, 'Unknown order sent.', 'DELETE', '/fapi/v1/order');
}

interface RigOptions {
  /** The account's open orders (a cancel the rig's venue accepts takes the order off). */
  open?: OrderRecord[];
  /** Answers a read of open orders instead of `open`. */
  openOrders?: () => Promise<OrderRecord[]>;
  working?: (id: string) => boolean;
  /** Answers a cancel instead of the list (throw to refuse it). */
  cancel?: (id: string) => OrderRecord;
  query?: (id: string) => OrderRecord | null;
  resend?: () => void;
}

function rig(o: RigOptions = {}) {
  const clock = new VirtualClock(T0);
  const cancels: { id: string; at: number }[] = [];
  const queries: string[] = [];
  const resent: string[] = [];
  const logs: { level: string; msg: string; [field: string]: unknown }[] = [];
  let open = o.open ?? [];
  const venue = {
    cancel: async (_symbol: string, id: string) => {
      cancels.push({ id, at: clock.now() });
      if (o.cancel !== undefined) return o.cancel(id);
      const found = open.find((r) => r.clientOrderId === id);
      if (found === undefined) throw unknownOrder();
      open = open.filter((r) => r !== found);
      return { ...found, status: 'CANCELED' };
    },
    openOrders: o.openOrders ?? (async () => open),
    query: async (_symbol: string, id: string) => {
      queries.push(id);
      return o.query === undefined ? null : o.query(id);
    },
  } as unknown as Venue;
  const events = new RiskEventLog(new Logger('events', { level: 'error', sink: () => {} }));
  const logger = new Logger('timeouts', {
    level: 'info',
    format: 'json',
    sink: (line) => logs.push(JSON.parse(line)),
  });
  const timeouts = new OrderTimeouts({
    venue,
    rules: new SymbolRules([{ symbol: 'BTCUSDT', stepSize: '0.001', minQty: '0.001', maxQty: '1000' }]),
    settings: defaultRiskSettings().orderTimeouts,
    state: new RiskState(
      new MemoryRiskStateStore(),
      events,
      new Logger('state', { level: 'error', sink: () => {} }),
      () => clock.now(),
    ),
    clock,
    events,
    logger,
    isWorking: o.working ?? (() => false),
    resend:
      o.resend ??
      ((symbol, side, quantity) => {
        resent.push(`${symbol} ${side} ${quantity.toString()}`);
      }),
  });
  return { clock, timeouts, cancels, queries, resent, logs };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Lets `ms` pass after `start` in steps of 250 ms (the default `checkMs`: the timer checks), letting the venue's answers land. */
async function runChecks(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  while (clock.now() < end) {
    clock.advanceTo(clock.now() + 250);
    await settle();
  }
}

/** The promise rejections nobody handled while `run` ran. */
async function unhandledRejections(run: () => Promise<void>): Promise<unknown[]> {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  return rejections;
}

describe('OrderTimeouts and exchange times', () => {
  it('an order whose event is stamped in microseconds still times out', async () => {
    const { clock, timeouts, cancels } = rig({ open: [record('m_micros')] });
    timeouts.onUserEvent(placed('m_micros', T0 * 1000));
    clock.advanceTo(T0 + 3_000);
    timeouts.check(clock.now());
    await Promise.resolve();
    expect(cancels.map((c) => c.id)).toEqual(['m_micros']);
  });

  it('an order whose event is stamped in seconds is not cancelled at once', async () => {
    const { clock, timeouts, cancels } = rig();
    timeouts.onUserEvent(placed('m_seconds', Math.floor(T0 / 1000)));
    clock.advanceTo(T0 + 1_000);
    timeouts.check(clock.now());
    await Promise.resolve();
    expect(cancels).toEqual([]);
    expect(timeouts.stats.implausibleTimes).toBe(1);
  });
});

describe('OrderTimeouts in gateway split mode', () => {
  // The exchange (so its open orders) knows member n's share of decision `m_…` as `m_….n`; the
  // executor and this trader's user events know the decision's id.
  const mine = shareClientOrderId(DECISION, 0);
  const peer = shareClientOrderId(DECISION, 1);

  it('leaves alone the shares of a decision the executor is working', async () => {
    const { clock, timeouts, cancels, resent } = rig({
      open: [record(mine), record(peer)],
      working: (id) => id === DECISION,
    });
    await timeouts.start();
    await runChecks(clock, 3_000);
    // Each member's executor cancels its share at its own timeout and sends the whole remainder as
    // a taker order: a cancel and a 30 % re-send here would trade that share 130 %.
    expect(cancels).toEqual([]);
    expect(resent).toEqual([]);
    expect(timeouts.watched).toBe(0);
  });

  it('keeps watching a decision while its shares are listed, and cancels it once under the decision id', async () => {
    const { clock, timeouts, cancels, resent } = rig({
      open: [record(mine), record(peer)],
      // The gateway venue cancels this member's share of the decision.
      cancel: (id) => ({ ...record(mine), clientOrderId: id, status: 'CANCELED' }),
    });
    timeouts.onUserEvent(placed(DECISION, T0));
    clock.advanceTo(T0 + 1_000);
    await timeouts.start(); // a read of open orders after the order was learned: only its shares are listed
    expect(timeouts.watched).toBe(1);
    await runChecks(clock, 3_000);
    expect(cancels.map((c) => c.id)).toEqual([DECISION]);
    expect(resent).toEqual(['BTCUSDT BUY 0.300']);
  });
});

describe('OrderTimeouts and refused cancels', () => {
  it('forgets an order whose cancel was refused because it had filled (its FILLED event missed)', async () => {
    const { clock, timeouts, cancels, queries, resent } = rig({
      open: [record(DECISION)],
      cancel: () => {
        throw unknownOrder();
      },
      query: (id) => ({ ...record(id), status: 'FILLED', executedQty: Decimal.parse('1') }),
    });
    await timeouts.start();
    await runChecks(clock, 10_000);
    // Not a DELETE every 250 ms until the next read of open orders (~230 of them).
    expect(cancels).toHaveLength(1);
    expect(queries).toEqual([DECISION]);
    expect(resent).toEqual([]);
    expect(timeouts.watched).toBe(0);
    expect(timeouts.stats).toMatchObject({ cancelled: 0, failures: 1, endedMeanwhile: 1 });
  });

  it('tries a refused cancel of a still-resting order again after doubling waits, a bounded number of times', async () => {
    const { clock, timeouts, cancels, logs } = rig({
      open: [record(DECISION)],
      cancel: () => {
        throw new BinanceApiError(429, -1003, 'Too many requests.', 'DELETE', '/fapi/v1/order');
      },
      query: (id) => record(id),
    });
    await timeouts.start();
    await runChecks(clock, 40_000);
    // Timed out at 2.75 s; then 1, 2, 4 and 8 s later; then let go.
    expect(cancels.map((c) => c.at - T0)).toEqual([2_750, 3_750, 5_750, 9_750, 17_750]);
    expect(timeouts.stats).toMatchObject({ failures: 5, givenUp: 1, cancelled: 0 });
    expect(timeouts.watched).toBe(0);
    expect(logs.filter((l) => l.msg.startsWith('timed-out order could not be cancelled'))).toHaveLength(4);
    expect(logs.filter((l) => l.msg.startsWith('timed-out order still not cancelled'))).toMatchObject([
      { level: 'warn', clientOrderId: DECISION, tries: 5, status: 'NEW' },
    ]);
    // The next read of open orders (every 60 s) still lists it: tried again.
    await runChecks(clock, 21_000);
    expect(cancels.map((c) => c.at - T0).slice(5)).toEqual([60_250]);
  });

  it('does not bring back an order cancelled after a read of open orders was sent', async () => {
    const answers: ((orders: OrderRecord[]) => void)[] = [];
    const { clock, timeouts, cancels, resent } = rig({
      openOrders: () => new Promise((resolve) => answers.push(resolve)),
      cancel: (id) => ({ ...record(id), status: 'CANCELED' }),
    });
    timeouts.onUserEvent(placed(DECISION, T0));
    clock.advanceTo(T0 + 3_000);
    timeouts.check(clock.now()); // sends a read of open orders, then cancels the timed-out order
    await settle();
    expect(cancels).toHaveLength(1);
    answers[0]?.([record(DECISION)]); // read before the cancel: it still lists the order
    await settle();
    expect(timeouts.watched).toBe(0);
    clock.advanceTo(T0 + 3_250);
    timeouts.check(clock.now());
    await settle();
    // Brought back, it would look timed out at once: cancelled (refused) and its share re-sent again.
    expect(cancels).toHaveLength(1);
    expect(resent).toEqual(['BTCUSDT BUY 0.300']);
  });

  it('does not bring back an order reported filled after a read of open orders was sent', async () => {
    const answers: ((orders: OrderRecord[]) => void)[] = [];
    const { clock, timeouts, cancels } = rig({
      openOrders: () => new Promise((resolve) => answers.push(resolve)),
    });
    timeouts.onUserEvent(placed(DECISION, T0));
    clock.advanceTo(T0 + 1_000);
    timeouts.check(clock.now()); // sends a read of open orders
    timeouts.onUserEvent(placed(DECISION, T0 + 1_000, 'BTCUSDT', 'FILLED'));
    answers[0]?.([record(DECISION)]); // read before the fill
    await settle();
    expect(timeouts.watched).toBe(0);
    clock.advanceTo(T0 + 3_000);
    timeouts.check(clock.now());
    await settle();
    expect(cancels).toEqual([]);
  });
});

describe('OrderTimeouts and failures', () => {
  it('leaves alone orders of a symbol the rules do not list, logged once', async () => {
    const { clock, timeouts, cancels, logs } = rig({ open: [record('m_usdc0000000000000000', 'BTCUSDC')] });
    const rejections = await unhandledRejections(async () => {
      await timeouts.start();
      timeouts.onUserEvent(placed('m_usdc0000000000000001', T0, 'BTCUSDC'));
      await runChecks(clock, 61_000);
    });
    // Taken, it would be cancelled and its taker share sized by rules that do not know it: a throw
    // in an unawaited promise, which ends the process.
    expect(rejections).toEqual([]);
    expect(cancels).toEqual([]);
    expect(timeouts.watched).toBe(0);
    expect(timeouts.stats.unknownSymbols).toBe(1);
    expect(logs.filter((l) => l.msg.includes('rules do not list'))).toMatchObject([
      { level: 'warn', symbol: 'BTCUSDC' },
    ]);
  });

  it('logs and counts an error after a cancel instead of rejecting unawaited', async () => {
    const { clock, timeouts, cancels, logs } = rig({
      open: [record(DECISION)],
      resend: () => {
        throw new Error('engine stopped');
      },
    });
    const rejections = await unhandledRejections(async () => {
      await timeouts.start();
      await runChecks(clock, 3_000);
    });
    expect(rejections).toEqual([]);
    expect(cancels).toHaveLength(1);
    expect(timeouts.stats).toMatchObject({ cancelled: 1, failures: 1 });
    expect(logs.filter((l) => l.level === 'error')).toMatchObject([
      { msg: 'timed-out order could not be handled', clientOrderId: DECISION, error: 'engine stopped' },
    ]);
  });
});
