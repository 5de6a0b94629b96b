// Tests of Binance parameter parsing: merging, decoding, and refusals of bad input.
import { describe, expect, it } from 'vitest';
import { SimRejection } from '../contracts.js';
import { mergeParams, parseForm } from './form-params.js';

function codeOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof SimRejection) return error.code;
    throw error;
  }
  return undefined;
}

describe('form parameters', () => {
  it('merges the query string and the body and decodes them', () => {
    expect(mergeParams('symbol=BTCUSDT&newClientOrderId=a%2Bb', 'price=1+2&flag')).toEqual({
      symbol: 'BTCUSDT',
      newClientOrderId: 'a+b',
      price: '1 2',
      flag: '',
    });
    expect(mergeParams('', '')).toEqual({});
  });

  it('refuses bad escapes, invalid UTF-8 and empty names with -1100', () => {
    expect(codeOf(() => parseForm('a=%zz'))).toBe(-1100);
    expect(codeOf(() => parseForm('a=%C3'))).toBe(-1100);
    expect(codeOf(() => parseForm('=x'))).toBe(-1100);
    expect(codeOf(() => parseForm(`a=${'x'.repeat(5000)}`))).toBe(-1100);
  });

  it('refuses duplicates (also across query and body) and too many parameters with -1101', () => {
    expect(codeOf(() => parseForm('a=1&a=2'))).toBe(-1101);
    expect(codeOf(() => mergeParams('a=1', 'a=1'))).toBe(-1101);
    const many = Array.from({ length: 101 }, (_, i) => `p${i}=1`).join('&');
    expect(codeOf(() => parseForm(many))).toBe(-1101);
  });
});
