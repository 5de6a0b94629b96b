import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { packageRoot } from '../package-root.js';
import { isSecretFieldName, MIN_MASKED_SECRET_LENGTH, REDACTED, registerSecret } from './log-redaction.js';
import { Logger, type LogLevel } from './logger.js';

function capture(options: { level?: LogLevel; format?: 'json' | 'text' } = {}) {
  const lines: { line: string; level: LogLevel }[] = [];
  const log = new Logger('root', {
    level: options.level ?? 'debug',
    format: options.format ?? 'json',
    sink: (line, level) => lines.push({ line, level }),
  });
  return { log, lines, text: () => lines.map((l) => l.line).join('\n') };
}

describe('Logger', () => {
  it('writes JSON lines with component, level and fields, above its level only', () => {
    const lines: string[] = [];
    const log = new Logger('hub', { level: 'info', format: 'json', sink: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('peer joined', { peer: 'kline-1', role: 'collector' });
    log.child('ingest').warn('frame rejected', { reason: 'truncated' });
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ level: 'info', component: 'hub', msg: 'peer joined', peer: 'kline-1' });
    expect(second).toMatchObject({ level: 'warn', component: 'hub.ingest', reason: 'truncated' });
    expect(Date.parse(String(first?.time))).toBeGreaterThan(0);
    expect(log.enabled('debug')).toBe(false);
    expect(log.enabled('warn')).toBe(true);
  });

  it('hands the sink each line with its level, one JSON object per line', () => {
    const { log, lines } = capture();
    log.debug('d');
    log.info('i');
    log.warn('w');
    log
      .child('a')
      .child('b')
      .error('e', { nested: { list: [1, 'two', null] } });
    expect(lines.map((l) => l.level)).toEqual(['debug', 'info', 'warn', 'error']);
    for (const { line } of lines) expect(line).not.toContain('\n');
    expect(JSON.parse(lines[3]?.line ?? '')).toMatchObject({
      component: 'root.a.b',
      nested: { list: [1, 'two', null] },
    });
  });

  it('writes a message with format characters as it is', () => {
    const { log, lines } = capture();
    log.info('100% of %s and %d', { n: 1 });
    expect(JSON.parse(lines[0]?.line ?? '')).toMatchObject({ msg: '100% of %s and %d', n: 1 });
  });

  it('writes readable text lines, quoting values with spaces', () => {
    const lines: string[] = [];
    const log = new Logger('sim', { level: 'debug', format: 'text', sink: (l) => lines.push(l) });
    log.error('listen failed', { address: '127.0.0.1:80', reason: 'in use' });
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR sim: listen failed address=127\.0\.0\.1:80 reason="in use"$/,
    );
  });
});

