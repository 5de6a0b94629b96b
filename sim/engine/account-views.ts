// Binance's JSON shapes for account state: account v2/v3, balance, positionRisk v2/v3.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Json } from '../contracts.js';
import { type Account, MARGIN_ASSET } from './account.js';
import { atLeast, money, moneyText } from './binance-format.js';
import type { AccountRisk, PositionRisk } from './margin.js';
import type { UserOrder } from './order-store.js';
import { qtyText } from './order-views.js';

/** Everything the account views need besides the account itself. */
export interface AccountSnapshot {
  readonly account: Account;
  readonly risk: AccountRisk;
  readonly openOrders: readonly UserOrder[];
  /** Symbols that have waiting algo orders (v3 lists their positions too). */
  readonly symbolsWithAlgoOrders: ReadonlySet<string>;
}

function entryText(p: PositionRisk): string {
  return atLeast(p.position.entryPrice.rescale(8, 'half-even'), p.spec.pricePrecision);
}

function breakEvenText(p: PositionRisk, account: Account): string {
  return atLeast(p.position.breakEvenPrice(account.takerFee), 1);
}

function notionalText(p: PositionRisk): string {
  return moneyText(p.notional);
}

/** Σ remaining × price of open orders on a symbol/side by order side (`bidNotional`, `askNotional`). */
function orderNotional(orders: readonly UserOrder[], p: PositionRisk, side: 'BUY' | 'SELL'): string {
  let sum = Decimal.ZERO;
  for (const o of orders) {
    if (o.symbol === p.position.symbol && o.positionSide === p.position.side && o.side === side) {
      sum = sum.add(o.origQty.sub(o.executedQty).mul(o.price));
    }
  }
  return atLeast(sum, 1);
}

/** `isolatedMargin`: the isolated wallet plus unrealized PnL, zero for cross positions. */
function isolatedMargin(p: PositionRisk): Decimal {
  return p.isolated ? p.position.isolatedWallet.add(p.unrealizedPnl) : Decimal.ZERO;
}

/**
 * Liquidation price of one position (Binance's formula): where margin + amount × (price − entry)
 * equals the maintenance margin |amount| × price × mmr − cum of the position's bracket. The margin
 * is the isolated wallet, or for cross the cross wallet plus the other cross positions' unrealized
 * PnL less their maintenance margin.
 */
export function liquidationPrice(p: PositionRisk, risk: AccountRisk): Decimal {
  const q = p.position.amount;
  if (q.isZero()) return Decimal.ZERO;
  let margin: Decimal;
  if (p.isolated) {
    margin = p.position.isolatedWallet;
  } else {
    margin = risk.crossWalletBalance;
    for (const other of risk.positions) {
      if (other === p || other.isolated) continue;
      margin = margin.add(other.unrealizedPnl).sub(other.maintMargin);
    }
  }
  margin = margin.add(p.bracket.cum);
  const numerator = q.mul(p.position.entryPrice).sub(margin);
  const denominator = q.sub(q.abs().mul(p.bracket.maintMarginRatio));
  if (denominator.isZero()) return Decimal.ZERO;
  const price = numerator.div(denominator, 8, 'half-even');
  return price.sign() > 0 ? price : Decimal.ZERO;
}

function shown(p: PositionRisk, snap: AccountSnapshot): boolean {
  return (
    p.position.isOpen() ||
    snap.openOrders.some((o) => o.symbol === p.position.symbol && o.positionSide === p.position.side) ||
    snap.symbolsWithAlgoOrders.has(p.position.symbol)
  );
}

function currentSide(p: PositionRisk, account: Account): boolean {
  return account.sides().includes(p.position.side);
}

