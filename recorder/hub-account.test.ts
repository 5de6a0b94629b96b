// The recorder's view of the account through a real hub: positions and balances a collector ingests, read by symbol name, exact, and snapshotted.
import { afterEach, describe, expect, it } from 'vitest';
import { markPriceMessage } from '../ts/exchange/testing/market-event-json.js';
import { HubClient } from '../ts/hub/hub-client.js';
import { keyOf, SYMBOLS, startHub } from '../ts/hub/testing/hub-fixtures.js';
import { silentLogger } from '../ts/log/logger.js';
import { IngestEncoder } from '../ts/native/hub.js';
import { waitUntil } from '../ts/testing/wait-until.js';
import { snapshotRecords } from './account-snapshots.js';
import { HubAccount } from './hub-account.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const T = Date.now() - 1000;

describe('HubAccount', () => {
  it('follows the positions and balances the hub merged, by symbol name and exact, and is undefined until in sync', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const viewer = new HubClient({
      url: hub.url,
      peer: 'recorder-0',
      kind: 'recorder',
      key: keyOf('viewer'),
      logger: silentLogger('v'),
    });
    cleanups.push(() => viewer.close());
    const account = new HubAccount(viewer, silentLogger('account'));
    cleanups.push(() => account.stop());
    expect(account.account()).toBeUndefined();
    account.start();
    await viewer.connect();
    await waitUntil(() => account.synced, 'the first snapshot');
    expect(account.openPositionSymbols()).toEqual([]);

    const collector = new HubClient({
      url: hub.url,
      peer: 'account-0',
      kind: 'account',
      key: keyOf('collector'),
      logger: silentLogger('c'),
    });
    cleanups.push(() => collector.close());
    await collector.connect();
    const encoder = new IngestEncoder(SYMBOLS);
    const btc = SYMBOLS.indexOf('BTCUSDT');
    const sushi = SYMBOLS.indexOf('SUSHIUSDT');
    encoder.pushPosition(btc, {
      side: 'BOTH',
      amount: '0.010',
      entryPrice: '93000.10',
      markPrice: '93100.00',
      unrealizedPnl: '0.99900000',
      updateTime: T,
    });
    encoder.pushPosition(sushi, { side: 'BOTH', amount: '0', updateTime: T });
    encoder.pushBalance({
      asset: 'USDT',
      walletBalance: '1000.50000000',
      availableBalance: '990.5',
      updateTime: T,
    });
    const frame = encoder.takeFrame(1, Date.now());
    if (frame === null) throw new Error('no frame');
    collector.sendIngest(frame);
    await waitUntil(() => (account.openPositionSymbols() ?? []).length === 1, 'the position at the recorder');

    expect(account.openPositionSymbols()).toEqual(['BTCUSDT']);
    const state = account.account();
    expect(state?.positions.find((p) => p.symbol === 'BTCUSDT')?.position).toMatchObject({
      amount: '0.010',
      entryPrice: '93000.10',
      markPrice: '93100.00',
    });
    // The snapshot the recorder writes from it: the open position, the balance, equity = wallet + unrealized.
    const batch = snapshotRecords(
      { mode: 'testnet', account: 'main' },
      state ?? { positions: [], balances: [] },
      120_500,
      60_000,
    );
    expect(
      batch.positions?.map((p) => `${p.time} ${p.symbol} ${p.amount} ${p.entryPrice} ${p.markPrice}`),
    ).toEqual(['120000 BTCUSDT 0.010 93000.10 93100.00']);
    // Exact values; a balance travels with one scale for all its amounts (docs/protocol.md), so 990.5 reads 990.50000000.
    expect(batch.balances?.map((b) => `${b.asset} ${b.walletBalance} ${b.availableBalance}`)).toEqual([
      'USDT 1000.50000000 990.50000000',
    ]);
    expect(batch.equity?.[0]?.equity).toBe('1001.49900000');

    // The mark moves and the position does not: the hub's mark values it.
    expect(account.mark('BTCUSDT')).toBeUndefined();
    const markedAt = T + 500;
    encoder.pushMarketEvents([markPriceMessage('BTCUSDT', '93200.00', markedAt)]);
    const marked = encoder.takeFrame(2, Date.now());
    if (marked === null) throw new Error('no frame');
    collector.sendIngest(marked);
    await waitUntil(() => account.mark('BTCUSDT') !== undefined, 'the mark at the recorder');
    expect(account.mark('BTCUSDT')).toEqual({ price: '93200.00', time: markedAt });
    const valued = snapshotRecords(
      { mode: 'testnet', account: 'main' },
      account.account() ?? { positions: [], balances: [] },
      markedAt + 1_000,
      60_000,
      [],
      (symbol) => account.mark(symbol),
    );
    expect(valued.positions?.map((p) => `${p.markPrice} ${p.unrealizedPnl}`)).toEqual(['93200.00 1.999']);
    expect(valued.equity?.[0]?.equity).toBe('1002.49900000');
  });
});
