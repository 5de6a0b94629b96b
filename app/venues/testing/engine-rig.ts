// An exchange engine on a driven market at a virtual time, with its first account as a venue: the setup of engine-venue tests.
import { ExchangeEngine } from '../../../sim/engine/exchange-engine.js';
import { DEFAULT_SYMBOLS } from '../../../sim/symbols.js';
import { VirtualClock } from '../../../trader/engine/engine-clock.js';
import { silentLogger } from '../../../ts/log/logger.js';
import { DrivenMarket } from '../driven-market.js';
import { EngineVenue } from '../engine-venue.js';

/** The parts of {@link engineRig}. */
export interface EngineRig {
  readonly clock: VirtualClock;
  readonly market: DrivenMarket;
  readonly engine: ExchangeEngine;
  /** The engine's `account-1` (API key `k`) as a venue on the clock. */
  readonly venue: EngineVenue;
}

/** The built-in symbols' engine at `t0`, BTCUSDT's last trade at 100,000, one account. */
export function engineRig(t0: number): EngineRig {
  const clock = new VirtualClock(t0);
  const market = new DrivenMarket(DEFAULT_SYMBOLS, t0);
  market.setLastTrade('BTCUSDT', '100000.00', true, t0);
  const engine = new ExchangeEngine({
    market,
    clock,
    accounts: [{ apiKey: 'k', apiSecret: 's' }],
    logger: silentLogger('sim'),
  });
  return { clock, market, engine, venue: new EngineVenue(engine, 'account-1', () => clock.now()) };
}