function assetsJson(snap: AccountSnapshot, v2: boolean): Json[] {
  const { account, risk } = snap;
  return account.assets().map((asset) => {
    const usdt = asset === MARGIN_ASSET;
    const wallet = usdt ? risk.walletBalance : money(account.crossWallet(asset));
    const zero = moneyText(Decimal.ZERO);
    const row: Record<string, Json> = {
      asset,
      walletBalance: moneyText(wallet),
      unrealizedProfit: usdt ? moneyText(risk.totalUnrealizedProfit) : zero,
      marginBalance: usdt ? moneyText(risk.marginBalance) : moneyText(wallet),
      maintMargin: usdt ? moneyText(risk.totalMaintMargin) : zero,
      initialMargin: usdt ? moneyText(risk.totalInitialMargin) : zero,
      positionInitialMargin: usdt ? moneyText(risk.totalPositionInitialMargin) : zero,
      openOrderInitialMargin: usdt ? moneyText(risk.totalOpenOrderInitialMargin) : zero,
      crossWalletBalance: usdt ? moneyText(risk.crossWalletBalance) : moneyText(wallet),
      crossUnPnl: usdt ? moneyText(risk.crossUnPnl) : zero,
      availableBalance: usdt ? moneyText(risk.availableBalance) : zero,
      maxWithdrawAmount: usdt ? moneyText(risk.maxWithdrawAmount) : zero,
    };
    if (v2) row.marginAvailable = usdt;
    row.updateTime = account.balanceUpdateTime;
    return row;
  });
}

function totalsJson(risk: AccountRisk): Record<string, Json> {
  return {
    totalInitialMargin: moneyText(risk.totalInitialMargin),
    totalMaintMargin: moneyText(risk.totalMaintMargin),
    totalWalletBalance: moneyText(risk.walletBalance),
    totalUnrealizedProfit: moneyText(risk.totalUnrealizedProfit),
    totalMarginBalance: moneyText(risk.marginBalance),
    totalPositionInitialMargin: moneyText(risk.totalPositionInitialMargin),
    totalOpenOrderInitialMargin: moneyText(risk.totalOpenOrderInitialMargin),
    totalCrossWalletBalance: moneyText(risk.crossWalletBalance),
    totalCrossUnPnl: moneyText(risk.crossUnPnl),
    availableBalance: moneyText(risk.availableBalance),
    maxWithdrawAmount: moneyText(risk.maxWithdrawAmount),
  };
}

/** `GET /fapi/v3/account`: positions only where there is a position or an open order. */
export function accountV3Json(snap: AccountSnapshot): Json {
  const positions = snap.risk.positions
    .filter((p) => currentSide(p, snap.account) && shown(p, snap))
    .map(
      (p): Json => ({
        symbol: p.position.symbol,
        positionSide: p.position.side,
        positionAmt: qtyText(p.position.amount, p.spec),
        unrealizedProfit: moneyText(p.unrealizedPnl),
        isolatedMargin: moneyText(isolatedMargin(p)),
        notional: notionalText(p),
        isolatedWallet: moneyText(p.position.isolatedWallet),
        initialMargin: moneyText(p.initialMargin.add(p.openOrderInitialMargin)),
        maintMargin: moneyText(p.maintMargin),
        updateTime: p.position.updateTime,
      }),
    );
  return { ...totalsJson(snap.risk), assets: assetsJson(snap, false), positions };
}

/** `GET /fapi/v2/account`: every symbol's positions of the current mode. */
export function accountV2Json(snap: AccountSnapshot): Json {
  const positions = snap.risk.positions
    .filter((p) => currentSide(p, snap.account))
    .map(
      (p): Json => ({
        symbol: p.position.symbol,
        initialMargin: moneyText(p.initialMargin.add(p.openOrderInitialMargin)),
        maintMargin: moneyText(p.maintMargin),
        unrealizedProfit: moneyText(p.unrealizedPnl),
        positionInitialMargin: moneyText(p.initialMargin),
        openOrderInitialMargin: moneyText(p.openOrderInitialMargin),
        leverage: String(p.settings.leverage),
        isolated: p.isolated,
        entryPrice: entryText(p),
        breakEvenPrice: breakEvenText(p, snap.account),
        maxNotional: p.maxNotional.toString(),
        bidNotional: orderNotional(snap.openOrders, p, 'BUY'),
        askNotional: orderNotional(snap.openOrders, p, 'SELL'),
        positionSide: p.position.side,
        positionAmt: qtyText(p.position.amount, p.spec),
        updateTime: p.position.updateTime,
      }),
    );
  return {
    feeTier: 0,
    feeBurn: false,
    canTrade: true,
    canDeposit: true,
    canWithdraw: true,
    updateTime: 0,
    multiAssetsMargin: snap.account.multiAssetsMargin,
    tradeGroupId: -1,
    ...totalsJson(snap.risk),
    assets: assetsJson(snap, true),
    positions,
  };
}

