// Reconciliation from REST: the exchange's orders, fills and income since what was last confirmed, so the store converges to the exchange's truth.
import { Decimal } from '../ts/exact/decimal.js';
import { isUnknownSymbol, UNKNOWN_SYMBOL_CODE } from '../ts/exchange/exchange-errors.js';
import { parseJson } from '../ts/exchange/json-shape.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import {
  type AlgoOrderRecord,
  decodeIncomes,
  type OrderRecord,
  TERMINAL_ORDER_STATUSES,
  type TradeRecord,
} from '../ts/exchange/usdm-decoders.js';
import type { Logger } from '../ts/log/logger.js';
import { parseAccount } from '../ts/native/parse.js';
import {
  algoOrderUpdateFromRest,
  fillFromRest,
  incomeFromRest,
  orderUpdateFromRest,
} from '../ts/store/exchange-records.js';
import { recordForLog, refusalLogFields, type ScreenedBatch, screenBatch } from '../ts/store/record-check.js';
import type { RecordStore } from '../ts/store/record-store.js';
import type { FillRecord, RecordBatch, RecordScope } from '../ts/store/store-records.js';
import { AlgoOrderReconciler } from './algo-order-reconciler.js';

/** Binance's largest page for allOrders, userTrades and income. */
const PAGE = 1000;
/** Pages read per symbol and kind in one reconciliation (bounds a run; the next run continues). */
const MAX_PAGES = 50;
/** userTrades and allOrders take windows of at most 7 days. */
const MAX_WINDOW_MS = 7 * 86_400_000 - 60_000;
const DAY_MS = 86_400_000;
const TERMINAL = new Set(TERMINAL_ORDER_STATUSES);
/** Conditional order statuses that never change again (a TRIGGERED one still becomes FINISHED). */
const SETTLED_ALGO = new Set(['CANCELED', 'FINISHED', 'EXPIRED', 'REJECTED']);

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
  /** Whether it was a full pass (every candidate symbol) or only the symbols with activity. */
  readonly full: boolean;
  readonly since: number;
  readonly symbols: number;
  readonly differences: readonly ReconciliationDifference[];
  readonly requests: number;
  /** Symbols the exchange refused as unknown (-1121: delisted, or never listed), skipped. */
  readonly unlisted: readonly string[];
  /**
   * Orders, fills and income rows stored by the account's first full pass: history from before
   * the recorder ran, which no stream could have delivered, so not differences.
   */
  readonly backfilled: number;
  /**
   * Conditional (algo) order states the pass stored that the store lacked (the stream missed
   * them, or the first pass read them): a full pass's open list and stored-open queries, and every
   * pass's per-symbol history. Not differences: a conditional order's fill is an order and a fill.
   */
  readonly algoOrders: number;
}

/** What a pass stored for one symbol, and the requests it took. */
interface SymbolReconciled {
  readonly orders: number;
  readonly fills: number;
  readonly algoOrders: number;
  readonly requests: number;
}

/** What one reconciliation looks at. */
export interface ReconcilePlan {
  /**
   * A full pass (after a start, a hub reconnection, a gap in the relayed events, a user-stream
   * loss): the stream may have missed anything, so it reads income, open orders and positions to
   * find the symbols that changed, and looks at every configured symbol and every symbol with
   * stored activity within `activeDays`. Otherwise only `seen` is looked at.
   */
  readonly full: boolean;
  /** Symbols the caller knows had activity (events, income) since the last reconciliation. */
  readonly seen?: Iterable<string>;
  /**
   * Symbols with an open position, as the caller knows them (the hub's account state); absent:
   * a full pass reads the account by REST.
   */
  readonly positions?: readonly string[];
}

/** Where the next reconciliation of one symbol starts reading (both ids inclusive). */
export interface SymbolCursor {
  /**
   * The oldest order that may still change: the oldest working one, else the one after the newest
   * seen; null while none was seen (orders are then read by time).
   */
  readonly order: number | null;
  /** The trade after the newest one REST returned; null while none was. */
  readonly trade: number | null;
  /**
   * The oldest conditional order that may still change, else the one after the newest seen; null
   * while none was seen (they are then read by time).
   */
  readonly algo: number | null;
}

const ms = (a: number) => Math.max(0, Math.floor(a));

