import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import { gatewayAuthorization } from '../ts/gateway/gateway-auth.js';
import { newKey } from '../ts/hub/key-file.js';
import { KeyRing } from '../ts/hub/peer-keys.js';
import { silentLogger } from '../ts/log/logger.js';
import { ClaimLog } from './claim-log.js';
import { GatewayServer } from './gateway-server.js';
import { OrderClaims, type OrderPlacer } from './order-claims.js';

const trader = newKey({ role: 'trader', peers: ['trader-0'], label: 'trader 0' });
const viewer = newKey({ role: 'viewer', peers: ['viewer'], label: 'viewer' });

/** An exchange side that must never be reached: every request here is refused before a claim. */
const unreachable: OrderPlacer = {
  api: {} as UsdmApi,
  place: () => Promise.reject(new Error('the exchange was asked')),
  cancel: () => Promise.reject(new Error('the exchange was asked')),
};

let server: GatewayServer;
let log: ClaimLog;

beforeAll(async () => {
  log = new ClaimLog(
    join(mkdtempSync(join(tmpdir(), 'tributary-gateway-server-')), 'claims.jsonl'),
    silentLogger(),
    86_400_000,
  );
  const claims = new OrderClaims({
    log,
    placer: unreachable,
    mode: { kind: 'first' },
    filters: () => undefined,
    logger: silentLogger('claims'),
    placeWithinMs: 60_000,
    settleMs: 200,
  });
  server = await GatewayServer.start({
    claims,
    keys: new KeyRing([trader, viewer]),
    logger: silentLogger('server'),
  });
});

afterAll(async () => {
  await server?.close();
  log?.close();
});

/** One request as sent on the wire (path exactly as given), signed with trader-0's key unless told otherwise. */
function send(
  method: string,
  path: string,
  body = '',
  as: { key?: typeof trader; peer?: string; time?: number } = {},
): Promise<{ status: number; json: unknown }> {
  const key = as.key ?? trader;
  const authorization = gatewayAuthorization(
    { keyId: key.id, secret: key.secret, peer: as.peer ?? 'trader-0' },
    { method, path, body },
    as.time ?? Date.now(),
  );
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method, path, headers: { authorization } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === '' ? undefined : body);
  });
}

describe('the gateway server', () => {
  it('answers a path with a broken percent escape as a bad request, not a gateway fault', async () => {
    const before = server.stats.refused.internal ?? 0;
    for (const method of ['GET', 'DELETE']) {
      const answer = await send(method, '/v1/orders/BTCUSDT/t_%E0%A4%A');
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'bad-request' });
    }
    expect(server.stats.refused.internal ?? 0).toBe(before);
    expect(server.stats.refused['bad-request']).toBeGreaterThanOrEqual(2);
  });

  it('refuses a body over the limit with too-large and keeps serving', async () => {
    const answer = await send('POST', '/v1/orders', `{"pad":"${'x'.repeat(200_000)}"}`);
    expect(answer).toMatchObject({ status: 413, json: { error: 'too-large' } });
    expect((await send('GET', '/v1/status')).status).toBe(200);
    expect(log.stats.claims).toBe(0);
  });

  it("refuses another peer's name, a viewer placing orders and a time in microseconds, before any claim", async () => {
    const body = JSON.stringify({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.010',
      reduceOnly: false,
      clientOrderId: 't_auth',
    });
    expect(await send('POST', '/v1/orders', body, { peer: 'trader-1' })).toMatchObject({
      status: 403,
      json: { error: 'forbidden' },
    });
    expect(await send('POST', '/v1/orders', body, { key: viewer, peer: 'viewer' })).toMatchObject({
      status: 403,
      json: { error: 'forbidden' },
    });
    expect(await send('POST', '/v1/orders', body, { time: Date.now() * 1000 })).toMatchObject({
      status: 401,
      json: { error: 'stale-request' },
    });
    expect(log.stats.claims).toBe(0);
  });
});
