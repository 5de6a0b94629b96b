// System test: what `tributary up` runs — a paper trader with the demo strategy on the built-in simulator — trades: orders at the simulator, the position in the trader's book.
import { describe, expect, it } from 'vitest';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { PACED_COLLECTORS, startStrategy, tradingSession } from './testing/trading-session.js';
import { strategyToRun } from './venues/trader-strategy.js';

const session = tradingSession();

describe('the demo strategy under tributary up (paper mode on the simulator)', () => {
  it('sends its order to the simulator and the trader’s book shows the position the collectors report', async () => {
    const r = await CollectorRig.start({ collectors: PACED_COLLECTORS });
    session.rig = r;
    for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const trader = await r.trader();
    expect(r.loaded.config.trader.mode).toBe('paper');
    expect(strategyToRun(r.loaded.config.trader, {})).toBe('demo');
    // Nothing configured: paper mode chooses the demo; its opening threshold is set so that the
    // first closed minute opens (any move above −100 %), so the test waits one bar at most.
    const t = await startStrategy(trader, r.loaded, {
      strategyConfig: { symbols: ['BTCUSDT'], openAbove: '-1', closeBelow: '-1', notional: '500' },
    });
    session.trading = t;
    expect(t.venue.name).toBe('simulator');
    // A 1-minute bar closes within a minute; the order then goes out at once.
    await eventually(
      () => r.requests.some((q) => q.method === 'POST' && q.path === '/fapi/v1/order'),
      'the demo’s order at the simulator',
      90_000,
    );
    await eventually(
      () => r.truth().positions.some((p) => p.symbol === 'BTCUSDT' && Number(p.positionAmt) > 0),
      'a long BTCUSDT position at the simulator',
      10_000,
    );
    const atExchange = r.truth().positions.find((p) => p.symbol === 'BTCUSDT' && p.positionSide === 'BOTH');
    await eventually(
      () => t.account.position('BTCUSDT').amount.toString() === atExchange?.positionAmt,
      'the position in the trader’s book (through the collectors and the hub)',
      15_000,
    );
    expect(Number(atExchange?.positionAmt)).toBeGreaterThan(0);
    expect(t.runtime.engine.stats.orders).toBeGreaterThanOrEqual(1);
    // The fill came back through the user stream and the hub to the engine.
    await eventually(() => t.runtime.engine.stats.fills >= 1, 'the fill at the engine', 10_000);
  }, 150_000);
});
