// Records held in memory behind the DashboardSource interface, for publisher tests that need exact control over every row.
import { Decimal } from '../../ts/exact/decimal.js';
import type {
  Candle,
  ChartTrade,
  EquityPoint,
  Millis,
  StopLevel,
} from '../../ts/publish/dashboard-documents.js';
import type {
  AccountRow,
  DailyIncome,
  DashboardSource,
  IncomeTotals,
  SourcePosition,
  SourceRoundTrip,
  SystemStatusInput,
} from '../dashboard-source.js';

/** One income record (what the exchange's income endpoint lists). */
export interface MemoryIncome {
  readonly time: Millis;
  readonly symbol: string;
  readonly type: 'REALIZED_PNL' | 'COMMISSION' | 'FUNDING_FEE';
  /** As the exchange signs it: commission negative. */
  readonly amount: string;
}

/** Every table the source reads, public so tests change them between rounds. */
export class MemoryDashboardSource implements DashboardSource {
  mode = 'paper';
  strategies: string[] = ['demo'];
  accountRow: AccountRow | undefined;
  positionRows: SourcePosition[] = [];
  equityPoints: EquityPoint[] = [];
  incomes: MemoryIncome[] = [];
  trips: SourceRoundTrip[] = [];
  stops = new Map<string, string[]>();
  stopHistory = new Map<string, StopLevel[]>();
  candles = new Map<string, Candle[]>();
  fills = new Map<string, ChartTrade[]>();
  status: SystemStatusInput = {
    hubSeenAt: null,
    hubUptimeMs: null,
    hubLatencyUs: null,
    processes: [],
    collectors: [],
    tradingStates: [],
  };

  async describe() {
    return { mode: this.mode, strategies: this.strategies };
  }

  async account() {
    return this.accountRow;
  }

  async positions() {
    return this.positionRows;
  }

  async equity(since: Millis, limit: number) {
    return this.equityPoints.filter((p) => p.time >= since).slice(-limit);
  }

  #totals(rows: readonly MemoryIncome[]): IncomeTotals {
    let realized = Decimal.ZERO;
    let commission = Decimal.ZERO;
    let funding = Decimal.ZERO;
    let trades = 0;
    for (const r of rows) {
      const amount = Decimal.parse(r.amount);
      if (r.type === 'REALIZED_PNL') realized = realized.add(amount);
      else if (r.type === 'COMMISSION') {
        commission = commission.sub(amount);
        trades++;
      } else funding = funding.add(amount);
    }
    return {
      realizedPnl: realized.toString(),
      commission: commission.toString(),
      funding: funding.toString(),
      trades,
    };
  }

  async dailyIncome(sinceDay: string): Promise<DailyIncome[]> {
    const byDay = new Map<string, MemoryIncome[]>();
    for (const r of this.incomes) {
      const day = new Date(r.time).toISOString().slice(0, 10);
      if (day < sinceDay) continue;
      byDay.set(day, [...(byDay.get(day) ?? []), r]);
    }
    return [...byDay.keys()].sort().map((day) => ({ day, ...this.#totals(byDay.get(day) ?? []) }));
  }

  async symbolIncome(sinceDay: string | null) {
    const bySymbol = new Map<string, MemoryIncome[]>();
    for (const r of this.incomes) {
      if (sinceDay !== null && new Date(r.time).toISOString().slice(0, 10) < sinceDay) continue;
      bySymbol.set(r.symbol, [...(bySymbol.get(r.symbol) ?? []), r]);
    }
    return new Map([...bySymbol].map(([symbol, rows]) => [symbol, this.#totals(rows)]));
  }

  async roundTrips(limit: number) {
    return [...this.trips].sort((a, b) => b.closedAt - a.closedAt).slice(0, limit);
  }

  async largeLosses(threshold: string, limit: number) {
    const line = Decimal.parse(threshold);
    const net = (t: SourceRoundTrip) => Decimal.parse(t.net);
    return this.trips
      .filter((t) => net(t).lte(line))
      .sort((a, b) => net(a).cmp(net(b)))
      .slice(0, limit);
  }

  async openStops() {
    return this.stops;
  }

  async chartSymbols(since: Millis, limit: number) {
    const symbols = new Set<string>(this.positionRows.map((p) => p.symbol));
    for (const [symbol, fills] of this.fills) if (fills.some((f) => f.time >= since)) symbols.add(symbol);
    return [...symbols].sort().slice(0, limit);
  }

  async klines(symbol: string, _interval: string, since: Millis, limit: number) {
    return (this.candles.get(symbol) ?? []).filter((c) => c.openTime >= since).slice(-limit);
  }

  async trades(symbol: string, since: Millis) {
    return (this.fills.get(symbol) ?? []).filter((f) => f.time >= since);
  }

  async stopLevels(symbol: string, since: Millis) {
    return (this.stopHistory.get(symbol) ?? []).filter((s) => s.to === null || s.to >= since);
  }

  async systemStatus() {
    return this.status;
  }
}
