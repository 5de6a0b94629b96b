import { describe, expect, it } from 'vitest';
import { AbPlanError, parseAbArgs, roundOrder, summariseRate } from './ab-plan.js';

describe('the A/B command line', () => {
  it('reads options and variants, checkouts resolved against the working directory', () => {
    const plan = parseAbArgs(
      [
        '--transport',
        'ws',
        '--rounds',
        '8',
        '--rates',
        '1000,20000',
        'relay=relay',
        'hub=hub',
        'before=hub@../before',
      ],
      '/work/main',
    );
    expect(plan).toEqual({
      transport: 'ws',
      rounds: 8,
      rates: [1000, 20000],
      variants: [
        { label: 'relay', side: 'relay', root: '/work/main' },
        { label: 'hub', side: 'hub', root: '/work/main' },
        { label: 'before', side: 'hub', root: '/work/before' },
      ],
    });
  });

  it.each([
    [['relay=relay'], 'at least two variants'],
    [['a=hub', 'a=relay'], 'labels must differ'],
    [['a=hub', 'b=broker'], 'is not label=hub|relay'],
    [['--rounds', '0', 'a=hub', 'b=relay'], '--rounds must be an integer from 1 to 100, got 0'],
    [['--rates', '1000,2e7', 'a=hub', 'b=relay'], '--rates must be an integer from 1 to 1000000, got 2e7'],
    [['--transport', 'tcp', 'a=hub', 'b=relay'], '--transport must be uws or ws, got tcp'],
    [['--rounds'], '--rounds must be an integer from 1 to 100, got nothing'],
    [['--seed', '1', 'a=hub', 'b=relay'], 'unknown option --seed'],
  ])('refuses %j, naming the argument', (argv, message) => {
    const plan = parseAbArgs(argv, '/work/main');
    expect(plan).toBeInstanceOf(AbPlanError);
    expect((plan as AbPlanError).message).toContain(message);
  });
});

describe('the A/B rounds', () => {
  it('start one variant later each round, so each goes first equally often', () => {
    expect([0, 1, 2, 3].map((round) => roundOrder(round, 3))).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
      [0, 1, 2],
    ]);
  });

  it('are read as medians and ratios to the first variant, round by round', () => {
    const line = summariseRate(
      20000,
      ['relay', 'hub'],
      [
        [100, 200, 150],
        [120, 300, 180],
      ],
      [
        [400, 500, 450],
        [600, 700, 650],
      ],
    );
    expect(line).toBe(
      '20000 msg/s: relay p50 150 µs (1.00×) p99 450 µs [1.00 1.00 1.00] | hub p50 180 µs (1.20×) p99 650 µs [1.20 1.50 1.20]',
    );
  });
});
