// The dashboard's records read from the records store (ts/store's RecordStore read side), candles from the exchange, status from the hub.
import { Decimal } from '../ts/exact/decimal.js';
import { TERMINAL_ALGO_STATUSES, TERMINAL_ORDER_STATUSES } from '../ts/exchange/usdm-decoders.js';
import type {
  Candle,
  ChartTrade,
  EquityPoint,
  Millis,
  StopLevel,
} from '../ts/publish/dashboard-documents.js';
import type {
  AccountRow,
  DailyIncome,
  DashboardSource,
  IncomeTotals,
  SourcePosition,
  SourceRoundTrip,
  SystemStatusInput,
} from './dashboard-source.js';
import type { CandleProvider } from './exchange-candles.js';

/** Whose records: a trading mode and an account (`paper-0` for the first paper trader, `main` live). */
export interface StoreScope {
  readonly mode: 'live' | 'testnet' | 'paper' | 'backtest' | 'dry-run';
  readonly account: string;
}

interface TimeRange {
  readonly from?: number;
  readonly to?: number;
}

interface RowQuery extends TimeRange {
  readonly symbol?: string;
  readonly limit?: number;
}

/** A round trip row as the store keeps it (the fields read here). */
interface StoreRoundTrip {
  readonly symbol: string;
  readonly direction: 'LONG' | 'SHORT';
  readonly openTime: number;
  readonly closeTime: number;
  readonly maxQty: string;
  readonly entryPrice: string;
  readonly exitPrice: string;
  readonly realizedPnl: string;
  readonly commission: string;
  readonly funding: string;
  readonly netPnl: string;
}

/** An order state as the store keeps it (the fields read here). */
interface StoreOrder {
  readonly symbol: string;
  readonly orderId: string;
  readonly status: string;
  readonly stopPrice: string | null;
  readonly createTime: number | null;
  readonly updateTime: number;
}

/** A conditional (algo) order's state as the store keeps it: where the stop-loss ladders' stops are since 2025-12. */
interface StoreAlgoOrder {
  readonly symbol: string;
  readonly algoId: string;
  readonly status: string;
  readonly triggerPrice: string | null;
  readonly createTime: number | null;
  readonly updateTime: number;
}

/** One state of a stop, whichever kind of order holds it. */
interface StopState {
  /** Unique across both kinds (order ids and algo ids are separate number spaces). */
  readonly id: string;
  readonly symbol: string;
  readonly price: string;
  readonly status: string;
  readonly createTime: number | null;
  readonly updateTime: number;
}

/** An order's state as a stop's, when it has a stop price (orders placed before conditional orders moved). */
function orderStop(o: StoreOrder): StopState | undefined {
  if (o.stopPrice === null || Decimal.parse(o.stopPrice).isZero()) return undefined;
  return { ...o, id: `order:${o.orderId}`, price: o.stopPrice };
}

/** A conditional order's state as a stop's, when it has a trigger price (a trailing stop may not yet). */
function algoStop(a: StoreAlgoOrder): StopState | undefined {
  if (a.triggerPrice === null || Decimal.parse(a.triggerPrice).isZero()) return undefined;
  return { ...a, id: `algo:${a.algoId}`, price: a.triggerPrice };
}

const defined = <T>(value: T | undefined): value is T => value !== undefined;

/**
 * The records store's read side as this adapter uses it: the methods and fields of `RecordStore`
 * (ts/store/record-store.ts) it calls, so the store satisfies it as it is and nothing else of the
 * store is depended on.
 */
