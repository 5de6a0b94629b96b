// Exact decimal numbers for TypeScript code that does money arithmetic (the simulator, order sizing).

/** Thrown when a string is not a plain decimal number or an operation has no exact result. */
export class DecimalError extends Error {
  override readonly name = 'DecimalError';
}

const PLAIN = /^([+-])?(\d+)(?:\.(\d+))?$/;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Rounding for the few operations that cannot be exact (division, rescaling down). */
export type Rounding = 'down' | 'up' | 'half-even' | 'floor' | 'ceil';

/**
 * An exact decimal: `mantissa × 10^-scale` with a bigint mantissa. Immutable. `parse` keeps the
 * input's scale so `toString` gives back the exchange's string ("7.6110" stays "7.6110"); equality
 * and ordering are by value.
 */
export class Decimal {
  static readonly ZERO = new Decimal(0n, 0);
  static readonly ONE = new Decimal(1n, 0);

  private constructor(
    readonly mantissa: bigint,
    readonly scale: number,
  ) {}

  /** From a mantissa and a scale (0…36): `of(12345n, 2)` is 123.45. */
  static of(mantissa: bigint, scale = 0): Decimal {
    if (!Number.isInteger(scale) || scale < 0 || scale > 36) {
      throw new DecimalError(`scale ${scale} is outside 0..36`);
    }
    return new Decimal(mantissa, scale);
  }

  /** Parses a plain decimal string ("-0.0100", "42"); no exponents, no spaces. */
  static parse(text: string): Decimal {
    const m = PLAIN.exec(text);
    if (m === null) {
      throw new DecimalError(`not a decimal number: ${JSON.stringify(text.slice(0, 64))}`);
    }
    const frac = m[3] ?? '';
    if (frac.length > 36) {
      throw new DecimalError(`too many fraction digits in ${JSON.stringify(text.slice(0, 64))}`);
    }
    const digits = BigInt((m[2] ?? '0') + frac);
    return new Decimal(m[1] === '-' ? -digits : digits, frac.length);
  }

  /** Parses, returning `undefined` instead of throwing (for validating request parameters). */
  static tryParse(text: string): Decimal | undefined {
    return PLAIN.test(text) && (text.split('.')[1]?.length ?? 0) <= 36 ? Decimal.parse(text) : undefined;
  }

