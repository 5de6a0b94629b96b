// The dashboard's formatting never throws on absurd values: one bad timestamp must not blank a whole page.
import { describe, expect, it } from 'vitest';
import { formatAge, formatExact, formatMoney, formatTime } from './format.js';

describe('formatTime', () => {
  it('shows a time outside what a date can hold as unknown instead of throwing', () => {
    expect(formatTime(Date.UTC(2026, 11, 6, 13, 45))).toBe('2026-12-06 13:45');
    // A safe integer past Date's range passes the schemas (a trader's since, a peer's connectedAt).
    expect(formatTime(9e15)).toBe('—');
    expect(formatTime(1e300)).toBe('—');
    expect(formatTime(-1e300)).toBe('—');
    expect(formatTime(Number.NaN)).toBe('—');
  });
});

describe('formatAge', () => {
  it('shows an age that is not a number as unknown', () => {
    expect(formatAge(Number.NaN)).toBe('—');
    expect(formatAge(2_000)).toBe('2.0 s');
  });
});

describe('formatMoney', () => {
  it('rounds half away from zero, exactly', () => {
    expect(formatMoney('-0.005')).toBe('-0.01');
    expect(formatMoney('9999.995', true)).toBe('+10,000.00');
    expect(formatMoney('-0.004', true)).toBe('0.00');
  });
});

describe('formatExact', () => {
  it('drops only trailing fraction zeros, never rounds, and groups the thousands', () => {
    expect(formatExact('80045.00000000')).toBe('80,045');
    expect(formatExact('0.17980000')).toBe('0.1798');
    expect(formatExact('0.00009896')).toBe('0.00009896');
    expect(formatExact('2400.83000000')).toBe('2,400.83');
    expect(formatExact('100')).toBe('100');
    expect(formatExact('2781')).toBe('2,781');
    expect(formatExact('-0.50')).toBe('-0.5');
    expect(formatExact('-0.000')).toBe('0');
    expect(formatExact('1234567.000100')).toBe('1,234,567.0001');
    expect(formatExact(null)).toBe('—');
    // Not a plain decimal: shown as it is.
    expect(formatExact('1e-18')).toBe('1e-18');
  });
});
