// The rows the records store keeps: orders, fills, income, account snapshots, statistics, alerts and peer status.

/**
 * Where a record came from. Orders and fills of every mode share the tables; the mode column keeps
 * a paper fill from ever being counted with a live one.
 */
export type TradingMode = 'live' | 'testnet' | 'paper' | 'backtest' | 'dry-run';

export const TRADING_MODES: readonly TradingMode[] = ['live', 'testnet', 'paper', 'backtest', 'dry-run'];

/**
 * Decimals are exact decimal strings as the exchange (or the paper engine) wrote them ("0.010"
 * stays "0.010"); the store never turns them into floats.
 */
export type DecimalText = string;

/** Whose records: the trading mode and an account name (`main` unless several accounts are recorded). */
export interface RecordScope {
  readonly mode: TradingMode;
  readonly account: string;
}

/**
 * One state of one order (an `ORDER_TRADE_UPDATE`, or a row of `allOrders`). Natural key: scope,
 * symbol, order id, update time, status and executed quantity, so the same state seen through the
 * stream and through REST is stored once, and two states within one millisecond are both kept.
 */
export interface OrderUpdateRecord extends RecordScope {
  readonly symbol: string;
  /** The exchange's order id (paper and backtest: the paper engine's). */
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly side: 'BUY' | 'SELL';
  readonly positionSide: string;
  readonly type: string;
  readonly timeInForce: string | null;
  /** NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, EXPIRED_IN_MATCH, REJECTED. */
  readonly status: string;
  /** The stream's execution type (NEW, TRADE, CANCELED, ...); null for a REST row. */
  readonly executionType: string | null;
  readonly price: DecimalText;
  readonly origQty: DecimalText;
  readonly executedQty: DecimalText;
  /** Average fill price, when known. */
  readonly avgPrice: DecimalText | null;
  readonly stopPrice: DecimalText | null;
  readonly reduceOnly: boolean;
  /** Order creation time, when known. */
  readonly createTime: number | null;
  /** Time of this state (the exchange's transaction / update time). */
  readonly updateTime: number;
  /** Where the record was learned: `stream`, `rest` or `engine` (paper, backtest). */
  readonly source: RecordSource;
}

export type RecordSource = 'stream' | 'rest' | 'engine';

/**
 * One state of one conditional order placed through Binance's algo service (`/fapi/v1/algoOrder`:
 * STOP_MARKET, TAKE_PROFIT_MARKET, ... since 2025-12; the stop-loss ladders' stops): an
 * `ALGO_UPDATE`, or a row of `openAlgoOrders` / `allAlgoOrders` / `algoOrder`. Natural key: scope,
 * symbol, algo id, update time and status. When it triggers, the order it places is an ordinary
 * order ({@link OrderUpdateRecord}), named here by `actualOrderId`.
 */
export interface AlgoOrderUpdateRecord extends RecordScope {
  readonly symbol: string;
  /** The exchange's algo id (its own id space, not an order id). */
  readonly algoId: string;
  readonly clientAlgoId: string;
  /** `CONDITIONAL`. */
  readonly algoType: string;
  /** STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET. */
  readonly type: string;
  readonly side: 'BUY' | 'SELL';
  readonly positionSide: string;
  readonly timeInForce: string | null;
  /** NEW, TRIGGERING, TRIGGERED, FINISHED, CANCELED, EXPIRED, REJECTED. */
  readonly status: string;
  /** The order's quantity ("0" for a close-position order). */
  readonly quantity: DecimalText;
  readonly triggerPrice: DecimalText | null;
  /** The limit price of a STOP / TAKE_PROFIT order, else null. */
  readonly price: DecimalText | null;
  /** MARK_PRICE or CONTRACT_PRICE, when known. */
  readonly workingType: string | null;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  /** The ordinary order it placed when it triggered, else null. */
  readonly actualOrderId: string | null;
  /** Creation time, when known (REST rows). */
  readonly createTime: number | null;
  /** Time of this state (the event's transaction time, REST's `updateTime`). */
  readonly updateTime: number;
  readonly source: RecordSource;
}

/** One fill of one of our orders. Natural key: scope, symbol and trade id. */
export interface FillRecord extends RecordScope {
  readonly symbol: string;
  readonly tradeId: string;
  readonly orderId: string;
  readonly clientOrderId: string | null;
  readonly side: 'BUY' | 'SELL';
  readonly positionSide: string;
  readonly price: DecimalText;
  readonly qty: DecimalText;
  readonly quoteQty: DecimalText;
  /** Realized PnL of this fill (signed). */
  readonly realizedPnl: DecimalText;
  /** Commission paid (positive is a cost, as the exchange reports it on a fill). */
  readonly commission: DecimalText;
  readonly commissionAsset: string;
  readonly maker: boolean;
  readonly time: number;
  readonly source: RecordSource;
}

/** One row of the exchange's income history. Natural key: scope, income type and tranId. */
export interface IncomeRecord extends RecordScope {
  /** Empty for account-wide rows (transfers). */
  readonly symbol: string;
  /** TRANSFER, REALIZED_PNL, COMMISSION, FUNDING_FEE, ... */
  readonly incomeType: string;
  /** Signed amount (a commission is negative). */
  readonly income: DecimalText;
  readonly asset: string;
  readonly info: string;
  readonly time: number;
  readonly tranId: string;
  readonly tradeId: string;
}

