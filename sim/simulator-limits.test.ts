// The simulator states the limits it enforces in exchangeInfo, and counts the 429s and 418s it answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './simulator.js';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: 'limits-key', apiSecret: 'limits-secret' }],
    symbols: ['BTCUSDT'],
    seed: 3,
    limits: {
      requestWeightPerMinute: 40,
      ordersPer10s: 7,
      ordersPerMinute: 30,
      requestsWhileLimitedBeforeBan: 3,
    },
  });
});

afterAll(async () => {
  await sim?.stop();
});

describe('simulator limits', () => {
  it("states its configured limits in exchangeInfo's rateLimits", async () => {
    const info = (await (await fetch(`${sim.restUrl}/fapi/v1/exchangeInfo`)).json()) as {
      rateLimits: { rateLimitType: string; interval: string; intervalNum: number; limit: number }[];
    };
    expect(info.rateLimits).toEqual([
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 40 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 30 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 7 },
    ]);
  });

  it('counts the requests it refused with 429 and 418', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await fetch(`${sim.restUrl}/fapi/v1/time`)).status);
    const limited = statuses.filter((s) => s === 429).length;
    const banned = statuses.filter((s) => s === 418).length;
    expect(limited + banned).toBeGreaterThan(0);
    expect(sim.server.counters).toMatchObject({ rateLimited: limited, banned });
  });
});
