// Test fixture: a strategy module whose default export is the definition itself, with the zod the user installed beside it (here the repository's, found the way node finds any package).
import { z } from 'zod';

export default {
  name: 'own-zod',
  summary: 'trades nothing; declares its settings with its own zod (test fixture)',
  config: z.strictObject({ symbol: z.string().default('ETHUSDT'), lookback: z.int().min(1).default(3) }),
  create(config) {
    return {
      requirements: {
        symbols: [config.symbol],
        intervals: ['1m'],
        warmupBars: config.lookback,
        ticks: false,
      },
    };
  },
};
