// Reads and validates a `POST /fapi/v1/order` request into a typed new-order request.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { MarketView, Params, SymbolSpec } from '../contracts.js';
import {
  illegal,
  missing,
  optionalBool,
  optionalDecimal,
  optionalString,
  requireDecimal,
  requireString,
} from '../request-params.js';
import { ALGO_ORDER_TYPES } from './algo-store.js';
import {
  type MatchingType,
  type OrderSide,
  STP_MODES,
  type StpMode,
  type TimeInForce,
} from './order-store.js';
import type { PositionSide } from './position-state.js';
import { Reject } from './rejections.js';
import {
  checkNotional,
  checkPercentPrice,
  checkPrice,
  checkQuantity,
  requireSpec,
} from './symbol-filters.js';

/** Binance's client-order-id rule. */
export const CLIENT_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export const SIDES: readonly OrderSide[] = ['BUY', 'SELL'];
export const POSITION_SIDES: readonly PositionSide[] = ['BOTH', 'LONG', 'SHORT'];
export const TIME_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'];
/** Binance's limit for `goodTillDate`: 9999-12-31 23:59:59 UTC. */
export const MAX_GOOD_TILL_DATE = 253_402_300_799_000;
/** A GTD order must live at least this long (`goodTillDate` > now + 600 s). */
export const MIN_GOOD_TILL_MS = 600_000;

/** A validated new order for the matching engine. */
export interface NewOrderRequest {
  readonly spec: SymbolSpec;
  readonly side: OrderSide;
  readonly type: MatchingType;
  readonly timeInForce: TimeInForce;
  /** As sent; checked against the account's position mode when placing. */
  readonly positionSide: PositionSide | undefined;
  readonly quantity: Decimal;
  /** Limit price (LIMIT only). */
  readonly price: Decimal | undefined;
  readonly reduceOnly: boolean;
  readonly clientOrderId: string | undefined;
  readonly respType: 'ACK' | 'RESULT';
  readonly stp: StpMode;
  /** Price from the book instead of `price` (OPPONENT… takes the other side's level, QUEUE… its own side's). */
  readonly priceMatch: PriceMatch | undefined;
  /** Expiry of a GTD order (whole seconds), else 0. */
  readonly goodTillDate: number;
}

/** Binance's price-match modes for limit orders. */
export const PRICE_MATCHES = [
  'OPPONENT',
  'OPPONENT_5',
  'OPPONENT_10',
  'OPPONENT_20',
  'QUEUE',
  'QUEUE_5',
  'QUEUE_10',
  'QUEUE_20',
] as const;
export type PriceMatch = (typeof PRICE_MATCHES)[number];

/** The limit price a price-match mode gives on `side` from the book. */
export function matchedPrice(
  market: MarketView,
  symbol: string,
  side: OrderSide,
  mode: PriceMatch,
): Decimal | undefined {
  const depth = mode.endsWith('_20') ? 20 : mode.endsWith('_10') ? 10 : mode.endsWith('_5') ? 5 : 1;
  const book = market.book(symbol, depth);
  const opponent = mode.startsWith('OPPONENT');
  const levels = (side === 'BUY') === opponent ? book.asks : book.bids;
  return levels[depth - 1]?.price ?? levels.at(-1)?.price;
}

/** `side`: mandatory (-1102); a value other than BUY/SELL is Binance's -1117, not a generic -1130. */
export function sideParam(params: Params): OrderSide {
  const text = requireString(params, 'side');
  if (!(SIDES as readonly string[]).includes(text)) throw Reject.invalidSide();
  return text as OrderSide;
}

/** `positionSide`: optional; a value other than BOTH/LONG/SHORT is Binance's -4060. */
export function positionSideParam(params: Params): PositionSide | undefined {
  const text = optionalString(params, 'positionSide');
  if (text === undefined) return undefined;
  if (!(POSITION_SIDES as readonly string[]).includes(text)) throw Reject.invalidPositionSide();
  return text as PositionSide;
}

/** `newOrderRespType`: ACK (the default) or RESULT; anything else is Binance's -1136. */
function respTypeParam(params: Params): 'ACK' | 'RESULT' {
  const text = optionalString(params, 'newOrderRespType');
  if (text === undefined) return 'ACK';
  if (text !== 'ACK' && text !== 'RESULT') throw Reject.invalidRespType();
  return text;
}

/** Validates `clientOrderId`-like parameters (-4015). */
export function clientIdParam(params: Params, name: string): string | undefined {
  const id = optionalString(params, name);
  if (id !== undefined && !CLIENT_ID_PATTERN.test(id)) throw Reject.badClientOrderId();
  return id;
}

/**
 * Parses and filter-checks a new order. Conditional types belong to the algo endpoint (-4120);
 * filters run in Binance's order (quantity, price, percent price, notional).
 */
