// The publisher against a local OSS server that checks signatures: full, incremental, failing and recovering publishes; nothing secret ever published.
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../ts/alerts/alert.js';
import { Logger } from '../ts/log/logger.js';
import { DOCUMENT_FOLDER, type ManifestDocument } from '../ts/publish/dashboard-documents.js';
import { buildDocuments, type DocumentLimits } from './document-builder.js';
import { type ForbiddenText, forbiddenAddress } from './forbidden-text.js';
import { OssTarget } from './oss-target.js';
import { LocalFolderTarget } from './publish-target.js';
import { Publisher, type PublisherOptions } from './publisher.js';
import { readSiteFiles } from './site-files.js';
import { LocalOssServer, ossStringToSign } from './testing/local-oss-server.js';
import type { MemoryDashboardSource } from './testing/memory-dashboard-source.js';
import { seedDashboard } from './testing/seed-dashboard.js';

const NOW = Date.parse('2026-11-20T12:34:56Z');
const BUCKET = 'tributary-dash';
const KEY_ID = 'LTAI5tLocalTestKeyId01';
const KEY_SECRET = 'oss-secret-0f1e2d3c4b5a69788796a5b4';
const API_KEY = 'binance-api-key-4f7d1c0ab93e';
const API_SECRET = 'binance-api-secret-a9e3c55d20f1';
const HUB_URL = 'ws://10.77.0.5:7700';

const LIMITS: DocumentLimits = {
  equityDays: 30,
  equityPoints: 2000,
  dailyDays: 90,
  roundTrips: 200,
  largeLossThreshold: '-50',
  largeLosses: 50,
  chartInterval: '15m',
  chartCandles: 300,
  chartSymbols: 20,
  chartDays: 3,
};

let server: LocalOssServer;
let siteDir: string;
let alerts: AlertInput[];
let logs: string[];

beforeEach(async () => {
  server = new LocalOssServer({ bucket: BUCKET, accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET });
  await server.start();
  siteDir = await mkdtemp(join(tmpdir(), 'publisher-site-'));
  await mkdir(join(siteDir, 'assets'), { recursive: true });
  await mkdir(join(siteDir, 'owner'), { recursive: true });
  await writeFile(join(siteDir, 'index.html'), '<!doctype html><title>Tributary</title>');
  await writeFile(join(siteDir, 'assets', 'index-abc123.js'), 'console.log("dashboard");');
  await writeFile(join(siteDir, 'owner', 'index.html'), '<!doctype html><title>owner</title>');
  alerts = [];
  logs = [];
});

afterEach(async () => {
  await server.stop();
  await rm(siteDir, { recursive: true, force: true });
});

function forbidden(): ForbiddenText[] {
  return [
    { label: 'api key', text: API_KEY },
    { label: 'api secret', text: API_SECRET },
    { label: 'oss key id', text: KEY_ID },
    { label: 'oss secret', text: KEY_SECRET },
    ...forbiddenAddress('hub', HUB_URL),
    ...forbiddenAddress('oss endpoint', server.url),
  ];
}

function publisher(source: MemoryDashboardSource, overrides: Partial<PublisherOptions> = {}): Publisher {
  let now = NOW;
  return new Publisher({
    source,
    target: new OssTarget({
      bucket: BUCKET,
      region: undefined,
      endpoint: server.url,
      cname: false,
      prefix: 'site/',
      timeoutMs: 5000,
      accessKeyId: KEY_ID,
      accessKeySecret: KEY_SECRET,
    }),
    limits: LIMITS,
    site: () => readSiteFiles(siteDir),
    forbidden,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    alerts: { raise: (a) => alerts.push(a) },
    logger: new Logger('publisher', { format: 'json', sink: (line) => logs.push(line) }),
    // Each round a second later (documents carry their build time).
    now: () => {
      now += 1000;
      return now;
    },
    ...overrides,
  });
}

function stored(path: string): unknown {
  const object = server.objects.get(`site/${path}`);
  if (object === undefined) throw new Error(`not stored: ${path}`);
  return JSON.parse(object.body.toString('utf8'));
}

