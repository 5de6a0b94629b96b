// Property test: random sequences of fills, price moves, owner commands, crashes and faults against the trader's engine and risk side (no network); the invariants hold after every sequence.
// CI runs 40 sequences from a fixed seed; a longer search: RUNS=1000 SEED=<n> npx vitest run app/venues/risk-ladders.property.test.ts
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coverage, coverageWithin, ladders } from '../../trader/stop-loss/ladder-decision.js';
import { defaultRiskSettings, type RiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { isSend, RIG_SYMBOLS, RiskRig } from './testing/risk-rig.js';

type Symbol = (typeof RIG_SYMBOLS)[number];
const LOT: Record<Symbol, Decimal> = { BTCUSDT: Decimal.parse('0.01'), ETHUSDT: Decimal.parse('0.1') };
const BASE: Record<Symbol, Decimal> = { BTCUSDT: Decimal.parse('60000'), ETHUSDT: Decimal.parse('3000') };
const STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
const RANK = { ACTIVE: 0, REDUCING: 1, HALTED: 2 } as const;

type Action =
  | { kind: 'target'; symbol: Symbol; lots: number }
  | { kind: 'move'; symbol: Symbol; permille: number }
  | { kind: 'wait'; ms: number }
  | { kind: 'crash'; downMs: number }
  | { kind: 'owner'; state: (typeof STATES)[number] }
  | { kind: 'fault'; fault: 'unknownAfterPlace' | 'unknownBeforePlace' | 'unknownAfterCancel'; n: number }
  | { kind: 'kill'; at: 'place' | 'placeStop' | 'cancelStop' | 'openStops'; after: number }
  | { kind: 'rateLimit'; ms: number }
  | { kind: 'dropEvents'; ms: number };

const symbol = fc.constantFrom(...RIG_SYMBOLS);
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('target' as const),
      symbol,
      lots: fc.integer({ min: -100, max: 100 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      symbol,
      permille: fc.integer({ min: -90, max: 90 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 50, max: 4000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('crash' as const), downMs: fc.integer({ min: 0, max: 3000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('owner' as const), state: fc.constantFrom(...STATES) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      fault: fc.constantFrom(
        'unknownAfterPlace' as const,
        'unknownBeforePlace' as const,
        'unknownAfterCancel' as const,
      ),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rateLimit' as const),
      ms: fc.integer({ min: 200, max: 5000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('dropEvents' as const),
      ms: fc.integer({ min: 200, max: 5000 }),
    }),
  },
);

function settings(): RiskSettings {
  const s = defaultRiskSettings();
  // Sizes up to 1 BTC and 10 ETH: large enough that close-all (-3,000 USDT) can happen.
  return {
    ...s,
    preTrade: { ...s.preTrade, maxSymbolNotional: '100000', maxTotalNotional: '200000', maxLeverage: '10' },
  };
}

/** State changes as the risk events describe them: `FROM → TO (source)`. */
function transitions(rig: RiskRig): Array<{ from: string; to: string; source: string }> {
  return rig.stateEvents.map((reason) => {
    const m = /^(\w+) → (\w+) \((owner|rule)\)/.exec(reason);
    return { from: m?.[1] ?? '?', to: m?.[2] ?? '?', source: m?.[3] ?? '?' };
  });
}

async function run(actions: readonly Action[]): Promise<void> {
  const rig = new RiskRig(settings());
  await rig.start();
  let running = true;
  for (const a of actions) {
    switch (a.kind) {
      case 'target':
        if (running) rig.target(a.symbol, LOT[a.symbol].mul(Decimal.fromInt(a.lots)));
        break;
      case 'move':
        rig.movePrice(
          a.symbol,
          BASE[a.symbol].mul(Decimal.fromInt(1000 + a.permille)).div(Decimal.fromInt(1000), 8),
        );
        break;
      case 'wait':
        await rig.advance(a.ms);
        break;
      case 'crash':
        if (running) {
          await rig.crash();
          await rig.advance(a.downMs);
          await rig.start();
        }
        break;
      case 'owner':
        if (running) rig.trader.risk.state.setByOwner(a.state, 'property test');
        break;
      case 'fault':
        rig.faults[a.fault] += a.n;
        break;
      case 'kill':
        // SIGKILL at a random point: just before the process's next calls of a kind reach the exchange.
        rig.faults.dieAt = { kind: a.at, after: a.after };
        break;
      case 'rateLimit':
        rig.faults.rateLimitedUntil = rig.clock.now() + a.ms;
        break;
      case 'dropEvents':
        rig.faults.dropEventsUntil = rig.clock.now() + a.ms;
        break;
    }
    running = true;
  }
  // Settle: faults end, the owner lets the trader act, time passes with the market still.
  rig.faults.clear();
  if (rig.trader.risk.state.state === 'HALTED') rig.trader.risk.state.setByOwner('ACTIVE', 'settle');
  const grace = rig.settings.stopLoss.coverageGraceMs;
  const underSince = new Map<string, number>();
  let worst = 0;
  const min = Decimal.parse(rig.settings.stopLoss.minCoverage);
  await rig.advance(30_000, async (now) => {
    const stops = await rig.stops();
    for (const [symbol, row] of rig.truth()) {
      const covered = coverage(
        stops.filter((s) => s.symbol === symbol),
        row.amount,
      );
      if (row.amount.isZero() || covered.gte(row.amount.abs().mul(min))) {
        underSince.delete(symbol);
        continue;
      }
      const since = underSince.get(symbol) ?? now;
      underSince.set(symbol, since);
      worst = Math.max(worst, now - since);
    }
  });

  // No position stayed under-covered past the grace once the faults had ended.
  expect(worst).toBeLessThanOrEqual(grace);
  const stops = await rig.stops();
  for (const [symbol, row] of rig.truth()) {
    const mine = stops.filter((s) => s.symbol === symbol);
    if (row.amount.isZero()) {
      // No orphan: a flat symbol has no stop left.
      expect(mine, `${symbol} flat`).toEqual([]);
      continue;
    }
    // Exactly one ladder, on the closing side, covering 95–105 % of the position.
    expect(ladders(mine).length, `${symbol} ladders`).toBe(1);
    expect(coverageWithin(coverage(mine, row.amount), row.amount, min, Decimal.parse('1.05'))).toBe(true);
  }
  // HALTED sent nothing; REDUCING sent only what reduces.
  const sends = rig.sent.filter(isSend);
  expect(sends.filter((c) => c.state === 'HALTED')).toEqual([]);
  expect(sends.filter((c) => c.state === 'REDUCING' && !c.reduceOnly)).toEqual([]);
  // Rules only ever made the state stricter; only the owner relaxed it.
  for (const t of transitions(rig)) {
    if (t.source === 'rule')
      expect(RANK[t.to as keyof typeof RANK]).toBeGreaterThan(RANK[t.from as keyof typeof RANK]);
  }
  await rig.crash();
}

describe('risk and ladders under random fills, moves, restarts and faults', () => {
  it('keep the invariants', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 3, maxLength: 30 }), (actions) => run(actions)),
      { numRuns: Number(process.env.RUNS ?? 40), seed: Number(process.env.SEED ?? 1414), endOnFailure: true },
    );
  });
});
