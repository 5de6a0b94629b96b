// Applies margin type, position mode and leverage, then reads them back: a trader never trades on settings it did not verify.
import type { ContractSettings, SymbolSettings } from './venue.js';

/** The account calls contract settings need (an exchange's REST API, or the simulator engine's). */
export interface SettingsOperations {
  /** True in hedge mode. */
  getPositionMode(): Promise<boolean>;
  /** `changed` false when it already was. */
  setPositionMode(hedge: boolean): Promise<{ changed: boolean }>;
  setMarginType(symbol: string, marginType: 'CROSSED' | 'ISOLATED'): Promise<{ changed: boolean }>;
  setLeverage(symbol: string, leverage: number): Promise<void>;
  /** The settings of each symbol as the exchange reports them now. */
  readSettings(symbols: readonly string[]): Promise<SymbolSettings[]>;
}

/** Settings that did not take (the exchange refused or reports something else). */
export class ContractSettingsError extends Error {
  override readonly name = 'ContractSettingsError';
}

/**
 * Sets the position mode, then each symbol's margin type and leverage, then reads everything back
 * and throws {@link ContractSettingsError} listing every symbol that differs. The exchange refuses
 * a change of margin type or position mode while positions or orders are open: such a refusal is
 * reported the same way (the trader must not start on settings it did not ask for).
 */
export async function applyContractSettings(
  ops: SettingsOperations,
  settings: ContractSettings,
  symbols: readonly string[],
): Promise<SymbolSettings[]> {
  const hedge = settings.positionMode === 'hedge';
  const problems: string[] = [];
  if ((await ops.getPositionMode()) !== hedge) {
    try {
      await ops.setPositionMode(hedge);
    } catch (error) {
      problems.push(`position mode ${settings.positionMode}: ${message(error)}`);
    }
  }
  for (const symbol of symbols) {
    try {
      await ops.setMarginType(symbol, settings.marginType);
    } catch (error) {
      problems.push(`${symbol} margin type ${settings.marginType}: ${message(error)}`);
    }
    try {
      await ops.setLeverage(symbol, settings.leverage);
    } catch (error) {
      problems.push(`${symbol} leverage ${settings.leverage}: ${message(error)}`);
    }
  }
  if ((await ops.getPositionMode()) !== hedge)
    problems.push(`position mode reads back other than ${settings.positionMode}`);
  const read = await ops.readSettings(symbols);
  for (const symbol of symbols) {
    const got = read.find((s) => s.symbol === symbol);
    if (got === undefined) problems.push(`${symbol}: not reported back`);
    else if (got.marginType !== settings.marginType || got.leverage !== settings.leverage)
      problems.push(`${symbol}: reads back ${got.marginType} ×${got.leverage}`);
  }
  if (problems.length > 0)
    throw new ContractSettingsError(`contract settings not verified: ${problems.join('; ')}`);
  return read;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
