// Round trips and daily statistics of a scripted sequence of fills, fees and funding, against values computed by hand.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { computeDailyStats, computeRoundTrips } from './round-trips.js';
import type { RecordScope } from './store-records.js';
import { fill, income, scriptedDays } from './testing/record-fixtures.js';

const LIVE: RecordScope = { mode: 'live', account: 'main' };
const n = (v: string) => Decimal.parse(v).normalize().toString();

describe('round trips', () => {
  it('follow a long, a flip to short and a BNB-commission short, with funding, exactly', () => {
    const { fills, funding } = scriptedDays();
    const trips = computeRoundTrips(LIVE, fills, funding);
    expect(trips).toHaveLength(3);
    const [long, short, eth] = trips;
    // Long: 0.010 @ 40000 + 0.020 @ 40300 → 1206 / 0.030 = 40200 entry; out 0.010 @ 41000 and
    // 0.020 of the flipping 0.030 @ 40900 → (410 + 818) / 0.030 = 40933.33333333.
    // Realized 8 + 14 = 22; commission 0.16 + 0.3224 + 0.164 + 0.4908 × 2/3 (= 0.3272) = 0.9736;
    // funding −0.6030 (08:00, while open); net 22 − 0.9736 − 0.603 = 20.4234.
    expect(long).toMatchObject({ symbol: 'BTCUSDT', direction: 'LONG', fills: 4 });
    expect([long?.maxQty, long?.entryPrice, long?.exitPrice].map((v) => n(v ?? ''))).toEqual([
      '0.03',
      '40200',
      '40933.33333333',
    ]);
    expect([long?.realizedPnl, long?.commission, long?.funding, long?.netPnl].map((v) => n(v ?? ''))).toEqual(
      ['22', '0.9736', '-0.603', '20.4234'],
    );
    expect(long?.openTime).toBe(Date.parse('2026-01-05T01:00:00Z'));
    expect(long?.closeTime).toBe(Date.parse('2026-01-05T10:00:00Z'));
    // Short: the flip's other 0.010 @ 40900 (commission 0.4908 − 0.3272 = 0.1636), closed 0.010 @ 41500
    // (commission 0.166, realized −6); funding +0.4090 at midnight; net −6 − 0.3296 + 0.409 = −5.9206.
    expect([short?.direction, n(short?.entryPrice ?? ''), n(short?.exitPrice ?? '')]).toEqual([
      'SHORT',
      '40900',
      '41500',
    ]);
    expect(
      [short?.realizedPnl, short?.commission, short?.funding, short?.netPnl].map((v) => n(v ?? '')),
    ).toEqual(['-6', '0.3296', '0.409', '-5.9206']);
    expect(short?.fills).toBe(2);
    // ETH: commission paid in BNB is not a USDT cost; net = realized 5.
    expect([eth?.direction, n(eth?.commission ?? ''), n(eth?.netPnl ?? '')]).toEqual(['SHORT', '0', '5']);
  });

  it('leave a position still open out, and count nothing for a zero-quantity fill', () => {
    const trips = computeRoundTrips(
      LIVE,
      [fill({ tradeId: '1', qty: '0.010' }), fill({ tradeId: '2', qty: '0', time: 2 })],
      [],
    );
    expect(trips).toEqual([]);
  });

  it('follow hedge-mode sides apart', () => {
    const trips = computeRoundTrips(
      LIVE,
      [
        fill({ tradeId: '1', positionSide: 'LONG', side: 'BUY', qty: '1', price: '10', time: 1 }),
        fill({ tradeId: '2', positionSide: 'SHORT', side: 'SELL', qty: '2', price: '11', time: 2 }),
        fill({
          tradeId: '3',
          positionSide: 'LONG',
          side: 'SELL',
          qty: '1',
          price: '12',
          time: 3,
          realizedPnl: '2',
        }),
      ],
      [],
    );
    expect(trips.map((t) => [t.direction, n(t.entryPrice), n(t.exitPrice), n(t.realizedPnl)])).toEqual([
      ['LONG', '10', '12', '2'],
    ]);
  });
});

describe('daily statistics', () => {
  it('add up realized PnL, USDT commission, funding, volume and round trips per UTC day and symbol', () => {
    const { fills, funding } = scriptedDays();
    const days = computeDailyStats(LIVE, fills, funding, computeRoundTrips(LIVE, fills, funding));
    const rows = days.map((d) => [
      d.day,
      d.symbol,
      n(d.realizedPnl),
      n(d.commission),
      n(d.funding),
      n(d.netPnl),
      n(d.volume),
      d.fills,
      d.roundTrips,
      d.wins,
      d.losses,
    ]);
    expect(rows).toEqual([
      // 22 realized; 0.16 + 0.3224 + 0.164 + 0.4908 = 1.1372 commission; −0.603 funding → 20.2598.
      ['2026-01-05', 'BTCUSDT', '22', '1.1372', '-0.603', '20.2598', '2843', 4, 1, 1, 0],
      // −6 − 0.166 + 0.409 = −5.757; the short that closed this day lost.
      ['2026-01-06', 'BTCUSDT', '-6', '0.166', '0.409', '-5.757', '415', 1, 1, 0, 1],
      ['2026-01-06', 'ETHUSDT', '5', '0', '0', '5', '1995', 2, 1, 1, 0],
    ]);
  });
});

