// The library's alert builders: severities and sources as docs/operations.md lists them.
import { describe, expect, it } from 'vitest';
import {
  exchangeBlockAlert,
  orderOutcomeUnknownAlert,
  peerSilenceAlert,
  processExitAlert,
  reconciliationAlert,
} from './alert-sources.js';

describe('alert sources', () => {
  it('grades a ban critical and a failing rate limit a warning', () => {
    const until = Date.UTC(2026, 11, 2, 10, 0, 0);
    expect(exchangeBlockAlert({ kind: 'ip-banned', message: 'banned', until })).toMatchObject({
      severity: 'critical',
      source: 'exchange.ban',
      details: { until: '2026-12-02T10:00:00.000Z', message: 'banned' },
    });
    expect(exchangeBlockAlert({ kind: 'rate-limited', message: '429', until })).toMatchObject({
      severity: 'warning',
      source: 'exchange.rate-limit',
    });
  });

  it('grades an unknown order outcome critical with the client id', () => {
    expect(
      orderOutcomeUnknownAlert({
        action: 'cancel',
        symbol: null,
        clientOrderId: 'm_1',
        detail: 'still live',
      }),
    ).toEqual({
      severity: 'critical',
      source: 'orders.outcome-unknown',
      title: 'Order cancel outcome unknown: the order may or may not exist',
      details: { symbol: '-', clientOrderId: 'm_1', detail: 'still live' },
    });
  });

  it('grades a silent trader critical, a silent collector a warning, a return info', () => {
    const peer = { peer: 'trader-0', role: 'trader', kind: null, lastSeen: 0, back: false };
    expect(peerSilenceAlert(peer).severity).toBe('critical');
    expect(peerSilenceAlert({ ...peer, role: 'collector', kind: 'kline' })).toMatchObject({
      severity: 'warning',
      details: { kind: 'kline' },
    });
    expect(peerSilenceAlert({ ...peer, back: true })).toMatchObject({
      severity: 'info',
      source: 'hub.peer-back',
    });
  });

  it('grades a restart a warning and a crash loop critical', () => {
    const exit = { name: 'kline-0', lastExit: 'code 1', restarts: 5, windowMs: 60_000 };
    expect(processExitAlert({ ...exit, givenUp: false })).toMatchObject({
      severity: 'warning',
      source: 'supervisor.restart',
    });
    expect(processExitAlert({ ...exit, givenUp: true })).toMatchObject({
      severity: 'critical',
      source: 'supervisor.crash-loop',
      details: { process: 'kline-0', restarts: 5, windowSeconds: 60 },
    });
  });

  it('sums a reconciliation pass into one warning, and nothing when it found nothing', () => {
    expect(reconciliationAlert({ reason: 'periodic', differences: [] })).toBeUndefined();
    const many = Array.from({ length: 12 }, (_, i) => ({
      symbol: `S${i}USDT`,
      orders: 1,
      fills: 2,
      income: 0,
    }));
    expect(
      reconciliationAlert({
        reason: 'event gap',
        differences: [...many, { symbol: '', orders: 0, fills: 0, income: 3 }],
      }),
    ).toEqual({
      severity: 'warning',
      source: 'records.reconciliation',
      title: 'Reconciliation found records the stream did not deliver (stored from REST)',
      details: {
        reason: 'event gap',
        orders: 12,
        fills: 24,
        income: 3,
        symbols: 'S0USDT S1USDT S2USDT S3USDT S4USDT S5USDT S6USDT S7USDT S8USDT S9USDT +3',
      },
    });
    expect(reconciliationAlert({ reason: 'periodic', differences: [], changed: 2 })?.details).toMatchObject({
      changed: 2,
    });
  });
});
