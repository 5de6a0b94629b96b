import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecret, runHub } from './hub.js';
import { UsageError } from './usage-error.js';

describe('tributary hub', () => {
  it('reads the secret from an environment variable or a private file, never from arguments', async () => {
    process.env.TRIBUTARY_TEST_HUB_SECRET = 'x'.repeat(32);
    expect(await readSecret('TRIBUTARY_TEST_HUB_SECRET', undefined)).toBe('x'.repeat(32));
    const dir = await mkdtemp(join(tmpdir(), 'hub-secret-'));
    const file = join(dir, 'secret');
    await writeFile(file, `${'y'.repeat(20)}\n`);
    await chmod(file, 0o600);
    expect(await readSecret(undefined, file)).toBe('y'.repeat(20));
    await chmod(file, 0o644);
    await expect(readSecret(undefined, file)).rejects.toThrow(/chmod 600/);
    await expect(readSecret(undefined, undefined)).rejects.toBeInstanceOf(UsageError);
    await expect(readSecret('TRIBUTARY_TEST_HUB_SECRET', file)).rejects.toBeInstanceOf(UsageError);
    await expect(readSecret('TRIBUTARY_TEST_HUB_UNSET', undefined)).rejects.toThrow(/not set/);
    process.env.TRIBUTARY_TEST_HUB_SHORT = 'short';
    await expect(readSecret('TRIBUTARY_TEST_HUB_SHORT', undefined)).rejects.toThrow(/at least 16 bytes/);
  });

  it('refuses bad options with a usage error', async () => {
    await expect(runHub(['--secret', 'abc'])).rejects.toBeInstanceOf(UsageError);
    await expect(runHub(['--secret-env', 'X', '--transport', 'tcp'])).rejects.toThrow(/--transport/);
    process.env.TRIBUTARY_TEST_HUB_SECRET = 'x'.repeat(32);
    await expect(runHub(['--secret-env', 'TRIBUTARY_TEST_HUB_SECRET', '--port', '70000'])).rejects.toThrow(
      /--port/,
    );
  });

  it('runs until SIGTERM and exits 0', async () => {
    process.env.TRIBUTARY_TEST_HUB_SECRET = 'x'.repeat(32);
    const before = process.listenerCount('SIGTERM');
    const exit = runHub([
      '--secret-env',
      'TRIBUTARY_TEST_HUB_SECRET',
      '--port',
      '0',
      '--symbols',
      'BTCUSDT,ETHUSDT',
    ]);
    // The signal handlers are installed once the hub listens.
    while (process.listenerCount('SIGTERM') === before)
      await new Promise((resolve) => setTimeout(resolve, 10));
    process.emit('SIGTERM');
    expect(await exit).toBe(0);
  });
});
