// Replays recorded data through the same engine, strategy and execution code as live, against the simulator's matching, fees and funding.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SymbolSpec } from '../../sim/contracts.js';
import { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import { EventAccount } from '../../trader/engine/event-account.js';
import type { BarEvent } from '../../trader/engine/events.js';
import { type StrategyStateStore, TradingEngine } from '../../trader/engine/trading-engine.js';
import { MemoryOrderJournal } from '../../trader/execution/order-journal.js';
import { SymbolRules } from '../../trader/execution/symbol-rules.js';
import { MemoryTradeRecorder, type TradeRecorder } from '../../trader/execution/trade-recorder.js';
import type { Strategy } from '../../trader/strategies/strategy-api.js';
import { incomeCollectorSection } from '../../ts/config/collectors-config.js';
import { defaultRiskSettings, type RiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { type Logger, silentLogger } from '../../ts/log/logger.js';
import { INTERVALS, type IntervalName, isIntervalName } from '../../ts/native/interval.js';
import { DrivenMarket } from '../venues/driven-market.js';
import { EngineVenue, recordEngineStops } from '../venues/engine-venue.js';
import { ruleFields, simulatorSpec, specFromPrice } from '../venues/symbol-specs.js';
import { BacktestMarketData } from './backtest-market-data.js';
import { BacktestRisk, type BacktestRiskReport, type OrderLimits, orderLimits } from './backtest-risk.js';
import { FUNDING_STEP_MS, FundingRates, type FundingReport, isFundingFile } from './funding-rates.js';
import { KlineFills, type KlinePrices } from './kline-fills.js';
import { SimulatorOpenOrders } from './open-orders.js';
import { ReplayClock } from './replay-clock.js';
import {
  type BarBuilderFactory,
  nativeBarBuilder,
  type ReplayBar,
  SymbolTape,
  type TapeKind,
} from './symbol-tape.js';

const STEP_MS = FUNDING_STEP_MS;
/** Timers run after the data ends before a run that still has work is called stalled. */
const MAX_DRAIN_TURNS = 100_000;

const ignoreRow = (): void => {};

/** A kline bar of one symbol closed in this step, waiting for the bar fill model. */
interface KlineStep {
  readonly symbol: string;
  readonly bar: ReplayBar;
}

/** How a backtest runs. */
export interface BacktestOptions {
  /** Strategy name (for keys and the report) and the strategy itself. */
  readonly strategyName: string;
  readonly strategy: Strategy;
  /**
   * data.binance.vision files: `SYMBOL-aggTrades-DATE.csv|.zip` or `SYMBOL-<interval>-DATE.csv|.zip`,
   * and `SYMBOL-fundingRate-YYYY-MM.csv|.zip` for the funding Binance applied (else a constant, assumed).
   */
  readonly files: readonly string[];
  /** Starting USDT wallet, exact (default 10000). */
  readonly balance?: string;
  readonly makerFee?: string;
  readonly takerFee?: string;
  readonly leverage?: number;
  /** Contract specs by symbol (exchangeInfo); the simulator's list, else derived from the data. */
  readonly specs?: ReadonlyMap<string, SymbolSpec>;
  readonly barBuilder?: BarBuilderFactory;
  /** Where the strategy's `saveState` goes and `restoreState` comes from (default: nowhere). */
  readonly stateStore?: StrategyStateStore;
  readonly logger?: Logger;
  /** Called about every `progressEveryMs` of wall time with the share of input read. */
  readonly onProgress?: (share: number, dataTime: number) => void;
  readonly progressEveryMs?: number;
  /** Also records every order, fill and conditional order here (the records store, mode `backtest`). */
  readonly record?: TradeRecorder;
  /**
   * The trader's risk side, as paper trading runs it: the pre-trade gate (with the ban list the
   * run's own income implies), the loss guard, the stop-loss ladders and the order timeouts, with
   * these settings (the config's `risk` section; default: its defaults, what a trader without a
   * config runs). `false`, or `enabled: false`: none of it, every order passes and no stop
   * protects a position.
   */
  readonly risk?: RiskSettings | false;
  /** Order counts the risk side paces openings to (default: a trader's, 80 % of Binance's limits). */
  readonly orderLimits?: OrderLimits;
  /**
   * How often the risk side decides the ban list from the run's income, replay ms: the income
   * collector's poll interval (`collectors.income.intervalMs`, default its default, 60 s).
   */
  readonly incomePollMs?: number;
}

/** One equity sample. */
export interface EquityPoint {
  readonly time: number;
  readonly equity: string;
  /** Symbols with a position at that time. */
  readonly exposed: number;
}

/** What a run produced (exact decimals as strings), for the report. */
export interface BacktestOutcome {
  readonly strategy: string;
  readonly symbols: string[];
  readonly files: string[];
  readonly start: number;
  readonly end: number;
  readonly balance: string;
  readonly finalEquity: string;
  readonly recorder: MemoryTradeRecorder;
  readonly equity: EquityPoint[];
  /** Closes of the base series per symbol, for the price chart: [openTime, open, high, low, close]. */
  readonly candles: Record<string, Array<[number, number, number, number, number]>>;
  readonly fees: string;
  readonly funding: string;
  /** Which funding was charged: recorded rates (files, rows) or the constant, as an assumption. */
  readonly fundingSource: FundingReport;
  /** Every funding payment booked (FUNDING_FEE income: negative paid, positive received), in order. */
  readonly fundingPayments: ReadonlyArray<{
    readonly time: number;
    readonly symbol: string;
    readonly income: string;
  }>;
  readonly realized: string;
  readonly trades: number;
  readonly assumedSpecs: string[];
  readonly skippedLegs: number;
  /** Input rows dropped as malformed, repeated or out of order (each symbol's first is logged). */
  readonly rejectedRows: number;
  readonly stats: TradingEngine['stats'];
  /** What the risk side did (refusals, stop-loss ladders, closes); null when the run had none. */
  readonly risk: BacktestRiskReport | null;
}

/** A run whose engine still has work after the data ended and no timer that would end it. */
export class BacktestStallError extends Error {
  override readonly name = 'BacktestStallError';
}

/** A file name that does not say what it holds. */
export class BacktestInputError extends Error {
  override readonly name = 'BacktestInputError';
}

interface FileGroup {
  symbol: string;
  kind: TapeKind;
  files: string[];
}

const FILE_NAME = /^([A-Z0-9_]+)-(aggTrades|[0-9]+[smhdwM])-(\d{4}-\d{2}(?:-\d{2})?)\.(csv|zip)$/;

/** `[symbol, what, date]` of a file name ('' for a name that does not match: refused below). */
function nameKey(file: string): [string, string, string] {
  const m = FILE_NAME.exec(basename(file));
  return m === null ? ['', '', basename(file)] : [m[1] as string, m[2] as string, m[3] as string];
}

/**
 * Groups files by symbol, in date order (a month before its days: a day it holds is then dropped
 * row by row as a repeat, not replayed after the month's later rows); every file of one symbol
 * must be of one kind and, for klines, one interval.
 */
export function groupFiles(files: readonly string[]): FileGroup[] {
  const groups = new Map<string, FileGroup>();
  const ordered = [...files].sort((a, b) => {
    const x = nameKey(a);
    const y = nameKey(b);
    // Code-unit order, not localeCompare: '2026-05' must come before '2026-05-08'.
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as string) < (y[i] as string) ? -1 : 1;
    return 0;
  });
  for (const file of ordered) {
    const m = FILE_NAME.exec(basename(file));
    if (m === null) {
      throw new BacktestInputError(
        `${file}: not a data.binance.vision aggTrades, klines or fundingRate file name (SYMBOL-aggTrades-YYYY-MM-DD.csv)`,
      );
    }
    const symbol = m[1] as string;
    const what = m[2] as string;
    let kind: TapeKind;
    if (what === 'aggTrades') kind = { kind: 'aggTrades' };
    else if (isIntervalName(what)) kind = { kind: 'klines', interval: what };
    else throw new BacktestInputError(`${file}: ${what} is not a kline interval`);
    const group = groups.get(symbol);
    if (group === undefined) groups.set(symbol, { symbol, kind, files: [file] });
    else if (group.kind.kind !== kind.kind)
      throw new BacktestInputError(`${symbol}: aggTrades and klines files mixed`);
    else if (group.kind.kind === 'klines' && kind.kind === 'klines' && group.kind.interval !== kind.interval)
      // One tape reads one interval: 1h rows read as 1m bars would be wrong bars, silently.
      throw new BacktestInputError(`${symbol}: klines of ${group.kind.interval} and ${kind.interval} mixed`);
    else group.files.push(file);
  }
  for (const group of groups.values()) checkNoMissingDay(group);
  return [...groups.values()];
}

const DAY_MS = 86_400_000;

/** `[first day, day after the last]` a file name covers (a daily or a monthly dump), in ms. */
function coveredDays(file: string): [number, number] {
  const [y, m, d] = (nameKey(file)[2] as string).split('-').map(Number) as [number, number, number?];
  if (d === undefined) return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 1)];
  const day = Date.UTC(y, m - 1, d);
  return [day, day + DAY_MS];
}

