import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../ts/alerts/alert.js';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { VirtualClock } from '../engine/engine-clock.js';
import { TradingEngine } from '../engine/trading-engine.js';
import { MemoryOrderJournal } from '../execution/order-journal.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { Venue } from '../execution/venue.js';
import type { Strategy } from '../strategies/strategy-api.js';
import { alertRiskEvents } from './risk-alerts.js';
import { MemoryRiskStateStore } from './risk-state-store.js';
import { StaticAccount, StaticMarket } from './testing/static-views.js';
import { shrunkTarget, TraderRisk } from './trader-risk.js';

const d = Decimal.parse;
const shown = (expected: string, side: 'BUY' | 'SELL', quantity: string) =>
  shrunkTarget(d(expected), side, d(quantity)).toString();

describe('shrunkTarget', () => {
  it('closes part of a position, never past flat', () => {
    expect(shown('1', 'SELL', '0.4')).toBe('0.6');
    expect(shown('-1', 'BUY', '0.4')).toBe('-0.6');
    expect(shown('1', 'SELL', '3')).toBe('0');
    expect(shown('0', 'SELL', '1')).toBe('0');
  });

  it('leaves a position that flipped since the close was decided as it is, rather than growing it', () => {
    // A long's sell stop refused as passed (-2021) while the position became a 2 short: selling
    // 0.5 more would open 0.5 further short, not close anything.
    expect(shown('-2', 'SELL', '0.5')).toBe('-2');
    expect(shown('3', 'BUY', '0.5')).toBe('3');
  });
});

describe('TraderRisk', () => {
  it('alerts when a force-close cannot be sent at all (a dust position under one step), once a minute', async () => {
    const T0 = Date.UTC(2026, 4, 8);
    const clock = new VirtualClock(T0);
    const market = new StaticMarket();
    const account = new StaticAccount();
    const rules = new SymbolRules([
      { symbol: 'BTCUSDT', tickSize: '0.1', stepSize: '0.001', minQty: '0.001', maxQty: '1000' },
    ]);
    const placed: string[] = [];
    const venue: Venue = {
      name: 'fake',
      place: async (order) => {
        placed.push(order.clientOrderId);
        throw new Error('not expected');
      },
      cancel: async () => {
        throw new Error('not used');
      },
      query: async () => null,
      openOrders: async () => [],
      applySettings: async () => [],
      positionMode: async () => false,
      onUserEvent: () => () => undefined,
    };
    const risk = new TraderRisk({
      settings: defaultRiskSettings(),
      store: new MemoryRiskStateStore(),
      account,
      market,
      rules,
      clock,
      logger: silentLogger('risk'),
    });
    const strategy: Strategy = {
      requirements: { symbols: ['BTCUSDT'], intervals: ['1m'], warmupBars: 0, ticks: false },
    };
    const guarded = risk.guardVenue(venue);
    const engine = new TradingEngine({
      name: 'test',
      strategy,
      market,
      account,
      venue: guarded,
      rules,
      clock,
      journal: new MemoryOrderJournal(),
      logger: silentLogger('engine'),
      risk: risk.gate,
    });
    risk.attach(engine, guarded);
    const alerts: AlertInput[] = [];
    alertRiskEvents(risk.events, { raise: (a) => alerts.push(a) });
    await engine.start();
    account.set('BTCUSDT', '0.0004', '100000', T0 - 10);
    market.set('BTCUSDT', '90000');
    for (let i = 0; i < 4; i++) {
      clock.advanceTo(T0 + i * 3_500);
      risk.guard?.check(clock.now());
      await engine.idle();
    }
    expect(placed).toEqual([]);
    expect(engine.stats.unsentSignals).toBe(4);
    expect(alerts.filter((a) => a.source === 'risk.close-unsent')).toEqual([
      {
        severity: 'critical',
        source: 'risk.close-unsent',
        title: 'A risk close could not be sent',
        details: {
          symbol: 'BTCUSDT',
          reason: expect.stringMatching(
            /^risk: quantity is below one step after snapping \(target 0; force-close: /,
          ),
        },
      },
    ]);
    expect(risk.events.stats().byKind['risk-action:close-unsent']).toBe(4);
    await risk.stop();
  });
});
