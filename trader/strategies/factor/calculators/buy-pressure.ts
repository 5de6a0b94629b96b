// Example factor: taker-buy share of the last 6 bars' quote volume above one half (buy pressure), demeaned.
import { demean, type FactorCalculator } from '../calculator-api.js';

const LOOKBACK = 6;

export const calculator: FactorCalculator = {
  name: 'buy_pressure_6',
  run(view) {
    const raw: Record<string, number> = {};
    for (const symbol of view.symbols) {
      const bars = view.bars[symbol];
      if (bars === undefined || bars.quoteVolume.length < LOOKBACK) continue;
      let total = 0;
      let buys = 0;
      for (let i = bars.quoteVolume.length - LOOKBACK; i < bars.quoteVolume.length; i++) {
        total += bars.quoteVolume[i] as number;
        buys += bars.takerBuyQuoteVolume[i] as number;
      }
      if (total > 0) raw[symbol] = buys / total - 0.5;
    }
    return demean(raw);
  },
};