/** A short account alias derived from the account id (Binance shows a random 4-letter one). */
export function accountAlias(accountId: string): string {
  let h = 7;
  for (const ch of accountId) h = (h * 31 + ch.charCodeAt(0)) % 456_976;
  let alias = '';
  for (let i = 0; i < 4; i++) {
    const letter = String.fromCharCode((i === 0 ? 65 : 97) + (h % 26));
    alias += letter;
    h = Math.floor(h / 26);
  }
  return alias;
}

/** `GET /fapi/v3/balance` and v2: one row per asset. */
export function balanceJson(snap: AccountSnapshot): Json {
  const { account, risk } = snap;
  return account.assets().map((asset): Json => {
    const usdt = asset === MARGIN_ASSET;
    const wallet = usdt ? risk.walletBalance : money(account.crossWallet(asset));
    return {
      accountAlias: accountAlias(account.id),
      asset,
      balance: moneyText(wallet),
      crossWalletBalance: usdt ? moneyText(risk.crossWalletBalance) : moneyText(wallet),
      crossUnPnl: usdt ? moneyText(risk.crossUnPnl) : moneyText(Decimal.ZERO),
      availableBalance: usdt ? moneyText(risk.availableBalance) : moneyText(Decimal.ZERO),
      maxWithdrawAmount: usdt ? moneyText(risk.maxWithdrawAmount) : moneyText(Decimal.ZERO),
      marginAvailable: usdt,
      updateTime: account.balanceUpdateTime,
    };
  });
}

function markText(p: PositionRisk): string {
  return p.markPrice.toFixed(8);
}

/** `GET /fapi/v3/positionRisk`: positions or symbols with open orders, optionally one symbol. */
export function positionRiskV3Json(snap: AccountSnapshot, symbol: string | undefined): Json {
  return snap.risk.positions
    .filter(
      (p) =>
        currentSide(p, snap.account) &&
        shown(p, snap) &&
        (symbol === undefined || p.position.symbol === symbol),
    )
    .map(
      (p): Json => ({
        symbol: p.position.symbol,
        positionSide: p.position.side,
        positionAmt: qtyText(p.position.amount, p.spec),
        entryPrice: entryText(p),
        breakEvenPrice: breakEvenText(p, snap.account),
        markPrice: markText(p),
        unRealizedProfit: moneyText(p.unrealizedPnl),
        liquidationPrice: atLeast(liquidationPrice(p, snap.risk), 1),
        isolatedMargin: moneyText(isolatedMargin(p)),
        notional: notionalText(p),
        marginAsset: MARGIN_ASSET,
        isolatedWallet: moneyText(p.position.isolatedWallet),
        initialMargin: moneyText(p.initialMargin.add(p.openOrderInitialMargin)),
        maintMargin: moneyText(p.maintMargin),
        positionInitialMargin: moneyText(p.initialMargin),
        openOrderInitialMargin: moneyText(p.openOrderInitialMargin),
        adl: 0,
        bidNotional: orderNotional(snap.openOrders, p, 'BUY'),
        askNotional: orderNotional(snap.openOrders, p, 'SELL'),
        updateTime: p.position.updateTime,
      }),
    );
}

/** `GET /fapi/v2/positionRisk`: every symbol's positions of the current mode, optionally one symbol. */
export function positionRiskV2Json(snap: AccountSnapshot, symbol: string | undefined): Json {
  return snap.risk.positions
    .filter((p) => currentSide(p, snap.account) && (symbol === undefined || p.position.symbol === symbol))
    .map(
      (p): Json => ({
        entryPrice: entryText(p),
        breakEvenPrice: breakEvenText(p, snap.account),
        marginType: p.isolated ? 'isolated' : 'cross',
        isAutoAddMargin: 'false',
        isolatedMargin: moneyText(isolatedMargin(p)),
        leverage: String(p.settings.leverage),
        liquidationPrice: atLeast(liquidationPrice(p, snap.risk), 1),
        markPrice: markText(p),
        maxNotionalValue: p.maxNotional.toString(),
        positionAmt: qtyText(p.position.amount, p.spec),
        notional: notionalText(p),
        isolatedWallet: moneyText(p.position.isolatedWallet),
        symbol: p.position.symbol,
        unRealizedProfit: moneyText(p.unrealizedPnl),
        positionSide: p.position.side,
        updateTime: p.position.updateTime,
      }),
    );
}
