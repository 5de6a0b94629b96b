// The `/_sim/` admin API: health, and reading or injecting faults over HTTP.

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
}

function answer(status: number, body: Json): AdminAnswer {
  return { status, body: JSON.stringify(body) };
}

/**
 * `GET /_sim/health` → server state; `GET /_sim/faults` → standing faults; `POST /_sim/faults` with a
 * JSON `FaultSpec` body → applies it and answers the new state; `DELETE /_sim/faults` → clears them.
 * Errors use Binance's shape (`{"code":-1130,"msg":"faults.latencyMs must be ..."}`).
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
      default:
        return answer(404, {
          code: -5000,
          msg: `Path ${path.slice(0, 200)}, Method ${method.slice(0, 16)} is invalid`,
        });
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
