// The dashboard in a real headless Chromium: every page at phone and desktop widths, numbers equal to the records, charts drawn, the owner view locked.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentLimits } from '../../publisher/document-builder.js';
import { buildDocuments } from '../../publisher/document-builder.js';
import { LocalFolderTarget } from '../../publisher/publish-target.js';
import { Publisher } from '../../publisher/publisher.js';
import { readSiteFiles } from '../../publisher/site-files.js';
import type { MemoryDashboardSource } from '../../publisher/testing/memory-dashboard-source.js';
import { seedDashboard } from '../../publisher/testing/seed-dashboard.js';
import { FileRiskStateStore, OWNER_COMMAND_FILE } from '../../trader/risk/risk-state-store.js';
import type { HubServer } from '../../ts/hub/hub-server.js';
import { keyOf, startHub } from '../../ts/hub/testing/hub-fixtures.js';
import { Logger, registerSecret, silentLogger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import type {
  FixedDocuments,
  PositionRow,
  RoundTripRow,
  SymbolsDocument,
} from '../../ts/publish/dashboard-documents.js';
import { openSqliteStore } from '../../ts/store/open-store.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import { fill } from '../../ts/store/testing/record-fixtures.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { DashboardServer } from '../../web/server/dashboard-server.js';
import { readHubStatus } from '../../web/server/hub-status-reader.js';
import { MachineSampler } from '../../web/server/machine-stats.js';
import { formatExact, formatMoney } from '../../web/ui/format.js';
import { StorePaperTrades } from './paper-trades.js';
import { FileTradingControl } from './trading-control.js';

const CHROMIUM = process.env.TRIBUTARY_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const SITE = join(packageRoot, 'dist', 'site');
const SCREENSHOTS = join(packageRoot, 'test-results', 'dashboard');
const TOKEN = 'owner-token-7c1f0e9a2b4d6385';
const API_SECRET = 'api-secret-in-the-logs-0a9b8c7d6e5f';
const WIDTHS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1440, height: 900 },
] as const;
const PAGES = ['overview', 'daily', 'symbols', 'trades', 'charts', 'status'] as const;

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

if (!haveChromium) {
  // Visible in the test output: the browser tests need Debian's chromium package.
  console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}

describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  let browser: Browser;
  let server: DashboardServer;
  let hub: HubServer;
  let work: string;
  let source: MemoryDashboardSource;
  let docs: FixedDocuments;
  let store: RecordStore;

  beforeAll(async () => {
    if (!existsSync(join(SITE, 'public', 'index.html')) || !existsSync(join(SITE, 'owner', 'index.html')))
      throw new Error(`the dashboard is not built (${SITE}): run npm run build:web`);
    work = await mkdtemp(join(tmpdir(), 'dashboard-browser-'));
    const publicDir = join(work, 'public');
    const now = Date.now();
    source = seedDashboard({ now, symbols: 40, days: 12 });
    const publisher = new Publisher({
      source,
      target: new LocalFolderTarget(publicDir),
      limits: LIMITS,
      site: () => readSiteFiles(join(SITE, 'public')),
      forbidden: () => [],
      retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      alerts: { raise: () => {} },
      logger: silentLogger('publisher'),
      now: () => now,
    });
    const report = await publisher.publishOnce();
    expect(report.failed).toEqual([]);
    docs = Object.fromEntries(await buildDocuments(source, LIMITS, now)) as unknown as FixedDocuments;

    hub = await startHub('ws');
    const traders = join(work, 'traders');
    await mkdir(join(traders, 'trader-0'), { recursive: true });
    new FileRiskStateStore(join(traders, 'trader-0')).save({
      version: 1,
      trading: { state: 'ACTIVE', since: now - 60_000, source: 'start', reason: 'started' },
      closeAll: null,
      forceClosing: {},
      lastOwnerCommand: null,
    });
    store = await openSqliteStore(join(work, 'records.sqlite'));
    await store.write({
      fills: [
        fill({
          mode: 'paper',
          account: 'paper-0',
          price: '64250.10',
          qty: '0.004',
          quoteQty: '257.0004',
          realizedPnl: '0',
          commission: '0.1028',
          time: now - 5000,
        }),
      ],
    });
    const logFile = join(work, 'tributary.log');
    registerSecret(API_SECRET);
    await writeFile(
      logFile,
      [
        '[trader-0] {"level":"info","msg":"trading","strategy":"demo"}',
        `[hub] {"level":"warn","msg":"peer refused","detail":"signed with ${API_SECRET}"}`,
      ].join('\n'),
    );
    server = new DashboardServer({
      host: '127.0.0.1',
      port: 0,
      publicDir,
      ownerDir: join(SITE, 'owner'),
      ownerToken: TOKEN,
      owner: {
        hubStatus: () =>
          readHubStatus({ hubUrl: `ws://127.0.0.1:${hub.port}`, key: keyOf('viewer'), timeoutMs: 3000 }),
        machine: new MachineSampler(work),
        config: { hub: { port: hub.port }, exchange: { kind: 'simulator' } },
        secrets: {
          BINANCE_API_SECRET: API_SECRET,
          TRIBUTARY_OWNER_TOKEN: TOKEN,
          OSS_ACCESS_KEY_ID: undefined,
        },
        logFile,
        logLines: 100,
        trading: new FileTradingControl({ root: traders, traders: [0], applyWaitMs: 200 }),
        paperTrades: new StorePaperTrades(store, [0]),
        publisherStateFile: undefined,
      },
      logger: new Logger('dashboard', { level: 'error', sink: () => {} }),
    });
    await server.start();
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await hub?.close();
    await store?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** Opens `hash` at a width, failing on any console error or page error. */
  async function open(
    width: (typeof WIDTHS)[number],
    hash: string,
    ready: string,
  ): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: width.width, height: width.height } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/#${hash}`);
    await page.waitForSelector(`body[data-ready="${ready}"]`, { timeout: 30_000 });
    return { page, errors };
  }

  /** Every [data-value] number of a table row, in order. */
  async function rowValues(page: Page, table: string): Promise<string[][]> {
    return page.$$eval(`table#${table} tbody tr`, (rows) =>
      rows.map((r) => [...r.querySelectorAll('[data-value]')].map((e) => e.getAttribute('data-value') ?? '')),
    );
  }

  /** Shares of a chart's canvas pixels that are not background, and that are green / red. */
  async function canvasInk(
    page: Page,
    selector: string,
  ): Promise<{ ink: number; green: number; red: number }> {
    return page.$eval(selector, (box) => {
      let ink = 0;
      let green = 0;
      let red = 0;
      let total = 0;
      for (const canvas of box.querySelectorAll('canvas')) {
        const context = canvas.getContext('2d');
        if (context === null || canvas.width === 0 || canvas.height === 0) continue;
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) {
          const [r = 0, g = 0, b = 0, a = 0] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          total++;
          if (a === 0 || (r > 245 && g > 245 && b > 245)) continue;
          ink++;
          if (g > 120 && r < 90 && b < 120) green++;
          if (r > 180 && g < 90 && b < 90) red++;
        }
      }
      return { ink: ink / Math.max(total, 1), green, red };
    });
  }

  for (const width of WIDTHS) {
    for (const name of PAGES) {
      it(`renders ${name} at ${width.name} width (${width.width}px) with the records' numbers`, async () => {
        const { page, errors } = await open(width, name, name);
        try {
          if (name === 'overview') {
            const summary = docs['summary.json'];
            const field = (f: string) =>
              page.$eval(`[data-field="${f}"]`, (e) => [e.getAttribute('data-value'), e.textContent]);
            // The records: wallet balance and positions as the source holds them.
            expect(await field('walletBalance')).toEqual([
              source.accountRow?.walletBalance,
              formatMoney(source.accountRow?.walletBalance ?? null),
            ]);
            expect(await field('equity')).toEqual([summary.equity, formatMoney(summary.equity)]);
            expect(await field('todayPnl')).toEqual([summary.todayPnl, formatMoney(summary.todayPnl, true)]);
            expect(await field('todayCommission')).toEqual([
              summary.todayCommission,
              formatMoney(summary.todayCommission),
            ]);
            expect(await page.$eval('[data-field="openPositions"]', (e) => e.textContent)).toBe('3');
            const positions = docs['positions.json'].positions;
            expect(await rowValues(page, 'positions')).toEqual(
              positions.map((p: PositionRow) => [
                p.amount,
                p.entryPrice,
                p.markPrice,
                p.unrealizedPnl,
                p.notional,
              ]),
            );
            expect(positions.map((p) => p.entryPrice)).toEqual(source.positionRows.map((p) => p.entryPrice));
            const signs = await page.$$eval('[data-field="todayPnl"]', (e) => e.map((x) => x.className));
            expect(signs[0]).toMatch(summary.todayPnl.startsWith('-') ? /neg/ : /pos|num/);
            expect((await canvasInk(page, '#equity-chart')).ink).toBeGreaterThan(0.002);
          }
          if (name === 'daily') {
            const days = [...docs['daily.json'].days].reverse();
            expect(days.length).toBeGreaterThan(10);
            expect(await rowValues(page, 'daily')).toEqual(
              days.map((d) => [d.realizedPnl, d.commission, d.funding, d.net]),
            );
            const chart = await canvasInk(page, '#daily-chart');
            expect(chart.green + chart.red).toBeGreaterThan(100);
          }
          if (name === 'symbols') {
            const table = docs['symbols.json'] as SymbolsDocument;
            const values = await rowValues(page, 'symbols');
            expect(values.length).toBe(table.symbols.length);
            const bySymbol = new Map(table.symbols.map((s) => [s.symbol, s]));
            const names = await page.$$eval('table#symbols tbody tr td:first-child', (e) =>
              e.map((x) => x.textContent ?? ''),
            );
            for (const [i, symbol] of names.entries()) {
              const w = bySymbol.get(symbol)?.windows;
              expect(values[i]).toEqual([
                w?.['1d'].net,
                w?.['7d'].net,
                w?.['30d'].net,
                w?.all.net,
                w?.all.commission,
              ]);
            }
          }
          if (name === 'trades') {
            const d = docs['round-trips.json'];
            const trip = (t: RoundTripRow) => [
              t.quantity,
              t.entryPrice,
              t.exitPrice,
              t.pnl,
              t.commission,
              t.funding,
              t.net,
            ];
            expect(d.largeLosses.length).toBeGreaterThan(0);
            expect(await rowValues(page, 'large-losses')).toEqual(d.largeLosses.map(trip));
            expect(await rowValues(page, 'round-trips')).toEqual(d.roundTrips.map(trip));
            const shown = await page.$eval('table#round-trips tbody tr [data-value]', (e) => e.textContent);
            expect(shown).toBe(formatExact(d.roundTrips[0]?.quantity ?? null));
          }
          if (name === 'charts') {
            const chart = await canvasInk(page, '#candle-chart');
            expect(chart.ink).toBeGreaterThan(0.01);
            expect(chart.green).toBeGreaterThan(50);
            expect(chart.red).toBeGreaterThan(50);
          }
          if (name === 'status') {
            const rows = await page.$$eval('table#processes tbody tr td:first-child', (e) =>
              e.map((x) => x.textContent),
            );
            expect(rows).toEqual(docs['status.json'].processes.map((p) => p.name));
          }
          await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width.name}.png`), fullPage: true });
          expect(errors).toEqual([]);
        } finally {
          await page.context().close();
        }
      });
    }
  }

  it('draws each symbol chart with its fills and stop levels', async () => {
    const symbol = source.positionRows[0]?.symbol ?? '';
    const { page, errors } = await open(WIDTHS[1], `charts/${symbol}`, 'charts');
    try {
      const meta = await page.$eval('main p.meta', (e) => e.textContent ?? '');
      expect(meta).toMatch(/[1-9]\d* fills marked/);
      expect(meta).toMatch(/5 stop levels/);
      expect((await canvasInk(page, '#candle-chart')).red).toBeGreaterThan(50);
      await page.screenshot({ path: join(SCREENSHOTS, `chart-${symbol}-desktop.png`), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('refuses the owner view without the password', async () => {
    for (const path of ['/owner/', '/owner/api/live', '/owner/index.html']) {
      const none = await fetch(`${server.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
      const wrong = await fetch(`${server.url}${path}`, {
        headers: { authorization: 'Bearer not-the-token' },
      });
      expect(wrong.status).toBe(401);
    }
    const post = await fetch(`${server.url}/owner/api/trading-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tributary-owner': '1' },
      body: JSON.stringify({ trader: 'trader-0', state: 'HALTED', reason: 'x' }),
    });
    expect(post.status).toBe(401);
    // And in the browser: no credentials, no page.
    const context = await browser.newContext();
    const page = await context.newPage();
    // Chromium answers a refused Basic challenge with ERR_INVALID_AUTH_CREDENTIALS (no prompt headless).
    const status = await page.goto(`${server.url}/owner/`).then(
      (response) => String(response?.status()),
      (error: Error) => error.message,
    );
    expect(status).toMatch(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
    // A refused navigation may still be settling (Chromium moves on to its error page): read the
    // page once it holds still.
    let content: string | undefined;
    await waitUntil(async () => {
      content = await page.content().catch(() => undefined);
      return content !== undefined;
    }, 'the refused page to settle');
    expect(content).not.toContain('Processes and heartbeats');
    await context.close();
    // The public site never serves the owner's files.
    expect((await fetch(`${server.url}/../owner/index.html`)).status).not.toBe(200);
  });

  for (const width of WIDTHS) {
    it(`shows the owner's live view at ${width.name} width and halts a trader through the command file`, async () => {
      const context = await browser.newContext({
        viewport: { width: width.width, height: width.height },
        httpCredentials: { username: 'owner', password: TOKEN },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${server.url}/owner/`);
        await page.waitForSelector('body[data-ready="owner"]', { timeout: 30_000 });
        expect(await page.$eval('[data-field="hub"]', (e) => e.textContent)).toMatch(/^up /);
        expect(await page.$eval('[data-field="state-trader-0"]', (e) => e.textContent)).toBe('ACTIVE');
        expect(await rowValues(page, 'paper-trades')).toEqual([['64250.10', '0.004', '0', '0.1028']]);
        expect(await page.$$eval('table#machines tbody tr', (r) => r.length)).toBe(1);
        const body = (await page.textContent('body')) ?? '';
        expect(body).not.toContain(TOKEN);
        expect(body).not.toContain(API_SECRET);
        expect(body).toContain('set (');
        expect(body).toContain('peer refused');
        await page.screenshot({ path: join(SCREENSHOTS, `owner-${width.name}.png`), fullPage: true });

        page.on('dialog', (dialog) => void dialog.accept(`halt from the ${width.name} test`));
        // The page redraws every 3 s; a click that races a redraw is tried again (three times at most).
        for (let attempt = 1; attempt <= 3; attempt++) {
          await page.click('[data-command="trader-0:HALTED"]');
          const shown = await page
            .waitForSelector('#command-status:has-text("HALTED")', { timeout: 5_000 })
            .then(() => true)
            .catch(() => false);
          if (shown) break;
          if (attempt === 3) throw new Error('the HALTED command was not acknowledged on the page');
        }
        const command = JSON.parse(
          await readFile(join(work, 'traders', 'trader-0', OWNER_COMMAND_FILE), 'utf8'),
        ) as {
          state: string;
          reason: string;
        };
        expect(command).toMatchObject({ state: 'HALTED', reason: `halt from the ${width.name} test` });
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
