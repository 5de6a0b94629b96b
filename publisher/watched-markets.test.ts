// WatchedMarkets: the hub's ranks when it has them, the configured symbols otherwise, failures logged once a run.
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../ts/log/testing/recording-logger.js';
import { type RanksReader, WatchedMarkets } from './watched-markets.js';

const CONFIGURED = ['ETHUSDT', 'BTCUSDT', 'SOLUSDT'];

describe('WatchedMarkets', () => {
  it('charts the hub’s most active symbols, as many as asked', async () => {
    const asked: number[] = [];
    const ranks: RanksReader = async (top) => {
      asked.push(top);
      return { symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'].slice(0, top), updatedAt: 1 };
    };
    const watched = new WatchedMarkets(ranks, CONFIGURED, recordingLogger().logger);
    expect(await watched.symbols(2)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(await watched.symbols(20)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']);
    expect(await watched.symbols(0)).toEqual([]);
    expect(asked).toEqual([2, 20]);
  });

  it('falls back to the configured symbols while the hub has no ranks or cannot be read, and says so once', async () => {
    let answer: 'none' | 'fail' | 'ranked' = 'none';
    const ranks: RanksReader = async () => {
      if (answer === 'fail') throw new Error('hub connection closed');
      return answer === 'none'
        ? { symbols: [], updatedAt: null }
        : { symbols: ['DOGEUSDT', 'BTCUSDT'], updatedAt: 5 };
    };
    const { logger, lines } = recordingLogger();
    const watched = new WatchedMarkets(ranks, CONFIGURED, logger);
    expect(await watched.symbols(2)).toEqual(['ETHUSDT', 'BTCUSDT']);
    answer = 'fail';
    expect(await watched.symbols(5)).toEqual(CONFIGURED);
    expect(await watched.symbols(5)).toEqual(CONFIGURED);
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields.error).toBe('hub connection closed');
    answer = 'ranked';
    expect(await watched.symbols(5)).toEqual(['DOGEUSDT', 'BTCUSDT']);
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(1);
  });

  it('without a hub link charts the configured symbols', async () => {
    const watched = new WatchedMarkets(undefined, CONFIGURED, recordingLogger().logger);
    expect(await watched.symbols(2)).toEqual(['ETHUSDT', 'BTCUSDT']);
  });
});
