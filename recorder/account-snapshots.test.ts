// Minute snapshots: positions carry the entry and mark prices positionRisk gives when the v3 account leaves them out.
import { describe, expect, it } from 'vitest';
import { snapshotRecords } from './account-snapshots.js';

const SCOPE = { mode: 'paper', account: 'main' } as const;

describe('snapshotRecords', () => {
  it('takes entry and mark prices from positionRisk, sums unrealized PnL into equity, skips flat symbols', () => {
    const account = {
      positions: [
        {
          symbol: 'XRPUSDT',
          position: { side: 'BOTH', amount: '227.2', unrealizedPnl: '-0.15904', updateTime: 1 },
        },
        { symbol: 'BTCUSDT', position: { side: 'BOTH', amount: '0', unrealizedPnl: '0', updateTime: 1 } },
      ],
      balances: [
        { asset: 'USDT', walletBalance: '9999.75009136', availableBalance: '9974.6', updateTime: 1 },
      ],
    };
    const risk = [
      {
        symbol: 'XRPUSDT',
        position: { side: 'BOTH', amount: '227.2', entryPrice: '2.2010', markPrice: '2.2003', updateTime: 1 },
      },
    ];
    const batch = snapshotRecords(SCOPE, account, 120_500, 60_000, risk);
    expect(batch.positions).toEqual([
      {
        ...SCOPE,
        time: 120_000,
        symbol: 'XRPUSDT',
        positionSide: 'BOTH',
        amount: '227.2',
        entryPrice: '2.2010',
        markPrice: '2.2003',
        unrealizedPnl: '-0.15904',
      },
    ]);
    expect(batch.equity?.[0]?.equity).toBe('9999.59105136');
  });

  it('values each position at a fresh mark price between its changes, and as the account says without one', () => {
    // The hub's position: unrealized PnL and mark as of the last fill (its exchange time does not move with the mark).
    const position = (symbol: string, amount: string, entryPrice: string) => ({
      symbol,
      position: {
        side: 'BOTH',
        amount,
        entryPrice,
        markPrice: entryPrice,
        unrealizedPnl: '0.00000000',
        updateTime: 1,
      },
    });
    const account = {
      positions: [
        position('BTCUSDT', '0.006', '80045.0'),
        position('ETHUSDT', '-0.50', '3000.10'),
        position('SOLUSDT', '3', '140.00'),
        position('XRPUSDT', '100', '0'),
      ],
      balances: [{ asset: 'USDT', walletBalance: '10000', updateTime: 1 }],
    };
    const now = 1_796_640_000_500;
    const marks = new Map([
      ['BTCUSDT', { price: '80054.8', time: now - 1_000 }],
      ['ETHUSDT', { price: '2990.00', time: now - 59_000 }],
      // The stream went away: this mark is too old to value anything.
      ['SOLUSDT', { price: '150.00', time: now - 61_000 }],
      ['XRPUSDT', { price: '2.5', time: now }],
    ]);
    const batch = snapshotRecords(SCOPE, account, now, 60_000, [], (symbol) => marks.get(symbol));
    expect(batch.positions?.map((p) => [p.symbol, p.markPrice, p.unrealizedPnl])).toEqual([
      ['BTCUSDT', '80054.8', '0.0588'],
      // A short gains as the mark falls.
      ['ETHUSDT', '2990.00', '5.05'],
      ['SOLUSDT', '140.00', '0.00000000'],
      // No entry price to value it from.
      ['XRPUSDT', '0', '0.00000000'],
    ]);
    expect(batch.equity?.[0]).toMatchObject({ unrealizedPnl: '5.10880000', equity: '10005.10880000' });
  });
});
