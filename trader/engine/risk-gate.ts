// The risk seam: every order intent passes here before execution (issue 14 puts its rules behind it).
import type { Decimal } from '../../ts/exact/decimal.js';
import type { OrderIntent } from './events.js';
import type { AccountView, MarketData } from './market-data.js';

/** What a rule sees when it judges an order. */
export interface RiskContext {
  readonly market: MarketData;
  readonly account: AccountView;
  /** Engine time. */
  readonly now: number;
  /**
   * The position `symbol` will have once every intent already approved has filled (the planner's
   * view): the engine counts an approved intent at once, before its order event reaches the
   * executor, so a later leg or another symbol of the same decision is judged with it.
   */
  readonly expectedPosition?: (symbol: string) => Decimal;
  /**
   * Symbols besides the account's open positions whose expected position may not be zero: intents
   * approved or on their way (resting post-only orders included), fills the account does not show
   * yet. The total notional and leverage limits value them too.
   */
  readonly exposedSymbols?: () => Iterable<string>;
}

/** Pass, or refuse with the rule's name and why (a typed result, never an exception). */
export type RiskDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: string; readonly reason: string };

/**
 * Judges every order intent (opening and reduce-only alike, from strategies and from risk's own
 * force-closes) before it reaches an executor. Issue 14 implements trading states (ACTIVE,
 * REDUCING, HALTED), the ban list, staleness, order-rate budgets, notional and leverage limits
 * here; force-close and close-all submit intents through `TradingEngine.submitTarget`. A gate
 * that refuses reports the refusal itself (`PreTradeRisk` to the `RiskEventLog`, which writes a
 * repeat of the same symbol and rule within a minute as a count, not a line): the engine only
 * counts it.
 */
export interface RiskGate {
  check(intent: OrderIntent, ctx: RiskContext): RiskDecision;
}

/** Until issue 14: allows everything (the seam exists so that nothing else has to change). */
export class PassThroughRisk implements RiskGate {
  check(): RiskDecision {
    return { allowed: true };
  }
}
