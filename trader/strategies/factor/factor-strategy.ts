// Seed 002's long/short factor engine: calculators found in a folder, run concurrently in a piscina pool, summed, normalised, sized with the capital.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { z } from 'zod';
import { Decimal } from '../../../ts/exact/decimal.js';
import type { IntervalName } from '../../../ts/native/interval.js';
import type { BarEvent } from '../../engine/events.js';
import { defineStrategy, type Strategy, type StrategyContext } from '../strategy-api.js';
import type { FactorView } from './calculator-api.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The factor engine's settings (seed 002: 5-minute calculations, calculators discovered unless listed). */
export const factorConfig = z.strictObject({
  symbols: z.union([z.literal('all'), z.array(z.string().regex(/^[A-Z0-9_]{2,32}$/)).min(2)]).default('all'),
  interval: z.enum(['1m', '5m', '15m', '30m', '1h', '4h']).default('5m'),
  /** Bars handed to the calculators. */
  history: z.int().min(2).max(1000).default(48),
  /** Folder of calculator modules (default: the built-in `calculators/`). */
  folder: z.string().min(1).optional(),
  /** Calculator names to use (default: every one found). */
  enabled: z.array(z.string()).optional(),
  /** Worker threads (default: one per calculator, at most 4). */
  maxThreads: z.int().min(1).max(64).optional(),
  /** Gross exposure as a share of equity: Σ|position notional| = grossLeverage × equity. */
  grossLeverage: z.number().positive().max(20).default(1),
});

export type FactorConfig = z.output<typeof factorConfig>;

/** The calculator modules of `folder` (`.js` next to a build, `.ts` in sources), sorted by file name. */
export function discoverCalculators(folder: string): string[] {
  const own = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return readdirSync(folder)
    .filter((f) => f.endsWith(own) && !f.endsWith(`.test${own}`) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => pathToFileURL(join(folder, f)).href);
}

/** Sums weight maps and scales them so Σ|w| = 1 (empty when every weight is zero). */
export function combineWeights(parts: ReadonlyArray<Record<string, number>>): Map<string, number> {
  const sum = new Map<string, number>();
  for (const part of parts)
    for (const [symbol, w] of Object.entries(part))
      if (Number.isFinite(w)) sum.set(symbol, (sum.get(symbol) ?? 0) + w);
  const gross = [...sum.values()].reduce((a, w) => a + Math.abs(w), 0);
  if (!(gross > 0)) return new Map();
  const out = new Map<string, number>();
  for (const [symbol, w] of [...sum.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
    out.set(symbol, w / gross);
  return out;
}

/**
 * On each close of `interval` once every followed symbol's bar for that close is in: a view of the
 * last `history` bars, every calculator run on it concurrently in a piscina worker pool, the
 * weights summed and normalised to Σ|w| = 1, then each symbol's target = w × grossLeverage ×
 * equity / price (symbols left out go flat).
 */
export class FactorStrategy implements Strategy {
  readonly requirements;
  readonly #c: FactorConfig;
  readonly #modules: string[];
  readonly #pool: Piscina;
  readonly #seen = new Map<number, Set<string>>();
  lastWeights: Map<string, number> = new Map();

  constructor(config: FactorConfig) {
    this.#c = config;
    const folder = config.folder ?? join(HERE, 'calculators');
    this.#modules = discoverCalculators(folder);
    if (this.#modules.length === 0) throw new Error(`no factor calculators in ${folder}`);
    this.requirements = {
      symbols: config.symbols,
      intervals: [config.interval as IntervalName],
      warmupBars: 2,
      ticks: false,
    } as const;
    const worker = join(HERE, `factor-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`);
    this.#pool = new Piscina({
      filename: pathToFileURL(worker).href,
      maxThreads: config.maxThreads ?? Math.min(4, this.#modules.length),
      minThreads: 1,
    });
  }

  async onBar(ctx: StrategyContext, bar: BarEvent): Promise<void> {
    const symbols = this.#symbols(ctx);
    const seen = this.#seen.get(bar.closeTime) ?? new Set<string>();
    seen.add(bar.symbol);
    this.#seen.set(bar.closeTime, seen);
    if (seen.size < symbols.length) return;
    this.#seen.delete(bar.closeTime);
    const view = this.#view(ctx, symbols, bar.closeTime);
    const results = await Promise.all(this.#modules.map((module) => this.#pool.run({ module, view })));
    const enabled = this.#c.enabled;
    const parts = results.filter((r: { name: string }) => enabled === undefined || enabled.includes(r.name));
    this.lastWeights = combineWeights(parts.map((r: { weights: Record<string, number> }) => r.weights));
    const equity = ctx.account.equity();
    if (equity === undefined) return;
    const gross = equity.mul(Decimal.parse(this.#c.grossLeverage.toFixed(6)));
    for (const symbol of symbols) {
      const w = this.lastWeights.get(symbol) ?? 0;
      const notional = gross.mul(Decimal.parse(w.toFixed(10)));
      const qty = notional.isZero() ? Decimal.ZERO : ctx.quantityFor(symbol, notional.abs());
      if (qty === undefined) continue;
      const target = notional.sign() < 0 ? qty.neg() : qty;
      if (!target.eq(ctx.account.position(symbol).amount))
        ctx.setTarget(symbol, target, { reason: `factor weight ${w.toFixed(4)}` });
    }
  }

  async stop(): Promise<void> {
    await this.#pool.close();
  }

  #symbols(ctx: StrategyContext): string[] {
    const wanted = this.#c.symbols;
    return wanted === 'all' ? [...ctx.market.symbols()] : [...wanted];
  }

  #view(ctx: StrategyContext, symbols: readonly string[], time: number): FactorView {
    const bars: Record<string, FactorView['bars'][string]> = {};
    for (const symbol of symbols) {
      const s = ctx.market.series(symbol, this.#c.interval as IntervalName);
      if (s === undefined) continue;
      const closeTimes = s.values('closeTime');
      let n = s.length;
      while (n > 0 && (closeTimes[n - 1] as number) > time) n--;
      const from = Math.max(0, n - this.#c.history);
      const take = (col: 'close' | 'volume' | 'quoteVolume' | 'takerBuyQuoteVolume') =>
        Array.from(s.values(col).subarray(from, n));
      bars[symbol] = {
        close: take('close'),
        volume: take('volume'),
        quoteVolume: take('quoteVolume'),
        takerBuyQuoteVolume: take('takerBuyQuoteVolume'),
      };
    }
    return { time, interval: this.#c.interval, symbols, bars };
  }
}

export const factorStrategy = defineStrategy({
  name: 'factor',
  summary: 'seed 002: calculators from a folder in a piscina pool, summed, Σ|w| = 1, sized with the equity',
  config: factorConfig,
  create: (config) => new FactorStrategy(config),
});
