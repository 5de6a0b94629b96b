import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { gatewayUrl } from './gateway-config.js';
import { loadConfig } from './load-config.js';
import { readTributaryConfig } from './tributary-config.js';

function problems(gateway: unknown): string[] {
  try {
    readTributaryConfig({ gateway }, 'test');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('the gateway section', () => {
  it('is off by default, first-wins, on loopback', () => {
    const { gateway } = readTributaryConfig({}, 'test');
    expect(gateway).toMatchObject({
      enabled: false,
      mode: 'first',
      host: '127.0.0.1',
      port: 7710,
      members: [],
    });
    expect(gatewayUrl(gateway)).toBe('http://127.0.0.1:7710');
    expect(gatewayUrl({ ...gateway, url: 'https://gw.example:9000' })).toBe('https://gw.example:9000');
  });

  it('names each bad value', () => {
    expect(problems({ mode: 'all', port: 70_000, url: 'ws://x', placeWithinMs: 5, extra: 1 })).toEqual([
      'gateway.port: must be an integer from 0 to 65535, got 70000',
      'gateway.url: must be a URL starting http:// or https://, got "ws://x"',
      'gateway.mode: must be one of first, split, got "all"',
      'gateway.placeWithinMs: must be an integer from 1000 to 3600000, got 5',
      'gateway.extra: is not a known option',
    ]);
  });

  it('needs the members of a split, each once', () => {
    expect(problems({ mode: 'split' })).toEqual([
      'gateway.members: split mode needs the members sharing each order (their peer names, e.g. ["trader-0", "trader-1"])',
    ]);
    expect(problems({ mode: 'split', members: ['trader-0', 'trader-0'] })).toEqual([
      'gateway.members: names a member twice',
    ]);
    expect(problems({ mode: 'split', members: ['trader-0', 'trader-1'] })).toEqual([]);
  });

  it('takes environment overrides (tributary up sets the port this way)', () => {
    const { config } = loadConfig(undefined, {
      TRIBUTARY__GATEWAY__PORT: '7799',
      TRIBUTARY__GATEWAY__ENABLED: 'true',
    });
    expect(config.gateway.port).toBe(7799);
    expect(config.gateway.enabled).toBe(true);
  });
});
