// Minute snapshots of the account (positions, balances, equity), the symbol list, and the closed bars the user keeps.
import { Decimal } from '../ts/exact/decimal.js';
import type { KlineInterval, UsdmApi } from '../ts/exchange/usdm-api.js';
import type { AccountObject, SymbolPositionObject } from '../ts/native/parse.js';
import { parseAccount, parseExchangeInfo, parsePositionRisk, parseRestKlines } from '../ts/native/parse.js';
import type { KlineRecord, RecordBatch, RecordScope, SymbolRecord } from '../ts/store/store-records.js';

/** The quote asset the equity curve is kept in. */
const EQUITY_ASSET = 'USDT';

/** A mark price older than this is not used to value a position (the stream is away): the position's own fields are. */
export const MARK_FRESH_MS = 60_000;

/** A symbol's latest mark price and its exchange time, where known. */
export type MarkPrices = (symbol: string) => { readonly price: string; readonly time: number } | undefined;

/**
 * A position's mark price and unrealized PnL at `now`: from a fresh mark, `amount × (mark −
 * entry)` (Binance's unrealized PnL of a USDⓈ-M position; a short's amount is negative); else the
 * values the position record carries. Those are as of the position's last change: the exchange's
 * `updateTime` does not move with the mark, so the hub keeps them while the amount stays.
 */
function valued(
  symbol: string,
  position: {
    amount: string;
    entryPrice?: string | undefined;
    markPrice?: string | undefined;
    unrealizedPnl?: string | undefined;
  },
  entryPrice: string,
  now: number,
  marks: MarkPrices | undefined,
): { markPrice: string | null; unrealizedPnl: string } {
  const mark = marks?.(symbol);
  const entry = Decimal.parse(entryPrice);
  if (mark !== undefined && now - mark.time <= MARK_FRESH_MS && !entry.isZero()) {
    const pnl = Decimal.parse(position.amount).mul(Decimal.parse(mark.price).sub(entry));
    return { markPrice: mark.price, unrealizedPnl: pnl.normalize().toString() };
  }
  return { markPrice: position.markPrice ?? null, unrealizedPnl: position.unrealizedPnl ?? '0' };
}

/**
 * Positions, balances and the equity point of one account read (`GET /fapi/v3/account`), stamped
 * with `time` rounded down to `everyMs` (two recorders of one account write the same keys).
 * Equity is the USDT wallet plus the unrealized PnL of every open position, each valued at its
 * fresh mark price when `marks` knows one (the hub's account state), else as the account read says.
 */
export function snapshotRecords(
  scope: RecordScope,
  account: AccountObject,
  now: number,
  everyMs: number,
  risk: readonly SymbolPositionObject[] = [],
  marks?: MarkPrices,
): RecordBatch {
  const time = now - (now % everyMs);
  // The v3 account leaves out entry and mark prices; positionRisk has them.
  const detail = new Map(risk.map((r) => [`${r.symbol} ${r.position.side}`, r.position]));
  const positions = account.positions
    .filter((p) => !Decimal.parse(p.position.amount).isZero())
    .map((p) => {
      const more = detail.get(`${p.symbol} ${p.position.side}`);
      const entryPrice = p.position.entryPrice ?? more?.entryPrice ?? '0';
      const position = { ...p.position, markPrice: p.position.markPrice ?? more?.markPrice };
      return {
        ...scope,
        time,
        symbol: p.symbol,
        positionSide: p.position.side,
        amount: p.position.amount,
        entryPrice,
        ...valued(p.symbol, position, entryPrice, now, marks),
      };
    });
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
