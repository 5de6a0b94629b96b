// HubClient.firstAttempt: a reader waits for the first connection attempt to end, bounded, instead of taking a client still connecting for an unreachable hub.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { HubClient } from './hub-client.js';
import { keyOf, startHub } from './testing/hub-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(url: string, connectTimeoutMs = 5_000): HubClient {
  const c = new HubClient({
    url,
    peer: 'publisher-0',
    key: keyOf('viewer'),
    logger: silentLogger('client'),
    backoff: { initialMs: 20, maxMs: 200 },
    connectTimeoutMs,
  });
  cleanups.push(() => c.close());
  return c;
}

/** A TCP server that accepts connections and never answers: a connection attempt to it hangs. */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `ws://127.0.0.1:${address.port}`;
}

describe('HubClient.firstAttempt', () => {
  it('resolves ready once the first connection is up, and at once after that', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const c = client(hub.url);
    void c.connect();
    expect(c.state).toBe('connecting');
    expect(await c.firstAttempt(5_000)).toBe('ready');
    const started = Date.now();
    expect(await c.firstAttempt(5_000)).toBe('ready');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('resolves as soon as a refused first attempt gives way to reconnecting', async () => {
    // Port 1 of the loopback: nothing listens there, so the connection is refused at once.
    const c = client('ws://127.0.0.1:1');
    c.connect().catch(() => {});
    expect(await c.firstAttempt(5_000)).toBe('reconnecting');
  });

  it('gives up waiting after its bound while the attempt still hangs', async () => {
    const c = client(await silentServer(), 10_000);
    c.connect().catch(() => {});
    const started = Date.now();
    expect(await c.firstAttempt(150)).toBe('connecting');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('waits out its bound for a client never told to connect', async () => {
    const c = client('ws://127.0.0.1:1');
    expect(await c.firstAttempt(50)).toBe('idle');
  });
});
