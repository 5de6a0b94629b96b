// Ladder stops on the exchange: reduce-only STOP_MARKET conditional orders through OrderSender (POST/DELETE /fapi/v1/algoOrder) and GET /fapi/v1/openAlgoOrders.
import { BinanceCode, hasBinanceCode } from '../../ts/exchange/exchange-errors.js';
import type { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { type AlgoOrderRecord, TERMINAL_ALGO_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import type { OrderSender } from '../execution/order-sender.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from './stop-orders.js';

/** A stop as the exchange's algo order record describes it. */
export function stopFromAlgoRecord(record: AlgoOrderRecord): StopOrder {
  return {
    symbol: record.symbol,
    clientAlgoId: record.clientAlgoId,
    side: record.side,
    quantity: record.quantity,
    triggerPrice: record.triggerPrice,
    status: record.algoStatus,
    reduceOnly: record.reduceOnly,
    updateTime: record.updateTime,
  };
}

/**
 * {@link StopOrderVenue} over the exchange. Placements and cancels go through `OrderSender`, which
 * resolves a 503 "unknown" by querying the client algo id (and resends with the same id only when
 * the exchange says the order does not exist). A cancel refused because the order no longer waits
 * (-2011: it triggered, or an earlier cancel landed) is settled by a query: finished or not found
 * counts as gone.
 */
export class ExchangeStopOrders implements StopOrderVenue {
  readonly #sender: OrderSender;
  readonly #api: UsdmApi;

  constructor(sender: OrderSender) {
    this.#sender = sender;
    this.#api = sender.api;
  }

  async placeStop(request: StopOrderRequest): Promise<StopOrder> {
    const record = await this.#sender.placeAlgo({
      symbol: request.symbol,
      side: request.side,
      type: 'STOP_MARKET',
      quantity: request.quantity,
      triggerPrice: request.triggerPrice,
      workingType: request.workingType,
      reduceOnly: true,
      clientAlgoId: request.clientAlgoId,
    });
    return stopFromAlgoRecord(record);
  }

  async cancelStop(_symbol: string, clientAlgoId: string): Promise<void> {
    try {
      await this.#sender.cancelAlgo({ clientAlgoId });
    } catch (error) {
      if (!hasBinanceCode(error, BinanceCode.CANCEL_REJECTED, BinanceCode.NO_SUCH_ORDER)) throw error;
      let found: AlgoOrderRecord;
      try {
        found = await this.#api.queryAlgoOrder({ clientAlgoId });
      } catch (queryError) {
        if (hasBinanceCode(queryError, BinanceCode.NO_SUCH_ORDER)) return;
        throw queryError;
      }
      if (!TERMINAL_ALGO_STATUSES.includes(found.algoStatus)) throw error;
    }
  }

  async openStops(symbol?: string): Promise<StopOrder[]> {
    const records = await this.#api.openAlgoOrders(symbol === undefined ? {} : { symbol });
    return records.map(stopFromAlgoRecord);
  }
}
