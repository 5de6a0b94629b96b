// Reads and validates a `POST /fapi/v1/algoOrder` (conditional order) request.
import { Decimal } from '../../ts/exact/decimal.js';
import type { MarketView, Params, SymbolSpec } from '../contracts.js';
import {
  illegal,
  missing,
  optionalBool,
  optionalDecimal,
  optionalEnum,
  optionalString,
  requireDecimal,
  requireString,
} from '../request-params.js';
import { ALGO_ORDER_TYPES, type AlgoOrderType } from './algo-store.js';
import {
  clientIdParam,
  type PriceMatch,
  positionSideParam,
  priceMatchParam,
  sideParam,
  stpParam,
  TIME_IN_FORCE,
} from './order-request.js';

const ALGO_TIME_IN_FORCE = TIME_IN_FORCE.filter((tif) => tif !== 'GTD');

import type { OrderSide, StpMode, TimeInForce, WorkingType } from './order-store.js';
import type { PositionSide } from './position-state.js';
import { Reject } from './rejections.js';
import {
  checkNotional,
  checkPercentPrice,
  checkPrice,
  checkQuantity,
  checkStopPrice,
  requireSpec,
} from './symbol-filters.js';

/** Callback rate range of TRAILING_STOP_MARKET, in percent (upper bound raised to 20 in 2026). */
export const MIN_CALLBACK_RATE = Decimal.parse('0.1');
export const MAX_CALLBACK_RATE = Decimal.parse('20');

/** A validated conditional order. */
export interface NewAlgoRequest {
  readonly spec: SymbolSpec;
  readonly side: OrderSide;
  readonly positionSide: PositionSide | undefined;
  readonly orderType: AlgoOrderType;
  readonly timeInForce: TimeInForce;
  /** Zero with closePosition. */
  readonly quantity: Decimal;
  /** Limit price of STOP / TAKE_PROFIT; zero for the market types and for a price-matched one. */
  readonly price: Decimal;
  /** STOP / TAKE_PROFIT priced from the book when it triggers, instead of at `price`. */
  readonly priceMatch: PriceMatch | undefined;
  /** Self-trade prevention of the order placed when it triggers. */
  readonly stp: StpMode;
  /** Zero for a trailing stop (its level follows the price). */
  readonly triggerPrice: Decimal;
  readonly workingType: WorkingType;
  readonly priceProtect: boolean;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly activatePrice: Decimal | undefined;
  readonly callbackRate: Decimal | undefined;
  readonly clientAlgoId: string | undefined;
}

/** Parses and filter-checks a conditional order. */
export function parseNewAlgo(params: Params, market: MarketView): NewAlgoRequest {
  const algoType = requireString(params, 'algoType');
  if (algoType !== 'CONDITIONAL') throw illegal('algoType', algoType);
  const symbol = requireString(params, 'symbol');
  const spec = requireSpec(market, symbol);
  const side = sideParam(params);
  const typeText = requireString(params, 'type');
  if (!(ALGO_ORDER_TYPES as readonly string[]).includes(typeText)) throw Reject.invalidOrderType();
  const orderType = typeText as AlgoOrderType;
  const positionSide = positionSideParam(params);
  // GTD is not served on conditional orders: refused as an unknown time in force.
  const timeInForce = optionalEnum(params, 'timeInForce', ALGO_TIME_IN_FORCE) ?? 'GTC';
  const workingType = workingTypeParam(params);
  const stp = stpParam(params);
  const matchText = priceMatchParam(params);
  const priceMatch = matchText === 'NONE' ? undefined : matchText;
  const priceProtect = optionalBool(params, 'priceProtect') ?? false;
  const closePosition = optionalBool(params, 'closePosition') ?? false;
  const reduceOnly = optionalBool(params, 'reduceOnly') ?? false;
  const clientAlgoId = clientIdParam(params, 'clientAlgoId');
  const trailing = orderType === 'TRAILING_STOP_MARKET';
  const limitType = orderType === 'STOP' || orderType === 'TAKE_PROFIT';
  if (closePosition && (trailing || limitType)) throw Reject.closePositionInvalid(orderType, true);
  if (closePosition && optionalString(params, 'quantity') !== undefined) throw Reject.notRequired('quantity');
  if (closePosition && reduceOnly) throw Reject.notRequired('reduceOnly');
  const quantity = closePosition ? Decimal.ZERO : requireDecimal(params, 'quantity');
  let price = Decimal.ZERO;
  if (!limitType && priceMatch !== undefined) throw Reject.priceMatchOrderType();
  if (limitType && priceMatch === undefined) {
    price = requireDecimal(params, 'price');
  } else if (optionalString(params, 'price') !== undefined) {
    // Binance: priceMatch "can't be passed together with price".
    throw Reject.notRequired('price');
  }
  let triggerPrice = Decimal.ZERO;
  let activatePrice: Decimal | undefined;
  let callbackRate: Decimal | undefined;
  if (trailing) {
    callbackRate = requireDecimal(params, 'callbackRate');
    if (callbackRate.lt(MIN_CALLBACK_RATE) || callbackRate.gt(MAX_CALLBACK_RATE)) {
      throw illegal('callbackRate', callbackRate.toString());
    }
    activatePrice = optionalDecimal(params, 'activatePrice');
    if (activatePrice !== undefined) {
      if (activatePrice.sign() <= 0 || !activatePrice.isMultipleOf(spec.tickSize))
        throw Reject.invalidActivationPrice();
    }
  } else {
    const tp = optionalString(params, 'triggerPrice');
    if (tp === undefined) throw missing('triggerPrice');
    triggerPrice = requireDecimal(params, 'triggerPrice');
    checkStopPrice(spec, triggerPrice);
  }
  if (!closePosition) checkQuantity(spec, quantity, !limitType);
  const mark = market.markPrice(symbol);
  const priced = limitType && priceMatch === undefined;
  if (priced) {
    checkPrice(spec, price);
    checkPercentPrice(spec, side, price, mark);
  }
  if (!closePosition) {
    const reference = priced ? price : triggerPrice.isZero() ? mark : triggerPrice;
    checkNotional(spec, quantity, reference, reduceOnly);
  }
  return {
    spec,
    side,
    positionSide,
    orderType,
    timeInForce,
    quantity,
    price,
    priceMatch,
    stp,
    triggerPrice,
    workingType,
    priceProtect,
    reduceOnly,
    closePosition,
    activatePrice,
    callbackRate,
    clientAlgoId,
  };
}

/** `workingType`: MARK_PRICE or CONTRACT_PRICE (the default); anything else is Binance's -4031. */
function workingTypeParam(params: Params): WorkingType {
  const text = optionalString(params, 'workingType');
  if (text === undefined) return 'CONTRACT_PRICE';
  if (text !== 'MARK_PRICE' && text !== 'CONTRACT_PRICE') throw Reject.invalidWorkingType(text);
  return text;
}
