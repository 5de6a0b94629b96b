// Tests of MarketStreamClient against a scripted loopback websocket server.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { recordingLogger } from '../log/testing/recording-logger.js';
import { parseMarketEvents } from '../native/parse.js';
import { stall } from '../testing/stall.js';
import { MarketStreamClient, type MarketStreamClientOptions, type MarketStreamGap } from './market-stream.js';
import { ScriptedServer, type ScriptedServerOptions, waitUntil } from './testing/ws-scripted-server.js';
import { isControlReply } from './ws-connection.js';
import { WsClientClosedError, WsControlError, WsInvalidStreamError } from './ws-errors.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(
  serverOptions: ScriptedServerOptions = {},
  clientOptions: Partial<MarketStreamClientOptions> = {},
): Promise<{ server: ScriptedServer; client: MarketStreamClient; batches: Buffer[][] }> {
  const server = await ScriptedServer.start(serverOptions);
  cleanup.push(() => server.close());
  const client = new MarketStreamClient({
    baseUrl: server.url,
    route: 'market',
    logger: silentLogger(),
    backoff: { initialDelayMs: 20, maxDelayMs: 200, jitter: 0 },
    controlMessagesPerSecond: 9,
    ...clientOptions,
  });
  cleanup.push(() => client.close());
  const batches: Buffer[][] = [];
  client.onMessages((messages) => batches.push(messages));
  return { server, client, batches };
}

/** Publishes `{e:'seq', n}` on `seq@test`, three numbers every 2 ms, until the returned stop is called. */
function publishNumbers(server: ScriptedServer): { stop: () => number } {
  let n = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < 3; k++) server.publish('seq@test', { e: 'seq', n: n++ });
  }, 2);
  return {
    stop: () => {
      clearInterval(timer);
      return n - 1;
    },
  };
}

/** Waits for number `last`, then requires every number from the first delivered to `last`, once each and in order. */
async function expectEachNumberOnce(batches: Buffer[][], last: number): Promise<void> {
  await waitUntil(() => batches.flat().some((b) => b.toString().includes(`"n":${last}}`)), 'last number');
  const seen = batches.flat().map((b) => (JSON.parse(b.toString()) as { data: { n: number } }).data.n);
  const first = seen[0] ?? 0;
  expect(seen).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
}

const names = (n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `sym${from + i}usdt@aggTrade`);

describe('isControlReply', () => {
  it('recognises replies by their first key and nothing else', () => {
    expect(isControlReply(Buffer.from('{"result":null,"id":1}'))).toBe(true);
    expect(isControlReply(Buffer.from(' { "id":3,"result":["a"]}'))).toBe(true);
    expect(isControlReply(Buffer.from('{"error":{"code":2,"msg":"x"},"id":4}'))).toBe(true);
    expect(isControlReply(Buffer.from('{"code":1,"msg":"Invalid value type"}'))).toBe(true);
    expect(isControlReply(Buffer.from('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","id":1}}'))).toBe(
      false,
    );
    expect(isControlReply(Buffer.from('{"e":"ORDER_TRADE_UPDATE","E":1}'))).toBe(false);
    expect(isControlReply(Buffer.from('{"ids":1}'))).toBe(false);
    expect(isControlReply(Buffer.from('[1,2]'))).toBe(false);
    expect(isControlReply(Buffer.from(''))).toBe(false);
  });
});

