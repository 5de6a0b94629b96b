// Typed errors of the exchange websocket clients (connections, control requests, reconnects).

/** A control request (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS) the server answered with an error. */
export class WsControlError extends Error {
  override readonly name = 'WsControlError';
  constructor(
    readonly method: string,
    readonly params: readonly string[],
    readonly code: number | undefined,
    readonly serverMessage: string,
    readonly url: string,
  ) {
    super(`${method} refused by ${url}: ${code === undefined ? '' : `code ${code}: `}${serverMessage}`);
  }
}

/** A control request that got no reply in time; the connection is then treated as broken. */
export class WsControlTimeoutError extends Error {
  override readonly name = 'WsControlTimeoutError';
  constructor(
    readonly method: string,
    readonly id: number,
    readonly timeoutMs: number,
    readonly url: string,
  ) {
    super(`${method} (id ${id}) got no reply from ${url} within ${timeoutMs} ms`);
  }
}

/** The connection closed (or failed to open) before a request completed. */
export class WsConnectionClosedError extends Error {
  override readonly name = 'WsConnectionClosedError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`websocket ${url} closed: ${reason}`);
  }
}

/** A reply frame that is not the JSON shape Binance documents for control replies. */
export class WsProtocolError extends Error {
  override readonly name = 'WsProtocolError';
  constructor(
    readonly url: string,
    readonly detail: string,
  ) {
    super(`unexpected frame from ${url}: ${detail}`);
  }
}

/** Every reconnect attempt of a channel failed; it has stopped and will not try again. */
export class WsReconnectExhaustedError extends Error {
  override readonly name = 'WsReconnectExhaustedError';
  constructor(
    readonly channel: string,
    readonly attempts: number,
    readonly lastError: string,
  ) {
    super(`${channel}: gave up after ${attempts} failed connection attempts (last: ${lastError})`);
  }
}

/** The client was closed by its owner; pending operations end with this. */
export class WsClientClosedError extends Error {
  override readonly name = 'WsClientClosedError';
  constructor(readonly client: string) {
    super(`${client} is closed`);
  }
}

/** A stream name the client refuses before sending it (empty, or with `/`, spaces or control characters). */
export class WsInvalidStreamError extends Error {
  override readonly name = 'WsInvalidStreamError';
  constructor(readonly stream: string) {
    super(`invalid stream name ${JSON.stringify(stream)}`);
  }
}

/** A short description of any thrown value, for logs and error chains. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
