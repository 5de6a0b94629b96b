// A process's exchange link raises an IP ban on its alerter (and only logs without one).
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../alerts/alert.js';
import { readTributaryConfig } from '../config/tributary-config.js';
import { Logger } from '../log/logger.js';
import { ENDPOINTS } from './endpoints.js';
import { IpBannedError } from './exchange-errors.js';
import { connectExchange, type ExchangeLink } from './exchange-link.js';
import { ScriptedServer } from './testing/scripted-server.js';

let server: ScriptedServer | undefined;
let link: ExchangeLink | undefined;

afterEach(async () => {
  link?.close();
  await server?.close();
});

async function bannedExchange(): Promise<ScriptedServer> {
  const s = await ScriptedServer.start();
  s.on('GET', '/fapi/v1/time', () => ({ body: { serverTime: Date.now() } }));
  s.on('GET', '/fapi/v1/exchangeInfo', () => ({
    status: 418,
    headers: { 'Retry-After': '600' },
    body: { code: -1003, msg: 'Way too much request weight used; IP banned until 1764669600000.' },
  }));
  return s;
}

function loaded(url: string) {
  const config = readTributaryConfig(
    { exchange: { restUrl: url, wsUrl: url.replace('http', 'ws') } },
    'test',
  );
  return { config, secrets: { apiKey: undefined, apiSecret: undefined, hubSecret: undefined }, sources: [] };
}

describe('connectExchange', () => {
  it('raises a 418 ban as a critical exchange.ban alert', async () => {
    server = await bannedExchange();
    const raised: AlertInput[] = [];
    const logs: string[] = [];
    const logger = new Logger('test', { format: 'json', sink: (line) => logs.push(line) });
    link = connectExchange(loaded(server.url), logger, { raise: (a) => raised.push(a) });
    await expect(link.rest.request(ENDPOINTS.exchangeInfo)).rejects.toBeInstanceOf(IpBannedError);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ severity: 'critical', source: 'exchange.ban' });
    expect(String(raised[0]?.details?.message)).toContain('IP banned');
  });

  it('logs the ban as an error when the process has no alerter', async () => {
    server = await bannedExchange();
    const logs: string[] = [];
    const logger = new Logger('test', { format: 'json', sink: (line) => logs.push(line) });
    link = connectExchange(loaded(server.url), logger);
    await expect(link.rest.request(ENDPOINTS.exchangeInfo)).rejects.toBeInstanceOf(IpBannedError);
    expect(logs.some((l) => l.includes('"exchange alert"') && l.includes('ip-banned'))).toBe(true);
  });
});
