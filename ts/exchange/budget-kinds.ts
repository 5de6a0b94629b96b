// The kinds of REST request the IP weight budget serves, highest priority first, and their ranks.

/**
 * What a request is for, in the order the budget serves them under contention: order placement
 * and management, account and position reads, klines, tickers and books, income, the universe.
 */
export const BUDGET_KINDS = ['order', 'account', 'kline', 'tick', 'income', 'universe'] as const;
export type BudgetKind = (typeof BUDGET_KINDS)[number];

/** 0 for `order` (served first) … 5 for `universe`. */
export function budgetRank(kind: BudgetKind): number {
  return BUDGET_KINDS.indexOf(kind);
}

/** Whether `value` names a budget kind. */
export function isBudgetKind(value: unknown): value is BudgetKind {
  return typeof value === 'string' && (BUDGET_KINDS as readonly string[]).includes(value);
}

/** A count per kind, every kind present (zero when unused). */
export type PerKind = Record<BudgetKind, number>;

/** A fresh all-zero {@link PerKind}. */
export function zeroPerKind(): PerKind {
  return { order: 0, account: 0, kline: 0, tick: 0, income: 0, universe: 0 };
}
