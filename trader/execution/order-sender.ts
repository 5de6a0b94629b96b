// Sends orders and cancels so that none is lost or doubled: an unknown outcome is resolved by client id before anything else.

import type { AlertSink } from '../../ts/alerts/alert.js';
import { orderOutcomeUnknownAlert } from '../../ts/alerts/alert-sources.js';
import {
  BinanceCode,
  ExchangeError,
  hasBinanceCode,
  isOutcomeUnknown,
} from '../../ts/exchange/exchange-errors.js';
import type {
  AlgoOrderRef,
  NewAlgoOrderParams,
  NewOrderParams,
  OrderRef,
  UsdmApi,
} from '../../ts/exchange/usdm-api.js';
import {
  type AlgoCancelRecord,
  type AlgoOrderRecord,
  type OrderRecord,
  TERMINAL_ALGO_STATUSES,
  TERMINAL_ORDER_STATUSES,
} from '../../ts/exchange/usdm-decoders.js';
import { Logger } from '../../ts/log/logger.js';

/** How order actions whose outcome is unknown (503 "Unknown error", timeouts) are resolved. */
export interface OutcomeRecoveryOptions {
  /** Wait before each status query, ms, multiplied by the query's number (default 500). */
  readonly queryDelayMs?: number;
  /** Status queries per unknown outcome (default 3). */
  readonly maxQueries?: number;
  /** Resends (same client id) after a query says the order does not exist (default 1). */
  readonly maxResends?: number;
  /**
   * Before a resend, the sender waits until the lost request can no longer be accepted: its
   * `timestamp` + the client's `recvWindow` + this margin, ms (default 1000, for clock differences),
   * then queries again. Binance keeps client ids unique only among open orders, so a resend before
   * then can become a second order when the first request executes late (a MARKET order fills at
   * once and frees its id).
   */
  readonly resendMarginMs?: number;
}

/** Options of an {@link OrderSender}. */
export interface OrderSenderOptions {
  readonly recovery?: OutcomeRecoveryOptions;
  readonly logger?: Logger;
  /** Told (critical) of every outcome that stays unknown: the owner may have to look at the account. */
  readonly alerts?: AlertSink;
}

/**
 * An order action whose outcome the exchange would not tell within the bounds: the order may or
 * may not exist. The caller must not send anything else for the symbol until it knows (a later
 * query, the user-data stream or a reconciliation).
 */
