// Test fixture: a strategy module whose strategy takes the name of a built-in one.

export default ({ z }) => ({
  name: 'demo',
  summary: 'a second demo',
  config: z.strictObject({}),
  create: () => ({ requirements: { symbols: ['BTCUSDT'], intervals: ['1m'], warmupBars: 0, ticks: false } }),
});
