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
});
