// Margin arithmetic of an account: unrealized PnL, initial and maintenance margin, available balance.
import { Decimal } from '../../ts/exact/decimal.js';
import type { MarketView, SymbolSpec } from '../contracts.js';
import type { Account, SymbolSettings } from './account.js';
import { money } from './binance-format.js';
import { bracketOf, bracketsFor, type LeverageBracket, maxNotional } from './leverage-brackets.js';
import type { OrderSide, UserOrder } from './order-store.js';
import type { PositionSide, PositionState } from './position-state.js';

/** One position valued at the mark price. */
export interface PositionRisk {
  readonly position: PositionState;
  readonly spec: SymbolSpec;
  readonly settings: SymbolSettings;
  readonly markPrice: Decimal;
  /** amount × mark (signed). */
  readonly notional: Decimal;
  readonly unrealizedPnl: Decimal;
  /** |notional| / leverage. */
  readonly initialMargin: Decimal;
  /** |notional| × maintMarginRatio − cum of the position's bracket. */
  readonly maintMargin: Decimal;
  /** The bracket of the position's notional at the mark price. */
  readonly bracket: LeverageBracket;
  /** The largest notional the position's leverage allows. */
  readonly maxNotional: Decimal;
  /** Margin of the symbol's open orders on this position side. */
  readonly openOrderInitialMargin: Decimal;
  readonly isolated: boolean;
}

/** The account's totals as Binance reports them (USDT only). */
export interface AccountRisk {
  readonly positions: readonly PositionRisk[];
  readonly walletBalance: Decimal;
  readonly crossWalletBalance: Decimal;
  readonly totalUnrealizedProfit: Decimal;
  readonly crossUnPnl: Decimal;
  readonly totalPositionInitialMargin: Decimal;
  readonly totalOpenOrderInitialMargin: Decimal;
  readonly totalInitialMargin: Decimal;
  readonly totalMaintMargin: Decimal;
  /** Maintenance margin of the cross positions (what the cross margin balance is held against). */
  readonly crossMaintMargin: Decimal;
  readonly marginBalance: Decimal;
  readonly availableBalance: Decimal;
  readonly maxWithdrawAmount: Decimal;
}

/** Whether an order on `positionSide` going `side` reduces that side's position (hedge sense). */
export function closesHedgeSide(positionSide: PositionSide, side: OrderSide): boolean {
  return (positionSide === 'LONG' && side === 'SELL') || (positionSide === 'SHORT' && side === 'BUY');
}

/**
 * The part of `qty` that would open or grow a position: in one-way mode what exceeds the opposite
 * position; in hedge mode all of an opening order and nothing of a closing one.
 */
export function openingQty(position: PositionState, side: OrderSide, qty: Decimal): Decimal {
  if (position.side !== 'BOTH') return closesHedgeSide(position.side, side) ? Decimal.ZERO : qty;
  const against =
    (side === 'BUY' && position.amount.sign() < 0) || (side === 'SELL' && position.amount.sign() > 0);
  if (!against) return qty;
  const rest = qty.sub(position.amount.abs());
  return rest.sign() > 0 ? rest : Decimal.ZERO;
}

/** Initial margin an open order reserves: its opening part × price / leverage. */
export function orderInitialMargin(account: Account, order: UserOrder, spec: SymbolSpec): Decimal {
  if (order.reduceOnly || order.closePosition || order.price.isZero()) return Decimal.ZERO;
  const remaining = order.origQty.sub(order.executedQty);
  const position = account.position(order.symbol, order.positionSide);
  const opening = openingQty(position, order.side, remaining);
  const leverage = account.settings(order.symbol, spec.maxLeverage).leverage;
  return money(opening.mul(order.price).div(Decimal.fromInt(leverage), 12));
}

/** Values every position and sums the account (Binance single-asset mode). */
export function assessAccount(
  account: Account,
  market: MarketView,
  openOrders: readonly UserOrder[],
): AccountRisk {
  const orderMargin = new Map<string, Decimal>();
  let totalOpenOrderIM = Decimal.ZERO;
  for (const order of openOrders) {
    const spec = market.spec(order.symbol);
    if (spec === undefined) continue;
    const im = orderInitialMargin(account, order, spec);
    const key = `${order.symbol}\u0000${order.positionSide}`;
    orderMargin.set(key, (orderMargin.get(key) ?? Decimal.ZERO).add(im));
    totalOpenOrderIM = totalOpenOrderIM.add(im);
  }
  const positions: PositionRisk[] = [];
  let totalUnPnl = Decimal.ZERO;
  let crossUnPnl = Decimal.ZERO;
  let totalPositionIM = Decimal.ZERO;
  let crossPositionIM = Decimal.ZERO;
  let totalMaint = Decimal.ZERO;
  let crossMaint = Decimal.ZERO;
  for (const position of account.positions()) {
    const spec = market.spec(position.symbol);
    if (spec === undefined) continue;
    const settings = account.settings(position.symbol, spec.maxLeverage);
    const mark = market.markPrice(position.symbol);
    const notional = position.amount.mul(mark);
    const unrealized = position.unrealizedPnl(mark);
    const im = money(notional.abs().div(Decimal.fromInt(settings.leverage), 12));
    const brackets = bracketsFor(spec);
    const bracket = bracketOf(brackets, notional);
    const mm = money(notional.abs().mul(bracket.maintMarginRatio).sub(bracket.cum));
    const isolated = settings.marginType === 'ISOLATED';
    positions.push({
      position,
      spec,
      settings,
      markPrice: mark,
      notional,
      unrealizedPnl: unrealized,
      initialMargin: im,
      maintMargin: mm,
      bracket,
      maxNotional: maxNotional(brackets, settings.leverage),
      openOrderInitialMargin: orderMargin.get(`${position.symbol}\u0000${position.side}`) ?? Decimal.ZERO,
      isolated,
    });
    totalUnPnl = totalUnPnl.add(unrealized);
    totalPositionIM = totalPositionIM.add(im);
    totalMaint = totalMaint.add(mm);
    if (!isolated) {
      crossUnPnl = crossUnPnl.add(unrealized);
      crossPositionIM = crossPositionIM.add(im);
      crossMaint = crossMaint.add(mm);
    }
  }
  const cross = money(account.crossWallet());
  const wallet = money(account.walletBalance());
  const available = cross.add(crossUnPnl).sub(crossPositionIM).sub(totalOpenOrderIM);
  const withdrawable = Decimal.max(Decimal.ZERO, Decimal.min(available, cross));
  return {
    positions,
    walletBalance: wallet,
    crossWalletBalance: cross,
    totalUnrealizedProfit: totalUnPnl,
    crossUnPnl,
    totalPositionInitialMargin: totalPositionIM,
    totalOpenOrderInitialMargin: totalOpenOrderIM,
    totalInitialMargin: totalPositionIM.add(totalOpenOrderIM),
    totalMaintMargin: totalMaint,
    crossMaintMargin: crossMaint,
    marginBalance: wallet.add(totalUnPnl),
    availableBalance: available,
    maxWithdrawAmount: withdrawable,
  };
}
