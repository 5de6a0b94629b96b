import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../ts/package-root.js';
import { runAggregate, symbolFromFileName } from './aggregate.js';

const run = promisify(execFile);
const cli = join(packageRoot, 'bin', 'tributary.js');
const dataDir = join(packageRoot, '..', 'shared', 'data');
const dayFile = join(dataDir, 'BTCUSD_PERP-aggTrades-2026-05-08.csv');

async function tributary(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function fixture(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-aggregate-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Microsecond times (as the 2025+ spot dumps), no header, one empty minute between the trades.
const TRADES_US = [
  '10,100.5,2.0,100,101,1778198400020000,false',
  '11,101.0,1.5,102,102,1778198430000000,true',
  '12,99.9,0.5,103,105,1778198520000000,false',
].join('\n');

describe('tributary aggregate', () => {
  it('prints one exact row per interval, empty ones included, times in the input unit', async () => {
    const path = fixture('ETHUSDT-aggTrades-2026-05-08.csv', TRADES_US);
    const { code, stdout, stderr } = await tributary(['aggregate', '--interval', '1m', path]);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
      '1778198400000000,100.5,101.0,100.5,101.0,3.5,1778198459999999,352.50,3,2.0,201.00,0',
      '1778198460000000,101.0,101.0,101.0,101.0,0.0,1778198519999999,0.00,0,0.0,0.00,0',
      '1778198520000000,99.9,99.9,99.9,99.9,0.5,1778198579999999,49.95,3,0.5,49.95,0',
      '',
    ]);
    expect(stderr).toMatch(/^3 1m klines from 3 aggTrades/);
  });

  it('reads a spot dump (8 columns, µs) and prints its quote columns at 8 decimals', async () => {
    const spot = [
      '3000000001,80006.00000000,0.00012345,5000000001,5000000001,1778198400000123,False,True',
      '3000000002,80006.01000000,0.50000000,5000000002,5000000003,1778198400500000,True,True',
      '3000000003,0.12345678,0.12345678,5000000004,5000000004,1778198460000000,False,True',
    ].join('\n');
    const path = fixture('BTCUSDT-aggTrades-2026-05-08.csv', spot);
    const { code, stdout } = await tributary(['aggregate', '-i', '1m', '--no-header', '-q', path]);
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n')).toEqual([
      '1778198400000000,80006.00000000,80006.01000000,80006.00000000,80006.01000000,0.50012345,1778198459999999,40012.88174070,3,0.00012345,9.87674070,0',
      // 0.12345678² = 0.0152415765279684, rounded half to even at 8 decimals.
      '1778198460000000,0.12345678,0.12345678,0.12345678,0.12345678,0.12345678,1778198519999999,0.01524158,1,0.12345678,0.01524158,0',
    ]);
  });

  it('computes a COIN-M quote volume from the contract size', async () => {
    const coinM = '1,79972.8,542,1,5,1778198400020,false\n2,80000.0,3,6,6,1778198400030,true\n';
    const path = fixture('BTCUSD_PERP-aggTrades-2026-05-08.csv', coinM);
    const refused = await tributary(['aggregate', '-i', '1m', path]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--contract-size');
    const { code, stdout } = await tributary([
      'aggregate',
      '-i',
      '1m',
      '--no-header',
      '--contract-size',
      '100',
      path,
    ]);
    expect(code).toBe(0);
    // 542 × 100 ÷ 79972.8 = 0.6777304283… → 0.67773043, plus 3 × 100 ÷ 80000 = 0.00375.
    expect(stdout).toBe(
      '1778198400000,79972.8,80000.0,79972.8,80000.0,545,1778198459999,0.68148043,6,542,0.67773043,0\n',
    );
    const info = fixture(
      'exchangeInfo.json',
      JSON.stringify({
        symbols: [
          { symbol: 'ETHUSD_PERP', contractSize: 10 },
          { symbol: 'BTCUSD_PERP', contractSize: 100 },
        ],
      }),
    );
    const fromInfo = await tributary(['aggregate', '-i', '1m', '--no-header', '--exchange-info', info, path]);
    expect(fromInfo.stdout).toBe(stdout);
    const unlisted = await tributary([
      'aggregate',
      '-i',
      '1m',
      '--symbol',
      'XRPUSD_PERP',
      '--exchange-info',
      info,
      path,
    ]);
    expect(unlisted.code).toBe(2);
    expect(unlisted.stderr).toContain('XRPUSD_PERP is not listed');
    expect((await tributary(['aggregate', '-i', '1m', '--contract-size', '-5', path])).code).toBe(2);
  });

  it('refuses non-positive prices and quantities and out-of-order rows, leaving no partial file', async () => {
    const good = '10,100.5,2.0,100,101,1778198400020,false\n11,101.0,1.5,102,102,1778198430000,true\n';
    const cases: [string, string][] = [
      [`${good}12,0,1.0,103,103,1778198530000,false\n`, 'line 3: column price: must be positive'],
      [`${good}12,100,-1.0,103,103,1778198530000,false\n`, 'line 3: column quantity: must be positive'],
      [`${good}11,101.0,1.5,102,102,1778198430000,true\n`, 'line 3: aggregate trade id 11 is not above'],
      [`${good}9,101.0,1.5,99,99,1778198530000,true\n`, 'line 3: aggregate trade id 9 is not above'],
      [`${good}12,101.0,1.5,103,103,1778198429999,true\n`, 'line 3: trade 12 at 1778198429999 ms is before'],
    ];
    for (const [text, message] of cases) {
      // Enough rows after the bad one that a partial output would have been flushed.
      const path = fixture('ETHUSDT-aggTrades-x.csv', text);
      const output = join(dirname(path), 'klines.csv');
      writeFileSync(output, 'previous run\n');
      const { code, stderr } = await tributary(['aggregate', '-i', '1m', '-q', '-o', output, path]);
      expect(code, text).toBe(1);
      expect(stderr).toContain(message);
      expect(readFileSync(output, 'utf8')).toBe('previous run\n');
      expect(readdirSync(dirname(path)).sort()).toEqual(['ETHUSDT-aggTrades-x.csv', 'klines.csv']);
    }
  });

  it('writes to --output without a header', async () => {
    const path = fixture('ETHUSDT-aggTrades-2026-05-08.csv', TRADES_US);
    const output = `${path}.klines`;
    const { code } = await tributary(['aggregate', '-i', '3m', '--no-header', '-q', '-o', output, path]);
    expect(code).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe(
      '1778198400000000,100.5,101.0,99.9,99.9,4.0,1778198579999999,402.45,6,2.5,250.95,0\n',
    );
  });

  it('names the line of a bad row and exits 1', async () => {
    const path = fixture(
      'BTCUSDT-aggTrades-x.csv',
      `${TRADES_US}\n13,1e5,1.0,106,106,1778198530000000,false\n`,
    );
    const { code, stderr } = await tributary(['aggregate', '--interval', '1m', path]);
    expect(code).toBe(1);
    expect(stderr).toContain('line 4');
    expect(stderr).toContain('price');
  });

  it('rejects bad arguments with exit code 2', async () => {
    const path = fixture('BTCUSDT-aggTrades-x.csv', TRADES_US);
    expect((await tributary(['aggregate', path])).stderr).toContain('--interval is required');
    const badInterval = await tributary(['aggregate', '--interval', '2m', path]);
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toContain('unknown interval "2m"');
    const month = await tributary(['aggregate', '--interval', '1M', path]);
    expect(month.code).toBe(1);
    expect(month.stderr).toContain('1M');
    const noSymbol = await tributary(['aggregate', '--interval', '1m', fixture('trades.csv', TRADES_US)]);
    expect(noSymbol.code).toBe(2);
    expect(noSymbol.stderr).toContain('--symbol');
    expect((await tributary(['aggregate', '--interval', '1m', '--bogus', path])).code).toBe(2);
    expect((await tributary(['nonsense'])).code).toBe(2);
  });

  it('refuses a symbol in lower case: a COIN-M one would pass for linear and get wrong quote volumes', async () => {
    const path = fixture('trades.csv', TRADES_US);
    await expect(runAggregate(['-i', '1m', '-q', '--symbol', 'btcusd_perp', path])).rejects.toThrow(
      /--symbol: "btcusd_perp" is not a symbol name/,
    );
    const named = fixture('btcusd_perp-aggTrades-2026-05-08.csv', TRADES_US);
    await expect(runAggregate(['-i', '1m', '-q', named])).rejects.toThrow(
      /"btcusd_perp" is not a symbol name/,
    );
  });

  it('takes the symbol from a dump file name', () => {
    expect(symbolFromFileName('/data/BTCUSDT-aggTrades-2026-05-08.csv')).toBe('BTCUSDT');
    expect(symbolFromFileName('trades.csv')).toBeUndefined();
  });

  it.runIf(existsSync(dayFile))('turns the full BTCUSD_PERP day into 1,440 one-minute klines', async () => {
    const { code, stdout } = await tributary([
      'aggregate',
      '--interval',
      '1m',
      '--no-header',
      '--contract-size',
      '100',
      dayFile,
    ]);
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(1440);
    const openTimes = rows.map((r) => Number(r.split(',')[0]));
    openTimes.forEach((t, i) => {
      expect(t).toBe(1778198400000 + i * 60_000);
    });
    // Every underlying trade is counted once: Σ(l − f + 1) over the file.
    const lines = readFileSync(dayFile, 'utf8').trimEnd().split('\n').slice(1);
    const expectedTrades = lines.reduce((sum, line) => {
      const [, , , first, last] = line.split(',');
      return sum + Number(last) - Number(first) + 1;
    }, 0);
    expect(rows.reduce((sum, r) => sum + Number(r.split(',')[8]), 0)).toBe(expectedTrades);
    // Base asset volume at Binance's 8 decimals, near Σ qty × 100 ÷ price.
    const quotes = rows.map((r) => r.split(',')[7] ?? '');
    for (const q of quotes) {
      expect(q).toMatch(/^\d+\.\d{8}$/);
    }
    const expectedBase = lines.reduce((sum, line) => {
      const [, price, qty] = line.split(',');
      return sum + (Number(qty) * 100) / Number(price);
    }, 0);
    const base = quotes.reduce((sum, q) => sum + Number(q), 0);
    expect(Math.abs(base - expectedBase)).toBeLessThan(1e-6 * expectedBase);
  });
});

if (!existsSync(dayFile)) {
  console.warn(`SKIP: ${dayFile} is absent; the full-day aggregate test did not run`);
}
