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

  it('grades filled gaps info and differing or unknown records a warning, with at most five examples', () => {
    const base = { account: 'main', table: 'trades', missing: 3, changed: 0, unknown: 0 };
    expect(reconciliationAlert(base)).toMatchObject({ severity: 'info', source: 'records.reconciliation' });
    const differing = reconciliationAlert({
      ...base,
      changed: 1,
      trigger: 'restart',
      examples: ['1', '2', '3', '4', '5', '6'],
    });
    expect(differing).toMatchObject({
      severity: 'warning',
      details: { changed: 1, trigger: 'restart', examples: '1 2 3 4 5' },
    });
    expect(reconciliationAlert({ ...base, unknown: 2 }).severity).toBe('warning');
  });
});
