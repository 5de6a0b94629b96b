// Minute snapshots of the account (positions, balances, equity), the symbol list, and the closed bars the user keeps.
import { Decimal } from '../ts/exact/decimal.js';
import type { KlineInterval, UsdmApi } from '../ts/exchange/usdm-api.js';
import type { AccountObject, SymbolPositionObject } from '../ts/native/parse.js';
import { parseAccount, parseExchangeInfo, parsePositionRisk, parseRestKlines } from '../ts/native/parse.js';
import type { KlineRecord, RecordBatch, RecordScope, SymbolRecord } from '../ts/store/store-records.js';

/** The quote asset the equity curve is kept in. */
const EQUITY_ASSET = 'USDT';

/**
 * Positions, balances and the equity point of one account read (`GET /fapi/v3/account`), stamped
 * with `time` rounded down to `everyMs` (two recorders of one account write the same keys).
 * Equity is the USDT wallet plus the unrealized PnL of every open position.
 */
export function snapshotRecords(
  scope: RecordScope,
  account: AccountObject,
  now: number,
  everyMs: number,
  risk: readonly SymbolPositionObject[] = [],
): RecordBatch {
  const time = now - (now % everyMs);
  // The v3 account leaves out entry and mark prices; positionRisk has them.
  const detail = new Map(risk.map((r) => [`${r.symbol} ${r.position.side}`, r.position]));
  const positions = account.positions
    .filter((p) => !Decimal.parse(p.position.amount).isZero())
    .map((p) => ({
      ...scope,
      time,
      symbol: p.symbol,
      positionSide: p.position.side,
      amount: p.position.amount,
      entryPrice: p.position.entryPrice ?? detail.get(`${p.symbol} ${p.position.side}`)?.entryPrice ?? '0',
      markPrice: p.position.markPrice ?? detail.get(`${p.symbol} ${p.position.side}`)?.markPrice ?? null,
      unrealizedPnl: p.position.unrealizedPnl ?? '0',
    }));
  const balances = account.balances.map((b) => ({
    ...scope,
    time,
    asset: b.asset,
    walletBalance: b.walletBalance,
    availableBalance: b.availableBalance ?? null,
    unrealizedPnl: b.unrealizedPnl ?? '0',
  }));
  const usdt = account.balances.find((b) => b.asset === EQUITY_ASSET);
  if (usdt === undefined) return { positions, balances };
  let unrealized = Decimal.ZERO;
  for (const p of positions) unrealized = unrealized.add(Decimal.parse(p.unrealizedPnl));
  const wallet = Decimal.parse(usdt.walletBalance);
  return {
    positions,
    balances,
    equity: [
      {
        ...scope,
        time,
        walletBalance: usdt.walletBalance,
        unrealizedPnl: unrealized.toString(),
        equity: wallet.add(unrealized).toString(),
      },
    ],
  };
}

/** Reads the account and its positions' details and returns its snapshot records. */
export async function readSnapshot(api: UsdmApi, scope: RecordScope, everyMs: number): Promise<RecordBatch> {
  const account = parseAccount((await api.accountV3()).body);
  const risk = account.positions.some((p) => !Decimal.parse(p.position.amount).isZero())
    ? parsePositionRisk((await api.positionRiskV3()).body)
    : [];
  return snapshotRecords(scope, account, Date.now(), everyMs, risk);
}

/** Every symbol the exchange lists, as the symbols table keeps them. */
export async function readSymbols(api: UsdmApi): Promise<SymbolRecord[]> {
  const info = parseExchangeInfo((await api.exchangeInfo()).body);
  const now = Date.now();
  return info.symbols.map((s) => ({
    symbol: s.symbol,
    status: s.status,
    baseAsset: s.baseAsset,
    quoteAsset: s.quoteAsset,
    tickSize: s.tickSize ?? '0',
    stepSize: s.stepSize ?? '0',
    minNotional: s.minNotional ?? null,
    updatedAt: now,
  }));
}

/** The closed bars of `symbol` × `interval` of the last `limit` (the open bar is left for later). */
export async function readClosedKlines(
  api: UsdmApi,
  symbol: string,
  interval: KlineInterval,
  limit: number,
): Promise<KlineRecord[]> {
  const response = await api.klines({ symbol, interval, limit });
  return parseRestKlines(response.body, Date.now())
    .filter((k) => k.closed)
    .map((k) => ({
      symbol,
      interval,
      openTime: k.openTime,
      closeTime: k.closeTime,
      open: k.open,
      high: k.high,
      low: k.low,
      close: k.close,
      volume: k.volume,
      quoteVolume: k.quoteVolume,
      trades: k.trades,
    }));
}
