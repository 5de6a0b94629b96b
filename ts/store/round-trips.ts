// Round trips (flat → position → flat) and daily statistics computed exactly from fills and income.
import { Decimal } from '../exact/decimal.js';
import type {
  DailyStatRecord,
  FillRecord,
  IncomeRecord,
  RecordScope,
  RoundTripRecord,
} from './store-records.js';

/** Commission paid in this asset counts in USDT results; another asset (BNB) is left out of them. */
export const QUOTE_ASSET = 'USDT';
/** Least scale of averaged prices (finer fill prices keep theirs), and the scale of a flip's split commission. */
const PRICE_SCALE = 8;

const ZERO = Decimal.ZERO;

interface OpenTrip {
  symbol: string;
  positionSide: string;
  direction: 'LONG' | 'SHORT';
  openTime: number;
  entryQty: Decimal;
  entryNotional: Decimal;
  exitQty: Decimal;
  exitNotional: Decimal;
  realized: Decimal;
  commission: Decimal;
  funding: Decimal;
  maxQty: Decimal;
  fills: number;
  /** Finest price scale of the trip's fills: averaged prices keep at least it (a 1e-18 price is not 0). */
  priceScale: number;
}

function byTimeThenId(a: FillRecord, b: FillRecord): number {
  if (a.time !== b.time) return a.time - b.time;
  const ai = BigInt(/^\d+$/.test(a.tradeId) ? a.tradeId : '0');
  const bi = BigInt(/^\d+$/.test(b.tradeId) ? b.tradeId : '0');
  return ai < bi ? -1 : ai > bi ? 1 : a.tradeId.localeCompare(b.tradeId);
}

function finish(trip: OpenTrip, closeTime: number, scope: RecordScope): RoundTripRecord {
  const net = trip.realized.sub(trip.commission).add(trip.funding);
  return {
    mode: scope.mode,
    account: scope.account,
    symbol: trip.symbol,
    direction: trip.direction,
    openTime: trip.openTime,
    closeTime,
    maxQty: trip.maxQty.toString(),
    entryPrice: trip.entryNotional.div(trip.entryQty, trip.priceScale).toString(),
    exitPrice: trip.exitQty.isZero() ? '0' : trip.exitNotional.div(trip.exitQty, trip.priceScale).toString(),
    realizedPnl: trip.realized.toString(),
    commission: trip.commission.toString(),
    funding: trip.funding.toString(),
    netPnl: net.toString(),
    fills: trip.fills,
  };
}

/**
 * Round trips of `scope` from its fills and funding income. Each (symbol, position side) is
 * followed as a signed position: a trip opens when it leaves zero and closes when it returns to
 * zero. A fill that flips the position closes one trip and opens the next: its realized PnL goes to
 * the closing trip (the exchange books it there), its commission is split by quantity (the closing
 * share at 8 decimals, the rest to the new trip, so the two add up exactly). Funding of a symbol at
 * time t goes to the trip open at t, each row to one trip only: the position held just before t
 * (the one a flip at t closes), else the one opened at t; with both hedge-mode sides open, each
 * row to the side whose position it is proportional to. Trips still open at the end are not
 * returned. A fill that, from flat, can only have closed a position opened before the stored
 * history (it realized PnL, or it shrinks a hedge-mode side) opens nothing.
 */
