import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../ts/package-root.js';
import { symbolFromFileName } from './aggregate.js';

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
  it('prints one exact row per interval, empty ones included', async () => {
    const path = fixture('ETHUSDT-aggTrades-2026-05-08.csv', TRADES_US);
    const { code, stdout, stderr } = await tributary(['aggregate', '--interval', '1m', path]);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
      '1778198400000,100.5,101.0,100.5,101.0,3.5,1778198459999,352.50,3,2.0,201.00,0',
      '1778198460000,101.0,101.0,101.0,101.0,0.0,1778198519999,0.00,0,0.0,0.00,0',
      '1778198520000,99.9,99.9,99.9,99.9,0.5,1778198579999,49.95,3,0.5,49.95,0',
      '',
    ]);
    expect(stderr).toMatch(/^3 1m klines from 3 aggTrades/);
  });

  it('writes to --output without a header', async () => {
    const path = fixture('ETHUSDT-aggTrades-2026-05-08.csv', TRADES_US);
    const output = `${path}.klines`;
    const { code } = await tributary(['aggregate', '-i', '3m', '--no-header', '-q', '-o', output, path]);
    expect(code).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe(
      '1778198400000,100.5,101.0,99.9,99.9,4.0,1778198579999,402.45,6,2.5,250.95,0\n',
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

  it('takes the symbol from a dump file name', () => {
    expect(symbolFromFileName('/data/BTCUSDT-aggTrades-2026-05-08.csv')).toBe('BTCUSDT');
    expect(symbolFromFileName('trades.csv')).toBeUndefined();
  });

  it.runIf(existsSync(dayFile))('turns the full BTCUSD_PERP day into 1,440 one-minute klines', async () => {
    const { code, stdout } = await tributary(['aggregate', '--interval', '1m', '--no-header', dayFile]);
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
  });
});

if (!existsSync(dayFile)) {
  console.warn(`SKIP: ${dayFile} is absent; the full-day aggregate test did not run`);
}
