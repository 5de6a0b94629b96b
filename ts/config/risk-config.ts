// The `risk` section: pre-trade checks, force-close and close-all, ban thresholds, stop-loss ladders and order timeouts (DESIGN.md 6; defaults from the seeds).
import { z } from 'zod';
import {
  decimalString,
  expecting,
  flag,
  integer,
  oneOf,
  type SectionSettings,
  section,
  text,
} from './config-fields.js';

/** A decimal string that must be positive (percentages, shares, limits). */
function positiveDecimal() {
  return decimalString().refine((v) => /[1-9]/.test(v) && !v.startsWith('-'), {
    error: expecting('a positive decimal number written as a string'),
  });
}

/** A decimal string that must not be positive (loss limits are written as negative USDT). */
function lossLimit() {
  return decimalString().refine((v) => v.startsWith('-') || !/[1-9]/.test(v), {
    error: expecting('a negative decimal number written as a string (a loss)'),
  });
}

/** A share between 0 and 1 inclusive, as a decimal string. */
function share() {
  return decimalString().refine((v) => !v.startsWith('-') && Number(v) <= 1, {
    error: expecting('a share from "0" to "1" written as a string'),
  });
}

/** Realized-PnL thresholds of the ban list the income collector computes (seed: −150 / 4 h, −1,800 / 24 h, ALL at −3,000 / 24 h). */
export const banListSection = section({
  symbol4h: lossLimit()
    .default('-150')
    .describe("A symbol's net realized PnL over 4 h at or below this bans it, USDT"),
  symbol24h: lossLimit()
    .default('-1800')
    .describe("A symbol's net realized PnL over 24 h at or below this bans it, USDT"),
  account24h: lossLimit()
    .default('-3000')
    .describe("The account's net realized PnL over 24 h at or below this bans everything (ALL), USDT"),
});

/** Checks every order passes before it is sent (reduce-only orders are exempt where noted). */
export const preTradeSection = section({
  followBanList: flag().default(true).describe("Refuse opening orders for symbols on the hub's ban list"),
  maxTickAgeMs: integer(100, 3_600_000)
    .default(10_000)
    .describe("Refuse opening orders when the symbol's last price is older than this, ms (book stale)"),
  maxSymbolNotional: positiveDecimal()
    .default('10000')
    .describe('Largest |position| × price in one symbol after an opening order, USDT'),
  maxTotalNotional: positiveDecimal()
    .default('50000')
    .describe('Largest sum of |position| × price over all symbols after an opening order, USDT'),
  maxLeverage: positiveDecimal()
    .default('5')
    .describe('Largest total notional / equity after an opening order (account leverage actually used)'),
  openingOrderShare: share()
    .default('0.8')
    .describe(
      "Opening orders are refused once the account's order count reaches this share of Binance's 10 s or 1 min limit; the rest is kept for reductions and stops",
    ),
});

/** Closing positions that lose too much. */
export const lossGuardSection = section({
  forceClosePercent: positiveDecimal()
    .default('7')
    .describe('Close a position when the price is this many percent against its entry (seed: 7)'),
  closeAllBelow: lossLimit()
    .default('-3000')
    .describe('Close every position and switch to REDUCING when total unrealized PnL falls to this, USDT'),
  checkMs: integer(50, 60_000).default(500).describe('How often positions are checked, ms'),
  retryMs: integer(100, 600_000)
    .default(3000)
    .describe('Wait before a close that did not finish is sent again, ms'),
});

