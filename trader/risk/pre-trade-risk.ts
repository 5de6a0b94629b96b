// The pre-trade checks every order intent passes (the engine's RiskGate): trading state, ban list, stale book, unknown balance or positions, order-rate budget, notional and leverage limits.
import type { PreTradeSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { OrderIntent } from '../engine/events.js';
import { quoteMid } from '../engine/quote-price.js';
import type { RiskContext, RiskDecision, RiskGate } from '../engine/risk-gate.js';
import type { BanListView, MarketFreshness } from './market-inputs.js';
import type { OrderRateMeter } from './order-rate.js';
import type { RiskEventSink } from './risk-events.js';
import type { RiskState } from './risk-state.js';

/** The names refusals carry (`RiskDecision.rule`). */
export const PRE_TRADE_RULES = [
  'trading-state',
  'closing-all',
  'force-closing',
  'ban-list',
  'book-stale',
  'balance-unknown',
  'position-unknown',
  'order-rate',
  'max-symbol-notional',
  'max-total-notional',
  'max-leverage',
] as const;
export type PreTradeRule = (typeof PRE_TRADE_RULES)[number];

/** What the checks read besides the intent and the engine's context. */
export interface PreTradeInputs {
  readonly state: RiskState;
  readonly settings: PreTradeSettings;
  readonly events: RiskEventSink;
  readonly banList?: BanListView | undefined;
  readonly freshness?: MarketFreshness | undefined;
  readonly orderRate?: OrderRateMeter | undefined;
  /** Whether the account's positions have been reported at least once (absent: assumed known). */
  readonly positionsKnown?: (() => boolean) | undefined;
}

/** Refusal counts by rule, for the status. */
export type RefusalCounts = Record<PreTradeRule, number>;

function signed(intent: OrderIntent): Decimal {
  return intent.side === 'BUY' ? intent.quantity : intent.quantity.neg();
}

/**
 * The price another symbol's exposure is valued at: the last trade, else the mid of a sane quote,
 * else the position's entry; undefined when none is positive. A price of zero (or below) is no
 * price: valued at it, the exposure would vanish from the total and the leverage limit.
 */
function valuation(ctx: RiskContext, symbol: string): Decimal | undefined {
  const last = ctx.market.lastPriceExact(symbol);
  if (last !== undefined && last.sign() > 0) return last;
  const quote = ctx.market.quote(symbol);
  if (quote !== undefined) {
    const mid = quoteMid(quote);
    if ('mid' in mid) return mid.mid;
  }
  const entry = ctx.account.position(symbol).entryPrice;
  return entry.sign() > 0 ? entry : undefined;
}

/**
 * The engine's {@link RiskGate}. In HALTED nothing passes; in REDUCING only reduce-only intents.
 * A reduce-only intent then passes (shrinking exposure is always allowed: a stale book, a ban or a
 * spent opening budget must never keep a position open). An opening intent must also pass, in
 * order: no close-all in progress (the owner's ACTIVE ends one, `RiskState.setByOwner`; one still
 * running while ACTIVE, after a crash between its start and the switch to REDUCING, would close at
 * market whatever opens), no force-close of the symbol in progress, the ban list (the symbol, or
 * `ALL`), a fresh book (no stream waiting for a snapshot, a last price younger than
 * `maxTickAgeMs`), a known balance and known positions, the opening share of the order-rate
 * budget, and the notional limits after the order — per symbol, in total, and as leverage on
 * equity — valued at the intent's reference price and the other symbols' last prices (else the mid
 * of a sane quote, else the entry). "Other symbols" are the account's open positions and every
 * symbol the engine has quantity on its way in (`RiskContext.exposedSymbols`: approved legs of the
 * same decision, orders in flight, resting post-only orders, fills the account does not show yet),
 * each at its expected position. Every refusal is a typed result naming its rule, counted, and
 * reported as a risk event.
 */
export class PreTradeRisk implements RiskGate {
  readonly refusals: RefusalCounts = Object.fromEntries(PRE_TRADE_RULES.map((r) => [r, 0])) as RefusalCounts;
  readonly #in: PreTradeInputs;
  readonly #maxSymbol: Decimal;
  readonly #maxTotal: Decimal;
  readonly #maxLeverage: Decimal;
  readonly #openingShare: number;

  constructor(inputs: PreTradeInputs) {
    this.#in = inputs;
    this.#maxSymbol = Decimal.parse(inputs.settings.maxSymbolNotional);
    this.#maxTotal = Decimal.parse(inputs.settings.maxTotalNotional);
    this.#maxLeverage = Decimal.parse(inputs.settings.maxLeverage);
    this.#openingShare = Number(inputs.settings.openingOrderShare);
  }

  check(intent: OrderIntent, ctx: RiskContext): RiskDecision {
    const refusal = this.#judge(intent, ctx);
    if (refusal !== undefined) {
      this.refusals[refusal.rule] += 1;
      this.#in.events.emit({
        kind: 'risk-action',
        action: 'refuse',
        symbol: intent.symbol,
        reason: `${refusal.rule}: ${refusal.reason}`,
        at: ctx.now,
      });
      return { allowed: false, rule: refusal.rule, reason: refusal.reason };
    }
    this.#in.orderRate?.record(ctx.now);
    return { allowed: true };
  }

  #judge(intent: OrderIntent, ctx: RiskContext): { rule: PreTradeRule; reason: string } | undefined {
    const state = this.#in.state;
    if (!state.allowsReducing()) return { rule: 'trading-state', reason: 'HALTED: nothing is sent' };
    if (intent.reduceOnly) return undefined;
    if (!state.allowsOpening())
      return { rule: 'trading-state', reason: `${state.state}: only reduce-only orders are sent` };
    if (state.closeAll !== null)
      return { rule: 'closing-all', reason: `every position is being closed: ${state.closeAll.reason}` };
    const symbol = intent.symbol;
    const closing = state.forceClosing().get(symbol);
    if (closing !== undefined)
      return { rule: 'force-closing', reason: `${symbol} is being closed: ${closing.reason}` };
    const s = this.#in.settings;
    if (s.followBanList) {
      const ban = this.#in.banList?.banned(symbol);
      if (ban !== undefined)
        return {
          rule: 'ban-list',
          reason: ban === 'ALL' ? 'everything is banned (ALL)' : `${symbol} is on the ban list`,
        };
    }
    const freshness = this.#in.freshness;
    if (freshness !== undefined) {
      const stale = freshness.bookStale();
      if (stale !== undefined) return { rule: 'book-stale', reason: stale };
      const age = freshness.priceAgeMs(symbol, ctx.now);
      if (age === undefined) return { rule: 'book-stale', reason: `${symbol} has no price in the book` };
      if (age > s.maxTickAgeMs)
        return {
          rule: 'book-stale',
          reason: `${symbol}'s last price is ${age} ms old (limit ${s.maxTickAgeMs})`,
        };
    }
    const equity = ctx.account.equity();
    if (equity === undefined) return { rule: 'balance-unknown', reason: 'no balance reported yet' };
    if (this.#in.positionsKnown !== undefined && !this.#in.positionsKnown())
      return { rule: 'position-unknown', reason: 'no positions reported yet' };
    const rate = this.#in.orderRate?.usage(ctx.now);
    if (rate !== undefined) {
      const over = (count: number, limit: number | null): boolean =>
        limit !== null && count >= Math.floor(limit * this.#openingShare);
      if (over(rate.count10s, rate.limit10s))
        return { rule: 'order-rate', reason: `${rate.count10s} orders in 10 s of ${rate.limit10s}` };
      if (over(rate.count1m, rate.limit1m))
        return { rule: 'order-rate', reason: `${rate.count1m} orders in 1 min of ${rate.limit1m}` };
    }
    return this.#notional(intent, ctx, equity);
  }

  #notional(
    intent: OrderIntent,
    ctx: RiskContext,
    equity: Decimal,
  ): { rule: PreTradeRule; reason: string } | undefined {
    const expected = (symbol: string): Decimal =>
      ctx.expectedPosition?.(symbol) ?? ctx.account.position(symbol).amount;
    const symbol = intent.symbol;
    const price = intent.referencePrice;
    if (price === undefined || price.sign() <= 0)
      return { rule: 'max-symbol-notional', reason: `${symbol} has no price to value the order at` };
    const after = expected(symbol).add(signed(intent));
    const symbolNotional = after.abs().mul(price);
    if (symbolNotional.gt(this.#maxSymbol))
      return {
        rule: 'max-symbol-notional',
        reason: `${symbol} would hold ${symbolNotional.toFixed(2)} USDT (limit ${this.#maxSymbol.toString()})`,
      };
    let total = symbolNotional;
    // Reported positions and quantity still on its way alike: an order resting in a symbol the
    // account shows flat, or a leg approved a moment ago, is exposure the limits are about.
    const others = new Set(ctx.account.openPositions());
    for (const other of ctx.exposedSymbols?.() ?? []) others.add(other);
    others.delete(symbol);
    for (const other of others) {
      const amount = expected(other).abs();
      if (amount.isZero()) continue;
      const value = valuation(ctx, other);
      if (value === undefined)
        return {
          rule: 'max-total-notional',
          reason: `${other} holds or has on its way ${amount.toString()} with no price to value it at`,
        };
      total = total.add(amount.mul(value));
    }
    if (total.gt(this.#maxTotal))
      return {
        rule: 'max-total-notional',
        reason: `positions would total ${total.toFixed(2)} USDT (limit ${this.#maxTotal.toString()})`,
      };
    if (equity.sign() <= 0 || total.gt(equity.mul(this.#maxLeverage)))
      return {
        rule: 'max-leverage',
        reason: `positions of ${total.toFixed(2)} USDT on equity ${equity.toFixed(2)} exceed ${this.#maxLeverage.toString()}×`,
      };
    return undefined;
  }
}
