import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import type { IncomeRecord } from '../../ts/exchange/usdm-decoders.js';
import { BanRules } from './ban-rules.js';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
let tran = 0;

function row(symbol: string, incomeType: string, income: string, ageHours: number): IncomeRecord {
  tran += 1;
  return {
    symbol,
    incomeType,
    income: Decimal.parse(income),
    asset: 'USDT',
    info: '',
    time: NOW - ageHours * HOUR,
    tranId: String(tran),
    tradeId: '',
  };
}

describe('BanRules', () => {
  it('bans a symbol at exactly -150 over 4 h, net of commission', () => {
    const rules = new BanRules();
    rules.add([row('BTCUSDT', 'REALIZED_PNL', '-140', 1), row('BTCUSDT', 'COMMISSION', '-10', 2)]);
    expect(rules.decide(NOW).symbols).toEqual(['BTCUSDT']);
  });

  it('does not ban at -149.99, and forgets losses older than 4 h for the 4 h rule', () => {
    const rules = new BanRules();
    rules.add([row('ETHUSDT', 'REALIZED_PNL', '-149.99', 1), row('ETHUSDT', 'REALIZED_PNL', '-500', 5)]);
    const decision = rules.decide(NOW);
    expect(decision.symbols).toEqual([]);
    expect(decision.pnl24h.get('ETHUSDT')?.toString()).toBe('-649.99');
  });

  it('bans a symbol over 24 h and everything when the account lost 3,000', () => {
    const rules = new BanRules();
    rules.add([row('SOLUSDT', 'REALIZED_PNL', '-1800', 20), row('XRPUSDT', 'REALIZED_PNL', '-1200', 23)]);
    let decision = rules.decide(NOW);
    expect(decision.symbols).toEqual(['SOLUSDT']);
    expect(decision.all).toBe(true);
    // an hour later the -1200 row is older than 24 h
    decision = rules.decide(NOW + 2 * HOUR);
    expect(decision.all).toBe(false);
    expect(decision.account24h.toString()).toBe('-1800');
  });

  it('ignores repeats, transfers and other assets', () => {
    const rules = new BanRules();
    const loss = row('BTCUSDT', 'REALIZED_PNL', '-100', 1);
    expect(rules.add([loss, loss, row('', 'TRANSFER', '-5000', 1)])).toBe(1);
    expect(rules.add([{ ...row('BTCUSDT', 'REALIZED_PNL', '-100', 1), asset: 'BNB' }])).toBe(0);
    expect(rules.decide(NOW).account24h.toString()).toBe('-100');
  });
});
