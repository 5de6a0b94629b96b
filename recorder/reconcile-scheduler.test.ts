// The recorder's reconciliation schedule against a scripted reconciler: which passes run, merged how, retried when, and when income is read.
import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../ts/alerts/alert.js';
import { Logger, silentLogger } from '../ts/log/logger.js';
import { ReconcileScheduler } from './reconcile-scheduler.js';
import type { ReconcilePlan, ReconcileReport, Reconciler } from './reconciler.js';

/** A reconciler that records each pass and waits for the test to let it finish. */
function scripted() {
  const passes: string[] = [];
  const incomes: number[] = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  let fail = false;
  let incomeSymbols: string[] = [];
  const reconciler = {
    async reconcile(reason: string, plan: ReconcilePlan): Promise<ReconcileReport> {
      passes.push(`${plan.full ? 'full' : 'active'} ${reason} [${[...(plan.seen ?? [])].sort().join(',')}]`);
      await gate;
      if (fail) throw new Error('exchange away');
      return {
        reason,
        full: plan.full,
        since: 0,
        symbols: 1,
        requests: 2,
        differences: reason.includes('gap')
          ? [{ reason, symbol: 'BTCUSDT', orders: 1, fills: 1, income: 0 }]
          : [],
        unlisted: [],
        backfilled: 0,
        algoOrders: 0,
      };
    },
    async income() {
      incomes.push(Date.now());
      return { symbols: new Set(incomeSymbols), inserted: incomeSymbols.length, requests: 1 };
    },
  } as unknown as Reconciler;
  return {
    reconciler,
    passes,
    incomes,
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release: () => release(),
    failing(value: boolean) {
      fail = value;
    },
    incomeNames(symbols: string[]) {
      incomeSymbols = symbols;
    },
  };
}

function scheduler(r: ReturnType<typeof scripted>, positions: () => string[] | undefined = () => []) {
  const alerts: AlertInput[] = [];
  const s = new ReconcileScheduler({
    reconciler: r.reconciler,
    flush: async () => {},
    openPositions: positions,
    reconcileMs: 60_000,
    logger: silentLogger('reconcile'),
    alerts: { raise: (a) => alerts.push(a) },
  });
  return { s, alerts };
}

describe('ReconcileScheduler', () => {
  it('runs nothing without activity, a pass over the active symbols on a tick, and merges requests while one runs', async () => {
    const r = scripted();
    const { s, alerts } = scheduler(r);
    s.tick();
    await s.settled();
    expect(r.passes).toEqual([]);

    s.activity('ETHUSDT', false);
    s.activity('BTCUSDT', true);
    r.hold();
    s.tick();
    // While it runs: more activity, another tick, then a full request: one more run, full.
    s.activity('SOLUSDT', false);
    s.tick();
    s.requestFull('event gap');
    s.tick();
    r.release();
    await s.settled();
    expect(r.passes).toEqual(['active activity [BTCUSDT,ETHUSDT]', 'full event gap [SOLUSDT]']);
    expect(s.counters).toMatchObject({
      reconciliations: 2,
      fullReconciliations: 1,
      differences: 1,
      reconcileRequests: 4,
    });
    expect(alerts.map((a) => a.source)).toEqual(['records.reconciliation']);
  });

  it('keeps the symbols of a failed pass and owes a failed full pass to the next tick', async () => {
    const r = scripted();
    const { s } = scheduler(r);
    r.failing(true);
    s.activity('BTCUSDT', false);
    s.requestFull('start');
    await s.settled();
    expect(s.counters.reconcileFailures).toBe(1);
    r.failing(false);
    s.tick();
    await s.settled();
    expect(r.passes).toEqual(['full start [BTCUSDT]', 'full retry of start [BTCUSDT]']);
    s.tick();
    await s.settled();
    expect(r.passes).toHaveLength(2);
  });

  it('counts no failure and owes no pass for a pass cut short by the stop', async () => {
    const r = scripted();
    const lines: string[] = [];
    const s = new ReconcileScheduler({
      reconciler: r.reconciler,
      flush: async () => {},
      openPositions: () => [],
      reconcileMs: 60_000,
      logger: new Logger('reconcile', { sink: (line) => lines.push(line) }),
    });
    r.hold();
    s.requestFull('start');
    // The process stops while the pass waits; its requests then fail unsent.
    const stopping = s.stop();
    r.failing(true);
    r.release();
    await stopping;
    expect(s.counters.reconcileFailures).toBe(0);
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(lines.some((l) => l.includes('reconciliation left to the next start'))).toBe(true);
  });

  it('reads income after a fill, while a position is open or the account is unknown, and names its symbols for the next pass', async () => {
    const r = scripted();
    let positions: string[] | undefined = [];
    const { s } = scheduler(r, () => positions);
    // The first read: nothing was read yet.
    await s.incomeTick();
    expect(r.incomes).toHaveLength(1);
    // Flat and quiet: nothing to read.
    await s.incomeTick();
    expect(r.incomes).toHaveLength(1);
    // An order event without a fill books nothing.
    s.activity('BTCUSDT', false);
    await s.incomeTick();
    expect(r.incomes).toHaveLength(1);
    s.activity('BTCUSDT', true);
    r.incomeNames(['XRPUSDT']);
    await s.incomeTick();
    expect(r.incomes).toHaveLength(2);
    positions = ['ETHUSDT'];
    await s.incomeTick();
    positions = undefined;
    await s.incomeTick();
    expect(r.incomes).toHaveLength(4);
    s.tick();
    await s.settled();
    expect(r.passes).toEqual(['active activity [BTCUSDT,XRPUSDT]']);
  });
});
