import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ensureFleetCa,
  type FleetCa,
  type HostCertificate,
  issueHostCertificate,
} from '../deploy/fleet-ca.js';
import { silentLogger } from '../log/logger.js';
import { namespacesUnavailable, TestNetwork } from '../testing/net-namespace.js';
import { HubClient, HubConnectionError } from './hub-client.js';
import type { HubServer } from './hub-server.js';
import { HubStatusSchema } from './hub-status.js';
import { isLoopbackAddress, loadClientTls, PLAIN_REFUSED } from './hub-tls.js';
import { statusAuthorization } from './peer-auth.js';
import { keyOf, startHub, TRANSPORTS } from './testing/hub-fixtures.js';
import type { TransportChoice } from './transport-select.js';
import { loadUws } from './transport-uws.js';

let dir: string;
let ca: FleetCa;
let hubCert: HostCertificate;
let peerCert: HostCertificate;
let strangerCert: HostCertificate;
let strangerCa: FleetCa;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-tls-'));
  ca = await ensureFleetCa(join(dir, 'ca'), 'test');
  hubCert = await issueHostCertificate(ca, join(dir, 'certs'), 'hub', ['127.0.0.1', 'localhost']);
  peerCert = await issueHostCertificate(ca, join(dir, 'certs'), 'peer', ['127.0.0.1']);
  // A certificate from another CA: right shape, wrong signer.
  strangerCa = await ensureFleetCa(join(dir, 'stranger-ca'), 'stranger');
  strangerCert = await issueHostCertificate(strangerCa, join(dir, 'stranger'), 'peer', ['127.0.0.1']);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tlsFiles() {
  return { certFile: hubCert.certFile, keyFile: hubCert.keyFile, caFile: ca.certFile };
}

/** Opens a raw websocket and reports whether the handshake got through. */
function tryOpen(url: string, options: WebSocket.ClientOptions): Promise<'open' | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ...options, handshakeTimeout: 3_000 });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('error', (error: Error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
  });
}

function peerClient(hub: HubServer, tls: ReturnType<typeof loadClientTls>): HubClient {
  const client = new HubClient({
    url: hub.url,
    peer: 'kline-0',
    kind: 'kline',
    key: keyOf('collector'),
    tls,
    logger: silentLogger('client'),
    backoff: { initialMs: 20, maxMs: 50, maxAttempts: 2 },
    connectTimeoutMs: 3_000,
  });
  cleanups.push(() => client.close());
  return client;
}

/** The transport to ask for with mutual TLS: uWS cannot require peer certificates, so `auto` (→ ws). */
function mutual(transport: (typeof TRANSPORTS)[number]): TransportChoice {
  return transport === 'uws' ? 'auto' : transport;
}

const transports = TRANSPORTS.filter((t) => t === 'ws' || !(loadUws() instanceof Error));

describe.each(transports)('TLS on the %s transport', (transport) => {
  it('serves a peer whose certificate the fleet CA signed, and the full status over https', async () => {
    const hub = await startHub(transport, { transport: mutual(transport), tls: tlsFiles() });
    cleanups.push(() => hub.close());
    expect(hub.url.startsWith('wss://')).toBe(true);
    const client = peerClient(hub, loadClientTls(peerFiles()));
    await client.connect();
    expect(client.state).toBe('ready');

    const viewer = keyOf('viewer');
    const peer = loadClientTls(peerFiles());
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: hub.port,
          path: '/status/full',
          ca: peer.ca,
          cert: peer.cert,
          key: peer.key,
          headers: { authorization: statusAuthorization(viewer, '/status/full') },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () =>
            res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
    const status = HubStatusSchema.parse(JSON.parse(body));
    expect(status.peers.map((p) => p.peer)).toContain('kline-0');
  });

  it('refuses a peer without a certificate and a peer whose certificate another CA signed', async () => {
    // uWS cannot require peer certificates (transport-select.ts): mutual TLS runs on ws there.
    const hub = await startHub(transport, { transport: mutual(transport), tls: tlsFiles() });
    expect(hub.transportName).toBe('ws');
    cleanups.push(() => hub.close());
    const trustHub = loadClientTls({ caFile: ca.certFile }).ca;
    expect(await tryOpen(hub.url, { ca: trustHub })).not.toBe('open');
    const stranger = loadClientTls({
      caFile: ca.certFile,
      certFile: strangerCert.certFile,
      keyFile: strangerCert.keyFile,
    });
    expect(await tryOpen(hub.url, { ca: trustHub, cert: stranger.cert, key: stranger.key })).not.toBe('open');
    // The real client gives up (bounded attempts) instead of reaching the hub.
    await expect(peerClient(hub, loadClientTls({ caFile: ca.certFile })).connect()).rejects.toBeInstanceOf(
      HubConnectionError,
    );
    expect(hub.status().peers).toHaveLength(0);
    // The right certificate still gets through.
    const good = loadClientTls(peerFiles());
    expect(await tryOpen(hub.url, { ca: good.ca, cert: good.cert, key: good.key })).toBe('open');
  });

  it('a peer refuses a hub whose certificate its CA did not sign', async () => {
    const hub = await startHub(transport, { transport: mutual(transport), tls: tlsFiles() });
    cleanups.push(() => hub.close());
    const good = loadClientTls(peerFiles());
    const code = await tryOpen(hub.url, {
      ca: loadClientTls({ caFile: strangerCa.certFile }).ca,
      cert: good.cert,
      key: good.key,
    });
    expect(code).not.toBe('open');
    expect(code).toMatch(/CERT|SIGNATURE|ISSUER|VERIFY/);
  });

  it('server-only TLS (no peer certificates asked) keeps the chosen transport', async () => {
    const hub = await startHub(transport, { tls: { certFile: hubCert.certFile, keyFile: hubCert.keyFile } });
    cleanups.push(() => hub.close());
    expect(hub.transportName).toBe(transport);
    const client = peerClient(hub, loadClientTls({ caFile: ca.certFile }));
    await client.connect();
    expect(client.state).toBe('ready');
  });

  it('a plain hub accepts a plain connection from loopback', async () => {
    const hub = await startHub(transport);
    cleanups.push(() => hub.close());
    expect(hub.url.startsWith('ws://')).toBe(true);
    expect(await tryOpen(hub.url, {})).toBe('open');
  });
});

