// The exchange through the order gateway: placements (and cancels and queries of them) go to the gateway, the rest straight to the exchange venue.
import { BinanceApiError } from '../../ts/exchange/exchange-errors.js';
import { decodeOrder, type OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import type { GatewayClient } from '../../ts/gateway/gateway-client.js';
import { GatewayRequestError, GatewayUnreachableError } from '../../ts/gateway/gateway-error.js';
import { parseShareClientOrderId } from '../../ts/gateway/gateway-protocol.js';
import type { Logger } from '../../ts/log/logger.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import { OrderOutcomeUnknownError } from './order-sender.js';
import {
  type ContractSettings,
  NotSentError,
  type SymbolSettings,
  type Venue,
  type VenueOrder,
} from './venue.js';

/** Aliases kept (exchange id → decision id) before the oldest are forgotten. */
const MAX_ALIASES = 50_000;

/**
 * A `Venue` for a trader that shares its strategy with others (DESIGN.md 6, the gateway): every
 * order goes to the gateway, which places it once per signal whichever trader sends it first (or
 * this trader's 1/N share in split mode). Gateway answers map onto what the executor already
 * handles: an exchange refusal is the exchange's `BinanceApiError`, an expired claim or an empty
 * split share is `NotSentError`, an answer that stays unknown is `OrderOutcomeUnknownError` (the
 * journal keeps the order unresolved and the next query asks the gateway again). Queries and
 * cancels of the gateway's orders go through it (it knows their exchange ids); everything else —
 * open orders, settings, user events — is the exchange venue's. In split mode the exchange knows
 * the order by the member's id (`<id>.<n>`): this member's user events are given back under the
 * decision's id, other members' are left out.
 */
export class GatewayVenue implements Venue {
  readonly name: string;
  readonly #inner: Venue;
  readonly #client: GatewayClient;
  readonly #log: Logger;
  readonly #aliases = new Map<string, string>();

  readonly #member: number | undefined;

  /**
   * `splitMember`: in split mode, this trader's index in `gateway.members`. Other members' shares
   * fill the same account; their user events are not this trader's fills and are not passed on
   * (the account's position shows them), so each engine counts only what its own orders filled.
   */
  constructor(inner: Venue, client: GatewayClient, logger: Logger, splitMember?: number) {
    this.name = `${inner.name} via gateway`;
    this.#member = splitMember;
    this.#inner = inner;
    this.#client = client;
    this.#log = logger;
  }

  async place(order: VenueOrder): Promise<OrderRecord> {
    try {
      const answer = await this.#client.place({
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        quantity: order.quantity.toString(),
        ...(order.price === undefined ? {} : { price: order.price.toString() }),
        ...(order.timeInForce === undefined ? {} : { timeInForce: order.timeInForce }),
        reduceOnly: order.reduceOnly,
        clientOrderId: order.clientOrderId,
      });
      this.#alias(answer.exchangeClientOrderId, order.clientOrderId);
      if (answer.outcome === 'nothing' || answer.order === null)
        throw new NotSentError(`${order.clientOrderId}: this trader's split share is below one lot step`);
      if (answer.outcome === 'duplicate')
        this.#log.info('order already placed for this signal by the gateway', {
          clientOrderId: order.clientOrderId,
        });
      return decodeOrder(answer.order);
    } catch (error) {
      throw this.#mapped(error, order.symbol, order.clientOrderId, 'place');
    }
  }

  async cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    try {
      const answer = await this.#client.cancel({ symbol, clientOrderId: this.#decisionId(clientOrderId) });
      return decodeOrder(answer.order);
    } catch (error) {
      // Not an order of the gateway (a stop, one placed before the gateway was used): the exchange's own.
      if (error instanceof GatewayRequestError && error.code === 'not-claimed')
        return this.#inner.cancel(symbol, clientOrderId);
      throw this.#mapped(error, symbol, clientOrderId, 'cancel');
    }
  }

  async query(symbol: string, clientOrderId: string): Promise<OrderRecord | null> {
    try {
      const answer = await this.#client.query({ symbol, clientOrderId: this.#decisionId(clientOrderId) });
      this.#alias(answer.exchangeClientOrderId, clientOrderId);
      return decodeOrder(answer.order);
    } catch (error) {
      if (error instanceof GatewayRequestError && error.code === 'not-claimed')
        return this.#inner.query(symbol, clientOrderId);
      throw this.#mapped(error, symbol, clientOrderId, 'place');
    }
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
    return this.#inner.onUserEvent((event) => {
      const update = event.orderUpdate;
      const share = update === undefined ? undefined : parseShareClientOrderId(update.clientOrderId);
      if (update === undefined || share === undefined || this.#member === undefined) return listener(event);
      if (share.index !== this.#member) return;
      listener({ ...event, orderUpdate: { ...update, clientOrderId: share.clientOrderId } });
    });
  }

  #alias(exchangeId: string, decisionId: string): void {
    if (exchangeId === decisionId) return;
    if (this.#aliases.size >= MAX_ALIASES) this.#aliases.clear();
    this.#aliases.set(exchangeId, decisionId);
  }

  /** The decision id of an exchange id this venue has seen (a split share), else the id itself. */
  #decisionId(clientOrderId: string): string {
    return this.#aliases.get(clientOrderId) ?? clientOrderId;
  }

  #mapped(error: unknown, symbol: string, clientOrderId: string, action: 'place' | 'cancel'): unknown {
    if (error instanceof GatewayRequestError) {
      if (error.code === 'exchange-rejected' && error.exchange !== undefined) {
        const path = '/fapi/v1/order';
        return new BinanceApiError(
          error.exchange.status,
          error.exchange.code,
          error.exchange.msg,
          action === 'place' ? 'POST' : 'DELETE',
          path,
        );
      }
      // Not placed for this trader: the claim expired, or the signal was claimed for the other side.
      if (error.code === 'expired' || error.code === 'conflict')
        return new NotSentError(`${clientOrderId}: ${error.message}`);
      if (error.code === 'outcome-unknown')
        return new OrderOutcomeUnknownError(action, symbol, clientOrderId, error.message, { cause: error });
      return error;
    }
    if (error instanceof GatewayUnreachableError)
      return new OrderOutcomeUnknownError(action, symbol, clientOrderId, error.message, { cause: error });
    return error;
  }
}