/** Reads a stored symbol cursor (`{"order":…, "trade":…}`); anything else is treated as none. */
export function parseSymbolCursor(text: string | undefined): SymbolCursor | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as { order?: unknown; trade?: unknown; algo?: unknown };
    const id = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);
    // A cursor stored before conditional orders were read per symbol has no algo id: read by time.
    return { order: id(value.order), trade: id(value.trade), algo: id(value.algo) };
  } catch {
    return undefined;
  }
}

/**
 * Reads the exchange's record of the account through REST and stores what the store lacks, by the
 * same natural keys the stream's records use (so nothing is stored twice).
 *
 * Each symbol keeps its own cursor (order, trade and conditional order ids, committed with its
 * rows): `allOrders` from the oldest order that may still change, `userTrades` from the trade after
 * the last one REST returned, and `allAlgoOrders` from the oldest conditional order that may still
 * change, so a pass over a quiet symbol costs three small requests and never re-reads history; a
 * stop placed and cancelled while the stream was away is found like an order. A symbol seen for
 * the first time is read from a time (the last full pass, else `lookbackMs` ago).
 * Which symbols: see {@link ReconcilePlan}.
 */
export class Reconciler {
  readonly #store: RecordStore;
  readonly #api: UsdmApi;
  readonly #scope: RecordScope;
  readonly #settings: ReconcilerSettings;
  readonly #log: Logger;
  readonly #cursorName: string;
  readonly #incomeCursor: string;
  /** Rows REST returned that no column can hold: each logged as an error with the row, not stored. */
  refused = 0;
  /**
   * Fills whose trade id was seen with other values (stored from the stream, or earlier in the same
   * read): the natural key keeps the first, so each is logged as an error with both versions.
   */
  conflicts = 0;
  /** Symbols skipped because the exchange does not list them (counted once per pass each). */
  unlistedSkips = 0;
  /**
   * Symbols the exchange refused as unknown in this process: later passes skip them without
   * asking (a request and a refusal each, for every pass of `activeDays`). A restart asks again.
   */
  readonly #unlisted = new Set<string>();
  readonly #algo: AlgoOrderReconciler;

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
    this.#algo = new AlgoOrderReconciler(options);
  }

  /** The name of `symbol`'s cursor in the store. */
  symbolCursorName(symbol: string): string {
    return `${this.#cursorName}:${symbol}`;
  }

  /** Where a read from `cursor` (its `stored` value, undefined when never written) starts. */
  #since(cursor: string, stored: string | undefined, now: number): number {
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
   * Reads income since its cursor (pages of 1,000) and stores it; returns how many rows were new
   * and the symbols of the rows booked after the previous read (the overlap re-read before it is
   * not counted as news).
   */
  async income(): Promise<{ symbols: Set<string>; inserted: number; requests: number }> {
    const now = Date.now();
    const previous = await this.#store.cursor(this.#incomeCursor);
    const since = this.#since(this.#incomeCursor, previous, now);
    const after = previous === undefined ? 0 : Number(previous);
    const symbols = new Set<string>();
    const rows = [];
    let requests = 0;
    // Read up to: `now` when every page was read; else the newest row read (the exchange pages oldest
    // first), so the next read goes on from there instead of skipping what this one left.
    let readTo = now;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = await this.#api.income({ startTime: ms(since), endTime: now, limit: PAGE, page });
      requests += 1;
      const got = decodeIncomes(parseJson(response.body));
      for (const row of got) rows.push(incomeFromRest(this.#scope, row));
      if (got.length < PAGE) break;
      if (page === MAX_PAGES) {
        readTo = Math.min(now, Math.max(since, ...got.map((row) => row.time)));
        this.#log.warn(
          'income pages cut at the per-run limit; the next read goes on from the last row read',
          {
            pages: MAX_PAGES,
            readTo,
          },
        );
      }
    }
    const screened = this.#screen({ income: rows }, { [this.#incomeCursor]: String(readTo) });
    for (const row of screened.batch.income ?? [])
      if (row.symbol !== '' && row.time >= after) symbols.add(row.symbol);
    const result = await this.#store.write(screened.batch, screened.cursors);
    return { symbols, inserted: result.inserted, requests };
  }

  /**
   * One reconciliation (see {@link ReconcilePlan}). Differences are returned (per symbol, and the
   * account's income) for the alert channel.
   */
  async reconcile(reason: string, plan: ReconcilePlan): Promise<ReconcileReport> {
    const now = Date.now();
    const stored = await this.#store.cursor(this.#cursorName);
    const since = this.#since(this.#cursorName, stored, now);
    const symbols = new Set<string>(plan.seen ?? []);
    const differences: ReconciliationDifference[] = [];
    // The store's first full pass for this account (no pass has written the cursor yet) reads its
    // history: what it stores is a backfill, not something the stream lost.
    const firstFull = plan.full && stored === undefined;
    let backfilled = 0;
    let requests = 0;
    let algoOrders = 0;
    if (plan.full) {
      // Conditional orders (the stop-loss ladders' stops) come from their own service, for every symbol at once.
      const algo = await this.#algo.reconcile();
      requests += algo.requests;
      algoOrders = algo.stored;
      this.refused += algo.refused;
      for (const s of this.#settings.symbols) symbols.add(s);
      for (const s of await this.#store.activeSymbols(this.#scope, now - this.#settings.activeDays * DAY_MS))
        symbols.add(s);
      const income = await this.income();
      requests += income.requests;
      for (const s of income.symbols) symbols.add(s);
      if (firstFull) backfilled += income.inserted;
      else if (income.inserted > 0)
        differences.push({ reason, symbol: '', orders: 0, fills: 0, income: income.inserted });
      const open = await this.#api.openOrders();
      requests += 1;
      for (const o of open) symbols.add(o.symbol);
      if (plan.positions !== undefined) {
        for (const s of plan.positions) symbols.add(s);
      } else {
        const account = parseAccount((await this.#api.accountV3()).body);
        requests += 1;
        for (const p of account.positions) if (Number(p.position.amount) !== 0) symbols.add(p.symbol);
      }
    }
    const unlisted: string[] = [];
    /** Refused in this pass; the others were refused in an earlier one and logged then. */
    const refused: string[] = [];
    for (const symbol of [...symbols].sort()) {
      if (this.#unlisted.has(symbol)) {
        unlisted.push(symbol);
        continue;
      }
      let found: SymbolReconciled;
      try {
        found = await this.#symbol(symbol, since);
      } catch (error) {
        // A delisted symbol with records stays among the active ones for days: one such symbol
        // must not fail every pass, and with it every symbol after it. Any other error fails the
        // pass, which the scheduler owes again.
        if (!isUnknownSymbol(error)) throw error;
        if (this.#unlisted.size < 10_000) this.#unlisted.add(symbol);
        unlisted.push(symbol);
        refused.push(symbol);
        requests += 1;
        continue;
      }
      requests += found.requests;
      algoOrders += found.algoOrders;
      if (firstFull) backfilled += found.orders + found.fills;
      else if (found.orders > 0 || found.fills > 0)
        differences.push({ reason, symbol, orders: found.orders, fills: found.fills, income: 0 });
    }
    // The time a symbol without a cursor of its own is first read from: only a full pass has looked everywhere.
    if (plan.full) await this.#store.write({}, { [this.#cursorName]: String(now) });
    this.unlistedSkips += unlisted.length;
    if (refused.length > 0)
      this.#log.warn('symbols the exchange does not list (delisted?) skipped; their records stay as stored', {
        count: refused.length,
        symbols: refused.slice(0, 20).join(','),
      });
    return {
      reason,
      full: plan.full,
      since,
      symbols: symbols.size,
      differences,
      requests,
      unlisted,
      backfilled,
      algoOrders,
    };
  }

  /**
   * Orders, fills and conditional orders of one symbol from its cursor; the cursor moves in the
   * last write, after every row it passes is stored.
   */
  async #symbol(symbol: string, since: number): Promise<SymbolReconciled> {
    const name = this.symbolCursorName(symbol);
    const cursor = parseSymbolCursor(await this.#store.cursor(name));
    const marks = await this.#store.symbolMarks(this.#scope, symbol);
    const oldestOpen = marks.openOrderIds[0] === undefined ? undefined : Number(marks.openOrderIds[0]);
    const orders = await this.#orders(symbol, since, minDefined(cursor?.order ?? undefined, oldestOpen));
    const trades = await this.#trades(symbol, since, cursor?.trade ?? undefined);
    // Never read by id yet: by time. A stop the stream (or a full pass's open list) stored as
    // waiting is not where the history starts: stops before it may have come and gone unseen.
    // Waiting stops older than the time window are the full pass's queries by id.
    const algoFrom =
      cursor?.algo == null ? undefined : minDefined(cursor.algo, await this.#oldestWaitingStop(symbol));
    const algos = await this.#algos(symbol, since, algoFrom);
    await this.#checkConflicts(symbol, trades.rows);
    const clientIds = new Map(orders.rows.map((o) => [String(o.orderId), o.clientOrderId]));
    const next = nextCursor(cursor, orders.from, orders.rows, trades.rows, algos.from, algos.rows);
    const o = await this.#write(
      this.#screen({
        orderUpdates: orders.rows.map((r) => orderUpdateFromRest(this.#scope, r)),
      }),
    );
    const a = await this.#write(
      this.#screen({
        algoOrderUpdates: algos.rows.map((r) => algoOrderUpdateFromRest(this.#scope, r)),
      }),
    );
    // The cursor moves with the fills, after the orders are in: a failure in between re-reads them.
    // It moves past a refused fill too: read again, it would be refused again.
    const f = await this.#write(
      this.#screen(
        {
          fills: trades.rows.map((t) =>
            fillFromRest(this.#scope, t, clientIds.get(String(t.orderId)) ?? null),
          ),
        },
        next === undefined ? {} : { [name]: JSON.stringify(next) },
      ),
    );
    return {
      orders: o.inserted,
      fills: f.inserted,
      algoOrders: a.inserted,
      requests: orders.requests + trades.requests + algos.requests,
    };
  }

  /**
   * Compares the trades REST returned with the fills stored under the same ids, and with each
   * other: a different value is not a duplicate, and the store would silently keep the first.
   */
  async #checkConflicts(symbol: string, trades: readonly TradeRecord[]): Promise<void> {
    if (trades.length === 0) return;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const t of trades) {
      from = Math.min(from, t.time);
      to = Math.max(to, t.time);
    }
    const stored = await this.#store.fills(this.#scope, { symbol, from, to });
    const seen = new Map<string, FillRecord>(stored.map((f) => [f.tradeId, f]));
    for (const t of trades) {
      const rest = fillFromRest(this.#scope, t, null);
      const first = seen.get(rest.tradeId);
      if (first === undefined) {
        seen.set(rest.tradeId, rest);
        continue;
      }
      const fields = differingFields(first, rest);
      if (fields.length === 0) continue;
      this.conflicts += 1;
      this.#log.error('fill differs from the exchange; the stored one is kept', {
        symbol,
        tradeId: rest.tradeId,
        fields: fields.join(','),
        kept: recordForLog(first),
        exchange: recordForLog(rest),
      });
    }
  }

  /**
   * Keeps the rows every column can hold: the store refuses a whole batch for one that does not,
   * and the exchange would return that one on every pass, so nothing around it would be stored.
   */
  #screen(batch: RecordBatch, cursors: Readonly<Record<string, string>> = {}): ScreenedBatch {
    const screened = screenBatch(batch, cursors);
    for (const refusal of screened.refused) {
      this.refused += 1;
      this.#log.error('record refused: a column cannot hold it; not stored', refusalLogFields(refusal));
    }
    return screened;
  }

  #write(screened: ScreenedBatch): ReturnType<RecordStore['write']> {
    return this.#store.write(screened.batch, screened.cursors);
  }

  /** Orders from `fromId` upward, or (no id known yet) created since `since`, once each in id order. */
  async #orders(
    symbol: string,
    since: number,
    fromId: number | undefined,
  ): Promise<{ rows: OrderRecord[]; requests: number; from: number | undefined }> {
    // A delisted symbol's refusal (-1121) is an answer here (the pass skips it and says so once).
    const unlisted = { expectedCodes: [UNKNOWN_SYMBOL_CODE] };
    const read = await readPages(
      () =>
        fromId === undefined
          ? this.#api.allOrders({ symbol, startTime: ms(since), limit: PAGE }, unlisted)
          : this.#api.allOrders({ symbol, orderId: fromId, limit: PAGE }, unlisted),
      (orderId) => this.#api.allOrders({ symbol, orderId, limit: PAGE }),
      (o) => o.orderId,
    );
    return { rows: onePerId(read.rows, (o) => o.orderId), requests: read.requests, from: fromId };
  }

  /** The lowest algo id of the stops the store holds as waiting in `symbol`. */
  async #oldestWaitingStop(symbol: string): Promise<number | undefined> {
    let oldest: number | undefined;
    for (const stop of await this.#store.algoOrders(this.#scope, { symbol, open: true })) {
      const id = Number(stop.algoId);
      if (Number.isSafeInteger(id)) oldest = minDefined(oldest, id);
    }
    return oldest;
  }

  /** Conditional orders from `fromId` upward, or (no id known yet) created since `since`, once each in id order. */
  async #algos(
    symbol: string,
    since: number,
    fromId: number | undefined,
  ): Promise<{ rows: AlgoOrderRecord[]; requests: number; from: number | undefined }> {
    const read = await readPages(
      () =>
        fromId === undefined
          ? this.#api.allAlgoOrders({ symbol, startTime: ms(since), limit: PAGE })
          : this.#api.allAlgoOrders({ symbol, algoId: fromId, limit: PAGE }),
      (algoId) => this.#api.allAlgoOrders({ symbol, algoId, limit: PAGE }),
      (a) => a.algoId,
    );
    return { rows: onePerId(read.rows, (a) => a.algoId), requests: read.requests, from: fromId };
  }

  /**
   * Fills from `fromId` upward, or (no id known yet) since `since`, as REST returned them: a trade
   * id seen twice stays twice, for the conflict check.
   */
  #trades(
    symbol: string,
    since: number,
    fromId: number | undefined,
  ): Promise<{ rows: TradeRecord[]; requests: number }> {
    return readPages(
      () =>
        fromId === undefined
          ? this.#api.userTrades({ symbol, startTime: ms(since), limit: PAGE })
          : this.#api.userTrades({ symbol, fromId, limit: PAGE }),
      (next) => this.#api.userTrades({ symbol, fromId: next, limit: PAGE }),
      (t) => t.id,
    );
  }
}