  /** From a safe integer (counts, milliseconds). */
  static fromInt(value: number | bigint): Decimal {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new DecimalError(`not a safe integer: ${value}`);
    }
    return new Decimal(BigInt(value), 0);
  }

  /** The same value at `scale` digits; exact when growing, rounded by `rounding` when shrinking. */
  rescale(scale: number, rounding: Rounding = 'half-even'): Decimal {
    if (scale === this.scale) return this;
    if (scale > this.scale) return Decimal.of(this.mantissa * pow10(scale - this.scale), scale);
    return Decimal.of(divideRounded(this.mantissa, pow10(this.scale - scale), rounding), scale);
  }

  add(other: Decimal): Decimal {
    const s = Math.max(this.scale, other.scale);
    return new Decimal(this.#at(s) + other.#at(s), s);
  }

  sub(other: Decimal): Decimal {
    const s = Math.max(this.scale, other.scale);
    return new Decimal(this.#at(s) - other.#at(s), s);
  }

  /** Exact product; the scale is the sum of the scales (capped by `normalize` when needed). */
  mul(other: Decimal): Decimal {
    const product = new Decimal(this.mantissa * other.mantissa, this.scale + other.scale);
    return product.scale > 36 ? product.normalize().rescale(36) : product;
  }

  /** Quotient at `scale` digits, rounded by `rounding`. */
  div(other: Decimal, scale: number, rounding: Rounding = 'half-even'): Decimal {
    if (other.mantissa === 0n) throw new DecimalError('division by zero');
    // a/10^sa ÷ b/10^sb = (a·10^(scale+sb-sa)) / b at `scale`
    const shift = scale + other.scale - this.scale;
    const num = shift >= 0 ? this.mantissa * pow10(shift) : this.mantissa;
    const den = shift >= 0 ? other.mantissa : other.mantissa * pow10(-shift);
    return Decimal.of(divideRounded(num, den, rounding), scale);
  }

  neg(): Decimal {
    return new Decimal(-this.mantissa, this.scale);
  }

  abs(): Decimal {
    return this.mantissa < 0n ? this.neg() : this;
  }

  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.mantissa < 0n ? -1 : this.mantissa > 0n ? 1 : 0;
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  cmp(other: Decimal): -1 | 0 | 1 {
    const s = Math.max(this.scale, other.scale);
    const a = this.#at(s);
    const b = other.#at(s);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other: Decimal): boolean {
    return this.cmp(other) === 0;
  }
  lt(other: Decimal): boolean {
    return this.cmp(other) < 0;
  }
  lte(other: Decimal): boolean {
    return this.cmp(other) <= 0;
  }
  gt(other: Decimal): boolean {
    return this.cmp(other) > 0;
  }
  gte(other: Decimal): boolean {
    return this.cmp(other) >= 0;
  }

  static min(a: Decimal, b: Decimal): Decimal {
    return a.lte(b) ? a : b;
  }
  static max(a: Decimal, b: Decimal): Decimal {
    return a.gte(b) ? a : b;
  }

  /** Whether this is a whole multiple of `step` (a tick or lot step). */
  isMultipleOf(step: Decimal): boolean {
    if (step.mantissa <= 0n) throw new DecimalError('step must be positive');
    const s = Math.max(this.scale, step.scale);
    return this.#at(s) % step.#at(s) === 0n;
  }

  /** The nearest multiple of `step` toward zero-or-below (`floor`) or above (`ceil`) etc., at the step's scale or finer. */
  snap(step: Decimal, rounding: Rounding): Decimal {
    if (step.mantissa <= 0n) throw new DecimalError('step must be positive');
    const s = Math.max(this.scale, step.scale);
    const steps = divideRounded(this.#at(s), step.#at(s), rounding);
    return new Decimal(steps * step.#at(s), s).rescale(Math.max(step.scale, 0), 'down');
  }

  /** The same value with trailing fraction zeros removed ("1.500" → "1.5"). */
  normalize(): Decimal {
    let m = this.mantissa;
    let s = this.scale;
    while (s > 0 && m % 10n === 0n) {
      m /= 10n;
      s -= 1;
    }
    return new Decimal(m, s);
  }

  /** The plain decimal string at this value's scale. */
  toString(): string {
    const negative = this.mantissa < 0n;
    const digits = (negative ? -this.mantissa : this.mantissa).toString();
    if (this.scale === 0) return (negative ? '-' : '') + digits;
    const padded = digits.padStart(this.scale + 1, '0');
    const cut = padded.length - this.scale;
    return `${negative ? '-' : ''}${padded.slice(0, cut)}.${padded.slice(cut)}`;
  }

  /** The string at exactly `scale` fraction digits (Binance's fixed-precision fields). */
  toFixed(scale: number, rounding: Rounding = 'half-even'): string {
    return this.rescale(scale, rounding).toString();
  }

  /** A float approximation, for display and statistics only, never for money. */
  toNumber(): number {
    return Number(this.toString());
  }

  toJSON(): string {
    return this.toString();
  }

  #at(scale: number): bigint {
    return scale === this.scale ? this.mantissa : this.mantissa * pow10(scale - this.scale);
  }
}

/** Integer division of `num` by `den` with the given rounding. */
function divideRounded(num: bigint, den: bigint, rounding: Rounding): bigint {
  if (den === 0n) throw new DecimalError('division by zero');
  if (den < 0n) return divideRounded(-num, -den, rounding);
  const q = num / den; // truncates toward zero
  const r = num % den;
  if (r === 0n) return q;
  const negative = num < 0n;
  switch (rounding) {
    case 'down':
      return q;
    case 'up':
      return negative ? q - 1n : q + 1n;
    case 'floor':
      return negative ? q - 1n : q;
    case 'ceil':
      return negative ? q : q + 1n;
    case 'half-even': {
      const twice = (r < 0n ? -r : r) * 2n;
      if (twice < den || (twice === den && q % 2n === 0n)) return q;
      return negative ? q - 1n : q + 1n;
    }
  }
}
