// The exchange as a venue (live, testnet, or `tributary sim` as an exchange): orders through OrderSender, events from the hub relay.
import { BinanceCode, hasBinanceCode } from '../../ts/exchange/exchange-errors.js';
import type { UsdmApi } from '../../ts/exchange/usdm-api.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import { parseUserEvent, type UserEventObject } from '../../ts/native/parse.js';
import { applyContractSettings, type SettingsOperations } from './contract-settings.js';
import type { OrderSender } from './order-sender.js';
import type { ContractSettings, SymbolSettings, Venue, VenueOrder } from './venue.js';

/** Where the account's user-data events arrive as the exchange's JSON (the hub relays them to traders). */
export interface UserEventSource {
  onUserEvent(listener: (json: string) => void): () => void;
}

/**
 * A `Venue` over the exchange's REST API: placements and cancels through `OrderSender` (an unknown
 * outcome is resolved by client id, a resend carries the same id), queries and settings through
 * `UsdmApi`, user events from the hub's relay parsed natively.
 */
export class ExchangeVenue implements Venue, SettingsOperations {
  readonly name: string;
  readonly #api: UsdmApi;
  readonly #sender: OrderSender;
  readonly #events: UserEventSource;

  constructor(name: string, sender: OrderSender, events: UserEventSource) {
    this.name = name;
    this.#sender = sender;
    this.#api = sender.api;
    this.#events = events;
  }

  place(order: VenueOrder): Promise<OrderRecord> {
    return this.#sender.place({
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      ...(order.price === undefined ? {} : { price: order.price }),
      ...(order.timeInForce === undefined ? {} : { timeInForce: order.timeInForce }),
      ...(order.reduceOnly ? { reduceOnly: true } : {}),
      newClientOrderId: order.clientOrderId,
      newOrderRespType: 'RESULT',
    });
  }

  cancel(symbol: string, clientOrderId: string): Promise<OrderRecord> {
    return this.#sender.cancel({ symbol, origClientOrderId: clientOrderId });
  }

  async query(symbol: string, clientOrderId: string): Promise<OrderRecord | null> {
    try {
      return await this.#api.queryOrder({ symbol, origClientOrderId: clientOrderId });
    } catch (error) {
      if (hasBinanceCode(error, BinanceCode.NO_SUCH_ORDER)) return null;
      throw error;
    }
  }

  openOrders(symbol?: string): Promise<OrderRecord[]> {
    return this.#api.openOrders(symbol === undefined ? {} : { symbol });
  }

  applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]> {
    return applyContractSettings(this, settings, symbols);
  }

  positionMode(): Promise<boolean> {
    return this.#api.getPositionMode();
  }

  onUserEvent(listener: (event: UserEventObject) => void): () => void {
    return this.#events.onUserEvent((json) => listener(parseUserEvent(Buffer.from(json))));
  }

  // ---- SettingsOperations ------------------------------------------------------------------

  getPositionMode(): Promise<boolean> {
    return this.#api.getPositionMode();
  }

  setPositionMode(hedge: boolean): Promise<{ changed: boolean }> {
    return this.#api.setPositionMode(hedge);
  }

  setMarginType(symbol: string, marginType: 'CROSSED' | 'ISOLATED'): Promise<{ changed: boolean }> {
    return this.#api.setMarginType(symbol, marginType);
  }

  async setLeverage(symbol: string, leverage: number): Promise<void> {
    await this.#api.setLeverage(symbol, leverage);
  }

  /** positionRisk v2 lists every symbol with its margin type and leverage (v3 only open ones). */
  async readSettings(symbols: readonly string[]): Promise<SymbolSettings[]> {
    const response = await this.#api.positionRiskV2();
    const rows = JSON.parse(response.body.toString('utf8')) as ReadonlyArray<Record<string, unknown>>;
    const wanted = new Set(symbols);
    return rows
      .filter(
        (r) => typeof r.symbol === 'string' && wanted.has(r.symbol) && (r.positionSide ?? 'BOTH') === 'BOTH',
      )
      .map((r) => ({
        symbol: String(r.symbol),
        marginType: String(r.marginType).toLowerCase() === 'isolated' ? 'ISOLATED' : 'CROSSED',
        leverage: Number(r.leverage),
      }));
  }
}
