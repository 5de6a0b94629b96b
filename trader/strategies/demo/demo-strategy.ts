// Seed 000's demo: open long when flat and the 1-minute move is above +1 %; close when it is below −0.5 %.
import { z } from 'zod';
import { Decimal } from '../../../ts/exact/decimal.js';
import type { BarEvent } from '../../engine/events.js';
import { defineStrategy, type Strategy, type StrategyContext } from '../strategy-api.js';

const decimalText = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal number written as a string');

/** The demo's settings; the defaults are the seed's numbers. */
export const demoConfig = z.strictObject({
  /** Symbols to trade (`all`: every symbol of the data source). */
  symbols: z.union([z.literal('all'), z.array(z.string().regex(/^[A-Z0-9_]{2,32}$/)).min(1)]).default('all'),
  /** A closed 1-minute bar whose (close − open) / open is above this opens a long (when flat). */
  openAbove: decimalText.default('0.01'),
  /** ... and below this closes the long. */
  closeBelow: decimalText.default('-0.005'),
  /** Size of a new long in USDT (snapped down to the step by the executor). */
  notional: decimalText.default('100'),
});

export type DemoConfig = z.output<typeof demoConfig>;

/**
 * The seed's demo strategy on closed 1-minute bars: flat and the bar rose more than `openAbove`
 * → buy `notional` USDT; long and the bar fell more than `closeBelow` → sell it all (reduce-only).
 * Bars only, market orders, no state of its own (the position is the account's).
 */
export class DemoStrategy implements Strategy {
  readonly requirements;
  readonly #openAbove: number;
  readonly #closeBelow: number;
  readonly #notional: Decimal;

  constructor(config: DemoConfig) {
    this.requirements = { symbols: config.symbols, intervals: ['1m'], warmupBars: 1, ticks: false } as const;
    this.#openAbove = Number(config.openAbove);
    this.#closeBelow = Number(config.closeBelow);
    this.#notional = Decimal.parse(config.notional);
  }

  /** The bar's move, (close − open) / open. */
  static move(bar: Pick<BarEvent, 'open' | 'close'>): number {
    return bar.open > 0 ? (bar.close - bar.open) / bar.open : 0;
  }

  onBar(ctx: StrategyContext, bar: BarEvent): void {
    const move = DemoStrategy.move(bar);
    const position = ctx.account.position(bar.symbol).amount;
    if (position.isZero() && move > this.#openAbove) {
      const qty = ctx.quantityFor(bar.symbol, this.#notional);
      if (qty !== undefined)
        ctx.setTarget(bar.symbol, qty, { reason: `1m move ${(move * 100).toFixed(3)}% > open` });
    } else if (position.sign() > 0 && move < this.#closeBelow) {
      ctx.setTarget(bar.symbol, Decimal.ZERO, { reason: `1m move ${(move * 100).toFixed(3)}% < close` });
    }
  }
}

export const demoStrategy = defineStrategy({
  name: 'demo',
  summary: 'seed 000: long when flat and the 1m move > +1 %, close when < −0.5 %',
  config: demoConfig,
  create: (config) => new DemoStrategy(config),
});
