// Chart candles from the exchange: a symbol it does not list (delisted, with records still shown) gets an empty chart, not a failed publishing round.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../sim/simulator.js';
import { RestClient } from '../ts/exchange/rest-client.js';
import { UsdmApi } from '../ts/exchange/usdm-api.js';
import { Logger, silentLogger } from '../ts/log/logger.js';
import { ExchangeCandles } from './exchange-candles.js';

let sim: RunningSimulator;
let rest: RestClient;
/** Every klines request sent, by symbol. */
const asked: string[] = [];
/** What the REST client logged at warn and above. */
const restWarnings: string[] = [];

beforeAll(async () => {
  sim = await startSimulator(
    {
      port: 0,
      seed: 3,
      accounts: [{ apiKey: randomBytes(16).toString('hex'), apiSecret: randomBytes(32).toString('hex') }],
      source: { kind: 'random-walk', tradesPerSecond: 20 },
    },
    { logger: silentLogger('sim') },
  );
  rest = new RestClient(
    { baseUrl: sim.restUrl },
    {
      logger: new Logger('rest', { level: 'warn', format: 'json', sink: (line) => restWarnings.push(line) }),
    },
  );
}, 30_000);

afterAll(async () => {
  rest?.close();
  await sim?.stop();
});

function candles(warnings: string[]): ExchangeCandles {
  const api = new UsdmApi(rest, { logger: silentLogger('api') });
  const counted = new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== 'klines' || typeof value !== 'function') return value;
      return (params: { symbol: string }, ...rest: unknown[]) => {
        asked.push(params.symbol);
        return (value as (...a: unknown[]) => unknown).call(target, params, ...rest);
      };
    },
  });
  const logger = new Logger('candles', {
    level: 'warn',
    format: 'json',
    sink: (line) => warnings.push(line),
  });
  return new ExchangeCandles(counted, logger);
}

describe('ExchangeCandles', () => {
  it('gives a listed symbol its candles and one the exchange does not list an empty chart, warned once and not asked again within the refresh', async () => {
    const warnings: string[] = [];
    const source = candles(warnings);
    expect((await source.candles('BTCUSDT', '1m', 0, 10)).length).toBeGreaterThan(0);
    expect(await source.candles('GONEUSDT', '1m', 0, 10)).toEqual([]);
    expect(await source.candles('GONEUSDT', '1m', 0, 10)).toEqual([]);
    expect(asked).toEqual(['BTCUSDT', 'GONEUSDT']);
    expect(warnings.map((l) => JSON.parse(l) as { msg: string; symbol: string })).toEqual([
      expect.objectContaining({
        msg: 'no candles for a symbol the exchange does not list (delisted?); its chart is empty',
        symbol: 'GONEUSDT',
      }),
    ]);
    // The refusal is this caller's answer: the REST client does not warn about it as a failure.
    expect(restWarnings).toEqual([]);
  });
});
