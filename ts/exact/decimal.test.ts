import { describe, expect, it } from 'vitest';
import { Decimal, DecimalError } from './decimal.js';

const d = Decimal.parse;

describe('Decimal', () => {
  it('round-trips exchange strings and keeps their scale', () => {
    for (const s of ['7.6110', '0.00000001', '-12.50', '42', '0', '-0.1']) {
      expect(d(s).toString()).toBe(s);
    }
  });

  it('rejects what is not a plain decimal', () => {
    for (const s of ['', '1e5', ' 1', '1.', '.5', 'NaN', '1,5', '0x10']) {
      expect(() => d(s)).toThrow(DecimalError);
      expect(Decimal.tryParse(s)).toBeUndefined();
    }
  });

  it('adds, subtracts and multiplies exactly', () => {
    expect(d('0.1').add(d('0.2')).toString()).toBe('0.3');
    expect(d('1.10').sub(d('0.2')).toString()).toBe('0.90');
    expect(d('30000.5').mul(d('0.003')).toString()).toBe('90.0015');
    expect(d('-2').mul(d('0.5')).toString()).toBe('-1.0');
  });

  it('divides with the requested rounding', () => {
    expect(d('1').div(d('3'), 4).toString()).toBe('0.3333');
    expect(d('2').div(d('3'), 4).toString()).toBe('0.6667');
    expect(d('0.125').div(d('1'), 2).toString()).toBe('0.12');
    expect(d('0.135').div(d('1'), 2).toString()).toBe('0.14');
    expect(d('-1').div(d('3'), 2, 'floor').toString()).toBe('-0.34');
    expect(d('-1').div(d('3'), 2, 'ceil').toString()).toBe('-0.33');
    expect(() => d('1').div(d('0'), 2)).toThrow(DecimalError);
  });

  it('compares by value', () => {
    expect(d('1.50').eq(d('1.5'))).toBe(true);
    expect(d('-0.01').lt(d('0'))).toBe(true);
    expect(Decimal.max(d('2'), d('10')).toString()).toBe('10');
  });

  it('snaps to steps in whole integer steps, including steps like 0.5', () => {
    expect(d('1.26').snap(d('0.5'), 'floor').toString()).toBe('1.0');
    expect(d('1.26').snap(d('0.5'), 'ceil').toString()).toBe('1.5');
    expect(d('0.0019').snap(d('0.001'), 'down').toString()).toBe('0.001');
    expect(d('30000.17').snap(d('0.10'), 'half-even').toString()).toBe('30000.20');
    expect(d('1.5').isMultipleOf(d('0.5'))).toBe(true);
    expect(d('1.55').isMultipleOf(d('0.1'))).toBe(false);
  });

  it('formats at a fixed precision', () => {
    expect(d('1.5').toFixed(8)).toBe('1.50000000');
    expect(d('2.345').toFixed(2)).toBe('2.34');
    expect(d('1.500').normalize().toString()).toBe('1.5');
  });
});
