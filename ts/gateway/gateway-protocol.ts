// The order gateway's wire protocol: request and answer bodies (zod), error codes, and orders as JSON (docs/protocol.md, "Gateway").
import { z } from 'zod';
import { CLIENT_ORDER_ID_PATTERN } from '../exchange/client-order-id.js';
import type { OrderRecord } from '../exchange/usdm-decoders.js';

/** Path prefix of every gateway endpoint. */
export const GATEWAY_PATH = '/v1';

/** A decimal as text, as Binance writes quantities and prices (no exponent, no sign). */
const DECIMAL_TEXT = /^(?:0|[1-9]\d{0,17})(?:\.\d{1,18})?$/;

/** Symbols as Binance spells them. */
const SYMBOL = /^[A-Z0-9]{2,30}$/;

/**
 * `POST /v1/orders`: one order of a trader's decision. Its client order id is the deterministic id
 * of the decision (strategy, symbol, signal time, leg, slice, attempt): every trader running the
 * same strategy sends the same id for the same signal, which is what the gateway claims.
 */
export const PlaceRequestSchema = z.strictObject({
  symbol: z.string().regex(SYMBOL, 'a symbol such as BTCUSDT'),
  side: z.enum(['BUY', 'SELL']),
  type: z.enum(['MARKET', 'LIMIT']),
  quantity: z.string().regex(DECIMAL_TEXT, 'a positive decimal such as "0.010"'),
  price: z.string().regex(DECIMAL_TEXT, 'a positive decimal such as "65000.1"').optional(),
  timeInForce: z.enum(['GTC', 'IOC', 'FOK', 'GTX']).optional(),
  reduceOnly: z.boolean(),
  clientOrderId: z.string().regex(CLIENT_ORDER_ID_PATTERN, "Binance's client order id rule"),
});
export type PlaceRequest = z.infer<typeof PlaceRequestSchema>;

/** `GET /v1/orders/<symbol>/<clientOrderId>` and `DELETE …`: the order of a claim. */
export const OrderRefSchema = z.strictObject({
  symbol: z.string().regex(SYMBOL, 'a symbol such as BTCUSDT'),
  clientOrderId: z.string().regex(CLIENT_ORDER_ID_PATTERN, "Binance's client order id rule"),
});
export type OrderRef = z.infer<typeof OrderRefSchema>;

/**
 * How a placement ended for the asking trader:
 * - `placed`: this request's claim placed the order;
 * - `duplicate`: another request (another trader, or an earlier try) had claimed the signal; the
 *   order is the one that claim placed;
 * - `nothing`: split mode, this member's share is below one lot step: nothing is placed.
 */
export const PLACE_OUTCOMES = ['placed', 'duplicate', 'nothing'] as const;
export type PlaceOutcome = (typeof PLACE_OUTCOMES)[number];

/** Binance's order JSON as the gateway relays it (decimals as strings; `decodeOrder` reads it). */
export type OrderJson = Record<string, string | number | boolean | null>;

/** The answer to a placement. */
export interface PlaceAnswer {
  outcome: PlaceOutcome;
  /** The client id the order has at the exchange (split mode: the member's own id). */
  exchangeClientOrderId: string;
  /** The quantity this member's order carries (the whole order unless split). */
  quantity: string;
  /** The order as the exchange reported it; null for `nothing`. */
  order: OrderJson | null;
}

/** The answer to a query or cancel. */
export interface OrderAnswer {
  exchangeClientOrderId: string;
  order: OrderJson;
}

