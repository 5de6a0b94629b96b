// The strategy to copy when writing your own: a moving-average crossover that shows every part of the strategy API (settings, lifecycle, warm-up, bars, ticks, fills, state kept across restarts).
//
// To start your own: copy this folder to `trader/strategies/<name>/`, rename the class, the schema
// and `name` below, change `onBar`, add the definition to `strategies/registry.ts` and the name to
// `ts/config/strategy-names.ts` (the configuration refuses names it does not list), then run it:
//   npx tributary backtest --strategy <name> --strategy-config '{...}' <data files>
// and, in the configuration file, `"trader": { "strategy": "<name>", "strategyConfig": {...} }`.
// A strategy kept outside this repository needs none of that: the same definition as the default
// export of an ES module named by `trader.strategyModule` (`--strategy-module` for a backtest);
// trader/README.md, "Writing a strategy", shows one.
import { z } from 'zod';
import { Decimal } from '../../../ts/exact/decimal.js';
import type { IntervalName } from '../../../ts/native/interval.js';
import type { BarEvent, FillEvent } from '../../engine/events.js';
import {
  defineStrategy,
  type Strategy,
  type StrategyContext,
  type StrategyRequirements,
  type StrategyState,
} from '../strategy-api.js';

const decimalText = z.string().regex(/^\d+(\.\d+)?$/, 'a positive decimal number written as a string');
const symbolName = z.string().regex(/^[A-Z0-9_]{2,32}$/, 'a symbol name such as BTCUSDT');

/**
 * 1. The settings, validated like the rest of the configuration: a setting the schema refuses (or
 *    does not know) stops the trader at start with `trader.strategyConfig.<field>: <why>`. Give
 *    every setting a default so `{}` is a valid configuration.
 */
export const exampleConfig = z
  .strictObject({
    /** Symbols to trade. */
    symbols: z.array(symbolName).min(1).default(['BTCUSDT']),
    /** Bar interval the averages are computed on. */
    interval: z.enum(['1m', '3m', '5m', '15m', '30m', '1h', '4h']).default('1m'),
    /** Closes in the fast and the slow average. */
    fast: z.int().min(1).max(500).default(5),
    slow: z.int().min(2).max(1000).default(20),
    /** Size of a position in USDT (the engine snaps the quantity down to the symbol's step). */
    notional: decimalText.default('100'),
    /** After a position is closed, no new one for this many bars (kept across restarts). */
    cooldownBars: z.int().min(0).max(10_000).default(3),
  })
  .refine((c) => c.fast < c.slow, { message: 'fast must be less than slow', path: ['fast'] });

export type ExampleConfig = z.output<typeof exampleConfig>;

/** What this strategy keeps across a restart, per symbol. */
interface SymbolMemory {
  /** Close time of the bar until which no new position is opened. */
  cooldownUntil: number;
  /** Positions opened so far (for logs). */
  entries: number;
}

/** The mean of the last `n` values of `closes` ending at index `end` (exclusive). */
function mean(closes: Float64Array, end: number, n: number): number {
  let sum = 0;
  for (let i = end - n; i < end; i++) sum += closes[i] as number;
  return sum / n;
}

/**
 * Long while the fast average of closes is above the slow one, flat otherwise; after a close, a
 * cooldown of `cooldownBars` bars before the next entry. Market orders, sized in USDT.
 */
export class ExampleStrategy implements Strategy {
  /**
   * 2. What it needs: the engine subscribes, fetches `warmupBars` of history at start and calls
   *    `onBar` for a series only once it holds that many closed bars. `ticks: false`: no `onTick`
   *    (ticks cost a call per trade in a backtest; ask for them only when the strategy uses them).
   */
  readonly requirements: StrategyRequirements;
  readonly #c: ExampleConfig;
  readonly #notional: Decimal;
  readonly #memory = new Map<string, SymbolMemory>();

  constructor(config: ExampleConfig) {
    this.#c = config;
    this.#notional = Decimal.parse(config.notional);
    this.requirements = {
      symbols: config.symbols,
      intervals: [config.interval as IntervalName],
      warmupBars: config.slow,
      ticks: false,
    };
  }

