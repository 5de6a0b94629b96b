// The public dashboard's documents: what the publisher writes and the static pages read (shared by both, types only).

/**
 * The documents' format version. It is part of every document's path (`v1/summary.json`), so a
 * page built for one version never reads another's documents, and old pages keep working while a
 * new publisher writes beside them.
 */
export const DOCUMENT_VERSION = 1;

/** Folder of the versioned documents inside the published site. */
export const DOCUMENT_FOLDER = `v${DOCUMENT_VERSION}`;

/** An exact decimal as a string ("-12.3400"): money, prices and quantities are never binary floats. */
export type Decimal = string;

/** Unix milliseconds (UTC). */
export type Millis = number;

/** Every document names its version and when it was built. */
export interface DocumentHeader {
  readonly version: typeof DOCUMENT_VERSION;
  readonly generatedAt: Millis;
}

/** `manifest.json`: what exists and each document's content hash (the pages fetch `<name>?h=<hash>`). */
export interface ManifestDocument extends DocumentHeader {
  /** Document path (relative to the version folder) → short content hash. */
  readonly documents: Readonly<Record<string, string>>;
  /** Symbols that have a chart document (`charts/<symbol>.json`). */
  readonly chartSymbols: readonly string[];
}

/** `summary.json`: the account at a glance. */
export interface SummaryDocument extends DocumentHeader {
  /** When the account figures were taken (null: no account snapshot yet). */
  readonly asOf: Millis | null;
  readonly asset: string;
  readonly equity: Decimal | null;
  readonly walletBalance: Decimal | null;
  readonly unrealizedPnl: Decimal | null;
  readonly availableBalance: Decimal | null;
  /** Today's (UTC) realized PnL + funding − commission. */
  readonly todayPnl: Decimal;
  readonly todayCommission: Decimal;
  readonly openPositions: number;
  /** Trading mode (`paper`, `live`, ...) and strategy names shown on the page. */
  readonly mode: string;
  readonly strategies: readonly string[];
}

/** One open position. */
export interface PositionRow {
  readonly symbol: string;
  readonly side: 'LONG' | 'SHORT';
  /** Absolute amount in the base asset. */
  readonly amount: Decimal;
  readonly entryPrice: Decimal;
  readonly markPrice: Decimal | null;
  readonly unrealizedPnl: Decimal | null;
  readonly notional: Decimal | null;
  /** Stop-loss trigger prices protecting it. */
  readonly stopPrices: readonly Decimal[];
  readonly updatedAt: Millis;
}

/** `positions.json`. */
export interface PositionsDocument extends DocumentHeader {
  readonly positions: readonly PositionRow[];
}

/** One point of the equity curve. */
export interface EquityPoint {
  readonly time: Millis;
  readonly equity: Decimal;
  readonly walletBalance: Decimal;
}

/** `equity.json`: equity and wallet balance over time (one point a minute at most). */
export interface EquityDocument extends DocumentHeader {
  readonly points: readonly EquityPoint[];
}

/** One UTC day's results. */
export interface DailyRow {
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  readonly realizedPnl: Decimal;
  /** Commission paid, as a positive amount. */
  readonly commission: Decimal;
  readonly funding: Decimal;
  /** realizedPnl + funding − commission. */
  readonly net: Decimal;
  /** Fills of the day (the page's "Fills"). */
  readonly trades: number;
}

/** `daily.json`: newest day last. */
export interface DailyDocument extends DocumentHeader {
  readonly days: readonly DailyRow[];
}

/** PnL of one symbol over one window. */
export interface WindowPnl {
  readonly realizedPnl: Decimal;
  readonly commission: Decimal;
  readonly funding: Decimal;
  readonly net: Decimal;
  /** Fills (the page's "Fills all"), as in `daily.json`; not round trips. */
  readonly trades: number;
}

/** The windows of the per-symbol table. */
export const PNL_WINDOWS = ['1d', '7d', '30d', 'all'] as const;
export type PnlWindow = (typeof PNL_WINDOWS)[number];

