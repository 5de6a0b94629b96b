// Records ↔ table rows: column values in schema order for writes, typed records from rows for reads.
import type {
  AlertRecord,
  AlertSeverity,
  AlgoOrderUpdateRecord,
  BalanceSnapshotRecord,
  DailyStatRecord,
  EquityPointRecord,
  FillRecord,
  IncomeRecord,
  KlineRecord,
  OrderUpdateRecord,
  PeerStatusRecord,
  PositionSnapshotRecord,
  RecordSource,
  RoundTripRecord,
  SymbolRecord,
  TradingMode,
} from '../store-records.js';
import type { SqlRow, SqlValue } from './sql-driver.js';

const b = (v: boolean): number => (v ? 1 : 0);
const str = (row: SqlRow, k: string): string => String(row[k] ?? '');
const optStr = (row: SqlRow, k: string): string | null =>
  row[k] === null || row[k] === undefined ? null : String(row[k]);
const num = (row: SqlRow, k: string): number => Number(row[k]);
const optNum = (row: SqlRow, k: string): number | null =>
  row[k] === null || row[k] === undefined ? null : Number(row[k]);
const bool = (row: SqlRow, k: string): boolean => Number(row[k]) === 1;
const scope = (row: SqlRow) => ({ mode: str(row, 'mode') as TradingMode, account: str(row, 'account') });

const STATUS_RANK: Record<string, number> = { NEW: 0, PARTIALLY_FILLED: 1 };

/**
 * A text that sorts order states: update time, then a final status after a working one, then the
 * executed quantity (fixed 18 decimals, padded), so the latest state wins whatever order states
 * arrive in (stream before REST or after, two states in one millisecond).
 */
export function orderStateKey(o: OrderUpdateRecord): string {
  const rank = STATUS_RANK[o.status] ?? 2;
  const [whole = '0', frac = ''] = o.executedQty.replace(/^-/, '').split('.');
  const scaled = `${whole}${frac.padEnd(18, '0').slice(0, 18)}`.replace(/^0+(?=\d)/, '');
  return `${String(o.updateTime).padStart(15, '0')}:${rank}:${scaled.padStart(40, '0')}`;
}

export function orderValues(o: OrderUpdateRecord, now: number): SqlValue[] {
  return [
    o.mode,
    o.account,
    o.symbol,
    o.orderId,
    o.clientOrderId,
    o.side,
    o.positionSide,
    o.type,
    o.timeInForce,
    o.status,
    o.executionType,
    o.price,
    o.origQty,
    o.executedQty,
    o.avgPrice,
    o.stopPrice,
    b(o.reduceOnly),
    o.createTime,
    o.updateTime,
    o.source,
    now,
  ];
}

export function orderFromRow(row: SqlRow): OrderUpdateRecord {
  return {
    ...scope(row),
    symbol: str(row, 'symbol'),
    orderId: str(row, 'order_id'),
    clientOrderId: str(row, 'client_order_id'),
    side: str(row, 'side') as 'BUY' | 'SELL',
    positionSide: str(row, 'position_side'),
    type: str(row, 'order_type'),
    timeInForce: optStr(row, 'time_in_force'),
    status: str(row, 'status'),
    executionType: optStr(row, 'execution_type'),
    price: str(row, 'price'),
    origQty: str(row, 'orig_qty'),
    executedQty: str(row, 'executed_qty'),
    avgPrice: optStr(row, 'avg_price'),
    stopPrice: optStr(row, 'stop_price'),
    reduceOnly: bool(row, 'reduce_only'),
    createTime: optNum(row, 'create_time'),
    updateTime: num(row, 'update_time'),
    source: str(row, 'source') as RecordSource,
  };
}

/** How far along an algo status is: waiting, triggering, then every status after the trigger or instead of it. */
const ALGO_STATUS_RANK: Record<string, number> = { NEW: 0, TRIGGERING: 1, TRIGGERED: 2 };

/**
 * A text that sorts an algo order's states: update time, then how far along the status is, so the
 * latest state wins whatever order the stream and REST deliver them in.
 */
export function algoOrderStateKey(a: AlgoOrderUpdateRecord): string {
  return `${String(a.updateTime).padStart(15, '0')}:${ALGO_STATUS_RANK[a.status] ?? 3}`;
}

export function algoOrderValues(a: AlgoOrderUpdateRecord, now: number): SqlValue[] {
  return [
    a.mode,
    a.account,
    a.symbol,
    a.algoId,
    a.clientAlgoId,
    a.algoType,
    a.type,
    a.side,
    a.positionSide,
    a.timeInForce,
    a.status,
    a.quantity,
    a.triggerPrice,
    a.price,
    a.workingType,
    b(a.reduceOnly),
    b(a.closePosition),
    a.actualOrderId,
    a.createTime,
    a.updateTime,
    a.source,
    now,
  ];
}

