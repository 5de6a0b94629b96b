// What the publisher reads: a narrow read interface over the records (the store adapter implements it).
import type {
  Candle,
  ChartTrade,
  Decimal,
  EquityPoint,
  Millis,
  PublicProcess,
  RoundTripRow,
  StopLevel,
} from '../ts/publish/dashboard-documents.js';

/** The latest account snapshot. */
export interface AccountRow {
  readonly time: Millis;
  readonly asset: string;
  readonly walletBalance: Decimal;
  readonly unrealizedPnl: Decimal;
  readonly availableBalance: Decimal | null;
}

/** One open position as recorded (amount signed: negative is short). */
export interface SourcePosition {
  readonly symbol: string;
  readonly amount: Decimal;
  readonly entryPrice: Decimal;
  readonly markPrice: Decimal | null;
  readonly unrealizedPnl: Decimal | null;
  readonly updatedAt: Millis;
}

/** Income summed over some span: realized PnL, commission (as a positive cost), funding, fills. */
export interface IncomeTotals {
  readonly realizedPnl: Decimal;
  readonly commission: Decimal;
  readonly funding: Decimal;
  readonly trades: number;
}

/** One UTC day's income totals. */
export interface DailyIncome extends IncomeTotals {
  /** `YYYY-MM-DD`. */
  readonly day: string;
}

/** A round trip as recorded (net = realized PnL − commission + funding, as the records compute it). */
export type SourceRoundTrip = RoundTripRow;

/** Processes, freshness and latency for the public status (no addresses: the builder copies fields). */
export interface SystemStatusInput {
  readonly hubSeenAt: Millis | null;
  readonly hubUptimeMs: number | null;
  readonly hubLatencyUs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  readonly processes: readonly PublicProcess[];
  readonly collectors: readonly {
    readonly name: string;
    readonly kind: string | null;
    readonly ageMs: number | null;
  }[];
  readonly tradingStates: readonly { readonly trader: string; readonly state: string }[];
}

/**
 * The records the dashboard documents are built from. Every amount is an exact decimal string;
 * every list is bounded by its arguments so a long history never makes a document unbounded.
 */
export interface DashboardSource {
  /** Trading mode and strategy names (shown on the page). */
  describe(): Promise<{ readonly mode: string; readonly strategies: readonly string[] }>;
  /** The newest account snapshot, if any. */
  account(): Promise<AccountRow | undefined>;
  /** Open positions (amount ≠ 0). */
  positions(): Promise<readonly SourcePosition[]>;
  /** Equity curve points since `since`, oldest first, at most `limit` (evenly thinned if more). */
  equity(since: Millis, limit: number): Promise<readonly EquityPoint[]>;
  /** Income per UTC day from `sinceDay` (`YYYY-MM-DD`) on, oldest first. */
  dailyIncome(sinceDay: string): Promise<readonly DailyIncome[]>;
  /** Income per symbol from the UTC day `sinceDay` (`YYYY-MM-DD`) on (null: all of it). */
  symbolIncome(sinceDay: string | null): Promise<ReadonlyMap<string, IncomeTotals>>;
  /** The latest round trips, newest first. */
  roundTrips(limit: number): Promise<readonly SourceRoundTrip[]>;
  /** Round trips whose net ≤ `threshold`, worst first. */
  largeLosses(threshold: Decimal, limit: number): Promise<readonly SourceRoundTrip[]>;
  /** Stop-loss trigger prices in force now, by symbol. */
  openStops(): Promise<ReadonlyMap<string, readonly Decimal[]>>;
  /**
   * Symbols worth a chart, at most `limit`: those holding a position first, then those traded since
   * `since` (the latest first); before any is, the markets the system watches (the most active
   * first), so a fresh start shows a market.
   */
  chartSymbols(since: Millis, limit: number): Promise<readonly string[]>;
  /** Candles of `symbol` on `interval` since `since`, oldest first, at most `limit` (the newest). */
  klines(symbol: string, interval: string, since: Millis, limit: number): Promise<readonly Candle[]>;
  /** The strategy's fills of `symbol` since `since`, oldest first. */
  trades(symbol: string, since: Millis): Promise<readonly ChartTrade[]>;
  /** Stop levels of `symbol` that were in force at some time since `since`. */
  stopLevels(symbol: string, since: Millis): Promise<readonly StopLevel[]>;
  /** Processes, freshness, latency and trading states. */
  systemStatus(): Promise<SystemStatusInput>;
}
