// The last check before anything leaves the trader: the trading state at the moment of sending (an order approved earlier, a TWAP slice, a stop) — HALTED sends nothing, REDUCING only what reduces.
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { ContractSettings, SymbolSettings, Venue, VenueOrder } from '../execution/venue.js';
import { NotSentError } from '../execution/venue.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from '../stop-loss/stop-orders.js';
import type { RiskState } from './risk-state.js';

/**
 * The engine's venue behind the trading state. The gate judges an intent when it is decided; the
 * executor sends it a moment later, or much later for TWAP/VWAP slices and post-only re-sends, and
 * the state may have changed in between. Here every placement and cancel is checked at the moment
 * it would go out: in HALTED nothing goes, in REDUCING only reduce-only orders (and cancels).
 * Reads and settings pass. A send held back is a `NotSentError`, which the executor settles as
 * NOT_SENT (nothing executed), as it does for a dry run.
 */
export class GuardedVenue implements Venue {
  readonly name: string;
  readonly #inner: Venue;
  readonly #state: RiskState;
  /** Sends held back, for the status and tests. */
  held = 0;

  constructor(inner: Venue, state: RiskState) {
    this.name = inner.name;
    this.#inner = inner;
    this.#state = state;
  }

  place(order: VenueOrder): Promise<OrderRecord> {
    const state = this.#state.state;
    if (state === 'HALTED' || (state === 'REDUCING' && !order.reduceOnly)) {
      this.held += 1;
      return Promise.reject(new NotSentError(`${state}: ${order.clientOrderId} not sent`));
    }
    return this.#inner.place(order);
  }

  cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    if (this.#state.state === 'HALTED') {
      this.held += 1;
      return Promise.reject(new NotSentError(`HALTED: cancel of ${clientOrderId} not sent`));
    }
    return this.#inner.cancel(symbol, clientOrderId);
  }

  query(symbol: string, clientOrderId: string): Promise<OrderRecord | null> {
    return this.#inner.query(symbol, clientOrderId);
  }

  openOrders(symbol?: string): Promise<OrderRecord[]> {
    return this.#inner.openOrders(symbol);
  }

  applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]> {
    return this.#inner.applySettings(settings, symbols);
  }

  positionMode(): Promise<boolean> {
    return this.#inner.positionMode();
  }

  onUserEvent(listener: (event: UserEventObject) => void): () => void {
    return this.#inner.onUserEvent(listener);
  }
}

/** Ladder stops behind the trading state: nothing is placed or cancelled in HALTED (stops only reduce). */
export class GuardedStopOrders implements StopOrderVenue {
  readonly #inner: StopOrderVenue;
  readonly #state: RiskState;

  constructor(inner: StopOrderVenue, state: RiskState) {
    this.#inner = inner;
    this.#state = state;
  }

  placeStop(request: StopOrderRequest): Promise<StopOrder> {
    if (this.#state.state === 'HALTED')
      return Promise.reject(new NotSentError(`HALTED: stop ${request.clientAlgoId} not placed`));
    return this.#inner.placeStop(request);
  }

  cancelStop(symbol: string, clientAlgoId: string): Promise<void> {
    if (this.#state.state === 'HALTED')
      return Promise.reject(new NotSentError(`HALTED: cancel of stop ${clientAlgoId} not sent`));
    return this.#inner.cancelStop(symbol, clientAlgoId);
  }

  openStops(symbol?: string): Promise<StopOrder[]> {
    return this.#inner.openStops(symbol);
  }
}
