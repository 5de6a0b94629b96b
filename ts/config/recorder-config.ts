// The `recorder` section: what `tributary record` reconciles from REST and snapshots, and how often.
import { flag, integer, intervalList, type SectionSettings, section, symbolList } from './config-fields.js';

/** The `recorder` section. */
export const recorderSection = section({
  enabled: flag().default(true).describe('Whether `tributary up` starts a recorder'),
  reconcileMs: integer(10_000, 86_400_000)
    .default(300_000)
    .describe(
      'The symbols with activity since the last reconciliation are reconciled from REST this often (besides the full passes after a start, hub reconnect, event gap or user-stream loss), ms',
    ),
  incomeMs: integer(1000, 3_600_000)
    .default(60_000)
    .describe(
      'Income history is read this often while fills or open positions may have booked some (else every reconcileMs), ms',
    ),
  snapshotMs: integer(1000, 3_600_000)
    .default(60_000)
    .describe('Positions, balances and equity are snapshotted this often, ms'),
  lookbackMs: integer(60_000, 7 * 86_400_000)
    .default(86_400_000)
    .describe('On a first start (empty store) history this far back is read, ms (at most 7 days)'),
  overlapMs: integer(0, 3_600_000)
    .default(120_000)
    .describe(
      "Each income read, and a new symbol's first read by time, starts this much before the last one (rows already stored are skipped), ms",
    ),
  activeDays: integer(1, 90)
    .default(7)
    .describe(
      'A full reconciliation looks at symbols with stored orders, fills or income within this many days',
    ),
  symbols: symbolList().describe(
    'Symbols every full reconciliation looks at (besides the active ones and open positions)',
  ),
  klineSymbols: symbolList().describe('Symbols whose closed bars are kept in the store'),
  klineIntervals: intervalList([]).describe('Intervals of the kept bars (with klineSymbols)'),
});

export type RecorderSettings = SectionSettings<typeof recorderSection>;