export function algoOrderFromRow(row: SqlRow): AlgoOrderUpdateRecord {
  return {
    ...scope(row),
    symbol: str(row, 'symbol'),
    algoId: str(row, 'algo_id'),
    clientAlgoId: str(row, 'client_algo_id'),
    algoType: str(row, 'algo_type'),
    type: str(row, 'order_type'),
    side: str(row, 'side') as 'BUY' | 'SELL',
    positionSide: str(row, 'position_side'),
    timeInForce: optStr(row, 'time_in_force'),
    status: str(row, 'status'),
    quantity: str(row, 'quantity'),
    triggerPrice: optStr(row, 'trigger_price'),
    price: optStr(row, 'price'),
    workingType: optStr(row, 'working_type'),
    reduceOnly: bool(row, 'reduce_only'),
    closePosition: bool(row, 'close_position'),
    actualOrderId: optStr(row, 'actual_order_id'),
    createTime: optNum(row, 'create_time'),
    updateTime: num(row, 'update_time'),
    source: str(row, 'source') as RecordSource,
  };
}

export function fillValues(f: FillRecord, now: number): SqlValue[] {
  return [
    f.mode,
    f.account,
    f.symbol,
    f.tradeId,
    f.orderId,
    f.clientOrderId,
    f.side,
    f.positionSide,
    f.price,
    f.qty,
    f.quoteQty,
    f.realizedPnl,
    f.commission,
    f.commissionAsset,
    b(f.maker),
    f.time,
    f.source,
    now,
  ];
}

export function fillFromRow(row: SqlRow): FillRecord {
  return {
    ...scope(row),
    symbol: str(row, 'symbol'),
    tradeId: str(row, 'trade_id'),
    orderId: str(row, 'order_id'),
    clientOrderId: optStr(row, 'client_order_id'),
    side: str(row, 'side') as 'BUY' | 'SELL',
    positionSide: str(row, 'position_side'),
    price: str(row, 'price'),
    qty: str(row, 'qty'),
    quoteQty: str(row, 'quote_qty'),
    realizedPnl: str(row, 'realized_pnl'),
    commission: str(row, 'commission'),
    commissionAsset: str(row, 'commission_asset'),
    maker: bool(row, 'maker'),
    time: num(row, 'time'),
    source: str(row, 'source') as RecordSource,
  };
}

export function incomeValues(i: IncomeRecord, now: number): SqlValue[] {
  return [
    i.mode,
    i.account,
    i.incomeType,
    i.tranId,
    i.symbol,
    i.income,
    i.asset,
    i.info,
    i.time,
    i.tradeId,
    now,
  ];
}

export function incomeFromRow(row: SqlRow): IncomeRecord {
  return {
    ...scope(row),
    incomeType: str(row, 'income_type'),
    tranId: str(row, 'tran_id'),
    symbol: str(row, 'symbol'),
    income: str(row, 'income'),
    asset: str(row, 'asset'),
    info: str(row, 'info'),
    time: num(row, 'time'),
    tradeId: str(row, 'trade_id'),
  };
}

export function positionValues(p: PositionSnapshotRecord): SqlValue[] {
  return [
    p.mode,
    p.account,
    p.time,
    p.symbol,
    p.positionSide,
    p.amount,
    p.entryPrice,
    p.markPrice,
    p.unrealizedPnl,
  ];
}

export function positionFromRow(row: SqlRow): PositionSnapshotRecord {
  return {
    ...scope(row),
    time: num(row, 'time'),
    symbol: str(row, 'symbol'),
    positionSide: str(row, 'position_side'),
    amount: str(row, 'amount'),
    entryPrice: str(row, 'entry_price'),
    markPrice: optStr(row, 'mark_price'),
    unrealizedPnl: str(row, 'unrealized_pnl'),
  };
}

export function balanceValues(x: BalanceSnapshotRecord): SqlValue[] {
  return [x.mode, x.account, x.time, x.asset, x.walletBalance, x.availableBalance, x.unrealizedPnl];
}

export function balanceFromRow(row: SqlRow): BalanceSnapshotRecord {
  return {
    ...scope(row),
    time: num(row, 'time'),
    asset: str(row, 'asset'),
    walletBalance: str(row, 'wallet_balance'),
    availableBalance: optStr(row, 'available_balance'),
    unrealizedPnl: str(row, 'unrealized_pnl'),
  };
}

export function equityValues(e: EquityPointRecord): SqlValue[] {
  return [e.mode, e.account, e.time, e.walletBalance, e.unrealizedPnl, e.equity];
}

