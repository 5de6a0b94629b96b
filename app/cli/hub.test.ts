import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { issueKey } from '../../ts/hub/key-file.js';
import { keysFileOf, runHub } from './hub.js';
import { UsageError } from './usage-error.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function keyFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-cli-'));
  dirs.push(dir);
  const file = join(dir, 'keys.json');
  await issueKey(file, { role: 'collector', peers: ['kline-*'] });
  return file;
}

describe('tributary hub', () => {
  it('takes the key file from --keys or TRIBUTARY_HUB_KEYS, and says how to make one when neither is set', () => {
    expect(keysFileOf('/a/keys.json', {})).toBe('/a/keys.json');
    expect(keysFileOf(undefined, { TRIBUTARY_HUB_KEYS: '/b/keys.json' })).toBe('/b/keys.json');
    expect(() => keysFileOf(undefined, {})).toThrow(/tributary keys issue/);
  });

  it('refuses bad options with a usage error, and a missing or unreadable key file', async () => {
    await expect(runHub(['--secret', 'abc'])).rejects.toBeInstanceOf(UsageError);
    await expect(runHub(['--keys', 'x', '--transport', 'tcp'])).rejects.toThrow(/--transport/);
    await expect(runHub(['--keys', 'x', '--port', '70000'])).rejects.toThrow(/--port/);
    await expect(runHub(['--keys', '/nonexistent/keys.json', '--port', '0'])).rejects.toThrow(
      /cannot be read/,
    );
  });

  it('refuses an empty port, snapshots in seconds (milliseconds are meant), and lower-case or repeated symbols', async () => {
    const keys = ['--keys', '/nonexistent/keys.json'];
    // An unset `--port "$PORT"` would listen on a random port no peer knows.
    await expect(runHub([...keys, '--port', ''])).rejects.toThrow(/--port must be/);
    await expect(runHub([...keys, '--port', '0x50'])).rejects.toThrow(/--port must be/);
    // 30 is 30 ms: a full snapshot to every subscriber 33 times a second.
    await expect(runHub([...keys, '--snapshot-every', '30'])).rejects.toThrow(
      /--snapshot-every must be 0 .* or/,
    );
    await expect(runHub([...keys, '--symbols', 'BTCUSDT,ethusdt'])).rejects.toThrow(
      /--symbols: "ethusdt" is not a symbol name/,
    );
    await expect(runHub([...keys, '--symbols', 'BTCUSDT,BTCUSDT'])).rejects.toThrow(
      /--symbols: BTCUSDT is named twice/,
    );
  });

  it('runs until SIGTERM and exits 0', async () => {
    const file = await keyFile();
    const before = process.listenerCount('SIGTERM');
    const exit = runHub(['--keys', file, '--port', '0', '--symbols', 'BTCUSDT,ETHUSDT']);
    // The signal handlers are installed once the hub listens.
    while (process.listenerCount('SIGTERM') === before)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(0);
    process.emit('SIGTERM');
    expect(await exit).toBe(0);
  });
});
