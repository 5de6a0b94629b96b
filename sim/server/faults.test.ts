// Tests of fault requests: checking, applying, counting and resetting.
import { describe, expect, it } from 'vitest';
import { type FaultActions, FaultInjector, FaultSpecError, parseFaultSpec } from './faults.js';

function actions(): FaultActions & { skew: number; frozen: number[]; drops: number } {
  const state = {
    skew: 0,
    frozen: [] as number[],
    drops: 0,
    dropWebsockets: () => {
      state.drops += 1;
      return 3;
    },
    expireListenKeys: () => 2,
    freezeMarket: (until: number) => {
      state.frozen.push(until);
    },
    setClockSkew: (ms: number) => {
      state.skew = ms;
    },
    clockSkewMs: () => state.skew,
    now: () => 1_000_000 + state.skew,
  };
  return state;
}

describe('parseFaultSpec', () => {
  it('accepts known fields and names the bad one', () => {
    expect(parseFaultSpec({ latencyMs: 5, dropWebsockets: true, clockSkewMs: -100 })).toEqual({
      latencyMs: 5,
      dropWebsockets: true,
      clockSkewMs: -100,
    });
    const fieldOf = (value: unknown): string | undefined => {
      try {
        parseFaultSpec(value);
      } catch (error) {
        if (error instanceof FaultSpecError) return error.field;
        throw error;
      }
      return undefined;
    };
    expect(fieldOf([])).toBe('faults');
    expect(fieldOf({ latencyMs: 1.5 })).toBe('faults.latencyMs');
    expect(fieldOf({ banForMs: 86_400_001 })).toBe('faults.banForMs');
    expect(fieldOf({ dropWebsockets: 'yes' })).toBe('faults.dropWebsockets');
    expect(fieldOf({ clockSkewMs: '5' })).toBe('faults.clockSkewMs');
    expect(fieldOf({ unknownStatusNextOrders: -1 })).toBe('faults.unknownStatusNextOrders');
    expect(parseFaultSpec({ dropAggTrades: { symbol: 'BTCUSDT', count: 20 } })).toEqual({
      dropAggTrades: { symbol: 'BTCUSDT', count: 20 },
    });
    expect(fieldOf({ dropAggTrades: 5 })).toBe('faults.dropAggTrades');
    expect(fieldOf({ dropAggTrades: { symbol: 'btc usdt', count: 1 } })).toBe('faults.dropAggTrades.symbol');
    expect(fieldOf({ dropAggTrades: { symbol: 'BTCUSDT', count: 1.5 } })).toBe('faults.dropAggTrades.count');
    expect(fieldOf({ dropAggTrades: { symbol: 'BTCUSDT', count: 1, side: 'x' } })).toBe(
      'faults.dropAggTrades.side',
    );
  });
});

