import { describe, expect, it } from 'vitest';
import { AggTradeTape, type TapeTrade } from './tape.js';

const trade = (a: number, T: number): TapeTrade => ({
  a,
  p: '1.0',
  q: '2',
  f: a * 2,
  l: a * 2 + 1,
  T,
  m: a % 2 === 0,
});

describe('aggTrade tape', () => {
  it('keeps the last trades and answers id and time queries like aggTrades', () => {
    const tape = new AggTradeTape(5);
    for (let a = 10; a < 20; a++) tape.append(trade(a, 1000 + Math.floor(a / 2) * 10));
    expect(tape.size).toBe(5);
    expect(tape.first()?.a).toBe(15);
    expect(tape.query({ limit: 3 }).map((t) => t.a)).toEqual([17, 18, 19]);
    expect(tape.query({ fromId: 16, limit: 2 }).map((t) => t.a)).toEqual([16, 17]);
    expect(tape.query({ fromId: 1, limit: 2 }).map((t) => t.a)).toEqual([15, 16]);
    expect(tape.query({ fromId: 25, limit: 2 })).toEqual([]);
    expect(tape.query({ startTime: 1080, endTime: 1080, limit: 10 }).map((t) => t.a)).toEqual([16, 17]);
    expect(tape.query({ endTime: 1080, limit: 10 }).map((t) => t.a)).toEqual([15, 16, 17]);
    expect(() => tape.append(trade(21, 2000))).toThrow(RangeError);
    expect(() => tape.append(trade(20, 10))).toThrow(RangeError);
  });
});
