// Binance-shaped order and algo order answers for scripted-server tests, echoing the request's parameters.

/** A `GET/POST/DELETE /fapi/v1/order` answer for the order the request names. */
export function orderJson(params: URLSearchParams, status = 'NEW'): Record<string, unknown> {
  return {
    orderId: 22542179,
    symbol: params.get('symbol') ?? 'BTCUSDT',
    status,
    clientOrderId: params.get('newClientOrderId') ?? params.get('origClientOrderId') ?? 'x',
    price: params.get('price') ?? '0',
    avgPrice: '0.00000',
    origQty: params.get('quantity') ?? '0.010',
    executedQty: '0',
    cumQty: '0',
    cumQuote: '0',
    timeInForce: params.get('timeInForce') ?? 'GTC',
    type: params.get('type') ?? 'LIMIT',
    reduceOnly: false,
    closePosition: false,
    side: params.get('side') ?? 'BUY',
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: params.get('type') ?? 'LIMIT',
    priceMatch: 'NONE',
    selfTradePreventionMode: 'NONE',
    goodTillDate: 0,
    updateTime: 1566818724722,
  };
}

/** A `/fapi/v1/algoOrder` answer for the algo order the request names. */
export function algoJson(params: URLSearchParams, algoStatus = 'NEW'): Record<string, unknown> {
  return {
    algoId: 2146760,
    clientAlgoId: params.get('clientAlgoId') ?? 'x',
    algoType: 'CONDITIONAL',
    orderType: params.get('type') ?? 'STOP_MARKET',
    symbol: params.get('symbol') ?? 'BTCUSDT',
    side: params.get('side') ?? 'SELL',
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: params.get('quantity') ?? '0.010',
    algoStatus,
    triggerPrice: params.get('triggerPrice') ?? '95000',
    price: '0.00',
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: false,
    priceProtect: false,
    reduceOnly: true,
    activatePrice: '',
    callbackRate: '',
    createTime: 1750485492076,
    updateTime: 1750485492076,
    triggerTime: 0,
    goodTillDate: 0,
  };
}
