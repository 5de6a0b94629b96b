import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../log/logger.js';
import { releaseVersion } from '../process/release-info.js';
import { HubClient } from './hub-client.js';
import { HubStatusSchema } from './hub-status.js';
import { authMac } from './peer-auth.js';
import { keyOf, RawPeer, startHub, waitFor } from './testing/hub-fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('what peers say of their process, in the full status', () => {
  it('shows host, version and Node of each peer, its connections and its restarts', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const saved = process.env.TRIBUTARY_HOST;
    process.env.TRIBUTARY_HOST = 'box-7';
    cleanups.push(() => {
      if (saved === undefined) delete process.env.TRIBUTARY_HOST;
      else process.env.TRIBUTARY_HOST = saved;
    });
    const client = new HubClient({
      url: hub.url,
      peer: 'kline-3',
      kind: 'kline',
      key: keyOf('collector'),
      logger: silentLogger('client'),
    });
    cleanups.push(() => client.close());
    await client.connect();
    let status = HubStatusSchema.parse(hub.status());
    expect(status.software).toEqual({ version: releaseVersion, node: process.versions.node });
    expect(status.tls).toBe(false);
    const peer = status.peers.find((p) => p.peer === 'kline-3');
    expect(peer?.agent).toEqual({
      host: 'box-7',
      version: releaseVersion,
      node: process.versions.node,
      pid: process.pid,
      startedAt: expect.any(Number),
    });
    expect(peer).toMatchObject({ connections: 1, restarts: 0 });
    await client.close();

    // The same name from another process (another pid and start): a restart.
    const raw = await RawPeer.open(hub.url);
    cleanups.push(() => raw.close());
    const hello = await raw.next('hello');
    const key = keyOf('collector');
    raw.sendJson({
      op: 'auth',
      key: key.id,
      peer: 'kline-3',
      kind: 'kline',
      mac: authMac(key.secret, hello.nonce, key.id, 'kline-3'),
      agent: { host: 'box-7', version: '0.2.0', node: '22.12.0', pid: 4242, startedAt: Date.now() },
    });
    await raw.next('welcome');
    await waitFor(() => hub.status().peers.some((p) => p.agent?.pid === 4242));
    status = HubStatusSchema.parse(hub.status());
    expect(status.peers.find((p) => p.peer === 'kline-3')).toMatchObject({
      connections: 2,
      restarts: 1,
      agent: { version: '0.2.0', node: '22.12.0' },
    });
  });

  /** Authenticates a collector whose auth carries `agent`: the hub's error and how many peers it then shows. */
  async function authWithAgent(agent: Record<string, unknown>): Promise<{ message: string; peers: number }> {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const raw = await RawPeer.open(hub.url);
    cleanups.push(() => raw.close());
    const hello = await raw.next('hello');
    const key = keyOf('collector');
    raw.sendJson({
      op: 'auth',
      key: key.id,
      peer: 'kline-3',
      mac: authMac(key.secret, hello.nonce, key.id, 'kline-3'),
      agent,
    });
    const error = await raw.next('error');
    return { message: String(error.message), peers: hub.status().peers.length };
  }

  it('refuses an auth whose agent is malformed, naming the field', async () => {
    const refused = await authWithAgent({ host: 'a b', version: '1', node: '1', pid: 1, startedAt: 1 });
    expect(refused.message).toMatch(/agent.host/);
    expect(refused.peers).toBe(0);
  });

  it.each([
    ['microseconds', Date.now() * 1000],
    ['seconds', Math.floor(Date.now() / 1000)],
  ])('refuses an agent whose startedAt is in %s, naming the field', async (_unit, startedAt) => {
    const refused = await authWithAgent({
      host: 'box-7',
      version: '0.2.0',
      node: '22.12.0',
      pid: 4242,
      startedAt,
    });
    expect(refused.message).toMatch(/agent\.startedAt must be Unix milliseconds/);
    expect(refused.peers).toBe(0);
  });

  it('sends no agent to a hub of protocol version 2 (which would refuse the field)', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => server.once('listening', resolve));
    const auths: Record<string, unknown>[] = [];
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ op: 'hello', nonce: 'ab'.repeat(32), version: 2, hub: 'old' }));
      socket.on('message', (data) => {
        auths.push(JSON.parse(data.toString()) as Record<string, unknown>);
        socket.close(4401, 'test');
      });
    });
    const address = server.address() as { port: number };
    const client = new HubClient({
      url: `ws://127.0.0.1:${address.port}/`,
      peer: 'kline-3',
      kind: 'kline',
      key: keyOf('collector'),
      logger: silentLogger('client'),
    });
    cleanups.push(() => client.close());
    await client.connect().catch(() => undefined);
    expect(auths[0]).toMatchObject({ op: 'auth', peer: 'kline-3', kind: 'kline' });
    expect(auths[0]).not.toHaveProperty('agent');
  });
});
