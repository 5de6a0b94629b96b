// More contracts beyond the built-in six, generated deterministically, to run the real universe size (600+).
import { Decimal } from '../ts/exact/decimal.js';
import type { SymbolSpec } from './contracts.js';
import { mixHash } from './market/prng.js';
import { DEFAULT_SYMBOLS, symbolSpec } from './symbols.js';

/** The most contracts a universe can list (Binance lists about 600 USDT perpetuals). */
export const MAX_UNIVERSE = 2_000;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Leverage caps and first-bracket maintenance margin ratios of mid and small caps. */
const TIERS = [
  { maxLeverage: 75, mmr: '0.0050' },
  { maxLeverage: 50, mmr: '0.0100' },
  { maxLeverage: 25, mmr: '0.0200' },
  { maxLeverage: 20, mmr: '0.0250' },
] as const;

function pow10(exponent: number): string {
  return exponent >= 0 ? `1${'0'.repeat(exponent)}` : `0.${'0'.repeat(-exponent - 1)}1`;
}

/** The base asset of synthetic contract `index`: `X` and three letters (XAAA, XAAB, ...). */
export function syntheticBase(index: number): string {
  let name = '';
  let n = index;
  for (let i = 0; i < 3; i++) {
    name = (LETTERS[n % 26] ?? 'A') + name;
    n = Math.floor(n / 26);
  }
  return `X${name}`;
}

/**
 * Synthetic contract `index` (0-based): a start price log-uniform from 0.0001 to 50,000 USDT, a tick
 * of about 1/10,000 of it, a step worth at most about 5 USDT, Binance's usual filters, and one of
 * the mid/small-cap leverage tiers. The same index always gives the same contract.
 */
export function syntheticSymbol(index: number): SymbolSpec {
  const h = mixHash(0x0a11ce, index);
  const logPrice = -4 + (8.7 * (h % 100_000)) / 100_000;
  const tickExp = Math.floor(logPrice) - 4;
  const tick = pow10(tickExp);
  const priceDigits = Math.max(0, -tickExp);
  const start = Decimal.parse((10 ** logPrice).toPrecision(6)).snap(Decimal.parse(tick), 'half-even');
  const initial = Decimal.max(start, Decimal.parse(tick).mul(Decimal.fromInt(1000)));
  const stepExp = Math.min(0, Math.floor(Math.log10(5 / initial.toNumber())));
  const step = pow10(stepExp);
  const qtyDigits = Math.max(0, -stepExp);
  const tier = TIERS[(h >>> 17) % TIERS.length] ?? TIERS[0];
  const maxQty = Decimal.parse(step).mul(Decimal.fromInt(10_000_000));
  const base = syntheticBase(index);
  return symbolSpec({
    symbol: `${base}USDT`,
    baseAsset: base,
    pricePrecision: priceDigits,
    quantityPrecision: qtyDigits,
    tickSize: tick,
    minPrice: tick,
    maxPrice: initial.mul(Decimal.fromInt(1000)).snap(Decimal.parse(tick), 'floor').toString(),
    stepSize: step,
    minQty: step,
    maxQty: maxQty.toString(),
    marketMaxQty: maxQty.div(Decimal.fromInt(10), qtyDigits).toString(),
    minNotional: '5',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: tier.maxLeverage,
    maintMarginRatio: tier.mmr,
    initialPrice: initial.toFixed(priceDigits),
  });
}

/** The listed contracts of a universe of `size`: the built-in six first, then synthetic ones. */
export function universe(size: number): SymbolSpec[] {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_UNIVERSE) {
    throw new RangeError(`universe size must be an integer 1..${MAX_UNIVERSE}, got ${size}`);
  }
  const out = DEFAULT_SYMBOLS.slice(0, size);
  for (let i = 0; out.length < size; i++) out.push(syntheticSymbol(i));
  return out;
}
