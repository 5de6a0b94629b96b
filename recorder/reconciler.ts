// Reconciliation from REST: the exchange's orders, fills and income since the last reconciliation, so the store converges to the exchange's truth.
import { parseJson } from '../ts/exchange/json-shape.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import { decodeIncomes, type OrderRecord, type TradeRecord } from '../ts/exchange/usdm-decoders.js';
import type { Logger } from '../ts/log/logger.js';
import { parseAccount } from '../ts/native/parse.js';
import { fillFromRest, incomeFromRest, orderUpdateFromRest } from '../ts/store/exchange-records.js';
import type { RecordStore } from '../ts/store/record-store.js';
import type { RecordScope } from '../ts/store/store-records.js';

/** Binance's largest page for allOrders, userTrades and income. */
const PAGE = 1000;
/** Pages read per symbol and kind in one reconciliation (bounds a run; the next run continues). */
const MAX_PAGES = 50;
/** userTrades and allOrders take windows of at most 7 days. */
const MAX_WINDOW_MS = 7 * 86_400_000 - 60_000;
const DAY_MS = 86_400_000;

/** What reconciliation needs to know. */
export interface ReconcilerSettings {
  readonly lookbackMs: number;
  readonly overlapMs: number;
  readonly activeDays: number;
  readonly symbols: readonly string[];
}

/** Rows REST had that the store did not: the stream missed them (a gap, a restart, a lost stream). */
export interface ReconciliationDifference {
  readonly reason: string;
  readonly symbol: string;
  readonly orders: number;
  readonly fills: number;
  readonly income: number;
}

/** The outcome of one reconciliation. */
export interface ReconcileReport {
  readonly reason: string;
  readonly since: number;
  readonly symbols: number;
  readonly differences: readonly ReconciliationDifference[];
  readonly requests: number;
}

const ms = (a: number) => Math.max(0, Math.floor(a));

/**
 * Reads the exchange's record of the account through REST and stores what the store lacks, by the
 * same natural keys the stream's records use (so nothing is stored twice). Which symbols: those
 * configured, those with stored activity within `activeDays`, those with income since the cursor
 * (every fill books commission), open positions and open orders, and any the caller saw events of.
 * The cursor moves only after everything up to it is committed, in the same transaction as the
 * last rows.
 */
export class Reconciler {
  readonly #store: RecordStore;
  readonly #api: UsdmApi;
  readonly #scope: RecordScope;
  readonly #settings: ReconcilerSettings;
  readonly #log: Logger;
  readonly #cursorName: string;
  readonly #incomeCursor: string;

  constructor(options: {
    store: RecordStore;
    api: UsdmApi;
    scope: RecordScope;
    settings: ReconcilerSettings;
    logger: Logger;
  }) {
    this.#store = options.store;
    this.#api = options.api;
    this.#scope = options.scope;
    this.#settings = options.settings;
    this.#log = options.logger;
    this.#cursorName = `reconciled:${options.scope.mode}:${options.scope.account}`;
    this.#incomeCursor = `income:${options.scope.mode}:${options.scope.account}`;
  }