/** A position at one minute. Natural key: scope, time, symbol, position side. */
export interface PositionSnapshotRecord extends RecordScope {
  readonly time: number;
  readonly symbol: string;
  readonly positionSide: string;
  readonly amount: DecimalText;
  readonly entryPrice: DecimalText;
  readonly markPrice: DecimalText | null;
  readonly unrealizedPnl: DecimalText;
}

/** A balance at one minute. Natural key: scope, time, asset. */
export interface BalanceSnapshotRecord extends RecordScope {
  readonly time: number;
  readonly asset: string;
  readonly walletBalance: DecimalText;
  readonly availableBalance: DecimalText | null;
  readonly unrealizedPnl: DecimalText;
}

/** One point of the equity curve (USDT). Natural key: scope, time. */
export interface EquityPointRecord extends RecordScope {
  readonly time: number;
  readonly walletBalance: DecimalText;
  readonly unrealizedPnl: DecimalText;
  /** Wallet plus unrealized PnL. */
  readonly equity: DecimalText;
}

/** A closed bar the user asked to keep. Natural key: symbol, interval, open time. */
export interface KlineRecord {
  readonly symbol: string;
  readonly interval: string;
  readonly openTime: number;
  readonly closeTime: number;
  readonly open: DecimalText;
  readonly high: DecimalText;
  readonly low: DecimalText;
  readonly close: DecimalText;
  readonly volume: DecimalText;
  readonly quoteVolume: DecimalText;
  readonly trades: number;
}

/** A symbol as the exchange lists it. Natural key: symbol. */
export interface SymbolRecord {
  readonly symbol: string;
  readonly status: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  readonly tickSize: DecimalText;
  readonly stepSize: DecimalText;
  readonly minNotional: DecimalText | null;
  readonly updatedAt: number;
}

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** An alert as raised (whether or not a webhook delivered it). Natural key: source, time, kind. */
export interface AlertRecord {
  readonly time: number;
  readonly severity: AlertSeverity;
  /** The process that raised it (`recorder-0`, `trader-1`, ...). */
  readonly source: string;
  readonly kind: string;
  readonly message: string;
  /** Extra context as JSON text. */
  readonly details: string;
}

/** A peer's state as the hub reported it. Natural key: peer, time. */
export interface PeerStatusRecord {
  readonly time: number;
  readonly peer: string;
  readonly role: string;
  readonly state: string;
  /** The peer's last heartbeat or message (ms), when known. */
  readonly lastSeen: number | null;
  /** The peer's own report as JSON text. */
  readonly details: string;
}

/**
 * One round trip: a position of one symbol from flat to flat (a flip closes one and opens the
 * next; its fill counts in both). Net PnL = realized PnL − commission + funding. Natural key:
 * scope, symbol, direction, open time.
 */
export interface RoundTripRecord extends RecordScope {
  readonly symbol: string;
  /** LONG or SHORT. */
  readonly direction: 'LONG' | 'SHORT';
  readonly openTime: number;
  readonly closeTime: number;
  /** Largest absolute position reached. */
  readonly maxQty: DecimalText;
  /** Quantity-weighted entry and exit prices (half-even, at least 8 decimals and at least as many as the finest fill price). */
  readonly entryPrice: DecimalText;
  readonly exitPrice: DecimalText;
  readonly realizedPnl: DecimalText;
  /** Commission paid in USDT (a commission in another asset, such as BNB, is not counted). */
  readonly commission: DecimalText;
  readonly funding: DecimalText;
  readonly netPnl: DecimalText;
  readonly fills: number;
}

/**
 * One UTC day of one symbol (transfers are not PnL and have no row). Natural key: scope, day,
 * symbol.
 */
export interface DailyStatRecord extends RecordScope {
  /** UTC day as `YYYY-MM-DD`. */
  readonly day: string;
  readonly symbol: string;
  readonly realizedPnl: DecimalText;
  /** USDT commission paid (positive is a cost). */
  readonly commission: DecimalText;
  readonly funding: DecimalText;
  /** realized − commission + funding. */
  readonly netPnl: DecimalText;
  /** Traded quote volume. */
  readonly volume: DecimalText;
  readonly fills: number;
  readonly roundTrips: number;
  readonly wins: number;
  readonly losses: number;
}

/**
 * Everything one write carries. All of it lands in one transaction or none of it does; rows already
 * stored (same natural key) are left as they are and counted as duplicates.
 */
export interface RecordBatch {
  readonly orderUpdates?: readonly OrderUpdateRecord[];
  readonly algoOrderUpdates?: readonly AlgoOrderUpdateRecord[];
  readonly fills?: readonly FillRecord[];
  readonly income?: readonly IncomeRecord[];
  readonly positions?: readonly PositionSnapshotRecord[];
  readonly balances?: readonly BalanceSnapshotRecord[];
  readonly equity?: readonly EquityPointRecord[];
  readonly klines?: readonly KlineRecord[];
  readonly symbols?: readonly SymbolRecord[];
  readonly alerts?: readonly AlertRecord[];
  readonly peers?: readonly PeerStatusRecord[];
}

/** What a write did. */
export interface WriteResult {
  /** Rows newly stored. */
  readonly inserted: number;
  /** Rows that were already there (same natural key). */
  readonly duplicates: number;
}

/** How many records a batch holds. */
export function batchSize(batch: RecordBatch): number {
  let n = 0;
  for (const rows of Object.values(batch) as Array<readonly unknown[] | undefined>) n += rows?.length ?? 0;
  return n;
}