/** The fields in which two fills of one trade id differ (decimals by value: "0.010" is "0.01"). */
function differingFields(a: FillRecord, b: FillRecord): string[] {
  // Not quoteQty: a stream fill's is price × quantity, worked out here, so it says nothing of its own.
  const decimals = ['price', 'qty', 'realizedPnl', 'commission'] as const;
  const others = ['orderId', 'side', 'positionSide', 'commissionAsset', 'time'] as const;
  // The stream names no asset for a fill without commission (stored as USDT); REST always does.
  const noCommission = Decimal.parse(a.commission).isZero() && Decimal.parse(b.commission).isZero();
  return [
    ...decimals.filter((k) => !Decimal.parse(a[k]).eq(Decimal.parse(b[k]))),
    ...others.filter((k) => a[k] !== b[k] && !(k === 'commissionAsset' && noCommission)),
  ];
}

/**
 * A history read that pages by id: the first page, then (while a page comes back full, at most
 * {@link MAX_PAGES} pages) the page from the id after the highest one returned. Rows as returned.
 */
async function readPages<T>(
  first: () => Promise<T[]>,
  from: (id: number) => Promise<T[]>,
  idOf: (row: T) => number,
): Promise<{ rows: T[]; requests: number }> {
  const rows: T[] = [];
  let requests = 1;
  let batch = await first();
  for (let n = 1; ; n++) {
    rows.push(...batch);
    if (batch.length < PAGE || n >= MAX_PAGES) break;
    batch = await from(batch.reduce((max, row) => Math.max(max, idOf(row)), 0) + 1);
    requests += 1;
  }
  return { rows, requests };
}

