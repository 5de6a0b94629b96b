// Liquidation and auto-deleveraging: positions whose margin falls to their maintenance margin are closed.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Json } from '../contracts.js';
import { type Account, MARGIN_ASSET } from './account.js';
import { money, moneyText } from './binance-format.js';
import type { EngineContext } from './engine-context.js';
import { type AccountRisk, assessAccount, type PositionRisk } from './margin.js';
import type { OrderExecutor } from './order-executor.js';
import { isOpen, type UserOrder } from './order-store.js';
import { qtyText } from './order-views.js';
import type { PositionState } from './position-state.js';

/** Binance's liquidation clearance fee rate (exchangeInfo `liquidationFee`): the most a liquidation keeps. */
export const LIQUIDATION_FEE_RATE = Decimal.parse('0.0125');
/** Margin ratio (maintenance margin ÷ margin balance) from which MARGIN_CALL is sent. */
const MARGIN_CALL_RATIO = Decimal.parse('0.8');

/** What a liquidation did, for logs and tests. */
export interface LiquidationReport {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionSide: string;
  readonly qty: Decimal;
  readonly bankruptcyPrice: Decimal;
  /** Filled against the market, by auto-deleveraging other accounts, and by the insurance fund. */
  readonly market: Decimal;
  readonly adl: Decimal;
  readonly insurance: Decimal;
  readonly clearanceFee: Decimal;
}

/** The ADL score Binance ranks by: PnL ratio × effective leverage when in profit, ÷ when at a loss. */
export function adlScore(p: PositionRisk, marginBalance: Decimal): Decimal {
  const cost = p.position.amount.abs().mul(p.position.entryPrice);
  if (cost.isZero() || marginBalance.sign() <= 0) return Decimal.ZERO;
  const ratio = p.unrealizedPnl.div(cost, 12);
  const leverage = p.notional.abs().div(marginBalance, 12);
  return ratio.sign() > 0 ? ratio.mul(leverage) : leverage.isZero() ? ratio : ratio.div(leverage, 12);
}

/**
 * Watches every account's margin and closes what falls short, as Binance does:
 *
 * - cross positions are liquidated together when the cross margin balance (cross wallet + cross
 *   unrealized PnL) is at or below their maintenance margin; an isolated position when its wallet
 *   plus unrealized PnL is at or below its own maintenance margin. MARGIN_CALL is sent once when the
 *   margin ratio reaches 80 %.
 * - open orders (and conditional orders) of what is liquidated are cancelled first;
 * - each position is closed by a LIMIT IOC order at its bankruptcy price (where its margin is zero,
 *   client id `autoclose-…`), first against the market; what the market does not take is
 *   auto-deleveraged against the other accounts' opposite positions in ADL-score order (their
 *   `adl_autoclose` orders, at the bankruptcy price, without fees), and what is left is taken by
 *   the insurance fund at the bankruptcy price; neither of those is a market trade;
 * - what remains of the margin goes to the insurance fund as the clearance fee (INSURANCE_CLEAR):
 *   all of an isolated position's, at most 1.25 % of the closed notional for cross; a cross wallet
 *   left negative is brought back to zero by the insurance fund.
 * - every liquidation is reported on the forceOrder streams.
 */
export class LiquidationEngine {
  readonly #ctx: EngineContext;
  readonly #executor: OrderExecutor;
  readonly #accounts: () => Iterable<Account>;
  readonly #cancelAlgos: (accountId: string, symbol: string) => void;
  readonly #marginCalled = new Set<string>();
  readonly reports: LiquidationReport[] = [];

  constructor(
    ctx: EngineContext,
    executor: OrderExecutor,
    accounts: () => Iterable<Account>,
    cancelAlgos: (accountId: string, symbol: string) => void,
  ) {
    this.#ctx = ctx;
    this.#executor = executor;
    this.#accounts = accounts;
    this.#cancelAlgos = cancelAlgos;
  }

