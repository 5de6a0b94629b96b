// Builds every dashboard document from the records at one moment (pure reading: it never writes).
import { Decimal } from '../ts/exact/decimal.js';
import {
  type ChartDocument,
  chartPath,
  DOCUMENT_VERSION,
  type DocumentHeader,
  type FixedDocuments,
  PNL_WINDOWS,
  type PnlWindow,
  type PositionRow,
  type WindowPnl,
} from '../ts/publish/dashboard-documents.js';
import type { DashboardSource, IncomeTotals } from './dashboard-source.js';

const DAY_MS = 86_400_000;

/** How much history the documents hold (bounds every list). */
export interface DocumentLimits {
  /** Days of equity curve. */
  readonly equityDays: number;
  /** Points of equity curve at most. */
  readonly equityPoints: number;
  /** Days of the daily table. */
  readonly dailyDays: number;
  readonly roundTrips: number;
  /** A round trip whose net is at or below this is a large loss. */
  readonly largeLossThreshold: string;
  readonly largeLosses: number;
  /** Candle interval of the charts. */
  readonly chartInterval: string;
  readonly chartCandles: number;
  /** Symbols with a chart at most. */
  readonly chartSymbols: number;
  /** How far back a symbol's trades make it worth a chart. */
  readonly chartDays: number;
}

/** The documents of one moment, by path relative to the version folder. */
export type DocumentSet = Map<string, unknown>;

function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function dec(text: string): Decimal {
  return Decimal.parse(text);
}

/** realized + funding − commission, as a string. */
function netOf(totals: IncomeTotals): string {
  return dec(totals.realizedPnl).add(dec(totals.funding)).sub(dec(totals.commission)).toString();
}

const ZERO_WINDOW: WindowPnl = { realizedPnl: '0', commission: '0', funding: '0', net: '0', trades: 0 };

function windowOf(totals: IncomeTotals | undefined): WindowPnl {
  if (totals === undefined) return ZERO_WINDOW;
  return {
    realizedPnl: totals.realizedPnl,
    commission: totals.commission,
    funding: totals.funding,
    net: netOf(totals),
    trades: totals.trades,
  };
}

/**
 * Reads the records through `source` and returns every document, keyed by path: the fixed ones
 * (`summary.json`, ...) and one `charts/<symbol>.json` per chart symbol. Reads run in parallel.
 */