export class OrderOutcomeUnknownError extends ExchangeError {
  override readonly name = 'OrderOutcomeUnknownError';
  constructor(
    readonly action: 'place' | 'cancel',
    readonly symbol: string | null,
    readonly clientOrderId: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${action} ${clientOrderId}: outcome unknown: ${detail}`, options);
  }
}

/** One placement as the recovery loop sees it. */
interface Placement<T> {
  kind: string;
  symbol: string;
  clientId: string;
  send: () => Promise<T>;
  query: () => Promise<T>;
}

/** One cancel as the recovery loop sees it: a query says whether the order is finished. */
interface Cancel<T> {
  kind: string;
  symbol: string | null;
  label: string;
  send: () => Promise<T>;
  query: () => Promise<{ done: boolean; result: T }>;
}

/**
 * Places and cancels orders and conditional (algo) orders through a `UsdmApi`, never sending
 * anything twice blindly. Every placement carries a client id (generated when absent); when the
 * exchange leaves the outcome unknown (HTTP 5xx such as 503 "Unknown error", -1006/-1007, a
 * timeout after sending) the order is queried by that id and what is found is returned; only when
 * the exchange says it does not exist, and again once the lost request can no longer be accepted
 * (its `timestamp` + `recvWindow` + a margin), is it resent, with the same id. A cancel with an
 * unknown outcome is resolved by a query: a finished order is returned as found, a live one is
 * cancelled again. Every loop is bounded and logged; what stays unknown is an {@link OrderOutcomeUnknownError}.
 */
export class OrderSender {
  readonly api: UsdmApi;
  readonly #log: Logger;
  readonly #alerts: AlertSink | undefined;
  readonly #queryDelayMs: number;
  readonly #maxQueries: number;
  readonly #maxResends: number;
  readonly #resendMarginMs: number;

  constructor(api: UsdmApi, options: OrderSenderOptions = {}) {
    this.api = api;
    this.#log = options.logger ?? new Logger('trader.orders');
    this.#alerts = options.alerts;
    this.#queryDelayMs = options.recovery?.queryDelayMs ?? 500;
    this.#maxQueries = Math.max(1, options.recovery?.maxQueries ?? 3);
    this.#maxResends = Math.max(0, options.recovery?.maxResends ?? 1);
    this.#resendMarginMs = Math.max(0, options.recovery?.resendMarginMs ?? 1000);
  }

  /** POST /fapi/v1/order; after an unknown outcome, the order found by its client id. */
  async place(params: NewOrderParams): Promise<OrderRecord> {
    const clientId = params.newClientOrderId ?? this.api.nextClientOrderId();
    const request = { ...params, newClientOrderId: clientId };
    return this.#placeOnce({
      kind: 'order',
      symbol: params.symbol,
      clientId,
      send: () => this.api.newOrder(request),
      query: () => this.api.queryOrder({ symbol: params.symbol, origClientOrderId: clientId }),
    });
  }

  /** DELETE /fapi/v1/order; an unknown outcome is resolved by a query (a live order is cancelled again). */
  async cancel(ref: OrderRef): Promise<OrderRecord> {
    return this.#cancelOnce({
      kind: 'order',
      symbol: ref.symbol,
      label: ref.origClientOrderId ?? String(ref.orderId),
      send: () => this.api.cancelOrder(ref),
      query: async () => {
        const order = await this.api.queryOrder(ref);
        return { done: TERMINAL_ORDER_STATUSES.includes(order.status), result: order };
      },
    });
  }

  /** POST /fapi/v1/algoOrder; after an unknown outcome, the algo order found by its client algo id. */
  async placeAlgo(params: NewAlgoOrderParams): Promise<AlgoOrderRecord> {
    const clientId = params.clientAlgoId ?? this.api.nextClientOrderId();
    const request = { ...params, clientAlgoId: clientId };
    return this.#placeOnce({
      kind: 'algo order',
      symbol: params.symbol,
      clientId,
      send: () => this.api.newAlgoOrder(request),
      query: () => this.api.queryAlgoOrder({ clientAlgoId: clientId }),
    });
  }

  /** DELETE /fapi/v1/algoOrder; an unknown outcome is resolved by a query. */
  async cancelAlgo(ref: AlgoOrderRef): Promise<AlgoCancelRecord> {
    return this.#cancelOnce({
      kind: 'algo order',
      symbol: null,
      label: ref.clientAlgoId ?? String(ref.algoId),
      send: () => this.api.cancelAlgoOrder(ref),
      query: async () => {
        const algo = await this.api.queryAlgoOrder(ref);
        return {
          done: TERMINAL_ALGO_STATUSES.includes(algo.algoStatus),
          result: { algoId: algo.algoId, clientAlgoId: algo.clientAlgoId, algoStatus: algo.algoStatus },
        };
      },
    });
  }

  async #placeOnce<T>(action: Placement<T>): Promise<T> {
    let lastError: unknown = null;
    const scheduler = this.api.rest.scheduler;
    for (let sends = 0; sends <= this.#maxResends; sends++) {
      // When the request was signed at the latest: before its failure came back.
      let signedBy: number;
      try {
        return await action.send();
      } catch (error) {
        signedBy = scheduler.now();
        // A resend refused as a duplicate means the earlier send did land: read it.
        const duplicate = sends > 0 && hasBinanceCode(error, BinanceCode.DUPLICATED_CLIENT_ORDER_ID);
        if (!duplicate && !isOutcomeUnknown(error)) throw error;
        lastError = error;
        this.#warn(
          `${action.kind} outcome unknown; querying by client id`,
          action.symbol,
          action.clientId,
          error,
        );
      }
      let found = await this.#find(action, lastError);
      if (found === null && sends < this.#maxResends) {
        // Not there yet is not "never": the lost request may still be accepted until its timestamp
        // + recvWindow, and a resend before then could become a second order. Wait, then look again.
        const lookAt = signedBy + this.api.rest.settings.recvWindow + this.#resendMarginMs;
        const waitMs = Math.max(0, lookAt - scheduler.now());
        this.#log.warn(`${action.kind} not found; waiting until the lost request can no longer be accepted`, {
          symbol: action.symbol,
          clientId: action.clientId,
          waitMs,
        });
        await scheduler.sleep(waitMs);
        found = await this.#find(action, lastError);
      }
      if (found !== null) {
        this.#log.info(`${action.kind} found after unknown outcome`, {
          symbol: action.symbol,
          clientId: action.clientId,
        });
        return found;
      }
      if (sends < this.#maxResends) {
        this.#warn(
          `${action.kind} does not exist past recvWindow; resending with the same client id`,
          action.symbol,
          action.clientId,
          lastError,
        );
      }
    }
    throw this.#unknown(
      'place',
      action.symbol,
      action.clientId,
      `not found after ${this.#maxResends + 1} send(s) with unknown outcome`,
      { cause: lastError },
    );
  }

