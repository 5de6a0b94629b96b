// Test helper: writes hand-made aggTrades dumps in data.binance.vision's layout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One hand-made trade. */
export interface HandTrade {
  readonly time: number;
  readonly price: string;
  readonly qty?: string;
  /** Default false (the taker bought). */
  readonly takerSold?: boolean;
}

/** Rows of a dump (with its header), ids counting from `firstId`. */
export function aggTradesCsv(trades: readonly HandTrade[], firstId = 1000): string {
  const rows = ['agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'];
  trades.forEach((t, i) => {
    const id = firstId + i;
    rows.push(
      `${id},${t.price},${t.qty ?? '0.010'},${id * 2},${id * 2},${t.time},${t.takerSold === true ? 'true' : 'false'}`,
    );
  });
  return `${rows.join('\n')}\n`;
}

/** Writes `SYMBOL-aggTrades-DATE.csv` into a fresh temporary folder; returns its path. */
export function writeAggTrades(
  symbol: string,
  date: string,
  trades: readonly HandTrade[],
  dir?: string,
): string {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'tributary-bt-'));
  const path = join(folder, `${symbol}-aggTrades-${date}.csv`);
  writeFileSync(path, aggTradesCsv(trades));
  return path;
}

/**
 * Trades every 5 s through `minutes` minutes from `start` (a minute boundary), the price of
 * minute m going linearly from `opens[m]` to `closes[m]`, none in a minute's first 3 s.
 */
export function minuteTrades(
  start: number,
  opens: readonly number[],
  closes: readonly number[],
): HandTrade[] {
  const trades: HandTrade[] = [];
  for (let m = 0; m < opens.length; m++) {
    const o = opens[m] as number;
    const c = closes[m] as number;
    for (let s = 3; s < 60; s += 5) {
      const p = o + ((c - o) * (s - 3)) / 55;
      trades.push({ time: start + m * 60_000 + s * 1000, price: p.toFixed(1), takerSold: s % 2 === 0 });
    }
  }
  return trades;
}
