// System test: `tributary gateway` with gateway.tls speaks HTTPS with the fleet's certificates and refuses clients without them; a plain gateway serves loopback only; with a hub key the hub shows it.
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureFleetCa,
  type FleetCa,
  type HostCertificate,
  issueHostCertificate,
} from '../../ts/deploy/fleet-ca.js';
import { GatewayClient } from '../../ts/gateway/gateway-client.js';
import { GatewayRequestError, GatewayUnreachableError } from '../../ts/gateway/gateway-error.js';
import type { HubServer } from '../../ts/hub/hub-server.js';
import { type HubClientTls, loadClientTls } from '../../ts/hub/hub-tls.js';
import { newKey } from '../../ts/hub/key-file.js';
import { KeyRing } from '../../ts/hub/peer-keys.js';
import { startHub } from '../../ts/hub/testing/hub-fixtures.js';
import { silentLogger } from '../../ts/log/logger.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { GatewayRig, killHard } from './testing/gateway-rig.js';

let rig: GatewayRig;
let ca: FleetCa;
let gatewayCert: HostCertificate;
let traderCert: HostCertificate;
let strangerCa: FleetCa;
let hub: HubServer | undefined;

beforeAll(async () => {
  rig = await GatewayRig.start();
  ca = await ensureFleetCa(join(rig.dir, 'ca'), 'test');
  gatewayCert = await issueHostCertificate(ca, join(rig.dir, 'certs'), 'hub-1', ['127.0.0.1']);
  traderCert = await issueHostCertificate(ca, join(rig.dir, 'certs'), 'trd-1', ['127.0.0.1']);
  strangerCa = await ensureFleetCa(join(rig.dir, 'stranger-ca'), 'stranger');
}, 60_000);

afterAll(async () => {
  await hub?.close();
  await rig?.stop();
}, 60_000);

/** The rig's configuration `name` with `gateway` settings and the fleet's TLS files added. */
function configWith(name: string, gateway: Record<string, unknown>, tls: boolean): string {
  const path = rig.config(name, 'first');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
  config.gateway = { ...config.gateway, ...gateway };
  if (tls)
    config.hub = {
      ...config.hub,
      tls: { ca: ca.certFile, cert: gatewayCert.certFile, key: gatewayCert.keyFile },
    };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function client(url: string, tls: HubClientTls | undefined): GatewayClient {
  const key = rig.keys[0];
  if (key === undefined) throw new Error('no trader key');
  return new GatewayClient({
    url,
    tls,
    credentials: { keyId: key.id, secret: key.secret, peer: 'trader-0' },
    logger: silentLogger('gateway-client'),
    maxAttempts: 1,
    requestTimeoutMs: 5_000,
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

describe('the gateway between machines', () => {
  it('with gateway.tls: answers a trader holding the fleet CA and a certificate of it, refuses anyone else', async () => {
    const gateway = await rig.gateway(configWith('tls', { tls: true }, true));
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const fleet = loadClientTls({
      caFile: ca.certFile,
      certFile: traderCert.certFile,
      keyFile: traderCert.keyFile,
    });
    expect(await client(gateway.url, fleet).status()).toMatchObject({ mode: 'first' });
    // No client certificate: the TLS handshake fails (the gateway asks for one, as the hub does).
    const anonymous = client(gateway.url, { ca: fleet.ca });
    await expect(anonymous.status()).rejects.toBeInstanceOf(GatewayUnreachableError);
    // A gateway whose certificate another CA signed is not trusted.
    const stranger = client(gateway.url, { ...fleet, ca: readFileSync(strangerCa.certFile) });
    await expect(stranger.status()).rejects.toThrow(/certificate/);
    // Plain HTTP to a TLS gateway gets no answer.
    await expect(client(gateway.url.replace('https:', 'http:'), undefined).status()).rejects.toBeInstanceOf(
      GatewayUnreachableError,
    );
    await killHard(gateway.proc);
  }, 60_000);

  it.skipIf(outside === undefined)(
    'without TLS: serves loopback, refuses a request from another address with tls-required',
    async () => {
      const gateway = await rig.gateway(configWith('plain', { host: '0.0.0.0' }, false));
      const port = gateway.port;
      expect(await client(`http://127.0.0.1:${port}`, undefined).status()).toMatchObject({ mode: 'first' });
      const refused = await client(`http://${outside}:${port}`, undefined)
        .status()
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(GatewayRequestError);
      expect((refused as GatewayRequestError).code).toBe('tls-required');
      // The refusal's log line reaches the child's output after the answer: wait for it.
      const logged = /"error":"tls-required: plain requests are served from loopback only/;
      await waitUntil(() => logged.test(gateway.output()), 'the refusal in the gateway log', 10_000);
      await killHard(gateway.proc);
    },
    60_000,
  );

  it('with a viewer key: the hub shows it as gateway-<n> with its counters, once it listens', async () => {
    const key = newKey({ role: 'viewer', peers: ['gateway-2'], label: 'gateway' });
    hub = await startHub('ws', { keys: new KeyRing([key]) });
    const config = configWith('presence', { port: 0 }, false);
    const withHub = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    withHub.hub = { url: hub.url };
    writeFileSync(config, JSON.stringify(withHub));
    const gateway = await rig.gateway(config, 0, { TRIBUTARY_HUB_KEY: `${key.id}:${key.secret}` }, [
      '--instance',
      '2',
    ]);
    const running = hub;
    await waitUntil(
      () => running.status().peers.some((p) => p.peer === 'gateway-2' && p.report !== null),
      'the hub to show gateway-2 with its report',
      15_000,
    );
    const peer = running.status().peers.find((p) => p.peer === 'gateway-2');
    expect(peer).toMatchObject({ role: 'viewer', kind: 'gateway' });
    expect(peer?.report).toMatchObject({ instance: 2, mode: 'first', url: gateway.url });
    await killHard(gateway.proc);
  }, 60_000);
});