export function equityFromRow(row: SqlRow): EquityPointRecord {
  return {
    ...scope(row),
    time: num(row, 'time'),
    walletBalance: str(row, 'wallet_balance'),
    unrealizedPnl: str(row, 'unrealized_pnl'),
    equity: str(row, 'equity'),
  };
}

export function klineValues(k: KlineRecord): SqlValue[] {
  return [
    k.symbol,
    k.interval,
    k.openTime,
    k.closeTime,
    k.open,
    k.high,
    k.low,
    k.close,
    k.volume,
    k.quoteVolume,
    k.trades,
  ];
}

export function klineFromRow(row: SqlRow): KlineRecord {
  return {
    symbol: str(row, 'symbol'),
    interval: str(row, 'bar_interval'),
    openTime: num(row, 'open_time'),
    closeTime: num(row, 'close_time'),
    open: str(row, 'open_price'),
    high: str(row, 'high_price'),
    low: str(row, 'low_price'),
    close: str(row, 'close_price'),
    volume: str(row, 'volume'),
    quoteVolume: str(row, 'quote_volume'),
    trades: num(row, 'trades'),
  };
}

export function symbolValues(s: SymbolRecord): SqlValue[] {
  return [s.symbol, s.status, s.baseAsset, s.quoteAsset, s.tickSize, s.stepSize, s.minNotional, s.updatedAt];
}

export function symbolFromRow(row: SqlRow): SymbolRecord {
  return {
    symbol: str(row, 'symbol'),
    status: str(row, 'status'),
    baseAsset: str(row, 'base_asset'),
    quoteAsset: str(row, 'quote_asset'),
    tickSize: str(row, 'tick_size'),
    stepSize: str(row, 'step_size'),
    minNotional: optStr(row, 'min_notional'),
    updatedAt: num(row, 'updated_at'),
  };
}

export function alertValues(a: AlertRecord): SqlValue[] {
  return [a.time, a.source, a.kind, a.severity, a.message, a.details];
}

export function alertFromRow(row: SqlRow): AlertRecord {
  return {
    time: num(row, 'time'),
    source: str(row, 'source'),
    kind: str(row, 'kind'),
    severity: str(row, 'severity') as AlertSeverity,
    message: str(row, 'message'),
    details: str(row, 'details'),
  };
}

export function peerValues(p: PeerStatusRecord): SqlValue[] {
  return [p.peer, p.time, p.role, p.state, p.lastSeen, p.details];
}

export function peerFromRow(row: SqlRow): PeerStatusRecord {
  return {
    peer: str(row, 'peer'),
    time: num(row, 'time'),
    role: str(row, 'peer_role'),
    state: str(row, 'state'),
    lastSeen: optNum(row, 'last_seen'),
    details: str(row, 'details'),
  };
}

export function dailyValues(d: DailyStatRecord): SqlValue[] {
  return [
    d.mode,
    d.account,
    d.day,
    d.symbol,
    d.realizedPnl,
    d.commission,
    d.funding,
    d.netPnl,
    d.volume,
    d.fills,
    d.roundTrips,
    d.wins,
    d.losses,
  ];
}

export function dailyFromRow(row: SqlRow): DailyStatRecord {
  return {
    ...scope(row),
    day: str(row, 'day'),
    symbol: str(row, 'symbol'),
    realizedPnl: str(row, 'realized_pnl'),
    commission: str(row, 'commission'),
    funding: str(row, 'funding'),
    netPnl: str(row, 'net_pnl'),
    volume: str(row, 'volume'),
    fills: num(row, 'fills'),
    roundTrips: num(row, 'round_trips'),
    wins: num(row, 'wins'),
    losses: num(row, 'losses'),
  };
}

export function roundTripValues(t: RoundTripRecord): SqlValue[] {
  return [
    t.mode,
    t.account,
    t.symbol,
    t.direction,
    t.openTime,
    t.closeTime,
    t.maxQty,
    t.entryPrice,
    t.exitPrice,
    t.realizedPnl,
    t.commission,
    t.funding,
    t.netPnl,
    t.fills,
  ];
}

export function roundTripFromRow(row: SqlRow): RoundTripRecord {
  return {
    ...scope(row),
    symbol: str(row, 'symbol'),
    direction: str(row, 'direction') as 'LONG' | 'SHORT',
    openTime: num(row, 'open_time'),
    closeTime: num(row, 'close_time'),
    maxQty: str(row, 'max_qty'),
    entryPrice: str(row, 'entry_price'),
    exitPrice: str(row, 'exit_price'),
    realizedPnl: str(row, 'realized_pnl'),
    commission: str(row, 'commission'),
    funding: str(row, 'funding'),
    netPnl: str(row, 'net_pnl'),
    fills: num(row, 'fills'),
  };
}
