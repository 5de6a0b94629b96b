// Tests of simulator configuration checks: valid configs pass, bad ones name the field.
import { describe, expect, it } from 'vitest';
import { SimulatorConfigError, validateSimulatorConfig } from './simulator-config.js';

const account = { apiKey: 'key-12345678', apiSecret: 'secret-12345678' };

function fieldOf(value: unknown): string | undefined {
  try {
    validateSimulatorConfig(value);
  } catch (error) {
    if (error instanceof SimulatorConfigError) return error.field;
    throw error;
  }
  return undefined;
}

describe('validateSimulatorConfig', () => {
  it('accepts a full config', () => {
    const config = {
      host: '0.0.0.0',
      port: 0,
      accounts: [
        {
          ...account,
          balances: { USDT: '5000.5' },
          positionMode: 'hedge',
          makerFee: '0.0002',
          defaultLeverage: 20,
        },
      ],
      symbols: ['BTCUSDT', 'ETHUSDT'],
      source: { kind: 'replay', csvPath: '/tmp/x.csv', symbol: 'BTCUSDT', speed: 'max' },
      seed: 7,
      fundingIntervalMs: 1000,
      advanceIntervalMs: 50,
      limits: { requestWeightPerMinute: 100 },
      faults: { latencyMs: 10 },
    };
    expect(validateSimulatorConfig(config)).toEqual(config);
  });

  it('names the bad field', () => {
    expect(fieldOf([])).toBe('config');
    expect(fieldOf({})).toBe('accounts');
    expect(fieldOf({ accounts: [] })).toBe('accounts');
    expect(fieldOf({ accounts: [{ apiKey: 'key-12345678', apiSecret: 'short' }] })).toBe(
      'accounts[0].apiSecret',
    );
    expect(fieldOf({ accounts: [account, { ...account }] })).toBe('accounts[1].apiKey');
    expect(fieldOf({ accounts: [{ ...account, balances: { USDT: 10 } }] })).toBe('accounts[0].balances.USDT');
    expect(fieldOf({ accounts: [{ ...account, balances: { USDT: '-1' } }] })).toBe(
      'accounts[0].balances.USDT',
    );
    expect(fieldOf({ accounts: [{ ...account, positionMode: 'both' }] })).toBe('accounts[0].positionMode');
    expect(fieldOf({ accounts: [{ ...account, defaultLeverage: 500 }] })).toBe('accounts[0].defaultLeverage');
    expect(fieldOf({ accounts: [{ ...account, colour: 'red' }] })).toBe('accounts[0].colour');
    expect(fieldOf({ accounts: [account], port: 70000 })).toBe('port');
    expect(fieldOf({ accounts: [account], symbols: ['DOGEUSDT1'] })).toBe('symbols[0]');
    expect(
      fieldOf({ accounts: [account], source: { kind: 'replay', csvPath: 'x', symbol: 'BTCUSDT', speed: 0 } }),
    ).toBe('source.speed');
    expect(fieldOf({ accounts: [account], source: { kind: 'dream' } })).toBe('source.kind');
    expect(fieldOf({ accounts: [account], limits: { ordersPer10s: 0 } })).toBe('limits.ordersPer10s');
    expect(fieldOf({ accounts: [account], faults: { banForMs: 'soon' } })).toBe('faults.banForMs');
    expect(fieldOf({ accounts: [account], prot: 1 })).toBe('prot');
  });

  it('checks the universe, history, liquidations, tape and extra key pairs', () => {
    const config = {
      accounts: [{ ...account, apiKeys: [{ apiKey: 'key-2-12345678', apiSecret: 'secret-2-12345678' }] }],
      universe: 600,
      symbols: ['BTCUSDT', 'XAAAUSDT', 'XAAZUSDT'],
      history: { days: 30 },
      liquidationShare: 0.01,
      tapeBudget: 500_000,
    };
    expect(validateSimulatorConfig(config)).toEqual(config);
    expect(fieldOf({ accounts: [account], universe: 0 })).toBe('universe');
    expect(fieldOf({ accounts: [account], universe: 5000 })).toBe('universe');
    expect(fieldOf({ accounts: [account], symbols: ['XAAAUSDT'] })).toBe('symbols[0]');
    expect(fieldOf({ accounts: [account], history: { days: -1 } })).toBe('history.days');
    expect(fieldOf({ accounts: [account], history: { weeks: 1 } })).toBe('history.weeks');
    expect(fieldOf({ accounts: [account], liquidationShare: 2 })).toBe('liquidationShare');
    expect(
      fieldOf({
        accounts: [{ ...account, apiKeys: [{ apiKey: account.apiKey, apiSecret: 'secret-x-12345678' }] }],
      }),
    ).toBe('accounts[0].apiKeys[0].apiKey');
  });

  it('never puts the secret in the message', () => {
    try {
      validateSimulatorConfig({ accounts: [{ apiKey: 'key-12345678', apiSecret: 'has space secret' }] });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('has space secret');
    }
  });
});
