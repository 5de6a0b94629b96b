// The dashboard's formatting never throws on absurd values: one bad timestamp must not blank a whole page.
import { describe, expect, it } from 'vitest';
import { formatAge, formatMoney, formatTime } from './format.js';

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
