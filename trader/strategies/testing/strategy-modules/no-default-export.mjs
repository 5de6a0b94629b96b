// Test fixture: a strategy module that exports its definition under a name, not as the default export.

export const strategy = {
  name: 'named-only',
  summary: 'exported by name only',
  config: { safeParse: (value) => ({ success: true, data: value }) },
  create: () => ({ requirements: { symbols: [], intervals: ['1m'], warmupBars: 0, ticks: false } }),
};
