// System test: what `tributary up` runs — a paper trader with the demo strategy on the built-in simulator — trades: orders at the simulator, the position in the trader's book.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../ts/log/logger.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { chooseStrategy } from './venues/trader-strategy.js';
import { startTraderTrading, type TraderTrading } from './venues/trader-trading.js';

/** The simulator's per-IP weight is shared by every poller here: poll gently, bars come from the stream. */
const PACED_COLLECTORS = {
  account: { instances: 1, intervalMs: 1000, version: 'v3' },
  positionRisk: { instances: 1, intervalMs: 1000, version: 'v3' },
  income: { instances: 1, intervalMs: 1000 },
  tick: { instances: 1, maxPollsPerSecond: 2 },
};

let rig: CollectorRig | undefined;
let trading: TraderTrading | undefined;
afterEach(async () => {
  await trading?.stop();
  trading = undefined;
  await rig?.stop();
  rig = undefined;
}, 30_000);

describe('the demo strategy under tributary up (paper mode on the simulator)', () => {
  it('sends its order to the simulator and the trader’s book shows the position the collectors report', async () => {
    rig = await CollectorRig.start({ collectors: PACED_COLLECTORS });
    const r = rig;
    for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const trader = await r.trader();
    expect(r.loaded.config.trader.mode).toBe('paper');
    // Nothing configured: paper mode chooses the demo; its opening threshold is set so that the
    // first closed minute opens (any move above −100 %), so the test waits one bar at most.
    const chosen = chooseStrategy(
      r.loaded.config.trader,
      { strategyConfig: { symbols: ['BTCUSDT'], openAbove: '-1', closeBelow: '-1', notional: '500' } },
      'test',
    );
    if (!('strategy' in chosen)) throw new Error('no strategy');
    expect(chosen.name).toBe('demo');
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-paper-demo-'));
    trading = await startTraderTrading(
      trader,
      r.loaded,
      { strategyName: chosen.name, strategy: chosen.strategy, stateDir, instance: 0 },
      silentLogger('trading'),
    );
    const t = trading;
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
