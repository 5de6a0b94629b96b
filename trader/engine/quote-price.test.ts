import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { quoteMid } from './quote-price.js';

const d = Decimal.parse;
const q = (bid: string, ask: string) => ({ bid: d(bid), ask: d(ask) });
const shown = (r: ReturnType<typeof quoteMid>) => ('mid' in r ? r.mid.normalize().toString() : r.refused);

describe('quoteMid', () => {
  it('is the middle of a sane quote', () => {
    expect(shown(quoteMid(q('99.99', '100.01')))).toBe('100');
    expect(shown(quoteMid(q('100', '100'), { tickSize: d('0.01'), last: d('100.5') }))).toBe('100');
  });

  it('refuses a side not positive or under one tick, a crossed book, a wide spread, a mid far from the last trade', () => {
    expect(shown(quoteMid(q('0', '100')))).toMatch(/not a positive price/);
    expect(
      shown(quoteMid(q('0.000000000000000001', '0.000000000000000001'), { tickSize: d('0.01') })),
    ).toMatch(/under the tick size 0.01/);
    expect(shown(quoteMid(q('100.02', '100.01')))).toMatch(/^crossed/);
    // bid 1e-18 beside a real ask: a mid of ~50 that no trade ever printed.
    expect(shown(quoteMid(q('0.000000000000000001', '100.01')))).toMatch(/spread .* over 10 % of the mid/);
    expect(shown(quoteMid(q('79.9', '80'), { last: d('100') }))).toMatch(
      /more than 20 % from the last trade 100/,
    );
    expect(shown(quoteMid(q('80.1', '80.2'), { last: d('100') }))).toBe('80.15');
  });
});
