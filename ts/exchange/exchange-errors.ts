// Typed errors of the Binance REST client: each carries the request it belongs to and what the exchange said.

/** Binance error codes the client reacts to (the rest are passed through in `BinanceApiError.code`). */
export const BinanceCode = {
  /** Internal error; unable to process the request. */
  DISCONNECTED: -1001,
  /** Unexpected response from the message bus: execution status unknown. */
  UNEXPECTED_RESPONSE: -1006,
  /** Timeout waiting for the backend: execution status unknown. */
  TIMEOUT: -1007,
  /** Server overloaded / system-level throttle (the request was not executed). */
  SERVER_BUSY: -1008,
  /** Too many new orders (the account's ORDERS limit, not the IP's weight). */
  TOO_MANY_ORDERS: -1015,
  /** `timestamp` outside `recvWindow`, or ahead of the server. */
  INVALID_TIMESTAMP: -1021,
  /** Signature did not verify. */
  INVALID_SIGNATURE: -1022,
  /** Cancel of an order the exchange does not know. */
  CANCEL_REJECTED: -2011,
  /** Query of an order the exchange does not know. */
  NO_SUCH_ORDER: -2013,
  /** `newClientOrderId` already used by an open order. */
  DUPLICATED_CLIENT_ORDER_ID: -4116,
  /** Margin type already as requested. */
  NO_NEED_TO_CHANGE_MARGIN_TYPE: -4046,
  /** Position mode already as requested. */
  NO_NEED_TO_CHANGE_POSITION_SIDE: -4059,
} as const;

/** Where a request went: enough to find it in the logs. */
export interface RequestRef {
  readonly method: string;
  readonly path: string;
}

/** Base of every error the exchange client throws. */
export class ExchangeError extends Error {
  override readonly name: string = 'ExchangeError';
}

/** The client configuration is invalid; `field` names the offending setting. */
export class ExchangeConfigError extends ExchangeError {
  override readonly name = 'ExchangeConfigError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`exchange config: ${field} ${problem}`);
  }
}

/** A call was made with parameters the client refuses before sending anything. */
export class InvalidRequestError extends ExchangeError {
  override readonly name = 'InvalidRequestError';
  constructor(
    readonly parameter: string,
    problem: string,
  ) {
    super(`invalid request parameter ${parameter}: ${problem}`);
  }
}

/** Binance refused the request with its `{ "code", "msg" }` body. */
export class BinanceApiError extends ExchangeError {
  override readonly name: string = 'BinanceApiError';
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} → HTTP ${status} ${code}: ${msg}`);
  }
}

/** Binance's code for a symbol it does not list (never listed, or delisted and settled). */
export const UNKNOWN_SYMBOL_CODE = -1121;

/**
 * Whether `error` is Binance refusing a symbol it does not list (-1121 "Invalid symbol"): asking
 * again will not help, so a loop over many symbols skips that one and goes on with the rest.
 */
export function isUnknownSymbol(error: unknown): error is BinanceApiError {
  return error instanceof BinanceApiError && error.code === UNKNOWN_SYMBOL_CODE;
}

/** HTTP 429: a rate limit was broken; nothing leaves this client before `until` (exchange time, ms). */
export class RateLimitedError extends BinanceApiError {
  override readonly name = 'RateLimitedError';
  constructor(
    code: number,
    msg: string,
    method: string,
    path: string,
    readonly retryAfterMs: number,
    readonly until: number,
  ) {
    super(429, code, msg, method, path);
  }
}

/** HTTP 418: the IP is banned; nothing leaves this client before `until` (exchange time, ms). */
export class IpBannedError extends BinanceApiError {
  override readonly name = 'IpBannedError';
  constructor(
    code: number,
    msg: string,
    method: string,
    path: string,
    readonly retryAfterMs: number,
    readonly until: number,
  ) {
    super(418, code, msg, method, path);
  }
}

/** A non-2xx answer whose body is not Binance's error JSON (a proxy's HTML page, an empty 502). */
export class UnexpectedStatusError extends ExchangeError {
  override readonly name = 'UnexpectedStatusError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly bodySnippet: string,
  ) {
    super(`${method} ${path} → HTTP ${status}: ${bodySnippet}`);
  }
}

/**
 * The request did not complete at the HTTP level. `sent` is true when the request was fully
 * written before the failure, so the exchange may have acted on it.
 */
export class TransportError extends ExchangeError {
  override readonly name = 'TransportError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly reason: 'timeout' | 'network' | 'too-large' | 'closed',
    readonly sent: boolean,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${path}: ${reason}${sent ? ' after sending' : ''}: ${detail}`, options);
  }
}

/** A 2xx body that is not the documented shape. */
export class MalformedResponseError extends ExchangeError {
  override readonly name = 'MalformedResponseError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly problem: string,
    readonly bodySnippet: string,
  ) {
    super(`${method} ${path}: malformed response: ${problem}`);
  }
}

/** The client was closed; no further requests are sent. */
export class ClientClosedError extends ExchangeError {
  override readonly name = 'ClientClosedError';
  constructor(ref: RequestRef) {
    super(`${ref.method} ${ref.path}: client is closed`);
  }
}

/**
 * Whether a failed write may have been executed by the exchange: HTTP 5xx and 408, Binance's
 * "execution status unknown" codes, and transport failures after the request was written.
 */
export function isOutcomeUnknown(error: unknown): boolean {
  if (error instanceof RateLimitedError || error instanceof IpBannedError) return false;
  if (error instanceof BinanceApiError) {
    return (
      error.status >= 500 ||
      error.status === 408 ||
      error.code === BinanceCode.UNEXPECTED_RESPONSE ||
      error.code === BinanceCode.TIMEOUT
    );
  }
  if (error instanceof UnexpectedStatusError) return error.status >= 500 || error.status === 408;
  if (error instanceof TransportError) return error.sent;
  return false;
}

/** Whether `error` is Binance's answer with `code`. */
export function hasBinanceCode(error: unknown, ...codes: number[]): error is BinanceApiError {
  return error instanceof BinanceApiError && codes.includes(error.code);
}