/** Why a request was refused; every code has a fixed HTTP status. */
export const GATEWAY_ERRORS = {
  /** No or malformed `Authorization` header. */
  unauthenticated: 401,
  /** The key id is not in the key file (or revoked). */
  'unknown-peer': 401,
  /** The MAC does not match. */
  'bad-signature': 401,
  /** The request's time is outside the window. */
  'stale-request': 401,
  /** The key's role may not use this endpoint, or its names do not include the peer. */
  forbidden: 403,
  /** A plain (not TLS) request from an address that is not loopback. */
  'tls-required': 403,
  /** Split mode: the peer is not one of the configured members. */
  'not-a-member': 403,
  /** The body or path does not follow the protocol. */
  'bad-request': 400,
  /** No such endpoint. */
  'no-such-endpoint': 404,
  /** The gateway holds no claim for this order. */
  'not-claimed': 404,
  /** The signal was claimed for the opposite side: the claimed order stands, this request is refused; definitive. */
  conflict: 409,
  /** The exchange refused the order (its code and message are given); definitive. */
  'exchange-rejected': 422,
  /** The claim was older than the placement window when the gateway could place it: not placed. */
  expired: 410,
  /** The exchange would not say whether the order exists (yet); ask again with the same id. */
  'outcome-unknown': 503,
  /** The body is larger than the gateway accepts. */
  'too-large': 413,
  /** A fault of the gateway itself (logged there). */
  internal: 500,
} as const;
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** An error answer's body. */
export interface GatewayErrorBody {
  error: GatewayErrorCode;
  message: string;
  /** `exchange-rejected`: the exchange's HTTP status, code and message. */
  exchange?: { status: number; code: number; msg: string };
}

/** Checks an error answer's body (from the network: untrusted). */
export const GatewayErrorBodySchema = z.object({
  error: z.enum(Object.keys(GATEWAY_ERRORS) as [GatewayErrorCode, ...GatewayErrorCode[]]),
  message: z.string(),
  exchange: z.object({ status: z.number(), code: z.number(), msg: z.string() }).optional(),
});

/** Checks a placement answer (untrusted); the order itself is decoded by `decodeOrder`. */
export const PlaceAnswerSchema = z.object({
  outcome: z.enum(PLACE_OUTCOMES),
  exchangeClientOrderId: z.string(),
  quantity: z.string(),
  order: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
});

/** Checks a query or cancel answer (untrusted). */
export const OrderAnswerSchema = z.object({
  exchangeClientOrderId: z.string(),
  order: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

/** An order record written back as Binance's JSON, so the other side decodes it with `decodeOrder`. */
export function orderToJson(order: OrderRecord): OrderJson {
  return {
    symbol: order.symbol,
    orderId: order.orderId,
    clientOrderId: order.clientOrderId,
    status: order.status,
    side: order.side,
    positionSide: order.positionSide,
    type: order.type,
    origType: order.origType,
    timeInForce: order.timeInForce,
    price: order.price.toString(),
    avgPrice: order.avgPrice?.toString() ?? null,
    origQty: order.origQty.toString(),
    executedQty: order.executedQty.toString(),
    cumQuote: order.cumQuote?.toString() ?? null,
    stopPrice: order.stopPrice?.toString() ?? null,
    reduceOnly: order.reduceOnly,
    closePosition: order.closePosition,
    priceMatch: order.priceMatch,
    selfTradePreventionMode: order.selfTradePreventionMode,
    time: order.time,
    updateTime: order.updateTime,
  };
}

/**
 * The client id of split member `index`'s share at the exchange: the decision's id, a dot, the
 * member's index (`t_…20 digits….2`). Members and the gateway derive it alike, after restarts too.
 */
export function shareClientOrderId(clientOrderId: string, index: number): string {
  const id = `${clientOrderId}.${index}`;
  if (!CLIENT_ORDER_ID_PATTERN.test(id))
    throw new RangeError(`client order id ${clientOrderId} cannot carry a share index`);
  return id;
}

/** The decision id and member index of a split share's exchange id; undefined for any other id. */
export function parseShareClientOrderId(id: string): { clientOrderId: string; index: number } | undefined {
  const match = /^([A-Za-z0-9_:/-]+)\.(\d{1,2})$/.exec(id);
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  return { clientOrderId: match[1], index: Number(match[2]) };
}
