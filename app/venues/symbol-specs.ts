// Simulator symbol specs and the trader's filter fields from one source: the simulator's list, an exchangeInfo, or the data itself.
import type { SymbolSpec } from '../../sim/contracts.js';
import { DEFAULT_SYMBOLS } from '../../sim/symbols.js';
import type { SymbolRuleFields } from '../../trader/execution/symbol-rules.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { ExchangeInfoObject } from '../../ts/native/parse.js';

type SymbolInfo = ExchangeInfoObject['symbols'][number];

/** The filter fields the trader's native filters take, from a simulator spec. */
export function ruleFields(spec: SymbolSpec): SymbolRuleFields {
  return {
    symbol: spec.symbol,
    tickSize: spec.tickSize.toString(),
    minPrice: spec.minPrice.toString(),
    maxPrice: spec.maxPrice.toString(),
    stepSize: spec.stepSize.toString(),
    minQty: spec.minQty.toString(),
    maxQty: spec.maxQty.toString(),
    marketStepSize: spec.marketStepSize.toString(),
    marketMinQty: spec.marketMinQty.toString(),
    marketMaxQty: spec.marketMaxQty.toString(),
    minNotional: spec.minNotional.toString(),
    multiplierUp: spec.multiplierUp.toString(),
    multiplierDown: spec.multiplierDown.toString(),
  };
}

const d = (text: string | undefined | null, fallback: string): Decimal => Decimal.parse(text ?? fallback);

/**
 * A simulator spec from an exchangeInfo symbol. exchangeInfo has no leverage brackets (a signed
 * endpoint), so the first bracket of a large contract is assumed (125×, 0.4 % maintenance);
 * `price` is where the book starts before data sets it.
 */
export function specFromExchangeInfo(info: SymbolInfo, price: Decimal): SymbolSpec {
  return {
    symbol: info.symbol,
    baseAsset: info.baseAsset,
    quoteAsset: 'USDT',
    pricePrecision: info.pricePrecision,
    quantityPrecision: info.quantityPrecision,
    tickSize: d(info.tickSize, '0.01'),
    minPrice: d(info.minPrice, '0'),
    maxPrice: d(info.maxPrice, '100000000'),
    stepSize: d(info.stepSize, '0.001'),
    minQty: d(info.minQty, '0.001'),
    maxQty: d(info.maxQty, '100000000'),
    marketStepSize: d(info.marketStepSize ?? info.stepSize, '0.001'),
    marketMinQty: d(info.marketMinQty ?? info.minQty, '0.001'),
    marketMaxQty: d(info.marketMaxQty ?? info.maxQty, '100000000'),
    minNotional: d(info.minNotional, '5'),
    multiplierUp: d(info.multiplierUp, '1.05'),
    multiplierDown: d(info.multiplierDown, '0.95'),
    maxLeverage: 125,
    maintMarginRatio: Decimal.parse('0.004'),
    initialPrice: price,
  };
}

/**
 * The paper engine's specs of the tradable symbols, each starting at the first price known of: the
 * book's last close (`closeOf`), else a carried-over position's last mark (`carriedMarks`), else a
 * price inside the symbol's filter (maxPrice / 1000). A made-up price must never meet a position:
 * its stops would look passed and close it.
 */
export function paperSpecs(
  tradable: readonly SymbolInfo[],
  closeOf: (symbol: string) => string | undefined,
  carriedMarks: ReadonlyMap<string, string | undefined>,
): SymbolSpec[] {
  return tradable.map((s) => {
    const price = closeOf(s.symbol) ?? carriedMarks.get(s.symbol);
    const fallback = Decimal.parse(s.maxPrice ?? '1000').div(Decimal.fromInt(1000), 8);
    return specFromExchangeInfo(s, price === undefined ? fallback : Decimal.parse(price));
  });
}

/**
 * A spec for a symbol nobody describes (a dump of a contract outside the simulator's list): the
 * tick from the data's price text, the simulator's BTCUSDT lot rules, minimum notional 5 USDT.
 * Said in the report, because the numbers are assumed.
 */
export function specFromPrice(symbol: string, priceText: string): SymbolSpec {
  const price = Decimal.parse(priceText);
  const decimals = priceText.includes('.') ? priceText.length - priceText.indexOf('.') - 1 : 0;
  const tick = Decimal.of(1n, decimals);
  const btc = DEFAULT_SYMBOLS.find((s) => s.symbol === 'BTCUSDT') as SymbolSpec;
  return {
    ...btc,
    symbol,
    baseAsset: symbol.replace(/USDT$|USD_PERP$/, ''),
    pricePrecision: decimals,
    tickSize: tick,
    minPrice: tick,
    maxPrice: price.mul(Decimal.fromInt(100)).snap(tick, 'floor'),
    initialPrice: price,
  };
}

/** The simulator's own spec of `symbol`, if it lists it. */
export function simulatorSpec(symbol: string): SymbolSpec | undefined {
  return DEFAULT_SYMBOLS.find((s) => s.symbol === symbol);
}
