import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../ts/gateway/gateway-client.js';
import { silentLogger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { OneMachineSystem } from '../one-machine/one-machine.js';

const built = existsSync(join(packageRoot, 'dist', 'app', 'cli', 'main.js'));
let system: OneMachineSystem | undefined;

afterAll(async () => {
  await system?.stop();
}, 30_000);

describe.skipIf(!built)('tributary up with gateway.enabled', () => {
  it('starts the gateway after the hub, on the hub key file, where the configuration says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-up-gateway-'));
    const configFile = join(dir, 'tributary.json');
    const none = { instances: 0 };
    writeFileSync(
      configFile,
      JSON.stringify({
        simulator: { port: 0 },
        hub: { port: 0 },
        gateway: { enabled: true, port: 0, claimLog: join(dir, 'claims.jsonl') },
        collectors: {
          kline: none,
          hotKline: none,
          tick: none,
          stream: none,
          account: none,
          positionRisk: none,
          userStream: none,
          income: none,
          universe: none,
        },
        trader: { instances: 0 },
      }),
    );
    system = new OneMachineSystem({
      configFile,
      env: { ...process.env, BINANCE_API_KEY: 'up-gateway-key', BINANCE_API_SECRET: 'up-gateway-secret' },
      logger: silentLogger('up'),
      output: () => {},
    });
    const info = await system.start();
    expect(info.children.slice(0, 2)).toEqual(['hub', 'gateway']);
    const url = info.gatewayUrl;
    if (url === undefined) throw new Error('no gateway address');
    await waitUntil(
      async () => (await fetch(`${url}/v1/health`).catch(() => undefined))?.ok === true,
      'the gateway answering',
      30_000,
      100,
    );
    // The operator's admin key of this run is in the same key file: it may read the status, not place.
    const operator = new GatewayClient({
      url,
      credentials: { keyId: info.operatorKey.id, secret: info.operatorKey.secret, peer: 'operator' },
      logger: silentLogger('client'),
    });
    const status = await operator.status();
    expect(status).toMatchObject({ mode: 'first', log: { claims: 0, pending: 0 } });
  }, 90_000);
});
