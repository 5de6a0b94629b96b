// TEST ONLY: drives an ExchangeEngine through its endpoints and records its user events.

import { silentLogger } from '../../../ts/log/logger.js';
import { type Json, type Params, SimRejection } from '../../contracts.js';
import { type AccountConfig, ExchangeEngine } from '../exchange-engine.js';
import { ManualClock, ScriptedMarket, testSpec } from './scripted-market.js';

/** 2024-01-01T01:00:00Z: one hour after a funding time. */
export const T0 = 1_704_070_800_000;

/** An engine over a scripted market, with helpers to call endpoints as an account. */
export class EngineHarness {
  readonly clock: ManualClock;
  readonly market: ScriptedMarket;
  readonly engine: ExchangeEngine;
  readonly events: Array<{ accountId: string; event: Json }> = [];

  constructor(
    accounts: readonly AccountConfig[] = [{ apiKey: 'key-1', apiSecret: 'secret-1' }],
    specs = [testSpec()],
    idOffset = 0,
  ) {
    this.clock = new ManualClock(T0);
    this.market = new ScriptedMarket(specs, this.clock);
    this.engine = new ExchangeEngine({
      market: this.market,
      clock: this.clock,
      accounts,
      idOffset,
      logger: silentLogger(),
    });
    this.engine.onUserEvent((accountId, event) => this.events.push({ accountId, event }));
  }

  /** Calls an endpoint as `account` (default the first) and returns its JSON. */
  call(method: string, path: string, params: Params = {}, account = 'account-1'): Json {
    const endpoint = this.engine.endpoints().find((e) => e.method === method && e.path === path);
    if (endpoint === undefined) throw new Error(`no endpoint ${method} ${path}`);
    return endpoint.handle({ params, accountId: account, now: this.clock.now() });
  }

  /** The Binance code of the rejection an endpoint call raises (fails when it succeeds). */
  code(method: string, path: string, params: Params = {}, account = 'account-1'): number {
    try {
      this.call(method, path, params, account);
    } catch (error) {
      if (error instanceof SimRejection) return error.code;
      throw error;
    }
    throw new Error(`${method} ${path} succeeded but a rejection was expected`);
  }

  /** Events of one type (`e`), in order, and clears nothing. */
  eventsOf(type: string, account = 'account-1'): Array<Record<string, Json>> {
    return this.events
      .filter((e) => e.accountId === account && isObject(e.event) && e.event.e === type)
      .map((e) => e.event as Record<string, Json>);
  }

  clearEvents(): void {
    this.events.length = 0;
  }
}

export function isObject(value: Json): value is { readonly [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field of a JSON object (fails the test on a wrong shape). */
export function field(value: Json | undefined, key: string): Json {
  if (value === undefined || !isObject(value)) throw new Error(`not an object: ${JSON.stringify(value)}`);
  const v = value[key];
  if (v === undefined) throw new Error(`missing field ${key} in ${JSON.stringify(value)}`);
  return v;
}

/** Element of a JSON array. */
export function at(value: Json, index: number): Json {
  if (!Array.isArray(value)) throw new Error(`not an array: ${JSON.stringify(value)}`);
  const v = (value as readonly Json[])[index];
  if (v === undefined) throw new Error(`no element ${index}`);
  return v;
}

export function bytes(value: Json): Buffer {
  return Buffer.from(JSON.stringify(value));
}