describe('round trips: funding and precision', () => {
  it('give each hedge-mode funding row to its own side, never to both', () => {
    // Long 2 and short 1 open together; at 08:00 the long pays 2 (2 × 100 × 0.01) and the short
    // receives 1: each trip books only its own row, so the trips' funding adds up to the account's −1.
    const at = (h: number) => Date.parse('2026-02-01T00:00:00Z') + h * 3_600_000;
    const fills = [
      fill({ tradeId: '1', positionSide: 'LONG', side: 'BUY', qty: '2', price: '100', time: at(1) }),
      fill({ tradeId: '2', positionSide: 'SHORT', side: 'SELL', qty: '1', price: '100', time: at(2) }),
      fill({ tradeId: '3', positionSide: 'LONG', side: 'SELL', qty: '2', price: '100', time: at(9) }),
      fill({ tradeId: '4', positionSide: 'SHORT', side: 'BUY', qty: '1', price: '100', time: at(10) }),
    ];
    const funding = [
      income({ incomeType: 'FUNDING_FEE', income: '1', tranId: 'f1', tradeId: '', time: at(8) }),
      income({ incomeType: 'FUNDING_FEE', income: '-2', tranId: 'f2', tradeId: '', time: at(8) }),
    ];
    const trips = computeRoundTrips(LIVE, fills, funding);
    expect(trips.map((t) => [t.direction, n(t.funding)])).toEqual([
      ['LONG', '-2'],
      ['SHORT', '1'],
    ]);
  });

  it('give funding settled at the moment of a flip to one trip only', () => {
    // The flip fill and the funding share one millisecond: the long held before it pays; the
    // short it opens does not pay the same row again.
    const t8 = Date.parse('2026-02-01T08:00:00Z');
    const fills = [
      fill({ tradeId: '1', side: 'BUY', qty: '1', price: '100', time: t8 - 3_600_000 }),
      fill({ tradeId: '2', side: 'SELL', qty: '2', price: '100', time: t8 }),
      fill({ tradeId: '3', side: 'BUY', qty: '1', price: '100', time: t8 + 3_600_000 }),
    ];
    const funding = [
      income({ incomeType: 'FUNDING_FEE', income: '-1', tranId: 'f1', tradeId: '', time: t8 }),
    ];
    const trips = computeRoundTrips(LIVE, fills, funding);
    expect(trips.map((t) => [t.direction, n(t.funding)])).toEqual([
      ['LONG', '-1'],
      ['SHORT', '0'],
    ]);
  });

  it('give funding settled as a position opens to that position', () => {
    const t8 = Date.parse('2026-02-01T08:00:00Z');
    const trips = computeRoundTrips(
      LIVE,
      [
        fill({ tradeId: '1', side: 'BUY', qty: '1', price: '100', time: t8 }),
        fill({ tradeId: '2', side: 'SELL', qty: '1', price: '100', time: t8 + 1 }),
      ],
      [income({ incomeType: 'FUNDING_FEE', income: '-1', tranId: 'f1', tradeId: '', time: t8 })],
    );
    expect(trips.map((t) => n(t.funding))).toEqual(['-1']);
  });

  it('keep entry and exit prices finer than 8 decimals', () => {
    const trips = computeRoundTrips(
      LIVE,
      [
        fill({ tradeId: '1', side: 'BUY', qty: '1000000000', price: '0.000000000000000001', time: 1 }),
        fill({ tradeId: '2', side: 'SELL', qty: '1000000000', price: '0.000000000000000003', time: 2 }),
      ],
      [],
    );
    expect(trips.map((t) => [n(t.entryPrice), n(t.exitPrice)])).toEqual([
      ['0.000000000000000001', '0.000000000000000003'],
    ]);
  });
});

describe('round trips: history that starts with a position open', () => {
  it('do not open a phantom trip from a fill that closed a position opened before the records', () => {
    // The records start while a long of 1 is open: its close (realized +10) must not start a short
    // that the next real long then "closes", shifting every later trip.
    const trips = computeRoundTrips(
      LIVE,
      [
        fill({ tradeId: '1', side: 'SELL', qty: '1', price: '110', realizedPnl: '10', time: 1 }),
        fill({ tradeId: '2', side: 'BUY', qty: '1', price: '100', realizedPnl: '0', time: 2 }),
        fill({ tradeId: '3', side: 'SELL', qty: '1', price: '105', realizedPnl: '5', time: 3 }),
      ],
      [],
    );
    expect(trips.map((t) => [t.direction, n(t.entryPrice), n(t.exitPrice), n(t.realizedPnl)])).toEqual([
      ['LONG', '100', '105', '5'],
    ]);
  });

  it('do not open a phantom trip from a hedge-side fill that can only reduce', () => {
    // A SELL on the LONG side closes a long, even one closed at its entry price (no PnL).
    const trips = computeRoundTrips(
      LIVE,
      [
        fill({
          tradeId: '1',
          positionSide: 'LONG',
          side: 'SELL',
          qty: '1',
          price: '100',
          realizedPnl: '0',
          time: 1,
        }),
        fill({ tradeId: '2', positionSide: 'LONG', side: 'BUY', qty: '1', price: '100', time: 2 }),
        fill({
          tradeId: '3',
          positionSide: 'LONG',
          side: 'SELL',
          qty: '1',
          price: '103',
          realizedPnl: '3',
          time: 3,
        }),
      ],
      [],
    );
    expect(trips.map((t) => [t.direction, n(t.entryPrice), n(t.exitPrice), n(t.realizedPnl)])).toEqual([
      ['LONG', '100', '103', '3'],
    ]);
  });
});