export function parseNewOrder(params: Params, market: MarketView, now: number): NewOrderRequest {
  const symbol = requireString(params, 'symbol');
  const spec = requireSpec(market, symbol);
  const side = sideParam(params);
  const typeText = requireString(params, 'type');
  if ((ALGO_ORDER_TYPES as readonly string[]).includes(typeText)) throw Reject.useAlgoEndpoint();
  if (typeText !== 'LIMIT' && typeText !== 'MARKET') throw Reject.invalidOrderType();
  const type: MatchingType = typeText;
  const positionSide = positionSideParam(params);
  const reduceOnlyFlag = optionalBool(params, 'reduceOnly');
  const clientOrderId = clientIdParam(params, 'newClientOrderId');
  const respType = respTypeParam(params);
  const stp = stpParam(params);
  const priceMatch = priceMatchParam(params);
  if (optionalString(params, 'closePosition') === 'true') throw Reject.closePositionInvalid(type, true);
  const quantity = requireDecimal(params, 'quantity');
  let timeInForce: TimeInForce = 'GTC';
  let price: Decimal | undefined;
  let goodTillDate = 0;
  if (type === 'LIMIT') {
    const tif = optionalString(params, 'timeInForce');
    if (tif === undefined) throw missing('timeInForce');
    if (!(TIME_IN_FORCE as readonly string[]).includes(tif)) throw Reject.invalidTimeInForce();
    timeInForce = tif as TimeInForce;
    if (timeInForce === 'GTD') goodTillDate = goodTillDateParam(params, now);
    if (priceMatch !== undefined && priceMatch !== 'NONE') {
      // Binance refuses a price sent with priceMatch; the book always has the level here.
      if (optionalString(params, 'price') !== undefined) throw Reject.notRequired('price');
      price = matchedPrice(market, symbol, side, priceMatch);
      if (price === undefined) throw missing('price');
    } else {
      price = requireDecimal(params, 'price');
    }
  } else {
    if (optionalString(params, 'price') !== undefined) throw Reject.notRequired('price');
    if (priceMatch !== undefined && priceMatch !== 'NONE') throw Reject.priceMatchOrderType();
    const tif = optionalString(params, 'timeInForce');
    if (tif !== undefined && !(TIME_IN_FORCE as readonly string[]).includes(tif))
      throw illegal('timeInForce', tif);
  }
  const reduceOnly = reduceOnlyFlag ?? false;
  checkQuantity(spec, quantity, type === 'MARKET');
  const mark = market.markPrice(symbol);
  if (price !== undefined) {
    checkPrice(spec, price);
    checkPercentPrice(spec, side, price, mark);
  }
  checkNotional(spec, quantity, price ?? mark, reduceOnly);
  // optionalDecimal validates a stray stopPrice so garbage is still refused with -1130.
  optionalDecimal(params, 'stopPrice');
  return {
    spec,
    side,
    type,
    timeInForce,
    positionSide,
    quantity,
    price,
    reduceOnly,
    clientOrderId,
    respType,
    stp,
    priceMatch: priceMatch === 'NONE' ? undefined : priceMatch,
    goodTillDate,
  };
}

/** `selfTradePreventionMode`: one of Binance's modes (-5039), `NONE` when absent. */
export function stpParam(params: Params): StpMode {
  const text = optionalString(params, 'selfTradePreventionMode');
  if (text === undefined) return 'NONE';
  if (!(STP_MODES as readonly string[]).includes(text)) throw Reject.invalidStpMode();
  return text as StpMode;
}

/** `priceMatch`: `NONE` or one of Binance's modes (-5037). */
export function priceMatchParam(params: Params): PriceMatch | 'NONE' | undefined {
  const text = optionalString(params, 'priceMatch');
  if (text === undefined) return undefined;
  if (text !== 'NONE' && !(PRICE_MATCHES as readonly string[]).includes(text))
    throw Reject.invalidPriceMatch();
  return text as PriceMatch | 'NONE';
}

/**
 * `goodTillDate` of a GTD order: mandatory (-1102), in ms with the milliseconds dropped, later than
 * now + 600 s and before 9999-12-31 (-5040).
 */
function goodTillDateParam(params: Params, now: number): number {
  const text = optionalString(params, 'goodTillDate');
  if (text === undefined || text === '') throw missing('goodTillDate');
  if (!/^\d{1,16}$/.test(text)) throw illegal('goodTillDate', text);
  const seconds = Math.floor(Number(text) / 1000) * 1000;
  if (seconds <= now + MIN_GOOD_TILL_MS || seconds >= MAX_GOOD_TILL_DATE)
    throw Reject.goodTillDateOutOfRange();
  return seconds;
}
