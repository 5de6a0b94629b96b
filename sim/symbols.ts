// The contracts the simulator lists by default, and validated construction of a SymbolSpec.
import { Decimal } from '../ts/exact/decimal.js';
import type { SymbolSpec } from './contracts.js';

/** A symbol definition that does not hold together; `field` names the offending field. */
export class SymbolSpecError extends Error {
  override readonly name = 'SymbolSpecError';
  constructor(
    readonly symbol: string,
    readonly field: string,
    message: string,
  ) {
    super(`symbol ${symbol}: ${field} ${message}`);
  }
}

/** A symbol definition as written by hand or read from configuration: decimals as strings. */
export interface SymbolSpecInput {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  readonly tickSize: string;
  readonly minPrice: string;
  readonly maxPrice: string;
  readonly stepSize: string;
  readonly minQty: string;
  readonly maxQty: string;
  /** MARKET_LOT_SIZE; the step and minimum default to LOT_SIZE's. */
  readonly marketStepSize?: string;
  readonly marketMinQty?: string;
  readonly marketMaxQty: string;
  readonly minNotional: string;
  readonly multiplierUp: string;
  readonly multiplierDown: string;
  readonly maxLeverage: number;
  readonly maintMarginRatio: string;
  readonly initialPrice: string;
}

/**
 * Builds a {@link SymbolSpec} from strings, checking every filter the way the exchange would need
 * them to hold (positive steps, minimums on their grid, the start price inside PRICE_FILTER, ...).
 * Throws {@link SymbolSpecError} naming the first bad field.
 */
export function symbolSpec(input: SymbolSpecInput): SymbolSpec {
  const symbol = input.symbol;
  const fail = (field: string, message: string): SymbolSpecError =>
    new SymbolSpecError(symbol, field, message);
  if (!/^[A-Z0-9]{1,20}USDT$/.test(symbol))
    throw fail('symbol', 'must be upper-case letters/digits ending in USDT');
  if (`${input.baseAsset}USDT` !== symbol) throw fail('baseAsset', `must be the symbol without USDT`);
  const precision = (field: 'pricePrecision' | 'quantityPrecision'): number => {
    const value = input[field];
    if (!Number.isInteger(value) || value < 0 || value > 12)
      throw fail(field, `must be an integer 0..12, got ${value}`);
    return value;
  };
  const decimal = (field: keyof SymbolSpecInput, text: string | undefined): Decimal => {
    const value = text === undefined ? undefined : Decimal.tryParse(text);
    if (value === undefined) throw fail(field, `is not a decimal number: ${JSON.stringify(text)}`);
    if (value.sign() <= 0) throw fail(field, `must be positive, got ${text}`);
    return value;
  };
  const pricePrecision = precision('pricePrecision');
  const quantityPrecision = precision('quantityPrecision');
  const tickSize = decimal('tickSize', input.tickSize);
  const minPrice = decimal('minPrice', input.minPrice);
  const maxPrice = decimal('maxPrice', input.maxPrice);
  const stepSize = decimal('stepSize', input.stepSize);
  const minQty = decimal('minQty', input.minQty);
  const maxQty = decimal('maxQty', input.maxQty);
  const marketStepSize = decimal('marketStepSize', input.marketStepSize ?? input.stepSize);
  const marketMinQty = decimal('marketMinQty', input.marketMinQty ?? input.minQty);
  const marketMaxQty = decimal('marketMaxQty', input.marketMaxQty);
  const minNotional = decimal('minNotional', input.minNotional);
  const multiplierUp = decimal('multiplierUp', input.multiplierUp);
  const multiplierDown = decimal('multiplierDown', input.multiplierDown);
  const maintMarginRatio = decimal('maintMarginRatio', input.maintMarginRatio);
  const initialPrice = decimal('initialPrice', input.initialPrice);

  if (tickSize.normalize().scale > pricePrecision)
    throw fail('tickSize', `has more decimals than pricePrecision ${pricePrecision}`);
  if (stepSize.normalize().scale > quantityPrecision) {
    throw fail('stepSize', `has more decimals than quantityPrecision ${quantityPrecision}`);
  }
  if (!minPrice.isMultipleOf(tickSize)) throw fail('minPrice', `is not a multiple of tickSize ${tickSize}`);
  if (!maxPrice.gt(minPrice)) throw fail('maxPrice', `must be above minPrice ${minPrice}`);
  if (!minQty.isMultipleOf(stepSize)) throw fail('minQty', `is not a multiple of stepSize ${stepSize}`);
  if (!maxQty.gte(minQty)) throw fail('maxQty', `must be at least minQty ${minQty}`);
  if (!marketMinQty.isMultipleOf(marketStepSize))
    throw fail('marketMinQty', `is not a multiple of marketStepSize`);
  if (!marketMaxQty.gte(marketMinQty))
    throw fail('marketMaxQty', `must be at least marketMinQty ${marketMinQty}`);
  if (!multiplierUp.gt(Decimal.ONE)) throw fail('multiplierUp', 'must be above 1');
  if (!multiplierDown.lt(Decimal.ONE)) throw fail('multiplierDown', 'must be below 1');
  if (!maintMarginRatio.lt(Decimal.ONE)) throw fail('maintMarginRatio', 'must be below 1');
  if (!Number.isInteger(input.maxLeverage) || input.maxLeverage < 1 || input.maxLeverage > 125) {
    throw fail('maxLeverage', `must be an integer 1..125, got ${input.maxLeverage}`);
  }
  if (!initialPrice.isMultipleOf(tickSize)) throw fail('initialPrice', `is not on the tick grid ${tickSize}`);
  if (initialPrice.lt(minPrice) || initialPrice.gt(maxPrice))
    throw fail('initialPrice', 'is outside minPrice..maxPrice');
  return {
    symbol,
    baseAsset: input.baseAsset,
    quoteAsset: 'USDT',
    pricePrecision,
    quantityPrecision,
    tickSize,
    minPrice,
    maxPrice,
    stepSize,
    minQty,
    maxQty,
    marketStepSize,
    marketMinQty,
    marketMaxQty,
    minNotional,
    multiplierUp,
    multiplierDown,
    maxLeverage: input.maxLeverage,
    maintMarginRatio,
    initialPrice: initialPrice.rescale(pricePrecision),
  };
}

