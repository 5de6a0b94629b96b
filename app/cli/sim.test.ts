// Tests of `tributary sim`: flags to configuration, and a full start/serve/stop cycle.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../sim/simulator-config.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { runSim } from './sim.js';
import { UsageError } from './usage-error.js';

/** Runs `tributary sim` until `stop` resolves; collects what it prints. */
function launch(args: string[]) {
  let output = '';
  let release: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    release = resolve;
  });
  const exit = runSim(args, { out: (text) => (output += text), stopped: () => stopped });
  return { exit, output: () => output, stop: () => release('SIGTERM') };
}

const waitFor = (check: () => boolean) => waitUntil(check, 'the condition', 5_000, 20);

describe('tributary sim', () => {
  it('starts with the demo key, prints the URLs and the key but no secret, and stops cleanly', async () => {
    const run = launch(['--port', '0', '--symbols', 'BTCUSDT', '--seed', '5', '--balance', '2500']);
    await waitFor(() => run.output().includes('Press Ctrl-C'));
    const text = run.output();
    expect(text).toContain(DEMO_API_KEY);
    expect(text).toContain('demo key pair');
    expect(text).not.toMatch(/secret: tributary/i);
    const restUrl = /REST:\s+(\S+)/.exec(text)?.[1];
    expect(restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toMatch(/WebSocket:\s+ws:\/\/127\.0\.0\.1:\d+/);
    const info = (await (await fetch(`${restUrl}/fapi/v1/exchangeInfo`)).json()) as {
      symbols: { symbol: string }[];
    };
    expect(info.symbols.map((s) => s.symbol)).toEqual(['BTCUSDT']);
    run.stop();
    expect(await run.exit).toBe(0);
    await expect(fetch(`${restUrl}/fapi/v1/time`)).rejects.toThrow();
  });

  it('prints the configured key, never the secret', async () => {
    const run = launch(['--port', '0', '--api-key', 'my-own-key-1', '--api-secret', 'my-own-secret-1']);
    await waitFor(() => run.output().includes('Press Ctrl-C'));
    expect(run.output()).toContain('my-own-key-1');
    expect(run.output()).not.toContain('my-own-secret-1');
    run.stop();
    expect(await run.exit).toBe(0);
  });

  it('refuses bad flags and bad config files with a usage error naming the problem', async () => {
    const bad = async (args: string[]): Promise<string> => {
      try {
        await runSim(args, { out: () => {}, stopped: () => new Promise(() => {}) });
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('expected a usage error');
    };
    expect(await bad(['--port', 'eighty'])).toContain('--port');
    expect(await bad(['--api-key', 'only-the-key'])).toContain('--api-secret');
    expect(await bad(['--speed', '10'])).toContain('--replay');
    expect(await bad(['--replay', 'trades.csv'])).toContain('--replay-symbol');
    expect(await bad(['--position-mode', 'sideways'])).toContain('accounts[0].positionMode');
    expect(await bad(['--bogus'])).toContain('bogus');
    const dir = mkdtempSync(join(tmpdir(), 'tributary-sim-'));
    const file = join(dir, 'sim.json');
    writeFileSync(file, JSON.stringify({ accounts: [{ apiKey: 'config-key-1', apiSecret: 'x' }] }));
    expect(await bad(['--config', file])).toContain('accounts[0].apiSecret');
    writeFileSync(file, '{');
    expect(await bad(['--config', file])).toContain('not JSON');
  });

  it('prints help', async () => {
    let text = '';
    expect(await runSim(['--help'], { out: (t) => (text += t), stopped: () => new Promise(() => {}) })).toBe(
      0,
    );
    expect(text).toContain('--replay');
  });
});
