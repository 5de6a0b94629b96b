// Message composition: severity tags and colours, grouping by kind, worst first, counts of what was held back.
import { describe, expect, it } from 'vitest';
import type { Alert } from './alert.js';
import { composeAlertMessage, severityTag } from './alert-message.js';
import { feishuCardBody } from './feishu-webhook.js';

const origin = { label: 'Tributary', process: 'trader', host: 'box1' };
const limits = { maxKinds: 3, maxDetailChars: 12 };
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);

function alert(partial: Partial<Alert> & Pick<Alert, 'severity' | 'title'>, at = T0): Alert {
  return { source: 'test.source', at, ...partial };
}

describe('composeAlertMessage', () => {
  it('titles a single alert with its severity, origin and title, and lists its details', () => {
    const message = composeAlertMessage(
      [alert({ severity: 'critical', title: 'Close-all', details: { symbol: 'BTCUSDT', pnl: '-3001.5' } })],
      { heldBack: 0, unkept: 0 },
      origin,
      limits,
    );
    expect(message.title).toBe('[CRITICAL] Tributary trader@box1: Close-all');
    expect(message.severity).toBe('critical');
    expect(message.text).toContain('symbol=BTCUSDT pnl=-3001.5');
    expect(message.text).toContain('2026-12-02T09:00:00.000Z');
    expect(message.text).not.toContain('held back');
  });

  it('groups alerts of one kind, lists the worst first, and counts what was held back', () => {
    const alerts = [
      alert({ severity: 'info', title: 'State', source: 'risk.state' }, T0),
      alert({ severity: 'warning', title: 'Stale', source: 'feed.stale', details: { n: 1 } }, T0 + 1),
      alert({ severity: 'warning', title: 'Stale', source: 'feed.stale', details: { n: 2 } }, T0 + 2),
      alert({ severity: 'critical', title: 'Ban', source: 'exchange.ban' }, T0 + 3),
    ];
    const message = composeAlertMessage(alerts, { heldBack: 3, unkept: 0 }, origin, limits);
    expect(message.severity).toBe('critical');
    expect(message.title).toBe('[CRITICAL] Tributary trader@box1: 4 alerts');
    const lines = message.text.split('\n');
    expect(lines[0]).toMatch(/^\[CRITICAL\] Ban \(exchange\.ban, /);
    expect(lines[1]).toMatch(/^\[WARNING\] Stale ×2 \(feed\.stale, latest /);
    expect(lines[2]).toBe('    n=2');
    expect(lines[3]).toMatch(/^\[INFO\] State /);
    expect(message.text).toContain('4 alerts listed: 1 critical, 2 warning, 1 info');
    expect(message.text).toContain('3 of them held back by the one-message-a-minute limit');
    expect(message.alertCount).toBe(4);
    expect(message.heldBack).toBe(3);
  });

  it('sums up kinds past maxKinds and cuts long detail values', () => {
    const alerts = ['a', 'b', 'c', 'd', 'e'].map((title, i) =>
      alert({ severity: 'warning', title, details: { error: 'x'.repeat(50) } }, T0 + i),
    );
    const message = composeAlertMessage(alerts, { heldBack: 0, unkept: 0 }, origin, limits);
    expect(message.text).toContain('… and 2 more alerts of 2 other kinds');
    expect(message.text).toContain(`error=${'x'.repeat(12)}…`);
    expect(message.text).not.toContain('x'.repeat(13));
  });

  it('refuses an empty batch', () => {
    expect(() => composeAlertMessage([], { heldBack: 0, unkept: 0 }, origin, limits)).toThrow(RangeError);
  });
});

describe('severity formatting', () => {
  it('tags and colours each severity', () => {
    expect(severityTag('info')).toBe('[INFO]');
    expect(severityTag('warning')).toBe('[WARNING]');
    expect(severityTag('critical')).toBe('[CRITICAL]');
    const colours = (['info', 'warning', 'critical'] as const).map((severity) => {
      const message = composeAlertMessage(
        [alert({ severity, title: 't' })],
        { heldBack: 0, unkept: 0 },
        origin,
        limits,
      );
      const card = feishuCardBody(message).card as {
        header: { template: string; title: { content: string } };
      };
      expect(card.header.title.content).toBe(message.title);
      return card.header.template;
    });
    expect(colours).toEqual(['blue', 'orange', 'red']);
  });
});