/**
 * Refuses a symbol's files that leave a day out: the replay would run through it on bars made up
 * from the last price (and charge funding on them), a result of data nobody recorded.
 */
function checkNoMissingDay(group: FileGroup): void {
  let until: number | undefined;
  let previous = '';
  for (const file of group.files) {
    const [from, to] = coveredDays(file);
    if (until !== undefined && from > until) {
      const last = new Date(from - DAY_MS).toISOString().slice(0, 10);
      const first = new Date(until).toISOString().slice(0, 10);
      throw new BacktestInputError(
        `${group.symbol}: no file for ${first === last ? first : `${first} to ${last}`} (between ${basename(previous)} and ${basename(file)})`,
      );
    }
    if (until === undefined || to > until) until = to;
    previous = file;
  }
}

/**
 * Runs one backtest to the end of its data: minute by minute, each symbol's data up to the minute
 * goes to the bar builders (native) and the driven market (the touch of its last trade; every
 * trade when the strategy wants ticks or an order rests), bars that closed go to the engine in
 * (time, interval, symbol) order, and the simulator's engine matches, charges fees and funding.
 * Deterministic: the same files give the same outcome.
 */
export async function runBacktest(options: BacktestOptions): Promise<BacktestOutcome> {
  const logger = options.logger ?? silentLogger('backtest');
  const marketFiles = options.files.filter((f) => !isFundingFile(f));
  const groups = groupFiles(marketFiles);
  // Before the check for no data: a fundingRate file alone is refused naming its symbol.
  const funding = FundingRates.load(
    options.files.filter(isFundingFile),
    new Map(groups.map((g) => [g.symbol, g.files])),
  );
  if (groups.length === 0) throw new BacktestInputError('no data files given');
  const req = options.strategy.requirements;
  const intervals = [...new Set<IntervalName>(['1m', ...req.intervals])].sort(
    (a, b) => INTERVALS.indexOf(a) - INTERVALS.indexOf(b),
  );
  for (const { symbol, kind } of groups) {
    if (kind.kind !== 'klines') continue;
    const given = kind.interval;
    const missing = req.intervals.filter((i) => i !== given);
    // Klines are replayed as given, never re-aggregated: the strategy would see no bar and trade nothing.
    if (missing.length > 0)
      throw new BacktestInputError(
        `${symbol}: klines of ${given} give no ${missing.join(', ')} bars the strategy trades on (give aggTrades or klines of that interval)`,
      );
  }
  const tapes = groups.map(
    (g) => new SymbolTape(g.symbol, g.kind, g.files, intervals, options.barBuilder ?? nativeBarBuilder),
  );
  const symbols = tapes.map((t) => t.symbol);
  let start = Number.POSITIVE_INFINITY;
  for (const tape of tapes) start = Math.min(start, tape.nextTime());
  if (!Number.isFinite(start)) throw new BacktestInputError('the data files hold no rows');
  // A first look at each symbol's first price, for specs the data has to describe.
  const specs: SymbolSpec[] = [];
  const assumed: string[] = [];
  for (const tape of tapes) {
    const given = options.specs?.get(tape.symbol) ?? simulatorSpec(tape.symbol);
    if (given !== undefined) {
      specs.push(given);
      continue;
    }
    // The tape's own first row: reading it does not consume it.
    specs.push(specFromPrice(tape.symbol, tape.firstPrice() ?? '1'));
    assumed.push(tape.symbol);
  }
  const t0 = Math.floor(start / STEP_MS) * STEP_MS;
  const clock = new ReplayClock(t0);
  const market = new DrivenMarket(specs, t0);
  const balance = options.balance ?? '10000';
  const sim = new ExchangeEngine({
    market,
    clock,
    accounts: [
      {
        apiKey: 'backtest',
        apiSecret: 'backtest',
        balances: { USDT: balance },
        makerFee: options.makerFee ?? '0.0002',
        takerFee: options.takerFee ?? '0.0005',
        defaultLeverage: options.leverage ?? 20,
      },
    ],
    logger: logger.child('sim'),
    // Recorded funding times are the rows' calc_times (4 h, 1 h intervals, a few ms late), not an
    // 8 h grid: the engine settles at every step, at the rate `funding.apply` sets (zero between).
    ...(funding.recorded ? { fundingIntervalMs: STEP_MS } : {}),
  });
  const venue = new EngineVenue(sim, 'account-1', () => clock.now());
  const data = new BacktestMarketData(symbols, market, Math.max(2 * req.warmupBars, 64));
  const account = new EventAccount(data, Decimal.parse(balance));
  const recorder = new MemoryTradeRecorder();
  const orders = new SimulatorOpenOrders();
  const klineFills = new KlineFills(market, orders);
  venue.onUserEvent((event) => {
    // The account first: the ladders read positions when the same event reaches them.
    if (event.accountUpdate !== undefined) account.apply(event.accountUpdate);
    orders.onUserEvent(event);
  });
  // The ladders' stops, for a store that keeps them (`--record`), as a paper trader's are.
  if (options.record !== undefined) recordEngineStops(venue, options.record);
  const rules = new SymbolRules(specs.map(ruleFields));
  const settings = options.risk === undefined ? defaultRiskSettings() : options.risk;
  const risk =
    settings === false || !settings.enabled
      ? undefined
      : new BacktestRisk({
          settings,
          venue,
          account,
          market: data,
          rules,
          clock,
          logger: logger.child('risk'),
          orderLimits: options.orderLimits ?? orderLimits(),
          income: (startTime) => venue.incomeSince(startTime),
          incomePollMs: options.incomePollMs ?? incomeCollectorSection.parse({}).intervalMs,
        });
  const engine = new TradingEngine({
    name: options.strategyName,
    strategy: options.strategy,
    market: data,
    account,
    venue: risk?.venue ?? venue,
    rules,
    clock,
    journal: new MemoryOrderJournal(),
    recorder: teeRecorder(recorder, options.record),
    logger: logger.child('engine'),
    ...(risk === undefined ? {} : { risk: risk.gate }),
    ...(options.stateStore === undefined ? {} : { stateStore: options.stateStore }),
  });
  risk?.attach(engine);
  await venue.applySettings(
    { marginType: 'CROSSED', positionMode: 'one-way', leverage: options.leverage ?? 20 },
    symbols,
  );
  // As in a trader: the ladders start (from the exchange's list) before the strategy may trade.
  await risk?.start();
  await engine.start();

  const equity: EquityPoint[] = [];
  const candles: BacktestOutcome['candles'] = {};
  for (const s of symbols) candles[s] = [];
  const totalBytes = marketFiles.reduce((sum, f) => sum + statSync(f).size, 0);
  const everyMs = options.progressEveryMs ?? 2_000;
  let lastProgress = Date.now();
  let end = t0;
  /**
   * Waits for the strategy's work (the engine's event queue, however long it takes) and lets the
   * executor's in-process work run: the venue answers synchronously, so one macrotask turn settles
   * all it can; what is left waits on data time (a resting order's fill or timeout, a TWAP slice)
   * and comes as the replay goes on. Awaiting `engine.idle()` instead would wait for ever. The
   * risk side's work (a ladder placed after a fill, replaced after a stop fired) is a chain of
   * awaits on the simulator: turns are given while it sends something or hears from the simulator.
   */
  const settle = async (): Promise<void> => {
    do {
      await engine.queue.drain();
      const riskWork = risk?.takeActivity() === true;
      if (engine.executor.busy || riskWork) await nextTurn();
    } while (engine.queue.size > 0 || risk?.active === true);
  };
  /** {@link settle}, also when the executor is idle: a fill's event may start the strategy's work. */
  const settleAll = async (): Promise<void> => {
    await nextTurn();
    await settle();
  };
  /** Runs the engine's timers due up to `at`, each at its own time, the engine settled after each. */
  const runClockTo = async (at: number): Promise<void> => {
    for (let due = clock.nextDue(); due <= at; due = clock.nextDue()) {
      clock.advanceTo(due);
      await settle();
    }
    clock.advanceTo(at);
  };
  const collect = (symbol: string, bar: ReplayBar, time: number, into: BarEvent[]): void => {
    const v = bar.values;
    data.seriesFor(symbol, bar.interval).push(v);
    if (bar.interval === '1m')
      candles[symbol]?.push([v[0] as number, v[2] as number, v[3] as number, v[4] as number, v[5] as number]);
    into.push({
      type: 'bar',
      symbol,
      interval: bar.interval,
      openTime: v[0] as number,
      closeTime: v[1] as number,
      open: v[2] as number,
      high: v[3] as number,
      low: v[4] as number,
      close: v[5] as number,
      volume: v[6] as number,
      time,
    });
  };
  for (let time = t0 + STEP_MS; !tapes.every((t) => t.ended); time += STEP_MS) {
    const bars: Array<BarEvent> = [];
    const klineBars: KlineStep[] = [];
    for (const tape of tapes) {
      const symbol = tape.symbol;
      if (tape.kind.kind === 'klines') {
        // Walked below, after the trade tapes of this step: the bar model runs the clock to the bars' close.
        for (const bar of tape.advance(time, ignoreRow)) klineBars.push({ symbol, bar });
        continue;
      }
      const wantsTicks = req.ticks && engine.follows(symbol);
      // A waiting stop (a ladder's) is judged trade by trade, so that it fires at the trade that reaches it.
      const perTrade = wantsTicks || orders.watches(symbol);
      const closed = perTrade
        ? await tape.advanceEach(time, (row) => {
            clock.advanceTo(row.time);
            if (orders.rests(symbol) || orders.reached(symbol, row.price))
              market.publishTrade(symbol, row.price, row.qty, row.takerSold, row.time);
            else market.setLastTrade(symbol, row.price, row.takerSold, row.time);
            const riskWork = risk !== undefined && (risk.active || engine.queue.size > 0);
            if (wantsTicks) {
              const pending = engine.push({ type: 'tick', symbol, price: Number(row.price), time: row.time });
              return pending === undefined && !riskWork ? undefined : settle();
            }
            return engine.executor.busy || riskWork ? settle() : undefined;
          })
        : tape.advance(time, (row) => market.setLastTrade(symbol, row.price, row.takerSold, row.time));
      for (const bar of closed) collect(symbol, bar, time, bars);
    }
    if (klineBars.length > 0) await walkKlines(klineBars, time, bars);
    clock.advanceTo(time);
    if (funding.recorded) funding.apply(market, time);
    sim.advance(time);
    // The risk side's step (its checks, a stop the mark fired) settles before the strategy sees the bars.
    if (risk !== undefined && (risk.active || engine.queue.size > 0)) await settle();
    bars.sort(
      (a, b) =>
        a.closeTime - b.closeTime ||
        INTERVALS.indexOf(a.interval) - INTERVALS.indexOf(b.interval) ||
        (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0),
    );
    for (const bar of bars) {
      if (!req.intervals.includes(bar.interval)) continue;
      if (engine.push(bar) !== undefined) await settle();
    }
    if (engine.executor.busy || engine.queue.size > 0 || risk?.active === true) await settle();
    const open = account.openPositions();
    equity.push({ time, equity: (account.equity() ?? Decimal.ZERO).toString(), exposed: open.length });
    end = time;
    if (options.onProgress !== undefined && Date.now() - lastProgress >= everyMs) {
      lastProgress = Date.now();
      const read = tapes.reduce((sum, t) => sum + t.bytesRead, 0);
      options.onProgress(totalBytes > 0 ? read / totalBytes : 0, time);
    }
  }

  /**
   * The klines of one step, bar by bar (those opening together at once): the touch at the open
   * (all that is known when the bar starts), the engine's timers due inside the bar (a post-only
   * order that times out is cancelled before the bar can fill it, its remainder sent at the open),
   * the bar fill model over what rested since the bar opened, then the touch at the close, the
   * series and the strategy's tick.
   */
  async function walkKlines(steps: KlineStep[], time: number, into: BarEvent[]): Promise<void> {
    steps.sort((a, b) => (a.bar.values[0] as number) - (b.bar.values[0] as number));
    for (let i = 0; i < steps.length; ) {
      const openTime = steps[i]?.bar.values[0] as number;
      let j = i;
      let closeTime = openTime;
      while (j < steps.length && steps[j]?.bar.values[0] === openTime) {
        closeTime = Math.max(closeTime, steps[j]?.bar.values[1] as number);
        j += 1;
      }
      const group = steps.slice(i, j);
      i = j;
      for (const { symbol, bar } of group) {
        const prices = bar.prices as KlinePrices;
        market.setLastTrade(symbol, prices.open, false, openTime);
      }
      await runClockTo(closeTime);
      for (const { symbol, bar } of group)
        await klineFills.replay(symbol, bar.prices as KlinePrices, openTime, clock.now(), settleAll);
      for (const { symbol, bar } of group) {
        const prices = bar.prices as KlinePrices;
        const barClose = bar.values[1] as number;
        market.setLastTrade(symbol, prices.close, false, barClose);
        collect(symbol, bar, time, into);
        if (req.ticks && engine.follows(symbol)) {
          const pending = engine.push({ type: 'tick', symbol, price: Number(prices.close), time: barClose });
          if (pending !== undefined) await settle();
        }
      }
    }
  }

  // Work still running when the data ends (a post-only order resting, TWAP slices) runs out on
  // the clock at the last prices, as it would have had the data gone on: `engine.stop()` waits for it.
  for (let turns = 0; engine.executor.busy; turns++) {
    const due = clock.nextDue();
    if (!Number.isFinite(due) || turns >= MAX_DRAIN_TURNS)
      throw new BacktestStallError(
        `the executor is still working after the data ended (${turns} timers run) and nothing it waits for is scheduled`,
      );
    clock.advanceTo(due);
    await settle();
  }
  if (klineFills.stats.deferredLevels > 0)
    logger.warn(
      'kline fills deferred to the next bar: an order placed inside a bar rested at a better price',
      {
        levels: klineFills.stats.deferredLevels,
      },
    );
  await risk?.stop();
  await engine.stop();
  const fundingSource = funding.report();
  if (fundingSource.gaps > 0)
    logger.warn(
      'gaps between recorded fundingRate rows longer than their interval (funding times there not charged)',
      {
        gaps: fundingSource.gaps,
      },
    );
  for (const tape of tapes)
    if (tape.rejected > 0)
      logger.warn('input rows rejected', {
        symbol: tape.symbol,
        rows: tape.rejected,
        first: tape.firstRejection,
      });
  // Everything still open is valued at the last prices (not closed: the report says so).
  const income = (await venue.income()) as ReadonlyArray<{
    incomeType: string;
    income: string;
    symbol: string;
    time: number;
  }>;
  const sum = (type: string) =>
    income
      .filter((r) => r.incomeType === type)
      .reduce((s, r) => s.add(Decimal.parse(r.income)), Decimal.ZERO);
  venue.close();
  sim.close();
  return {
    strategy: options.strategyName,
    symbols,
    files: options.files.map((f) => basename(f)),
    start: t0,
    end,
    balance,
    finalEquity: (account.equity() ?? Decimal.ZERO).toString(),
    recorder,
    equity,
    candles,
    fees: sum('COMMISSION').neg().toString(),
    funding: sum('FUNDING_FEE').toString(),
    fundingSource,
    fundingPayments: income
      .filter((r) => r.incomeType === 'FUNDING_FEE')
      .map((r) => ({ time: Number(r.time), symbol: r.symbol, income: r.income })),
    realized: sum('REALIZED_PNL').toString(),
    trades: recorder.fills.length,
    assumedSpecs: assumed,
    skippedLegs: engine.planner.skippedCount,
    rejectedRows: tapes.reduce((n, t) => n + t.rejected, 0),
    stats: { ...engine.stats },
    risk: risk?.report() ?? null,
  };
}

/** Records to `memory` (the report) and, when given, to `also`. */
function teeRecorder(memory: MemoryTradeRecorder, also: TradeRecorder | undefined): TradeRecorder {
  if (also === undefined) return memory;
  return {
    order: (order) => {
      memory.order(order);
      also.order(order);
    },
    fill: (fill) => {
      memory.fill(fill);
      also.fill(fill);
    },
  };
}
