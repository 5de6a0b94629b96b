import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import { SymbolRules } from '../execution/symbol-rules.js';
import type { SignalEvent } from './events.js';
import { TargetPlanner } from './target-planner.js';

const signal = (target: string): SignalEvent => ({
  type: 'signal',
  key: { strategy: 'test', symbol: 'XUSDT', time: 1 },
  target: Decimal.parse(target),
  execution: { kind: 'market' },
  reason: 'test',
});

describe('TargetPlanner and absurd exchange filters', () => {
  it('a market maxQty below one step skips the leg instead of splitting it forever', () => {
    // Well-formed exchangeInfo, absurd values: at most 0.5 per market order, in steps of 1.
    const rules = new SymbolRules([
      {
        symbol: 'XUSDT',
        stepSize: '1',
        minQty: '1',
        maxQty: '1000',
        marketStepSize: '1',
        marketMaxQty: '0.5',
      },
    ]);
    const planner = new TargetPlanner(rules, silentLogger('planner'));
    const intents = planner.plan(signal('3'), Decimal.ZERO, Decimal.parse('10'));
    expect(intents).toEqual([]);
    expect(planner.skippedCount).toBe(1);
    expect(planner.recentSkipped[0]?.reason).toMatch(/maxQty/);
  });

  it('a maxQty so small that a leg would take hundreds of orders skips the leg', () => {
    const rules = new SymbolRules([{ symbol: 'XUSDT', stepSize: '1', minQty: '1', maxQty: '1' }]);
    const planner = new TargetPlanner(rules, silentLogger('planner'));
    expect(planner.plan(signal('500'), Decimal.ZERO, Decimal.parse('10'))).toEqual([]);
    expect(planner.recentSkipped[0]?.reason).toMatch(/more than 100 orders/);
  });

  it('a leg above maxQty is still split into pieces on the step', () => {
    const rules = new SymbolRules([{ symbol: 'XUSDT', stepSize: '1', minQty: '1', maxQty: '2' }]);
    const planner = new TargetPlanner(rules, silentLogger('planner'));
    const intents = planner.plan(signal('5'), Decimal.ZERO, Decimal.parse('10'));
    expect(intents.map((i) => i.quantity.toString())).toEqual(['2', '2', '1']);
  });

  it('splits a leg above maxQty into near-equal pieces, so no remainder falls under minQty', () => {
    // 1.005 at most 1 a piece: [1, 0.005] would leave a piece under the 0.01 minQty, refused.
    const rules = new SymbolRules([{ symbol: 'XUSDT', stepSize: '0.001', minQty: '0.01', maxQty: '1' }]);
    const planner = new TargetPlanner(rules, silentLogger('planner'));
    const intents = planner.plan(signal('1.005'), Decimal.ZERO, Decimal.parse('10'));
    expect(intents.map((i) => i.quantity.toString())).toEqual(['0.503', '0.502']);
    expect(planner.skippedCount).toBe(0);
  });
});

describe('TargetPlanner over a long run', () => {
  it('warns once a symbol a minute and keeps a bounded list of skipped legs, counting them all', () => {
    const rules = new SymbolRules([{ symbol: 'XUSDT', stepSize: '1', minQty: '1', maxQty: '1000' }]);
    const lines: string[] = [];
    let now = 1_000;
    const planner = new TargetPlanner(
      rules,
      new Logger('planner', { sink: (line) => lines.push(line) }),
      () => now,
    );
    // A strategy asking for a third of a step on every tick (every leg snaps to zero), its signals
    // named by the times of bars an hour apart, as at a start that goes over past bars.
    const at = (time: number): SignalEvent => ({ ...signal('0.3'), key: { ...signal('0.3').key, time } });
    for (let i = 0; i < 1_000; i++) {
      now = 1_000 + i * 50;
      planner.plan(at(i * 3_600_000), Decimal.ZERO, Decimal.parse('10'));
    }
    expect(planner.skippedCount).toBe(1_000);
    expect(planner.recentSkipped).toHaveLength(100);
    const warnings = lines.filter((l) => l.includes('order leg skipped'));
    // 1,000 ticks over 50 s: the first is written, the other 999 held back until a minute has passed.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('below one step');
    now = 61_000;
    planner.plan(at(0), Decimal.ZERO, Decimal.parse('10'));
    const after = lines.filter((l) => l.includes('order leg skipped'));
    expect(after).toHaveLength(2);
    expect(JSON.parse(after[1] ?? '{}')).toMatchObject({ symbol: 'XUSDT', suppressed: 999 });
  });
});

describe('TargetPlanner without a reference price', () => {
  it('plans the reduce-only legs of a symbol with no price (market or post-only), never an opening leg', () => {
    const rules = new SymbolRules([
      { symbol: 'XUSDT', tickSize: '0.01', stepSize: '1', minQty: '1', maxQty: '1000', minNotional: '5' },
    ]);
    const planner = new TargetPlanner(rules, silentLogger('planner'));
    const close = planner.plan(signal('0'), Decimal.parse('3'), undefined);
    expect(close.map((i) => `${i.side} ${i.quantity.toString()} ${i.reduceOnly}`)).toEqual(['SELL 3 true']);
    expect(close[0]?.referencePrice).toBeUndefined();
    const postOnly = planner.plan(
      { ...signal('0'), execution: { kind: 'post-only' } },
      Decimal.parse('-2'),
      undefined,
    );
    expect(postOnly.map((i) => `${i.side} ${i.quantity.toString()} ${i.reduceOnly}`)).toEqual(['BUY 2 true']);
    // A flip: the close leg goes, the opening leg cannot be sized.
    const flip = planner.plan(signal('-4'), Decimal.parse('3'), undefined);
    expect(flip.map((i) => `${i.side} ${i.quantity.toString()} ${i.reduceOnly}`)).toEqual(['SELL 3 true']);
    expect(planner.recentSkipped.at(-1)?.reason).toMatch(/^no price/);
  });
});
