// The refusals the server itself sends (security, limits, routing), worded as Binance words them.
import { SimRejection } from '../contracts.js';

/** 404 for a path or method no endpoint serves (Binance's futures gateway answers -5000). */
export function unknownRoute(method: string, path: string): SimRejection {
  return new SimRejection(404, -5000, `Path ${path.slice(0, 200)}, Method ${method.slice(0, 16)} is invalid`);
}

/** -2014: the `X-MBX-APIKEY` header is missing or not a plausible key. */
export function apiKeyFormatInvalid(): SimRejection {
  return new SimRejection(401, -2014, 'API-key format invalid.');
}

/** -2015: the key is well formed but no account has it. */
export function apiKeyUnknown(): SimRejection {
  return new SimRejection(401, -2015, 'Invalid API-key, IP, or permissions for action.');
}

export function timestampOutsideRecvWindow(): SimRejection {
  return new SimRejection(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
}

export function timestampAhead(): SimRejection {
  return new SimRejection(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
}

export function invalidSignature(): SimRejection {
  return new SimRejection(400, -1022, 'Signature for this request is not valid.');
}

/** 429 -1003: the IP's request weight for the current minute is spent. */
export function weightExceeded(limit: number): SimRejection {
  return new SimRejection(
    429,
    -1003,
    `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use the websocket for live updates to avoid polling the API.`,
  );
}

/** 418 -1003: the IP is banned until `untilMs`. */
export function ipBanned(untilMs: number): SimRejection {
  return new SimRejection(
    418,
    -1003,
    `Way too much request weight used; IP banned until ${untilMs}. Please use the websocket for live updates to avoid bans.`,
  );
}

/** 429 -1015: the account's order-rate budget for `per` (`10 SECOND`, `1 MINUTE`) is spent. */
export function tooManyOrders(limit: number, per: string): SimRejection {
  return new SimRejection(429, -1015, `Too many new orders; current limit is ${limit} orders per ${per}.`);
}

/** 503 -1007: the request reached the engine but its outcome is unknown to the client. */
export function executionStatusUnknown(): SimRejection {
  return new SimRejection(
    503,
    -1007,
    'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
  );
}

/** -1125: no such (live) listen key. */
export function listenKeyUnknown(): SimRejection {
  return new SimRejection(400, -1125, 'This listenKey does not exist.');
}

/** 500 -1000: a simulator bug, never a client error. */
export function internalError(): SimRejection {
  return new SimRejection(500, -1000, 'An unknown error occurred while processing the request.');
}

/** 413: a request body larger than the server accepts. */
export function bodyTooLarge(maxBytes: number): SimRejection {
  return new SimRejection(413, -1000, `Request body exceeds ${maxBytes} bytes.`);
}