  /** Checks every account with an open position and liquidates what falls short. */
  check(): void {
    for (const account of this.#accounts()) {
      if (account.openPositions().length === 0) continue;
      const risk = this.#risk(account);
      const cross = risk.positions.filter((p) => !p.isolated && p.position.isOpen());
      if (cross.length > 0) {
        const balance = risk.crossWalletBalance.add(risk.crossUnPnl);
        if (balance.lte(risk.crossMaintMargin)) {
          this.#liquidate(account, cross, risk);
        } else {
          this.#marginCall(account, `${account.id}`, cross, risk.crossMaintMargin, balance, risk);
        }
      }
      for (const p of risk.positions) {
        if (!p.isolated || !p.position.isOpen()) continue;
        const balance = p.position.isolatedWallet.add(p.unrealizedPnl);
        if (balance.lte(p.maintMargin)) this.#liquidate(account, [p], this.#risk(account));
        else
          this.#marginCall(
            account,
            `${account.id}|${p.position.symbol}|${p.position.side}`,
            [p],
            p.maintMargin,
            balance,
            risk,
          );
      }
    }
  }

  /**
   * ADL quantile (0–4) of an account's position: 0 without a position or at a loss, else 1–4 by its
   * rank among every account's positions on the same symbol and side (4 = first to be deleveraged).
   */
  quantile(account: Account, position: PositionState): number {
    if (!position.isOpen()) return 0;
    const mine = this.#scoreOf(account, position);
    if (mine.sign() <= 0) return 0;
    const scores: Decimal[] = [];
    for (const other of this.#accounts()) {
      for (const p of other.openPositions(position.symbol)) {
        if (p.amount.sign() === position.amount.sign()) scores.push(this.#scoreOf(other, p));
      }
    }
    const rank = scores.filter((s) => s.lte(mine)).length;
    return Math.max(1, Math.ceil((4 * rank) / scores.length));
  }

  #scoreOf(account: Account, position: PositionState): Decimal {
    const risk = this.#risk(account);
    const p = risk.positions.find((r) => r.position === position);
    if (p === undefined) return Decimal.ZERO;
    const balance = p.isolated
      ? p.position.isolatedWallet.add(p.unrealizedPnl)
      : risk.crossWalletBalance.add(risk.crossUnPnl);
    return adlScore(p, balance);
  }

  #risk(account: Account): AccountRisk {
    return assessAccount(account, this.#ctx.market, this.#ctx.orders.open(account.id));
  }

  #marginCall(
    account: Account,
    key: string,
    positions: readonly PositionRisk[],
    maint: Decimal,
    balance: Decimal,
    risk: AccountRisk,
  ): void {
    const high = balance.sign() > 0 && maint.div(balance, 12).gte(MARGIN_CALL_RATIO);
    if (!high) {
      this.#marginCalled.delete(key);
      return;
    }
    if (this.#marginCalled.has(key)) return;
    this.#marginCalled.add(key);
    const now = this.#ctx.clock.now();
    const event: Json = {
      e: 'MARGIN_CALL',
      E: now,
      cw: moneyText(risk.crossWalletBalance),
      p: positions.map((p) => ({
        s: p.position.symbol,
        ps: p.position.side,
        pa: qtyText(p.position.amount, p.spec),
        mt: p.isolated ? 'ISOLATED' : 'CROSSED',
        iw: moneyText(p.position.isolatedWallet),
        mp: p.markPrice.toFixed(8),
        up: moneyText(p.unrealizedPnl),
        mm: moneyText(p.maintMargin),
      })),
    };
    this.#ctx.emit(account.id, event);
  }

  /** Liquidates `positions` of `account` (all its cross positions, or one isolated position). */
  #liquidate(account: Account, positions: readonly PositionRisk[], risk: AccountRisk): void {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const isolated = positions[0]?.isolated === true;
    // Cancel what could add to the positions being closed.
    for (const order of ctx.orders.open(account.id)) {
      const affected = positions.some(
        (p) => p.position.symbol === order.symbol && (!isolated || p.position.side === order.positionSide),
      );
      if (affected || !isolated) this.#executor.cancel(account, order);
    }
    for (const symbol of new Set(positions.map((p) => p.position.symbol)))
      this.#cancelAlgos(account.id, symbol);
    const walletBefore = account.crossWallet();
    let closedNotional = Decimal.ZERO;
    let isolatedMargin = Decimal.ZERO;
    // Worst first: the position losing most is closed with the others still open.
    const ordered = [...positions].sort((a, b) => a.unrealizedPnl.cmp(b.unrealizedPnl));
    for (const p of ordered) {
      const position = p.position;
      if (!position.isOpen()) continue;
      isolatedMargin = isolatedMargin.add(position.isolatedWallet);
      const bankruptcy = this.#bankruptcyPrice(account, p);
      const qty = position.amount.abs();
      const order = this.#executor.exchangeOrder(
        account,
        position,
        qty,
        bankruptcy,
        'LIQUIDATION',
        `autoclose-${now}`,
        true,
      );
      const fromMarket = order.executedQty;
      const adl = this.#deleverage(account, order, bankruptcy);
      const rest = order.origQty.sub(order.executedQty);
      if (rest.sign() > 0 && isOpen(order)) {
        // The insurance fund takes what nobody else did, at the bankruptcy price.
        this.#executor.applyFill(account, order, bankruptcy, rest, {
          maker: false,
          onTape: false,
          free: true,
        });
      }
      if (isOpen(order)) this.#executor.expire(account, order);
      closedNotional = closedNotional.add(order.cumQuote);
      ctx.market.recordLiquidation?.({
        symbol: order.symbol,
        side: order.side,
        price: bankruptcy,
        averagePrice: order.executedQty.isZero() ? bankruptcy : order.cumQuote.div(order.executedQty, 8),
        qty: order.executedQty,
        time: now,
      });
      this.reports.push({
        accountId: account.id,
        symbol: order.symbol,
        positionSide: order.positionSide,
        qty,
        bankruptcyPrice: bankruptcy,
        market: fromMarket,
        adl,
        insurance: rest.sign() > 0 ? rest : Decimal.ZERO,
        clearanceFee: Decimal.ZERO,
      });
    }
    // The clearance fee: an isolated position's remaining margin, all of it; for cross, up to 1.25 %.
    const left = account.crossWallet().sub(walletBefore);
    let fee: Decimal;
    if (isolated) {
      fee = Decimal.max(Decimal.ZERO, left);
    } else {
      fee = Decimal.max(
        Decimal.ZERO,
        Decimal.min(account.crossWallet(), money(closedNotional.mul(LIQUIDATION_FEE_RATE))),
      );
    }
    const symbol = positions[0]?.position.symbol ?? '';
    if (!fee.isZero()) this.#insuranceClear(account, symbol, fee.neg(), now);
    if (account.crossWallet().sign() < 0)
      this.#insuranceClear(account, symbol, account.crossWallet().neg(), now);
    const last = this.reports.at(-1);
    if (last !== undefined) this.reports[this.reports.length - 1] = { ...last, clearanceFee: fee };
    this.#executor.emitAccountUpdate(
      account,
      'INSURANCE_CLEAR',
      positions.map((p) => p.position),
    );
    ctx.logger.info('liquidated', {
      account: account.id,
      positions: positions.map((p) => `${p.position.symbol}:${p.position.side}`).join(','),
      isolated,
      clearanceFee: fee.toString(),
      marginBalanceBefore: risk.marginBalance.toString(),
    });
  }

  /**
   * Where the position's margin is zero: entry − margin / amount, the margin being its isolated
   * wallet, or for cross the cross wallet plus the other cross positions' unrealized PnL; on the tick
   * grid, rounded toward a smaller loss (up for a long's sell, down for a short's buy).
   */
  #bankruptcyPrice(account: Account, p: PositionRisk): Decimal {
    const q = p.position.amount;
    let margin: Decimal;
    if (p.isolated) {
      margin = p.position.isolatedWallet;
    } else {
      const risk = this.#risk(account);
      margin = risk.crossWalletBalance;
      for (const other of risk.positions) {
        if (!other.isolated && other.position !== p.position) margin = margin.add(other.unrealizedPnl);
      }
    }
    const raw = p.position.entryPrice.sub(margin.div(q, 12));
    const snapped = raw.snap(p.spec.tickSize, q.sign() > 0 ? 'ceil' : 'floor');
    const floor = p.spec.minPrice;
    return (snapped.lt(floor) ? floor : snapped).rescale(
      Math.max(p.spec.pricePrecision, p.spec.tickSize.scale),
    );
  }

  /**
   * Closes what is left of a liquidation order against other accounts' opposite positions, highest
   * ADL score first, at the bankruptcy price: each gets an `adl_autoclose` order filled at once.
   * Returns the quantity deleveraged.
   */
  #deleverage(account: Account, order: UserOrder, price: Decimal): Decimal {
    let left = order.origQty.sub(order.executedQty);
    let done = Decimal.ZERO;
    if (left.sign() <= 0) return done;
    const wantSign = order.side === 'SELL' ? -1 : 1;
    const candidates: Array<{ account: Account; position: PositionState; score: Decimal }> = [];
    for (const other of this.#accounts()) {
      if (other.id === account.id) continue;
      for (const position of other.openPositions(order.symbol)) {
        if (position.amount.sign() === wantSign) {
          candidates.push({ account: other, position, score: this.#scoreOf(other, position) });
        }
      }
    }
    candidates.sort((a, b) => b.score.cmp(a.score));
    const now = this.#ctx.clock.now();
    for (const c of candidates) {
      if (left.sign() <= 0) break;
      const take = Decimal.min(left, c.position.amount.abs());
      const adl = this.#executor.exchangeOrder(
        c.account,
        c.position,
        take,
        price,
        'ADL',
        'adl_autoclose',
        false,
      );
      this.#executor.applyFill(c.account, adl, price, take, { maker: false, onTape: false, free: true });
      this.#executor.applyFill(account, order, price, take, { maker: false, onTape: false, free: true });
      this.#ctx.logger.info('auto-deleveraged', {
        account: c.account.id,
        symbol: order.symbol,
        qty: take.toString(),
        at: now,
      });
      left = left.sub(take);
      done = done.add(take);
    }
    return done;
  }

  #insuranceClear(account: Account, symbol: string, amount: Decimal, now: number): void {
    account.adjustCrossWallet(amount, now);
    this.#ctx.income.record({
      accountId: account.id,
      symbol,
      incomeType: 'INSURANCE_CLEAR',
      income: amount,
      asset: MARGIN_ASSET,
      info: 'INSURANCE_CLEAR',
      time: now,
      tranId: this.#ctx.ids.nextTranId(),
      tradeId: '',
    });
  }
}
