// How Binance writes numbers in USD-M responses: fixed asset precision for money, symbol precision for orders.
import type { Decimal } from '../../ts/exact/decimal.js';

/** USDT amounts (balances, PnL, commission) are written with 8 fraction digits. */
export const MONEY_SCALE = 8;

/** Rounds a USDT amount to Binance's 8 digits (half-even, as the ledger keeps it). */
export function money(value: Decimal): Decimal {
  return value.rescale(MONEY_SCALE, 'half-even');
}

/** A USDT amount as Binance writes it ("12.34000000"). */
export function moneyText(value: Decimal): string {
  return value.toFixed(MONEY_SCALE);
}

/**
 * The value with trailing zeros removed but at least `minScale` fraction digits (avgPrice, entryPrice:
 * "0.38500" stays precise without inventing noise digits).
 */
export function atLeast(value: Decimal, minScale: number): string {
  const normal = value.normalize();
  return normal.scale >= minScale ? normal.toString() : normal.rescale(minScale).toString();
}
