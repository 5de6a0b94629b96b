// System test: a real `tributary trader` process killed with SIGKILL at random points and restarted reconciles its stop-loss ladders from the exchange: no lost stops, no second ladder.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coverage, coverageWithin, ladders } from '../trader/stop-loss/ladder-decision.js';
import { Decimal } from '../ts/exact/decimal.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import { packageRoot } from '../ts/package-root.js';
import { exchangeTruth } from './testing/live-trading-rig.js';
import { CollectorRig, eventually } from './testing/system-rig.js';

const CLI = join(packageRoot, 'bin', 'tributary.js');
const KILLS = 8;

/** A small seeded generator, so a failing run can be repeated (the seed is printed). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4_294_967_296;
  };
}

let rig: CollectorRig | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  await rig?.stop();
}, 30_000);

/** Starts `tributary trader` against the rig; resolves once it trades (its ladders are rebuilt by then). */
async function startTrader(r: CollectorRig, config: string, stateDir: string): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    [CLI, 'trader', '--config', config, '--strategy', 'demo', '--state-dir', stateDir, '--status-every', '0'],
    {
      env: {
        PATH: process.env.PATH,
        TRIBUTARY_HUB_KEY: `${r.keys.trader.id}:${r.keys.trader.secret}`,
        BINANCE_API_KEY: r.loaded.secrets.apiKey,
        BINANCE_API_SECRET: r.loaded.secrets.apiSecret,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`trader did not start:\n${output.slice(-3000)}`)),
      // A start can wait up to a window (the exchange's minute, plus the hub's 250 ms) for the
      // weight budget the rig's collectors and earlier starts used.
      75_000,
    );
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"trading"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trader exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
  proc.removeAllListeners('exit');
  return proc;
}

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

async function trade(api: UsdmApi, side: 'BUY' | 'SELL', quantity: string): Promise<void> {
  try {
    await api.newOrder({ symbol: 'BTCUSDT', side, type: 'MARKET', quantity: Decimal.parse(quantity) });
  } catch {
    // A reduce past flat or a refused size changes nothing: the test only needs the position to move.
  }
}

describe('a trader killed with SIGKILL', () => {
  it('reconciles its ladders from the exchange after every restart: no lost stops, no second ladder', async () => {
    const seed = Number(process.env.RISK_KILL_SEED ?? Date.now() % 100_000);
    const next = random(seed);
    rig = await CollectorRig.start({
      collectors: {
        // The user stream brings position changes at once; these pollers only back it up, and at
        // one a second (5 weight each) they took a quarter of the minute's budget from the starts.
        account: { instances: 1, intervalMs: 5000, version: 'v3' },
        positionRisk: { instances: 1, intervalMs: 5000, version: 'v3' },
        tick: { instances: 1, maxPollsPerSecond: 2 },
      },
    });
    const r = rig;
    for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-kill-'));
    const config = join(dir, 'tributary.json');
    // The simulator as a "testnet": the trader sends live orders to it through OrderSender.
    writeFileSync(
      config,
      JSON.stringify({
        exchange: { kind: 'testnet', restUrl: r.sim.restUrl, wsUrl: r.sim.wsUrl },
        hub: { url: r.loaded.config.hub.url, port: r.loaded.config.hub.port },
        trader: { mode: 'testnet', intervals: ['1m'] },
        risk: { stopLoss: { resyncMs: 2000, fullResyncMs: 5000, coverageGraceMs: 3000 } },
      }),
    );
    const stateDir = join(dir, 'state');
    const api = r.api();
    await trade(api, 'BUY', '0.010');
    // Open stops never pass the exchange's limit (the simulator refuses the 11th with -4045).
    let mostStops = 0;
    // A stop is lost when the coverage of a position that has not moved for a while (longer than
    // the trip of a position change through the hub) falls under 95 %.
    let lost = 0;
    let last: { amount: Decimal; since: number; covered: boolean } | undefined;
    // Coverage under 95 % while a trader runs: never longer than the grace.
    let running = false;
    let underSince: number | undefined;
    let worstUnder = 0;
    const watch = setInterval(() => {
      const now = Date.now();
      const t = exchangeTruth(r, 'BTCUSDT');
      mostStops = Math.max(mostStops, t.stops.length);
      const covered =
        t.amount.isZero() || coverage(t.stops, t.amount).gte(t.amount.abs().mul(Decimal.parse('0.95')));
      const since = last?.amount.eq(t.amount) ? last.since : now;
      if (last?.covered && !covered && now - since > 1500) lost += 1;
      last = { amount: t.amount, since, covered };
      if (!running || covered) underSince = undefined;
      else {
        underSince ??= now;
        worstUnder = Math.max(worstUnder, now - underSince);
      }
    }, 20);
    try {
      for (let kill_ = 0; kill_ < KILLS; kill_++) {
        child = await startTrader(r, config, stateDir);
        running = true;
        // At a random moment: change the position (or not), then die at a random point after.
        if (next() < 0.7) {
          const grow = next() < 0.6;
          const lots = 1 + Math.floor(next() * 8);
          await trade(api, grow ? 'BUY' : 'SELL', (lots / 1000).toFixed(3));
        }
        await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 800)));
        running = false;
        await kill(child);
        child = undefined;
        // Sometimes the position moves while no trader runs.
        if (next() < 0.3) await trade(api, 'BUY', '0.002');
      }
      child = await startTrader(r, config, stateDir);
      running = true;
      await eventually(
        () => {
          const t = exchangeTruth(r, 'BTCUSDT');
          if (t.amount.isZero()) return t.stops.length === 0;
          return (
            ladders(t.stops).length === 1 &&
            coverageWithin(
              coverage(t.stops, t.amount),
              t.amount,
              Decimal.parse('0.95'),
              Decimal.parse('1.05'),
            )
          );
        },
        `one ladder covering the position (seed ${seed})`,
        15_000,
      );
    } finally {
      clearInterval(watch);
    }
    // Replacement is make-before-break: old and new stops coexist for a moment, within the limit.
    expect(mostStops, `seed ${seed}`).toBeLessThanOrEqual(10);
    expect(lost, `seed ${seed}`).toBe(0);
    expect(worstUnder, `seed ${seed}`).toBeLessThanOrEqual(3000);
    const t = exchangeTruth(r, 'BTCUSDT');
    expect(t.stops.every((s) => s.symbol === 'BTCUSDT' && s.reduceOnly)).toBe(true);
    expect(r.truth().openAlgoOrders).toBe(t.stops.length);
    await kill(child);
    child = undefined;
  }, 360_000);
});