describe('secret redaction', () => {
  // Real-looking secrets: a Binance API key and secret (64 characters), a hub secret, a listenKey.
  const apiKey = randomBytes(32).toString('hex');
  const apiSecret = randomBytes(32).toString('hex');
  const hubSecret = randomBytes(24).toString('base64url');
  const listenKey = randomBytes(30).toString('hex');
  // One with characters JSON escapes.
  const quoted = `pa"ss\\word-${randomBytes(6).toString('hex')}`;
  const secrets = [apiKey, apiSecret, hubSecret, listenKey, quoted];
  for (const secret of secrets) registerSecret(secret);

  function expectNoSecret(output: string): void {
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
  }

  it('masks fields named as secrets, at any depth, whatever their value', () => {
    const { log, lines } = capture();
    log.info('signed request', {
      apiKey: 'unregistered-key-1',
      api_secret: 'unregistered-secret-2',
      'X-MBX-APIKEY': 'unregistered-key-3',
      peer: { name: 'kline-0', credentials: { keyId: 'k1', secret: 'unregistered-4' } },
      headers: [{ authorization: 'Bearer unregistered-5' }],
      signature: 'abcdef0123',
      hubSecret: 'short',
      listenKey: 'lk-unregistered-6',
      password: 'unregistered-7',
      token: 'unregistered-8',
      mac: 'unregistered-9',
      symbol: 'BTCUSDT',
    });
    const record = JSON.parse(lines[0]?.line ?? '') as Record<string, unknown>;
    expect(record).toMatchObject({
      apiKey: REDACTED,
      api_secret: REDACTED,
      'X-MBX-APIKEY': REDACTED,
      peer: { name: 'kline-0', credentials: REDACTED },
      headers: [{ authorization: REDACTED }],
      signature: REDACTED,
      hubSecret: REDACTED,
      listenKey: REDACTED,
      password: REDACTED,
      token: REDACTED,
      mac: REDACTED,
      symbol: 'BTCUSDT',
    });
    expect(lines[0]?.line).not.toMatch(/unregistered/);
  });

  it('masks registered secret values in fields, nested objects, messages and error texts, in JSON and text', () => {
    for (const format of ['json', 'text'] as const) {
      const { log, text } = capture({ format });
      const child = log.child('exchange').child('rest');
      log.info(`connecting with ${apiKey}`);
      child.warn('request failed', {
        url: `https://x/fapi?listenKey=${listenKey}`,
        query: `a=1&key=${apiKey}`,
      });
      child.error('refused', {
        error: new Error(`bad signature for secret ${apiSecret}`),
        detail: { nested: { deeper: [`hub ${hubSecret}`, { note: quoted }] } },
      });
      child.debug(`stack: ${new Error(hubSecret).stack ?? ''}`);
      log.error('query', { url: `http://h/?q=${encodeURIComponent(quoted)}` });
      const output = text();
      expectNoSecret(output);
      expect(output).not.toContain(encodeURIComponent(quoted));
      expect(output.split(REDACTED).length - 1).toBeGreaterThanOrEqual(8);
      expect(output).toContain('bad signature for secret');
    }
  });

  it('keeps an error readable while masking it', () => {
    const { log, lines } = capture();
    log.error('failed', { error: new TypeError(`no ${apiSecret} here`) });
    const record = JSON.parse(lines[0]?.line ?? '') as {
      error: { type: string; message: string; stack: string };
    };
    expect(record.error.type).toBe('TypeError');
    expect(record.error.message).toBe(`no ${REDACTED} here`);
    expect(record.error.stack).toContain('logger.test');
  });

  it('masks secrets read by loadConfig from the environment', () => {
    const key = randomBytes(20).toString('hex');
    const secret = randomBytes(20).toString('hex');
    const hub = randomBytes(20).toString('hex');
    loadConfig(undefined, {
      TRIBUTARY__EXCHANGE__KIND: 'binance',
      BINANCE_API_KEY: key,
      BINANCE_API_SECRET: secret,
      TRIBUTARY_HUB_SECRET: hub,
    });
    const { log, text } = capture();
    log.info(`k=${key} s=${secret}`, { h: hub });
    for (const value of [key, secret, hub]) expect(text()).not.toContain(value);
  });

  it('leaves secrets too short to mask by value alone, and says which names are secret', () => {
    registerSecret('ab12');
    const { log, text } = capture();
    log.info('ab12 is a word', { status: 'ab12' });
    expect(text()).toContain('ab12');
    expect(MIN_MASKED_SECRET_LENGTH).toBe(8);
    for (const name of ['apiKey', 'API_SECRET', 'hubSecret', 'peerKey', 'privateKey', 'key', 'x-auth-token'])
      expect(isSecretFieldName(name)).toBe(true);
    for (const name of ['symbol', 'keyId', 'peer', 'tokens', 'mask', 'macd'])
      expect(isSecretFieldName(name)).toBe(false);
  });

  const built = existsSync(join(packageRoot, 'dist', 'ts', 'log', 'logger.js'));
  it.skipIf(!built)('masks secrets in the bytes a process writes to stderr (the default sink)', () => {
    const url = pathToFileURL(join(packageRoot, 'dist', 'ts', 'log', 'logger.js')).href;
    const script = `
      const { Logger, registerSecret } = await import(${JSON.stringify(url)});
      const [key, secret] = process.argv.slice(1);
      registerSecret(key);
      registerSecret(secret);
      const log = new Logger('probe', { level: 'debug' });
      log.info('key ' + key, { apiKey: key, nested: { s: secret }, error: new Error(secret) });
      log.child('c').error('fatal ' + secret);
      process.exit(3);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, apiKey, apiSecret], {
      encoding: 'buffer',
    });
    expect(run.status).toBe(3);
    const bytes = run.stderr;
    expect(bytes.includes(Buffer.from(apiKey))).toBe(false);
    expect(bytes.includes(Buffer.from(apiSecret))).toBe(false);
    // Written synchronously, one JSON object per line: both lines are there although the process exits at once.
    const lines = bytes.toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { component: string }).component)).toEqual([
      'probe',
      'probe.c',
    ]);
  });
});
