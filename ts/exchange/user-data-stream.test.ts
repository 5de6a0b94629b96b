// Tests of UserDataStream (listenKey lifecycle, reconnects, rotation) against a scripted loopback server.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { ScriptedServer, type ScriptedServerOptions, waitUntil } from './testing/ws-scripted-server.js';
import {
  isListenKeyMissingError,
  type ListenKeyApi,
  UserDataStream,
  type UserDataStreamOptions,
  type UserStreamGap,
} from './user-data-stream.js';
import { WsReconnectExhaustedError } from './ws-errors.js';

/** A Binance-like REST error as the REST client throws it (only `code` matters here). */
class FakeRestError extends Error {
  override readonly name = 'FakeRestError';
  constructor(readonly code: number) {
    super(`code ${code}`);
  }
}

/** Test double of the listenKey endpoints: records calls, hands out K1, K2, ... on demand. */
class ListenKeys implements ListenKeyApi {
  readonly created: string[] = [];
  readonly keepAlives: { key: string; at: number }[] = [];
  current = 'K1';
  next = 1;
  createFails = 0;
  keepAliveError: Error | undefined;

  /** Invalidates the key so the next create returns a new one. */
  expire(): void {
    this.next += 1;
    this.current = `K${this.next}`;
  }

  createListenKey(): Promise<string> {
    if (this.createFails > 0) {
      this.createFails -= 1;
      return Promise.reject(new FakeRestError(-1001));
    }
    this.created.push(this.current);
    return Promise.resolve(this.current);
  }
  keepAliveListenKey(key: string): Promise<void> {
    this.keepAlives.push({ key, at: Date.now() });
    return this.keepAliveError === undefined ? Promise.resolve() : Promise.reject(this.keepAliveError);
  }
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(
  serverOptions: ScriptedServerOptions = {},
  options: Partial<UserDataStreamOptions> = {},
): Promise<{
  server: ScriptedServer;
  api: ListenKeys;
  stream: UserDataStream;
  batches: Buffer[][];
  gaps: UserStreamGap[];
}> {
  const server = await ScriptedServer.start(serverOptions);
  cleanup.push(() => server.close());
  const api = new ListenKeys();
  const stream = new UserDataStream({
    api,
    baseUrl: server.url,
    logger: silentLogger(),
    backoff: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 },
    ...options,
  });
  cleanup.push(() => stream.close());
  const batches: Buffer[][] = [];
  const gaps: UserStreamGap[] = [];
  stream.onMessages((m) => batches.push(m));
  stream.onPossibleGap((g) => gaps.push(g));
  return { server, api, stream, batches, gaps };
}

const orderUpdate = (i: number): string =>
  JSON.stringify({
    e: 'ORDER_TRADE_UPDATE',
    E: 1_700_000_000_000 + i,
    T: 1_700_000_000_000 + i,
    o: { s: 'BTCUSDT', i },
  });

