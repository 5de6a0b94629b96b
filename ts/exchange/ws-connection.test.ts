// Tests of one websocket connection (control replies, timeouts, closes) and of the reconnect backoff.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { stall } from '../testing/stall.js';
import { ScriptedServer, waitUntil } from './testing/ws-scripted-server.js';
import { Backoff } from './ws-backoff.js';
import { DEFAULT_CONNECTION_SETTINGS, WsConnection } from './ws-connection.js';
import { WsConnectionClosedError, WsControlError, WsControlTimeoutError } from './ws-errors.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function connect(
  server: ScriptedServer,
  settings: Partial<typeof DEFAULT_CONNECTION_SETTINGS> = {},
): Promise<{ conn: WsConnection; frames: Buffer[]; closes: { reason: string; planned: boolean }[] }> {
  const frames: Buffer[] = [];
  const closes: { reason: string; planned: boolean }[] = [];
  const url = `${server.url}/market/stream`;
  const conn = new WsConnection(
    1,
    url,
    url,
    { ...DEFAULT_CONNECTION_SETTINGS, ...settings },
    silentLogger(),
    {
      onFrame: (frame) => frames.push(frame),
      onClose: (_c, reason, planned) => closes.push({ reason, planned }),
    },
  );
  cleanup.push(() => conn.close('test over'));
  await conn.open();
  return { conn, frames, closes };
}

describe('WsConnection', () => {
  it('matches replies by id and types refusals', async () => {
    const server = await ScriptedServer.start({ refuse: (p) => p.includes('bad') });
    cleanup.push(() => server.close());
    const { conn, frames } = await connect(server);
    await expect(conn.request('SUBSCRIBE', ['a', 'b'])).resolves.toBeNull();
    await expect(conn.request('LIST_SUBSCRIPTIONS')).resolves.toEqual(['a', 'b']);
    const refused = conn.request('SUBSCRIBE', ['bad']);
    await expect(refused).rejects.toBeInstanceOf(WsControlError);
    await expect(refused).rejects.toMatchObject({ code: 2, params: ['bad'] });
    // A stray reply with an unknown id is logged, not delivered as data.
    server.sendRaw('/market', '{"result":null,"id":999}');
    server.sendRaw('/market', '{"stream":"a","data":{}}');
    await waitUntil(() => frames.length === 1, 'data frame');
    expect(frames[0]?.toString()).toBe('{"stream":"a","data":{}}');
    expect(conn.status()).toMatchObject({ messages: 1, badReplies: 1 });
  });

  it('times out a control request with a typed error and drops the connection', async () => {
    const server = await ScriptedServer.start({ ignoreControl: true });
    cleanup.push(() => server.close());
    const { conn, closes } = await connect(server, { controlTimeoutMs: 50 });
    const started = Date.now();
    const request = conn.request('SUBSCRIBE', ['a']);
    const queued = conn.request('UNSUBSCRIBE', ['a']); // still queued behind the rate limit
    await expect(request).rejects.toBeInstanceOf(WsControlTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await expect(queued).rejects.toBeInstanceOf(WsConnectionClosedError);
    expect(conn.state).toBe('closed');
    expect(closes).toEqual([{ reason: expect.stringContaining('no reply'), planned: false }]);
    await expect(conn.request('SUBSCRIBE', ['a'])).rejects.toBeInstanceOf(WsConnectionClosedError);
  });

  it('after a stall of the process longer than the reply timeout, takes the reply that arrived meanwhile rather than dropping the connection', async () => {
    // The reply is in the socket when this process stalls for 300 ms: the reply timer (100 ms) is
    // then overdue and fires, in the timers phase, before the reply is read.
    const server = await ScriptedServer.start({ afterReply: () => stall(300) });
    cleanup.push(() => server.close());
    const { conn, closes } = await connect(server, { controlTimeoutMs: 100 });
    await expect(conn.request('SUBSCRIBE', ['a'])).resolves.toBeNull();
    expect(conn.state).toBe('open');
    expect(closes).toEqual([]);
  });

  it('after a stall of the process longer than deadAfterMs, keeps a connection whose frames arrived meanwhile; drops one still silent', async () => {
    const server = await ScriptedServer.start();
    cleanup.push(() => server.close());
    const { conn, frames, closes } = await connect(server, { deadAfterMs: 200, idlePingMs: 0 });
    server.sendRaw('/market', '{"stream":"a","data":{}}');
    stall(400); // the frame waits in the socket while the liveness check becomes overdue
    await waitUntil(() => frames.length === 1, 'the frame sent before the stall');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(conn.state).toBe('open');
    expect(closes).toEqual([]);
    // Nothing more arrives: the check drops it once it is silent past deadAfterMs.
    await waitUntil(() => conn.state === 'closed', 'the silent connection dropped');
    expect(closes).toEqual([{ reason: expect.stringContaining('no frame, ping or pong'), planned: false }]);
  });

  it('fails to open with a typed error when the handshake is refused', async () => {
    const server = await ScriptedServer.start({ rejectHandshakes: 1 });
    cleanup.push(() => server.close());
    await expect(connect(server)).rejects.toBeInstanceOf(WsConnectionClosedError);
  });

  it('reports a planned close as planned', async () => {
    const server = await ScriptedServer.start();
    cleanup.push(() => server.close());
    const { conn, closes } = await connect(server);
    await conn.close('done');
    expect(closes).toEqual([{ reason: 'done', planned: true }]);
  });
});

describe('Backoff', () => {
  it('grows exponentially, is bounded, jittered within range, and gives up after maxAttempts', () => {
    const fixed = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0, maxAttempts: 6 });
    expect([1, 2, 3, 4, 5, 6].map(() => fixed.fail())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(fixed.exhausted).toBe(true);
    fixed.reset();
    expect(fixed.exhausted).toBe(false);
    expect(fixed.fail()).toBe(100);

    const low = new Backoff({ initialDelayMs: 100, jitter: 0.5 }, () => 0.999);
    const high = new Backoff({ initialDelayMs: 100, jitter: 0.5 }, () => 0);
    expect(low.delayFor(3)).toBe(200); // 400 × (1 − 0.5 × 0.999)
    expect(high.delayFor(3)).toBe(400);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
    expect(() => new Backoff({ maxAttempts: 0 })).toThrow(RangeError);
  });
});
