// Price-level matching: taker sweeps of the market's book and maker fills from the public tape.
import { Decimal } from '../../ts/exact/decimal.js';
import type { BookLevel, MarketTrade } from '../contracts.js';
import type { OrderSide, UserOrder } from './order-store.js';

/** One planned fill at one price level; `maker` is set when it is another user order. */
export interface PlannedFill {
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly maker?: UserOrder;
}

/** Liquidity a taker can meet: a level of the market's book, or a resting user order. */
export interface Liquidity {
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly maker?: UserOrder;
}

/**
 * The opposing side as a taker on `side` meets it: the market's book levels and the resting limit
 * orders of every account, best price first; at one price the market's level (older liquidity)
 * comes before user orders, and user orders by time.
 */
export function opposingLiquidity(
  book: BookSides,
  side: OrderSide,
  resting: readonly UserOrder[],
): Liquidity[] {
  const makerSide: OrderSide = side === 'BUY' ? 'SELL' : 'BUY';
  const out: Liquidity[] = [...opposingLevels(book, side)];
  for (const o of resting) {
    if (o.type !== 'LIMIT' || o.side !== makerSide) continue;
    const left = o.origQty.sub(o.executedQty);
    if (left.sign() > 0) out.push({ price: o.price, qty: left, maker: o });
  }
  return out.sort((a, b) => {
    const byPrice = side === 'BUY' ? a.price.cmp(b.price) : b.price.cmp(a.price);
    if (byPrice !== 0) return byPrice;
    if (a.maker === undefined || b.maker === undefined)
      return a.maker === undefined ? (b.maker === undefined ? 0 : -1) : 1;
    return a.maker.queue - b.maker.queue;
  });
}

/** {@link sweep} over liquidity that may hold user orders. */
export function sweepLiquidity(
  levels: readonly Liquidity[],
  side: OrderSide,
  qty: Decimal,
  limit?: Decimal,
): PlannedFill[] {
  const fills: PlannedFill[] = [];
  let remaining = qty;
  for (const level of levels) {
    if (remaining.sign() <= 0) break;
    if (limit !== undefined && !marketable(side, limit, level.price)) break;
    if (level.qty.sign() <= 0) continue;
    const take = Decimal.min(remaining, level.qty);
    fills.push(
      level.maker === undefined
        ? { price: level.price, qty: take }
        : { price: level.price, qty: take, maker: level.maker },
    );
    remaining = remaining.sub(take);
  }
  return fills;
}

/** Book snapshot the engine matches against. */
export interface BookSides {
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
}

/** Levels a taker on `side` consumes: asks for a buy, bids for a sell. */
export function opposingLevels(book: BookSides, side: OrderSide): readonly BookLevel[] {
  return side === 'BUY' ? book.asks : book.bids;
}

/** Whether `price` is marketable on `side` against a level (buy at or above the ask, sell at or below the bid). */
export function marketable(side: OrderSide, limit: Decimal, levelPrice: Decimal): boolean {
  return side === 'BUY' ? levelPrice.lte(limit) : levelPrice.gte(limit);
}

/**
 * Sweeps the opposing side level by level, best first, up to `qty` and, for a limit order, only at
 * prices no worse than `limit`. Returns the fills in sweep order (possibly less than `qty`).
 */
export function sweep(book: BookSides, side: OrderSide, qty: Decimal, limit?: Decimal): PlannedFill[] {
  const fills: PlannedFill[] = [];
  let remaining = qty;
  for (const level of opposingLevels(book, side)) {
    if (remaining.sign() <= 0) break;
    if (limit !== undefined && !marketable(side, limit, level.price)) break;
    if (level.qty.sign() <= 0) continue;
    const take = Decimal.min(remaining, level.qty);
    fills.push({ price: level.price, qty: take });
    remaining = remaining.sub(take);
  }
  return fills;
}

/** Σ qty of planned fills. */
export function totalQty(fills: readonly PlannedFill[]): Decimal {
  return fills.reduce((sum, f) => sum.add(f.qty), Decimal.ZERO);
}

/** Whether a limit order at `price` would take liquidity right now (a post-only order must not). */
export function wouldTake(book: BookSides, side: OrderSide, price: Decimal): boolean {
  const best = opposingLevels(book, side)[0];
  return best !== undefined && marketable(side, price, best.price);
}

/**
 * Which resting limit orders a public trade fills and by how much. A trade whose taker sold
 * (`buyerIsMaker`) at a price at or below a resting buy fills it; a taker buy at or above a resting
 * sell fills that. Orders share the trade's quantity by price priority, then time.
 */
export function allocateTrade(
  trade: MarketTrade,
  resting: readonly UserOrder[],
): Array<{ order: UserOrder; qty: Decimal }> {
  const side: OrderSide = trade.buyerIsMaker ? 'BUY' : 'SELL';
  const eligible = resting
    .filter((o) => o.type === 'LIMIT' && o.side === side && marketable(side, o.price, trade.price))
    .sort((a, b) => {
      const byPrice = side === 'BUY' ? b.price.cmp(a.price) : a.price.cmp(b.price);
      return byPrice !== 0 ? byPrice : a.queue - b.queue;
    });
  const out: Array<{ order: UserOrder; qty: Decimal }> = [];
  let left = trade.qty;
  for (const order of eligible) {
    if (left.sign() <= 0) break;
    const take = Decimal.min(left, order.origQty.sub(order.executedQty));
    if (take.sign() <= 0) continue;
    out.push({ order, qty: take });
    left = left.sub(take);
  }
  return out;
}