describe('UserDataStream', () => {
  it('creates a key, connects to /private/ws with the events allow list and delivers raw batches', async () => {
    const { server, api, stream, batches } = await setup();
    await stream.start();
    expect(api.created).toEqual(['K1']);
    const conn = server.connections[0];
    expect(conn?.path).toBe('/private/ws');
    expect(conn?.query.get('listenKey')).toBe('K1');
    const events = conn?.query.get('events')?.split('/') ?? [];
    expect(events).toEqual(
      expect.arrayContaining(['ACCOUNT_UPDATE', 'ORDER_TRADE_UPDATE', 'ALGO_UPDATE', 'listenKeyExpired']),
    );
    expect(stream.status().connection?.url).not.toContain('K1'); // the key is redacted

    const sent = Array.from({ length: 30 }, (_, i) => orderUpdate(i));
    for (const text of sent) server.sendRaw('/private', text);
    await waitUntil(() => batches.flat().length === 30, 'events');
    expect(batches.length).toBeLessThan(30);
    expect(batches.flat().map((b) => b.toString('utf8'))).toEqual(sent);
    expect(stream.status().messages).toBe(30);
  });

  it('always asks for listenKeyExpired, even with a custom event list', async () => {
    const { server, stream } = await setup({}, { events: ['ORDER_TRADE_UPDATE'] });
    await stream.start();
    expect(server.connections[0]?.query.get('events')).toBe('ORDER_TRADE_UPDATE/listenKeyExpired');
  });

  it('keeps the key alive every keepAliveIntervalMs', async () => {
    const { api, stream } = await setup({}, { keepAliveIntervalMs: 60 });
    await stream.start();
    await waitUntil(() => api.keepAlives.length >= 4, 'four keepalives');
    expect(api.keepAlives.every((k) => k.key === 'K1')).toBe(true);
    for (let i = 1; i < api.keepAlives.length; i++) {
      const gap = (api.keepAlives[i]?.at ?? 0) - (api.keepAlives[i - 1]?.at ?? 0);
      expect(gap).toBeGreaterThanOrEqual(55);
      expect(gap).toBeLessThan(400);
    }
    expect(stream.status().keepAlives).toBeGreaterThanOrEqual(4);
  });

  it('on listenKeyExpired creates a new key, reconnects, reports a gap and does not deliver the event', async () => {
    const { server, api, stream, batches, gaps } = await setup();
    await stream.start();
    api.expire();
    server.sendRaw(
      '/private',
      JSON.stringify({ e: 'listenKeyExpired', E: 1_700_000_000_000, listenKey: 'K1' }),
    );
    await waitUntil(() => gaps.length === 1, 'gap after expiry');
    expect(api.created).toEqual(['K1', 'K2']);
    expect(server.connections[1]?.query.get('listenKey')).toBe('K2');
    expect(gaps[0]).toMatchObject({ reason: 'listenKeyExpired', newListenKey: true });
    server.sendRaw('/private', orderUpdate(1));
    await waitUntil(() => batches.flat().length === 1, 'event on the new key');
    expect(batches.flat()[0]?.toString()).toBe(orderUpdate(1));
    expect(stream.status()).toMatchObject({ listenKeyExpiredEvents: 1, reconnects: 1 });
  });

  it('recreates the key when keepalive says it is gone (-1125)', async () => {
    const { server, api, stream, gaps } = await setup({}, { keepAliveIntervalMs: 40 });
    await stream.start();
    api.expire();
    api.keepAliveError = new FakeRestError(-1125);
    await waitUntil(() => gaps.length === 1, 'gap after keepalive failure');
    api.keepAliveError = undefined;
    expect(server.connections[1]?.query.get('listenKey')).toBe('K2');
    expect(gaps[0]).toMatchObject({ newListenKey: true });
    await waitUntil(() => api.keepAlives.some((k) => k.key === 'K2'), 'keepalive of the new key');
    expect(isListenKeyMissingError(new FakeRestError(-1125))).toBe(true);
    expect(isListenKeyMissingError(new FakeRestError(-1001))).toBe(false);
  });

  it('retries other keepalive failures, then recreates the key after maxKeepAliveFailures', async () => {
    const { server, api, stream, gaps } = await setup(
      {},
      { keepAliveIntervalMs: 200, keepAliveRetryMs: 20, maxKeepAliveFailures: 3 },
    );
    await stream.start();
    api.keepAliveError = new FakeRestError(-1001);
    await waitUntil(() => gaps.length === 1, 'recreation after repeated failures');
    const failing = api.keepAlives.filter((k) => k.key === 'K1');
    expect(failing).toHaveLength(3);
    expect((failing[2]?.at ?? 0) - (failing[1]?.at ?? 0)).toBeLessThan(100); // retried, not a full interval
    expect(stream.status().keepAliveFailures).toBe(3);
    expect(api.created).toEqual(['K1', 'K1']); // the exchange returned the same key: still a reconnect
    expect(gaps[0]?.newListenKey).toBe(false);
    expect(server.connections).toHaveLength(2);
  });

  it('reconnects on disconnect with a fresh createListenKey and reports the gap', async () => {
    const { server, api, stream, gaps } = await setup();
    await stream.start();
    server.sendRaw('/private', orderUpdate(1));
    await waitUntil(() => stream.status().messages === 1, 'first event');
    server.connections[0]?.socket.terminate();
    await waitUntil(() => gaps.length === 1, 'gap after drop');
    expect(api.created).toEqual(['K1', 'K1']);
    expect(gaps[0]?.lastFrameAt).not.toBeNull();
    expect(gaps[0]?.reason).toMatch(/closed by peer/);
    expect(server.open()).toHaveLength(1);
  });

  it('bounds its retries: start() rejects once every attempt failed', async () => {
    const { api, stream } = await setup(
      {},
      { backoff: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } },
    );
    api.createFails = 100;
    const failures: Error[] = [];
    stream.onFailure((e) => failures.push(e));
    await expect(stream.start()).rejects.toBeInstanceOf(WsReconnectExhaustedError);
    expect(failures).toHaveLength(1);
    expect(stream.status()).toMatchObject({ state: 'failed', listenKeyCreateFailures: 3 });
  });

  it('rotates without losing or repeating events', async () => {
    const { server, stream, batches } = await setup(
      { lagFor: (i) => (i % 2) * 10 },
      { rotationOverlapMs: 60 },
    );
    await stream.start();
    let n = 0;
    const timer = setInterval(() => server.sendRaw('/private', orderUpdate(n++)), 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await stream.rotateNow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await stream.rotateNow(); // queued behind the first rotation's dedup window
    await waitUntil(() => stream.status().rotations === 2, 'second rotation');
    await new Promise((resolve) => setTimeout(resolve, 30));
    clearInterval(timer);
    const last = orderUpdate(n - 1);
    await waitUntil(() => batches.flat().some((b) => b.toString() === last), 'last event');
    const seen = batches.flat().map((b) => (JSON.parse(b.toString()) as { o: { i: number } }).o.i);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(stream.status()).toMatchObject({ rotations: 2, reconnects: 0 });
  });

  it('close() stops the keepalive and closes the socket, leaving the key to lapse', async () => {
    const { server, api, stream } = await setup({}, { keepAliveIntervalMs: 30 });
    await stream.start();
    await stream.close();
    const count = api.keepAlives.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(api.keepAlives.length).toBe(count);
    await waitUntil(() => server.open().length === 0, 'socket closed');
  });
});