describe('MarketStreamClient', () => {
  it('subscribes on /<route>/stream, lists, unsubscribes, and types refusals', async () => {
    const { server, client } = await setup({ refuse: (params) => params.includes('bad@stream') });
    await client.subscribe(['btcusdt@aggTrade', 'ethusdt@aggTrade', 'btcusdt@kline_1m']);
    expect(server.connections).toHaveLength(1);
    const conn = server.connections[0];
    expect(conn?.path).toBe('/market/stream');
    expect(conn?.control[0]).toMatchObject({
      method: 'SUBSCRIBE',
      params: ['btcusdt@aggTrade', 'ethusdt@aggTrade', 'btcusdt@kline_1m'],
    });
    expect(await client.listSubscriptions()).toEqual([
      'btcusdt@aggTrade',
      'btcusdt@kline_1m',
      'ethusdt@aggTrade',
    ]);

    await client.unsubscribe(['ethusdt@aggTrade']);
    expect(conn?.control.at(-1)).toMatchObject({ method: 'UNSUBSCRIBE', params: ['ethusdt@aggTrade'] });
    expect(client.streams()).toEqual(['btcusdt@aggTrade', 'btcusdt@kline_1m']);
    expect([...(conn?.streams ?? [])].sort()).toEqual(['btcusdt@aggTrade', 'btcusdt@kline_1m']);

    const refused = client.subscribe(['bad@stream']);
    await expect(refused).rejects.toBeInstanceOf(WsControlError);
    await expect(refused).rejects.toMatchObject({ code: 2, method: 'SUBSCRIBE' });
    expect(client.streams()).toEqual(['btcusdt@aggTrade', 'btcusdt@kline_1m']);
    expect(client.status().refusedStreams).toBe(1);
    await expect(client.subscribe(['has space'])).rejects.toBeInstanceOf(WsInvalidStreamError);
    // Subscribing again what is already live resolves without a message.
    const sent = conn?.control.length;
    await client.subscribe(['btcusdt@aggTrade']);
    expect(conn?.control.length).toBe(sent);
  });

  it('spreads more than maxStreamsPerConnection over several connections and closes emptied ones', async () => {
    const { server, client } = await setup({}, { maxStreamsPerConnection: 200 });
    await client.subscribe(names(450));
    expect(server.connections).toHaveLength(3);
    expect(server.connections.map((c) => c.streams.size)).toEqual([200, 200, 50]);
    await client.subscribe(names(10, 450));
    expect(server.connections).toHaveLength(3);
    expect(server.connections[2]?.streams.size).toBe(60);
    const status = client.status();
    expect(status.streams).toBe(460);
    expect(status.connections.map((c) => c.streams)).toEqual([200, 200, 60]);

    await client.unsubscribe(names(60, 400));
    await waitUntil(() => server.connections[2]?.closed === true, 'emptied connection to close');
    expect(client.status().connections).toHaveLength(2);
    // Freed room on the first connection is filled before a new one is opened.
    await client.unsubscribe(names(5));
    await client.subscribe(names(5, 1000));
    expect(server.open()).toHaveLength(2);
    expect(server.connections[0]?.streams.has('sym1000usdt@aggTrade')).toBe(true);
  });

  it('rate-limits control messages per connection and batches queued params', async () => {
    const { server, client } = await setup({}, { controlMessagesPerSecond: 8, maxParamsPerMessage: 5 });
    await client.subscribe(['a@aggTrade']);
    // 12 separate calls in one turn: queued, merged into messages of at most 5 names, paced at 8/s.
    await Promise.all(names(12).map((s) => client.subscribe([s])));
    const conn = server.connections[0];
    const subs = conn?.control.filter((c) => c.method === 'SUBSCRIBE') ?? [];
    expect(subs.map((c) => c.params.length)).toEqual([1, 5, 5, 2]);
    for (let i = 1; i < subs.length; i++) {
      const gap = (subs[i]?.at ?? 0) - (subs[i - 1]?.at ?? 0);
      expect(gap).toBeGreaterThanOrEqual(1000 / 8 - 5);
    }
    // A burst of 25 more single calls never trips the server's 10-per-second rule.
    await Promise.all(names(25, 100).map((s) => client.subscribe([s])));
    expect(server.rateViolations).toEqual([]);
    expect(conn?.closed).toBe(false);
    expect(conn?.streams.size).toBe(38);
  });

  it('reconnectAll replaces every live connection that stays open but silent: resubscribed, the gap reported with the reason', async () => {
    const { server, client } = await setup({}, { maxStreamsPerConnection: 2 });
    const gaps: MarketStreamGap[] = [];
    client.onPossibleGap((gap) => gaps.push(gap));
    await client.subscribe(names(4));
    expect(server.open()).toHaveLength(2);
    expect(client.reconnectAll('silent for 10000 ms')).toBe(2);
    await waitUntil(
      () => server.open().length === 2 && server.open().every((c) => c.streams.size === 2 && c.index >= 2),
      'both slots reconnected and resubscribed',
    );
    await waitUntil(() => gaps.length === 2, 'a gap per slot');
    expect(gaps.map((g) => g.reason)).toEqual(['silent for 10000 ms', 'silent for 10000 ms']);
    expect(gaps.flatMap((g) => g.streams).sort()).toEqual(names(4).sort());
    expect(client.status().reconnects).toBe(2);
    await client.close();
    expect(client.reconnectAll('closed')).toBe(0);
  });

  it('reconnectSlot replaces only that slot’s connection: the others stay, its gap names only its streams; slotActivity shows each slot’s last frame', async () => {
    const { server, client, batches } = await setup({}, { maxStreamsPerConnection: 2 });
    const gaps: MarketStreamGap[] = [];
    client.onPossibleGap((gap) => gaps.push(gap));
    await client.subscribe(names(6));
    expect(server.open()).toHaveLength(3);
    const before = client.slotActivity();
    expect(before.map((s) => [s.slot, s.state, s.streams, s.lastFrameAt])).toEqual([
      [1, 'live', 2, null],
      [2, 'live', 2, null],
      [3, 'live', 2, null],
    ]);
    const sent = Date.now();
    server.publish('sym2usdt@aggTrade', { e: 'aggTrade', a: 1 });
    await waitUntil(() => batches.length > 0, 'the frame delivered');
    const [one, two, three] = client.slotActivity();
    expect(one?.lastFrameAt).toBeNull();
    expect(two?.lastFrameAt).toBeGreaterThanOrEqual(sent);
    expect(three?.lastFrameAt).toBeNull();

    const slot = client.slotOf('sym2usdt@aggTrade') ?? -1;
    expect(slot).toBe(2);
    const [first, second, third] = server.connections;
    expect(client.reconnectSlot(slot, 'connection silent for 30000 ms')).toBe(true);
    await waitUntil(
      () => server.open().length === 3 && server.open().some((c) => c.index === 3 && c.streams.size === 2),
      'the slot reconnected and resubscribed',
    );
    await waitUntil(() => gaps.length === 1, 'its gap reported');
    expect(gaps[0]).toMatchObject({ slot: 2, reason: 'connection silent for 30000 ms' });
    expect(gaps[0]?.streams.sort()).toEqual(['sym2usdt@aggTrade', 'sym3usdt@aggTrade']);
    expect(second?.closed).toBe(true);
    expect(first?.closed).toBe(false);
    expect(third?.closed).toBe(false);
    expect(client.status().reconnects).toBe(1);
    expect(client.status().connections.map((c) => c.reconnects)).toEqual([0, 1, 0]);
    // The last frame is the slot's, kept across its reconnect (a silence goes on counting).
    expect(client.slotActivity()[1]?.lastFrameAt).toBe(two?.lastFrameAt);

    expect(client.reconnectSlot(99, 'no such slot')).toBe(false);
    await client.close();
    expect(client.reconnectSlot(1, 'closed')).toBe(false);
  });

  it('reconnects with growing backoff, resubscribes everything and reports the gap', async () => {
    const { server, client, batches } = await setup();
    const gaps: MarketStreamGap[] = [];
    client.onPossibleGap((gap) => gaps.push(gap));
    await client.subscribe(['btcusdt@aggTrade', 'ethusdt@aggTrade']);
    server.publish('btcusdt@aggTrade', { n: 1 });
    await waitUntil(() => batches.flat().length === 1, 'first frame');

    server.options.rejectHandshakes = 3;
    const before = server.handshakeAttempts.length;
    server.connections[0]?.socket.terminate();
    await waitUntil(() => server.connections[1]?.streams.size === 2, 'resubscribed');
    expect(server.open()).toHaveLength(1);
    const attempts = server.handshakeAttempts.slice(before);
    expect(attempts).toHaveLength(4); // 3 refused + 1 accepted
    const waits = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
    // jitter 0: 40, 80, 160 ms after the refusals (20 ms before the first attempt)
    expect(waits[0]).toBeGreaterThanOrEqual(35);
    expect(waits[1]).toBeGreaterThanOrEqual(75);
    expect(waits[2]).toBeGreaterThanOrEqual(155);
    expect(server.open()[0]?.control[0]).toMatchObject({ method: 'SUBSCRIBE' });
    expect([...(server.open()[0]?.streams ?? [])].sort()).toEqual(['btcusdt@aggTrade', 'ethusdt@aggTrade']);

    await waitUntil(() => gaps.length === 1, 'gap report');
    expect(gaps[0]?.streams.sort()).toEqual(['btcusdt@aggTrade', 'ethusdt@aggTrade']);
    expect(gaps[0]?.lastFrameAt).not.toBeNull();
    expect(gaps[0]?.restoredAt).toBeGreaterThanOrEqual(gaps[0]?.lostAt ?? Infinity);
    const status = client.status();
    expect(status.reconnects).toBe(1);
    expect(status.connections[0]?.failedAttempts).toBe(3);

    server.publish('ethusdt@aggTrade', { n: 2 });
    await waitUntil(() => batches.flat().length === 2, 'frame after reconnect');
  });

  it('treats an unanswered SUBSCRIBE as a broken connection and retries until it is acknowledged', async () => {
    const { server, client } = await setup({ ignoreControl: true }, { controlTimeoutMs: 40 });
    const subscribed = client.subscribe(['btcusdt@aggTrade']);
    await waitUntil(
      () => (client.status().connections[0]?.failedAttempts ?? 0) >= 2,
      'two timed-out attempts',
    );
    server.options.ignoreControl = false;
    await subscribed;
    expect(server.open().at(-1)?.streams.has('btcusdt@aggTrade')).toBe(true);
    expect(server.connections.slice(0, -1).every((c) => c.closed)).toBe(true);
  });

  it('gives up after maxAttempts and reports the failure', async () => {
    const { server, client } = await setup(
      {},
      { backoff: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 } },
    );
    await client.subscribe(['btcusdt@aggTrade']);
    const failures: string[][] = [];
    client.onFailure((f) => failures.push(f.streams));
    server.options.rejectHandshakes = 100;
    server.connections[0]?.socket.terminate();
    await waitUntil(() => failures.length === 1, 'failure report');
    expect(failures[0]).toEqual(['btcusdt@aggTrade']);
    expect(client.status()).toMatchObject({ failedSlots: 1, streams: 0 });
  });

  it('rotates make-before-break: every numbered message exactly once', async () => {
    // Connections alternate between no lag and 15 ms lag, so the new one is sometimes behind and
    // sometimes ahead of the old one.
    const { server, client, batches } = await setup(
      { lagFor: (i) => (i % 2) * 15 },
      { maxConnectionAgeMs: 250, rotationOverlapMs: 60 },
    );
    await client.subscribe(['seq@test']);
    const numbers = publishNumbers(server);
    await waitUntil(() => client.status().rotations >= 3, 'three rotations', 5_000);
    await expectEachNumberOnce(batches, numbers.stop());
    const status = client.status();
    expect(status.reconnects).toBe(0);
    expect(status.duplicatesDropped).toBeGreaterThan(0);
    // Replaced connections are closed (the newest two may be mid-rotation).
    expect(server.connections.slice(0, -2).every((c) => c.closed)).toBe(true);
  });

  it('a stall longer than the dedup window right after a rotation repeats no message', async () => {
    // The new connection lags 15 ms, so at the switch its copies of the last old frames are still in
    // flight. The event loop then blocks for twice the dedup window: when it wakes, the window's
    // timer has expired while those copies wait unread in the socket.
    const { logger, lines } = recordingLogger();
    const { server, client, batches } = await setup(
      { lagFor: (i) => (i % 2) * 15 },
      { rotationOverlapMs: 60, logger },
    );
    await client.subscribe(['seq@test']);
    const numbers = publishNumbers(server);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await client.rotateAll();
    stall(120);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await expectEachNumberOnce(batches, numbers.stop());
    expect(client.status()).toMatchObject({ rotations: 1, reconnects: 0 });
    expect(client.status().duplicatesDropped).toBeGreaterThan(0);
    const extended = lines.filter((l) => l.msg.startsWith('event loop stalled in a rotation dedup window'));
    expect(extended.length).toBeGreaterThanOrEqual(1);
    expect(extended[0]?.fields.lateMs).toBeGreaterThanOrEqual(50);
  });

  it('answers server pings with pongs, pings an idle server and stays connected', async () => {
    const { server, client } = await setup({}, { idlePingMs: 30, deadAfterMs: 250 });
    await client.subscribe(['btcusdt@aggTrade']);
    const conn = server.connections[0];
    conn?.socket.ping();
    await waitUntil(() => (conn?.pongs ?? 0) >= 1, 'pong from the client');
    await new Promise((resolve) => setTimeout(resolve, 400)); // silent server, answering pings
    expect(client.status().reconnects).toBe(0);
    expect(client.status().connections[0]?.state).toBe('live');
    expect(server.connections).toHaveLength(1);
  });

  it('drops a silent connection that answers no ping and reconnects; server pings keep it alive', async () => {
    const { server, client } = await setup({ autoPong: false }, { idlePingMs: 20, deadAfterMs: 200 });
    await client.subscribe(['btcusdt@aggTrade']);
    // Pings from the server count as life.
    const pinger = setInterval(() => server.open()[0]?.socket.ping(), 30);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(client.status().reconnects).toBe(0);
    clearInterval(pinger);
    await waitUntil(() => client.status().reconnects >= 1, 'dead connection dropped');
    await waitUntil(() => server.connections[1]?.streams.size === 1, 'resubscribed');
    expect(server.connections.length).toBeGreaterThanOrEqual(2);
  });

  it('delivers raw bytes in per-turn batches and never the control replies', async () => {
    const { server, client, batches } = await setup();
    const times: number[] = [];
    client.onMessages((_m, receivedAt) => times.push(receivedAt));
    await client.subscribe(['btcusdt@bookTicker']);
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const data = { e: 'bookTicker', u: i, s: 'BTCUSDT', b: '100.10', B: '1.000', a: '100.20', A: '2.000' };
      sent.push(JSON.stringify({ stream: 'btcusdt@bookTicker', data }));
      server.publish('btcusdt@bookTicker', data);
    }
    await waitUntil(() => batches.flat().length === 200, 'all frames');
    expect(batches.length).toBeLessThan(200);
    expect(batches.length).toBeGreaterThanOrEqual(1);
    for (const b of batches.flat()) expect(Buffer.isBuffer(b)).toBe(true);
    expect(batches.flat().map((b) => b.toString('utf8'))).toEqual(sent);
    expect(times.every((t) => typeof t === 'number' && t > 0)).toBe(true);
    // A throwing consumer is counted; the others still get every batch.
    client.onMessages(() => {
      throw new Error('consumer bug');
    });
    server.publish('btcusdt@bookTicker', { u: 999 });
    await waitUntil(() => batches.flat().length === 201, 'frame after a throwing handler');
    expect(client.status().handlerErrors).toBe(1);
    expect(client.status().messages).toBe(201);
  });

  it('hands batches straight to the native parser (one call per batch, envelopes included)', async () => {
    const { server, client } = await setup();
    const parsed: { events: number; failures: number; calls: number } = { events: 0, failures: 0, calls: 0 };
    client.onMessages((messages) => {
      const { events, failures } = parseMarketEvents(messages);
      parsed.calls += 1;
      parsed.events += events.length;
      parsed.failures += failures.length;
    });
    await client.subscribe(['ctkusdt@aggTrade']);
    for (let i = 0; i < 20; i++) {
      server.publish('ctkusdt@aggTrade', {
        e: 'aggTrade',
        E: 1626992741575 + i,
        a: 16599292 + i,
        s: 'CTKUSDT',
        p: '1.01100',
        q: '10',
        f: 23961322 + i,
        l: 23961322 + i,
        T: 1626992741421 + i,
        m: false,
      });
    }
    server.publish('ctkusdt@aggTrade', { e: 'aggTrade', s: 'CTKUSDT' }); // malformed: counted by the parser
    await waitUntil(() => parsed.events + parsed.failures === 21, 'parsed events');
    expect(parsed).toMatchObject({ events: 20, failures: 1 });
    expect(parsed.calls).toBeLessThan(21);
  });

  it('close() closes every connection and rejects later calls', async () => {
    const { server, client } = await setup();
    await client.subscribe(names(3));
    const pending = expect(client.subscribe(['late@aggTrade'])).rejects.toBeInstanceOf(WsClientClosedError);
    await client.close();
    await pending;
    await waitUntil(() => server.open().length === 0, 'server sees the close');
    await expect(client.subscribe(['x@aggTrade'])).rejects.toBeInstanceOf(WsClientClosedError);
    expect(client.status().closed).toBe(true);
  });
});
