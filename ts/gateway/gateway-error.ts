// A refused gateway request as a value: its protocol code, message and, for an exchange refusal, the exchange's answer.
import { GATEWAY_ERRORS, type GatewayErrorBody, type GatewayErrorCode } from './gateway-protocol.js';

/** A gateway request refused with a protocol error code (both sides use it: the server to answer, the client to report). */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly exchange?: { status: number; code: number; msg: string },
  ) {
    super(`${code}: ${message}`);
  }

  /** The HTTP status of the code. */
  get status(): number {
    return GATEWAY_ERRORS[this.code];
  }

  /** The answer body. */
  body(): GatewayErrorBody {
    const message = this.message.slice(this.code.length + 2);
    return this.exchange === undefined
      ? { error: this.code, message }
      : { error: this.code, message, exchange: this.exchange };
  }
}

/** The gateway could not be reached, or kept failing, within the client's bounds. */
export class GatewayUnreachableError extends Error {
  override readonly name = 'GatewayUnreachableError';
}
