// The `collectors` section: one sub-section per collector kind (how many processes, how often each polls).
import {
  decimalString,
  integer,
  intervalList,
  number,
  oneOf,
  type SectionSettings,
  section,
  shown,
} from './config-fields.js';

/** The options every polling collector has: its process count and poll interval. */
function pollerOptions(instances: number, intervalMs: number) {
  return {
    instances: integer(0, 64).default(instances).describe('Processes `tributary up` starts for this kind'),
    intervalMs: integer(50, 86_400_000).default(intervalMs).describe('Time between polls, ms'),
  };
}

/** Bars (and the book ticker) by REST, one symbol per poll, the symbols in turn. */
export const klineCollectorSection = section({
  ...pollerOptions(1, 1000),
  intervals: intervalList(['1m', '15m']).describe('Intervals polled'),
  fullEveryMs: integer(1000, 3_600_000)
    .default(30_000)
    .describe('How often a full window is fetched instead of the latest bars, ms'),
});

/** The same for the hub's top-ranked symbols, polled faster. */
export const hotKlineCollectorSection = section({
  ...pollerOptions(1, 200),
  intervals: intervalList(['1m']).describe('Intervals polled'),
  top: integer(1, 500)
    .default(5)
    .describe('At most this many symbols pass the condition (the largest volumes first)'),
  minQuoteVolume: decimalString()
    .default('0')
    .describe(
      'The volume condition (seed 000): 24 h quote volume a symbol needs to be hot, in the quote asset',
    ),
  conditionRefreshMs: integer(10_000, 86_400_000)
    .default(300_000)
    .describe('How often the condition is re-evaluated from GET ticker/24hr (weight 40)'),
});

/** All-symbol book tickers and traded prices. A poll costs weight 7 (bookTicker 5 + ticker/price 2): 2 polls a second is 840 of the 2,400 a minute. */
export const tickCollectorSection = section({
  instances: integer(0, 64).default(1).describe('Processes `tributary up` starts for this kind'),
  maxPollsPerSecond: number(0.1, 8)
    .default(2)
    .describe('Upper bound of all-symbol book ticker + traded price polls per second'),
});

/** Market websocket streams (klines). */
export const streamCollectorSection = section({
  instances: integer(0, 64).default(1).describe('Processes `tributary up` starts for this kind'),
  intervals: intervalList(['1m', '15m']).describe('Kline intervals streamed'),
  maxStreamsPerConnection: integer(1, 1024).default(200).describe('Streams per websocket connection'),
  markFallbackMs: integer(100, 600_000)
    .default(3000)
    .describe(
      'Mark prices come from REST premiumIndex (weight 10) while !markPrice@arr@1s is silent this long',
    ),
  quietCloseBoundMs: integer(1500, 10_000)
    .default(2500)
    .describe(
      "Bars of quiet symbols close by the exchange's clock at most this far past the market route's newest event (its 1 s mark price heartbeat keeps it moving); a stalled route stops closing bars within it",
    ),
  marketStallMs: integer(3000, 300_000)
    .default(10_000)
    .describe(
      'The market route silent this long after its heartbeat was seen is a stall: logged, counted and reconnected (missed trades fetched by id)',
    ),
  connectionStallMs: integer(0, 3_600_000)
    .refine((ms) => ms === 0 || ms >= 10_000, {
      error: (issue) => `must be 0 (off) or an integer from 10000 to 3600000, got ${shown(issue.input)}`,
    })
    .default(60_000)
    .describe(
      "One market (or public, book tickers) connection silent this long while the route delivers (after it delivered before) is a stall of that connection: logged, counted and only it reconnected (missed trades fetched by id); 0 turns this off. Binance pushes a kline update every 250 ms only 'if existing', so a connection of thin symbols may be quiet: keep a wide margin",
    ),
  publicStallMs: integer(0, 3_600_000)
    .refine((ms) => ms === 0 || ms >= 10_000, {
      error: (issue) => `must be 0 (off) or an integer from 10000 to 3600000, got ${shown(issue.input)}`,
    })
    .default(30_000)
    .describe(
      'The whole public route (every book ticker connection) silent this long, after it delivered or was subscribed, while the market route delivers is a stall of the route: logged, counted and every public connection reconnected (its quotes would otherwise stay stale); 0 turns this off',
    ),
});

/** The account (balances) by REST. */
export const accountCollectorSection = section({
  ...pollerOptions(1, 5000),
  version: oneOf(['v3', 'v2']).default('v3').describe('Binance endpoint version'),
});

/** Positions by REST. */
export const positionRiskCollectorSection = section({
  ...pollerOptions(1, 5000),
  version: oneOf(['v3', 'v2']).default('v3').describe('Binance endpoint version'),
});

/** The user data stream (order, balance and position events). */
export const userStreamCollectorSection = section({
  instances: integer(0, 4).default(1).describe('Processes `tributary up` starts for this kind'),
});

/** Income history (funding, fees, realised PnL). */
export const incomeCollectorSection = section(pollerOptions(1, 60_000));

/** The exchange's symbol list and filters (fills the hub's registry). */
export const universeCollectorSection = section(pollerOptions(1, 86_400_000));

/** The `collectors` section: every collector kind, each absent one at its defaults. */
export const collectorsSection = section({
  kline: klineCollectorSection.prefault({}),
  hotKline: hotKlineCollectorSection.prefault({}),
  tick: tickCollectorSection.prefault({}),
  stream: streamCollectorSection.prefault({}),
  account: accountCollectorSection.prefault({}),
  positionRisk: positionRiskCollectorSection.prefault({}),
  userStream: userStreamCollectorSection.prefault({}),
  income: incomeCollectorSection.prefault({}),
  universe: universeCollectorSection.prefault({}),
});

export type CollectorsConfig = SectionSettings<typeof collectorsSection>;
