// The per-record costs docs/protocol.md ("Batching and the message cap") gives clients to size their frames.
import { describe, expect, it } from 'vitest';
import { IngestEncoder } from '../native/hub.js';
import type { Balance, Position } from '../native/records.js';
import { syntheticBar } from './testing/ingest-data.js';

const SYMBOLS = Array.from({ length: 700 }, (_, i) => `SYM${i}USDT`);
const NOW = 1_700_000_000_000;

function frameBytes(fill: (encoder: IngestEncoder) => void): number {
  const encoder = new IngestEncoder(SYMBOLS);
  fill(encoder);
  const frame = encoder.takeFrame(1, NOW);
  if (frame === null) throw new Error('empty frame');
  return frame.length;
}

const bars = (n: number) => Array.from({ length: n }, (_, i) => syntheticBar(i, 1));
const position: Position = {
  side: 'BOTH',
  updateTime: NOW,
  amount: '0.125',
  entryPrice: '65000.1',
  breakEvenPrice: '65010.2',
  markPrice: '65100.3',
  unrealizedPnl: '12.5',
  isolatedWallet: '0',
} as Position;
const balance = (asset: string): Balance =>
  ({
    asset,
    updateTime: NOW,
    walletBalance: '1000.5',
    crossWalletBalance: '1000.5',
    availableBalance: '900.25',
    unrealizedPnl: '1.5',
  }) as Balance;

describe('Ingest frame costs (docs/protocol.md, Batching)', () => {
  it('one kline: about 210 bytes; each further row of the same (symbol, interval): 120', () => {
    const one = frameBytes((e) => e.pushKlines(0, '1m', bars(1)));
    expect(one).toBeLessThanOrEqual(216);
    for (const n of [2, 3, 45])
      expect(frameBytes((e) => e.pushKlines(0, '1m', bars(n)))).toBe(one + 120 * (n - 1));
  });

  it('each further (symbol, interval) group costs 136–152 bytes with one row: about 140 at the universe’s size', () => {
    const one = frameBytes((e) => e.pushKlines(0, '1m', bars(1)));
    let previous = one;
    for (let n = 2; n <= 20; n += 1) {
      const bytes = frameBytes((e) => {
        for (let s = 0; s < n; s += 1) e.pushKlines(s, '1m', bars(1));
      });
      expect(bytes - previous).toBeGreaterThanOrEqual(136);
      expect(bytes - previous).toBeLessThanOrEqual(152);
      previous = bytes;
    }
    const universe = frameBytes((e) => {
      for (let s = 0; s < 650; s += 1) e.pushKlines(s, '1m', bars(1));
    });
    expect((universe - one) / 649).toBeCloseTo(140, 0);
    // Intervals of one symbol are groups too.
    const intervals = frameBytes((e) => {
      for (const i of ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h'] as const)
        e.pushKlines(0, i, bars(1));
    });
    expect((intervals - one) / 7).toBeGreaterThanOrEqual(136);
    expect((intervals - one) / 7).toBeLessThanOrEqual(152);
  });

  it('each further tick: 64 bytes; position: 72; balance: at most 96 (by its asset name)', () => {
    const tick = (n: number) =>
      frameBytes((e) => {
        for (let s = 0; s < n; s += 1)
          e.pushTick(s, {
            time: NOW,
            bid: '1.5',
            ask: '1.6',
            bidQty: '3',
            askQty: '4',
            last: '1.55',
          } as never);
      });
    expect(tick(11) - tick(1)).toBe(640);
    const positions = (n: number) =>
      frameBytes((e) => {
        for (let s = 0; s < n; s += 1) e.pushPosition(s, position);
      });
    expect(positions(11) - positions(1)).toBe(720);
    const one = frameBytes((e) => e.pushBalance(balance('USDT')));
    const longest = frameBytes((e) => {
      e.pushBalance(balance('USDT'));
      e.pushBalance(balance('B'.repeat(31)));
    });
    expect(longest - one).toBeLessThanOrEqual(96);
  });
});
