// Test fixture: a default export that is not a strategy definition (no name, settings not a zod schema, create not a function).

export default {
  summary: 'missing its name',
  config: { symbols: ['BTCUSDT'] },
  create: 'buy low, sell high',
};