  /** Queries up to `maxQueries` times; the record, or `null` when the exchange says it does not exist. */
  async #find<T>(action: Placement<T>, cause: unknown): Promise<T | null> {
    let lastError: unknown = cause;
    for (let q = 1; q <= this.#maxQueries; q++) {
      // give the matching engine time to finish what the lost response was about
      await this.api.rest.scheduler.sleep(this.#queryDelayMs * q);
      try {
        return await action.query();
      } catch (error) {
        if (hasBinanceCode(error, BinanceCode.NO_SUCH_ORDER)) return null;
        lastError = error;
        this.#warn(
          `${action.kind} status query failed (${q}/${this.#maxQueries})`,
          action.symbol,
          action.clientId,
          error,
        );
      }
    }
    throw this.#unknown(
      'place',
      action.symbol,
      action.clientId,
      `status queries failed ${this.#maxQueries} times`,
      { cause: lastError },
    );
  }

  async #cancelOnce<T>(action: Cancel<T>): Promise<T> {
    let lastError: unknown = null;
    for (let sends = 0; sends <= this.#maxResends; sends++) {
      try {
        return await action.send();
      } catch (error) {
        // "Unknown order" on a repeat: the first cancel (or a fill) finished it; the query says which.
        const gone = sends > 0 && hasBinanceCode(error, BinanceCode.CANCEL_REJECTED);
        if (!gone && !isOutcomeUnknown(error)) throw error;
        lastError = error;
        this.#warn(`${action.kind} cancel outcome unknown; querying`, action.symbol, action.label, error);
      }
      const state = await this.#findForCancel(action, lastError);
      if (state.done) return state.result;
      if (sends < this.#maxResends)
        this.#warn(`${action.kind} still live; cancelling again`, action.symbol, action.label, lastError);
    }
    throw this.#unknown(
      'cancel',
      action.symbol,
      action.label,
      'still live after cancel attempts with unknown outcome',
      { cause: lastError },
    );
  }

  async #findForCancel<T>(action: Cancel<T>, cause: unknown): Promise<{ done: boolean; result: T }> {
    let lastError: unknown = cause;
    for (let q = 1; q <= this.#maxQueries; q++) {
      await this.api.rest.scheduler.sleep(this.#queryDelayMs * q);
      try {
        return await action.query();
      } catch (error) {
        // the order was never there: nothing to cancel, and the caller must know
        if (hasBinanceCode(error, BinanceCode.NO_SUCH_ORDER)) throw error;
        lastError = error;
        this.#warn(
          `${action.kind} status query failed (${q}/${this.#maxQueries})`,
          action.symbol,
          action.label,
          error,
        );
      }
    }
    throw this.#unknown(
      'cancel',
      action.symbol,
      action.label,
      `status queries failed ${this.#maxQueries} times`,
      { cause: lastError },
    );
  }

  /** The error for an outcome that stays unknown, raised as an alert on its way out. */
  #unknown(
    action: 'place' | 'cancel',
    symbol: string | null,
    clientOrderId: string,
    detail: string,
    options: { cause?: unknown },
  ): OrderOutcomeUnknownError {
    const error = new OrderOutcomeUnknownError(action, symbol, clientOrderId, detail, options);
    this.#alerts?.raise(orderOutcomeUnknownAlert({ action, symbol, clientOrderId, detail }));
    return error;
  }

  #warn(message: string, symbol: string | null, clientId: string, error: unknown): void {
    this.#log.warn(message, {
      symbol,
      clientId,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
