// Seed 004: Bollinger bands (15 m, 20 bars, 2σ, ddof 0) on the real-time price, traded by its breakout / fall-back / reverse state machine.
import { z } from 'zod';
import { Decimal } from '../../../ts/exact/decimal.js';
import type { IntervalName } from '../../../ts/native/interval.js';
import type { TickEvent } from '../../engine/events.js';
import { defineStrategy, type Strategy, type StrategyContext, type StrategyState } from '../strategy-api.js';
import { type BollingerState, bollingerStep, meanStd } from './bollinger-machine.js';

const decimalText = z.string().regex(/^\d+(\.\d+)?$/, 'a positive decimal number written as a string');

/** The seed's defaults: BTCUSDT, 15 m bars, 20 of them, 2σ, 50 bars of history at start. */
export const bollingerConfig = z.strictObject({
  symbols: z
    .array(z.string().regex(/^[A-Z0-9_]{2,32}$/))
    .min(1)
    .default(['BTCUSDT']),
  interval: z.enum(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h']).default('15m'),
  period: z.int().min(2).max(500).default(20),
  stdDevs: z.number().positive().max(10).default(2),
  /** History bars the seed fetched at start; the bands need `period`. */
  historyBars: z.int().min(2).max(1000).default(50),
  /** Size of each position in USDT (snapped down to the step). */
  notional: decimalText.default('100'),
});

export type BollingerConfig = z.output<typeof bollingerConfig>;

/**
 * On every new last price: UP/DN from the last `period − 1` closed bars and the real-time price
 * (the bar in progress closes at the current price, as the seed's "real-time BOLL"), then one step
 * of {@link bollingerStep}; a target of ±1/0 becomes ±`notional` USDT or flat (a reversal is a
 * reduce-only close and an open, by the engine). The per-symbol state survives restarts.
 */
export class BollingerStrategy implements Strategy {
  readonly requirements;
  readonly #c: BollingerConfig;
  readonly #notional: Decimal;
  readonly #states = new Map<string, BollingerState>();
  readonly #window: Float64Array;

  constructor(config: BollingerConfig) {
    this.#c = config;
    this.#notional = Decimal.parse(config.notional);
    this.#window = new Float64Array(config.period);
    this.requirements = {
      symbols: config.symbols,
      intervals: [config.interval as IntervalName],
      warmupBars: config.period - 1,
      ticks: true,
    } as const;
  }

  state(symbol: string): BollingerState {
    return this.#states.get(symbol) ?? 'WAIT';
  }

  /** UP and DN for `price` now, or undefined before `period − 1` closed bars exist. */
  bands(
    ctx: StrategyContext,
    symbol: string,
    price: number,
    now: number,
  ): { up: number; dn: number; mid: number } | undefined {
    const series = ctx.market.series(symbol, this.#c.interval as IntervalName);
    if (series === undefined) return undefined;
    const closes = series.values('close');
    const closeTimes = series.values('closeTime');
    let n = closes.length;
    while (n > 0 && (closeTimes[n - 1] as number) >= now) n--; // the bar still open is the live price
    const need = this.#c.period - 1;
    if (n < need) return undefined;
    for (let i = 0; i < need; i++) this.#window[i] = closes[n - need + i] as number;
    this.#window[need] = price;
    const { mean, std } = meanStd(this.#window);
    return { up: mean + this.#c.stdDevs * std, dn: mean - this.#c.stdDevs * std, mid: mean };
  }

  start(ctx: StrategyContext): void {
    for (const symbol of this.#c.symbols) {
      const held = ctx.market.series(symbol, this.#c.interval as IntervalName)?.length ?? 0;
      if (held < this.#c.historyBars)
        ctx.log.info(
          'bollinger: fewer history bars than the seed fetched; bands start once there are enough',
          {
            symbol,
            held,
            wanted: this.#c.historyBars,
          },
        );
    }
  }

  onTick(ctx: StrategyContext, tick: TickEvent): void {
    const bands = this.bands(ctx, tick.symbol, tick.price, tick.time);
    if (bands === undefined) return;
    const step = bollingerStep(this.state(tick.symbol), tick.price, bands.up, bands.dn);
    this.#states.set(tick.symbol, step.state);
    if (step.target === undefined) return;
    const reason = `${step.action} (price ${tick.price}, UP ${bands.up.toFixed(4)}, DN ${bands.dn.toFixed(4)})`;
    if (step.target === 0) {
      ctx.setTarget(tick.symbol, Decimal.ZERO, { reason });
      return;
    }
    const qty = ctx.quantityFor(tick.symbol, this.#notional);
    if (qty !== undefined) ctx.setTarget(tick.symbol, step.target > 0 ? qty : qty.neg(), { reason });
  }

  saveState(): StrategyState {
    return Object.fromEntries(this.#states);
  }

  restoreState(state: StrategyState): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) return;
    for (const [symbol, value] of Object.entries(state))
      if (typeof value === 'string') this.#states.set(symbol, value as BollingerState);
  }
}

export const bollingerStrategy = defineStrategy({
  name: 'bollinger',
  summary: 'seed 004: 15m Bollinger (20, 2σ, ddof 0) breakout / fall-back / reverse on the real-time price',
  config: bollingerConfig,
  create: (config) => new BollingerStrategy(config),
});
