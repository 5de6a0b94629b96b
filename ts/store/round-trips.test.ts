// Round trips and daily statistics of a scripted sequence of fills, fees and funding, against values computed by hand.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { computeDailyStats, computeRoundTrips } from './round-trips.js';
import type { RecordScope } from './store-records.js';
import { fill, scriptedDays } from './testing/record-fixtures.js';

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