/** Every published byte holds none of the secrets, keys, hosts or addresses, nor any private IPv4. */
function expectNothingSecret(): void {
  expect(server.objects.size).toBeGreaterThan(0);
  for (const [key, object] of server.objects) {
    const text = object.body.toString('utf8');
    for (const f of forbidden()) expect(text.includes(f.text), `${key} holds the ${f.label}`).toBe(false);
    expect(text, key).not.toMatch(
      /\b(?:10|127|192\.168|172\.(?:1[6-9]|2\d|3[01]))\.\d{1,3}\.\d{1,3}(?:\.\d{1,3})?\b/,
    );
    expect(text, key).not.toMatch(/\b(?:ws|wss|http|https):\/\//);
  }
}

describe('publisher', () => {
  it('publishes every document, the dashboard and then the manifest; the documents equal the records', async () => {
    const source = seedDashboard({ now: NOW });
    const report = await publisher(source).publishOnce();
    expect(report.failed).toEqual([]);
    expect(report.refused).toEqual([]);

    const manifest = stored(`${DOCUMENT_FOLDER}/manifest.json`) as ManifestDocument;
    expect(manifest.chartSymbols.length).toBeGreaterThan(3);
    for (const path of Object.keys(manifest.documents))
      expect(server.objects.has(`site/${DOCUMENT_FOLDER}/${path}`)).toBe(true);
    // The manifest is the last put of the round: a reader never sees it before what it names.
    expect(server.requests.at(-1)?.key).toBe(`site/${DOCUMENT_FOLDER}/manifest.json`);
    expect(server.objects.get('site/index.html')?.contentType).toMatch(/^text\/html/);
    expect(server.objects.get('site/assets/index-abc123.js')?.cacheControl).toMatch(/immutable/);
    expect(server.objects.get(`site/${DOCUMENT_FOLDER}/summary.json`)?.cacheControl).toBe('no-cache');
    // The owner's view is never published.
    expect([...server.objects.keys()].some((k) => k.includes('owner'))).toBe(false);

    // What was stored is what the records say (built again, at the same moment).
    const expected = await buildDocuments(source, LIMITS, NOW + 1000);
    for (const [path, document] of expected) expect(stored(`${DOCUMENT_FOLDER}/${path}`)).toEqual(document);
    const summary = expected.get('summary.json') as { openPositions: number; equity: string };
    expect(summary.openPositions).toBe(3);
    expectNothingSecret();
  });

  it('uploads only what changed in the next round', async () => {
    const source = seedDashboard({ now: NOW });
    const p = publisher(source);
    const first = await p.publishOnce();
    const from = server.requests.length;
    const again = await p.publishOnce();
    // Nothing changed but the build time: nothing is uploaded.
    expect(again.uploaded).toEqual([]);
    expect(again.unchanged).toBe(first.uploaded.length);
    expect(server.requests.length).toBe(from);

    // One new fill of one symbol: its chart, the round trips... and the manifest; not the others.
    const symbol = source.positionRows[0]?.symbol ?? '';
    const before = stored(`${DOCUMENT_FOLDER}/manifest.json`) as ManifestDocument;
    source.fills
      .get(symbol)
      ?.push({ time: NOW - 60_000, side: 'BUY', price: '1.5', quantity: '2', kind: 'entry' });
    const third = await p.publishOnce();
    expect(new Set(third.uploaded)).toEqual(
      new Set([`${DOCUMENT_FOLDER}/charts/${symbol}.json`, `${DOCUMENT_FOLDER}/manifest.json`]),
    );
    expect(server.storedSince(from)).toEqual(third.uploaded.map((p) => `site/${p}`));
    const chart = stored(`${DOCUMENT_FOLDER}/charts/${symbol}.json`) as { trades: { price: string }[] };
    expect(chart.trades.some((t) => t.price === '1.5')).toBe(true);
    const manifest = stored(`${DOCUMENT_FOLDER}/manifest.json`) as ManifestDocument;
    expect(manifest.documents[`charts/${symbol}.json`]).not.toBe(before.documents[`charts/${symbol}.json`]);
    expect(manifest.documents['summary.json']).toBe(before.documents['summary.json']);
  });

  it('retries a failing server a bounded number of times, alerts once, and publishes correctly once it recovers', async () => {
    const source = seedDashboard({ now: NOW, symbols: 8, days: 4 });
    const p = publisher(source);
    server.failWith({ status: 503, code: 'ServiceUnavailable' });
    const failed = await p.publishOnce();
    const files = failed.failed.length;
    expect(files).toBeGreaterThan(8);
    expect(failed.uploaded).toEqual([]);
    // Three tries per file, no more; the manifest is not even tried while documents fail.
    expect(failed.attempts).toBe(files * 3);
    expect(server.requests.length).toBe(files * 3);
    expect(failed.failed).not.toContain(`${DOCUMENT_FOLDER}/manifest.json`);
    expect(alerts.map((a) => a.source)).toEqual(['publish.failed']);
    expect(logs.filter((l) => l.includes('upload failed')).length).toBe(files * 3);

    // Still failing: tried again, but no second alert.
    await p.publishOnce();
    expect(alerts.map((a) => a.source)).toEqual(['publish.failed']);

    server.failWith(undefined);
    source.accountRow = {
      ...(source.accountRow ?? { time: NOW, asset: 'USDT', unrealizedPnl: '0', availableBalance: null }),
      walletBalance: '12345.678',
    };
    const recovered = await p.publishOnce();
    expect(recovered.failed).toEqual([]);
    expect(alerts.map((a) => a.source)).toEqual(['publish.failed', 'publish.recovered']);
    const expected = await buildDocuments(source, LIMITS, NOW + 3000);
    for (const [path, document] of expected)
      expect({ ...(stored(`${DOCUMENT_FOLDER}/${path}`) as object), generatedAt: 0 }).toEqual({
        ...(document as object),
        generatedAt: 0,
      });
    expect((stored(`${DOCUMENT_FOLDER}/summary.json`) as { walletBalance: string }).walletBalance).toBe(
      '12345.678',
    );
    expectNothingSecret();
  });

  it('fails every upload signed with a wrong secret (the server checks signatures)', async () => {
    const source = seedDashboard({ now: NOW, symbols: 3, days: 2 });
    const wrong = new OssTarget({
      bucket: BUCKET,
      region: undefined,
      endpoint: server.url,
      cname: false,
      prefix: 'site/',
      timeoutMs: 5000,
      accessKeyId: KEY_ID,
      accessKeySecret: `${KEY_SECRET}x`,
    });
    const report = await publisher(source, { target: wrong }).publishOnce();
    expect(report.uploaded).toEqual([]);
    expect(server.objects.size).toBe(0);
    expect(new Set(server.requests.map((r) => r.code))).toEqual(new Set(['SignatureDoesNotMatch']));
    expect(alerts.map((a) => a.source)).toEqual(['publish.failed']);
  });

  it('refuses a document holding a secret or an internal address, and alerts', async () => {
    const source = seedDashboard({ now: NOW, symbols: 3, days: 2 });
    source.strategies = [`demo via ${HUB_URL}`];
    const report = await publisher(source).publishOnce();
    expect(report.refused).toEqual([`${DOCUMENT_FOLDER}/summary.json`]);
    expect(server.objects.has(`site/${DOCUMENT_FOLDER}/summary.json`)).toBe(false);
    // The manifest is held back: the page keeps showing the last complete set.
    expect(server.objects.has(`site/${DOCUMENT_FOLDER}/manifest.json`)).toBe(false);
    expect(alerts.map((a) => a.source)).toEqual(['publish.refused']);
    expect(logs.join('\n')).not.toContain(HUB_URL);
    expectNothingSecret();
  });
});

describe('local OSS server', () => {
  async function signedPut(key: string, body: string, tamper?: (headers: Record<string, string>) => void) {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-oss-date': new Date().toUTCString(),
      'x-oss-meta-origin': 'test',
    };
    const toSign = ossStringToSign('PUT', headers, BUCKET, key, new URLSearchParams());
    const signature = createHmac('sha1', KEY_SECRET).update(toSign).digest('base64');
    headers.authorization = `OSS ${KEY_ID}:${signature}`;
    tamper?.(headers);
    const response = await fetch(`${server.url}/${BUCKET}/${key}`, { method: 'PUT', headers, body });
    return { status: response.status, text: await response.text() };
  }

  it('accepts a correctly signed put and refuses a changed header, key id, date or body digest', async () => {
    expect((await signedPut('a.json', '{}')).status).toBe(200);
    const typeChanged = await signedPut('b.json', '{}', (h) => {
      h['content-type'] = 'text/plain';
    });
    expect(typeChanged.status).toBe(403);
    expect(typeChanged.text).toContain('<Code>SignatureDoesNotMatch</Code>');
    const metaChanged = await signedPut('b.json', '{}', (h) => {
      h['x-oss-meta-origin'] = 'other';
    });
    expect(metaChanged.text).toContain('SignatureDoesNotMatch');
    const otherKey = await signedPut('b.json', '{}', (h) => {
      h.authorization = (h.authorization ?? '').replace(KEY_ID, 'LTAIsomeoneElse');
    });
    expect(otherKey.text).toContain('InvalidAccessKeyId');
    const old = await signedPut('b.json', '{}', (h) => {
      h['x-oss-date'] = new Date(Date.now() - 20 * 60_000).toUTCString();
    });
    expect(old.text).toContain('RequestTimeTooSkewed');
    const digest = await signedPut('b.json', '{}', (h) => {
      h['content-md5'] = 'AAAAAAAAAAAAAAAAAAAAAA==';
    });
    expect(digest.status).toBe(403);
    expect(server.objects.has('b.json')).toBe(false);
    expect((await fetch(`${server.url}/${BUCKET}/a.json`)).status).toBe(403);
  });
});

describe('local folder target', () => {
  it('writes the site under its folder and refuses paths leaving it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'publisher-folder-'));
    try {
      const target = new LocalFolderTarget(dir);
      const body = new TextEncoder().encode('{"a":1}');
      await target.put({
        path: 'v1/charts/BTCUSDT.json',
        body,
        contentType: 'application/json',
        cacheControl: 'no-cache',
      });
      expect(await readFile(join(dir, 'v1', 'charts', 'BTCUSDT.json'), 'utf8')).toBe('{"a":1}');
      for (const path of ['../x.json', '/etc/x', 'v1//a', 'v1/./a', ''])
        await expect(target.put({ path, body, contentType: 'x', cacheControl: 'x' })).rejects.toThrow(
          /site path/,
        );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