/** `symbols.json`: per symbol, each window (symbols without activity in a window show zeros). */
export interface SymbolsDocument extends DocumentHeader {
  readonly symbols: readonly {
    readonly symbol: string;
    readonly windows: Readonly<Record<PnlWindow, WindowPnl>>;
  }[];
}

/** A position opened and closed again. */
export interface RoundTripRow {
  readonly symbol: string;
  readonly side: 'LONG' | 'SHORT';
  readonly openedAt: Millis;
  readonly closedAt: Millis;
  readonly quantity: Decimal;
  readonly entryPrice: Decimal;
  readonly exitPrice: Decimal;
  /** Realized PnL before commission. */
  readonly pnl: Decimal;
  readonly commission: Decimal;
  /** Funding paid (negative) or received while the position was open. */
  readonly funding: Decimal;
  /** pnl − commission + funding. */
  readonly net: Decimal;
}

/** `round-trips.json`: the latest round trips (newest first) and the large losses among all of them. */
export interface RoundTripsDocument extends DocumentHeader {
  readonly roundTrips: readonly RoundTripRow[];
  /** Net at or below this is a large loss. */
  readonly largeLossThreshold: Decimal;
  readonly largeLosses: readonly RoundTripRow[];
}

/** One process as the public may see it: a name and how recently it was heard from, no address. */
export interface PublicProcess {
  readonly name: string;
  readonly role: string;
  readonly lastSeen: Millis | null;
  readonly healthy: boolean;
}

/** `status.json`: is the system running (no addresses, keys or account data beyond the summary). */
export interface StatusDocument extends DocumentHeader {
  /** When the hub's status was last read (null: not reachable). */
  readonly hubSeenAt: Millis | null;
  readonly hubUptimeMs: number | null;
  /** Hub merge latency, microseconds. */
  readonly hubLatencyUs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  readonly processes: readonly PublicProcess[];
  /** Data freshness per collector: age of its last frame, ms. */
  readonly collectors: readonly {
    readonly name: string;
    readonly kind: string | null;
    readonly ageMs: number | null;
  }[];
  /** Trading state per trader (ACTIVE, REDUCING, HALTED). */
  readonly tradingStates: readonly { readonly trader: string; readonly state: string }[];
}

/** One candle. */
export interface Candle {
  readonly openTime: Millis;
  readonly open: Decimal;
  readonly high: Decimal;
  readonly low: Decimal;
  readonly close: Decimal;
  readonly volume: Decimal;
}

/** One fill of the strategy, marked on the chart. */
export interface ChartTrade {
  readonly time: Millis;
  readonly side: 'BUY' | 'SELL';
  readonly price: Decimal;
  readonly quantity: Decimal;
  /**
   * Entry: it opened or grew a position; exit: it shrank, closed or flipped one (a flip is drawn as
   * an exit only), decided by the position it found, not by its realized PnL.
   */
  readonly kind: 'entry' | 'exit';
}

/** A stop level over a time span (`to` null: still in place). */
export interface StopLevel {
  readonly price: Decimal;
  readonly from: Millis;
  readonly to: Millis | null;
}

/** `charts/<symbol>.json`: candles with the strategy's trades and stop levels. */
export interface ChartDocument extends DocumentHeader {
  readonly symbol: string;
  readonly interval: string;
  readonly candles: readonly Candle[];
  readonly trades: readonly ChartTrade[];
  readonly stops: readonly StopLevel[];
}

/** The fixed documents by path (relative to the version folder). */
export interface FixedDocuments {
  'summary.json': SummaryDocument;
  'positions.json': PositionsDocument;
  'equity.json': EquityDocument;
  'daily.json': DailyDocument;
  'symbols.json': SymbolsDocument;
  'round-trips.json': RoundTripsDocument;
  'status.json': StatusDocument;
}

/** The path of a symbol's chart document (relative to the version folder). */
export function chartPath(symbol: string): string {
  return `charts/${symbol}.json`;
}
