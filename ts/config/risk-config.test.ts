import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { readTributaryConfig } from './tributary-config.js';

function problems(risk: unknown): string[] {
  try {
    readTributaryConfig({ risk }, 'test');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('the risk section', () => {
  it('takes partial sections, keeping the other defaults', () => {
    const config = readTributaryConfig(
      { risk: { stopLoss: { rungs: 3 }, orderTimeouts: { rules: [{ prefix: 'x_', maxAgeMs: 1000 }] } } },
      'test',
    );
    expect(config.risk.stopLoss).toMatchObject({ rungs: 3, firstPercent: '5', stepPercent: '0.5' });
    expect(config.risk.orderTimeouts.rules).toEqual([{ prefix: 'x_', maxAgeMs: 1000, takerShare: '0' }]);
    expect(config.risk.lossGuard.forceClosePercent).toBe('7');
  });

  it('names each bad value: losses must be negative, shares between 0 and 1, money as strings', () => {
    expect(
      problems({
        banList: { symbol4h: '150' },
        preTrade: { openingOrderShare: '1.5', maxLeverage: 5 },
        lossGuard: { forceClosePercent: '-7' },
        stopLoss: { workingType: 'LAST', unknown: 1 },
      }),
    ).toEqual([
      'risk.banList.symbol4h: must be a negative decimal number written as a string (a loss), got "150"',
      'risk.preTrade.maxLeverage: must be a decimal number written as a string, got 5',
      'risk.preTrade.openingOrderShare: must be a share from "0" to "1" written as a string, got "1.5"',
      'risk.lossGuard.forceClosePercent: must be a positive decimal number written as a string, got "-7"',
      'risk.stopLoss.workingType: must be one of MARK_PRICE, CONTRACT_PRICE, got "LAST"',
      'risk.stopLoss.unknown: is not a known option',
    ]);
  });

  it('refuses stop-loss settings under which no ladder could ever stand', () => {
    // A new ladder covers all of |position|: a maxCoverage under 1 would replace it at every check.
    expect(problems({ stopLoss: { maxCoverage: '0.9' } })).toEqual([
      'risk.stopLoss.maxCoverage: must be at least "1" (a new ladder covers the whole position), got "0.9"',
    ]);
    // The deepest rung 100 % or more below a long's entry has no price: longs would get no stops at all.
    expect(problems({ stopLoss: { firstPercent: '98', stepPercent: '0.5', rungs: 5 } })).toEqual([
      'risk.stopLoss.firstPercent: firstPercent + (rungs - 1) × stepPercent must be under 100, got 100',
    ]);
    expect(problems({ stopLoss: { firstPercent: '97', stepPercent: '0.5', rungs: 5 } })).toEqual([]);
  });

  it('bounds the wait of ladders queued behind the order-rate limit by queuedGraceMs, at least the grace', () => {
    expect(readTributaryConfig({}, 'test').risk.stopLoss.queuedGraceMs).toBe(300_000);
    const set = readTributaryConfig({ risk: { stopLoss: { queuedGraceMs: 900_000 } } }, 'test');
    expect(set.risk.stopLoss.queuedGraceMs).toBe(900_000);
    // Equal to the grace: queued ladders alert as soon as any other.
    expect(problems({ stopLoss: { coverageGraceMs: 5000, queuedGraceMs: 5000 } })).toEqual([]);
    expect(problems({ stopLoss: { queuedGraceMs: 7_200_000 } })).toEqual([
      'risk.stopLoss.queuedGraceMs: must be an integer from 100 to 3600000, got 7200000',
    ]);
    expect(problems({ stopLoss: { queuedGraceMs: 50 } })).toEqual([
      'risk.stopLoss.queuedGraceMs: must be an integer from 100 to 3600000, got 50',
      'risk.stopLoss.queuedGraceMs: queuedGraceMs must be at least coverageGraceMs (5000), got 50',
    ]);
    // Under the grace it would be raised to the grace in silence: refused, naming both.
    expect(problems({ stopLoss: { coverageGraceMs: 10_000, queuedGraceMs: 4000 } })).toEqual([
      'risk.stopLoss.queuedGraceMs: queuedGraceMs must be at least coverageGraceMs (10000), got 4000',
    ]);
  });

  it('refuses more ladder rungs than maxOpenStops, naming both', () => {
    expect(problems({ stopLoss: { rungs: 12 } })).toEqual([
      'risk.stopLoss.rungs: rungs must be at most maxOpenStops (10), got 12',
    ]);
    expect(problems({ stopLoss: { rungs: 12, maxOpenStops: 12 } })).toEqual([]);
  });

  it('refuses an order-timeout rule that an earlier prefix always wins over', () => {
    expect(
      problems({
        orderTimeouts: {
          rules: [
            { prefix: 'm', maxAgeMs: 2500 },
            { prefix: 'm_', maxAgeMs: 1000 },
            { prefix: 'MC', maxAgeMs: 60000 },
            { prefix: 'MC', maxAgeMs: 1000 },
          ],
        },
      }),
    ).toEqual([
      'risk.orderTimeouts.rules[1].prefix: never applies: rules[0] ("m") matches every id it matches (the first matching prefix wins)',
      'risk.orderTimeouts.rules[3].prefix: never applies: rules[2] ("MC") matches every id it matches (the first matching prefix wins)',
    ]);
  });
});