function peerFiles() {
  return { caFile: ca.certFile, certFile: peerCert.certFile, keyFile: peerCert.keyFile };
}

describe.skipIf(loadUws() instanceof Error)('uWS and mutual TLS', () => {
  it('refuses to start uWS when peer certificates are required, rather than not checking them', async () => {
    await expect(startHub('uws', { tls: tlsFiles() })).rejects.toThrow(/cannot require peer certificates/);
  });
});

describe('loopback addresses', () => {
  it('knows loopback in every form the transports report', () => {
    for (const a of [
      '127.0.0.1',
      '127.3.4.5',
      '::1',
      '::ffff:127.0.0.1',
      '0000:0000:0000:0000:0000:ffff:7f00:0001',
    ]) {
      expect(isLoopbackAddress(a), a).toBe(true);
    }
    for (const a of [
      '10.0.0.2',
      '::ffff:10.0.0.2',
      '0000:0000:0000:0000:0000:ffff:0a00:0002',
      'fe80::1',
      '128.0.0.1',
    ]) {
      expect(isLoopbackAddress(a), a).toBe(false);
    }
  });
});

const unavailable = namespacesUnavailable();
if (unavailable !== undefined) {
  process.stderr.write(`hub-tls.test: plain connections from another address not tested: ${unavailable}\n`);
}

describe.skipIf(unavailable !== undefined)('a plain connection from a non-loopback address', () => {
  let network: TestNetwork;
  beforeAll(() => {
    network = new TestNetwork('tl');
    network.addHost();
  });
  afterAll(() => network.remove());

  it.each(transports)('is closed with 4426 on %s, and its status request refused', async (transport) => {
    const hub = await startHub(transport, { host: '0.0.0.0' });
    cleanups.push(() => hub.close());
    const host = network.hosts[0];
    if (host === undefined) throw new Error('no test host');
    // A small ws client run inside the namespace: its address is the namespace's, not loopback.
    const script = `
      const WebSocket = require('ws');
      const ws = new WebSocket('ws://${network.hostAddress}:${hub.port}/');
      ws.on('close', (code, reason) => { console.log(JSON.stringify({ code, reason: reason.toString() })); });
      ws.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); });
      setTimeout(() => process.exit(3), 8000).unref();
    `;
    const out = await runInNamespace(host.name, ['-e', script]);
    expect(JSON.parse(out.trim())).toEqual({ code: PLAIN_REFUSED.code, reason: PLAIN_REFUSED.reason });
    const statusScript = `
      require('http').get('http://${network.hostAddress}:${hub.port}/status', (res) => {
        console.log(res.statusCode); res.resume();
      }).on('error', (e) => console.log(e.message));
    `;
    expect((await runInNamespace(host.name, ['-e', statusScript])).trim()).toBe('403');
    expect(hub.status().closed.tls_required).toBe(1);
  });
});

function runInNamespace(namespace: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}
