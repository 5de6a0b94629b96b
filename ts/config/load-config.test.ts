import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../package-root.js';
import { ConfigError } from './config-error.js';
import { loadConfig, OWN_VARIABLES, singleUnderscoreProblem } from './load-config.js';
import { readTributaryConfig } from './tributary-config.js';

function tempFile(name: string, text: string, mode = 0o600): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tributary-config-')), name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to the simulator on one machine', () => {
    const { config, secrets } = loadConfig(undefined, {});
    expect(config.exchange.kind).toBe('simulator');
    expect(config.hub.host).toBe('127.0.0.1');
    expect(config.collectors.kline.intervals).toEqual(['1m', '15m']);
    expect(config.trader.mode).toBe('paper');
    expect(secrets.apiKey).toBeUndefined();
  });

  it('names every invalid field, including misspelt ones', () => {
    const issues = issuesOf(() =>
      readTributaryConfig(
        {
          hub: { port: 70000, transprot: 'ws' },
          collectors: { kline: { intervals: ['1m', '7m'] } },
          exchange: { kind: 'kraken' },
          simulator: { balance: 10000 },
        },
        'test',
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'hub.port: must be an integer from 0 to 65535, got 70000',
        'hub.transprot: is not a known option',
        'collectors.kline.intervals[1]: "7m" is not a Binance interval',
        'exchange.kind: must be one of simulator, binance, testnet, got "kraken"',
        'simulator.balance: must be a decimal number written as a string, got 10000',
      ]),
    );
  });

  it('applies environment overrides onto the file, matching option names', () => {
    const file = tempFile('t.json', JSON.stringify({ hub: { port: 7701 }, symbols: ['BTCUSDT'] }));
    const { config, sources } = loadConfig(file, {
      TRIBUTARY__HUB__PORT: '7702',
      TRIBUTARY__COLLECTORS__POSITION_RISK__INTERVAL_MS: '2500',
      TRIBUTARY__SYMBOLS: '["ETHUSDT","SOLUSDT"]',
      TRIBUTARY__SIMULATOR__REPLAY__CSV_PATH: '/tmp/x.csv',
      TRIBUTARY__SIMULATOR__REPLAY__SPEED: 'max',
    });
    expect(config.hub.port).toBe(7702);
    expect(config.collectors.positionRisk.intervalMs).toBe(2500);
    expect(config.symbols).toEqual(['ETHUSDT', 'SOLUSDT']);
    expect(config.simulator.replay).toEqual({ csvPath: '/tmp/x.csv', symbol: 'BTCUSDT', speed: 'max' });
    expect(sources).toEqual([file, 'environment']);
  });

  it('refuses a misspelt environment override by name, with the option it probably meant', () => {
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY__HUB__PROT: '1' }))).toEqual([
      'TRIBUTARY__HUB__PROT: no option "PROT" in hub (did you mean TRIBUTARY__HUB__PORT, hub.port?)',
    ]);
    expect(
      issuesOf(() => loadConfig(undefined, { TRIBUTARY__COLLECTORS__POSITION_RSIK__INTERVAL_MS: '1' })),
    ).toEqual([
      'TRIBUTARY__COLLECTORS__POSITION_RSIK__INTERVAL_MS: no option "POSITION_RSIK" in collectors (did you mean TRIBUTARY__COLLECTORS__POSITION_RISK, collectors.positionRisk?)',
    ]);
    expect(
      issuesOf(() => loadConfig(undefined, { TRIBUTARY__COLLECTORS__KLINE__INTERVALS__X: '1' })),
    ).toEqual([
      'TRIBUTARY__COLLECTORS__KLINE__INTERVALS__X: no option "X" in collectors.kline.intervals (collectors.kline.intervals has no options of its own)',
    ]);
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY__STORAGE__PATH: 'x' }))).toEqual([
      'TRIBUTARY__STORAGE__PATH: no option "STORAGE" at the top level (did you mean TRIBUTARY__STORE, store?)',
    ]);
    // Nothing close: the options of that place are listed instead of a wrong guess.
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY__HUB__ZZZZZZ: '1' }))).toEqual([
      'TRIBUTARY__HUB__ZZZZZZ: no option "ZZZZZZ" in hub (options: host, port, url, transport, snapshotIntervalMs, tls)',
    ]);
  });

  it('refuses an override written with single underscores instead of ignoring it', () => {
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY_HUB_PORT: '7701' }))).toEqual([
      'TRIBUTARY_HUB_PORT: is not read: overrides of hub.port are spelled with double underscores, TRIBUTARY__HUB__PORT',
    ]);
    expect(
      issuesOf(() => loadConfig(undefined, { TRIBUTARY_COLLECTORS_POSITION_RISK_INTERVAL_MS: '2500' })),
    ).toEqual([
      'TRIBUTARY_COLLECTORS_POSITION_RISK_INTERVAL_MS: is not read: overrides of collectors.positionRisk.intervalMs are spelled with double underscores, TRIBUTARY__COLLECTORS__POSITION_RISK__INTERVAL_MS',
    ]);
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY_SYMBOLS: '["BTCUSDT"]' }))[0]).toMatch(
      /TRIBUTARY__SYMBOLS$/,
    );
  });

  it('refuses a tributary variable whose prefix is not in capitals instead of ignoring it', () => {
    expect(issuesOf(() => loadConfig(undefined, { tributary__hub__port: '7701' }))).toEqual([
      'tributary__hub__port: is not read: variable names are case-sensitive; write TRIBUTARY__HUB__PORT',
    ]);
    expect(issuesOf(() => loadConfig(undefined, { Tributary_Hub_Secret: 's' }))).toEqual([
      'Tributary_Hub_Secret: is not read: variable names are case-sensitive; write TRIBUTARY_HUB_SECRET',
    ]);
    expect(issuesOf(() => loadConfig(undefined, { tributary_hub_port: '7701' }))).toEqual([
      'tributary_hub_port: is not read: variable names are case-sensitive; write TRIBUTARY__HUB__PORT',
    ]);
    // A user's own variable that names nothing of tributary's stays theirs.
    expect(loadConfig(undefined, { tributary_my_own_thing: 'x' }).config.hub.port).toBe(7700);
  });

  it('leaves alone the single-underscore variables tributary reads by name and any that spell no option', () => {
    const env: Record<string, string> = {
      TRIBUTARY_STORE_URL: 'mysql://u:p@127.0.0.1:3306/db',
      TRIBUTARY_HUB_KEY: 'id:secret',
      TRIBUTARY_ALERT_WEBHOOK_URL: 'https://example.invalid/hook/x',
      TRIBUTARY_ALERT_WEBHOOK_SECRET: 's',
      TRIBUTARY_OWNER_TOKEN: 'owner-token',
      TRIBUTARY_HUB_SECRET: 'h',
      TRIBUTARY_PGO: '1',
      TRIBUTARY_LOG_LEVEL: 'warn',
      TRIBUTARY_TEST_MYSQL: '1',
      TRIBUTARY_MY_OWN_THING: 'x',
      TRIBUTARY_: 'x',
    };
    expect(loadConfig(undefined, env).config.hub.port).toBe(7700);
    for (const name of OWN_VARIABLES) expect(singleUnderscoreProblem(name)).toBeUndefined();
  });

  it('refuses no TRIBUTARY_ variable the repository itself reads or sets', () => {
    // Every single-underscore name written anywhere in the sources, docs and scripts: one that spells
    // an option and is missing from OWN_VARIABLES would stop every process that has it set.
    const names = new Set<string>();
    const scan = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (['node_modules', 'dist', 'target', '.git', '.tributary'].includes(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) scan(path);
        else if (/\.(ts|mts|mjs|js|json|md|sh|ya?ml|toml|rs|service)$/.test(entry.name))
          for (const match of readFileSync(path, 'utf8').matchAll(/\bTRIBUTARY_[A-Z0-9][A-Z0-9_]*/g))
            names.add(match[0]);
      }
    };
    scan(packageRoot);
    expect(names).toContain('TRIBUTARY_STORE_URL');
    // The mistakes this file and docs/operations.md show on purpose.
    const examples = new Set([
      'TRIBUTARY_HUB_PORT',
      'TRIBUTARY_COLLECTORS_POSITION_RISK_INTERVAL_MS',
      'TRIBUTARY_SYMBOLS',
    ]);
    expect([...names].filter((name) => !examples.has(name) && singleUnderscoreProblem(name))).toEqual([]);
  });

  it('names the option of an override with a bad value', () => {
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY__HUB__TRANSPORT: 'tcp' }))).toEqual([
      'hub.transport: must be one of auto, uws, ws, got "tcp"',
    ]);
  });

  it('reports a file that is not JSON with the file name', () => {
    const file = tempFile('bad.json', '{ "hub": ');
    expect(() => loadConfig(file, {})).toThrow(/bad\.json/);
  });

  it('refuses a file whose JSON is not an object instead of running on the defaults', () => {
    for (const [text, shown] of [
      ['null', 'null'],
      ['[]', 'an array'],
      ['7700', '7700'],
    ] as const) {
      const file = tempFile('root.json', text);
      expect(issuesOf(() => loadConfig(file, {}))).toEqual([`(root): must be an object, got ${shown}`]);
    }
  });

  it('reads a file saved with a byte-order mark (Windows editors) as the same JSON', () => {
    const file = tempFile('bom.json', `\uFEFF${JSON.stringify({ hub: { port: 7701 } })}`);
    expect(loadConfig(file, {}).config.hub.port).toBe(7701);
  });

  it('takes secrets only from the environment or a private secrets file', () => {
    const secretsFile = tempFile('secrets.env', 'BINANCE_API_KEY=k1\nBINANCE_API_SECRET=s1\n# comment\n');
    const loaded = loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: secretsFile, TRIBUTARY_HUB_SECRET: 'h' });
    expect(loaded.secrets).toEqual({
      apiKey: 'k1',
      apiSecret: 's1',
      hubSecret: 'h',
      ossAccessKeyId: undefined,
      ossAccessKeySecret: undefined,
      ownerToken: undefined,
    });
    const open = tempFile('open.env', 'BINANCE_API_KEY=k1\n', 0o644);
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: open }))[0]).toMatch(/chmod 600/);
  });

  it('refuses a secrets file line that is not NAME=VALUE, without showing it, and takes quoted values unquoted', () => {
    const exported = tempFile(
      'exported.env',
      'BINANCE_API_KEY=k1\nexport TRIBUTARY_ALERT_WEBHOOK_URL=https://x/hook/sekrit\n',
    );
    const issues = issuesOf(() => loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: exported }));
    expect(issues).toEqual([
      `TRIBUTARY_SECRETS_FILE: ${exported} line 2 is not NAME=VALUE (not shown: it may hold a secret)`,
    ]);
    expect(issues.join()).not.toContain('sekrit');
    const quoted = tempFile('quoted.env', 'BINANCE_API_KEY="k1"\nBINANCE_API_SECRET=\'s1\'\n');
    const { secrets } = loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: quoted });
    expect([secrets.apiKey, secrets.apiSecret]).toEqual(['k1', 's1']);
  });

  it('refuses a secrets file that cannot be read, or a name in it that tributary does not read', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'tributary-secrets-')), 'absent.env');
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: missing }))[0]).toMatch(
      /^TRIBUTARY_SECRETS_FILE: cannot be read: ENOENT/,
    );
    const typo = tempFile(
      'typo.env',
      'BINANCE_API_KEY=k1\nTRIBUTARY_ALERT_WEBHOOK_ULR=https://x/hook/sekrit\n',
    );
    const issues = issuesOf(() => loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: typo }));
    expect(issues).toEqual([
      `TRIBUTARY_SECRETS_FILE: ${typo} line 2 sets TRIBUTARY_ALERT_WEBHOOK_ULR, which tributary does not read (did you mean TRIBUTARY_ALERT_WEBHOOK_URL?)`,
    ]);
    expect(issues.join()).not.toContain('sekrit');
    const other = tempFile('other.env', 'NODE_OPTIONS=--max-old-space-size=4096\n');
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: other }))[0]).toMatch(
      /line 1 sets NODE_OPTIONS, which tributary does not read \(it reads BINANCE_API_KEY, /,
    );
  });

  it('needs keys for a real exchange and the matching exchange for live or testnet trading', () => {
    expect(issuesOf(() => loadConfig(undefined, { TRIBUTARY__EXCHANGE__KIND: 'binance' }))[0]).toMatch(
      /BINANCE_API_KEY/,
    );
    expect(issuesOf(() => readTributaryConfig({ trader: { mode: 'live' } }, 't'))).toEqual([
      'trader.mode: "live" needs exchange.kind "binance", got "simulator"',
    ]);
    const { config } = loadConfig(undefined, {
      TRIBUTARY__EXCHANGE__KIND: 'testnet',
      BINANCE_API_KEY: 'k',
      BINANCE_API_SECRET: 's',
    });
    expect(config.exchange.restUrl).toBe('https://demo-fapi.binance.com');
    // The hub, the dashboard and `tributary status` never call the exchange: they run without keys.
    const keyless = loadConfig(
      undefined,
      { TRIBUTARY__EXCHANGE__KIND: 'binance' },
      { exchangeKeys: 'unused' },
    );
    expect([keyless.config.exchange.kind, keyless.secrets.apiKey]).toEqual(['binance', undefined]);
  });
});

describe('the example configuration', () => {
  it('is valid as shipped', () => {
    const { config } = loadConfig(join(packageRoot, 'config', 'tributary.example.json'), {});
    expect(config.collectors.kline.instances).toBe(2);
  });
});

describe('environment overrides of options without a default', () => {
  it('sets the exchange and hub addresses', () => {
    const { config } = loadConfig(undefined, {
      TRIBUTARY__EXCHANGE__REST_URL: 'http://127.0.0.1:1',
      TRIBUTARY__EXCHANGE__WS_URL: 'ws://127.0.0.1:1',
      TRIBUTARY__HUB__URL: 'ws://10.0.0.2:7700',
    });
    expect(config.exchange.restUrl).toBe('http://127.0.0.1:1');
    expect(config.exchange.wsUrl).toBe('ws://127.0.0.1:1');
    expect(config.hub.url).toBe('ws://10.0.0.2:7700');
  });
});
