// Records paper and backtest orders and fills in the records store, marked with their mode, without the engine waiting for the database.
import type { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { algoOrderUpdateFromStream, type StreamAlgoUpdate } from '../../ts/store/exchange-records.js';
import type { OrderUpdateRecord, RecordScope } from '../../ts/store/store-records.js';
import type { FillEvent } from '../engine/events.js';
import { fillRecord } from './fill-record.js';
import type { RecordedOrder, TradeRecorder } from './trade-recorder.js';

/**
 * A `TradeRecorder` on the records store. Orders and fills go into a `BufferedRecordWriter`, which
 * only appends to a buffer on the engine's turn and writes batches in one transaction every
 * `store.flushMs`. The engine's records carry no exchange order id, so the client order id (unique
 * per order and idempotent across retries) stands in as the order id; the order's state is its
 * final one (the executor records an order once it settled).
 */
export class StoreTradeRecorder implements TradeRecorder {
  readonly #writer: BufferedRecordWriter;
  readonly #scope: RecordScope;

  constructor(writer: BufferedRecordWriter, scope: RecordScope) {
    this.#writer = writer;
    this.#scope = scope;
  }

  order(order: RecordedOrder): void {
    const row: OrderUpdateRecord = {
      ...this.#scope,
      symbol: order.symbol,
      orderId: order.clientOrderId,
      clientOrderId: order.clientOrderId,
      side: order.side,
      positionSide: 'BOTH',
      type: order.type,
      timeInForce: order.type === 'LIMIT_GTX' ? 'GTX' : null,
      status: order.status,
      executionType: null,
      price: order.price ?? '0',
      origQty: order.quantity,
      executedQty: order.executedQty,
      avgPrice: null,
      stopPrice: null,
      reduceOnly: order.reduceOnly,
      createTime: null,
      updateTime: order.time,
      source: 'engine',
    };
    void this.#writer.add({ orderUpdates: [row] });
  }

  fill(fill: FillEvent): void {
    void this.#writer.add({ fills: [fillRecord(fill, this.#scope)] });
  }

  /**
   * A state of a conditional order (a stop-loss ladder's stop) the paper or backtest engine
   * reports as an `ALGO_UPDATE`, so the scope's dashboard shows its positions' stops as an
   * exchange account's does.
   */
  conditionalOrder(update: StreamAlgoUpdate): void {
    const row = { ...algoOrderUpdateFromStream(this.#scope, update), source: 'engine' as const };
    void this.#writer.add({ algoOrderUpdates: [row] });
  }
}
