import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../ts/log/logger.js';
import { ClaimLog, claimKey } from './claim-log.js';

const DAY = 86_400_000;

function fresh(): string {
  return join(mkdtempSync(join(tmpdir(), 'tributary-claims-')), 'gateway', 'claims.jsonl');
}

function claimFields(clientOrderId: string, claimedAt: number, member: string | null = null) {
  return {
    symbol: 'BTCUSDT',
    clientOrderId,
    member,
    exchangeClientOrderId: member === null ? clientOrderId : `${clientOrderId}.0`,
    order: { side: 'BUY' as const, type: 'MARKET' as const, quantity: '0.010', reduceOnly: false },
    peer: 'trader-0',
    claimedAt,
  };
}

describe('the claim log', () => {
  it('keeps claims, sends and outcomes across a reopen, in a file only its owner reads', () => {
    const path = fresh();
    const now = Date.now();
    const log = new ClaimLog(path, silentLogger(), 7 * DAY, now);
    const a = log.claim(claimFields('t_a', now));
    const b = log.claim(claimFields('t_b', now));
    const c = log.claim(claimFields('t_c', now, 'trader-0'));
    log.sending(a, now + 1);
    log.finish(a, now + 2, { kind: 'placed', order: { symbol: 'BTCUSDT', orderId: 7, status: 'FILLED' } });
    log.sending(b, now + 3);
    log.sending(c, now + 4);
    log.refused(c, now + 5, 'RateLimitedError -1003');
    log.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const again = new ClaimLog(path, silentLogger(), 7 * DAY, now + 10);
    expect(again.get(a.key)?.outcome).toEqual({
      kind: 'placed',
      order: { symbol: 'BTCUSDT', orderId: 7, status: 'FILLED' },
    });
    // b may exist at the exchange (sent, no answer); c was refused, so it was never placed.
    expect(again.pending().map((p) => [p.clientOrderId, p.sentAt])).toEqual([
      ['t_b', now + 3],
      ['t_c', null],
    ]);
    expect(again.get(claimKey('BTCUSDT', 't_c', 'trader-0'))?.exchangeClientOrderId).toBe('t_c.0');
    expect(again.stats).toMatchObject({ claims: 3, pending: 2, badLines: 0 });
    again.close();
  });

  it('skips a torn last line (a crash mid-write: never acted on) and counts it', () => {
    const path = fresh();
    const now = Date.now();
    const log = new ClaimLog(path, silentLogger(), 7 * DAY, now);
    log.claim(claimFields('t_a', now));
    log.close();
    appendFileSync(path, '{"t":"claim","key":"BTCUSDT|t_b|","sym');
    const again = new ClaimLog(path, silentLogger(), 7 * DAY, now);
    expect(again.stats).toMatchObject({ claims: 1, badLines: 1 });
    expect(again.get('BTCUSDT|t_b|')).toBeUndefined();
    // The file is rewritten whole: the torn line is gone, new lines append cleanly.
    expect(readFileSync(path, 'utf8')).not.toContain('"sym\n');
    again.claim(claimFields('t_b', now));
    again.close();
    expect(new ClaimLog(path, silentLogger(), 7 * DAY, now).stats).toMatchObject({ claims: 2, badLines: 0 });
  });

  it('drops finished claims past the retention, never pending ones', () => {
    const path = fresh();
    const old = Date.now() - 10 * DAY;
    const log = new ClaimLog(path, silentLogger(), 7 * DAY, old);
    const done = log.claim(claimFields('t_done', old));
    log.finish(done, old, { kind: 'expired' });
    log.claim(claimFields('t_open', old));
    log.close();
    const again = new ClaimLog(path, silentLogger(), 7 * DAY);
    expect(again.stats).toMatchObject({ claims: 1, pending: 1, dropped: 1 });
    expect(again.pending()[0]?.clientOrderId).toBe('t_open');
    again.close();
  });

  it('reads back every value a peer or the exchange can put in it: extreme decimals, odd names, any message text', () => {
    const path = fresh();
    const now = Date.now();
    const log = new ClaimLog(path, silentLogger(), 7 * DAY, now);
    const id = `t_${'z'.repeat(34)}`;
    const tiny = log.claim({
      ...claimFields(id, now),
      symbol: 'ZZZZ9',
      order: {
        side: 'SELL',
        type: 'LIMIT',
        quantity: '0.000000000000000001',
        price: '0.000000000000000001',
        timeInForce: 'GTX',
        reduceOnly: true,
      },
      peer: 'trader-0.a:b@c',
    });
    const huge = log.claim({
      ...claimFields('t_huge', now),
      order: {
        side: 'BUY',
        type: 'MARKET',
        quantity: '999999999999999999.999999999999999999',
        reduceOnly: false,
      },
    });
    log.sending(tiny, now + 1);
    log.finish(tiny, now + 2, {
      kind: 'rejected',
      exchange: {
        status: 400,
        code: -1111,
        msg: 'quote " back\\slash\nnew line \u2028 \ud800 lone surrogate',
      },
    });
    log.sending(huge, now + 3);
    log.close();
    const again = new ClaimLog(path, silentLogger(), 7 * DAY, now + 10);
    expect(again.stats).toMatchObject({ claims: 2, pending: 1, badLines: 0 });
    expect(again.get(tiny.key)).toEqual({ ...tiny, outcome: tiny.outcome });
    expect(again.get(huge.key)).toMatchObject({ order: huge.order, sentAt: now + 3, outcome: null });
    again.close();
  });
});
