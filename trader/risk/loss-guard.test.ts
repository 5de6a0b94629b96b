import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import { LossGuard, percentAgainst } from './loss-guard.js';
import { RiskEventLog } from './risk-events.js';
import { RiskState } from './risk-state.js';
import { MemoryRiskStateStore } from './risk-state-store.js';
import { StaticAccount, StaticMarket } from './testing/static-views.js';

function rig(store = new MemoryRiskStateStore(), market = new StaticMarket(), account = new StaticAccount()) {
  let now = 1_000;
  const events = new RiskEventLog(silentLogger('events'));
  const state = new RiskState(store, events, silentLogger('state'), () => now);
  const closes: string[] = [];
  const busy = new Set<string>();
  const guard = new LossGuard({
    state,
    settings: defaultRiskSettings().lossGuard,
    account,
    market,
    events,
    logger: silentLogger('guard'),
    closer: { close: (symbol) => closes.push(symbol), busy: (symbol) => busy.has(symbol) },
  });
  return {
    guard,
    state,
    closes,
    busy,
    market,
    account,
    store,
    events,
    check: (at: number) => {
      now = at;
      guard.check(at);
    },
  };
}

describe('percentAgainst', () => {
  it('measures the move against a long (price below entry) and a short (above)', () => {
    const d = Decimal.parse;
    expect(percentAgainst(d('1'), d('100'), d('93')).toString()).toBe('7.00000000');
    expect(percentAgainst(d('-1'), d('100'), d('107')).toString()).toBe('7.00000000');
    expect(percentAgainst(d('-1'), d('100'), d('93')).toString()).toBe('-7.00000000');
  });
});

describe('LossGuard', () => {
  it('force-closes a long 7 % under its entry, once, and again after the retry time if still open', () => {
    const r = rig();
    r.account.set('AAAUSDT', '1', '100');
    r.market.set('AAAUSDT', '93.01');
    r.check(1_000);
    expect(r.closes).toEqual([]);
    r.market.set('AAAUSDT', '93');
    r.check(1_500);
    expect(r.closes).toEqual(['AAAUSDT']);
    expect([...r.state.forceClosing().keys()]).toEqual(['AAAUSDT']);
    r.busy.add('AAAUSDT');
    r.check(2_000);
    r.busy.delete('AAAUSDT');
    r.check(3_000);
    expect(r.closes).toEqual(['AAAUSDT']);
    r.check(4_500); // retryMs (3 s) after the first close, still open, nothing on its way
    expect(r.closes).toEqual(['AAAUSDT', 'AAAUSDT']);
    r.account.set('AAAUSDT', '0', '0');
    r.check(5_000);
    expect(r.state.forceClosing().size).toBe(0);
  });

  it('names the positions it cannot price, which keep close-all from being judged, and logs only when they change', () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = new Logger('guard', {
      level: 'info',
      format: 'json',
      sink: (line) => logged.push(JSON.parse(line) as Record<string, unknown>),
    });
    const market = new StaticMarket();
    const account = new StaticAccount();
    const events = new RiskEventLog(silentLogger('events'));
    const state = new RiskState(new MemoryRiskStateStore(), events, silentLogger('state'), () => 1_000);
    const guard = new LossGuard({
      state,
      settings: { ...defaultRiskSettings().lossGuard, closeAllBelow: '-100' },
      account,
      market,
      events,
      logger,
      closer: { close: () => {}, busy: () => false },
    });
    account.set('AAAUSDT', '10', '100');
    market.set('AAAUSDT', '80'); // -200 USDT: under the -100 close-all line
    account.set('BBBUSDT', '1', '50'); // no price at all
    guard.check(1_000);
    guard.check(2_000);
    expect(guard.unpriced).toEqual(['BBBUSDT']);
    expect(state.closeAll).toBeNull();
    expect(logged.map((l) => l.msg)).toEqual([
      'close-all not judged: open positions without a price or entry',
    ]);
    market.set('BBBUSDT', '50');
    guard.check(3_000);
    expect(guard.unpriced).toEqual([]);
    expect(state.closeAll).not.toBeNull();
  });

  it('judges at the middle of bid and ask when the book has them, and force-closes a short 7 % above', () => {
    const r = rig();
    r.account.set('AAAUSDT', '-2', '100');
    r.market.set('AAAUSDT', '100', { bid: '106.9', ask: '107.1' });
    r.check(1_000);
    expect(r.closes).toEqual(['AAAUSDT']);
  });

  it('finishes a force-close after a restart even when the price has come back', () => {
    const store = new MemoryRiskStateStore();
    const first = rig(store);
    first.account.set('AAAUSDT', '1', '100');
    first.market.set('AAAUSDT', '92');
    first.check(1_000);
    expect(first.closes).toEqual(['AAAUSDT']);
    // Killed before the close filled; the price recovered meanwhile.
    const again = rig(store);
    again.account.set('AAAUSDT', '1', '100');
    again.market.set('AAAUSDT', '100');
    again.check(2_000);
    expect(again.closes).toEqual(['AAAUSDT']);
  });

  it('closes everything and goes REDUCING when total unrealized PnL reaches the limit; the state stays after', () => {
    const r = rig();
    r.account.set('AAAUSDT', '100', '100');
    r.account.set('BBBUSDT', '-100', '100');
    r.market.set('AAAUSDT', '85'); // -1,500 (15 % against: force-closed as well)
    r.market.set('BBBUSDT', '114.99'); // -1,499
    r.check(1_000);
    expect(r.state.closeAll).toBeNull();
    r.market.set('BBBUSDT', '115'); // -1,500: total -3,000
    r.check(1_100);
    expect(r.state.closeAll).not.toBeNull();
    expect(r.state.state).toBe('REDUCING');
    expect(r.closes.sort()).toEqual(['AAAUSDT', 'BBBUSDT']);
    r.account.set('AAAUSDT', '0', '0');
    r.account.set('BBBUSDT', '0', '0');
    r.check(1_200);
    expect(r.state.closeAll).toBeNull();
    expect(r.state.state).toBe('REDUCING');
    expect(r.events.stats().byKind).toMatchObject({ 'risk-action:close-all': 1, 'risk-action:state': 1 });
  });

  it('does not close a long on a last price of zero (no price, not a 100 % loss)', () => {
    const r = rig();
    r.account.set('AAAUSDT', '100', '100');
    r.market.set('AAAUSDT', '0');
    r.check(1_000);
    expect(r.closes).toEqual([]);
    expect(r.state.forceClosing().size).toBe(0);
    expect(r.state.closeAll).toBeNull();
    expect(r.state.state).toBe('ACTIVE');
  });

  it('sends nothing while HALTED, and closes once the owner lifts it', () => {
    const r = rig();
    r.state.setByOwner('HALTED', 'hands off');
    r.account.set('AAAUSDT', '1', '100');
    r.market.set('AAAUSDT', '90');
    r.check(1_000);
    expect(r.closes).toEqual([]);
    expect(r.state.forceClosing().has('AAAUSDT')).toBe(true);
    r.state.setByOwner('ACTIVE', 'go');
    r.check(1_500);
    expect(r.closes).toEqual(['AAAUSDT']);
  });

  it('sends a close anyway when the engine stays busy for five retry periods (an unknown order outcome)', () => {
    const r = rig();
    r.account.set('AAAUSDT', '1', '100');
    r.market.set('AAAUSDT', '90');
    r.busy.add('AAAUSDT');
    r.check(1_000);
    r.check(10_000);
    expect(r.closes).toEqual([]);
    r.check(16_001);
    expect(r.closes).toEqual(['AAAUSDT']);
  });
});