export interface StoreReads {
  accountSummary(scope: StoreScope): Promise<{
    readonly time: number | null;
    readonly balances: readonly {
      readonly asset: string;
      readonly walletBalance: string;
      readonly availableBalance: string | null;
      readonly unrealizedPnl: string;
      readonly time: number;
    }[];
    readonly positions: readonly {
      readonly symbol: string;
      readonly amount: string;
      readonly entryPrice: string;
      readonly markPrice: string | null;
      readonly unrealizedPnl: string;
      readonly time: number;
    }[];
    readonly equity: {
      readonly time: number;
      readonly walletBalance: string;
      readonly unrealizedPnl: string;
    } | null;
  }>;
  equitySeries(
    scope: StoreScope,
    range?: TimeRange,
  ): Promise<readonly { readonly time: number; readonly walletBalance: string; readonly equity: string }[]>;
  dailyTotals(
    scope: StoreScope,
    fromDay?: string,
    toDay?: string,
  ): Promise<
    readonly {
      readonly day: string;
      readonly realizedPnl: string;
      readonly commission: string;
      readonly funding: string;
      readonly fills: number;
    }[]
  >;
  symbolPnl(
    scope: StoreScope,
    fromDay?: string,
  ): Promise<
    readonly {
      readonly symbol: string;
      readonly realizedPnl: string;
      readonly commission: string;
      readonly funding: string;
      readonly fills: number;
    }[]
  >;
  roundTrips(scope: StoreScope, query?: RowQuery): Promise<readonly StoreRoundTrip[]>;
  largeLosses(scope: StoreScope, threshold: string, limit?: number): Promise<readonly StoreRoundTrip[]>;
  orders(scope: StoreScope, query?: RowQuery): Promise<readonly StoreOrder[]>;
  orderUpdates(scope: StoreScope, query?: RowQuery & { orderId?: string }): Promise<readonly StoreOrder[]>;
  algoOrders(scope: StoreScope, query?: RowQuery & { open?: boolean }): Promise<readonly StoreAlgoOrder[]>;
  algoOrderUpdates(
    scope: StoreScope,
    query?: RowQuery & { algoId?: string },
  ): Promise<readonly StoreAlgoOrder[]>;
  fills(
    scope: StoreScope,
    query?: RowQuery,
  ): Promise<
    readonly {
      readonly symbol: string;
      readonly time: number;
      readonly side: 'BUY' | 'SELL';
      readonly positionSide: string;
      readonly price: string;
      readonly qty: string;
      readonly realizedPnl: string;
    }[]
  >;
  activeSymbols(scope: StoreScope, since: number): Promise<readonly string[]>;
  klines(
    symbol: string,
    interval: string,
    range?: TimeRange,
  ): Promise<
    readonly {
      readonly openTime: number;
      readonly open: string;
      readonly high: string;
      readonly low: string;
      readonly close: string;
      readonly volume: string;
    }[]
  >;
}

export interface StoreSourceOptions {
  readonly store: StoreReads;
  readonly scope: StoreScope;
  /** The quote asset of the account figures. */
  readonly asset: string;
  readonly strategies: readonly string[];
  /** Candles when the store keeps none for a symbol (the exchange's klines). */
  readonly candles: CandleProvider | undefined;
  readonly status: () => Promise<SystemStatusInput>;
  /** At most `limit` symbols charted while none is traded or held, most active first (none if absent). */
  readonly watchedSymbols?: (limit: number) => Promise<readonly string[]>;
}

/** Order and conditional-order states after which a stop no longer protects anything. */
const FINAL: ReadonlySet<string> = new Set([...TERMINAL_ORDER_STATUSES, ...TERMINAL_ALGO_STATUSES]);

function toRoundTrip(t: StoreRoundTrip): SourceRoundTrip {
  return {
    symbol: t.symbol,
    side: t.direction,
    openedAt: t.openTime,
    closedAt: t.closeTime,
    quantity: t.maxQty,
    entryPrice: t.entryPrice,
    exitPrice: t.exitPrice,
    pnl: t.realizedPnl,
    commission: t.commission,
    funding: t.funding,
    net: t.netPnl,
  };
}

/** Keeps at most `limit` points, evenly spread, always with the newest. */
function thin<T>(points: readonly T[], limit: number): T[] {
  if (points.length <= limit) return [...points];
  const step = points.length / limit;
  const out: T[] = [];
  for (let i = 0; i < limit - 1; i++) {
    const p = points[Math.floor(i * step)];
    if (p !== undefined) out.push(p);
  }
  const last = points[points.length - 1];
  if (last !== undefined) out.push(last);
  return out;
}

/**
 * Whether each fill (in time order, all of one symbol) opened or grew a position (entry) or shrank,
 * closed or flipped one (exit), decided from the position, not from the realized PnL (a close at the
 * entry price realizes none). Hedge mode: a SELL on LONG or a BUY on SHORT is an exit, the others
 * entries. One-way (BOTH): the signed position is followed as `computeRoundTrips`
 * (ts/store/round-trips.ts) does; a fill against it is an exit, a flip (closing one position and
 * opening the other) included, and from flat a fill that realized PnL closed a position opened
 * before the stored history (an exit, leaving the position flat).
 */
