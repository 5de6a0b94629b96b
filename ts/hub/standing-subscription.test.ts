import { afterEach, describe, expect, it } from 'vitest';
import { Logger, silentLogger } from '../log/logger.js';
import { waitUntil } from '../testing/wait-until.js';
import { HubClient, type HubClientState, type Welcome } from './hub-client.js';
import { StandingSubscription, type SubscribingClient } from './standing-subscription.js';
import { keyOf, startHub, TRANSPORTS } from './testing/hub-fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A client whose connections the test makes and breaks. */
class ScriptedClient implements SubscribingClient {
  state: HubClientState = 'idle';
  welcome: Welcome | undefined;
  readonly drops: string[] = [];
  readonly #listeners = new Set<(state: HubClientState, welcome: Welcome | undefined) => void>();

  onState(listener: (state: HubClientState, welcome: Welcome | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dropConnection(reason: string): void {
    this.drops.push(reason);
    this.set('reconnecting');
  }

  set(state: HubClientState): void {
    this.state = state;
    for (const listener of this.#listeners) listener(state, this.welcome);
  }
}

/** A logger whose warnings and errors the test reads. */
function recordingLogger(): { logger: Logger; lines: () => Array<{ level: string; msg: string }> } {
  const lines: string[] = [];
  const logger = new Logger('test', { level: 'warn', format: 'json', sink: (line) => lines.push(line) });
  return {
    logger,
    lines: () => lines.map((l) => JSON.parse(l) as { level: string; msg: string }),
  };
}

describe('StandingSubscription', () => {
  it('asks on every ready, again after a refusal, and once granted stops asking on that connection', async () => {
    const client = new ScriptedClient();
    const answers = ['refuse', 'refuse', 'grant', 'grant'];
    let asked = 0;
    let granted = 0;
    const log = recordingLogger();
    const subscription = new StandingSubscription(client, {
      what: 'order events',
      subscribe: async () => {
        asked += 1;
        if (answers[asked - 1] === 'refuse') throw new Error('no reply within 5000 ms');
      },
      onSubscribed: () => {
        granted += 1;
      },
      retryMs: 5,
      logger: log.logger,
    });
    cleanups.push(() => subscription.stop());
    subscription.start();
    expect(asked).toBe(0);
    client.set('ready');
    await waitUntil(() => granted === 1, 'the third request granted');
    expect(asked).toBe(3);
    expect(subscription.stats()).toEqual({ granted: 1, failures: 2, drops: 0 });
    expect(log.lines().map((l) => l.msg)).toEqual([
      'order events subscription failed; asking again',
      'order events subscription failed; asking again',
    ]);
    // A reconnect asks again (the hub forgot the subscription with the connection).
    client.set('reconnecting');
    client.set('ready');
    await waitUntil(() => granted === 2, 'the request on the new connection granted');
    expect(asked).toBe(4);
    expect(client.drops).toEqual([]);
  });

  it('drops the connection when no request on it is granted, and asks afresh on the next', async () => {
    const client = new ScriptedClient();
    let asked = 0;
    let refuse = true;
    const log = recordingLogger();
    const subscription = new StandingSubscription(client, {
      what: 'alerts',
      subscribe: async () => {
        asked += 1;
        if (refuse) throw new Error('the hub is busy');
      },
      attempts: 2,
      retryMs: 5,
      logger: log.logger,
    });
    cleanups.push(() => subscription.stop());
    client.set('ready');
    subscription.start();
    await waitUntil(() => client.drops.length === 1, 'the connection dropped');
    expect(asked).toBe(2);
    expect(client.drops).toEqual(['alerts subscription not granted']);
    expect(log.lines().at(-1)).toMatchObject({
      level: 'error',
      msg: 'alerts subscription refused on every try; reconnecting',
    });
    refuse = false;
    client.set('ready');
    await waitUntil(() => subscription.stats().granted === 1, 'granted on the next connection');
    expect(subscription.stats()).toEqual({ granted: 1, failures: 2, drops: 1 });
  });

  it('forgets a request whose connection went away while it was asked', async () => {
    const client = new ScriptedClient();
    let release: ((ok: boolean) => void) | undefined;
    let granted = 0;
    const subscription = new StandingSubscription(client, {
      what: 'order events',
      subscribe: () =>
        new Promise<void>((resolve, reject) => {
          release = (ok) => (ok ? resolve() : reject(new Error('connection closed (1006)')));
        }),
      onSubscribed: () => {
        granted += 1;
      },
      retryMs: 5,
      logger: silentLogger(),
    });
    cleanups.push(() => subscription.stop());
    subscription.start();
    client.set('ready');
    const first = release;
    client.set('reconnecting');
    first?.(false);
    client.set('ready');
    release?.(true);
    await waitUntil(() => granted === 1, 'granted on the second connection');
    // The failure of the first connection's request was neither counted nor retried.
    await new Promise((r) => setTimeout(r, 20));
    expect(subscription.stats()).toEqual({ granted: 1, failures: 0, drops: 0 });
    expect(client.drops).toEqual([]);
  });
});

describe.each(TRANSPORTS)('StandingSubscription with a hub over %s', (transport) => {
  it('a refused subscription drops the connection; the client reconnects and asks again', async () => {
    const hub = await startHub(transport);
    cleanups.push(() => hub.close());
    // A collector may not subscribe to events: every request is refused with the hub's error.
    const client = new HubClient({
      url: hub.url,
      peer: 'user-stream-0',
      kind: 'user-stream',
      key: keyOf('collector'),
      logger: silentLogger('client'),
      backoff: { initialMs: 10, maxMs: 50 },
    });
    cleanups.push(() => client.close());
    const log = recordingLogger();
    const subscription = new StandingSubscription(client, {
      what: 'order events',
      subscribe: () => client.subscribeEvents(),
      attempts: 2,
      retryMs: 5,
      logger: log.logger,
    });
    cleanups.push(() => subscription.stop());
    subscription.start();
    await client.connect();
    await waitUntil(() => subscription.stats().drops >= 2, 'two connections dropped', 5_000);
    expect(client.reconnects).toBeGreaterThanOrEqual(2);
    expect(subscription.stats().granted).toBe(0);
    expect(subscription.stats().failures).toBeGreaterThanOrEqual(4);
    const refusal = log.lines().find((l) => l.level === 'warn') as { error?: string } | undefined;
    expect(refusal?.error).toMatch(/trader and viewer/);
    expect(hub.status().events.subscribers).toBe(0);
  });
});