/**
 * Six liquid USD-M perpetuals with the filters Binance listed for them in 2025/2026 and start
 * prices near that period's levels.
 */
export const DEFAULT_SYMBOLS: readonly SymbolSpec[] = [
  symbolSpec({
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    pricePrecision: 2,
    quantityPrecision: 3,
    tickSize: '0.10',
    minPrice: '261.10',
    maxPrice: '809484',
    stepSize: '0.001',
    minQty: '0.001',
    maxQty: '1000',
    marketMaxQty: '120',
    minNotional: '100',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: 125,
    maintMarginRatio: '0.004',
    initialPrice: '80000.00',
  }),
  symbolSpec({
    symbol: 'ETHUSDT',
    baseAsset: 'ETH',
    pricePrecision: 2,
    quantityPrecision: 3,
    tickSize: '0.01',
    minPrice: '39.86',
    maxPrice: '306177',
    stepSize: '0.001',
    minQty: '0.001',
    maxQty: '10000',
    marketMaxQty: '2000',
    minNotional: '20',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: 125,
    maintMarginRatio: '0.004',
    initialPrice: '2400.00',
  }),
  symbolSpec({
    symbol: 'BNBUSDT',
    baseAsset: 'BNB',
    pricePrecision: 3,
    quantityPrecision: 2,
    tickSize: '0.010',
    minPrice: '6.600',
    maxPrice: '100000',
    stepSize: '0.01',
    minQty: '0.01',
    maxQty: '100000',
    marketMaxQty: '2000',
    minNotional: '5',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: 75,
    maintMarginRatio: '0.005',
    initialPrice: '640.000',
  }),
  symbolSpec({
    symbol: 'SOLUSDT',
    baseAsset: 'SOL',
    pricePrecision: 4,
    quantityPrecision: 0,
    tickSize: '0.0100',
    minPrice: '0.4200',
    maxPrice: '6857',
    stepSize: '1',
    minQty: '1',
    maxQty: '1000000',
    marketMaxQty: '5000',
    minNotional: '5',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: 100,
    maintMarginRatio: '0.005',
    initialPrice: '150.0000',
  }),
  symbolSpec({
    symbol: 'XRPUSDT',
    baseAsset: 'XRP',
    pricePrecision: 4,
    quantityPrecision: 1,
    tickSize: '0.0001',
    minPrice: '0.0143',
    maxPrice: '100000',
    stepSize: '0.1',
    minQty: '0.1',
    maxQty: '10000000',
    marketMaxQty: '2000000',
    minNotional: '5',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: 75,
    maintMarginRatio: '0.005',
    initialPrice: '2.2000',
  }),
  symbolSpec({
    symbol: 'DOGEUSDT',
    baseAsset: 'DOGE',
    pricePrecision: 6,
    quantityPrecision: 0,
    tickSize: '0.000010',
    minPrice: '0.002440',
    maxPrice: '30',
    stepSize: '1',
    minQty: '1',
    maxQty: '50000000',
    marketMaxQty: '30000000',
    minNotional: '5',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxLeverage: 75,
    maintMarginRatio: '0.005',
    initialPrice: '0.180000',
  }),
];
