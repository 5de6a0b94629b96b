import { describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS, SymbolSpecError, type SymbolSpecInput, symbolSpec } from './symbols.js';

const BASE: SymbolSpecInput = {
  symbol: 'TESTUSDT',
  baseAsset: 'TEST',
  pricePrecision: 2,
  quantityPrecision: 3,
  tickSize: '0.10',
  minPrice: '1.00',
  maxPrice: '100000',
  stepSize: '0.001',
  minQty: '0.001',
  maxQty: '1000',
  marketMaxQty: '100',
  minNotional: '5',
  multiplierUp: '1.0500',
  multiplierDown: '0.9500',
  maxLeverage: 50,
  maintMarginRatio: '0.01',
  initialPrice: '100.00',
};

describe('symbols', () => {
  it('lists six consistent perpetuals with the brief filters', () => {
    expect(DEFAULT_SYMBOLS.map((s) => s.symbol)).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'BNBUSDT',
      'SOLUSDT',
      'XRPUSDT',
      'DOGEUSDT',
    ]);
    const btc = DEFAULT_SYMBOLS[0];
    expect([
      btc?.tickSize.toString(),
      btc?.stepSize.toString(),
      btc?.marketMaxQty.toString(),
      btc?.minNotional.toString(),
    ]).toEqual(['0.10', '0.001', '120', '100']);
    const doge = DEFAULT_SYMBOLS[5];
    expect([
      doge?.tickSize.normalize().toString(),
      doge?.stepSize.toString(),
      doge?.minNotional.toString(),
    ]).toEqual(['0.00001', '1', '5']);
    for (const s of DEFAULT_SYMBOLS) {
      expect(s.initialPrice.isMultipleOf(s.tickSize)).toBe(true);
      expect(s.minQty.isMultipleOf(s.stepSize)).toBe(true);
      expect(s.initialPrice.scale).toBe(s.pricePrecision);
    }
  });

  it('refuses bad definitions with an error naming the field', () => {
    const cases: [Partial<SymbolSpecInput>, string][] = [
      [{ symbol: 'test' }, 'symbol'],
      [{ baseAsset: 'OTHER' }, 'baseAsset'],
      [{ tickSize: '0' }, 'tickSize'],
      [{ tickSize: 'abc' }, 'tickSize'],
      [{ tickSize: '0.001' }, 'tickSize'],
      [{ stepSize: '0.0001' }, 'stepSize'],
      [{ minQty: '0.0015' }, 'minQty'],
      [{ minQty: '0.0025', stepSize: '0.002' }, 'minQty'],
      [{ initialPrice: '100.05' }, 'initialPrice'],
      [{ initialPrice: '0.50' }, 'initialPrice'],
      [{ multiplierUp: '0.9' }, 'multiplierUp'],
      [{ maxLeverage: 0 }, 'maxLeverage'],
      [{ pricePrecision: -1 }, 'pricePrecision'],
    ];
    for (const [patch, field] of cases) {
      let caught: unknown;
      try {
        symbolSpec({ ...BASE, ...patch });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SymbolSpecError);
      expect((caught as SymbolSpecError).field).toBe(field);
    }
    expect(symbolSpec(BASE).marketStepSize.toString()).toBe('0.001');
  });
});