export async function buildDocuments(
  source: DashboardSource,
  limits: DocumentLimits,
  now: number,
): Promise<DocumentSet> {
  const header: DocumentHeader = { version: DOCUMENT_VERSION, generatedAt: now };
  const today = utcDay(now);
  // Windows of whole UTC days, today included: 1d is today, 7d today and the six days before.
  const windowStart: Record<PnlWindow, string | null> = {
    '1d': today,
    '7d': utcDay(now - 6 * DAY_MS),
    '30d': utcDay(now - 29 * DAY_MS),
    all: null,
  };
  const [
    described,
    account,
    positions,
    equity,
    daily,
    trips,
    losses,
    stops,
    status,
    chartSymbols,
    ...windows
  ] = await Promise.all([
    source.describe(),
    source.account(),
    source.positions(),
    source.equity(now - limits.equityDays * DAY_MS, limits.equityPoints),
    source.dailyIncome(utcDay(now - (limits.dailyDays - 1) * DAY_MS)),
    source.roundTrips(limits.roundTrips),
    source.largeLosses(limits.largeLossThreshold, limits.largeLosses),
    source.openStops(),
    source.systemStatus(),
    source.chartSymbols(now - limits.chartDays * DAY_MS, limits.chartSymbols),
    ...PNL_WINDOWS.map((w) => source.symbolIncome(windowStart[w])),
  ]);

  const todayIncome = daily.find((d) => d.day === today);
  const positionRows: PositionRow[] = positions
    .filter((p) => !dec(p.amount).isZero())
    .map((p): PositionRow => {
      const amount = dec(p.amount);
      return {
        symbol: p.symbol,
        side: amount.sign() < 0 ? 'SHORT' : 'LONG',
        amount: amount.abs().toString(),
        entryPrice: p.entryPrice,
        markPrice: p.markPrice,
        unrealizedPnl: p.unrealizedPnl,
        notional: p.markPrice === null ? null : amount.abs().mul(dec(p.markPrice)).toString(),
        stopPrices: [...(stops.get(p.symbol) ?? [])],
        updatedAt: p.updatedAt,
      };
    })
    .sort((a, b) => a.symbol.localeCompare(b.symbol));

  const equityValue =
    account === undefined ? null : dec(account.walletBalance).add(dec(account.unrealizedPnl)).toString();
  const documents: FixedDocuments = {
    'summary.json': {
      ...header,
      asOf: account?.time ?? null,
      asset: account?.asset ?? 'USDT',
      equity: equityValue,
      walletBalance: account?.walletBalance ?? null,
      unrealizedPnl: account?.unrealizedPnl ?? null,
      availableBalance: account?.availableBalance ?? null,
      todayPnl: todayIncome === undefined ? '0' : netOf(todayIncome),
      todayCommission: todayIncome?.commission ?? '0',
      openPositions: positionRows.length,
      mode: described.mode,
      strategies: described.strategies,
    },
    'positions.json': { ...header, positions: positionRows },
    'equity.json': { ...header, points: equity },
    'daily.json': {
      ...header,
      days: daily.map((d) => ({
        day: d.day,
        realizedPnl: d.realizedPnl,
        commission: d.commission,
        funding: d.funding,
        net: netOf(d),
        trades: d.trades,
      })),
    },
    'symbols.json': {
      ...header,
      symbols: [...(windows[PNL_WINDOWS.indexOf('all')]?.keys() ?? [])].sort().map((symbol) => ({
        symbol,
        windows: Object.fromEntries(
          PNL_WINDOWS.map((w, i) => [w, windowOf(windows[i]?.get(symbol))]),
        ) as Record<PnlWindow, WindowPnl>,
      })),
    },
    'round-trips.json': {
      ...header,
      roundTrips: [...trips],
      largeLossThreshold: limits.largeLossThreshold,
      largeLosses: [...losses],
    },
    'status.json': {
      ...header,
      hubSeenAt: status.hubSeenAt,
      hubUptimeMs: status.hubUptimeMs,
      hubLatencyUs: status.hubLatencyUs,
      // Field by field: whatever else a status input carries never reaches the public document.
      processes: status.processes.map((p) => ({
        name: p.name,
        role: p.role,
        lastSeen: p.lastSeen,
        healthy: p.healthy,
      })),
      collectors: status.collectors.map((c) => ({ name: c.name, kind: c.kind, ageMs: c.ageMs })),
      tradingStates: status.tradingStates.map((t) => ({ trader: t.trader, state: t.state })),
    },
  };

  const set: DocumentSet = new Map(Object.entries(documents));
  const chartSince = now - limits.chartDays * DAY_MS;
  const charts = await Promise.all(
    chartSymbols.map(async (symbol): Promise<ChartDocument> => {
      const [candles, trades, stopLevels] = await Promise.all([
        source.klines(symbol, limits.chartInterval, chartSince, limits.chartCandles),
        source.trades(symbol, chartSince),
        source.stopLevels(symbol, chartSince),
      ]);
      // Only what the candles cover: a fill before the first candle has nowhere to be drawn.
      const first = candles[0]?.openTime ?? now;
      return {
        ...header,
        symbol,
        interval: limits.chartInterval,
        candles,
        trades: trades.filter((t) => t.time >= first),
        stops: stopLevels.filter((s) => s.to === null || s.to >= first),
      };
    }),
  );
  for (const chart of charts) set.set(chartPath(chart.symbol), chart);
  return set;
}
