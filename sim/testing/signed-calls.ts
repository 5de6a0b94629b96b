// A simulator with one funded account and raw signed HTTP calls on it, for tests of the exact answers (status, code, bytes).
import { signedQuery } from '../server/request-signature.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';

/** One answer as the wire carried it. */
export interface SignedReply {
  readonly status: number;
  readonly text: string;
  readonly body: unknown;
  /** Binance's error code, when the body is `{ code, msg }`. */
  readonly code: number | undefined;
}

/** A running simulator and signed requests as its one account. */
export interface SignedSim {
  readonly sim: RunningSimulator;
  call(method: string, path: string, params?: Record<string, string>): Promise<SignedReply>;
  stop(): Promise<void>;
}

const KEY = 'signed-calls-key';
const SECRET = 'signed-calls-secret';

/**
 * Starts a simulator of `symbols` (seeded `seed`) with one account of ten million USDT and limits
 * no test reaches; `call` signs with the simulator's own clock, so a skew moves both.
 */
export async function startSignedSim(seed: number, symbols: readonly string[]): Promise<SignedSim> {
  const sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: KEY, apiSecret: SECRET, balances: { USDT: '10000000' } }],
    symbols: [...symbols],
    seed,
    limits: { ordersPer10s: 100_000, ordersPerMinute: 100_000, requestWeightPerMinute: 1_000_000 },
  });
  return {
    sim,
    call: async (method, path, params = {}) => {
      const query = signedQuery(SECRET, { ...params, timestamp: sim.clock.now() });
      const response = await fetch(`${sim.restUrl}${path}?${query}`, {
        method,
        headers: { 'X-MBX-APIKEY': KEY },
      });
      const text = await response.text();
      const body: unknown = JSON.parse(text);
      const code = (body as { code?: unknown } | null)?.code;
      return { status: response.status, text, body, code: typeof code === 'number' ? code : undefined };
    },
    stop: () => sim.stop(),
  };
}
