import { describe, expect, it } from 'vitest';
import { ControlError, parseClientMessage } from './control-messages.js';
import { hubKey } from './hub-link.js';
import {
  authMac,
  parseStatusAuthorization,
  statusAuthorization,
  verifyAuthMac,
  verifyHttpMac,
} from './peer-auth.js';
import { PeerBudget } from './peer-budget.js';
import { KeyFileSchema, KeyRing, keyAllowsName } from './peer-keys.js';
import { PollCursor } from './poll-cursor.js';
import { SlotTable } from './slot-table.js';
import { SymbolDirectory } from './symbol-directory.js';
import { filterKey, normaliseFilter, StreamTable } from './topic-streams.js';

describe('control message parser', () => {
  it('accepts the ops with exactly their fields', () => {
    expect(parseClientMessage('{"op":"ping","id":3}')).toEqual({ op: 'ping', id: 3 });
    expect(
      parseClientMessage('{"op":"subscribe","symbols":["BTCUSDT"],"kinds":"*","intervals":["1m","5m"]}'),
    ).toEqual({
      op: 'subscribe',
      symbols: ['BTCUSDT'],
      kinds: '*',
      intervals: ['1m', '5m'],
    });
    // `wire` (protocol 5): the Delta frame encoding; absent means 1.
    expect(
      parseClientMessage('{"op":"subscribe","symbols":"*","kinds":"*","intervals":"*","wire":2}'),
    ).toEqual({
      op: 'subscribe',
      symbols: '*',
      kinds: '*',
      intervals: '*',
      wire: 2,
    });
    expect(
      parseClientMessage(`{"op":"auth","key":"hk0123","peer":"k-1","kind":"tick","mac":"${'a'.repeat(64)}"}`),
    ).toMatchObject({
      op: 'auth',
      kind: 'tick',
    });
  });

  it.each([
    ['[1]', 'bad_json'],
    ['nope', 'bad_json'],
    ['{"op":"ping","id":-1}', 'bad_field'],
    ['{"op":"ping","id":1.5}', 'bad_field'],
    ['{"op":"fly","id":4}', 'unknown_op'],
    ['{"op":"ping","x":1}', 'bad_field'],
    ['{"op":"subscribe","symbols":[],"kinds":"*","intervals":"*"}', 'bad_field'],
    ['{"op":"subscribe","symbols":"*","kinds":["klines"],"intervals":"*"}', 'bad_field'],
    ['{"op":"subscribe","symbols":"*","kinds":"*","intervals":["2m"]}', 'bad_field'],
    ['{"op":"subscribe","symbols":["BTC USDT"],"kinds":"*","intervals":"*"}', 'bad_field'],
    ['{"op":"subscribe","symbols":"*","kinds":"*","intervals":"*","wire":4}', 'bad_field'],
    ['{"op":"subscribe","symbols":"*","kinds":"*","intervals":"*","wire":"2"}', 'bad_field'],
    ['{"op":"subscribe","symbols":"*","kinds":"*","intervals":"*","wire":null}', 'bad_field'],
    ['{"op":"snapshot","stream":0}', 'bad_field'],
    [`{"op":"auth","key":"k","peer":"p","role":"admin","mac":"${'a'.repeat(64)}"}`, 'bad_field'],
    [`{"op":"auth","peer":"p","mac":"${'a'.repeat(64)}"}`, 'bad_field'],
    [`{"op":"auth","key":"a b","peer":"p","mac":"${'a'.repeat(64)}"}`, 'bad_field'],
    ['{"op":"auth","key":"k","peer":"p","mac":"xyz"}', 'bad_field'],
    [`{"op":"symbols.set","symbols":["${'A'.repeat(32)}"]}`, 'bad_field'],
    ['{"op":"ranks","top":0}', 'bad_field'],
  ])('refuses %s as %s', (text, code) => {
    const result = parseClientMessage(text);
    expect(result).toBeInstanceOf(ControlError);
    expect((result as ControlError).code).toBe(code);
  });

  it('keeps the id of a refused request so the error reply can carry it', () => {
    expect(parseClientMessage('{"op":"fly","id":4}')).toMatchObject({ id: 4 });
  });
});

