// Test fixture: a user's strategy module kept outside the repository, importing nothing (zod and Decimal come from the kit tributary hands its default export).

/**
 * Buys `quantity` of each symbol at the close of its first bar and closes it at the fifth; counts
 * bars per symbol and keeps the count across restarts (`saveState`).
 */
export default function defineBuyFirstSellFifth({ z, Decimal }) {
  return {
    name: 'buy-first-sell-fifth',
    summary: 'buys on the first bar, sells on the fifth (test fixture)',
    config: z.strictObject({
      symbols: z.array(z.string()).default(['BTCUSDT']),
      quantity: z
        .string()
        .regex(/^\d+(\.\d+)?$/, { error: 'a decimal number written as a string' })
        .default('0.01'),
      sellAtBar: z.int().min(2).default(5),
    }),
    create(config) {
      let bars = {};
      return {
        requirements: { symbols: config.symbols, intervals: ['1m'], warmupBars: 0, ticks: false },
        onBar(ctx, bar) {
          const seen = (bars[bar.symbol] ?? 0) + 1;
          bars = { ...bars, [bar.symbol]: seen };
          if (seen === 1) ctx.setTarget(bar.symbol, Decimal.parse(config.quantity), { reason: 'first bar' });
          if (seen === config.sellAtBar) ctx.setTarget(bar.symbol, Decimal.ZERO, { reason: 'fifth bar' });
        },
        saveState() {
          return { bars };
        },
        restoreState(state) {
          bars = { ...state.bars };
        },
      };
    },
  };
}
