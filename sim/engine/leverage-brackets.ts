// Notional and leverage brackets of a symbol: the leverage allowed and the maintenance margin by position size.
import { Decimal } from '../../ts/exact/decimal.js';
import type { SymbolSpec } from '../contracts.js';

/** One bracket as GET /fapi/v1/leverageBracket lists it; notionals in USDT. */
export interface LeverageBracket {
  readonly bracket: number;
  readonly initialLeverage: number;
  readonly notionalFloor: Decimal;
  readonly notionalCap: Decimal;
  readonly maintMarginRatio: Decimal;
  /** Maintenance amount: `notional × maintMarginRatio − cum` is the bracket's maintenance margin. */
  readonly cum: Decimal;
}

type Row = readonly [leverage: number, cap: number, mmr: string];

/** BTCUSDT's and ETHUSDT's brackets (Binance's 2025 table for the majors). */
const MAJORS: readonly Row[] = [
  [125, 50_000, '0.004'],
  [100, 600_000, '0.005'],
  [75, 3_000_000, '0.0065'],
  [50, 12_000_000, '0.01'],
  [25, 70_000_000, '0.02'],
  [20, 100_000_000, '0.025'],
  [10, 230_000_000, '0.05'],
  [5, 480_000_000, '0.1'],
  [4, 600_000_000, '0.125'],
  [3, 800_000_000, '0.15'],
  [2, 1_200_000_000, '0.25'],
  [1, 1_800_000_000, '0.5'],
];

/** The ladder of mid and small caps; a symbol starts at its own maximum leverage. */
const LADDER: readonly Row[] = [
  [75, 5_000, '0.005'],
  [50, 25_000, '0.01'],
  [25, 100_000, '0.02'],
  [20, 250_000, '0.025'],
  [10, 1_000_000, '0.05'],
  [5, 3_000_000, '0.1'],
  [4, 5_000_000, '0.125'],
  [2, 8_000_000, '0.25'],
  [1, 10_000_000, '0.5'],
];

const cache = new Map<string, readonly LeverageBracket[]>();

/**
 * A symbol's brackets: the majors' table for BTCUSDT and ETHUSDT, else the ladder from the symbol's
 * maximum leverage and first maintenance margin ratio (its exchangeInfo values) down to 1×. `cum`
 * makes the maintenance margin continuous at every floor: `cum_n = cum_{n−1} + floor_n × (mmr_n − mmr_{n−1})`.
 */
export function bracketsFor(spec: SymbolSpec): readonly LeverageBracket[] {
  const found = cache.get(spec.symbol);
  if (found !== undefined) return found;
  let rows: Row[];
  if (spec.symbol === 'BTCUSDT' || spec.symbol === 'ETHUSDT') {
    rows = MAJORS.filter(([lev]) => lev <= spec.maxLeverage);
  } else {
    const first = spec.maintMarginRatio;
    const rest = LADDER.filter(([lev, , mmr]) => lev < spec.maxLeverage && Decimal.parse(mmr).gt(first));
    rows = [[spec.maxLeverage, LADDER[0]?.[1] ?? 5_000, first.toString()], ...rest];
  }
  const out: LeverageBracket[] = [];
  let floor = Decimal.ZERO;
  let cum = Decimal.ZERO;
  let previousMmr = Decimal.ZERO;
  rows.forEach(([leverage, cap, mmrText], i) => {
    const mmr = i === 0 ? spec.maintMarginRatio : Decimal.parse(mmrText);
    cum = cum.add(floor.mul(mmr.sub(previousMmr)));
    out.push({
      bracket: i + 1,
      initialLeverage: leverage,
      notionalFloor: floor,
      notionalCap: Decimal.fromInt(cap),
      maintMarginRatio: mmr,
      cum,
    });
    floor = Decimal.fromInt(cap);
    previousMmr = mmr;
  });
  cache.set(spec.symbol, out);
  return out;
}

/** The bracket a position of `notional` (absolute, USDT) falls in (the last one beyond every cap). */
export function bracketOf(brackets: readonly LeverageBracket[], notional: Decimal): LeverageBracket {
  const size = notional.abs();
  for (const b of brackets) if (size.lt(b.notionalCap)) return b;
  const last = brackets.at(-1);
  if (last === undefined) throw new RangeError('a symbol needs at least one bracket');
  return last;
}

/** Maintenance margin of a position of `notional`: notional × mmr − cum of its bracket. */
export function maintenanceMargin(brackets: readonly LeverageBracket[], notional: Decimal): Decimal {
  const b = bracketOf(brackets, notional);
  return notional.abs().mul(b.maintMarginRatio).sub(b.cum);
}

/** The largest position notional `leverage` allows: the cap of the last bracket that still offers it. */
export function maxNotional(brackets: readonly LeverageBracket[], leverage: number): Decimal {
  let cap = Decimal.ZERO;
  for (const b of brackets) if (b.initialLeverage >= leverage) cap = b.notionalCap;
  return cap;
}