describe('peer authentication', () => {
  it('checks the HMAC of nonce, key id and peer name with the key’s secret', () => {
    const mac = authMac('s3cret', 'n0nce', 'hk1', 'peer-1');
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyAuthMac('s3cret', 'n0nce', 'hk1', 'peer-1', mac)).toBe(true);
    expect(verifyAuthMac('s3cret', 'n0nce', 'hk1', 'peer-2', mac)).toBe(false);
    expect(verifyAuthMac('s3cret', 'n0nce', 'hk2', 'peer-1', mac)).toBe(false);
    expect(verifyAuthMac('s3cret', 'other', 'hk1', 'peer-1', mac)).toBe(false);
    expect(verifyAuthMac('other', 'n0nce', 'hk1', 'peer-1', mac)).toBe(false);
    expect(verifyAuthMac('s3cret', 'n0nce', 'hk1', 'peer-1', '')).toBe(false);
    // The test vector of docs/protocol.md, Authentication.
    expect(
      authMac(
        '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9',
        '0'.repeat(64),
        'hk0123456789abcdef',
        'kline-0',
      ),
    ).toBe('e38a771c1ab9f07f65da0ccd4e7d64f90ab0f889415cabe6cafa1a8bbce1b356');
  });

  it('signs and reads the full-status Authorization header', () => {
    const header = statusAuthorization({ id: 'hk1', secret: 's3cret' }, '/status/full', 1_700_000_000_000);
    const parsed = parseStatusAuthorization(header);
    expect(parsed).toMatchObject({ key: 'hk1', time: 1_700_000_000_000 });
    if (parsed === undefined) throw new Error('parsed');
    expect(verifyHttpMac('s3cret', '/status/full', parsed)).toBe(true);
    expect(verifyHttpMac('s3cret', '/status', parsed)).toBe(false);
    expect(parseStatusAuthorization('Bearer abc')).toBeUndefined();
    expect(parseStatusAuthorization(undefined)).toBeUndefined();
  });

  it('matches peer names against a key’s names and patterns', () => {
    const key = { peers: ['trader-0', 'kline-*', '*-viewer'] };
    expect(keyAllowsName(key, 'trader-0')).toBe(true);
    expect(keyAllowsName(key, 'trader-1')).toBe(false);
    expect(keyAllowsName(key, 'kline-12')).toBe(true);
    expect(keyAllowsName(key, 'kline-')).toBe(true);
    expect(keyAllowsName(key, 'hot-kline-1')).toBe(false);
    expect(keyAllowsName(key, 'ops.viewer')).toBe(false);
    expect(keyAllowsName(key, 'ops-viewer')).toBe(true);
    // A dot in a pattern is a dot, not "any character".
    expect(keyAllowsName({ peers: ['a.b'] }, 'axb')).toBe(false);
    expect(keyAllowsName({ peers: ['*'] }, 'bad name')).toBe(false);
  });

  it('keeps only active keys in force, and validates the key file', () => {
    const active = {
      id: 'a',
      secret: 'x'.repeat(40),
      role: 'viewer' as const,
      peers: ['*'],
      createdAt: 1,
      revokedAt: null,
    };
    const revoked = { id: 'b', role: 'trader' as const, peers: ['t'], createdAt: 1, revokedAt: 2 };
    const ring = new KeyRing([active, revoked]);
    expect(ring.lookup('a')?.role).toBe('viewer');
    expect(ring.lookup('b')).toBeUndefined();
    expect(ring.state).toMatchObject({ active: 1, revoked: 1 });
    let changes = 0;
    ring.onChange(() => {
      changes += 1;
    });
    ring.replace([revoked]);
    expect(ring.lookup('a')).toBeUndefined();
    expect(changes).toBe(1);
    expect(KeyFileSchema.safeParse({ version: 1, keys: [active, revoked] }).success).toBe(true);
    for (const bad of [
      { version: 1, keys: [active, active] },
      { version: 1, keys: [{ ...active, secret: undefined }] },
      { version: 1, keys: [{ ...active, secret: 'short' }] },
      { version: 1, keys: [{ ...active, role: 'root' }] },
      { version: 1, keys: [{ ...active, peers: [] }] },
      { version: 1, keys: [{ ...active, extra: 1 }] },
      { version: 2, keys: [] },
    ]) {
      expect(KeyFileSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('reads a peer’s TRIBUTARY_HUB_KEY', () => {
    expect(hubKey({ TRIBUTARY_HUB_KEY: `hk1:${'s'.repeat(64)}` })).toEqual({
      id: 'hk1',
      secret: 's'.repeat(64),
    });
    expect(() => hubKey({})).toThrow(/tributary keys issue/);
    expect(() => hubKey({ TRIBUTARY_HUB_KEY: 'no-colon' })).toThrow(/<key id>:<secret>/);
    expect(() => hubKey({ TRIBUTARY_HUB_KEY: 'hk1:short' })).toThrow(/<key id>:<secret>/);
  });
});

describe('cursor, slots, directory, streams, budget', () => {
  it('wraps cursors at the count, per kind', () => {
    const cursor = new PollCursor(2);
    expect([0, 1, 2, 3].map(() => cursor.next('kline', 3))).toEqual([0, 1, 2, 0]);
    expect(cursor.next('hot', 3)).toBe(0);
    expect(cursor.next('kline', 1)).toBe(0);
    expect(() => cursor.next('third', 3)).toThrow(/cursor kinds/);
  });

  it('keeps slots dense and reports only changed ones', () => {
    const slots = new SlotTable();
    expect(slots.register('tick', 7)).toEqual([{ member: 7, k: 0, n: 1 }]);
    expect(slots.register('tick', 8)).toEqual([
      { member: 7, k: 0, n: 2 },
      { member: 8, k: 1, n: 2 },
    ]);
    expect(slots.register('tick', 8)).toEqual([]);
    expect(slots.releaseAll(7).get('tick')).toEqual([{ member: 8, k: 0, n: 1 }]);
    expect(slots.slotOf('tick', 7)).toBeUndefined();
  });

  it('never changes or reuses a symbol id', () => {
    const d = new SymbolDirectory(['A', 'B']);
    expect(d.setActive(['B', 'C', 'B'])).toBe(true);
    expect(d.names).toEqual(['A', 'B', 'C']);
    expect(d.active).toEqual([1, 2]);
    expect(d.setActive(['B', 'C'])).toBe(false);
    expect(d.version).toBe(2);
  });

  it('normalises filters so equal subscriptions share one stream', () => {
    const d = new SymbolDirectory(['A', 'B']);
    const one = normaliseFilter({ symbols: ['B', 'A', 'B'], kinds: ['tick', 'kline'], intervals: '*' }, d);
    const two = normaliseFilter({ symbols: ['A', 'B'], kinds: ['kline', 'tick'], intervals: '*' }, d);
    expect(filterKey(one)).toBe(filterKey(two));
    const every = normaliseFilter(
      { symbols: '*', kinds: ['kline', 'tick', 'position', 'balance', 'banlist', 'mark'], intervals: '*' },
      d,
    );
    expect(every).toEqual({ symbols: null, kinds: null, intervals: null });
    expect(() => normaliseFilter({ symbols: ['Z'], kinds: '*', intervals: '*' }, d, 5)).toThrow(ControlError);
    const table = new StreamTable();
    const a = table.acquire(one, 1, 1);
    const b = table.acquire(two, 1, 2);
    expect(b.stream.id).toBe(a.stream.id);
    expect([a.created, b.created]).toEqual([true, false]);
    expect(table.release(a.stream.id, 1)).toBe(false);
    expect(table.release(a.stream.id, 2)).toBe(true);
    expect(table.acquire(one, 1, 1).stream.id).not.toBe(a.stream.id);
    // The same filter in the other wire version is a stream of its own.
    const compact = table.acquire(two, 2, 3);
    expect(compact.created).toBe(true);
    expect(compact.stream.wire).toBe(2);
    expect(compact.stream.id).not.toBe(table.acquire(one, 1, 4).stream.id);
  });

  it('budgets messages and bytes with a refilling bucket', () => {
    const budget = new PeerBudget({ messagesPerSecond: 10, bytesPerSecond: 1_000, burstSeconds: 1 }, 0);
    let taken = 0;
    for (let i = 0; i < 20; i += 1) if (budget.take(10, 0)) taken += 1;
    expect(taken).toBe(10);
    expect(budget.take(10, 100)).toBe(true);
    expect(budget.take(10, 100)).toBe(false);
    expect(budget.take(2_000, 10_000)).toBe(false);
  });
});
