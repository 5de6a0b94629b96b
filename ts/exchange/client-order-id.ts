// Unique client order ids: set on every order so an unknown outcome can be resolved by querying it.
import { randomBytes } from 'node:crypto';
import { InvalidRequestError } from './exchange-errors.js';

/** Binance's rule for `newClientOrderId` / `clientAlgoId`. */
export const CLIENT_ORDER_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;

/** Throws `InvalidRequestError` unless `id` follows Binance's client order id rule. */
export function checkClientOrderId(id: string, parameter = 'newClientOrderId'): string {
  if (!CLIENT_ORDER_ID_PATTERN.test(id)) {
    throw new InvalidRequestError(
      parameter,
      `${JSON.stringify(id.slice(0, 64))} must match ${CLIENT_ORDER_ID_PATTERN}`,
    );
  }
  return id;
}

/**
 * Generates ids `<prefix>-<time36>-<seq36>-<random>`: unique across processes (8 random hex
 * digits per process), ordered within one, and at most 36 characters. One id names one logical
 * order for its whole life: every resend of it carries the same id.
 */
export class ClientOrderIdGenerator {
  readonly #prefix: string;
  readonly #instance: string;
  readonly #now: () => number;
  #seq = 0;

  /** `prefix`: 1–8 characters of [A-Za-z0-9_] (kinds such as `m` for maker orders use it). */
  constructor(prefix = 'tb', now: () => number = Date.now) {
    if (!/^[A-Za-z0-9_]{1,8}$/.test(prefix)) {
      throw new InvalidRequestError('clientOrderIdPrefix', 'must be 1-8 characters of [A-Za-z0-9_]');
    }
    this.#prefix = prefix;
    this.#instance = randomBytes(4).toString('hex');
    this.#now = now;
  }

  /** A fresh id, optionally with another prefix for this order. */
  next(prefix: string = this.#prefix): string {
    this.#seq = (this.#seq + 1) % 36 ** 4;
    const id = `${prefix}-${this.#now().toString(36)}-${this.#seq.toString(36)}-${this.#instance}`;
    return checkClientOrderId(id);
  }
}
