// The strategy API: what a strategy declares, what it is handed, and what it may do (set target positions).
import type { z } from 'zod';
import type { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { BarEvent, ExecutionStyle, FillEvent, TickEvent } from '../engine/events.js';
import type { AccountView, MarketData } from '../engine/market-data.js';

/** JSON a strategy keeps across restarts. */
export type StrategyState =
  | null
  | boolean
  | number
  | string
  | StrategyState[]
  | { [key: string]: StrategyState };

/** What a strategy needs from the data source. */
export interface StrategyRequirements {
  /** Symbols it trades, or `all` for every symbol the data source lists. */
  readonly symbols: readonly string[] | 'all';
  /** Bar intervals it reads; `onBar` is called when a bar of one of them closes. */
  readonly intervals: readonly IntervalName[];
  /**
   * Closed bars a series must hold before `onBar` is called for it (warm-up). The engine also
   * asks the data source for this much history at start.
   */
  readonly warmupBars: number;
  /** Whether `onTick` is called on every new last price (costly in backtests; bars only if false). */
  readonly ticks: boolean;
}

/** Options of one target. */
export interface TargetOptions {
  /** How the resulting orders are executed; default market. */
  readonly execution?: ExecutionStyle;
  /** Why, for logs and the report. */
  readonly reason: string;
}

/** What a strategy is handed on every call. */
export interface StrategyContext {
  /** The instance name (part of every client order id of its orders). */
  readonly name: string;
  readonly market: MarketData;
  readonly account: AccountView;
  readonly log: Logger;
  /** Engine time: wall time live, data time in a backtest. */
  now(): number;
  /**
   * Asks for a position of `quantity` (signed base units: > 0 long, < 0 short, 0 flat) in `symbol`.
   * The engine turns the difference from the current position into orders (snapped to the
   * symbol's filters, minimum notional respected, a flip split into a reduce-only close and an
   * open), passes them through risk and executes them. The decision is keyed by the current
   * event's time: asking twice for the same event sends once.
   */
  setTarget(symbol: string, quantity: Decimal, options: TargetOptions): void;
  /** The base quantity worth `notional` USDT at the last price (unsnapped), or undefined without a price. */
  quantityFor(symbol: string, notional: Decimal): Decimal | undefined;
}

/**
 * A strategy: declared needs plus callbacks. Every callback runs on the engine's one queue, in
 * event order, so a strategy needs no locking; `onBar` may be async (the engine waits for it).
 * A strategy never parses data and never touches the network: it reads `ctx.market` and
 * `ctx.account` and calls `ctx.setTarget`.
 */
export interface Strategy {
  readonly requirements: StrategyRequirements;
  /** Once, before any event (history is in the series by then). */
  start?(ctx: StrategyContext): void | Promise<void>;
  /** A bar of a required interval closed (after warm-up). */
  onBar?(ctx: StrategyContext, bar: BarEvent): void | Promise<void>;
  /** A new last price (only with `requirements.ticks`). */
  onTick?(ctx: StrategyContext, tick: TickEvent): void;
  /** One of its orders filled (partly). */
  onFill?(ctx: StrategyContext, fill: FillEvent): void;
  /** Once, at shutdown. */
  stop?(ctx: StrategyContext): void | Promise<void>;
  /** State to keep across a restart (saved after every event that called the strategy). */
  saveState?(): StrategyState;
  /** The state saved last time, before `start`. */
  restoreState?(state: StrategyState): void;
}

/** A strategy kind: its name, its configuration schema (validated like the rest) and a factory. */
export interface StrategyDefinition<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly summary: string;
  readonly config: Schema;
  create(config: z.output<Schema>): Strategy;
}

/** A definition with its configuration type erased (for registries). */
export type AnyStrategyDefinition = StrategyDefinition<z.ZodType>;

/** Defines a strategy kind with its schema's output type carried to `create`. */
export function defineStrategy<Schema extends z.ZodType>(
  definition: StrategyDefinition<Schema>,
): StrategyDefinition<Schema> {
  return definition;
}

/** The quantity worth `notional` at `price`, at 12 decimals (the executor snaps it to the step). */
export function notionalQuantity(notional: Decimal, price: Decimal): Decimal {
  return notional.div(price, 12, 'down');
}
