// The `/_sim/` admin API: health, and reading or injecting faults over HTTP.

import { Decimal } from '../../ts/exact/decimal.js';
import type { Logger } from '../../ts/log/logger.js';
import type { Json } from '../contracts.js';
import { type FaultInjector, FaultSpecError, parseFaultSpec } from './faults.js';

/** An admin answer: status and JSON text. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: string;
}

export interface AdminApiOptions {
  readonly faults: FaultInjector;
  readonly health: () => Json;
  readonly logger: Logger;
  /** Moves a symbol's price (`POST /_sim/market`); returns the price used, throws on an unknown symbol. */
  readonly movePrice?: (symbol: string, price: Decimal) => Decimal;
}

function answer(status: number, body: Json): AdminAnswer {
  return { status, body: JSON.stringify(body) };
}

/**
 * `GET /_sim/health` → server state; `GET /_sim/faults` → standing faults; `POST /_sim/faults` with a
 * JSON `FaultSpec` body → applies it and answers the new state; `DELETE /_sim/faults` → clears them;
 * `POST /_sim/market` with `{"symbol":"BTCUSDT","price":"93000"}` → the symbol's price jumps there
 * (tests of stops and force-closes) and the answer is `{symbol, price}`. Errors use Binance's shape (`{"code":-1130,"msg":"faults.latencyMs must be ..."}`).
 */
export class AdminApi {
  readonly #options: AdminApiOptions;

  constructor(options: AdminApiOptions) {
    this.#options = options;
  }

  handle(method: string, path: string, body: string): AdminAnswer {
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /_sim/health':
        return answer(200, this.#options.health());
      case 'GET /_sim/faults':
        return answer(200, this.#options.faults.snapshot());
      case 'DELETE /_sim/faults':
        this.#options.faults.apply({ reset: true });
        this.#options.logger.info('faults cleared');
        return answer(200, this.#options.faults.snapshot());
      case 'POST /_sim/faults':
        return this.#postFaults(body);
      case 'POST /_sim/market':
        if (this.#options.movePrice !== undefined) return this.#postMarket(body, this.#options.movePrice);
        break;
    }
    return answer(404, {
      code: -5000,
      msg: `Path ${path.slice(0, 200)}, Method ${method.slice(0, 16)} is invalid`,
    });
  }

  #postMarket(body: string, movePrice: (symbol: string, price: Decimal) => Decimal): AdminAnswer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return answer(400, { code: -1130, msg: `market body is not JSON: ${(error as Error).message}` });
    }
    const request = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const { symbol, price } = request;
    if (typeof symbol !== 'string' || !/^[A-Z0-9_]{1,32}$/.test(symbol))
      return answer(400, { code: -1121, msg: 'market.symbol must be a symbol name' });
    const exact = typeof price === 'string' ? Decimal.tryParse(price) : undefined;
    if (exact === undefined || exact.sign() <= 0)
      return answer(400, { code: -1130, msg: 'market.price must be a positive decimal written as a string' });
    try {
      const moved = movePrice(symbol, exact);
      this.#options.logger.info('price moved', { symbol, price: moved.toString() });
      return answer(200, { symbol, price: moved.toString() });
    } catch (error) {
      this.#options.logger.info('market request refused', { error: (error as Error).message });
      return answer(400, { code: -1121, msg: (error as Error).message });
    }
  }

  #postFaults(body: string): AdminAnswer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return answer(400, { code: -1130, msg: `faults body is not JSON: ${(error as Error).message}` });
    }
    try {
      const spec = parseFaultSpec(parsed);
      this.#options.faults.apply(spec);
      this.#options.logger.info('faults applied', { spec: JSON.stringify(spec) });
      return answer(200, this.#options.faults.snapshot());
    } catch (error) {
      if (error instanceof FaultSpecError) {
        this.#options.logger.info('fault request refused', { error: error.message });
        return answer(400, { code: -1130, msg: error.message });
      }
      throw error;
    }
  }
}
