// `tributary up` refuses a strategy module its traders could not use before it starts any process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../ts/config/config-error.js';
import { Logger } from '../../ts/log/logger.js';
import { OneMachineSystem } from './one-machine.js';

describe('tributary up and a strategy module', () => {
  it('stops at start with the file and the problem, having started nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-up-module-'));
    const configFile = join(dir, 'tributary.json');
    writeFileSync(
      configFile,
      JSON.stringify({ trader: { strategy: 'mine', strategyModule: './strategies/missing.mjs' } }),
    );
    const lines: string[] = [];
    const system = new OneMachineSystem({
      configFile,
      env: {},
      logger: new Logger('up', { sink: (line) => lines.push(line) }),
      output: () => {},
      logFile: join(dir, 'tributary.log'),
    });
    const error = await system.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      `trader.strategyModule: ${join(dir, 'strategies', 'missing.mjs')}: does not exist`,
    );
    expect(system.supervisor.status()).toEqual([]);
  });
});