/** `rows` with one per id (the last read wins), in id order. */
function onePerId<T>(rows: readonly T[], idOf: (row: T) => number): T[] {
  return [...new Map(rows.map((row) => [idOf(row), row])).values()].sort((a, b) => idOf(a) - idOf(b));
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Where a symbol's next reconciliation starts: orders from the oldest one REST still showed working
 * (else the one after the newest it showed, else where this one started); trades after the newest
 * REST showed; conditional orders as orders, from the oldest one that may still change. Undefined
 * while nothing was ever seen (the next pass reads by time again).
 */
export function nextCursor(
  previous: SymbolCursor | undefined,
  ordersFrom: number | undefined,
  orders: readonly OrderRecord[],
  trades: readonly TradeRecord[],
  algosFrom?: number,
  algos: readonly AlgoOrderRecord[] = [],
): SymbolCursor | undefined {
  const working = orders.find((o) => !TERMINAL.has(o.status));
  const newest = orders.at(-1);
  const order = working?.orderId ?? (newest === undefined ? ordersFrom : newest.orderId + 1) ?? null;
  let trade = previous?.trade ?? null;
  for (const t of trades) if (trade === null || t.id + 1 > trade) trade = t.id + 1;
  const waiting = algos.find((a) => !SETTLED_ALGO.has(a.algoStatus));
  const newestAlgo = algos.at(-1);
  const algo = waiting?.algoId ?? (newestAlgo === undefined ? algosFrom : newestAlgo.algoId + 1) ?? null;
  if (order === null && trade === null && algo === null) return undefined;
  return { order, trade, algo };
}