  /** 3. Once, before the first event; the history is in the series by then, the saved state restored. */
  start(ctx: StrategyContext): void {
    ctx.log.info('example strategy started', {
      symbols: this.#c.symbols.join(','),
      interval: this.#c.interval,
      restoredSymbols: this.#memory.size,
    });
  }

  /**
   * 4. A bar of a required interval closed. Read columns from `ctx.market.series` (live: the
   *    native book's views; backtest: the replay's; never parse), positions from `ctx.account`,
   *    and ask for a position with `ctx.setTarget`: the engine sizes the difference, snaps it,
   *    checks risk and executes it. Asking twice for one bar sends once.
   */
  onBar(ctx: StrategyContext, bar: BarEvent): void {
    const series = ctx.market.series(bar.symbol, bar.interval);
    if (series === undefined) return;
    const closes = series.values('close');
    const closeTimes = series.values('closeTime');
    // The last row may be the bar still open: count closed rows only.
    let end = series.length;
    while (end > 0 && (closeTimes[end - 1] as number) > bar.closeTime) end -= 1;
    if (end < this.#c.slow) return;
    const fast = mean(closes, end, this.#c.fast);
    const slow = mean(closes, end, this.#c.slow);
    const memory = this.#remember(bar.symbol);
    const long = ctx.account.position(bar.symbol).amount.sign() > 0;
    if (!long && fast > slow && bar.closeTime >= memory.cooldownUntil) {
      const quantity = ctx.quantityFor(bar.symbol, this.#notional);
      if (quantity === undefined) return;
      memory.entries += 1;
      ctx.setTarget(bar.symbol, quantity, { reason: `fast ${fast.toFixed(2)} > slow ${slow.toFixed(2)}` });
    } else if (long && fast < slow) {
      memory.cooldownUntil = bar.closeTime + this.#c.cooldownBars * (bar.closeTime + 1 - bar.openTime);
      ctx.setTarget(bar.symbol, Decimal.ZERO, {
        reason: `fast ${fast.toFixed(2)} < slow ${slow.toFixed(2)}`,
      });
    }
  }

  /** 5. One of its orders filled (partly): for bookkeeping; positions are the account's. */
  onFill(ctx: StrategyContext, fill: FillEvent): void {
    ctx.log.info('filled', {
      symbol: fill.symbol,
      side: fill.side,
      quantity: fill.quantity.toString(),
      price: fill.price.toString(),
    });
  }

  /** 6. Once, at shutdown (the engine has finished every order by then). */
  stop(ctx: StrategyContext): void {
    ctx.log.info('example strategy stopped', { symbols: this.#memory.size });
  }

  /**
   * 7. State that survives a restart: returned after every event that called the strategy and
   *    written by the trader to `<state dir>/strategy-<name>.json` (only when it changed); handed
   *    back to `restoreState` before `start` on the next run. Plain JSON only. Leave both out
   *    when the strategy needs nothing but the account's positions and the bars.
   */
  saveState(): StrategyState {
    const out: Record<string, StrategyState> = {};
    for (const [symbol, m] of this.#memory)
      out[symbol] = { cooldownUntil: m.cooldownUntil, entries: m.entries };
    return out;
  }

  restoreState(state: StrategyState): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) return;
    for (const [symbol, value] of Object.entries(state)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const cooldownUntil = Number(value.cooldownUntil);
      const entries = Number(value.entries);
      if (Number.isFinite(cooldownUntil) && Number.isFinite(entries))
        this.#memory.set(symbol, { cooldownUntil, entries });
    }
  }

  /** The memory of `symbol` (for tests and tools). */
  memory(symbol: string): Readonly<SymbolMemory> | undefined {
    return this.#memory.get(symbol);
  }

  #remember(symbol: string): SymbolMemory {
    let memory = this.#memory.get(symbol);
    if (memory === undefined) {
      memory = { cooldownUntil: 0, entries: 0 };
      this.#memory.set(symbol, memory);
    }
    return memory;
  }
}

/** 8. The definition the registry lists: a name, a one-line summary, the schema and a factory. */
export const exampleStrategy = defineStrategy({
  name: 'example',
  summary:
    'the template to copy: fast/slow moving-average crossover, long or flat, cooldown kept across restarts',
  config: exampleConfig,
  create: (config) => new ExampleStrategy(config),
});
