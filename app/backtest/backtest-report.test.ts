// The summary's round trips: a fill that flips the position closes one trip and opens the next.
import { describe, expect, it } from 'vitest';
import type { FillEvent } from '../../trader/engine/events.js';
import { MemoryTradeRecorder } from '../../trader/execution/trade-recorder.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { summarize } from './backtest-report.js';
import type { BacktestOutcome } from './backtest-runner.js';

const fill = (
  time: number,
  side: 'BUY' | 'SELL',
  qty: string,
  price: string,
  commission: string,
  pnl: string,
): FillEvent => ({
  type: 'fill',
  symbol: 'BTCUSDT',
  clientOrderId: `c${time}`,
  side,
  price: Decimal.parse(price),
  quantity: Decimal.parse(qty),
  commission: Decimal.parse(commission),
  commissionAsset: 'USDT',
  realizedPnl: Decimal.parse(pnl),
  maker: false,
  time,
  tradeId: String(time),
});

function outcome(
  fills: FillEvent[],
  fundingPayments: BacktestOutcome['fundingPayments'] = [],
): BacktestOutcome {
  const recorder = new MemoryTradeRecorder();
  for (const f of fills) recorder.fill(f);
  return {
    strategy: 'test',
    symbols: ['BTCUSDT'],
    files: [],
    start: 0,
    end: 0,
    balance: '10000',
    finalEquity: '10000',
    recorder,
    equity: [],
    candles: {},
    fees: '0',
    funding: '0',
    fundingSource: {
      source: 'assumed',
      recorded: [],
      assumed: { rate: '0.0001', everyHours: 8, symbols: ['BTCUSDT'] },
      gaps: 0,
    },
    fundingPayments,
    realized: '0',
    trades: fills.length,
    assumedSpecs: [],
    skippedLegs: 0,
    rejectedRows: 0,
    stats: {} as BacktestOutcome['stats'],
    risk: null,
  };
}

describe('summarize', () => {
  it('counts a stop-and-reverse fill as the end of one round trip and the start of the next', () => {
    // Long 1 at 100, reverse to short 1 at 110 (sell 2: +10 realized), cover at 120 (−10 realized).
    const s = summarize(
      outcome([
        fill(1, 'BUY', '1', '100', '0.05', '0'),
        fill(2, 'SELL', '2', '110', '0.11', '10'),
        fill(3, 'BUY', '1', '120', '0.06', '-10'),
      ]),
    );
    // The long won 10 − 0.05 − 0.055; the short lost 10 + 0.055 + 0.06.
    expect(s.roundTrips).toBe(2);
    expect(s.winRate).toBe(0.5);
  });

  it('counts funding paid while a trip is open in its net, as the records store does', () => {
    // Long 1 at 100, out at 101: +1 realized, 0.1 commission; funding of −2 paid meanwhile.
    const fills = [fill(1, 'BUY', '1', '100', '0.05', '0'), fill(3, 'SELL', '1', '101', '0.05', '1')];
    expect(summarize(outcome(fills)).winRate).toBe(1);
    const s = summarize(outcome(fills, [{ time: 2, symbol: 'BTCUSDT', income: '-2' }]));
    expect(s.roundTrips).toBe(1);
    expect(s.winRate).toBe(0);
    // Funding of another symbol, or paid while flat, is no trip's.
    expect(
      summarize(
        outcome(fills, [
          { time: 2, symbol: 'ETHUSDT', income: '-2' },
          { time: 4, symbol: 'BTCUSDT', income: '-2' },
        ]),
      ).winRate,
    ).toBe(1);
  });
});