describe('FaultInjector', () => {
  it('serves counted faults, runs instant actions, and resets', () => {
    const a = actions();
    const faults = new FaultInjector(a, () => 0.5);
    faults.apply({
      latencyMs: 100,
      latencyJitterMs: 10,
      rateLimitNextRequests: 1,
      unknownStatusNextOrders: 2,
    });
    expect(faults.latencyMs()).toBe(105);
    expect(faults.takeForcedRateLimit(0)).toBe(1_000);
    expect(faults.takeForcedRateLimit(0)).toBeUndefined();
    expect([faults.takeUnknownStatus(), faults.takeUnknownStatus(), faults.takeUnknownStatus()]).toEqual([
      true,
      true,
      false,
    ]);
    faults.apply({
      clockSkewMs: 5_000,
      staleMarketForMs: 2_000,
      dropWebsockets: true,
      expireListenKeys: true,
    });
    expect(a.frozen).toEqual([1_000_000 + 5_000 + 2_000]);
    expect(faults.snapshot()).toMatchObject({
      clockSkewMs: 5_000,
      staleMarketRemainingMs: 2_000,
      served: { rateLimited: 1, unknownStatus: 2, dropped: 3, expired: 2 },
    });
    faults.apply({ banForMs: 1_000 });
    expect(faults.takeForcedBan(1_005_500)).toBe(1_006_000);
    expect(faults.takeForcedBan(1_006_000)).toBeUndefined();
    faults.apply({ reset: true });
    expect(a.skew).toBe(0);
    expect(faults.latencyMs()).toBe(0);
  });

  it('drops aggTrades through the market, refuses an unlisted symbol changing nothing, and resets', () => {
    const a = actions();
    const pending = new Map<string, number>();
    const faults = new FaultInjector({
      ...a,
      dropAggTrades: (symbol, count) => {
        if (symbol !== 'BTCUSDT') return false;
        pending.set(symbol, count);
        return true;
      },
      clearAggTradeDrops: () => pending.clear(),
      aggTradeDrops: () => ({ pending: Object.fromEntries(pending), dropped: 7 }),
    });
    expect(() => faults.apply({ latencyMs: 9, dropAggTrades: { symbol: 'NOPEUSDT', count: 2 } })).toThrow(
      FaultSpecError,
    );
    expect(faults.latencyMs()).toBe(0);
    faults.apply({ dropAggTrades: { symbol: 'BTCUSDT', count: 2 } });
    expect(faults.snapshot()).toMatchObject({
      dropAggTradesPending: { BTCUSDT: 2 },
      served: { aggTradesDropped: 7 },
    });
    faults.apply({ reset: true });
    expect(pending.size).toBe(0);
    faults.apply({ reset: true, dropAggTrades: { symbol: 'BTCUSDT', count: 4 } });
    expect(pending.get('BTCUSDT')).toBe(4);
    const { dropAggTrades: _none, ...plain } = a as FaultActions;
    expect(() => new FaultInjector(plain).apply({ dropAggTrades: { symbol: 'BTCUSDT', count: 1 } })).toThrow(
      'needs a market',
    );
  });

  it('quiets the market and stalls stream connections through their actions, shown in the snapshot', () => {
    const a = actions();
    const quiet: number[] = [];
    const stalls: number[] = [];
    const faults = new FaultInjector({
      ...a,
      quietMarket: (until) => {
        quiet.push(until);
      },
      stallStreams: (forMs) => {
        stalls.push(forMs);
        return 4;
      },
    });
    expect(parseFaultSpec({ quietMarketForMs: 30_000, stallStreamsForMs: 20_000 })).toEqual({
      quietMarketForMs: 30_000,
      stallStreamsForMs: 20_000,
    });
    faults.apply({ quietMarketForMs: 30_000, stallStreamsForMs: 20_000 });
    expect(quiet).toEqual([1_000_000 + 30_000]);
    expect(stalls).toEqual([20_000]);
    expect(faults.snapshot()).toMatchObject({
      quietMarketRemainingMs: 30_000,
      stallStreamsRemainingMs: 20_000,
      served: { streamsStalled: 4 },
    });
    expect(() => new FaultInjector(a).apply({ latencyMs: 5, quietMarketForMs: 10 })).toThrow(
      'needs a market',
    );
    expect(() => new FaultInjector(a).apply({ stallStreamsForMs: 10 })).toThrow('needs a websocket server');
  });

  it('stalls the connections carrying one stream through its action, counted; refuses a bad or unserved stream, changing nothing', () => {
    const a = actions();
    const stalled: [string, number][] = [];
    const faults = new FaultInjector({
      ...a,
      stallConnection: (stream, forMs) => {
        stalled.push([stream, forMs]);
        return 1;
      },
      servesStream: (stream) => stream === 'btcusdt@aggTrade',
    });
    const spec = { stallConnection: { stream: 'btcusdt@aggTrade', forMs: 600_000 } };
    expect(parseFaultSpec(spec)).toEqual(spec);
    faults.apply(spec);
    expect(stalled).toEqual([['btcusdt@aggTrade', 600_000]]);
    expect(faults.snapshot()).toMatchObject({ served: { connectionsStalled: 1 } });

    expect(() => parseFaultSpec({ stallConnection: 'btcusdt@aggTrade' })).toThrow('faults.stallConnection');
    expect(() => parseFaultSpec({ stallConnection: { stream: 'a b', forMs: 1 } })).toThrow(
      'faults.stallConnection.stream',
    );
    expect(() => parseFaultSpec({ stallConnection: { stream: 'btcusdt@aggTrade', forMs: -1 } })).toThrow(
      'faults.stallConnection.forMs',
    );
    expect(() => parseFaultSpec({ stallConnection: { stream: 'x@aggTrade', forMs: 1, n: 2 } })).toThrow(
      'faults.stallConnection.n',
    );
    expect(() =>
      faults.apply({ latencyMs: 50, stallConnection: { stream: 'xyzusdt@aggTrade', forMs: 1 } }),
    ).toThrow('is not a stream the simulator serves');
    expect(faults.latencyMs()).toBe(0);
    expect(stalled).toHaveLength(1);
    expect(() => new FaultInjector(a).apply(spec)).toThrow('needs a websocket server');
  });

  it('refuses a stale-market fault without a market, changing nothing', () => {
    const { freezeMarket: _unused, ...withoutMarket } = actions();
    const faults = new FaultInjector(withoutMarket);
    expect(() => faults.apply({ latencyMs: 50, staleMarketForMs: 10 })).toThrow(FaultSpecError);
    expect(faults.latencyMs()).toBe(0);
  });
});
