// A symbol's integer units (price ticks, quantity steps) and their exact decimal strings.
import { Decimal } from '../../../ts/exact/decimal.js';
import type { SymbolSpec } from '../../contracts.js';

/**
 * Prices as whole ticks, quantities as whole steps, notionals as tick·step units. The simulator
 * writes every price at `priceScale` digits and every quantity at `qtyScale`, so a sum of
 * price × quantity has `priceScale + qtyScale` digits, exactly as the native aggregator writes it.
 */
export class PriceUnits {
  readonly priceScale: number;
  readonly qtyScale: number;
  /** One tick as a mantissa at `priceScale`, one step at `qtyScale`. */
  readonly tickMantissa: bigint;
  readonly stepMantissa: bigint;
  readonly #tickDecimal: Decimal;
  readonly #stepDecimal: Decimal;

  constructor(spec: SymbolSpec) {
    this.priceScale = Math.max(spec.pricePrecision, spec.tickSize.scale);
    this.qtyScale = Math.max(spec.quantityPrecision, spec.stepSize.scale);
    this.#tickDecimal = spec.tickSize.rescale(this.priceScale);
    this.#stepDecimal = spec.stepSize.rescale(this.qtyScale);
    this.tickMantissa = this.#tickDecimal.mantissa;
    this.stepMantissa = this.#stepDecimal.mantissa;
  }

  /** `ticks` ticks as a price string at `priceScale`. */
  price(ticks: number): string {
    return fixedPoint(BigInt(ticks) * this.tickMantissa, this.priceScale);
  }

  /** `steps` steps as a quantity string at `qtyScale`. */
  qty(steps: bigint): string {
    return fixedPoint(steps * this.stepMantissa, this.qtyScale);
  }

  /** `units` tick·step units as a notional string at `priceScale + qtyScale`. */
  notional(units: bigint): string {
    return fixedPoint(units * this.tickMantissa * this.stepMantissa, this.priceScale + this.qtyScale);
  }

  /** Whole ticks in a price string (rounded half-even onto the grid). */
  ticksOf(text: string): number {
    const value = Decimal.parse(text).div(this.#tickDecimal, 0, 'half-even');
    return Number(value.mantissa);
  }

  /** Whole ticks in a price string, or undefined when it is not on the tick grid (or not positive). */
  exactTicks(text: string): number | undefined {
    const value = Decimal.tryParse(text);
    if (value === undefined || value.sign() <= 0 || !value.isMultipleOf(this.#tickDecimal)) return undefined;
    return Number(value.div(this.#tickDecimal, 0).mantissa);
  }

  /** Whole steps in a quantity string (rounded half-even onto the grid). */
  stepsOf(text: string): bigint {
    return Decimal.parse(text).div(this.#stepDecimal, 0, 'half-even').mantissa;
  }

  /** Whole steps in a quantity string, or undefined when it is not on the step grid (or not positive). */
  exactSteps(text: string): bigint | undefined {
    const value = Decimal.tryParse(text);
    if (value === undefined || value.sign() <= 0 || !value.isMultipleOf(this.#stepDecimal)) return undefined;
    return value.div(this.#stepDecimal, 0).mantissa;
  }

  /** Tick·step units in a notional string. */
  unitsOf(text: string): bigint {
    const unit = this.#tickDecimal.mul(this.#stepDecimal);
    return Decimal.parse(text).div(unit, 0, 'half-even').mantissa;
  }

  /** The price of `ticks` as a Decimal. */
  priceDecimal(ticks: number): Decimal {
    return Decimal.of(BigInt(ticks) * this.tickMantissa, this.priceScale);
  }
}

/** `mantissa / 10^scale` written with exactly `scale` fraction digits. */
export function fixedPoint(mantissa: bigint, scale: number): string {
  const negative = mantissa < 0n;
  const digits = (negative ? -mantissa : mantissa).toString();
  if (scale === 0) return negative ? `-${digits}` : digits;
  const padded = digits.length <= scale ? '0'.repeat(scale - digits.length + 1) + digits : digits;
  const cut = padded.length - scale;
  return `${negative ? '-' : ''}${padded.slice(0, cut)}.${padded.slice(cut)}`;
}