  async #since(cursor: string, now: number): Promise<number> {
    const stored = await this.#store.cursor(cursor);
    const wanted =
      stored === undefined ? now - this.#settings.lookbackMs : Number(stored) - this.#settings.overlapMs;
    const oldest = now - MAX_WINDOW_MS;
    if (wanted < oldest) {
      this.#log.warn('the last reconciliation is older than the exchange lets us read back; reading 7 days', {
        cursor,
        since: wanted,
      });
      return oldest;
    }
    return wanted;
  }

  /**
   * Reads income since its cursor (pages of 1,000) and stores it; returns the symbols that had
   * income and how many rows were new.
   */
  async income(): Promise<{ symbols: Set<string>; inserted: number; requests: number }> {
    const now = Date.now();
    const since = await this.#since(this.#incomeCursor, now);
    const symbols = new Set<string>();
    const rows = [];
    let requests = 0;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = await this.#api.income({ startTime: ms(since), endTime: now, limit: PAGE, page });
      requests += 1;
      const got = decodeIncomes(parseJson(response.body));
      for (const row of got) {
        rows.push(incomeFromRest(this.#scope, row));
        if (row.symbol !== '') symbols.add(row.symbol);
      }
      if (got.length < PAGE) break;
      if (page === MAX_PAGES) this.#log.warn('income pages cut at the per-run limit', { pages: MAX_PAGES });
    }
    const result = await this.#store.write({ income: rows }, { [this.#incomeCursor]: String(now) });
    return { symbols, inserted: result.inserted, requests };
  }

  /**
   * One full reconciliation: income, then orders and fills of every symbol that may have changed.
   * `seen` adds symbols the caller knows had events. Differences are returned (and counted per
   * symbol) for the alert channel.
   */
  async reconcile(reason: string, seen: Iterable<string> = []): Promise<ReconcileReport> {
    const now = Date.now();
    const since = await this.#since(this.#cursorName, now);
    const symbols = new Set<string>([...this.#settings.symbols, ...seen]);
    for (const s of await this.#store.activeSymbols(this.#scope, now - this.#settings.activeDays * DAY_MS))
      symbols.add(s);
    const income = await this.income();
    for (const s of income.symbols) symbols.add(s);
    let requests = income.requests;
    const open = await this.#api.openOrders();
    requests += 1;
    for (const o of open) symbols.add(o.symbol);
    const account = parseAccount((await this.#api.accountV3()).body);
    requests += 1;
    for (const p of account.positions) if (Number(p.position.amount) !== 0) symbols.add(p.symbol);

    const differences: ReconciliationDifference[] = [];
    if (income.inserted > 0)
      differences.push({ reason, symbol: '', orders: 0, fills: 0, income: income.inserted });
    for (const symbol of [...symbols].sort()) {
      const orders = await this.#orders(symbol, since);
      const trades = await this.#trades(symbol, since);
      requests += orders.requests + trades.requests;
      const clientIds = new Map(orders.rows.map((o) => [String(o.orderId), o.clientOrderId]));
      const o = await this.#store.write({
        orderUpdates: orders.rows.map((r) => orderUpdateFromRest(this.#scope, r)),
      });
      const f = await this.#store.write({
        fills: trades.rows.map((t) => fillFromRest(this.#scope, t, clientIds.get(String(t.orderId)) ?? null)),
      });
      if (o.inserted > 0 || f.inserted > 0)
        differences.push({ reason, symbol, orders: o.inserted, fills: f.inserted, income: 0 });
    }
    await this.#store.write({}, { [this.#cursorName]: String(now) });
    return { reason, since, symbols: symbols.size, differences, requests };
  }

  /** Orders created since `since`, and every order the store still holds as working (it may have ended since). */
  async #orders(symbol: string, since: number): Promise<{ rows: OrderRecord[]; requests: number }> {
    const rows = new Map<number, OrderRecord>();
    let requests = 0;
    const marks = await this.#store.symbolMarks(this.#scope, symbol);
    const page = async (first: OrderRecord[]): Promise<void> => {
      let batch = first;
      for (let n = 1; ; n++) {
        for (const o of batch) rows.set(o.orderId, o);
        if (batch.length < PAGE || n >= MAX_PAGES) return;
        const last = batch.at(-1)?.orderId ?? 0;
        batch = await this.#api.allOrders({ symbol, orderId: last + 1, limit: PAGE });
        requests += 1;
      }
    };
    const oldestOpen = marks.openOrderIds[0];
    if (oldestOpen !== undefined) {
      requests += 1;
      await page(await this.#api.allOrders({ symbol, orderId: Number(oldestOpen), limit: PAGE }));
    }
    requests += 1;
    await page(await this.#api.allOrders({ symbol, startTime: ms(since), limit: PAGE }));
    return { rows: [...rows.values()], requests };
  }

  /** Fills since `since` (a time window first, then from the last id upward). */
  async #trades(symbol: string, since: number): Promise<{ rows: TradeRecord[]; requests: number }> {
    const rows: TradeRecord[] = [];
    let requests = 1;
    let batch = await this.#api.userTrades({ symbol, startTime: ms(since), limit: PAGE });
    for (let n = 1; ; n++) {
      rows.push(...batch);
      if (batch.length < PAGE || n >= MAX_PAGES) break;
      const last = batch.at(-1)?.id ?? 0;
      batch = await this.#api.userTrades({ symbol, fromId: last + 1, limit: PAGE });
      requests += 1;
    }
    return { rows, requests };
  }
}
