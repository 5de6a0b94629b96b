// The `simulator` section: the built-in exchange that `tributary up` runs when no real exchange is set.
import {
  decimalString,
  integer,
  number,
  numberOrWord,
  oneOf,
  type SectionSettings,
  section,
  symbolList,
  symbolName,
  text,
} from './config-fields.js';

/** Replay of a recorded aggTrades CSV instead of the random walk. */
export const replaySection = section({
  csvPath: text().describe('aggTrades CSV file to replay'),
  symbol: symbolName().default('BTCUSDT').describe('Symbol the trades belong to'),
  speed: numberOrWord(1, 1_000_000, 'max')
    .default(1)
    .describe('Replay speed: 1 is real time, "max" as fast as possible'),
});

/** The `simulator` section. */
export const simulatorSection = section({
  host: text().default('127.0.0.1').describe('Address the simulator listens on'),
  port: integer(0, 65_535).default(0).describe('Port; 0 picks a free one'),
  seed: integer(0, 2 ** 31 - 1)
    .default(1)
    .describe('Seed of the random walk'),
  universe: integer(1, 2_000)
    .optional()
    .describe(
      'Contracts listed: the built-in six, then generated ones up to this many (about 600 is USD-M size)',
    ),
  symbols: symbolList().describe('Contracts the simulator lists (empty: its defaults)'),
  historyDays: integer(0, 100_000)
    .optional()
    .describe(
      'Days of generated history every symbol has at start (0: none; default 46,000 = 1,500 monthly bars)',
    ),
  liquidationShare: number(0, 1)
    .optional()
    .describe("Share of the walk's trades that are other traders' liquidations (default 0.002)"),
  tapeBudget: integer(1, 50_000_000)
    .optional()
    .describe('Live aggTrades the simulator keeps over all symbols together (default 2,000,000)'),
  balance: decimalString().default('10000').describe('Starting USDT balance of the account, exact'),
  positionMode: oneOf(['one-way', 'hedge']).default('one-way'),
  tradesPerSecond: number(0.1, 100_000)
    .default(20)
    .describe("Trades per second of each symbol's random walk"),
  replay: replaySection.optional().describe('Replay an aggTrades CSV instead of the random walk'),
});

export type SimulatorSettings = SectionSettings<typeof simulatorSection>;
