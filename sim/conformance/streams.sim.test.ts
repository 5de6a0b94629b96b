// Integration: the websocket clients against the built-in simulator, including its faults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { MarketStreamClient } from '../../ts/exchange/market-stream.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { UserDataStream } from '../../ts/exchange/user-data-stream.js';
import { silentLogger } from '../../ts/log/logger.js';
import { parseMarketEvent, parseUserEvent } from '../../ts/native/parse.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';

const KEY = 'streams-sim-key';
const SECRET = 'streams-sim-secret';
let sim: RunningSimulator;
let rest: RestClient;
let api: UsdmApi;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: KEY, apiSecret: SECRET }],
    source: { kind: 'random-walk', tradesPerSecond: 100 },
  });
  rest = new RestClient({ baseUrl: sim.restUrl, apiKey: KEY, apiSecret: SECRET }, { logger: silentLogger() });
  api = new UsdmApi(rest, { logger: silentLogger() });
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  rest?.close();
  await sim?.stop();
});

const until = (check: () => boolean, what: string, timeoutMs = 10_000) =>
  waitUntil(check, what, timeoutMs, 20);

const fastReconnect = { initialMs: 20, maxMs: 200, maxAttempts: 50 };

describe('MarketStreamClient against the simulator', () => {
  it('receives the subscribed streams as raw frames the native parser reads, and recovers from dropped connections', async () => {
    const client = new MarketStreamClient({
      baseUrl: sim.wsUrl,
      route: 'market',
      logger: silentLogger(),
      backoff: fastReconnect,
    });
    closers.push(() => client.close());
    const frames: Buffer[] = [];
    client.onMessages((batch) => frames.push(...batch));
    const gaps: string[][] = [];
    client.onPossibleGap((gap) => gaps.push(gap.streams));
    await client.subscribe(['btcusdt@aggTrade', 'ethusdt@kline_1m']);
    await until(
      () => frames.some((f) => f.includes('@aggTrade')) && frames.some((f) => f.includes('@kline_1m')),
      'both streams',
    );
    for (const frame of frames.slice(0, 20)) {
      const event = parseMarketEvent(frame);
      expect(['aggTrade', 'kline']).toContain(event.kind);
    }

    // The exchange drops every websocket: the client reconnects, resubscribes, reports the gap.
    await fetch(`${sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ dropWebsockets: true }),
    });
    await until(() => gaps.length > 0, 'a gap report');
    expect(gaps[0]).toEqual(expect.arrayContaining(['btcusdt@aggTrade', 'ethusdt@kline_1m']));
    const before = frames.length;
    await until(() => frames.length > before + 5, 'frames after the reconnect');
    expect(client.status().reconnects).toBeGreaterThanOrEqual(1);
    expect(await client.listSubscriptions()).toEqual(['btcusdt@aggTrade', 'ethusdt@kline_1m']);
  });

  it('gets book tickers on /public only', async () => {
    const pub = new MarketStreamClient({ baseUrl: sim.wsUrl, route: 'public', logger: silentLogger() });
    closers.push(() => pub.close());
    const frames: Buffer[] = [];
    pub.onMessages((batch) => frames.push(...batch));
    await pub.subscribe(['btcusdt@bookTicker']);
    await until(() => frames.length > 3, 'book tickers');
    expect(parseMarketEvent(frames[0] ?? Buffer.alloc(0)).kind).toBe('bookTicker');
  });
});

describe('UserDataStream against the simulator', () => {
  it('delivers order events, and gets a new listen key after the exchange expires the old one', async () => {
    const stream = new UserDataStream({
      api,
      baseUrl: sim.wsUrl,
      logger: silentLogger(),
      backoff: fastReconnect,
    });
    closers.push(() => stream.close());
    const events: Buffer[] = [];
    stream.onMessages((batch) => events.push(...batch));
    const gaps: boolean[] = [];
    stream.onPossibleGap((gap) => gaps.push(gap.newListenKey));
    await stream.start();

    await api.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: Decimal.parse('0.002') });
    await until(() => events.some((e) => e.includes('ORDER_TRADE_UPDATE')), 'ORDER_TRADE_UPDATE');
    await until(() => events.some((e) => e.includes('ACCOUNT_UPDATE')), 'ACCOUNT_UPDATE');
    const update = parseUserEvent(events.find((e) => e.includes('ACCOUNT_UPDATE')) ?? Buffer.alloc(0));
    expect(update.kind).toBe('accountUpdate');

    await fetch(`${sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ expireListenKeys: true }),
    });
    await until(() => gaps.length > 0, 'a reconnect on a new listen key');
    expect(gaps[0]).toBe(true);
    expect(stream.status().listenKeysCreated).toBeGreaterThanOrEqual(2);
    const seen = events.length;
    await api.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: Decimal.parse('0.002') });
    await until(
      () => events.slice(seen).some((e) => e.includes('ORDER_TRADE_UPDATE')),
      'events on the new key',
    );
  });

  it('closing one stream leaves the others of the account running: the account has one listenKey, which nobody deletes', async () => {
    // Two collectors of one account (redundant hosts, or another program during a migration) are
    // handed the same key; a DELETE from the one that stops would close the other's socket.
    const streams = [0, 1].map(
      () => new UserDataStream({ api, baseUrl: sim.wsUrl, logger: silentLogger(), backoff: fastReconnect }),
    );
    const [leaving, staying] = streams as [UserDataStream, UserDataStream];
    closers.push(() => staying.close());
    const events: Buffer[] = [];
    staying.onMessages((batch) => events.push(...batch));
    const gaps: unknown[] = [];
    staying.onPossibleGap((gap) => gaps.push(gap));
    await leaving.start();
    await staying.start();
    expect(staying.status().listenKeysCreated).toBe(1);

    await leaving.close();
    await api.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: Decimal.parse('0.002') });
    await until(
      () => events.some((e) => e.includes('ORDER_TRADE_UPDATE')),
      'the order on the staying stream',
    );
    expect(gaps).toEqual([]);
    expect(staying.status()).toMatchObject({ listenKeysCreated: 1, reconnects: 0 });
    await api.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: Decimal.parse('0.002') });
  });
});
