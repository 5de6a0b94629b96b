import { describe, expect, it } from 'vitest';
import { runAggregate } from './aggregate.js';
import { runCollect } from './collect.js';
import { runDownload } from './download.js';
import { runGateway } from './gateway.js';
import { main } from './main.js';
import { runRecord } from './record.js';
import { runSim } from './sim.js';
import { runStatus } from './status.js';
import { runTrader } from './trader.js';
import { runUp } from './up.js';
import { tradersArg, UsageError } from './usage-error.js';

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

  it('refuse an option given twice instead of keeping the last one', async () => {
    await expect(runCollect(['kline', '--instance', '1', '--instance', '2'])).rejects.toThrow(
      /--instance is given twice/,
    );
    await expect(
      runDownload(['--symbols', 'BTCUSDT', '--from', '2024-01-01', '--from', '2024-02-01']),
    ).rejects.toThrow(/--from is given twice/);
    await expect(
      runAggregate(['-i', '1m', '--interval', '1h', 'BTCUSDT-aggTrades-2024-01-01.csv']),
    ).rejects.toThrow(/--interval is given twice/);
    await expect(runCollect(['kline', '--instance', '1', '--instance', '2'])).rejects.toBeInstanceOf(
      UsageError,
    );
    const stopAtOnce = { out: () => {}, stopped: async () => 'SIGTERM' };
    await expect(runSim(['--port', '0', '--seed', '1', '--seed', '2'], stopAtOnce)).rejects.toThrow(
      /--seed is given twice/,
    );
  });

  it('refuse an instance number or a port that is empty or not written as digits, and repeated trader numbers', async () => {
    // An empty `--instance "$N"` would otherwise run as instance 0, under another process's name.
    await expect(runCollect(['kline', '--instance', ''])).rejects.toThrow(
      /--instance must be a whole number/,
    );
    await expect(runCollect(['kline', '--instance', '0x1'])).rejects.toThrow(
      /--instance must be a whole number/,
    );
    // An unset `--port "$PORT"` would listen on a random port no trader knows.
    await expect(runGateway(['--port', ''])).rejects.toThrow(/--port must be an integer/);
    expect(() => tradersArg('0,,2')).toThrow(/--traders/);
    expect(() => tradersArg('0,0')).toThrow(/--traders/);
    expect(tradersArg('0, 2')).toEqual([0, 2]);
  });

  it('refuse a --status-every beyond what a timer can wait (it would fire every millisecond)', async () => {
    await expect(runCollect(['kline', '--status-every', '3000000'])).rejects.toThrow(/--status-every/);
    await expect(runTrader(['--status-every', '1e12'])).rejects.toThrow(/--status-every/);
  });

  it('refuse a --hub that is not a ws, wss, http or https URL, naming it', async () => {
    for (const hub of ['ftp://10.0.0.2:7700', 'localhost:7700', '']) {
      await expect(runStatus(['--hub', hub])).rejects.toThrow(
        /--hub must be a ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/ URL/,
      );
    }
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