export function fillKinds(
  fills: readonly {
    readonly side: 'BUY' | 'SELL';
    readonly positionSide: string;
    readonly qty: string;
    readonly realizedPnl: string;
  }[],
): ('entry' | 'exit')[] {
  let position = Decimal.ZERO;
  return fills.map((f) => {
    if (f.positionSide === 'LONG') return f.side === 'SELL' ? 'exit' : 'entry';
    if (f.positionSide === 'SHORT') return f.side === 'BUY' ? 'exit' : 'entry';
    const qty = Decimal.parse(f.qty);
    const signed = f.side === 'BUY' ? qty : qty.neg();
    const before = position;
    if (before.isZero()) {
      if (!Decimal.parse(f.realizedPnl).isZero()) return 'exit';
      position = signed;
      return 'entry';
    }
    position = before.add(signed);
    return before.sign() === signed.sign() || qty.isZero() ? 'entry' : 'exit';
  });
}

/**
 * Reads the dashboard from the records store of one scope. Entries and exits on the chart: see
 * {@link fillKinds}.
 */
export class StoreDashboardSource implements DashboardSource {
  readonly #o: StoreSourceOptions;

  constructor(options: StoreSourceOptions) {
    this.#o = options;
  }

  async describe() {
    return { mode: this.#o.scope.mode, strategies: this.#o.strategies };
  }

  async account(): Promise<AccountRow | undefined> {
    const summary = await this.#o.store.accountSummary(this.#o.scope);
    const balance = summary.balances.find((b) => b.asset === this.#o.asset);
    if (balance === undefined) return undefined;
    // A balance from the user stream carries no unrealized PnL (stored as 0); the equity point of
    // the same snapshot sums the positions' own, so the summary agrees with positions and equity.
    const point = summary.equity;
    const samePoint =
      point !== null && point.time === balance.time && point.walletBalance === balance.walletBalance;
    return {
      time: summary.time ?? balance.time,
      asset: balance.asset,
      walletBalance: balance.walletBalance,
      unrealizedPnl: samePoint ? point.unrealizedPnl : balance.unrealizedPnl,
      availableBalance: balance.availableBalance,
    };
  }

  async positions(): Promise<SourcePosition[]> {
    const summary = await this.#o.store.accountSummary(this.#o.scope);
    return summary.positions.map((p) => ({
      symbol: p.symbol,
      amount: p.amount,
      entryPrice: p.entryPrice,
      markPrice: p.markPrice,
      unrealizedPnl: p.unrealizedPnl,
      updatedAt: p.time,
    }));
  }

  async equity(since: Millis, limit: number): Promise<EquityPoint[]> {
    const series = await this.#o.store.equitySeries(this.#o.scope, { from: since });
    return thin(series, limit).map((p) => ({
      time: p.time,
      equity: p.equity,
      walletBalance: p.walletBalance,
    }));
  }

  async dailyIncome(sinceDay: string): Promise<DailyIncome[]> {
    const days = await this.#o.store.dailyTotals(this.#o.scope, sinceDay);
    return days.map((d) => ({
      day: d.day,
      realizedPnl: d.realizedPnl,
      commission: d.commission,
      funding: d.funding,
      trades: d.fills,
    }));
  }

  async symbolIncome(sinceDay: string | null): Promise<Map<string, IncomeTotals>> {
    const rows = await this.#o.store.symbolPnl(this.#o.scope, sinceDay ?? undefined);
    // Account-wide rows (no symbol: transfers, funding without one) are not a symbol's.
    return new Map(
      rows
        .filter((r) => r.symbol !== '')
        .map((r) => [
          r.symbol,
          { realizedPnl: r.realizedPnl, commission: r.commission, funding: r.funding, trades: r.fills },
        ]),
    );
  }

  async roundTrips(limit: number): Promise<SourceRoundTrip[]> {
    const trips = await this.#o.store.roundTrips(this.#o.scope, { limit });
    return trips.map(toRoundTrip).sort((a, b) => b.closedAt - a.closedAt);
  }

  async largeLosses(threshold: string, limit: number): Promise<SourceRoundTrip[]> {
    return (await this.#o.store.largeLosses(this.#o.scope, threshold, limit)).map(toRoundTrip);
  }

  async openStops(): Promise<Map<string, string[]>> {
    const [orders, algos] = await Promise.all([
      this.#o.store.orders(this.#o.scope),
      this.#o.store.algoOrders(this.#o.scope, { open: true }),
    ]);
    const stops = new Map<string, string[]>();
    for (const stop of [...orders.map(orderStop), ...algos.map(algoStop)].filter(defined)) {
      if (FINAL.has(stop.status)) continue;
      stops.set(stop.symbol, [...(stops.get(stop.symbol) ?? []), stop.price]);
    }
    for (const [symbol, prices] of stops)
      stops.set(
        symbol,
        prices.sort((a, b) => Decimal.parse(a).cmp(Decimal.parse(b))),
      );
    return stops;
  }

  /**
   * The symbols with an open position first (by name), then the other active ones, the latest fill
   * or order update first (those active by income only last, by name), at most `limit`.
   */
  async chartSymbols(since: Millis, limit: number): Promise<string[]> {
    const scope = this.#o.scope;
    const [active, summary, fills, orders] = await Promise.all([
      this.#o.store.activeSymbols(scope, since),
      this.#o.store.accountSummary(scope),
      this.#o.store.fills(scope, { from: since }),
      this.#o.store.orders(scope, { from: since }),
    ]);
    const held = [
      ...new Set(summary.positions.filter((p) => !Decimal.parse(p.amount).isZero()).map((p) => p.symbol)),
    ].sort();
    const latest = new Map<string, number>();
    for (const { symbol, time } of [
      ...fills.map((f) => ({ symbol: f.symbol, time: f.time })),
      ...orders.map((o) => ({ symbol: o.symbol, time: o.updateTime })),
    ])
      latest.set(symbol, Math.max(latest.get(symbol) ?? Number.NEGATIVE_INFINITY, time));
    const others = [...new Set(active)]
      .filter((s) => !held.includes(s))
      .sort(
        (a, b) =>
          (latest.get(b) ?? Number.NEGATIVE_INFINITY) - (latest.get(a) ?? Number.NEGATIVE_INFINITY) ||
          a.localeCompare(b),
      );
    const symbols = [...held, ...others];
    if (symbols.length === 0 && this.#o.watchedSymbols !== undefined)
      return (await this.#o.watchedSymbols(limit)).slice(0, limit);
    return symbols.slice(0, limit);
  }

  async klines(symbol: string, interval: string, since: Millis, limit: number): Promise<readonly Candle[]> {
    const kept = await this.#o.store.klines(symbol, interval, { from: since });
    if (kept.length > 0 || this.#o.candles === undefined)
      return kept.slice(-limit).map((k) => ({
        openTime: k.openTime,
        open: k.open,
        high: k.high,
        low: k.low,
        close: k.close,
        volume: k.volume,
      }));
    return this.#o.candles.candles(symbol, interval, since, limit);
  }

  async trades(symbol: string, since: Millis): Promise<ChartTrade[]> {
    // The whole history of the symbol: whether a fill since `since` opened or closed depends on the
    // position it found, which earlier fills built.
    const fills = await this.#o.store.fills(this.#o.scope, { symbol });
    const kinds = fillKinds(fills);
    return fills.flatMap((f, i) =>
      f.time < since
        ? []
        : [{ time: f.time, side: f.side, price: f.price, quantity: f.qty, kind: kinds[i] ?? 'entry' }],
    );
  }

  async stopLevels(symbol: string, since: Millis): Promise<StopLevel[]> {
    const scope = this.#o.scope;
    const [updates, latest, algoUpdates, algoLatest] = await Promise.all([
      this.#o.store.orderUpdates(scope, { symbol, from: since }),
      this.#o.store.orders(scope, { symbol }),
      this.#o.store.algoOrderUpdates(scope, { symbol, from: since }),
      this.#o.store.algoOrders(scope, { symbol }),
    ]);
    const states = [
      ...[...latest, ...updates].map(orderStop),
      ...[...algoLatest, ...algoUpdates].map(algoStop),
    ].filter(defined);
    // Each stop's span: from its first state to the state that ended it (null: still open).
    const spans = new Map<string, { price: string; from: number; to: number | null }>();
    for (const o of states.sort((a, b) => a.updateTime - b.updateTime)) {
      const span = spans.get(o.id) ?? {
        price: o.price,
        from: o.createTime ?? o.updateTime,
        to: null,
      };
      span.from = Math.min(span.from, o.createTime ?? o.updateTime);
      if (FINAL.has(o.status)) span.to = span.to === null ? o.updateTime : Math.max(span.to, o.updateTime);
      spans.set(o.id, span);
    }
    return [...spans.values()]
      .filter((s) => s.to === null || s.to >= since)
      .map((s) => ({ price: s.price, from: s.from, to: s.to }))
      .sort((a, b) => a.from - b.from);
  }

  systemStatus(): Promise<SystemStatusInput> {
    return this.#o.status();
  }
}