/** Seed 000's makerStopLoss on today's API: reduce-only STOP_MARKET ladders through /fapi/v1/algoOrder. */
export const stopLossSection = section({
  enabled: flag()
    .default(true)
    .describe('Keep a stop-loss ladder on every position (one trader per account)'),
  rungs: integer(1, 20).default(5).describe('Stop orders per ladder, |position| / rungs each'),
  firstPercent: positiveDecimal().default('5').describe('First stop this many percent beyond the entry'),
  stepPercent: positiveDecimal().default('0.5').describe('Each further stop this many percent further'),
  minCoverage: share()
    .default('0.95')
    .describe('A new ladder is placed when the stops cover less than this share of |position|'),
  // A new ladder covers the whole position: under 1 every ladder would be replaced at every check.
  maxCoverage: decimalString()
    .refine((v) => !v.startsWith('-') && Number(v) >= 1, {
      error: expecting('at least "1" (a new ladder covers the whole position)'),
    })
    .default('1.05')
    .describe('... or more than this share (the position shrank: the rungs would close too much too early)'),
  repricePercent: positiveDecimal()
    .default('1')
    .describe(
      '... or when the entry moved so the first stop is this many percent of the entry off its place',
    ),
  workingType: oneOf(['MARK_PRICE', 'CONTRACT_PRICE'])
    .default('MARK_PRICE')
    .describe('Which price triggers the stops'),
  coverageGraceMs: integer(100, 600_000)
    .default(5000)
    .describe('A position covered under minCoverage for longer than this raises a stop-loss failure, ms'),
  // 600 ladders at once are 3,000 stops: 2.5 min at Binance's 1,200 orders/min, longer at the paced
  // share and beside the strategy's own orders; the default is twice that, so only a queue that does
  // not drain alerts. Above an hour a position would sit unprotected too long without a word.
  queuedGraceMs: integer(100, 3_600_000)
    .default(300_000)
    .describe(
      "While a ladder's orders wait in the trader's order-rate queue the grace runs from when they leave it; the whole wait is bounded by this, ms (at least coverageGraceMs)",
    ),
  settleMs: integer(0, 60_000)
    .default(1000)
    .describe('After a stop of a ladder triggered, wait this long for the position to follow, ms'),
  resyncMs: integer(1000, 3_600_000)
    .default(15_000)
    .describe('Each position and its ladder are checked against the exchange at least this often, ms'),
  fullResyncMs: integer(5000, 3_600_000)
    .default(60_000)
    .describe('Every open algo order of the account is read this often (finds orphans), ms'),
  maxOpenStops: integer(1, 100)
    .default(10)
    .describe(
      "Open conditional orders the exchange allows per symbol (exchangeInfo's MAX_NUM_ALGO_ORDERS): a replacement never exceeds it",
    ),
  confirmAttempts: integer(1, 20)
    .default(3)
    .describe('Read-backs of a new ladder before it counts as not confirmed'),
}).superRefine((stopLoss, ctx) => {
  // A rung 100 % or more below a long's entry has no price, and the planner leaves it out: a ladder
  // that deep leaves long positions with fewer stops, or none.
  const deepest = Number(stopLoss.firstPercent) + (stopLoss.rungs - 1) * Number(stopLoss.stepPercent);
  if (deepest >= 100)
    ctx.addIssue({
      code: 'custom',
      path: ['firstPercent'],
      message: `firstPercent + (rungs - 1) × stepPercent must be under 100, got ${deepest}`,
    });
  // A ladder is one stop per rung at least: more rungs than the symbol may hold stops would leave
  // every position's deepest rungs merged into one, the configured shape never placed.
  if (stopLoss.rungs > stopLoss.maxOpenStops)
    ctx.addIssue({
      code: 'custom',
      path: ['rungs'],
      message: `rungs must be at most maxOpenStops (${stopLoss.maxOpenStops}), got ${stopLoss.rungs}`,
    });
  // The queued bound covers the whole wait, the grace included: a smaller one would be raised to the
  // grace in silence, and a config mistake should not be.
  if (stopLoss.queuedGraceMs < stopLoss.coverageGraceMs)
    ctx.addIssue({
      code: 'custom',
      path: ['queuedGraceMs'],
      message: `queuedGraceMs must be at least coverageGraceMs (${stopLoss.coverageGraceMs}), got ${stopLoss.queuedGraceMs}`,
    });
});

/** One per-prefix limit of resting orders (seed 000's checkTimeoutOrders). */
export const timeoutRuleSchema = section({
  prefix: text().describe('Client order id prefix the rule applies to (m_, wTake, MC, ...)'),
  maxAgeMs: integer(100, 86_400_000).describe('A resting order older than this is cancelled, ms'),
  takerShare: share()
    .default('0')
    .describe("Share of the cancelled order's unfilled quantity sent again as a taker order"),
});

const DEFAULT_TIMEOUT_RULES = [
  { prefix: 'm_', maxAgeMs: 2500, takerShare: '0.3' },
  { prefix: 'wTake', maxAgeMs: 15_000, takerShare: '0' },
  { prefix: 'MC', maxAgeMs: 60_000, takerShare: '0' },
];

/** Resting orders cancelled after their kind's limit. */
export const orderTimeoutsSection = section({
  enabled: flag().default(true).describe('Cancel resting orders older than their prefix allows'),
  checkMs: integer(50, 60_000).default(250).describe('How often resting orders are checked, ms'),
  reconcileMs: integer(1000, 3_600_000)
    .default(60_000)
    .describe(
      "How often the account's open orders are read from the exchange (finds orders from before a restart), ms",
    ),
  rules: z
    .array(timeoutRuleSchema, { error: expecting('an array of { prefix, maxAgeMs, takerShare }') })
    .superRefine((rules, ctx) => {
      // The first matching prefix wins: a rule an earlier prefix covers would silently never apply.
      rules.forEach((rule, i) => {
        const earlier = rules.findIndex((r, j) => j < i && rule.prefix.startsWith(r.prefix));
        if (earlier >= 0)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'prefix'],
            message: `never applies: rules[${earlier}] (${JSON.stringify(rules[earlier]?.prefix)}) matches every id it matches (the first matching prefix wins)`,
          });
      });
    })
    .default(() => DEFAULT_TIMEOUT_RULES.map((r) => ({ ...r })))
    .describe('Limits by client order id prefix; the first matching prefix wins'),
});

/** The `risk` section. */
export const riskSection = section({
  enabled: flag().default(true).describe('Run the risk engine in traders (off: every order passes)'),
  banList: banListSection.prefault({}),
  preTrade: preTradeSection.prefault({}),
  lossGuard: lossGuardSection.prefault({}),
  stopLoss: stopLossSection.prefault({}),
  orderTimeouts: orderTimeoutsSection.prefault({}),
});

export type RiskSettings = SectionSettings<typeof riskSection>;
export type StopLossSettings = RiskSettings['stopLoss'];
export type PreTradeSettings = RiskSettings['preTrade'];
export type LossGuardSettings = RiskSettings['lossGuard'];
export type OrderTimeoutSettings = RiskSettings['orderTimeouts'];
export type BanListSettings = RiskSettings['banList'];

/** The defaults (every rule at the seeds' numbers), for code that runs without a configuration file. */
export function defaultRiskSettings(): RiskSettings {
  return riskSection.parse({});
}
