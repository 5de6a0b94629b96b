// The simulator's exchange engine as a trader venue, in process: paper trading and backtests match orders exactly as the simulator does.
import type { Endpoint, Json, Params } from '../../sim/contracts.js';
import { SimRejection } from '../../sim/contracts.js';
import type { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import { applyContractSettings, type SettingsOperations } from '../../trader/execution/contract-settings.js';
import type { TradeRecorder } from '../../trader/execution/trade-recorder.js';
import type { ContractSettings, SymbolSettings, Venue, VenueOrder } from '../../trader/execution/venue.js';
import { stopFromAlgoRecord } from '../../trader/stop-loss/exchange-stop-orders.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from '../../trader/stop-loss/stop-orders.js';
import { BinanceApiError, BinanceCode, hasBinanceCode } from '../../ts/exchange/exchange-errors.js';
import {
  decodeAlgoOrder,
  decodeAlgoOrders,
  decodeCodeMessage,
  decodeIncomes,
  decodeOrder,
  decodeOrders,
  type IncomeRecord,
  type OrderRecord,
  TERMINAL_ALGO_STATUSES,
} from '../../ts/exchange/usdm-decoders.js';
import { parseUserEvent, type UserEventObject } from '../../ts/native/parse.js';

/** Binance's largest income page. */
const INCOME_PAGE = 1000;

/**
 * A `Venue` over an in-process `ExchangeEngine`: each call runs the engine's own REST handler
 * (the same parameter parsing, filters, reduce-only and margin rules, matching, fees and user
 * events as `tributary sim`), its JSON answer decoded by the exchange client's decoders, its
 * refusals turned into the client's `BinanceApiError`, and its user events parsed by the native
 * parser the live path uses. Nothing crosses a socket, so it is deterministic for backtests.
 */
export class EngineVenue implements Venue, SettingsOperations, StopOrderVenue {
  readonly name = 'simulator engine';
  readonly #accountId: string;
  readonly #now: () => number;
  readonly #endpoints = new Map<string, Endpoint>();
  readonly #listeners = new Set<(event: UserEventObject) => void>();
  readonly #off: () => void;

  constructor(engine: ExchangeEngine, accountId: string, now: () => number) {
    this.#accountId = accountId;
    this.#now = now;
    for (const e of engine.endpoints()) this.#endpoints.set(`${e.method} ${e.path}`, e);
    this.#off = engine.onUserEvent((account, event) => {
      if (account !== this.#accountId || this.#listeners.size === 0) return;
      const decoded = parseUserEvent(Buffer.from(JSON.stringify(event)));
      for (const listener of this.#listeners) listener(decoded);
    });
  }

  close(): void {
    this.#off();
  }

  async place(order: VenueOrder): Promise<OrderRecord> {
    const params: Record<string, string> = {
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity.toString(),
      newClientOrderId: order.clientOrderId,
      newOrderRespType: 'RESULT',
    };
    if (order.reduceOnly) params.reduceOnly = 'true';
    if (order.price !== undefined) params.price = order.price.toString();
    if (order.timeInForce !== undefined) params.timeInForce = order.timeInForce;
    return decodeOrder(this.#call('POST', '/fapi/v1/order', params));
  }

  async cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    return decodeOrder(this.#call('DELETE', '/fapi/v1/order', { symbol, origClientOrderId: clientOrderId }));
  }

  async query(symbol: string, clientOrderId: string): Promise<OrderRecord | null> {
    try {
      return decodeOrder(this.#call('GET', '/fapi/v1/order', { symbol, origClientOrderId: clientOrderId }));
    } catch (error) {
      if (hasBinanceCode(error, BinanceCode.NO_SUCH_ORDER)) return null;
      throw error;
    }
  }

  async openOrders(symbol?: string): Promise<OrderRecord[]> {
    return decodeOrders(this.#call('GET', '/fapi/v1/openOrders', symbol === undefined ? {} : { symbol }));
  }

  applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]> {
    return applyContractSettings(this, settings, symbols);
  }

  async positionMode(): Promise<boolean> {
    return this.getPositionMode();
  }

  /** Every income row of the account (realized PnL, commission, funding), oldest first. */
  async income(): Promise<Json> {
    const rows: Json[] = [];
    let startTime = 0;
    for (;;) {
      const page = this.#call('GET', '/fapi/v1/income', {
        startTime: String(startTime),
        limit: '1000',
      }) as ReadonlyArray<Record<string, Json>>;
      rows.push(...page);
      if (page.length < 1000) return rows;
      startTime = Number(page[page.length - 1]?.time ?? 0) + 1;
    }
  }

  /**
   * Income rows booked at or after `startTime` (ms), decoded as the exchange client decodes them,
   * read page by page as the income collector reads them (each page from the newest time of the
   * last: rows of that millisecond come again, callers deduplicate by type and `tranId`). At once:
   * the engine answers synchronously, so a replay step sees what it booked.
   */
  incomeSince(startTime: number): IncomeRecord[] {
    const rows: IncomeRecord[] = [];
    let start = startTime;
    for (;;) {
      const page = decodeIncomes(
        this.#call('GET', '/fapi/v1/income', { startTime: String(start), limit: String(INCOME_PAGE) }),
      );
      rows.push(...page);
      const newest = page.at(-1)?.time;
      if (page.length < INCOME_PAGE || newest === undefined || newest <= start) return rows;
      start = newest;
    }
  }

  onUserEvent(listener: (event: UserEventObject) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- StopOrderVenue (the engine's /fapi/v1/algoOrder) ------------------------------------

  async placeStop(request: StopOrderRequest): Promise<StopOrder> {
    const answer = this.#call('POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL',
      symbol: request.symbol,
      side: request.side,
      type: 'STOP_MARKET',
      quantity: request.quantity.toString(),
      triggerPrice: request.triggerPrice.toString(),
      workingType: request.workingType,
      reduceOnly: 'true',
      clientAlgoId: request.clientAlgoId,
    });
    return stopFromAlgoRecord(decodeAlgoOrder(answer));
  }

  async cancelStop(_symbol: string, clientAlgoId: string): Promise<void> {
    try {
      this.#call('DELETE', '/fapi/v1/algoOrder', { clientAlgoId });
    } catch (error) {
      if (!hasBinanceCode(error, BinanceCode.CANCEL_REJECTED)) throw error;
      // No longer waiting: triggered, cancelled before, or never there.
      try {
        const found = decodeAlgoOrder(this.#call('GET', '/fapi/v1/algoOrder', { clientAlgoId }));
        if (!TERMINAL_ALGO_STATUSES.includes(found.algoStatus)) throw error;
      } catch (queryError) {
        if (!hasBinanceCode(queryError, BinanceCode.NO_SUCH_ORDER)) throw queryError;
      }
    }
  }

  async openStops(symbol?: string): Promise<StopOrder[]> {
    const answer = this.#call('GET', '/fapi/v1/openAlgoOrders', symbol === undefined ? {} : { symbol });
    return decodeAlgoOrders(answer).map(stopFromAlgoRecord);
  }

  // ---- SettingsOperations ------------------------------------------------------------------

  async getPositionMode(): Promise<boolean> {
    const answer = this.#call('GET', '/fapi/v1/positionSide/dual', {}) as { dualSidePosition?: unknown };
    return answer.dualSidePosition === true;
  }

  async setPositionMode(hedge: boolean): Promise<{ changed: boolean }> {
    return this.#unchanged(-4059, () =>
      this.#call('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: String(hedge) }),
    );
  }

  async setMarginType(symbol: string, marginType: 'CROSSED' | 'ISOLATED'): Promise<{ changed: boolean }> {
    return this.#unchanged(BinanceCode.NO_NEED_TO_CHANGE_MARGIN_TYPE, () =>
      decodeCodeMessage(this.#call('POST', '/fapi/v1/marginType', { symbol, marginType })),
    );
  }

  async setLeverage(symbol: string, leverage: number): Promise<void> {
    this.#call('POST', '/fapi/v1/leverage', { symbol, leverage: String(leverage) });
  }

  async readSettings(symbols: readonly string[]): Promise<SymbolSettings[]> {
    const rows = this.#call('GET', '/fapi/v2/positionRisk', {}) as ReadonlyArray<Record<string, unknown>>;
    const wanted = new Set(symbols);
    return rows
      .filter(
        (r) => typeof r.symbol === 'string' && wanted.has(r.symbol) && (r.positionSide ?? 'BOTH') === 'BOTH',
      )
      .map((r) => ({
        symbol: String(r.symbol),
        marginType: r.marginType === 'isolated' ? 'ISOLATED' : 'CROSSED',
        leverage: Number(r.leverage),
      }));
  }

  async #unchanged(code: number, run: () => unknown): Promise<{ changed: boolean }> {
    try {
      run();
      return { changed: true };
    } catch (error) {
      if (hasBinanceCode(error, code)) return { changed: false };
      throw error;
    }
  }

  #call(method: Endpoint['method'], path: string, params: Params): Json {
    const endpoint = this.#endpoints.get(`${method} ${path}`);
    if (endpoint === undefined) throw new Error(`the simulator engine has no ${method} ${path}`);
    try {
      return endpoint.handle({ params, accountId: this.#accountId, now: this.#now() });
    } catch (error) {
      if (error instanceof SimRejection)
        throw new BinanceApiError(error.status, error.code, error.message, method, path);
      throw error;
    }
  }
}

/**
 * Records every state of the engine's conditional orders (the ladders' stops) through `recorder`,
 * as the recorder process stores a real account's `ALGO_UPDATE`s: a paper trader's and a recorded
 * backtest's stops. Nothing when the recorder keeps no conditional orders. Returns the unsubscribe.
 */
export function recordEngineStops(venue: EngineVenue, recorder: TradeRecorder): () => void {
  const record = recorder.conditionalOrder?.bind(recorder);
  if (record === undefined) return () => {};
  return venue.onUserEvent((event) => {
    if (event.algoUpdate !== undefined) record(event.algoUpdate);
  });
}
