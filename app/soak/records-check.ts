// The soak's records check: the records store against the simulator's account, compared until they are equal or a deadline passes.
import type { RunningSimulator } from '../../sim/simulator.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import type { RecordScope } from '../../ts/store/store-records.js';
import {
  type AccountLinesGap,
  accountLinesGaps,
  exchangeAccountLines,
  storedAccountLines,
} from '../testing/account-lines.js';

/** What the records check found. */
export interface RecordsCheck {
  /** Rows of each kind the exchange holds (orders, fills, income, conditional orders), the later ones included. */
  readonly exchangeRows: Record<'orders' | 'fills' | 'income' | 'algoOrders', number>;
  /** Seconds from the check's start until the store equaled the exchange; null when it never did. */
  readonly convergedAfterS: number | null;
  /** The rows the store lacked or held beyond the exchange at the first comparison (counts per kind). */
  readonly gapsAtStart: Record<string, { missing: number; extra: number }>;
  /** Still different at the deadline: the first lines of each kind (empty when it converged). */
  readonly mismatches: string[];
}

/** Options of {@link checkRecords}. */
export interface RecordsCheckOptions {
  readonly sim: RunningSimulator;
  readonly accountId: string;
  /** The symbols to read at the exchange: every symbol the account may have traded. */
  readonly symbols: readonly string[];
  readonly store: RecordStore;
  readonly scope: RecordScope;
  /** How long the store may take to catch up (the recorder's reconciliation runs on its own schedule), ms. */
  readonly withinMs: number;
  readonly pollMs?: number;
}

const counts = (gaps: readonly AccountLinesGap[]) =>
  Object.fromEntries(gaps.map((g) => [g.kind, { missing: g.missing.length, extra: g.extra.length }]));

/**
 * Compares the store's orders, fills, income and conditional orders of `scope` with the
 * simulator's account in `symbols` as they stood when the check started (the trader goes on
 * trading: what changed later is left out on both sides), again every `pollMs`, until they are
 * equal or `withinMs` has passed. What the first comparison found is kept apart from what was
 * still wrong at the end: a store that needed the recorder's next pass to catch up is not a
 * failure, one that never did is.
 */
export async function checkRecords(options: RecordsCheckOptions): Promise<RecordsCheck> {
  const started = Date.now();
  const asOf = options.sim.clock.now();
  const compare = async () => {
    const want = exchangeAccountLines(options.sim, options.accountId, options.symbols);
    const have = await storedAccountLines(options.store, options.scope);
    return { want, gaps: accountLinesGaps(want, have, asOf) };
  };
  let { want, gaps } = await compare();
  const gapsAtStart = counts(gaps);
  while (gaps.length > 0 && Date.now() - started < options.withinMs) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
    ({ want, gaps } = await compare());
  }
  return {
    exchangeRows: {
      orders: want.orders.length,
      fills: want.fills.length,
      income: want.income.length,
      algoOrders: want.algoOrders.length,
    },
    convergedAfterS: gaps.length === 0 ? Math.round((Date.now() - started) / 1000) : null,
    gapsAtStart,
    mismatches: gaps.flatMap((g) => [
      ...g.missing.slice(0, 10).map((text) => `${g.kind} missing from the store: ${text}`),
      ...g.extra.slice(0, 10).map((text) => `${g.kind} only in the store: ${text}`),
    ]),
  };
}
