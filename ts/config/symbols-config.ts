// The `symbols` section: which contracts to collect and trade.
import { type SectionSettings, symbolList } from './config-fields.js';

/** The `symbols` section (empty: every USDT perpetual the universe lists). */
export const symbolsSection = symbolList().describe(
  'Symbols to trade and collect (empty: every USDT perpetual the universe lists)',
);

export type SymbolsSettings = SectionSettings<typeof symbolsSection>;
