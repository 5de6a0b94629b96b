// Where paper and backtest orders and fills are recorded: an interface the records store implements.
import { closeSync, openSync, writeSync } from 'node:fs';
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
 * Records orders and fills. The storage helper's recorders implement it on the records database
 * (orders and trades tables, idempotent upserts on client order id and trade id); the trader ships
 * a JSON-lines file recorder and a memory one (the backtest report reads it).
 */
export interface TradeRecorder {
  order(order: RecordedOrder): void;
  fill(fill: FillEvent): void;
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

/** Appends one JSON line per order and per fill to a file (exact decimals as strings). */
export class JsonLinesTradeRecorder implements TradeRecorder {
  readonly #fd: number;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  order(order: RecordedOrder): void {
    writeSync(this.#fd, `${JSON.stringify({ record: 'order', ...order })}\n`);
  }

  fill(fill: FillEvent): void {
    writeSync(this.#fd, `${JSON.stringify({ record: 'fill', ...fill })}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
