import { describe, expect, it } from 'vitest';
import { runCollect } from './collect.js';
import { main } from './main.js';
import { runRecord } from './record.js';
import { runTrader } from './trader.js';
import { runUp } from './up.js';
import { UsageError } from './usage-error.js';

describe('tributary commands', () => {
  it('refuse bad arguments with a usage error that names them', async () => {
    await expect(runCollect(['nope'])).rejects.toThrow(/expected one collector kind/);
    await expect(runCollect(['kline', '--instance', '-1'])).rejects.toThrow(/--instance/);
    await expect(runCollect(['kline', '--bogus'])).rejects.toBeInstanceOf(UsageError);
    await expect(runTrader(['--status-every', 'soon'])).rejects.toThrow(/--status-every/);
    await expect(runUp(['--bogus'])).rejects.toBeInstanceOf(UsageError);
    await expect(runRecord(['--mode', 'pretend'])).rejects.toThrow(
      /--mode must be one of live, testnet, paper/,
    );
    await expect(runRecord(['--instance', 'x'])).rejects.toThrow(/--instance/);
  });

  it('exit 2 on a usage error and list every command', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      err.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['collect', 'nope'])).toBe(2);
      expect(await main(['no-such-command'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    const text = err.join('');
    for (const command of ['up', 'sim', 'hub', 'collect', 'trader', 'record', 'aggregate']) {
      expect(text).toContain(`tributary ${command}`);
    }
  });

  it('a collector without an exchange address says which setting is missing', async () => {
    const saved = { ...process.env };
    delete process.env.TRIBUTARY_HUB_KEY;
    try {
      await expect(runCollect(['kline'])).rejects.toThrow(/exchange\.restUrl/);
    } finally {
      process.env = saved;
    }
  });
});
