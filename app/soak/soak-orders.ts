// The soak's own orders at the simulator: each round a market order, a resting limit order and a conditional stop, the previous round's resting ones cancelled, so the records pass through every common state.
import type { RunningSimulator } from '../../sim/simulator.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { UsdmApi } from '../../ts/exchange/usdm-api.js';
import type { Logger } from '../../ts/log/logger.js';

/** What the soak's order rounds did. */
export interface SoakOrderCounts {
  rounds: number;
  /** Requests the exchange accepted: market, limit and stop orders placed, and cancels. */
  accepted: number;
  /** Requests that failed (each logged); the records check still compares whatever the exchange holds. */
  failed: number;
}

const QUANTITY = Decimal.parse('0.005');
/** The resting limit order's price below the last trade, and the stop's trigger: never reached by the random walk in a round. */
const LIMIT_BELOW = Decimal.parse('0.95');
const STOP_BELOW = Decimal.parse('0.9');

/**
 * One symbol's order flow for the soak. A round sends a MARKET order (BUY or SELL, as the caller
 * draws), then cancels the LIMIT order and the STOP_MARKET conditional order the round before left
 * resting and places new ones below the market, so every round adds a filled order, a cancelled
 * one and a cancelled conditional order to the account's records.
 */
export class SoakOrders {
  readonly counts: SoakOrderCounts = { rounds: 0, accepted: 0, failed: 0 };
  #restingOrderId: number | undefined;
  #restingAlgoId: number | undefined;

  constructor(
    private readonly api: UsdmApi,
    private readonly sim: RunningSimulator,
    private readonly symbol: string,
    private readonly log: Logger,
  ) {}

  /** One round; failures are counted and logged, never thrown, so the soak goes on. */
  async round(side: 'BUY' | 'SELL'): Promise<void> {
    this.counts.rounds += 1;
    const symbol = this.symbol;
    await this.#send('market order', () =>
      this.api.newOrder({ symbol, side, type: 'MARKET', quantity: QUANTITY }),
    );
    const restingOrderId = this.#restingOrderId;
    this.#restingOrderId = undefined;
    if (restingOrderId !== undefined)
      await this.#send('limit order cancel', () => this.api.cancelOrder({ symbol, orderId: restingOrderId }));
    const restingAlgoId = this.#restingAlgoId;
    this.#restingAlgoId = undefined;
    if (restingAlgoId !== undefined)
      await this.#send('stop cancel', () => this.api.cancelAlgoOrder({ algoId: restingAlgoId }));
    const spec = this.sim.market.spec(symbol);
    if (spec === undefined) {
      this.counts.failed += 1;
      this.log.warn('soak order failed', {
        symbol,
        what: 'resting orders',
        error: 'the simulator lists no such symbol',
      });
      return;
    }
    const last = this.sim.market.lastPrice(symbol);
    const limit = await this.#send('limit order', () =>
      this.api.newOrder({
        symbol,
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: QUANTITY,
        price: last.mul(LIMIT_BELOW).snap(spec.tickSize, 'down'),
      }),
    );
    this.#restingOrderId = limit?.orderId;
    const stop = await this.#send('stop', () =>
      this.api.newAlgoOrder({
        symbol,
        side: 'SELL',
        type: 'STOP_MARKET',
        quantity: QUANTITY,
        triggerPrice: last.mul(STOP_BELOW).snap(spec.tickSize, 'down'),
      }),
    );
    this.#restingAlgoId = stop?.algoId;
  }

  async #send<T>(what: string, request: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await request();
      this.counts.accepted += 1;
      return result;
    } catch (error) {
      this.counts.failed += 1;
      this.log.warn('soak order failed', { symbol: this.symbol, what, error: String(error) });
      return undefined;
    }
  }
}
