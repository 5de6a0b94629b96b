// Binance USD-M refusals the engine raises, each with Binance's code and message text.
import { SimRejection } from '../contracts.js';

function reject(code: number, msg: string): SimRejection {
  return new SimRejection(400, code, msg);
}

/** Constructors for every request-semantics refusal the engine can answer with. */
export const Reject = {
  badPrecision: () => reject(-1111, 'Precision is over the maximum defined for this asset.'),
  badSymbol: () => reject(-1121, 'Invalid symbol.'),
  startAfterEnd: () => reject(-1023, 'Start time is greater than end time.'),
  windowTooLong: (hours: number) => reject(-1127, `More than ${hours} hours between startTime and endTime.`),
  invalidCombination: () => reject(-1128, 'Combination of optional parameters invalid.'),
  invalidWorkingType: (text: string) => reject(-4031, `Invalid parameter working type: ${text.slice(0, 64)}`),
  notRequired: (name: string) => reject(-1106, `Parameter '${name}' sent when not required.`),
  eitherId: (a: string, b: string) =>
    reject(-1102, `Param '${a}' or '${b}' must be sent, but both were empty/null!`),
  invalidOrderType: () => reject(-1116, 'Invalid orderType.'),
  invalidTimeInForce: () => reject(-1115, 'Invalid timeInForce.'),
  invalidSide: () => reject(-1117, 'Invalid side.'),
  invalidRespType: () => reject(-1136, 'Invalid newOrderRespType.'),
  unknownOrderCancel: () => reject(-2011, 'Unknown order sent.'),
  noSuchOrder: () => reject(-2013, 'Order does not exist.'),
  marginInsufficient: () => reject(-2019, 'Margin is insufficient.'),
  maxNotionalExceeded: () => reject(-2027, 'Exceeded the maximum allowable position at current leverage.'),
  leverageTooHighForPosition: () =>
    reject(-2027, 'Exceeded the maximum allowable position at current leverage.'),
  wouldTrigger: () => reject(-2021, 'Order would immediately trigger.'),
  maxStopOrders: () => reject(-4045, 'Reach max stop order limit.'),
  reduceOnlyRejected: () => reject(-2022, 'ReduceOnly Order is rejected.'),
  maxOpenOrders: () => reject(-2025, 'Reach max open order limit.'),
  priceNotPositive: () => reject(-4001, 'Price less than 0.'),
  priceAboveMax: () => reject(-4002, 'Price greater than max price.'),
  qtyNotPositive: () => reject(-4003, 'Quantity less than or equal to zero.'),
  qtyBelowMin: () => reject(-4004, 'Quantity less than min quantity.'),
  qtyAboveMax: () => reject(-4005, 'Quantity greater than max quantity.'),
  stopPriceNotPositive: () => reject(-4006, 'Stop price less than zero.'),
  stopPriceAboveMax: () => reject(-4007, 'Stop price greater than max price.'),
  priceBelowMin: () => reject(-4013, 'Price less than min price.'),
  priceNotTick: () => reject(-4014, 'Price not increased by tick size.'),
  badClientOrderId: () => reject(-4015, 'Client order id is not valid.'),
  priceAboveMultiplier: (cap: string) => reject(-4016, `Limit price can't be higher than ${cap}.`),
  qtyNotStep: () => reject(-4023, 'Quantity not increased by step size.'),
  priceBelowMultiplier: (floor: string) => reject(-4024, `Limit price can't be lower than ${floor}.`),
  badLeverage: (leverage: string) => reject(-4028, `Leverage ${leverage} is not valid`),
  marginTypeUnchanged: () => reject(-4046, 'No need to change margin type.'),
  marginTypeOpenOrders: () => reject(-4047, 'Margin type cannot be changed if there exists open orders.'),
  marginTypePosition: () => reject(-4048, 'Margin type cannot be changed if there exists position.'),
  positionModeUnchanged: () => reject(-4059, 'No need to change position side.'),
  invalidPositionSide: () => reject(-4060, 'Invalid position side.'),
  positionSideMismatch: () => reject(-4061, "Order's position side does not match user's setting."),
  positionModeOpenOrders: () => reject(-4067, 'Position side cannot be changed if there exists open orders.'),
  positionModePosition: () => reject(-4068, 'Position side cannot be changed if there exists position.'),
  invalidActivationPrice: () => reject(-4106, 'Invalid activation price.'),
  duplicateClientOrderId: () => reject(-4116, 'ClientOrderId is duplicated.'),
  useAlgoEndpoint: () =>
    reject(
      -4120,
      'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
    ),
  closePositionInvalid: (orderType: string, closePosition: boolean) =>
    reject(-4136, `Target strategy invalid for orderType ${orderType},closePosition ${closePosition}`),
  isolatedLeverageReduction: () =>
    reject(-4161, 'Leverage reduction is not supported in Isolated Margin Mode with open positions'),
  minNotional: (minNotional: string) =>
    reject(-4164, `Order's notional must be no smaller than ${minNotional} (unless you choose reduce only).`),
  postOnlyWouldTake: () =>
    reject(
      -5022,
      'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history',
    ),
  tooManyModifications: () => reject(-5026, 'Exceed maximum modify order limit.'),
  nothingToModify: () => reject(-5027, 'No need to modify the order.'),
  multiAssetsUnchanged: () =>
    reject(-4171, 'Adjusted asset mode is currently set and does not need to be adjusted.'),
  multiAssetsWithIsolated: () =>
    reject(
      -4167,
      'Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures under isolated-margin mode.',
    ),
  isolatedUnderMultiAssets: () =>
    reject(-4168, 'Unable to adjust to isolated-margin mode under the Multi-Assets mode.'),
  batchTooLong: (count: number) => reject(-4082, `Invalid number of batch place orders: ${count}`),
  tooManyCancels: () => reject(-4032, 'Exceed maximum cancel order size.'),
  invalidStpMode: () => reject(-5039, 'Invalid self trade prevention mode'),
  invalidPriceMatch: () => reject(-5037, 'Invalid price match'),
  priceMatchOrderType: () =>
    reject(-5038, 'Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT'),
  goodTillDateOutOfRange: () =>
    reject(
      -5040,
      'The goodTillDate timestamp must be greater than the current time plus 600 seconds and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)',
    ),
  unknownAccount: () => new SimRejection(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
} as const;
