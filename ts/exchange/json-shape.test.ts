import { describe, expect, it } from 'vitest';
import { arrayOf, id, objectAt, parseJson, quoteUnsafeIntegers, ShapeError } from './json-shape.js';

const bytes = (text: string) => Buffer.from(text);

describe('parseJson and ids too large for a double', () => {
  it('reads an integer beyond 2^53 as its digits, and two such ids stay two', () => {
    const parsed = parseJson(bytes('[{"tranId":6725918796342150260},{"tranId":6725918796342150264}]'));
    expect(arrayOf(parsed, '$', (item, at) => id(objectAt(item, at), 'tranId'))).toEqual([
      '6725918796342150260',
      '6725918796342150264',
    ]);
  });

  it('leaves safe integers, decimals, exponents and strings as JSON reads them', () => {
    const text =
      '{"a":9007199254740991,"b":-12.5,"c":1e300,"d":"12345678901234567890","e":"x\\"1234567890123456789","f":[-98765432109876543210]}';
    expect(quoteUnsafeIntegers(text)).toBe(
      '{"a":9007199254740991,"b":-12.5,"c":1e300,"d":"12345678901234567890","e":"x\\"1234567890123456789","f":["-98765432109876543210"]}',
    );
    const parsed = parseJson(bytes(text)) as Record<string, unknown>;
    expect(parsed.a).toBe(9007199254740991);
    expect(parsed.d).toBe('12345678901234567890');
    expect(parsed.f).toEqual(['-98765432109876543210']);
  });

  it('returns a body without a run of 16 digits as it is', () => {
    const text = '[[1700000000000,"42000.10","42100.00"]]';
    expect(quoteUnsafeIntegers(text)).toBe(text);
  });

  it('id() takes a safe number or digits, and refuses anything else with the field named', () => {
    const o = objectAt({ a: 12, b: '813463563630798630', c: -1, d: '0012', e: 1.5, f: 'x' }, '$');
    expect(id(o, 'a')).toBe('12');
    expect(id(o, 'b')).toBe('813463563630798630');
    for (const key of ['c', 'd', 'e', 'f', 'missing']) {
      expect(() => id(o, key)).toThrow(ShapeError);
      expect(() => id(o, key)).toThrow(`$.${key}`);
    }
  });
});