export function computeRoundTrips(
  scope: RecordScope,
  fills: readonly FillRecord[],
  income: readonly IncomeRecord[],
): RoundTripRecord[] {
  const done: Array<{ trip: OpenTrip; closeTime: number }> = [];
  const open = new Map<string, OpenTrip>();
  const position = new Map<string, Decimal>();
  const funding = income
    .filter((row) => row.incomeType === 'FUNDING_FEE' && row.asset === QUOTE_ASSET)
    .sort((a, b) => a.time - b.time || a.tranId.localeCompare(b.tranId));
  const applyFill = (fill: FillRecord): void => {
    const key = `${fill.symbol}\u0000${fill.positionSide}`;
    const price = Decimal.parse(fill.price);
    const qty = Decimal.parse(fill.qty);
    if (qty.isZero()) return;
    const signed = fill.side === 'BUY' ? qty : qty.neg();
    const commission = fill.commissionAsset === QUOTE_ASSET ? Decimal.parse(fill.commission) : ZERO;
    const before = position.get(key) ?? ZERO;
    // From flat a fill can only open. One that realized PnL, or that shrinks a hedge side, closed a
    // position opened before the stored history: following it would start a phantom trip that the
    // next real one "closes", offsetting every later trip. Its PnL still counts in the daily rows.
    if (
      before.isZero() &&
      (!Decimal.parse(fill.realizedPnl).isZero() || shrinksHedgeSide(fill.positionSide, signed))
    )
      return;
    const after = before.add(signed);
    position.set(key, after);
    let trip = open.get(key);
    if (trip === undefined || before.isZero()) {
      trip = newTrip(fill, signed, qty, price, commission, Decimal.parse(fill.realizedPnl));
      open.set(key, trip);
      return;
    }
    trip.fills += 1;
    trip.priceScale = Math.max(trip.priceScale, price.scale);
    if (before.sign() === signed.sign()) {
      trip.entryQty = trip.entryQty.add(qty);
      trip.entryNotional = trip.entryNotional.add(qty.mul(price));
      trip.commission = trip.commission.add(commission);
      trip.realized = trip.realized.add(Decimal.parse(fill.realizedPnl));
      trip.maxQty = Decimal.max(trip.maxQty, after.abs());
      return;
    }
    const closing = Decimal.min(qty, before.abs());
    const closeShare = closing.eq(qty) ? commission : commission.mul(closing).div(qty, PRICE_SCALE);
    trip.exitQty = trip.exitQty.add(closing);
    trip.exitNotional = trip.exitNotional.add(closing.mul(price));
    trip.commission = trip.commission.add(closeShare);
    trip.realized = trip.realized.add(Decimal.parse(fill.realizedPnl));
    if (after.isZero() || after.sign() !== before.sign()) {
      done.push({ trip, closeTime: fill.time });
      open.delete(key);
      if (!after.isZero()) {
        const rest = qty.sub(closing);
        const next = newTrip(fill, signed, rest, price, commission.sub(closeShare), ZERO);
        open.set(key, next);
      }
    }
  };
  const sorted = [...fills].sort(byTimeThenId);
  let f = 0;
  let r = 0;
  while (f < sorted.length || r < funding.length) {
    const time = Math.min(
      sorted[f]?.time ?? Number.POSITIVE_INFINITY,
      funding[r]?.time ?? Number.POSITIVE_INFINITY,
    );
    const rows: IncomeRecord[] = [];
    while (funding[r]?.time === time) rows.push(funding[r++] as IncomeRecord);
    // Booked before the fills of the same millisecond, so a row is never given to both trips of a flip.
    const unbooked = bookFunding(rows, open, position);
    while (sorted[f]?.time === time) applyFill(sorted[f++] as FillRecord);
    bookFunding(unbooked, open, position);
  }
  return done
    .map(({ trip, closeTime }) => finish(trip, closeTime, scope))
    .sort((a, b) => a.closeTime - b.closeTime || a.symbol.localeCompare(b.symbol));
}

function newTrip(
  fill: FillRecord,
  signed: Decimal,
  qty: Decimal,
  price: Decimal,
  commission: Decimal,
  realized: Decimal,
): OpenTrip {
  return {
    symbol: fill.symbol,
    positionSide: fill.positionSide,
    direction: signed.sign() > 0 ? 'LONG' : 'SHORT',
    openTime: fill.time,
    entryQty: qty,
    entryNotional: qty.mul(price),
    exitQty: ZERO,
    exitNotional: ZERO,
    realized,
    commission,
    funding: ZERO,
    maxQty: qty,
    fills: 1,
    priceScale: Math.max(PRICE_SCALE, price.scale),
  };
}

/**
 * Adds funding rows (one time) to the trips of their symbol open now; returns the rows of symbols
 * with none. One trip takes its symbol's rows. Two (hedge mode: LONG and SHORT) split them so that
 * no row counts twice: a position's payment is −amount × mark × rate, so each row goes to the side
 * that makes row ÷ amount the same for both (with one row, to the larger position).
 */
