// `tributary download` against a local server with data.binance.vision's paths, its files then read by a backtest.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { createStrategy } from '../../trader/strategies/registry.js';
import { ArchiveServer } from '../../ts/binance-archive/testing/archive-server.js';
import { runBacktest } from '../backtest/backtest-runner.js';
import { aggTradesCsv, minuteTrades } from '../backtest/testing/trade-files.js';
import { runDownload } from './download.js';
import { UsageError } from './usage-error.js';

let server: ArchiveServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function captured(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await run(), out: out.join('') };
  } finally {
    process.stdout.write = write;
  }
}

describe('tributary download', () => {
  it('fetches USD-M aggTrades days, reports a missing one, and a backtest reads what it wrote', async () => {
    server = await ArchiveServer.start();
    const start = Date.parse('2024-03-01T00:00:00Z');
    // Day one: +2 % in minute 1 (the demo opens), −1 % in minute 3 (it closes).
    const trades = minuteTrades(
      start,
      [100000, 100000, 102000, 102000, 101000],
      [100000, 102000, 102000, 101000, 101000],
    );
    const name = 'BTCUSDT-aggTrades-2024-03-01';
    server.publish(
      `data/futures/um/daily/aggTrades/BTCUSDT/${name}.zip`,
      Buffer.from(zipSync({ [`${name}.csv`]: strToU8(aggTradesCsv(trades)) })),
    );
    server.fault(`data/futures/um/daily/aggTrades/BTCUSDT/${name}.zip`, { kind: 'status', status: 503 });
    const out = mkdtempSync(join(tmpdir(), 'tributary-download-cli-'));
    const args = ['--symbols', 'BTCUSDT', '--from', '2024-03-01', '--to', '2024-03-02', '-o', out];
    const first = await captured(() =>
      runDownload([...args, '--base-url', server?.url ?? '', '--rate', '50']),
    );
    expect(first.code).toBe(0);
    expect(first.out).toContain(`[1/2] downloaded ${join(out, `${name}.zip`)}`);
    expect(first.out).toMatch(/\[2\/2\] missing .*BTCUSDT-aggTrades-2024-03-02\.zip \(404\)/);
    expect(first.out).toContain('1 downloaded, 0 already present, 1 missing, 0 failed');
    expect(readdirSync(out)).toEqual([`${name}.zip`]);
    // The base URL may come from the environment too.
    process.env.TRIBUTARY_ARCHIVE_URL = server.url;
    try {
      const second = await captured(() => runDownload([...args, '--rate', '50']));
      expect(second.out).toContain('0 downloaded, 1 already present, 1 missing, 0 failed');
    } finally {
      delete process.env.TRIBUTARY_ARCHIVE_URL;
    }

    const outcome = await runBacktest({
      strategyName: 'demo',
      strategy: createStrategy('demo', { notional: '1000' }),
      files: [join(out, `${name}.zip`)],
    });
    expect(outcome.recorder.fills.map((f) => f.side)).toEqual(['BUY', 'SELL']);
  });

  it('fetches fundingRate months (monthly by default), reports a missing one, and a backtest charges what it wrote', async () => {
    server = await ArchiveServer.start();
    const start = Date.parse('2024-03-01T00:00:00Z');
    const name = 'BTCUSDT-fundingRate-2024-03';
    const rows = `calc_time,funding_interval_hours,last_funding_rate\n${start},8,0.00010000\n${start + 28_800_000},8,0.00250000\n`;
    server.publish(
      `data/futures/um/monthly/fundingRate/BTCUSDT/${name}.zip`,
      Buffer.from(zipSync({ [`${name}.csv`]: strToU8(rows) })),
    );
    const out = mkdtempSync(join(tmpdir(), 'tributary-download-funding-'));
    const args = [
      '--symbols',
      'BTCUSDT',
      '--kind',
      'fundingRate',
      '--from',
      '2024-03',
      '--to',
      '2024-04',
      '-o',
      out,
    ];
    const first = await captured(() =>
      runDownload([...args, '--base-url', server?.url ?? '', '--rate', '50']),
    );
    expect(first.code).toBe(0);
    expect(first.out).toContain(`[1/2] downloaded ${join(out, `${name}.zip`)}`);
    expect(first.out).toMatch(
      /\[2\/2\] missing .*\/monthly\/fundingRate\/BTCUSDT\/BTCUSDT-fundingRate-2024-04\.zip \(404\)/,
    );
    expect(readdirSync(out)).toEqual([`${name}.zip`]);

    // Long from minute 2 to minute 4: no funding time inside, so nothing charged, but the file is read and reported.
    const trades = minuteTrades(
      start,
      [100000, 100000, 102000, 102000, 101000],
      [100000, 102000, 102000, 101000, 101000],
    );
    const day = join(out, 'BTCUSDT-aggTrades-2024-03-01.csv');
    writeFileSync(day, aggTradesCsv(trades));
    const outcome = await runBacktest({
      strategyName: 'demo',
      strategy: createStrategy('demo', { notional: '1000' }),
      files: [day, join(out, `${name}.zip`)],
    });
    expect(outcome.fundingSource).toMatchObject({
      source: 'recorded',
      recorded: [{ symbol: 'BTCUSDT', file: `${name}.zip`, rows: 2 }],
    });
  });

  it('refuses fundingRate by day, for spot, or with an interval', async () => {
    const base = ['--symbols', 'BTCUSDT', '--kind', 'fundingRate', '--base-url', 'http://127.0.0.1:1'];
    await expect(runDownload([...base, '--from', '2024-01-01', '--period', 'daily'])).rejects.toThrow(
      /fundingRate is published monthly only/,
    );
    await expect(runDownload([...base, '--from', '2024-01', '--market', 'spot'])).rejects.toThrow(
      /spot has no fundingRate/,
    );
    await expect(runDownload([...base, '--from', '2024-01', '--interval', '8h'])).rejects.toThrow(
      /--interval is for --kind klines, got --interval 8h with fundingRate/,
    );
  });

  it('refuses bad arguments naming them', async () => {
    await expect(runDownload(['--from', '2024-01-01'])).rejects.toThrow(/--symbols is required/);
    await expect(runDownload(['--symbols', 'BTCUSDT', '--from', '2024-13-01'])).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(
      runDownload(['--symbols', 'BTCUSDT', '--from', '2024-01-01', '--kind', 'trades']),
    ).rejects.toThrow(/--kind/);
    await expect(
      runDownload(['--symbols', 'BTCUSDT', '--from', '2024-01-01', '--base-url', 'ftp://x']),
    ).rejects.toThrow(/--base-url/);
  });

  it('refuses --interval without --kind klines rather than fetching aggTrades regardless', async () => {
    await expect(
      runDownload([
        '--symbols',
        'BTCUSDT',
        '--from',
        '2024-01-01',
        '--interval',
        '5m',
        '--base-url',
        'http://127.0.0.1:1',
      ]),
    ).rejects.toThrow(/--interval is for --kind klines/);
  });
});
