// Tests of the listen-key registry: one key per account, keepalive, expiry, close.
import { describe, expect, it } from 'vitest';
import { ListenKeyRegistry, newListenKey } from './listen-keys.js';

describe('ListenKeyRegistry', () => {
  it('returns the live key on open, extends it, and expires it after the validity', () => {
    let now = 1_000;
    const keys = new ListenKeyRegistry(60_000, () => now);
    const key = keys.open('a');
    expect(key).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(keys.open('b')).not.toBe(key);
    now += 50_000;
    expect(keys.open('a')).toBe(key);
    now += 50_000;
    expect(keys.accountOf(key)).toBe('a');
    expect(keys.keepAlive('a')).toBe(key);
    expect(keys.keepAlive('a', 'someone-elses')).toBeUndefined();
    now += 59_999;
    expect(keys.expireDue().map((e) => e.accountId)).toEqual(['b']);
    now += 1;
    expect(keys.accountOf(key)).toBeUndefined();
    expect(keys.keepAlive('a')).toBeUndefined();
    expect(keys.expireDue()).toEqual([{ listenKey: key, accountId: 'a', reason: 'expired' }]);
    expect(keys.open('a')).not.toBe(key);
  });

  it('closes and expires keys on request', () => {
    const keys = new ListenKeyRegistry(60_000);
    const a = keys.open('a');
    keys.open('b');
    expect(keys.close('a', 'wrong')).toBeUndefined();
    expect(keys.close('a')).toEqual({ listenKey: a, accountId: 'a', reason: 'closed' });
    expect(keys.close('a')).toBeUndefined();
    expect(keys.expireAll().map((e) => e.accountId)).toEqual(['b']);
    expect(keys.size).toBe(0);
  });

  it('makes distinct 64-character keys', () => {
    const seen = new Set(Array.from({ length: 200 }, () => newListenKey()));
    expect(seen.size).toBe(200);
    for (const key of seen) expect(key).toHaveLength(64);
  });
});
