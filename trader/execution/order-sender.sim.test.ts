// Integration: the order sender against the simulator's 503-unknown fault places exactly one order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { DEMO_API_KEY, DEMO_API_SECRET } from '../../sim/simulator-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import { parseRestBookTickers } from '../../ts/native/parse.js';
import { OrderSender } from './order-sender.js';

const SYMBOL = 'BTCUSDT';
let sim: RunningSimulator;
let rest: RestClient;
let api: UsdmApi;
let sender: OrderSender;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, accounts: [{ apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET }] });
  rest = new RestClient(
    { baseUrl: sim.restUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, retries: { baseDelayMs: 50 } },
    { logger: silentLogger() },
  );
  api = new UsdmApi(rest, { logger: silentLogger() });
  sender = new OrderSender(api, { logger: silentLogger(), recovery: { queryDelayMs: 50 } });
});

afterAll(async () => {
  rest?.close();
  await sim?.stop();
});

describe('OrderSender against simulator faults', () => {
  it('503 unknown on a placed order: finds it by client id, places exactly one', async () => {
    const [tick] = parseRestBookTickers((await api.bookTicker({ symbol: SYMBOL })).body);
    if (tick === undefined) throw new Error('no book ticker');
    const last = Decimal.parse(tick.tick.ask);
    const qty = Decimal.fromInt(200).div(last, 3, 'up');
    const before = (await api.allOrders({ symbol: SYMBOL })).length;
    sim.faults.apply({ unknownStatusNextOrders: 1 });
    const price = last.mul(Decimal.parse('0.8')).snap(Decimal.parse('0.1'), 'down');
    const order = await sender.place({
      symbol: SYMBOL,
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: qty,
      price,
    });
    expect(order.status).toBe('NEW');
    expect(sim.faults.snapshot()).toMatchObject({ unknownStatusNextOrders: 0, served: { unknownStatus: 1 } });
    expect((await api.allOrders({ symbol: SYMBOL })).length).toBe(before + 1);
    const cancelled = await sender.cancel({ symbol: SYMBOL, origClientOrderId: order.clientOrderId });
    expect(cancelled.status).toBe('CANCELED');
  });
});
