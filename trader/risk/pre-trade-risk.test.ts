import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { OrderIntent } from '../engine/events.js';
import type { RiskContext } from '../engine/risk-gate.js';
import type { BanListView, BanReason, MarketFreshness } from './market-inputs.js';
import { LocalOrderRate } from './order-rate.js';
import { PreTradeRisk } from './pre-trade-risk.js';
import { RiskEventLog } from './risk-events.js';
import { RiskState } from './risk-state.js';
import { MemoryRiskStateStore } from './risk-state-store.js';
import { StaticAccount, StaticMarket } from './testing/static-views.js';

const NOW = 1_000_000;

function intent(symbol: string, side: 'BUY' | 'SELL', qty: string, reduceOnly = false, leg = 0): OrderIntent {
  return {
    key: { strategy: 's', symbol, time: NOW },
    leg,
    symbol,
    side,
    quantity: Decimal.parse(qty),
    reduceOnly,
    execution: { kind: 'market' },
    referencePrice: Decimal.parse('100'),
    reason: 'test',
  };
}

function rig() {
  const settings = defaultRiskSettings();
  const events = new RiskEventLog(silentLogger('events'));
  const state = new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => NOW);
  const banned = new Map<string, BanReason>();
  const banList: BanListView = {
    banned: (s) => banned.get(s) ?? banned.get('*'),
    summary: () => ({ all: banned.has('*'), symbols: [...banned.keys()] }),
  };
  const ages = new Map<string, number>();
  let bookStale: string | undefined;
  const freshness: MarketFreshness = {
    priceAgeMs: (s) => ages.get(s) ?? 0,
    bookStale: () => bookStale,
  };
  const orderRate = new LocalOrderRate({ ordersPer10s: 10, ordersPerMinute: 100 });
  let positionsKnown = true;
  const gate = new PreTradeRisk({
    state,
    settings: settings.preTrade,
    events,
    banList,
    freshness,
    orderRate,
    positionsKnown: () => positionsKnown,
  });
  const market = new StaticMarket();
  market.set('AAAUSDT', '100');
  market.set('BBBUSDT', '100');
  const account = new StaticAccount();
  // As the engine's tracker: an approved leg counts at once toward the expected position of the
  // decision's later legs; a new decision (or a first leg) finds earlier ones settled (this rig's
  // account does not move).
  const approved = new Map<string, Decimal>();
  let decision = '';
  const ctx: RiskContext = {
    market,
    account,
    now: NOW,
    expectedPosition: (s) => account.position(s).amount.add(approved.get(s) ?? Decimal.ZERO),
  };
  const check = (i: OrderIntent) => {
    const key = `${i.key.strategy}|${i.key.symbol}|${i.key.time}`;
    if (key !== decision || i.leg === 0) approved.clear();
    decision = key;
    const result = gate.check(i, ctx);
    if (result.allowed) {
      const qty = i.side === 'BUY' ? i.quantity : i.quantity.neg();
      approved.set(i.symbol, (approved.get(i.symbol) ?? Decimal.ZERO).add(qty));
    }
    return result;
  };
  return {
    gate,
    state,
    check,
    account,
    market,
    orderRate,
    ban: (symbol: string, reason: BanReason) => banned.set(symbol, reason),
    age: (symbol: string, ms: number) => ages.set(symbol, ms),
    stale: (why: string | undefined) => {
      bookStale = why;
    },
    unknownPositions: () => {
      positionsKnown = false;
    },
  };
}

const rule = (d: ReturnType<PreTradeRisk['check']>) => (d.allowed ? 'allowed' : d.rule);

