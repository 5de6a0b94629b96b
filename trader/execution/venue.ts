// The venue an executor trades on: the exchange (live, testnet), the simulator's engine (paper, backtest), or nothing (dry-run).
import type { Decimal } from '../../ts/exact/decimal.js';
import type { OrderRecord } from '../../ts/exchange/usdm-decoders.js';
import type { UserEventObject } from '../../ts/native/parse.js';
import type { OrderSide } from '../engine/events.js';

/** One order as the executor sends it: exact, snapped, with its deterministic client id. */
export interface VenueOrder {
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: 'MARKET' | 'LIMIT';
  readonly quantity: Decimal;
  /** LIMIT only. */
  readonly price?: Decimal;
  /** LIMIT only: GTC, IOC, FOK, or GTX (post-only). */
  readonly timeInForce?: 'GTC' | 'IOC' | 'FOK' | 'GTX';
  readonly reduceOnly: boolean;
  readonly clientOrderId: string;
}

/** Margin type, position mode and leverage the trader needs (DESIGN.md 6: applied and verified at start). */
export interface ContractSettings {
  readonly marginType: 'CROSSED' | 'ISOLATED';
  readonly positionMode: 'one-way' | 'hedge';
  readonly leverage: number;
}

/** What the venue reports of a symbol's settings after applying them. */
export interface SymbolSettings {
  readonly symbol: string;
  readonly marginType: 'CROSSED' | 'ISOLATED';
  readonly leverage: number;
}

/** A dry-run venue's answer: the order was built and signed, and deliberately not sent. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
}

/**
 * The executor's view of where orders go. Every implementation resolves an unknown outcome by
 * client id before answering (an order is never sent twice blindly), and reports what the
 * exchange says through user events (`ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`) decoded by the
 * native parser, so fills reach the engine the same way in every mode.
 */
export interface Venue {
  readonly name: string;
  /** Places an order; an outcome that stays unknown is an `OrderOutcomeUnknownError`. */
  place(order: VenueOrder): Promise<OrderRecord>;
  /** Cancels an open order by client id (the order as it ended). */
  cancel(symbol: string, clientOrderId: string): Promise<OrderRecord>;
  /** The order with this client id, or null when the exchange says it does not exist. */
  query(symbol: string, clientOrderId: string): Promise<OrderRecord | null>;
  openOrders(symbol?: string): Promise<OrderRecord[]>;
  /** Applies `settings` to the account and `symbols`, then reads them back. */
  applySettings(settings: ContractSettings, symbols: readonly string[]): Promise<SymbolSettings[]>;
  /** The account's position mode as the venue reports it (true: hedge). */
  positionMode(): Promise<boolean>;
  /** User-data events of the account, decoded. Returns the unsubscribe function. */
  onUserEvent(listener: (event: UserEventObject) => void): () => void;
}