function bookFunding(
  rows: readonly IncomeRecord[],
  open: ReadonlyMap<string, OpenTrip>,
  position: ReadonlyMap<string, Decimal>,
): IncomeRecord[] {
  const unbooked: IncomeRecord[] = [];
  if (rows.length === 0) return unbooked;
  const bySymbol = new Map<string, IncomeRecord[]>();
  for (const row of rows) {
    const list = bySymbol.get(row.symbol);
    if (list === undefined) bySymbol.set(row.symbol, [row]);
    else list.push(row);
  }
  for (const [symbol, list] of bySymbol) {
    const trips: Array<{ trip: OpenTrip; amount: Decimal }> = [];
    for (const [key, trip] of open)
      if (trip.symbol === symbol) trips.push({ trip, amount: position.get(key) ?? ZERO });
    const add = (trip: OpenTrip, row: IncomeRecord) => {
      trip.funding = trip.funding.add(Decimal.parse(row.income));
    };
    const [a, b] = trips;
    if (a === undefined) unbooked.push(...list);
    else if (b === undefined) for (const row of list) add(a.trip, row);
    else {
      const [r1, r2] = list;
      if (trips.length === 2 && list.length === 2 && r1 !== undefined && r2 !== undefined) {
        const x = Decimal.parse(r1.income);
        const y = Decimal.parse(r2.income);
        // r1 → a, r2 → b is right when r1 × b.amount = r2 × a.amount; keep the pairing closer to it.
        const straight = x.mul(b.amount).sub(y.mul(a.amount)).abs();
        const crossed = y.mul(b.amount).sub(x.mul(a.amount)).abs();
        const [ra, rb] = crossed.lt(straight) ? [r2, r1] : [r1, r2];
        add(a.trip, ra);
        add(b.trip, rb);
      } else {
        const largest = trips.reduce((m, t) => (t.amount.abs().gt(m.amount.abs()) ? t : m));
        for (const row of list) add(largest.trip, row);
      }
    }
  }
  return unbooked;
}

/** Whether a fill of `signed` quantity can only reduce its hedge-mode side (a SELL on LONG, a BUY on SHORT). */
function shrinksHedgeSide(positionSide: string, signed: Decimal): boolean {
  return (positionSide === 'LONG' && signed.sign() < 0) || (positionSide === 'SHORT' && signed.sign() > 0);
}

/** The UTC day (`YYYY-MM-DD`) of a Unix-ms time. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

interface DayAcc {
  realized: Decimal;
  commission: Decimal;
  funding: Decimal;
  volume: Decimal;
  fills: number;
  roundTrips: number;
  wins: number;
  losses: number;
}

/**
 * Daily statistics per UTC day and symbol: realized PnL, USDT commission and traded quote volume
 * from the fills, funding from FUNDING_FEE income, round trips (with wins and losses by net PnL)
 * counted on the day they closed. Transfers are not PnL and are left out.
 */
export function computeDailyStats(
  scope: RecordScope,
  fills: readonly FillRecord[],
  income: readonly IncomeRecord[],
  roundTrips: readonly RoundTripRecord[],
): DailyStatRecord[] {
  const days = new Map<string, DayAcc>();
  const at = (day: string, symbol: string): DayAcc => {
    const key = `${day}\u0000${symbol}`;
    let acc = days.get(key);
    if (acc === undefined) {
      acc = {
        realized: ZERO,
        commission: ZERO,
        funding: ZERO,
        volume: ZERO,
        fills: 0,
        roundTrips: 0,
        wins: 0,
        losses: 0,
      };
      days.set(key, acc);
    }
    return acc;
  };
  for (const f of fills) {
    const acc = at(utcDay(f.time), f.symbol);
    acc.realized = acc.realized.add(Decimal.parse(f.realizedPnl));
    if (f.commissionAsset === QUOTE_ASSET) acc.commission = acc.commission.add(Decimal.parse(f.commission));
    acc.volume = acc.volume.add(Decimal.parse(f.quoteQty));
    acc.fills += 1;
  }
  for (const row of income) {
    if (row.incomeType !== 'FUNDING_FEE' || row.asset !== QUOTE_ASSET) continue;
    const acc = at(utcDay(row.time), row.symbol);
    acc.funding = acc.funding.add(Decimal.parse(row.income));
  }
  for (const trip of roundTrips) {
    const acc = at(utcDay(trip.closeTime), trip.symbol);
    acc.roundTrips += 1;
    const net = Decimal.parse(trip.netPnl);
    if (net.sign() > 0) acc.wins += 1;
    else if (net.sign() < 0) acc.losses += 1;
  }
  const out: DailyStatRecord[] = [];
  for (const [key, acc] of days) {
    const [day = '', symbol = ''] = key.split('\u0000');
    out.push({
      mode: scope.mode,
      account: scope.account,
      day,
      symbol,
      realizedPnl: acc.realized.toString(),
      commission: acc.commission.toString(),
      funding: acc.funding.toString(),
      netPnl: acc.realized.sub(acc.commission).add(acc.funding).toString(),
      volume: acc.volume.toString(),
      fills: acc.fills,
      roundTrips: acc.roundTrips,
      wins: acc.wins,
      losses: acc.losses,
    });
  }
  return out.sort((a, b) => a.day.localeCompare(b.day) || a.symbol.localeCompare(b.symbol));
}
