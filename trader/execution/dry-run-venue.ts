// Dry-run: every order is built and signed exactly as it would be sent, logged, and never sent.
import { encodeParams, RequestSigner } from '../../ts/exchange/request-signer.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import {
  type ContractSettings,
  NotSentError,
  type SymbolSettings,
  type Venue,
  type VenueOrder,
} from './venue.js';

/** A dry-run order as logged: the exact request that would have gone to `POST /fapi/v1/order`. */
export interface DryRunOrder {
  readonly clientOrderId: string;
  readonly query: string;
  readonly signature: string;
}

/**
 * A `Venue` that signs and logs and never sends: `place` throws `NotSentError` after logging the
 * signed request (the executor records the order as NOT_SENT), queries find nothing, settings are
 * logged as they would be applied. Without an API secret the signature is left empty.
 */
export class DryRunVenue implements Venue {
  readonly name = 'dry-run';
  readonly sent: DryRunOrder[] = [];
  readonly #signer: RequestSigner | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #recvWindow: number;

  constructor(secret: string | undefined, logger: Logger, now: () => number = Date.now, recvWindow = 5000) {
    this.#signer = secret === undefined ? undefined : new RequestSigner(secret);
    this.#log = logger;
    this.#now = now;
    this.#recvWindow = recvWindow;
  }

  async place(order: VenueOrder): Promise<OrderRecord> {
    const query = encodeParams({
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      timeInForce: order.timeInForce,
      quantity: order.quantity.toString(),
      price: order.price?.toString(),
      reduceOnly: order.reduceOnly ? 'true' : undefined,
      newClientOrderId: order.clientOrderId,
      newOrderRespType: 'RESULT',
      recvWindow: this.#recvWindow,
      timestamp: this.#now(),
    });
    const signature = this.#signer?.signature(query) ?? '';
    this.sent.push({ clientOrderId: order.clientOrderId, query, signature });
    this.#log.info('dry-run order (signed, not sent)', {
      request: `POST /fapi/v1/order?${query}&signature=${signature}`,
    });
    throw new NotSentError(`dry-run: ${order.clientOrderId} not sent`);
  }

  async cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    throw new NotSentError(`dry-run: cancel of ${symbol} ${clientOrderId} not sent`);
  }

  async query(): Promise<OrderRecord | null> {
    return null;
  }

  async openOrders(): Promise<OrderRecord[]> {
    return [];
  }

  async applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]> {
    this.#log.info('dry-run: contract settings not applied', { ...settings, symbols: symbols.length });
    return symbols.map((symbol) => ({
      symbol,
      marginType: settings.marginType,
      leverage: settings.leverage,
    }));
  }

  async positionMode(): Promise<boolean> {
    return false;
  }

  onUserEvent(_listener: (event: UserEventObject) => void): () => void {
    return () => {};
  }
}