describe('PreTradeRisk', () => {
  it('lets an ordinary opening order through', () => {
    expect(rule(rig().check(intent('AAAUSDT', 'BUY', '1')))).toBe('allowed');
  });

  it('HALTED sends nothing; REDUCING sends only reduce-only orders', () => {
    const r = rig();
    r.state.setByOwner('REDUCING', 'test');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('trading-state');
    expect(rule(r.check(intent('AAAUSDT', 'SELL', '1', true)))).toBe('allowed');
    r.state.setByOwner('HALTED', 'test');
    expect(rule(r.check(intent('AAAUSDT', 'SELL', '1', true)))).toBe('trading-state');
    expect(r.gate.refusals['trading-state']).toBe(2);
  });

  it('refuses new exposure in a banned symbol, or anywhere when ALL is banned; reductions still pass', () => {
    const r = rig();
    r.ban('AAAUSDT', 'SYMBOL');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('ban-list');
    expect(rule(r.check(intent('BBBUSDT', 'BUY', '1')))).toBe('allowed');
    expect(rule(r.check(intent('AAAUSDT', 'SELL', '1', true)))).toBe('allowed');
    r.ban('*', 'ALL');
    expect(rule(r.check(intent('BBBUSDT', 'SELL', '1')))).toBe('ban-list');
  });

  it('refuses opening on a stale book or an old price', () => {
    const r = rig();
    r.age('AAAUSDT', 10_001);
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('book-stale');
    expect(rule(r.check(intent('BBBUSDT', 'BUY', '1')))).toBe('allowed');
    r.stale('a gap');
    expect(rule(r.check(intent('BBBUSDT', 'BUY', '1')))).toBe('book-stale');
    expect(rule(r.check(intent('BBBUSDT', 'SELL', '1', true)))).toBe('allowed');
  });

  it('refuses opening while the balance or the positions are unknown', () => {
    const r = rig();
    r.account.equityValue = undefined;
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('balance-unknown');
    r.account.equityValue = Decimal.parse('10000');
    r.unknownPositions();
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('position-unknown');
  });

  it('keeps the last fifth of the order budget for reductions and stops', () => {
    const r = rig();
    for (let i = 0; i < 8; i++) expect(rule(r.check(intent('AAAUSDT', 'BUY', '0.1')))).toBe('allowed');
    // 8 of 10 in this 10 s window: 80 % used, openings stop.
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '0.1')))).toBe('order-rate');
    expect(rule(r.check(intent('AAAUSDT', 'SELL', '0.1', true)))).toBe('allowed');
    expect(r.orderRate.usage(NOW + 10_000).count10s).toBe(0);
  });

  it('limits notional per symbol, in total, and as leverage on equity', () => {
    const r = rig();
    // 10,000 USDT per symbol: 100 × 100 is at the limit, a step more is over.
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '100')))).toBe('allowed');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '100.01')))).toBe('max-symbol-notional');
    // Leverage: equity 8,000 × 5 = 40,000 in total.
    r.account.equityValue = Decimal.parse('8000');
    r.account.set('BBBUSDT', '-310', '100');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '90')))).toBe('allowed');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '91')))).toBe('max-leverage');
    r.account.equityValue = Decimal.parse('100000');
    r.account.set('BBBUSDT', '-490', '100');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '11')))).toBe('max-total-notional');
  });

  it("values another symbol's position at its entry when its last price is zero, not at nothing", () => {
    const r = rig();
    // Equity 2,000 × 5 = 10,000 in total: 50 AAA entered at 100 (5,000) plus 60 BBB at 100 (6,000) is over.
    r.account.equityValue = Decimal.parse('2000');
    r.account.set('AAAUSDT', '50', '100');
    r.market.set('AAAUSDT', '0');
    expect(rule(r.check(intent('BBBUSDT', 'BUY', '60')))).toBe('max-leverage');
  });

  it("judges a flip's opening leg after its closing leg", () => {
    const r = rig();
    r.account.set('AAAUSDT', '-100', '100');
    // Flip 100 short to 101 long: close 100, then open 101 — 10,100 USDT, over the symbol limit
    // (judged alone, the second leg would look like a position of 1).
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '100', true, 0)))).toBe('allowed');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '101', false, 1)))).toBe('max-symbol-notional');
    const flip = {
      ...intent('AAAUSDT', 'BUY', '100', true, 0),
      key: { strategy: 's', symbol: 'AAAUSDT', time: NOW + 1 },
    };
    expect(rule(r.check(flip))).toBe('allowed');
    expect(rule(r.check({ ...flip, leg: 1, reduceOnly: false, quantity: Decimal.parse('99') }))).toBe(
      'allowed',
    );
  });

  it('counts quantity on its way in symbols the account shows flat toward the total and the leverage', () => {
    const r = rig();
    // Equity 5,000 × 5 = 25,000 in total.
    r.account.equityValue = Decimal.parse('5000');
    // Orders resting or just approved: 90 AAA and −90 BBB expected, none of it in the account yet.
    const onItsWay = new Map([
      ['AAAUSDT', Decimal.parse('90')],
      ['BBBUSDT', Decimal.parse('-90')],
    ]);
    const ctx: RiskContext = {
      market: r.market,
      account: r.account,
      now: NOW,
      expectedPosition: (s) => onItsWay.get(s) ?? Decimal.ZERO,
      exposedSymbols: () => onItsWay.keys(),
    };
    r.market.set('CCCUSDT', '100');
    // 9,000 + 9,000 on its way: 7,000 more is 25,000, one unit more is over.
    expect(rule(r.gate.check(intent('CCCUSDT', 'BUY', '70'), ctx))).toBe('allowed');
    expect(rule(r.gate.check(intent('CCCUSDT', 'BUY', '71'), ctx))).toBe('max-leverage');
    r.account.equityValue = Decimal.parse('100000');
    r.market.set('AAAUSDT', '1000'); // the 90 AAA on its way is 90,000 now: over 50,000
    expect(rule(r.gate.check(intent('CCCUSDT', 'BUY', '1'), ctx))).toBe('max-total-notional');
    // Without a trade price the mid of a sane quote values it; with no price at all it is refused.
    r.market.prices.delete('AAAUSDT');
    r.market.quotes.set('AAAUSDT', { bid: Decimal.parse('99.9'), ask: Decimal.parse('100.1') });
    expect(rule(r.gate.check(intent('CCCUSDT', 'BUY', '1'), ctx))).toBe('allowed');
    r.market.quotes.delete('AAAUSDT');
    const refused = r.gate.check(intent('CCCUSDT', 'BUY', '1'), ctx);
    expect(refused).toMatchObject({ allowed: false, rule: 'max-total-notional' });
    expect(refused.allowed ? '' : refused.reason).toContain('AAAUSDT');
  });

  it('refuses opening while a close-all is in progress, whatever the state says', () => {
    const r = rig();
    // Saved by a close-all that crashed before its switch to REDUCING.
    r.state.startCloseAll('total unrealized PnL -3000.00 USDT is at or under -3000');
    expect(r.state.state).toBe('ACTIVE');
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('closing-all');
    expect(rule(r.check(intent('AAAUSDT', 'SELL', '1', true)))).toBe('allowed');
    // The owner's ACTIVE ends it: opening passes again.
    r.state.setByOwner('ACTIVE', 'resume');
    expect(r.state.closeAll).toBeNull();
    expect(rule(r.check(intent('AAAUSDT', 'BUY', '1')))).toBe('allowed');
  });

  it('reports each refusal as a risk event naming the rule, repeats counted but not repeated', () => {
    const r = rig();
    const seen: string[] = [];
    r.ban('AAAUSDT', 'SYMBOL');
    const events = new RiskEventLog(silentLogger('x'));
    events.onEvent((e) => seen.push(e.kind === 'risk-action' ? e.reason : e.detail));
    const gate = new PreTradeRisk({
      state: r.state,
      settings: defaultRiskSettings().preTrade,
      events,
      banList: { banned: () => 'SYMBOL', summary: () => ({ all: false, symbols: [] }) },
    });
    const ctx: RiskContext = { market: new StaticMarket(), account: new StaticAccount(), now: NOW };
    gate.check(intent('AAAUSDT', 'BUY', '1'), ctx);
    gate.check(intent('AAAUSDT', 'BUY', '1'), ctx);
    expect(seen).toEqual(['ban-list: AAAUSDT is on the ban list']);
    expect(events.stats()).toMatchObject({ suppressed: 1, byKind: { 'risk-action:refuse': 2 } });
  });
});

describe('RiskEventLog', () => {
  it('counts a refusal repeated by symbol and rule within a minute without logging it again, whatever its details', () => {
    const events = new RiskEventLog(silentLogger('x'));
    const seen: string[] = [];
    events.onEvent((e) => seen.push(e.kind === 'risk-action' ? e.reason : e.detail));
    const refuse = (reason: string, at: number) =>
      events.emit({ kind: 'risk-action', action: 'refuse', symbol: 'AAAUSDT', reason, at });
    refuse("book-stale: AAAUSDT's last price is 10001 ms old", 0);
    refuse("book-stale: AAAUSDT's last price is 10250 ms old", 1_000);
    refuse('ban-list: AAAUSDT is on the ban list', 2_000);
    refuse("book-stale: AAAUSDT's last price is 70000 ms old", 61_000);
    expect(seen).toHaveLength(3);
    expect(events.stats()).toMatchObject({ suppressed: 1, byKind: { 'risk-action:refuse': 4 } });
  });
});
