// The configuration's list of strategies (ts/ may not import trader/) against the trader's registry: the two must name the same kinds.
import { describe, expect, it } from 'vitest';
import { strategyDefinitions } from '../../trader/strategies/registry.js';
import { STRATEGY_NAMES } from '../../ts/config/strategy-names.js';

describe('the strategy names the configuration accepts', () => {
  it('are exactly the strategies the trader defines (a new one goes in ts/config/strategy-names.ts too)', () => {
    const defined = strategyDefinitions().map((definition) => definition.name);
    expect([...defined].sort()).toEqual([...STRATEGY_NAMES].sort());
  });
});
