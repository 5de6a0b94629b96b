// The factor calculator API (seed 002): one file per calculator in `calculators/`, each a pure function of the bars.

/** What a calculator sees: the last bars of every symbol as plain arrays (it runs in a worker thread). */
export interface FactorView {
  /** Close time of the bars that triggered the computation. */
  readonly time: number;
  readonly interval: string;
  readonly symbols: readonly string[];
  /** Per symbol, oldest first, closed bars only. */
  readonly bars: Readonly<
    Record<
      string,
      {
        readonly close: readonly number[];
        readonly volume: readonly number[];
        readonly quoteVolume: readonly number[];
        readonly takerBuyQuoteVolume: readonly number[];
      }
    >
  >;
}

/**
 * A factor: a unique name and a function from the view to raw weights per symbol (any scale, any
 * sign: the engine sums the calculators' weights and normalises Σ|w| to 1). A calculator module
 * exports it as `calculator`; the factor strategy finds every module in its folder.
 */
export interface FactorCalculator {
  readonly name: string;
  run(view: FactorView): Record<string, number>;
}

/** Weights minus their mean: a market-neutral long/short book. */
export function demean(weights: Record<string, number>): Record<string, number> {
  const values = Object.values(weights).filter(Number.isFinite);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const out: Record<string, number> = {};
  for (const [symbol, w] of Object.entries(weights)) if (Number.isFinite(w)) out[symbol] = w - mean;
  return out;
}
