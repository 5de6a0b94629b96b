// An engine fill as the records store keeps it: one mapping for the store recorder and the backtest report.
import type { FillRecord, RecordScope } from '../../ts/store/store-records.js';
import type { FillEvent } from '../engine/events.js';

/**
 * The `FillRecord` of an engine fill in `scope`. The engine's fills carry no exchange order id,
 * so the client order id (unique per order and idempotent across retries) stands in for it; the
 * engine trades one-way, so the position side is `BOTH`.
 */
export function fillRecord(fill: FillEvent, scope: RecordScope): FillRecord {
  return {
    ...scope,
    symbol: fill.symbol,
    tradeId: fill.tradeId,
    orderId: fill.clientOrderId,
    clientOrderId: fill.clientOrderId,
    side: fill.side,
    positionSide: 'BOTH',
    price: fill.price.toString(),
    qty: fill.quantity.toString(),
    quoteQty: fill.price.mul(fill.quantity).normalize().toString(),
    realizedPnl: fill.realizedPnl.toString(),
    commission: fill.commission.toString(),
    commissionAsset: fill.commissionAsset,
    maker: fill.maker,
    time: fill.time,
    source: 'engine',
  };
}
