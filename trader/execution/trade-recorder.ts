// Where paper and backtest orders and fills are recorded: an interface the records store implements.
import type { StreamAlgoUpdate } from '../../ts/store/exchange-records.js';
import type { FillEvent } from '../engine/events.js';

/** One order as recorded: what was sent and how it ended. */
export interface RecordedOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: string;
  readonly quantity: string;
  readonly price: string | null;
  readonly reduceOnly: boolean;
  readonly status: string;
  readonly executedQty: string;
  readonly time: number;
  readonly reason: string;
}

/**
 * Records orders and fills. `StoreTradeRecorder` keeps them in the records store (paper and
 * backtest modes, marked with their mode); the memory one feeds the backtest report.
 */
export interface TradeRecorder {
  order(order: RecordedOrder): void;
  fill(fill: FillEvent): void;
  /** A state of a conditional order (a ladder's stop) the engine reported; optional. */
  conditionalOrder?(update: StreamAlgoUpdate): void;
}

/** Keeps everything in memory. */
export class MemoryTradeRecorder implements TradeRecorder {
  readonly orders: RecordedOrder[] = [];
  readonly fills: FillEvent[] = [];

  order(order: RecordedOrder): void {
    this.orders.push(order);
  }

  fill(fill: FillEvent): void {
    this.fills.push(fill);
  }
}
