// Reconciliation of conditional (algo) orders: the exchange's open ones against the stored open ones, so a stop placed, triggered or cancelled while the stream was away is stored.
import { BinanceCode, hasBinanceCode } from '../ts/exchange/exchange-errors.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import type { Logger } from '../ts/log/logger.js';
import { algoOrderUpdateFromRest } from '../ts/store/exchange-records.js';
import { refusalLogFields, screenBatch } from '../ts/store/record-check.js';
import type { RecordStore } from '../ts/store/record-store.js';
import type { AlgoOrderUpdateRecord, RecordScope } from '../ts/store/store-records.js';

/** Stored orders that left the open list, queried one by one in one pass; the next pass goes on. */
export const MAX_ALGO_QUERIES = 100;

/** What one pass did. */
export interface AlgoReconcileResult {
  /** States newly stored (REST knew them, the store did not). */
  readonly stored: number;
  /** Stored open orders the exchange no longer lists as open, queried for their final state. */
  readonly queried: number;
  /**
   * Stored open orders the exchange no longer knows (-2013; asked in this pass or an earlier one):
   * left as stored, logged once.
   */
  readonly unknown: number;
  /** Left for the next pass by the bound on queries a pass. */
  readonly deferred: number;
  /** Rows REST returned that no column can hold: each logged as an error with the row, not stored. */
  readonly refused: number;
  readonly requests: number;
}

/**
 * One pass: `openAlgoOrders` (every symbol, one request) is stored as it is; each order the store
 * holds as open that the exchange no longer lists is read by its algo id (`algoOrder`) and its
 * state stored. The store keeps each order's latest state by time and status, so a state also
 * seen on the stream is one row, and an older state never replaces a newer one.
 */
export class AlgoOrderReconciler {
  readonly #store: RecordStore;
  readonly #api: UsdmApi;
  readonly #scope: RecordScope;
  readonly #log: Logger;
  readonly #maxQueries: number;
  /**
   * Stored open orders the exchange answered it does not know, in this process: not asked again,
   * so they never take the queries of the others (bounded; a restart asks again).
   */
  readonly #unknown = new Set<string>();

  constructor(options: {
    store: RecordStore;
    api: UsdmApi;
    scope: RecordScope;
    logger: Logger;
    /** Orders queried one by one in a pass (default {@link MAX_ALGO_QUERIES}). */
    maxQueries?: number;
  }) {
    this.#store = options.store;
    this.#api = options.api;
    this.#scope = options.scope;
    this.#log = options.logger;
    this.#maxQueries = options.maxQueries ?? MAX_ALGO_QUERIES;
  }

  async reconcile(): Promise<AlgoReconcileResult> {
    const open = await this.#api.openAlgoOrders();
    let requests = 1;
    const rows: AlgoOrderUpdateRecord[] = open.map((r) => algoOrderUpdateFromRest(this.#scope, r));
    const listed = new Set(rows.map((r) => r.algoId));
    const notListed = (await this.#store.algoOrders(this.#scope, { open: true })).filter(
      (a) => !listed.has(a.algoId),
    );
    const left = notListed.filter((a) => !this.#unknown.has(a.algoId));
    const asked = left.slice(0, this.#maxQueries);
    let unknown = notListed.length - left.length;
    for (const stored of asked) {
      const algoId = Number(stored.algoId);
      requests += 1;
      try {
        const ref = Number.isSafeInteger(algoId) ? { algoId } : { clientAlgoId: stored.clientAlgoId };
        rows.push(algoOrderUpdateFromRest(this.#scope, await this.#api.queryAlgoOrder(ref)));
      } catch (error) {
        if (!hasBinanceCode(error, BinanceCode.NO_SUCH_ORDER)) throw error;
        // Binance forgets old conditional orders; what the store holds is the last state it saw.
        unknown += 1;
        if (this.#unknown.size < 10_000) this.#unknown.add(stored.algoId);
        this.#log.warn('a stored open conditional order is unknown to the exchange; left as stored', {
          symbol: stored.symbol,
          algoId: stored.algoId,
          clientAlgoId: stored.clientAlgoId,
          status: stored.status,
        });
      }
    }
    const deferred = left.length - asked.length;
    if (deferred > 0)
      this.#log.info('conditional orders left to query in the next pass', {
        queried: asked.length,
        deferred,
      });
    const screened = screenBatch({ algoOrderUpdates: rows });
    for (const refusal of screened.refused)
      this.#log.error('record refused: a column cannot hold it; not stored', refusalLogFields(refusal));
    const result = await this.#store.write(screened.batch);
    return {
      stored: result.inserted,
      queried: asked.length,
      unknown,
      deferred,
      refused: screened.refused.length,
      requests,
    };
  }
}
