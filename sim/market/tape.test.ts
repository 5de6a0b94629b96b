// The live tape: bounded, compact, queried like GET /fapi/v1/aggTrades.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS } from '../symbols.js';
import { PriceUnits } from './history/price-units.js';
import { AggTradeTape, type TapeEntry } from './tape.js';

const units = new PriceUnits(DEFAULT_SYMBOLS[0] ?? (undefined as never));
const trade = (a: number, T: number): TapeEntry => ({
  a,
  ticks: 800_000 + a,
  steps: 2,
  f: a * 2,
  l: a * 2 + 1,
  T,
  m: a % 2 === 0,
});

describe('aggTrade tape', () => {
  it('keeps the last trades and answers id and time queries like aggTrades', () => {
    const tape = new AggTradeTape(5, units);
    for (let a = 10; a < 20; a++) tape.append(trade(a, 1000 + Math.floor(a / 2) * 10));
    expect(tape.size).toBe(5);
    expect(tape.first()).toEqual({ a: 15, p: '80001.50', q: '0.002', f: 30, l: 31, T: 1070, m: false });
    expect(tape.query({ limit: 3 }).map((t) => t.a)).toEqual([17, 18, 19]);
    expect(tape.query({ fromId: 16, limit: 2 }).map((t) => t.a)).toEqual([16, 17]);
    expect(tape.query({ fromId: 1, limit: 2 }).map((t) => t.a)).toEqual([15, 16]);
    expect(tape.query({ fromId: 25, limit: 2 })).toEqual([]);
    expect(tape.query({ startTime: 1080, endTime: 1080, limit: 10 }).map((t) => t.a)).toEqual([16, 17]);
    expect(tape.query({ endTime: 1080, limit: 10 }).map((t) => t.a)).toEqual([15, 16, 17]);
    expect(() => tape.append(trade(21, 2000))).toThrow(RangeError);
    expect(() => tape.append(trade(20, 10))).toThrow(RangeError);
  });

  it('grows as it fills and keeps order across the wrap', () => {
    const tape = new AggTradeTape(300, units);
    for (let a = 1; a <= 1000; a++) tape.append(trade(a, a));
    expect(tape.size).toBe(300);
    const all = tape.query({ fromId: 0, limit: 1000 });
    expect(all.map((t) => t.a)).toEqual(Array.from({ length: 300 }, (_, i) => 701 + i));
  });
});
