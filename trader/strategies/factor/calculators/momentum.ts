// Example factor: momentum over the last 12 bars (long the risers, short the fallers), demeaned.
import { demean, type FactorCalculator } from '../calculator-api.js';

const LOOKBACK = 12;

export const calculator: FactorCalculator = {
  name: 'momentum_12',
  run(view) {
    const raw: Record<string, number> = {};
    for (const symbol of view.symbols) {
      const close = view.bars[symbol]?.close ?? [];
      if (close.length <= LOOKBACK) continue;
      const then = close[close.length - 1 - LOOKBACK] as number;
      const now = close[close.length - 1] as number;
      if (then > 0) raw[symbol] = now / then - 1;
    }
    return demean(raw);
  },
};
